"""A cohort's batches are signed in a process of their own beside the worker (``issuer.batch_signing``): what comes
back is stored exactly as if the worker had signed it; a row that cannot be signed fails alone there too; if the
process dies, the worker signs the batch itself; and the process never outlives its worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from credentials.encoding import b64url_encode
from credentials.errors import InvalidKey
from credentials.keys import PrivateKeySigner, generate_private_key
from issuer import batch_signing, cohort_run
from issuer.context import IssuerContext
from tests.conftest import ProviderFixture, payload_of, verify
from tests.test_cohorts import _pad_achievement_to_near_the_token_limit
from tests.test_jobs import cohort_of, confirmed_cohort, credentials_of, rows_of

ROOT = Path(__file__).resolve().parent.parent


def started() -> batch_signing.SigningProcess:
    process = batch_signing.SigningProcess()
    process.start()
    assert process.wait_ready(120), "the signing process did not answer within two minutes"
    return process


@pytest.fixture(scope="module")
def shared_process() -> Iterator[batch_signing.SigningProcess]:
    process = started()
    yield process
    process.stop()


@pytest.fixture
def signing(
    shared_process: batch_signing.SigningProcess, monkeypatch: pytest.MonkeyPatch
) -> batch_signing.SigningProcess:
    """The worker's signing process, taking batches of any size (a test's cohorts are small)."""
    monkeypatch.setattr(batch_signing, "process", shared_process)
    monkeypatch.setattr(batch_signing, "HANDED_OVER_FROM", 1)
    return shared_process


def test_a_cohort_signed_in_the_signing_process_is_stored_and_verifies(
    ctx: IssuerContext, achievement: dict[str, Any], verifier: TestClient, signing: batch_signing.SigningProcess
) -> None:
    handed_before = signing.handed_over
    cohort_id = confirmed_cohort(ctx, achievement, 7)
    cohort_run.run(ctx, cohort_id)
    assert signing.handed_over > handed_before, "the batch was signed in the worker, not handed over"
    assert signing.pid is not None and signing.pid != os.getpid()
    done = cohort_of(ctx, cohort_id)
    assert (done.state, done.issued, done.failed) == ("done", 7, 0)
    records = credentials_of(ctx, cohort_id)
    rows = {row.credential_id: row for row in rows_of(ctx, cohort_id)}
    assert len(records) == 7 and set(rows) == {record.id for record in records}
    for record in records:
        report = verify(verifier, record.jwt)
        assert report["verdict"] == "valid", report
        payload = payload_of(record.jwt)
        assert payload["jti"].endswith(record.id)
        names = [item["identityHash"] for item in payload["credentialSubject"]["identifier"] if not item["hashed"]]
        assert names == [record.learner_name]
        assert payload["credentialStatus"]["statusListIndex"] == str(record.status_index)


def test_a_row_too_large_to_sign_fails_alone_in_the_signing_process_too(
    issuer: TestClient,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    ctx: IssuerContext,
    signing: batch_signing.SigningProcess,
) -> None:
    _pad_achievement_to_near_the_token_limit(issuer, provider, achievement, ctx)
    cohort_id = confirmed_cohort(ctx, achievement, 3)
    with ctx.db.write() as session:  # the second row gets a narrative that cannot fit any more
        row = next(row for row in rows_of(ctx, cohort_id) if row.line == 3)
        session.merge(row.model_copy(update={"data": {**(row.data or {}), "narrative": "n" * 2000}}))
    handed_before = signing.handed_over
    cohort_run.run(ctx, cohort_id)
    assert signing.handed_over > handed_before
    outcome = {row.line: (row.state, [error["code"] for error in row.errors or []]) for row in rows_of(ctx, cohort_id)}
    assert outcome == {2: ("issued", []), 3: ("failed", ["not_issuable"]), 4: ("issued", [])}


def test_when_the_signing_process_dies_the_worker_signs_the_batch_itself(
    ctx: IssuerContext, achievement: dict[str, Any], verifier: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    doomed = started()
    monkeypatch.setattr(batch_signing, "process", doomed)
    monkeypatch.setattr(batch_signing, "HANDED_OVER_FROM", 1)
    assert doomed.pid is not None
    killed = doomed.pid
    os.kill(killed, signal.SIGKILL)
    cohort_id = confirmed_cohort(ctx, achievement, 5)
    cohort_run.run(ctx, cohort_id)
    done = cohort_of(ctx, cohort_id)
    assert (done.state, done.issued, done.failed) == ("done", 5, 0)
    assert all(verify(verifier, record.jwt)["verdict"] == "valid" for record in credentials_of(ctx, cohort_id))
    assert not doomed.wait_ready(0), "a dead process is dropped"
    # A later cohort, once the pause after a death is over, starts a new one (its own batch is signed here).
    monkeypatch.setattr(batch_signing, "RESTART_AFTER", 0.0)
    cohort_run.run(ctx, confirmed_cohort(ctx, achievement, 2, start=5))
    assert doomed.wait_ready(120) and doomed.pid not in (None, killed)
    doomed.stop()


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status  # exited, waiting to be reaped by whoever adopted it


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads process states from /proc (Linux)")
def test_the_signing_process_stops_when_its_worker_is_killed(tmp_path: Path) -> None:
    worker = textwrap.dedent(
        """
        import time
        from issuer import batch_signing
        if __name__ == "__main__":  # the signing process imports this file again, as any spawned process does
            batch_signing.process.start()
            assert batch_signing.process.wait_ready(120)
            print(batch_signing.process.pid, flush=True)
            time.sleep(600)
        """
    )
    script = tmp_path / "worker.py"
    script.write_text(worker)
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=environment)
    try:
        assert process.stdout is not None
        child = int(process.stdout.readline())
        assert not _gone(child)
    finally:
        process.kill()  # SIGKILL: the worker cleans nothing up
        process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while not _gone(child):
        assert time.monotonic() < deadline, f"the signing process {child} outlived its worker"
        time.sleep(0.05)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_a_key_handed_to_the_signing_process_signs_as_the_workers_own(alg: str) -> None:
    own = PrivateKeySigner("kid-1", alg, generate_private_key(alg))
    handed = PrivateKeySigner.from_pkcs8("kid-1", alg, own.pkcs8())
    signing_input = jwt.encode({"sub": "x"}, own.private_key, algorithm=alg).rpartition(".")[0]
    token = f"{signing_input}.{b64url_encode(handed.sign(signing_input.encode('ascii')))}"
    assert jwt.decode(token, own.private_key.public_key(), algorithms=[alg]) == {"sub": "x"}
    with pytest.raises(InvalidKey):
        PrivateKeySigner.from_pkcs8("kid-1", alg, b"not a key")


def test_a_batch_the_process_did_not_sign_goes_back_to_the_worker_and_only_a_failed_process_is_dropped() -> None:
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    process = started()
    current = process._executor  # what a batch handed over now would name
    assert current is not None

    def answered(outcome: BaseException | None) -> batch_signing.Handed:
        answer: Future[Any] = Future()
        if outcome is None:
            answer.cancel()
        else:
            answer.set_exception(outcome)
        return batch_signing.Handed(answer, current)

    # The signing itself raised: the worker signs the batch (and meets the error there); the process stays.
    assert process.take_back(answered(ValueError("a defect"))) is None
    assert process.wait_ready(0) and process._executor is current
    # Died or stopped: the batch comes back to the worker, and the process is dropped.
    assert process.take_back(answered(BrokenProcessPool("gone"))) is None
    assert not process.wait_ready(0)
    # A late word about a process already dropped leaves the next one alone.
    process.start()
    assert process.wait_ready(120)
    assert process.take_back(answered(None)) is None
    assert process.wait_ready(0) and process.pid is not None
    process.stop()
    assert not process.wait_ready(0)


def test_a_process_that_hangs_is_ended_and_its_batch_signed_by_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import Future

    process = started()
    monkeypatch.setattr(batch_signing, "TAKE_BACK_WITHIN", 0.05)
    pid, current = process.pid, process._executor
    assert pid is not None and current is not None
    never: Future[Any] = Future()  # an answer that does not come
    assert process.take_back(batch_signing.Handed(never, current)) is None
    assert not process.wait_ready(0)
    deadline = time.monotonic() + 10
    while not _gone(pid):
        assert time.monotonic() < deadline, "the hung process was not ended"
        time.sleep(0.05)
    process.stop()
