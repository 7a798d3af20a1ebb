"""Signing a batch of a cohort's credentials: in a process of its own beside the worker, or in the worker itself.

Python runs one thread at a time, so in one process a cohort's signing and its storing (audit entries, e-mails,
the rows' outcomes) take turns on one core. The worker therefore hands each batch to a signing process (the
rows, their reserved status-list slots and the provider's key) and stores the batch before meanwhile: on a
server with two cores the two run side by side. The process is started with the worker (``issuer serve``,
``issuer worker``) and kept. A batch that comes before it is ready, that is small, or that finds it gone is
signed in the worker, by the same function (:func:`sign`).

The process is spawned (a fresh interpreter, not a fork of a process running threads), so, as with any spawned
process, the program that starts it must keep its own work under ``if __name__ == "__main__":`` (``issuer``'s
commands do).

The key crosses to the process as PKCS#8 bytes through the pipe between the two processes of one service, never
through a file. The process is handed no other secret (the keyed digests come worked out; as any child process
it inherits the worker's environment), opens no database, and stops when the worker stops or dies.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import ValidationError

from credentials.jose import Signer
from credentials.keys import PrivateKeySigner
from issuer.errors import InvalidInput
from issuer.issuance import Award, CredentialRequest, CredentialSigner, Slot, StoredCredential, build_draft
from issuer.urls import Urls

log = logging.getLogger("issuer.batch_signing")

HANDED_OVER_FROM = 100
"""A batch with fewer credentials is signed in the worker: handing it over would cost more than it saves."""
RESTART_AFTER = 60.0
"""Seconds after the process died before a batch starts another."""
TAKE_BACK_WITHIN = 300.0
"""Seconds a batch may take in the process (a thousand RSA signatures take about two) before it counts as hung."""


class Row(NamedTuple):
    """A row to sign: its line in the file, its data as read, its keyed digests and its reserved slot."""

    line: int
    data: dict[str, Any]
    key: str
    email_key: str
    external_id: str | None
    slot: Slot


@dataclass(frozen=True)
class Batch:
    """What a batch's credentials are built from (the key goes beside it)."""

    urls: Urls
    provider_id: int
    slug: str
    kid: str
    now: datetime
    issuer: dict[str, Any]
    award: Award
    cohort_id: str
    policy: str
    rows: list[Row]


class Signed(NamedTuple):
    line: int
    record: StoredCredential


class Unsigned(NamedTuple):
    """A row that could not be signed (too large, say): the field named and why."""

    line: int
    field: str | None
    reason: str


def request_for(achievement_id: str, data: dict[str, Any], policy: str) -> CredentialRequest:
    """The request a cohort's row makes, as its file's columns were read. Raises ``ValidationError``."""
    body: dict[str, Any] = {
        "achievement": achievement_id,
        "recipient": {"name": data["name"], "email": data["email"]},
        "allowDuplicate": policy == "allow",
        "language": data.get("language") or "pl",
    }
    if data.get("narrative"):
        body["narrative"] = data["narrative"]
    if data.get("evidence_url"):
        body["evidence"] = [{"id": data["evidence_url"]}]
    if data.get("result"):
        body["result"] = [{"value": data["result"]}]
    if data.get("valid_until"):
        body["validUntil"] = data["valid_until"]
    return CredentialRequest.model_validate(body)


def sign(batch: Batch, signer: Signer) -> list[Signed | Unsigned]:
    """Build, sign and read back each row's credential; a row that cannot be signed fails alone."""
    credentials = CredentialSigner(batch.urls, batch.provider_id, batch.slug, batch.kid, signer, batch.now)
    done: list[Signed | Unsigned] = []
    for row in batch.rows:
        try:
            request = request_for(batch.award.id, row.data, batch.policy)
        except ValidationError as exc:  # read by the worker a moment ago: only a rule changed between the two
            problem = exc.errors()[0]
            done.append(Unsigned(row.line, str(problem["loc"][-1]), str(problem["msg"])))
            continue
        # Built just before it is signed, and dropped after: a batch never sits in memory as documents.
        draft = build_draft(
            batch.urls,
            batch.issuer,
            batch.award,
            request,
            batch.now,
            key=row.key,
            email_key=row.email_key,
            external_id=row.external_id,
            cohort_id=batch.cohort_id,
        )
        try:
            done.append(Signed(row.line, credentials.sign(draft, row.slot)))
        except InvalidInput as failure:
            named = (failure.fields or [{}])[0]
            field = str(named["field"]) if named.get("field") else None
            done.append(Unsigned(row.line, field, str(named.get("message", failure.message))))
    return done


@dataclass(frozen=True)
class Handed:
    """A batch given to the signing process: what it will answer, and which process has it."""

    answer: Future[list[Signed | Unsigned]]
    executor: ProcessPoolExecutor


class SigningProcess:
    """This worker's signing process: started with the worker, used once it has answered, started again (at most
    once a minute) if it dies, hangs or cannot start."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._ready = threading.Event()
        self._lost_at: float | None = None
        self.pid: int | None = None
        """The process's id, once it has answered."""
        self.handed_over = 0
        """Batches handed to the process so far."""

    def start(self) -> None:
        """Start the process in the background, if it is not running (it is ready about a second later)."""
        with self._lock:
            if self._executor is not None:
                return
            self._lost_at = None
            self._ready.clear()
            self.pid = None
            # Spawned, not forked: the worker runs threads, and a fork copies their locks in whatever state.
            executor = self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_settle
            )
        executor.submit(os.getpid).add_done_callback(lambda answer: self._answered(executor, answer))

    def _answered(self, executor: ProcessPoolExecutor, answer: Future[int]) -> None:
        failed = answer.cancelled() or answer.exception() is not None
        with self._lock:
            if executor is not self._executor:
                return  # an answer from a process stopped or replaced meanwhile
            if not failed:
                self.pid = answer.result()
                self._ready.set()
                return
        log.warning("the signing process did not start: cohorts are signed in the worker for now")
        self.lost(executor)

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def hand_over(self, batch: Batch, signer: Signer) -> Handed | None:
        """Give the batch to the process; ``None`` when it is signed here instead (the process not ready, the
        batch small, or the key not held in memory)."""
        with self._lock:
            executor, lost_at = self._executor, self._lost_at
        if executor is None and lost_at is not None and time.monotonic() - lost_at > RESTART_AFTER:
            self.start()  # ready for a later batch
        if executor is None or not self._ready.is_set() or len(batch.rows) < HANDED_OVER_FROM:
            return None
        if not isinstance(signer, PrivateKeySigner):
            return None
        try:
            answer = executor.submit(_sign_handed_over, batch, signer.kid, signer.alg, signer.pkcs8())
        except RuntimeError:  # broken, or shut down meanwhile
            self.lost(executor)
            return None
        with self._lock:
            self.handed_over += 1
        return Handed(answer, executor)

    def take_back(self, handed: Handed) -> list[Signed | Unsigned] | None:
        """What the process answered for a batch; ``None`` when it did not sign it (it died, hung past
        :data:`TAKE_BACK_WITHIN`, was stopped, or failed): the caller signs the batch itself."""
        try:
            return handed.answer.result(timeout=TAKE_BACK_WITHIN)
        except (BrokenProcessPool, CancelledError) as exc:
            log.warning("the signing process stopped (%s): its batch is signed in the worker", type(exc).__name__)
            self.lost(handed.executor)
        except TimeoutError:
            log.warning("the signing process took over %.0f s for a batch: it is replaced", TAKE_BACK_WITHIN)
            self.lost(handed.executor, hung=True)
        except Exception as exc:  # raised by the signing itself: the worker signs the batch and meets it there
            log.warning("the signing process could not sign a batch (%s)", type(exc).__name__)
        return None

    def lost(self, executor: ProcessPoolExecutor, *, hung: bool = False) -> None:
        """Drop ``executor``'s process if it is still this worker's (a later batch starts another after
        :data:`RESTART_AFTER`); ``hung``: it is still running, and is ended."""
        dropped, pid = self._drop(only=executor)
        if dropped is None:
            return  # already dropped, or stopped, or replaced
        if hung and pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # not yet reaped (it never finished), so the id is still its own
        dropped.shutdown(wait=False, cancel_futures=True)

    def stop(self) -> None:
        """Stop the process (when the worker stops), once the batch it is signing is done; batches waiting for it
        are cancelled (their cohorts sign them, or resume them later)."""
        dropped, _ = self._drop(only=None)
        if dropped is not None:
            dropped.shutdown(wait=True, cancel_futures=True)

    def _drop(self, only: ProcessPoolExecutor | None) -> tuple[ProcessPoolExecutor | None, int | None]:
        """Forget the current process (only if it is ``only``, when given) and its id; a process lost, not
        stopped, is started again by a later batch."""
        with self._lock:
            executor, pid = self._executor, self.pid
            if only is not None and executor is not only:
                return None, None
            self._executor, self.pid = None, None
            self._ready.clear()
            self._lost_at = time.monotonic() if only is not None else None  # stopped: not started again
        return executor, pid


process = SigningProcess()
"""The one signing process of this worker process."""


# --- in the signing process -----------------------------------------------------------------------------------

_signers: dict[tuple[str, bytes], Signer] = {}


def _settle() -> None:
    """Stop when the worker stops, however it stops; and keep the loaded modules out of the collector's sight
    (as :func:`issuer.jobs.settle_heap` does in the worker)."""
    # Ctrl-C in a terminal reaches the whole process group: the worker stops this process in its own time.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_after, args=(parent,), name="worker-watch", daemon=True).start()
    gc.collect()
    gc.freeze()


def _exit_after(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()
    os._exit(0)


def _sign_handed_over(batch: Batch, kid: str, alg: str, key: bytes) -> list[Signed | Unsigned]:
    signer = _signers.get((kid, key))
    if signer is None:
        _signers.clear()  # one key at a time: the one in use
        signer = _signers[(kid, key)] = PrivateKeySigner.from_pkcs8(kid, alg, key)
    return sign(batch, signer)
