"""keyed audit chain, final revocations, status index pool, keyed duplicate guard

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 19:00:00

- ``audit_entry`` gains ``seq`` (1, 2, 3, … in the order of ``id``) and ``keyed`` (false for what exists: those
  entries keep their SHA-256 links and are sealed by the first keyed entry after them).
- A revocation is final in the database itself: a trigger refuses to clear or change ``revoked_at``.
- ``status_list.pool_start`` and ``status_index_pool``: free indexes in random order, for constant-time drawing.
- ``credential.recipient_key`` (SHA-256 of achievement + e-mail) becomes HMAC(server secret, that SHA-256), so
  the e-mail addresses can no longer be tested against it without the secret. Needs the secret when there are
  credentials: ``issuer init`` passes it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from credentials.hashing import hmac_sha256

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_TRIGGERS = ("audit_entry_no_update", "audit_entry_no_delete")


def _drop_audit_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
    else:
        for name in APPEND_ONLY_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def _create_audit_triggers(dialect: str) -> None:
    # The audit log is append-only for the application: refuse UPDATE and DELETE in the database itself.
    if dialect == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_entry_no_{event.lower()} BEFORE {event} ON audit_entry "
                "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END"
            )


def _rekey_recipients(bind: sa.engine.Connection) -> None:
    rows = bind.execute(sa.text("SELECT id, recipient_key FROM credential")).all()
    if not rows:
        return
    config = op.get_context().config
    key = config.attributes.get("recipient_key") if config is not None else None
    if not isinstance(key, bytes):
        raise RuntimeError(
            "This upgrade re-keys the duplicate guard of existing credentials with the server secret: "
            "set ISSUER_SECRET_KEY or ISSUER_SECRET_KEY_FILE and run `issuer init`."
        )
    bind.execute(
        sa.text("UPDATE credential SET recipient_key = :new WHERE id = :id"),
        [{"id": row.id, "new": hmac_sha256(key, bytes.fromhex(row.recipient_key)).hex()} for row in rows],
    )


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name

    _drop_audit_triggers(dialect)
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("keyed", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE audit_entry SET seq = numbered.n FROM "
        "(SELECT id, row_number() OVER (ORDER BY id) AS n FROM audit_entry) AS numbered "
        "WHERE audit_entry.id = numbered.id"
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint("uq_audit_entry_seq", ["seq"])
    _create_audit_triggers(dialect)

    with op.batch_alter_table("status_list", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pool_start", sa.Integer(), nullable=True))
    op.create_table(
        "status_index_pool",
        sa.Column("status_list_id", sa.Integer(), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("indexes", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["status_list_id"], ["status_list.id"]),
        sa.PrimaryKeyConstraint("status_list_id", "chunk"),
    )

    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.create_index("ix_credential_status_revoked", ["status_list_id", "revoked_at"], unique=False)
    _rekey_recipients(bind)
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION credential_revocation_final() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'a revocation is final'; END $$"
        )
        op.execute(
            "CREATE TRIGGER credential_revocation_final BEFORE UPDATE ON credential FOR EACH ROW "
            "WHEN (OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at) "
            "EXECUTE FUNCTION credential_revocation_final()"
        )
    else:
        op.execute(
            "CREATE TRIGGER credential_revocation_final BEFORE UPDATE OF revoked_at ON credential "
            "WHEN OLD.revoked_at IS NOT NULL AND (NEW.revoked_at IS NULL OR NEW.revoked_at <> OLD.revoked_at) "
            "BEGIN SELECT RAISE(ABORT, 'a revocation is final'); END"
        )


def downgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS credential_revocation_final ON credential")
        op.execute("DROP FUNCTION IF EXISTS credential_revocation_final()")
    else:
        op.execute("DROP TRIGGER IF EXISTS credential_revocation_final")
    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.drop_index("ix_credential_status_revoked")
    op.drop_table("status_index_pool")
    with op.batch_alter_table("status_list", schema=None) as batch_op:
        batch_op.drop_column("pool_start")
    _drop_audit_triggers(dialect)
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_constraint("uq_audit_entry_seq", type_="unique")
        batch_op.drop_column("keyed")
        batch_op.drop_column("seq")
    _create_audit_triggers(dialect)
