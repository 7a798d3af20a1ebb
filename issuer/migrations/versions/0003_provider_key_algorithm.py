"""each provider's signing algorithm

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 20:00:00

Existing providers keep signing with the algorithm of their newest key.
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


def downgrade() -> None:
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.drop_column("key_algorithm")
