"""An access log that records method, path, status and duration, and never the query string.

``GET /verify?credential=<JWT>`` carries a whole credential (a learner's name among it) in its query, so the
server's own access log is switched off and this one used instead. Client addresses are not logged either.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("odznaka.access")

MAX_LOGGED_PATH = 200


class AccessLog:
    """ASGI middleware: one INFO line per HTTP request, ``METHOD /path STATUS 12.3ms``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            path = str(scope.get("path", ""))[:MAX_LOGGED_PATH]
            elapsed = (time.perf_counter() - started) * 1000
            log.info("%s %s %d %.1fms", scope.get("method", "?"), path, status, elapsed)


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's logging setup, plus a handler for this access log (run uvicorn with ``access_log=False``)."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {
        **LOGGING_CONFIG,
        "formatters": dict(LOGGING_CONFIG["formatters"]),
        "handlers": dict(LOGGING_CONFIG["handlers"]),
        "loggers": dict(LOGGING_CONFIG["loggers"]),
    }
    config["formatters"]["odznaka"] = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    config["handlers"]["odznaka"] = {
        "formatter": "odznaka",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stdout",
    }
    config["loggers"]["odznaka.access"] = {"handlers": ["odznaka"], "level": "INFO", "propagate": False}
    for name in ("issuer", "verifier"):
        config["loggers"][name] = {"handlers": ["odznaka"], "level": "INFO", "propagate": False}
    return config
