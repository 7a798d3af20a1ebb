"""each provider's signing algorithm; credentials without an achievement

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 20:00:00

Existing providers keep signing with the algorithm of their newest key. A credential posted whole through the
VC-API (``/credentials/issue``) has no achievement row, so ``credential.achievement_id`` may be empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_algorithm", sa.String(length=10), nullable=False, server_default="RS256"))
    op.execute(
        "UPDATE provider SET key_algorithm = COALESCE((SELECT signing_key.alg FROM signing_key "
        "WHERE signing_key.provider_id = provider.id "
        "ORDER BY signing_key.activates_at DESC, signing_key.id DESC LIMIT 1), 'RS256')"
    )
    _alter_credential(nullable=True)


REVOCATION_FINAL = (
    "CREATE TRIGGER credential_revocation_final BEFORE UPDATE OF revoked_at ON credential "
    "WHEN OLD.revoked_at IS NOT NULL AND (NEW.revoked_at IS NULL OR NEW.revoked_at <> OLD.revoked_at) "
    "BEGIN SELECT RAISE(ABORT, 'a revocation is final'); END"
)


def _alter_credential(*, nullable: bool) -> None:
    # SQLite rebuilds the table for this, losing its triggers: the one that makes revocations final is put back.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS credential_revocation_final")
    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.alter_column("achievement_id", existing_type=sa.String(), nullable=nullable)
    if sqlite:
        op.execute(REVOCATION_FINAL)


def downgrade() -> None:
    _alter_credential(nullable=False)
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.drop_column("key_algorithm")
