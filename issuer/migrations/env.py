"""Alembic environment: migrations run against the URL handed in by ``issuer.migrate`` or ``alembic.ini``."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import issuer.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from issuer.db import make_engine
from issuer.settings import IssuerSettings

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or IssuerSettings().sqlalchemy_url


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        # render_as_batch lets ALTERs work on SQLite, which rebuilds tables instead.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
