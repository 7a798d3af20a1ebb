"""credentials cost less to store: no index of their own by provider or by achievement (the duplicate guard's
index starts with the provider, the external id's with both), revoked entries indexed only once revoked, and on PostgreSQL the token compressed with lz4 when the server
has it (pglz took a tenth of a cohort's time in the database)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REVOKED = sa.text("revoked_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("credential") as batch:
        batch.drop_index("ix_credential_provider_id")
        batch.drop_index("ix_credential_achievement_id")
        batch.drop_index("ix_credential_status_revoked")
        batch.create_index(
            "ix_credential_revoked",
            ["status_list_id", "status_index"],
            postgresql_where=REVOKED,
            sqlite_where=REVOKED,
        )
    if _lz4_available():
        # Tokens stored from now on; those already stored keep pglz, and both read back the same.
        op.execute("ALTER TABLE credential ALTER COLUMN jwt SET COMPRESSION lz4")


def downgrade() -> None:
    if _lz4_available():
        op.execute("ALTER TABLE credential ALTER COLUMN jwt SET COMPRESSION DEFAULT")
    with op.batch_alter_table("credential") as batch:
        batch.drop_index("ix_credential_revoked")
        batch.create_index("ix_credential_status_revoked", ["status_list_id", "revoked_at"], unique=False)
        batch.create_index("ix_credential_achievement_id", ["achievement_id"], unique=False)
        batch.create_index("ix_credential_provider_id", ["provider_id"], unique=False)


def _lz4_available() -> bool:
    """PostgreSQL 14 or later built with lz4 (the Debian, Ubuntu and official images are)."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    found = bind.execute(
        sa.text("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")
    )
    return found.first() is not None
