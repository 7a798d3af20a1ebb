"""A 10,000-row cohort from its CSV file to the last e-mail queued, on SQLite and on PostgreSQL.

What a coordinator's upload costs end to end: the file read and every row checked (``cohorts.upload``), the
confirmation, then the job (``cohort_run.run``, as the worker runs it): every credential built, signed, stored,
status-indexed and logged, and its e-mail written to the outbox and handed to the job queue (huey on its
SQLite file). The worker's signing process (``issuer.batch_signing``) is started and ready before the clock
starts, as ``issuer serve`` and ``issuer worker`` start it. Reported as credentials per second and as a ratio
against raw PyJWT signatures per second with the provider's algorithm (EdDSA, one core), measured in the same
process right before and after the run (target ≥ 0.25); and the peak memory of the process (its maximum resident
set, from ``getrusage``) and of its signing process (``VmHWM``). Each run is a process of its own, so
that its peak memory is its own; each backend runs three times and the median run is reported, with the range.

    python bench/cohort.py                      # SQLite, and PostgreSQL when ODZNAKA_BENCH_POSTGRES_URL is set
    python bench/cohort.py --one sqlite         # one backend (what the parent runs)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROWS = 10_000
TARGET = 0.25
RAW_SECONDS = 1.5
RUNS = 3
PASSPHRASE = "bench-only-passphrase-not-a-secret"  # noqa: S105 - throwaway keys in a temp dir
SECRET_KEY = "bench-only-server-secret-3b9e17c0a4d26f85e1c7b0a9d4f36e2a"  # noqa: S105 - throwaway, temp dir
FIRST = ["Łukasz", "Zofia", "Grzegorz", "Małgorzata", "Jędrzej", "Ąnna", "Władysław", "Żaneta", "Ścibor", "Oksana"]
LAST = ["Żółć", "Wiśniewska", "Kołodziej", "Dąbrowski", "Szczęsna", "Ślusarczyk", "Łęcka", "Бондаренко"]


def participants(path: Path) -> None:
    """The file as Polish Excel saves it: semicolons, Windows-1250 (Ukrainian names in a UTF-8 file would
    not fit cp1250, so the Ukrainian surname is kept out)."""
    lines = ["Imię i nazwisko;E-mail;Identyfikator uczestnika;Wynik"]
    for row in range(ROWS):
        last = LAST[row // 10 % (len(LAST) - 1)]
        lines.append(f"{FIRST[row % 10]} {last};uczestnik{row:05d}@example.org;U{row:05d};{3 + row % 3}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1250"))


def raw_rate(payload: dict[str, Any]) -> float:
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < RAW_SECONDS:
        for _ in range(100):
            jwt.encode(payload, key, algorithm="EdDSA")
        done += 100
    return done / (time.perf_counter() - start)


def example_payload(ctx: Any, provider: Any, achievement: Any) -> dict[str, Any]:
    """A credential as a cohort row makes it (the issuer's own builder), for the raw rate before the run."""
    from datetime import UTC, datetime

    from credentials.ob3 import jwt_claims_for
    from issuer import status_lists
    from issuer.issuance import CredentialRequest, draft_of
    from issuer.providers import profile_document

    request = CredentialRequest.model_validate(
        {"achievement": achievement.id, "recipient": {"name": "Łukasz Żółć", "email": "uczestnik00000@example.org"}}
    )
    draft = draft_of(ctx, profile_document(ctx, provider, with_context=False), achievement, request, datetime.now(UTC))
    document = {**draft.document, "credentialStatus": status_lists.status_entry(ctx.urls, provider.slug, 1, 4242)}
    return {**document, **jwt_claims_for(document)}


def database_url(backend: str, folder: Path) -> tuple[str, Any]:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'issuer.db'}", None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = os.environ["ODZNAKA_BENCH_POSTGRES_URL"]
    name = f"odznaka_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def one(backend: str) -> dict[str, Any]:
    from sqlalchemy import func, select

    from credentials.encoding import b64url_decode
    from issuer import batch_signing, cohort_run, cohorts
    from issuer.achievements import AchievementIn, create_achievement
    from issuer.context import IssuerContext
    from issuer.jobs import settle_heap
    from issuer.migrate import upgrade
    from issuer.models import AuditEntry, Credential, Delivery
    from issuer.providers import create_provider
    from issuer.settings import IssuerSettings

    with tempfile.TemporaryDirectory(prefix="odznaka-bench-cohort-") as tmp:
        folder = Path(tmp)
        url, drop = database_url(backend, folder)
        try:
            upgrade(url)
            ctx = IssuerContext.from_settings(
                IssuerSettings(
                    data_dir=folder,
                    database_url=url,
                    public_url="http://127.0.0.1:8000",
                    verifier_url="http://127.0.0.1:8001",
                    key_passphrase=PASSPHRASE,
                    secret_key=SECRET_KEY,
                    key_algorithm="EdDSA",
                )
            )
            provider = create_provider(ctx, "bench", name="Centrum Szkoleń Benchmark", country="PL", algorithm="EdDSA")
            achievement = create_achievement(
                ctx,
                provider,
                AchievementIn.model_validate(
                    {
                        "name": "Obsługa klienta w języku angielskim",
                        "description": "Prowadzi rozmowę z klientem po angielsku na poziomie B2.",
                        "criteria": {"narrative": "Zaliczenie rozmowy sprawdzającej."},
                    }
                ),
                "bench",
            )
            csv_path = folder / "uczestnicy.csv"
            participants(csv_path)
            data = csv_path.read_bytes()
            submitter = cohorts.Submitter(provider, "bench")
            ctx.jobs.pending()  # the queue's file exists before the clock starts, as in a running issuer
            before = raw_rate(example_payload(ctx, provider, achievement))
            # As `issuer serve` and `issuer worker` do when they start: the signing process runs beside the worker.
            batch_signing.process.start()
            if not batch_signing.process.wait_ready(60):
                raise SystemExit(f"{backend}: the signing process did not start")
            settle_heap()

            start = time.perf_counter()
            made = cohorts.upload(ctx, submitter, achievement.id, data, csv_path.name)
            uploaded = time.perf_counter()
            cohorts.confirm(ctx, submitter, made.cohort.id)
            cohort_run.run(ctx, made.cohort.id)
            seconds = time.perf_counter() - start

            with ctx.db.read() as session:
                stored = session.scalar(select(func.count()).select_from(Credential))
                queued = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == "queued"))
                logged = session.scalar(
                    select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "credential.issued")
                )
                sample = session.scalars(select(Credential).limit(1)).one()
            jobs = ctx.jobs.pending()
            if not stored == queued == logged == ROWS:
                raise SystemExit(f"{backend}: {stored} stored, {queued} e-mails queued, {logged} logged, not {ROWS}")
            payload = json.loads(b64url_decode(sample.jwt.split(".")[1], "payload"))
            signing_peak = _peak_mib(batch_signing.process.pid)
            handed_over = batch_signing.process.handed_over
            raws = [before, raw_rate(payload)]  # bracketing the run: the machine's pace drifts
            ctx.close()
        finally:
            if drop is not None:
                drop()
    raw = statistics.mean(raws)
    return {
        "backend": backend,
        "seconds": seconds,
        "upload_seconds": uploaded - start,
        "rate": ROWS / seconds,
        "raw": raw,
        "ratio": ROWS / seconds / raw,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "signing_peak_mib": signing_peak,
        "handed_over": handed_over,
        "jobs": jobs,
    }


def _peak_mib(pid: int | None) -> float:
    """A running process's peak resident memory (``VmHWM``), from /proc; 0 when it cannot be read."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, TypeError):
        return 0.0
    found = [line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(found[0]) / 1024 if found else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return 0
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("ODZNAKA_BENCH_POSTGRES_URL") else [])
    print(f"Cohort: {ROWS:,} rows from CSV upload to the last e-mail queued (target ≥ {TARGET} of raw EdDSA signing)")
    for backend in backends:
        runs = []
        for _ in range(RUNS):
            env = {**os.environ, "ODZNAKA_ENV_FILE": ""}
            done = subprocess.run(  # noqa: S603 - this very script, with a backend name from the list above
                [sys.executable, __file__, "--one", backend], capture_output=True, text=True, env=env, check=False
            )
            if done.returncode != 0:
                print(done.stdout + done.stderr)
                return 1
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        runs.sort(key=lambda run: run["ratio"])
        found = runs[len(runs) // 2]
        ratios = ", ".join(f"{run['ratio']:.3f}" for run in runs)
        print(
            f"  {backend:<10} {found['seconds']:6.2f} s (file read and checked: {found['upload_seconds']:.2f} s) = "
            f"{found['rate']:,.0f} credentials/s; raw EdDSA {found['raw']:,.0f}/s; ratio {found['ratio']:.3f} "
            f"({'PASS' if found['ratio'] >= TARGET else 'BELOW'}; runs {ratios}); "
            f"peak memory {found['peak_mib']:.0f} MiB (signing process {found['signing_peak_mib']:.0f} MiB, "
            f"{found['handed_over']} batches handed to it); {found['jobs']} e-mail jobs queued"
        )
    if backends == ["sqlite"]:
        print("  postgresql skipped: set ODZNAKA_BENCH_POSTGRES_URL")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
