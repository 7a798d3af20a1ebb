"""``verifier serve``: run the verifier."""

from __future__ import annotations

from typing import Annotated

import typer

from http_edge.access_log import uvicorn_log_config

app = typer.Typer(help="Odznaka verifier.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """Verify Open Badges 3.0 credentials."""


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8001,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the verifier API and page."""
    import uvicorn

    uvicorn.run(
        "verifier.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # http_edge.access_log logs paths only: a verify link's query holds a whole credential
        log_config=uvicorn_log_config(),
    )
