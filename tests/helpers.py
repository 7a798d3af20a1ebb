"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import base64
import json
from typing import Any


class ReceiveSpy:
    """Wraps an ASGI app and counts how often anything asked for the request body."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.body_reads = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def spied_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                self.body_reads += 1
            return message

        await self.app(scope, spied_receive, send)


# An EU micro-credential achievement with an ESCO skill and tags: what a learner's page and an achievement's
# page show in full.
EU_ACHIEVEMENT = {
    "name": "Analiza danych w Power BI",
    "description": "Przygotowuje i wizualizuje dane biznesowe.",
    "criteria": {"narrative": "Ukończenie kursu i projekt końcowy."},
    "tag": ["dane", "Power BI"],
    "alignment": [
        {
            "targetName": "analizować dane",
            "targetUrl": "https://data.europa.eu/esco/skill/analyse-data",
            "targetFramework": "ESCO",
        }
    ],
    "microCredential": {
        "learningOutcomes": ["Importuje i czyści dane", "Buduje raport"],
        "ects": 1,
        "workloadHours": 25,
        "eqfLevel": 5,
        "prkLevel": 5,
        "assessment": "Projekt końcowy",
        "participation": "blended",
        "qualityAssurance": "Wewnętrzny system jakości",
    },
}


def segment_json(token: str, index: int) -> dict[str, Any]:
    """One JWS segment (0: header, 1: payload) decoded by hand, independently of the project's own decoder."""
    segment = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return decoded


def with_learner_renamed(token: str, name: str, new_name: str = "Grzegorz Brzęczyszczykiewicz") -> str:
    """The token with another learner's name in its payload and the original signature: a forgery."""
    header, payload, signature = token.split(".")
    text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert name in text, "the learner's name is in the token"
    changed = text.replace(name, new_name).encode()
    return f"{header}.{base64.urlsafe_b64encode(changed).rstrip(b'=').decode()}.{signature}"
