"""Routes whose JSON bodies are read as strict JSON before FastAPI parses them.

Python's ``json`` reads ``NaN``, ``Infinity`` and ``1e999`` without complaint; signed into a credential they
make it unreadable for every verifier. A body holding one, or repeating a member name, is refused with ``400``
naming where it is, before any model sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from credentials import strict_json
from issuer.errors import MalformedRequest


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";")[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


class StrictJSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            if request.method in ("POST", "PUT", "PATCH") and _is_json(request.headers.get("content-type", "")):
                body = await request.body()  # kept on the request: FastAPI reads the same bytes next
                if body:
                    try:
                        strict_json.loads(body)
                    except strict_json.JSONRejected as exc:
                        raise MalformedRequest(
                            "The request body is not strict JSON.",
                            fields=[{"field": exc.path, "message": exc.reason}],
                        ) from exc
            return await handler(request)

        return strict_handler
