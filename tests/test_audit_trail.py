"""The audit trail against someone with the database but without the service's secrets: every way of rewriting
it (edit, re-chain, truncate, wipe, forge, delete, insert) is named by ``issuer audit verify``, and so is every
disagreement between revocations, status bits and audit entries. A revocation cannot be undone, not even by
clearing it in the database: the served status list keeps its bit."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from sqlmodel import col, select

from credentials.hashing import hmac_sha256
from issuer.audit import AuditSeal, entry_mac, legacy_entry_hash
from issuer.context import IssuerContext
from issuer.key_lifecycle import rotate
from issuer.migrate import upgrade
from issuer.models import AuditEntry, Credential, table_of, utcnow
from tests.conftest import (
    ProviderFixture,
    check,
    issue,
    path_of,
    payload_of,
    verify,
)


def person(n: int) -> dict[str, str]:
    return {"name": f"Osoba {n}", "email": f"osoba{n}@example.org"}


def entries(ctx: IssuerContext) -> list[AuditEntry]:
    with ctx.db.read() as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all())


def seal(ctx: IssuerContext) -> AuditSeal:
    assert ctx.db.audit_seal is not None
    return ctx.db.audit_seal


def drop_append_only_triggers(ctx: IssuerContext) -> None:
    """What an administrator of the database can do."""
    with ctx.db.write() as session:
        if ctx.db.dialect == "postgresql":
            session.execute(text("DROP TRIGGER audit_entry_append_only ON audit_entry"))
        else:
            session.execute(text("DROP TRIGGER audit_entry_no_update"))
            session.execute(text("DROP TRIGGER audit_entry_no_delete"))


def drop_revocation_trigger(ctx: IssuerContext) -> None:
    with ctx.db.write() as session:
        if ctx.db.dialect == "postgresql":
            session.execute(text("DROP TRIGGER credential_revocation_final ON credential"))
        else:
            session.execute(text("DROP TRIGGER credential_revocation_final"))


def run_sql(ctx: IssuerContext, statement: str, **params: Any) -> None:
    """A statement run straight on the database, as its administrator would (no audit seal involved)."""
    with ctx.db.engine.begin() as connection:
        connection.execute(text(statement), params)


@pytest.fixture
def busy_log(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> list[dict[str, Any]]:
    """A log with provider, key, achievement, issue, revoke and rotation entries; returns the issued credentials."""
    issued = [issue(issuer, provider, achievement, recipient=person(n)) for n in range(3)]
    revoked = issuer.post(
        path_of(issued[-1]["links"]["self"]) + "/revoke", json={"reason": "x"}, headers=provider.headers
    )
    assert revoked.status_code == 200, revoked.text
    rotate(ctx, provider.slug, delay=0)
    assert len(entries(ctx)) >= 9
    return issued


def assert_broken(cli: Any, *fragments: str) -> str:
    result = cli("audit", "verify")
    assert result.exit_code == 1, result.output
    assert "audit log NOT intact" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    return str(result.stderr)


# --------------------------------------------------------------------------------------------------------------
# The intact log


def test_intact_log_verifies(issuer_cli: Any, ctx: IssuerContext, busy_log: list[dict[str, Any]]) -> None:
    result = issuer_cli("audit", "verify")
    assert result.exit_code == 0, result.output
    count = len(entries(ctx))
    assert result.stdout.strip() == (f"audit log intact: {count} entries; revocations, status lists and the log agree")


def test_entries_are_numbered_keyed_and_checkpointed(ctx: IssuerContext, busy_log: list[dict[str, Any]]) -> None:
    log = entries(ctx)
    assert [entry.seq for entry in log] == list(range(1, len(log) + 1))
    assert all(entry.keyed for entry in log)
    previous = ""
    for entry in log:
        assert entry.prev_hash == previous
        assert entry.hash == entry_mac(seal(ctx).key, previous, entry.model_dump())
        previous = entry.hash
    checkpoint = json.loads(seal(ctx).checkpoint.read_text())
    assert (checkpoint["seq"], checkpoint["hash"]) == (log[-1].seq, log[-1].hash)
    assert seal(ctx).checkpoint.stat().st_mode & 0o077 == 0, "the checkpoint is private"


def test_the_chain_is_keyed_not_a_plain_hash(ctx: IssuerContext, busy_log: list[dict[str, Any]]) -> None:
    """Without the server secret nobody can compute a link: a plain SHA-256 chain would let anyone re-hash."""
    first = entries(ctx)[0]
    assert first.hash != legacy_entry_hash("", first.model_dump())
    assert first.hash != entry_mac(b"another key", "", first.model_dump())


def test_log_holds_no_personal_data(ctx: IssuerContext, busy_log: list[dict[str, Any]]) -> None:
    text_of_log = json.dumps([entry.model_dump(mode="json") for entry in entries(ctx)], ensure_ascii=False)
    for n in range(3):
        assert f"Osoba {n}" not in text_of_log and f"osoba{n}@example.org" not in text_of_log


def test_database_refuses_update_and_delete(ctx: IssuerContext, busy_log: list[dict[str, Any]]) -> None:
    before = [entry.hash for entry in entries(ctx)]
    for statement in ("UPDATE audit_entry SET actor = 'mallory'", "DELETE FROM audit_entry"):
        with pytest.raises(Exception, match="append-only"):
            run_sql(ctx, statement)
    assert [entry.hash for entry in entries(ctx)] == before


# --------------------------------------------------------------------------------------------------------------
# Rewriting the log


def test_edited_entry_is_named(issuer_cli: Any, ctx: IssuerContext, busy_log: list[dict[str, Any]]) -> None:
    drop_append_only_triggers(ctx)
    target = entries(ctx)[4]
    run_sql(ctx, "UPDATE audit_entry SET actor = 'mallory' WHERE seq = :seq", seq=target.seq)
    assert_broken(issuer_cli, f"audit entry {target.seq}: its MAC does not verify")


def test_edited_entry_rechained_with_plain_hashes_is_caught(
    issuer_cli: Any, ctx: IssuerContext, busy_log: list[dict[str, Any]]
) -> None:
    """The whole log edited and re-chained the only way possible without the secret: the chain links up, but
    none of it is keyed any more, and the checkpoint no longer matches."""
    drop_append_only_triggers(ctx)
    previous = ""
    for entry in entries(ctx):
        content = entry.model_dump()
        if entry.seq == 3:
            content["actor"] = "mallory"
        new_hash = legacy_entry_hash(previous, content)
        run_sql(
            ctx,
            "UPDATE audit_entry SET actor = :actor, prev_hash = :prev, hash = :hash, keyed = :keyed WHERE seq = :seq",
            actor=content["actor"],
            prev=previous,
            hash=new_hash,
            keyed=False,
            seq=entry.seq,
        )
        previous = new_hash
    assert_broken(issuer_cli, "checkpoint: entry", "(the log was rewritten)")


def test_edited_entry_rechained_with_another_key_is_caught(
    issuer_cli: Any, ctx: IssuerContext, busy_log: list[dict[str, Any]]
) -> None:
    drop_append_only_triggers(ctx)
    forged_key = secrets.token_bytes(32)
    previous = ""
    log = entries(ctx)
    for entry in log:
        content = entry.model_dump()
        if entry.seq == 2:
            content["subject"] = "something else"
        new_hash = entry_mac(forged_key, previous, content)
        run_sql(
            ctx,
            "UPDATE audit_entry SET subject = :subject, prev_hash = :prev, hash = :hash WHERE seq = :seq",
            subject=content["subject"],
            prev=previous,
            hash=new_hash,
            seq=entry.seq,
        )
        previous = new_hash
    stderr = assert_broken(issuer_cli, "audit entry 1: its MAC does not verify", "(the log was rewritten)")
    assert stderr.count("its MAC does not verify") == len(log), "every re-keyed entry is named"


def test_truncated_tail_is_caught(issuer_cli: Any, ctx: IssuerContext, busy_log: list[dict[str, Any]]) -> None:
    drop_append_only_triggers(ctx)
    last = entries(ctx)[-1].seq
    run_sql(ctx, "DELETE FROM audit_entry WHERE seq > :seq", seq=last - 3)
    assert_broken(
        issuer_cli, f"checkpoint: it names entry {last}", f"the log ends at entry {last - 3}", "deleted from the end"
    )


def test_wiped_log_is_caught(issuer_cli: Any, ctx: IssuerContext, busy_log: list[dict[str, Any]]) -> None:
    drop_append_only_triggers(ctx)
    last = entries(ctx)[-1].seq
    run_sql(ctx, "DELETE FROM audit_entry")
    stderr = assert_broken(issuer_cli, f"checkpoint: it names entry {last}", "the log ends at entry 0")
    # Even without the checkpoint, the credentials the log no longer mentions give the wipe away.
    assert "no issuance entry in the audit log" in stderr
    for issued in busy_log:
        assert issued["id"].rsplit("/", 1)[-1] in stderr


def test_forged_entry_appended_is_caught(issuer_cli: Any, ctx: IssuerContext, busy_log: list[dict[str, Any]]) -> None:
    last = entries(ctx)[-1]
    forged = {
        "seq": last.seq + 1,
        "at": utcnow(),
        "provider_id": last.provider_id,
        "actor": "cli",
        "action": "credential.revoked",
        "subject": busy_log[0]["id"],
        "details": {},
        "prev_hash": last.hash,
        "keyed": True,
    }
    forged["hash"] = entry_mac(secrets.token_bytes(32), last.hash, forged)
    with ctx.db.engine.begin() as connection:
        connection.execute(insert(table_of(AuditEntry)), [forged])
    assert_broken(issuer_cli, f"audit entry {last.seq + 1}: its MAC does not verify")


def test_forged_unkeyed_entry_appended_is_caught(
    issuer_cli: Any, ctx: IssuerContext, busy_log: list[dict[str, Any]]
) -> None:
    last = entries(ctx)[-1]
    forged = {
        "seq": last.seq + 1,
        "at": utcnow(),
        "provider_id": None,
        "actor": "cli",
        "action": "provider.created",
        "subject": "x",
        "details": {},
        "prev_hash": last.hash,
        "keyed": False,
    }
    forged["hash"] = legacy_entry_hash(last.hash, forged)
    with ctx.db.engine.begin() as connection:
        connection.execute(insert(table_of(AuditEntry)), [forged])
    assert_broken(issuer_cli, f"audit entry {last.seq + 1}: an unkeyed entry after keyed ones")


def test_deleted_entry_in_the_middle_is_named(
    issuer_cli: Any, ctx: IssuerContext, busy_log: list[dict[str, Any]]
) -> None:
    drop_append_only_triggers(ctx)
    run_sql(ctx, "DELETE FROM audit_entry WHERE seq = 5")
    assert_broken(issuer_cli, "audit entry 6: entries 5–5 are missing", "audit entry 6: it does not follow on")


def test_missing_checkpoint_is_named(issuer_cli: Any, ctx: IssuerContext, busy_log: list[dict[str, Any]]) -> None:
    seal(ctx).checkpoint.unlink()
    assert_broken(issuer_cli, "checkpoint:", "is missing")


def test_checkpoint_written_without_the_secret_is_named(
    issuer_cli: Any, ctx: IssuerContext, busy_log: list[dict[str, Any]]
) -> None:
    document = json.loads(seal(ctx).checkpoint.read_text())
    document["seq"] = 2
    seal(ctx).checkpoint.write_text(json.dumps(document))
    assert_broken(issuer_cli, "was not written with this server secret")


def test_an_invalid_checkpoint_is_not_overwritten_by_later_appends(
    issuer: TestClient, ctx: IssuerContext, busy_log: list[dict[str, Any]], provider: ProviderFixture
) -> None:
    """Overwriting it would hide what it was hiding; `issuer audit reseal` replaces it once examined."""
    seal(ctx).checkpoint.write_text("{}")
    rotate(ctx, provider.slug, delay=0)
    assert seal(ctx).checkpoint.read_text() == "{}"


def test_reseal_writes_a_checkpoint_at_the_end_of_the_log(
    issuer_cli: Any, ctx: IssuerContext, busy_log: list[dict[str, Any]]
) -> None:
    seal(ctx).checkpoint.write_text("{}")
    assert issuer_cli("audit", "verify").exit_code == 1
    result = issuer_cli("audit", "reseal")
    assert result.exit_code == 0, result.output
    assert issuer_cli("audit", "verify").exit_code == 0


# --------------------------------------------------------------------------------------------------------------
# Revocations, status bits and the log


def test_database_refuses_to_undo_a_revocation(ctx: IssuerContext, busy_log: list[dict[str, Any]]) -> None:
    revoked_id = busy_log[-1]["id"].rsplit("/", 1)[-1]
    for statement in (
        "UPDATE credential SET revoked_at = NULL WHERE id = :id",
        "UPDATE credential SET revoked_at = '2001-01-01 00:00:00' WHERE id = :id",
    ):
        with pytest.raises(Exception, match="final"):
            run_sql(ctx, statement, id=revoked_id)


def test_cleared_revocation_stays_revoked_and_is_named(
    issuer: TestClient,
    issuer_cli: Any,
    ctx: IssuerContext,
    busy_log: list[dict[str, Any]],
    provider: ProviderFixture,
    verifier: TestClient,
) -> None:
    """Someone with the database clears a revocation, then an ordinary revocation re-signs the list: the list
    keeps the bit (it merges with the last published one), verifiers still say revoked, and the audit check
    names the credential."""
    cleared = busy_log[-1]
    drop_revocation_trigger(ctx)
    run_sql(ctx, "UPDATE credential SET revoked_at = NULL WHERE id = :id", id=cleared["id"].rsplit("/", 1)[-1])
    again = issuer.post(path_of(busy_log[0]["links"]["self"]) + "/revoke", json={}, headers=provider.headers)
    assert again.status_code == 200, again.text

    report = verify(verifier, cleared["jwt"])
    assert report["verdict"] == "invalid", report
    assert check(report, "status")["code"] == "revoked"
    credential_id = cleared["id"].rsplit("/", 1)[-1]
    assert_broken(
        issuer_cli,
        f"the audit log records its revocation, but the database says it is not revoked: {credential_id}",
        f"its status bit is set, but the database says it is not revoked: {credential_id}",
    )


def test_revocation_without_audit_entry_is_named(
    issuer_cli: Any, ctx: IssuerContext, busy_log: list[dict[str, Any]]
) -> None:
    credential_id = busy_log[0]["id"].rsplit("/", 1)[-1]
    run_sql(ctx, "UPDATE credential SET revoked_at = '2026-01-01 00:00:00' WHERE id = :id", id=credential_id)
    assert_broken(
        issuer_cli,
        f"revoked in the database without a revocation entry in the audit log: {credential_id}",
        f"revoked, but its status bit is clear: verifiers would call it valid: {credential_id}",
    )


def test_deleted_credential_is_named(issuer_cli: Any, ctx: IssuerContext, busy_log: list[dict[str, Any]]) -> None:
    credential_id = busy_log[0]["id"].rsplit("/", 1)[-1]
    run_sql(ctx, "DELETE FROM delivery WHERE credential_id = :id", id=credential_id)  # its e-mail went with it
    run_sql(ctx, "DELETE FROM credential WHERE id = :id", id=credential_id)
    assert_broken(issuer_cli, f"named in the audit log, but the database no longer holds it: {credential_id}")


def test_status_list_rolled_back_is_named(
    issuer: TestClient, issuer_cli: Any, ctx: IssuerContext, busy_log: list[dict[str, Any]], provider: ProviderFixture
) -> None:
    """The stored list replaced by an older signed copy (from before the revocation): the audit check names the
    revoked credential whose bit is clear."""
    older = busy_log[0]
    status_url = payload_of(older["jwt"])["credentialStatus"]["statusListCredential"]
    before = issuer.get(path_of(status_url)).text
    issuer.post(path_of(older["links"]["self"]) + "/revoke", json={}, headers=provider.headers)
    run_sql(ctx, "UPDATE status_list SET jwt = :jwt", jwt=before)
    credential_id = older["id"].rsplit("/", 1)[-1]
    assert_broken(issuer_cli, f"revoked, but its status bit is clear: verifiers would call it valid: {credential_id}")


# --------------------------------------------------------------------------------------------------------------
# Logs written before the chain was keyed


def test_entries_from_before_the_keyed_chain_still_verify_and_are_sealed(
    issuer_cli: Any, ctx: IssuerContext, provider: ProviderFixture
) -> None:
    """Older installs hold SHA-256-chained entries; the first keyed entry after them seals them."""
    drop_append_only_triggers(ctx)
    run_sql(ctx, "DELETE FROM audit_entry")
    seal(ctx).checkpoint.unlink()
    previous = ""
    legacy = []
    for seq in (1, 2, 3):
        entry = {
            "seq": seq,
            "at": utcnow(),
            "provider_id": None,
            "actor": "cli",
            "action": "provider.created",
            "subject": f"legacy-{seq}",
            "details": {},
            "prev_hash": previous,
            "keyed": False,
        }
        entry["hash"] = previous = legacy_entry_hash(previous, entry)
        legacy.append(entry)
    with ctx.db.engine.begin() as connection:
        connection.execute(insert(table_of(AuditEntry)), legacy)
    rotate(ctx, provider.slug, delay=0)  # the first keyed entry, chained onto the legacy ones
    assert [entry.keyed for entry in entries(ctx)] == [False, False, False, True]
    result = issuer_cli("audit", "verify")
    # The provider's credentials are none, so only the chain and the checkpoint matter here.
    assert result.exit_code == 0, result.output

    run_sql(ctx, "UPDATE audit_entry SET subject = 'edited' WHERE seq = 2")
    assert_broken(issuer_cli, "audit entry 2: its content does not match its hash")


def test_upgrade_numbers_old_entries_and_rekeys_the_duplicate_guard(tmp_path: Any) -> None:
    """A database from before this version: its entries get their sequence numbers, its duplicate-guard digests
    become keyed, and the upgrade refuses to run on such a database without the key."""
    from sqlalchemy import create_engine

    from issuer.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    from alembic import command

    command.upgrade(alembic_config(url), "0001")
    engine = create_engine(url)
    old_digest = "ab" * 32
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO provider (id, slug, name, created_at) VALUES (1, 'p', 'P', '2026-01-01 00:00:00')")
        )
        connection.execute(
            text(
                "INSERT INTO achievement (id, provider_id, document, eu_micro_credential, created_at) "
                "VALUES ('a', 1, '{}', 0, '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO credential (id, provider_id, achievement_id, kid, jwt, recipient_key, issued_at) "
                "VALUES ('c', 1, 'a', 'k', 'x.y.z', :digest, '2026-01-01 00:00:00')"
            ),
            {"digest": old_digest},
        )
        for n in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO audit_entry (at, actor, action, subject, details, prev_hash, hash) "
                    "VALUES ('2026-01-01 00:00:00', 'cli', 'x', :subject, '{}', '', :hash)"
                ),
                {"subject": f"s{n}", "hash": f"{n:064d}"},
            )
    engine.dispose()

    with pytest.raises(RuntimeError, match="ISSUER_SECRET_KEY"):
        upgrade(url)
    key = secrets.token_bytes(32)
    upgrade(url, key)
    engine = create_engine(url)
    with engine.connect() as connection:
        digest = connection.execute(text("SELECT recipient_key FROM credential")).scalar_one()
        numbered = connection.execute(text("SELECT seq, keyed FROM audit_entry ORDER BY id")).all()
        with pytest.raises(Exception, match="append-only"):
            connection.execute(text("DELETE FROM audit_entry"))
    engine.dispose()
    assert digest == hmac_sha256(key, bytes.fromhex(old_digest)).hex()
    assert [(seq, bool(keyed)) for seq, keyed in numbered] == [(1, False), (2, False)]


def test_credential_rows_name_no_plain_digest_of_the_email(ctx: IssuerContext, busy_log: list[dict[str, Any]]) -> None:
    """The duplicate guard is keyed: the SHA-256 of achievement and e-mail, which a dictionary of addresses
    would find, is not what the database holds."""
    from credentials.hashing import sha256_hex

    with ctx.db.read() as session:
        rows = session.exec(select(Credential.achievement_id, Credential.recipient_key)).all()
    for n, (achievement_id, stored) in enumerate(rows):
        assert stored != sha256_hex(f"{achievement_id}\nosoba{n}@example.org".encode())
        assert all(stored != sha256_hex(f"{achievement_id}\nosoba{m}@example.org".encode()) for m in range(3))


@pytest.mark.parametrize(
    "details",
    [
        {"achievement": "urn:uuid:0b7d", "kid": "bench-2026"},
        {"reason": "Zażółć gęślą jaźń — Оксана 😀", "control": "tab\there\nline\x01\x1f\u2028", "quote": '"\\'},
        {"nested": {"b": [1, -2, 2**63 - 1, True, None], "a": {"z": "", "y": []}}, "big": 2**70},
        {"issued": 3, "weight": 0.1, "tiny": 1e-7, "huge": 1e16},  # floats: the standard library writes them
        {"ids": ("a", "b")},
        {7: "keys that are no text", 12: "sorted as numbers"},
    ],
)
def test_an_entrys_link_is_the_compact_sorted_json_the_chain_was_started_with(details: dict[Any, Any]) -> None:
    # Every link ever written is checked again by recomputing it: the bytes must stay those of
    # json.dumps(sort_keys, compact separators, unescaped Unicode), whichever library writes them.
    key = secrets.token_bytes(32)
    entry = {
        "seq": 41,
        "at": utcnow(),
        "provider_id": 3,
        "actor": "coordinator",
        "action": "credential.issued",
        "subject": "http://127.0.0.1:8000/credentials/0b7d",
        "details": details,
    }
    content = [41, "f" * 64, entry["at"].isoformat(), 3, "coordinator", "credential.issued", entry["subject"]]
    expected = json.dumps([*content, details], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert entry_mac(key, "f" * 64, entry) == hmac_sha256(key, expected.encode()).hex()


class _Sorted(dict):  # type: ignore[type-arg]
    """A dict that shows the standard library other items than it holds."""

    def items(self) -> Any:
        return [("z", 1)]


def _cycle() -> dict[str, Any]:
    looped: dict[str, Any] = {}
    looped["self"] = looped
    return looped


def test_a_value_the_standard_library_writes_its_own_way_or_refuses_is_left_to_it() -> None:
    import enum
    import uuid

    class Colour(enum.Enum):
        RED = "red"

    key = secrets.token_bytes(32)
    entry = {
        "seq": 1,
        "at": utcnow(),
        "provider_id": None,
        "actor": "a",
        "action": "b",
        "subject": "c",
        "details": _Sorted(a=2),
    }
    content = [1, "", entry["at"].isoformat(), None, "a", "b", "c", entry["details"]]
    expected = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert entry_mac(key, "", entry) == hmac_sha256(key, expected.encode()).hex()
    for refused in (uuid.uuid4(), Colour.RED, utcnow(), _cycle()):
        with pytest.raises((TypeError, ValueError)):
            json.dumps(refused)
        with pytest.raises((TypeError, ValueError)):
            entry_mac(key, "", {**entry, "details": {"value": refused}})
