"""The job queue (huey): cohorts issued in the background, e-mails sent with retries.

Where the queue lives follows ``ISSUER_QUEUE_URL``: an SQLite file beside the database by default (``make run``
and one machine), Redis or PostgreSQL when several issuer processes share it. ``issuer serve`` runs a worker in
its own process; ``issuer worker`` runs one alone.

The queue carries ids only. What a job must do is in the database (a cohort's pending rows, a queued delivery),
so a job lost with a crashed worker is found again by the sweep, which runs when a worker starts and then every
minute, and a job that runs twice finds its work claimed or done.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huey import Huey, MemoryHuey, PostgresHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

if TYPE_CHECKING:
    from issuer.context import IssuerContext

log = logging.getLogger("issuer.jobs")

QUEUE_NAME = "odznaka"
DELIVERY_CHUNK = 250
"""E-mails per delivery job: few enough that worker threads share a cohort's messages, many enough that
queueing them (a committed write each) costs little beside issuing."""


_settled = threading.Event()


def settle_heap() -> None:
    """Take what the process has loaded so far (modules, classes, the app, its settings: all of it lives as long
    as the process) out of the cyclic garbage collector's sight, once per process, as a long-running service
    starts. Otherwise each full collection walks all of it again while a cohort makes its many short-lived
    objects: measured, about a tenth of a 10,000-row cohort's time (``bench/cohort.py``)."""
    if not _settled.is_set():
        _settled.set()
        gc.collect()
        gc.freeze()


def make_huey(url: str) -> Huey:
    """A huey instance for ``sqlite:///path``, ``redis://…``, ``postgresql://…`` or ``memory://`` (tests)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return SqliteHuey(QUEUE_NAME, filename=str(path), results=False, utc=True, fsync=True)
    if url.startswith(("redis://", "rediss://")):
        return RedisHuey(QUEUE_NAME, url=url, results=False, utc=True)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresHuey(QUEUE_NAME, dsn=url, results=False, utc=True)
    if url.startswith("memory://"):
        return MemoryHuey(QUEUE_NAME, results=False, utc=True)
    raise ValueError(f"unsupported queue URL scheme: {url.split(':', 1)[0]}")


class _EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """A consumer running beside the web server in its process: the server owns the process's signals."""

    def _set_signal_handlers(self) -> None:
        pass


class JobQueue:
    def __init__(self, ctx: IssuerContext, url: str) -> None:
        self.ctx = ctx
        self.huey = make_huey(url)
        huey = self.huey
        self._cohort = huey.task(name="cohort")(self._run_cohort)
        self._deliver = huey.task(name="deliver")(self._run_deliveries)
        self._sweep = huey.periodic_task(crontab(minute="*"), name="sweep")(self.sweep)

    # --- what the tasks do ---------------------------------------------------------------------------------

    def _run_cohort(self, cohort_id: str) -> None:
        from issuer import cohort_run

        cohort_run.run(self.ctx, cohort_id)

    def _run_deliveries(self, credential_ids: list[str]) -> None:
        from issuer import deliveries

        for credential_id in credential_ids:
            deliveries.deliver(self.ctx, credential_id)

    def sweep(self) -> None:
        """Hand the queue whatever should be running and is not: cohorts whose worker stopped, e-mails never
        enqueued or whose worker died while sending."""
        from issuer import cohort_run, deliveries

        now = datetime.now(UTC)
        for cohort_id in cohort_run.stalled(self.ctx, now):
            log.info("resuming cohort %s", cohort_id)
            self._cohort(cohort_id)
        self.deliver_many(deliveries.due(self.ctx, now))

    # --- what the rest of the issuer calls ------------------------------------------------------------------

    def run_cohort(self, cohort_id: str) -> None:
        self._cohort(cohort_id)

    def deliver_many(self, credential_ids: Iterable[str]) -> None:
        """Queue the e-mails of these credentials, :data:`DELIVERY_CHUNK` to a job (one enqueue per message
        would cost a cohort of 10,000 as many queue commits)."""
        ids = list(credential_ids)
        for start in range(0, len(ids), DELIVERY_CHUNK):
            self._deliver(ids[start : start + DELIVERY_CHUNK])

    def deliver_later(self, credential_id: str, delay: float) -> None:
        self._deliver.schedule(([credential_id],), delay=delay)

    def pending(self) -> int:
        return int(self.huey.pending_count())

    def drain(self, limit: int = 100_000) -> int:
        """Run every task waiting now in this thread (tests and ``issuer worker --once``); return how many."""
        done = 0
        while done < limit:
            task = self.huey.dequeue()
            if task is None:
                return done
            self.huey.execute(task)
            done += 1
        return done

    def consumer(self, workers: int, *, embedded: bool) -> Consumer:
        kind = _EmbeddedConsumer if embedded else Consumer
        return kind(self.huey, workers=workers, worker_type="thread", periodic=True, scheduler_interval=1)

    def close(self) -> None:
        storage: Any = self.huey.storage
        close = getattr(storage, "close", None)
        if callable(close):
            close()


class EmbeddedWorker:
    """The worker threads ``issuer serve`` runs beside the app; the sweep runs once at start."""

    def __init__(self, queue: JobQueue, workers: int) -> None:
        self.queue = queue
        self.consumer = queue.consumer(workers, embedded=True)
        self._started = threading.Event()

    def start(self) -> None:
        from issuer import batch_signing

        batch_signing.process.start()
        self.consumer.start()
        self.queue._sweep()  # queued, so a worker picks it up at once
        self._started.set()

    def stop(self) -> None:
        if self._started.is_set():
            self.consumer.stop(graceful=True)
            from issuer import batch_signing

            batch_signing.process.stop()
