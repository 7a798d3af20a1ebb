"""The "empty endpoint" baseline of ``bench/run.py``: the verifier's route doing no work at all.

Served by uvicorn exactly like the verifier (same options, same worker count) with ``--app-dir bench``, so the
ratio of the two throughputs is the cost of verification itself, not of the server, framework or client.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

BODY = b'{"verdict":"valid"}'

app = FastAPI(title="empty endpoint (benchmark baseline)")


@app.get("/healthz")
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@app.post("/api/v1/verify")
async def verify() -> Response:
    """Accept the same request as the verifier and answer a constant small JSON without reading anything."""
    return Response(BODY, media_type="application/json")
