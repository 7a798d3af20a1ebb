"""Schema migrations (Alembic), run by ``issuer init`` on SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, recipient_key: bytes | None = None) -> None:
    """Bring the database at ``url`` to the newest schema; does nothing if it is already there.

    ``recipient_key`` (the duplicate guard's HMAC key) is needed only to upgrade a database that already holds
    credentials from before the guard was keyed.
    """
    config = alembic_config(url)
    config.attributes["recipient_key"] = recipient_key
    command.upgrade(config, "head")
