"""the provider console: staff and their sessions, cohorts, e-mail deliveries, event counts, achievement versions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 00:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("achievement") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("previous_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("replaced_by", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("archived_at", MOMENT, nullable=True))
    with op.batch_alter_table("credential") as batch:
        batch.add_column(sa.Column("learner_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("email_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("external_id", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("cohort_id", sa.String(length=36), nullable=True))
        batch.create_index("ix_credential_email_key", ["provider_id", "email_key"])
        batch.create_index("ix_credential_external_id", ["provider_id", "achievement_id", "external_id"])
        batch.create_index("ix_credential_cohort_id", ["cohort_id"])
    op.create_table(
        "delivery",
        sa.Column("credential_id", sa.String(length=36), sa.ForeignKey("credential.id"), primary_key=True),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("provider.id"), nullable=False, index=True),
        sa.Column("address", sa.LargeBinary(), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", MOMENT, nullable=False, index=True),
        sa.Column("lease_until", MOMENT, nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("sent_at", MOMENT, nullable=True),
    )
    op.create_table(
        "credential_event",
        sa.Column("credential_id", sa.String(length=36), sa.ForeignKey("credential.id"), primary_key=True),
        sa.Column("event", sa.String(length=20), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "cohort",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("provider.id"), nullable=False, index=True),
        sa.Column("achievement_id", sa.String(length=36), sa.ForeignKey("achievement.id"), nullable=False),
        sa.Column("file_hash", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("policy", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("confirmed_at", MOMENT, nullable=True),
        sa.Column("finished_at", MOMENT, nullable=True),
        sa.Column("lease_until", MOMENT, nullable=True),
        sa.UniqueConstraint("provider_id", "achievement_id", "file_hash"),
    )
    op.create_table(
        "cohort_row",
        sa.Column("cohort_id", sa.String(length=36), sa.ForeignKey("cohort.id"), primary_key=True),
        sa.Column("line", sa.Integer(), primary_key=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=True),
        sa.Column("credential_id", sa.String(length=36), nullable=True),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("provider.id"), nullable=True, index=True),
        sa.Column("email", sa.String(length=320), nullable=False, unique=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("totp_secret", sa.LargeBinary(), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("invitation_hash", sa.String(length=64), nullable=True, unique=True),
        sa.Column("invitation_expires", MOMENT, nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("disabled_at", MOMENT, nullable=True),
    )
    op.create_table(
        "staff_session",
        sa.Column("token_hash", sa.String(length=64), primary_key=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False, index=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("seen_at", MOMENT, nullable=False),
        sa.Column("expires_at", MOMENT, nullable=False),
        sa.Column("second_factor", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    for table in ("staff_session", "staff", "cohort_row", "cohort", "credential_event", "delivery"):
        op.drop_table(table)
    with op.batch_alter_table("credential") as batch:
        batch.drop_index("ix_credential_cohort_id")
        batch.drop_index("ix_credential_external_id")
        batch.drop_index("ix_credential_email_key")
        for column in ("cohort_id", "external_id", "email_key", "learner_name"):
            batch.drop_column(column)
    with op.batch_alter_table("achievement") as batch:
        for column in ("archived_at", "replaced_by", "previous_id", "version"):
            batch.drop_column(column)
