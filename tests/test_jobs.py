"""The job queue and its workers: every backend carries ids only; the sweep finds lost work; a worker killed
mid-cohort leaves no row half-done and the next one, once the lease runs out, issues each row exactly once.

The crash is real: ``issuer worker`` runs as its own process and is killed with SIGKILL while it issues.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update
from sqlalchemy.engine import make_url

from issuer import cohort_run, cohorts
from issuer.app import create_app
from issuer.context import IssuerContext
from issuer.key_lifecycle import rotate
from issuer.models import Cohort, CohortRow, Credential, Delivery, table_of
from issuer.providers import get_provider
from issuer.settings import IssuerSettings
from tests.conftest import (
    ISSUER_URL,
    LOG_DIR_VARIABLE,
    TEST_ONLY_KDF_ROUNDS,
    TEST_ONLY_PASSPHRASE,
    TEST_ONLY_SECRET_KEY,
    VERIFIER_URL,
    ProviderFixture,
)

REDIS = "redis://127.0.0.1:6379"


# -- helpers -------------------------------------------------------------------------------------------------------


def participants(count: int, start: int = 0) -> bytes:
    """A participant file of ``count`` learners ("Osoba N": the run's log check looks for that name)."""
    lines = ["Imię i nazwisko;E-mail"] + [f"Osoba {n};osoba{n}@example.org" for n in range(start, start + count)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def confirmed_cohort(
    ctx: IssuerContext, achievement: dict[str, Any], count: int, start: int = 0, policy: str = "skip"
) -> str:
    """Upload and confirm a cohort through ``ctx`` (its job goes to ``ctx``'s queue); returns its id."""
    submitter = cohorts.Submitter(get_provider(ctx, "wsei"), "test")
    data = participants(count, start)
    made = cohorts.upload(ctx, submitter, achievement["id"], data, "uczestnicy.csv", policy=policy)
    cohorts.confirm(ctx, submitter, made.cohort.id)
    return made.cohort.id


def context_with(settings: IssuerSettings, **changes: Any) -> IssuerContext:
    return IssuerContext.from_settings(settings.model_copy(update=changes))


def rows_of(ctx: IssuerContext, cohort_id: str) -> list[CohortRow]:
    with ctx.db.read() as session:
        return list(session.scalars(select(CohortRow).where(CohortRow.cohort_id == cohort_id)))  # type: ignore[arg-type]


def credentials_of(ctx: IssuerContext, cohort_id: str) -> list[Credential]:
    with ctx.db.read() as session:
        return list(session.scalars(select(Credential).where(Credential.cohort_id == cohort_id)))  # type: ignore[arg-type]


def deliveries_of(ctx: IssuerContext, credential_ids: set[str]) -> list[Delivery]:
    with ctx.db.read() as session:
        found = list(session.scalars(select(Delivery)))
    return [delivery for delivery in found if delivery.credential_id in credential_ids]


def issued_count(ctx: IssuerContext, cohort_id: str) -> int:
    with ctx.db.read() as session:
        return int(
            session.scalar(
                select(func.count()).where(CohortRow.cohort_id == cohort_id, CohortRow.state == "issued")  # type: ignore[arg-type]
            )
            or 0
        )


def cohort_of(ctx: IssuerContext, cohort_id: str) -> Cohort:
    with ctx.db.read() as session:
        found = session.get(Cohort, cohort_id)
    assert found is not None
    return found


def set_cohort(ctx: IssuerContext, cohort_id: str, **values: Any) -> None:
    table = table_of(Cohort)
    with ctx.db.write() as session:
        session.execute(update(table).where(table.c.id == cohort_id).values(**values))


def assert_no_row_half_done(ctx: IssuerContext, cohort_id: str) -> tuple[int, int]:
    """Every issued row has exactly one credential of the cohort and the cohort no credential without its row;
    every credential has its delivery; pending rows have none. Returns (issued rows, rows in all)."""
    rows = rows_of(ctx, cohort_id)
    issued = [row for row in rows if row.state == "issued"]
    pending = [row for row in rows if row.state == "pending"]
    assert len(issued) + len(pending) == len(rows), {row.state for row in rows}
    records = credentials_of(ctx, cohort_id)
    assert sorted(str(row.credential_id) for row in issued) == sorted(record.id for record in records)
    assert all(row.credential_id is None and "@" in str(row.data) for row in pending)
    assert len({record.recipient_key for record in records}) == len(records), "a learner has two credentials"
    assert cohort_of(ctx, cohort_id).issued == len(issued)
    ids = {record.id for record in records}
    assert {delivery.credential_id for delivery in deliveries_of(ctx, ids)} == ids
    return len(issued), len(rows)


# -- backends --------------------------------------------------------------------------------------------------------


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database of its own on the local server (claimed, so parallel runs never share one); its keys
    are deleted afterwards."""
    import redis

    probe = redis.Redis.from_url(REDIS, socket_connect_timeout=1)
    try:
        probe.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis is not reachable at {REDIS}")
    token = uuid.uuid4().hex
    for number in random.sample(range(1, 16), 15):
        client = redis.Redis.from_url(f"{REDIS}/{number}")
        if client.set("odznaka-test-claim", token, nx=True, ex=600):
            if not list(client.scan_iter("huey.*.odznaka")):
                break
            client.delete("odznaka-test-claim")
    else:
        pytest.skip("no free Redis database to claim")
    try:
        yield f"{REDIS}/{number}"
    finally:
        for key in client.scan_iter("huey.*.odznaka"):
            client.delete(key)
        client.delete("odznaka-test-claim")


def _queue_url(kind: str, request: pytest.FixtureRequest, database_url: str) -> str | None:
    if kind == "memory":
        return "memory://"
    if kind == "sqlite":
        return None  # the default: a file beside the database
    if kind == "redis":
        return str(request.getfixturevalue("redis_url"))
    if not database_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL queue is tried on the PostgreSQL run (set ODZNAKA_TEST_POSTGRES_URL)")
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis", "postgresql"])
def test_each_queue_backend_carries_ids_and_runs_them_when_drained(
    kind: str,
    request: pytest.FixtureRequest,
    database_url: str,
    issuer_settings: IssuerSettings,
    achievement: dict[str, Any],
) -> None:
    ctx = context_with(issuer_settings, queue_url=_queue_url(kind, request, database_url))
    try:
        cohort_id = confirmed_cohort(ctx, achievement, 1)
        [task] = ctx.jobs.huey.pending()
        assert (task.name, task.args) == ("cohort", (cohort_id,))
        assert ctx.jobs.drain(limit=1) == 1
        assert cohort_of(ctx, cohort_id).state == "done"
        [record] = credentials_of(ctx, cohort_id)
        [task] = ctx.jobs.huey.pending()  # queued once the cohort's batch committed
        assert (task.name, task.args) == ("deliver", ([record.id],))
        if kind == "sqlite":
            files = list(issuer_settings.data_dir.glob("queue.db*"))
            assert files, "the default queue is a file beside the database"
            assert not any(b"example.org" in path.read_bytes() for path in files)
    finally:
        ctx.jobs.huey.flush()
        ctx.close()


# -- the sweep -------------------------------------------------------------------------------------------------------


def test_the_sweep_finds_a_cohort_whose_job_was_lost_but_not_one_a_worker_holds(
    issuer_settings: IssuerSettings, achievement: dict[str, Any]
) -> None:
    lost = context_with(issuer_settings, queue_url="memory://")
    cohort_id = confirmed_cohort(lost, achievement, 2)
    lost.close()  # the queue, and the job in it, are gone

    ctx = context_with(issuer_settings, queue_url="memory://")
    try:
        set_cohort(ctx, cohort_id, state="running", lease_until=datetime.now(UTC) + timedelta(minutes=1))
        ctx.jobs.sweep()
        assert ctx.jobs.huey.pending() == [], "a cohort whose worker holds a lease is left to it"

        set_cohort(ctx, cohort_id, lease_until=datetime.now(UTC) - timedelta(seconds=1))
        ctx.jobs.sweep()
        assert [(task.name, task.args) for task in ctx.jobs.huey.pending()] == [("cohort", (cohort_id,))]
        ctx.jobs.drain(limit=1)
        assert cohort_of(ctx, cohort_id).state == "done"
        assert issued_count(ctx, cohort_id) == 2
    finally:
        ctx.close()


def test_the_sweep_hands_over_due_deliveries_only(issuer_settings: IssuerSettings, achievement: dict[str, Any]) -> None:
    ctx = context_with(issuer_settings, queue_url="memory://")
    try:
        cohort_id = confirmed_cohort(ctx, achievement, 4)
        ctx.jobs.drain(limit=1)
        due_now, later, held, abandoned = sorted(record.id for record in credentials_of(ctx, cohort_id))
        now = datetime.now(UTC)
        table = table_of(Delivery)
        with ctx.db.write() as session:
            session.execute(
                update(table).where(table.c.credential_id == later).values(next_attempt_at=now + timedelta(minutes=5))
            )
            session.execute(
                update(table)
                .where(table.c.credential_id == held)
                .values(state="sending", lease_until=now + timedelta(minutes=5))
            )
            session.execute(
                update(table)
                .where(table.c.credential_id == abandoned)
                .values(state="sending", lease_until=now - timedelta(seconds=1))
            )
        ctx.jobs.huey.flush()  # as if the queue had been lost

        ctx.jobs.sweep()
        handed = [task.args[0] for task in ctx.jobs.huey.pending() if task.name == "deliver"]
        assert sorted(credential_id for ids in handed for credential_id in ids) == sorted([due_now, abandoned])
    finally:
        ctx.close()


# -- workers ---------------------------------------------------------------------------------------------------------


def test_issuer_worker_once_runs_what_waits_and_stops(
    issuer_cli: Any, ctx: IssuerContext, achievement: dict[str, Any]
) -> None:
    cohort_id = confirmed_cohort(ctx, achievement, 1)
    result = issuer_cli("worker", "--once")
    assert result.exit_code == 0, result.output
    assert "job(s) done" in result.output
    assert cohort_of(ctx, cohort_id).state == "done"
    [record] = credentials_of(ctx, cohort_id)
    [delivery] = deliveries_of(ctx, {record.id})
    assert delivery.state == "sent"
    assert len(list(ctx.settings.mail_folder.glob("*.eml"))) == 1


def _wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {what}")
        time.sleep(0.05)


def test_the_embedded_worker_issues_without_a_drain_and_stops_with_the_app(
    issuer_settings: IssuerSettings, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    lost = context_with(issuer_settings, queue_url="memory://")
    waiting = confirmed_cohort(lost, achievement, 1, start=100)  # confirmed before the server started; job lost
    lost.close()

    served = context_with(issuer_settings, embedded_worker=True, worker_threads=1)
    before = {thread.ident for thread in threading.enumerate()}
    try:
        with TestClient(create_app(context=served), base_url=ISSUER_URL) as client:
            response = client.post(
                "/api/v1/cohorts",
                json={"achievement": achievement["id"], "rows": [{"name": "Osoba 1", "email": "osoba1@example.org"}]},
                headers=provider.headers,
            )
            assert response.status_code == 202, response.text
            posted = response.json()["id"]
            _wait_for(lambda: cohort_of(ctx, posted).state == "done", 20, "the posted cohort to be issued")
            _wait_for(lambda: cohort_of(ctx, waiting).state == "done", 20, "the start-up sweep to find the waiting one")
            assert issued_count(ctx, posted) == issued_count(ctx, waiting) == 1
        left = [thread for thread in threading.enumerate() if thread.ident not in before and thread.is_alive()]
        assert not [thread.name for thread in left if thread.name.startswith(("Worker-", "Scheduler"))]
    finally:
        served.close()


WORKER = """
import logging, sys
logging.basicConfig(filename=sys.argv[1], level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
from issuer.cli import app
app(sys.argv[2:], prog_name="issuer")
"""
"""``issuer worker`` in a process of its own, logging INFO and up to a file the run's log check reads."""


def _worker_environment(settings: IssuerSettings) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("ISSUER_")}
    environment.update(
        ISSUER_DATABASE_URL=settings.sqlalchemy_url,
        ISSUER_DATA_DIR=str(settings.data_dir),
        ISSUER_QUEUE_URL=settings.job_queue_url,
        ISSUER_KEY_PASSPHRASE=TEST_ONLY_PASSPHRASE,
        ISSUER_SECRET_KEY=TEST_ONLY_SECRET_KEY,
        ISSUER_KEY_KDF_ROUNDS=str(TEST_ONLY_KDF_ROUNDS),
        ISSUER_PUBLIC_URL=ISSUER_URL,
        ISSUER_VERIFIER_URL=VERIFIER_URL,
    )
    return environment


CROWD = max(1500, cohort_run.BATCH * 3 // 2)
"""About 1,500 learners: at least a batch and a half, so the worker can be caught between two."""


def batch_ends(rows: int) -> list[int]:
    """How many rows are done after each batch of a cohort of ``rows`` run from its start."""
    ends, left, first = [], rows, True
    while left:
        left -= min(left, cohort_run.batch_size(left, first=first))
        ends.append(rows - left)
        first = False
    return ends


def test_batches_start_small_grow_and_end_small() -> None:
    assert batch_ends(10_000) == [200, 1200, 2200, 3200, 4200, 5200, 6200, 7200, 8200, 9100, 9550, 9775, 10_000]
    assert batch_ends(250) == [250]
    assert batch_ends(1) == [1]


def test_a_worker_killed_mid_cohort_leaves_no_row_half_done_and_the_next_issues_each_row_once(
    ctx: IssuerContext, achievement: dict[str, Any], tmp_path: Path
) -> None:
    assert ctx.settings.job_queue_url.startswith("sqlite:///")
    cohort_id = confirmed_cohort(ctx, achievement, CROWD)  # its job waits in the queue file
    log_file = Path(os.environ[LOG_DIR_VARIABLE]) / f"worker-{uuid.uuid4().hex[:8]}.log"
    output = tmp_path / "worker.out"
    with output.open("wb") as sink:
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(log_file), "worker", "--threads", "1"],
            env=_worker_environment(ctx.settings),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while not 0 < (issued := issued_count(ctx, cohort_id)) < CROWD:
                if issued == CROWD:
                    pytest.fail("the worker issued the whole cohort before it could be killed")
                if worker.poll() is not None:
                    pytest.fail(f"the worker stopped on its own:\n{output.read_text()}")
                if time.monotonic() > deadline:
                    pytest.fail("the worker issued nothing within 60 s")
                time.sleep(0.01)
        finally:
            worker.kill()  # SIGKILL: no cleanup of any kind
            worker.wait(timeout=10)

    issued, total = assert_no_row_half_done(ctx, cohort_id)
    assert total == CROWD and 0 < issued < CROWD
    assert issued in batch_ends(CROWD), "a batch is all or nothing"
    assert "osoba" not in log_file.read_text("utf-8").lower() and "osoba" not in output.read_text().lower()

    # The dead worker's lease still holds: nobody takes over yet.
    assert cohort_id not in cohort_run.stalled(ctx, datetime.now(UTC))
    cohort_run.run(ctx, cohort_id)
    assert issued_count(ctx, cohort_id) == issued

    # There is no setting for the lease (cohort_run.LEASE, two minutes): it runs out here by moving it.
    set_cohort(ctx, cohort_id, lease_until=datetime.now(UTC) - timedelta(seconds=1))
    assert cohort_id in cohort_run.stalled(ctx, datetime.now(UTC))
    cohort_run.run(ctx, cohort_id)

    issued, total = assert_no_row_half_done(ctx, cohort_id)
    assert issued == total == CROWD
    done = cohort_of(ctx, cohort_id)
    assert (done.state, done.issued, done.failed, done.skipped) == ("done", CROWD, 0, 0)
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Credential)) == CROWD


def test_two_workers_at_once_issue_each_row_once(ctx: IssuerContext, achievement: dict[str, Any]) -> None:
    cohort_id = confirmed_cohort(ctx, achievement, cohort_run.BATCH + 100)
    start = threading.Barrier(2)
    finished: dict[str, int] = {}
    failures: list[BaseException] = []

    def work(name: str) -> None:
        finished[name] = 0

        def count(rows: int) -> None:
            finished[name] += rows

        try:
            start.wait()
            cohort_run.run(ctx, cohort_id, progress=count)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=work, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert sorted(finished.values()) == [0, cohort_run.BATCH + 100], "one worker holds the cohort, the other leaves it"
    issued, total = assert_no_row_half_done(ctx, cohort_id)
    assert issued == total == cohort_run.BATCH + 100


@pytest.mark.parametrize("policy", ["skip", "refuse", "allow"])
def test_a_worker_that_outlived_its_lease_leaves_its_successors_rows_as_they_were(
    ctx: IssuerContext, achievement: dict[str, Any], policy: str
) -> None:
    """The first worker stalls (a long pause, a lock wait) right after reading its batch of pending rows; its
    lease runs out and a second worker issues the whole cohort. When the first one wakes up, those rows are no
    longer pending: it must neither issue them again nor rewrite what they say."""
    cohort_id = confirmed_cohort(ctx, achievement, 5, policy=policy)
    first = threading.current_thread()
    took_over = threading.Event()
    failures: list[BaseException] = []

    def successor() -> None:
        try:
            cohort_run.run(ctx, cohort_id)
        except BaseException as error:
            failures.append(error)

    def stall_after_reading_the_batch(*args: Any) -> None:
        statement = str(args[2])
        if took_over.is_set() or threading.current_thread() is not first or "FROM cohort_row" not in statement:
            return
        took_over.set()
        set_cohort(ctx, cohort_id, lease_until=datetime.now(UTC) - timedelta(seconds=1))  # the lease ran out
        second = threading.Thread(target=successor)
        second.start()
        second.join(30)

    event.listen(ctx.db.engine, "after_cursor_execute", stall_after_reading_the_batch)
    try:
        cohort_run.run(ctx, cohort_id)
    finally:
        event.remove(ctx.db.engine, "after_cursor_execute", stall_after_reading_the_batch)
    assert took_over.is_set() and failures == []
    records = credentials_of(ctx, cohort_id)
    assert len(records) == 5, f"{len(records)} credentials for 5 learners"
    assert sorted(row.state for row in rows_of(ctx, cohort_id)) == ["issued"] * 5
    done = cohort_of(ctx, cohort_id)
    assert (done.issued, done.skipped, done.failed) == (5, 0, 0)


def test_run_after_done_and_a_cohort_that_does_not_exist_do_nothing(
    ctx: IssuerContext, achievement: dict[str, Any]
) -> None:
    cohort_id = confirmed_cohort(ctx, achievement, 2)
    cohort_run.run(ctx, cohort_id)
    cohort_run.run(ctx, cohort_id)
    cohort_run.run(ctx, str(uuid.uuid4()))
    assert len(credentials_of(ctx, cohort_id)) == 2
    assert cohort_of(ctx, cohort_id).issued == 2


def test_a_batch_signed_just_before_a_key_rotation_is_signed_again_with_the_new_key(
    ctx: IssuerContext, achievement: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch is signed with no transaction open; if the provider's key changed before it is stored, nothing of
    it is stored and its rows are signed again."""
    cohort_id = confirmed_cohort(ctx, achievement, 5)
    rotated: list[str] = []
    sign = cohort_run._Job.sign_here

    def sign_then_rotate(job: Any, batch: Any) -> None:
        sign(job, batch)
        if not rotated:
            rotated.append(rotate(ctx, "wsei", actor="test", delay=0).kid)

    monkeypatch.setattr(cohort_run._Job, "sign_here", sign_then_rotate)
    cohort_run.run(ctx, cohort_id)
    records = credentials_of(ctx, cohort_id)
    assert len(records) == 5 and {record.kid for record in records} == set(rotated)
    done = cohort_of(ctx, cohort_id)
    assert (done.state, done.issued, done.skipped, done.failed) == ("done", 5, 0, 0)
    assert sorted(row.state for row in rows_of(ctx, cohort_id)) == ["issued"] * 5


def test_a_learner_given_the_badge_between_a_batchs_two_transactions_is_skipped(
    ctx: IssuerContext, achievement: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The policy is applied again when a signed batch is stored: a learner who received the badge meanwhile
    (here from another cohort) is skipped, and holds it once."""
    cohort_id = confirmed_cohort(ctx, achievement, 3)
    sign = cohort_run._Job.sign_here
    meanwhile: list[str] = []

    def sign_then_issue_elsewhere(job: Any, batch: Any) -> None:
        sign(job, batch)
        if not meanwhile:
            meanwhile.append(confirmed_cohort(ctx, achievement, 1, start=1))
            cohort_run.run(ctx, meanwhile[0])

    monkeypatch.setattr(cohort_run._Job, "sign_here", sign_then_issue_elsewhere)
    cohort_run.run(ctx, cohort_id)
    [other] = credentials_of(ctx, meanwhile[0])
    assert len(credentials_of(ctx, cohort_id)) == 2
    done = cohort_of(ctx, cohort_id)
    assert (done.issued, done.skipped, done.failed) == (2, 1, 0)
    skipped = [row for row in rows_of(ctx, cohort_id) if row.state == "skipped"]
    assert [(row.line, row.credential_id) for row in skipped] == [(3, other.id)]


def test_a_learner_whose_credential_is_revoked_between_a_batchs_two_transactions_is_issued_a_new_one(
    ctx: IssuerContext, achievement: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The policy turns a learner away when the rows are read (they hold the badge); if that credential is revoked
    before the batch is stored, the row is not left "skipped" pointing at a revoked credential: it is issued."""
    from issuer.revocation import revoke

    first = confirmed_cohort(ctx, achievement, 1)
    cohort_run.run(ctx, first)
    [held] = credentials_of(ctx, first)
    cohort_id = confirmed_cohort(ctx, achievement, 3)  # the same learner on its first line, and two more
    reserve = cohort_run._Job.reserve
    revoked: list[str] = []

    def reserve_then_revoke(job: Any, read: Any) -> Any:
        batch = reserve(job, read)
        if not revoked:
            revoke(ctx, get_provider(ctx, "wsei"), held.id, "wydany omyłkowo", "test")
            revoked.append(held.id)
        return batch

    monkeypatch.setattr(cohort_run._Job, "reserve", reserve_then_revoke)
    cohort_run.run(ctx, cohort_id)
    assert revoked == [held.id]
    records = credentials_of(ctx, cohort_id)
    assert len(records) == 3 and held.id not in {record.id for record in records}
    done = cohort_of(ctx, cohort_id)
    assert (done.state, done.issued, done.skipped, done.failed) == ("done", 3, 0, 0)
    assert sorted(row.state for row in rows_of(ctx, cohort_id)) == ["issued"] * 3
