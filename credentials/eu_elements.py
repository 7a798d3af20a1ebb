"""The EU micro-credential elements (Council Recommendation 2022/C 243/02, Annex I) read back from an Open Badges
3.0 achievement, for pages and certificates to show.

The issuer writes them as ``alignment`` entries with ``ext:`` target types and ECTS as ``creditsAvailable``
(``docs/eu-micro-credentials.md``); this module is the reading side of that mapping. It returns keys and values,
never labels: each page words them in its own language.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KEYS = (
    "learning_outcomes",
    "ects",
    "workload_hours",
    "eqf_level",
    "prk_level",
    "assessment",
    "participation",
    "quality_assurance",
    "prerequisites",
    "supervision",
    "stackability",
    "further_information",
)
"""Every key :func:`eu_elements` can return, in the order they are shown."""

PARTICIPATION_FORMS = ("online", "onsite", "blended")

_TARGET_TYPES = {
    "ext:LearningOutcome": "learning_outcomes",
    "ext:NotionalWorkload": "workload_hours",
    "ext:EQF": "eqf_level",
    "ext:PRK": "prk_level",
    "ext:AssessmentType": "assessment",
    "ext:ParticipationForm": "participation",
    "ext:QualityAssurance": "quality_assurance",
    "ext:Prerequisites": "prerequisites",
    "ext:Supervision": "supervision",
    "ext:Stackability": "stackability",
    "ext:FurtherInformation": "further_information",
}
_WORKLOAD = re.compile(r"PT(\d{1,5}(?:\.\d{1,2})?)H")
_LEVELS = tuple("12345678")


@dataclass(frozen=True)
class EuElement:
    """One element: its key (one of :data:`KEYS`) and its values, several only for ``learning_outcomes``.

    Values are plain text: ``ects`` and ``workload_hours`` a number such as ``"5"`` or ``"7.5"``, the levels
    ``"1"`` to ``"8"``, ``participation`` one of :data:`PARTICIPATION_FORMS` (or the issuer's own words when it
    used another), the rest the issuer's own words.
    """

    key: str
    values: tuple[str, ...]


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


def _number(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        return None
    return f"{value:f}".rstrip("0").rstrip(".")


def _value(key: str, entry: Mapping[str, Any]) -> str | None:
    name = _text(entry.get("targetName"))
    code = _text(entry.get("targetCode"))
    if key in ("eqf_level", "prk_level"):
        return code if code in _LEVELS else None
    if key == "workload_hours":
        match = _WORKLOAD.fullmatch(code or "")
        return match.group(1) if match else None
    if key == "participation":
        return code if code in PARTICIPATION_FORMS else name
    return name


def eu_elements(achievement: Mapping[str, Any]) -> list[EuElement]:
    """Return the EU micro-credential elements the achievement states, in the order of :data:`KEYS`; elements it
    does not state are left out, and so are entries whose value cannot be read (a level that is not 1 to 8, a
    workload that is not ``PT<hours>H``). ECTS are read from ``creditsAvailable``, as the issuer writes them.

    The achievement may come from any credential: nothing is assumed about its shape, and nothing is raised.
    """
    found: dict[str, list[str]] = {}
    if (ects := _number(achievement.get("creditsAvailable"))) is not None:
        found["ects"] = [ects]
    alignments = achievement.get("alignment")
    for entry in alignments if isinstance(alignments, list) else ():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("targetType"), str):
            continue
        key = _TARGET_TYPES.get(entry["targetType"])
        value = _value(key, entry) if key else None
        if key is None or value is None:
            continue
        if key == "learning_outcomes" or key not in found:
            found.setdefault(key, []).append(value)
    return [EuElement(key, tuple(found[key])) for key in KEYS if key in found]
