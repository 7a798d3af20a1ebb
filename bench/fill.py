"""Issue latency against how full the provider's status list is: empty, half full and 95 % full.

Each fullness gets a fresh SQLite database (WAL, ``synchronous=FULL``) with one provider and one achievement.
The list is filled through the issuer's own allocator (``status_lists.allocate``), with a stored credential row
for every index handed out, exactly as issuance leaves them; then credentials are issued one request at a time
through the provider API (``POST /api/v1/credentials`` on the app, in process), and the latency of each request
is measured. The first request after filling is reported on its own (it may build the list's pool of free
indexes), then the median and 90th percentile of the rest.

    .venv/bin/python bench/fill.py              # SQLite; PostgreSQL too when ODZNAKA_BENCH_POSTGRES_URL is set
    .venv/bin/python bench/fill.py --requests 50
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if sys.path[:1] != [str(ROOT)]:
    sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from issuer import repository, status_lists  # noqa: E402
from issuer.api_keys import SCOPES, create_api_key  # noqa: E402
from issuer.app import create_app  # noqa: E402
from issuer.context import IssuerContext  # noqa: E402
from issuer.migrate import upgrade  # noqa: E402
from issuer.models import Credential, table_of  # noqa: E402
from issuer.providers import create_provider  # noqa: E402
from issuer.settings import IssuerSettings  # noqa: E402

PASSPHRASE = "bench-only-passphrase-not-a-secret"  # noqa: S105 - throwaway keys in a temp dir
SECRET_KEY = "bench-only-server-secret-3b9e17c0a4d26f85e1c7b0a9d4f36e2a"  # noqa: S105 - throwaway, temp dir
PUBLIC_URL = "http://issuer.bench"
LENGTH = 131_072
FULLNESS = (("empty", 0.0), ("half full", 0.5), ("95 % full", 0.95))
ACHIEVEMENT = {
    "name": "Analiza danych w Excelu i Power BI",
    "description": "Uczestnik przygotowuje, analizuje i wizualizuje dane biznesowe.",
    "criteria": {"narrative": "Ukończenie kursu i zaliczenie projektu końcowego."},
}


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'issuer.db'}"
        return
    admin_url = os.environ["ODZNAKA_BENCH_POSTGRES_URL"]
    name = f"odznaka_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fill(ctx: IssuerContext, slug: str, achievement_id: str, count: int) -> float:
    """Hand out ``count`` indexes of the provider's first list and store a credential row for each; seconds."""
    started = time.perf_counter()
    with ctx.db.write() as session:
        provider = repository.provider_by_slug(session, slug)
        assert provider is not None and provider.id is not None
        _, signer = ctx.signer_for(session, provider, datetime.now(UTC))
        now = datetime.now(UTC)
        slots = status_lists.allocate(ctx, session, provider, count, signer) if count else []
        for start in range(0, len(slots), 20_000):
            rows = [
                {
                    "id": str(uuid.uuid4()),
                    "provider_id": provider.id,
                    "achievement_id": achievement_id,
                    "kid": "filled",
                    "jwt": "filled.by.bench",
                    "recipient_key": uuid.uuid4().hex + uuid.uuid4().hex,
                    "issued_at": now,
                    "status_list_id": listed.id,
                    "status_index": index,
                }
                for listed, index in slots[start : start + 20_000]
            ]
            session.execute(insert(table_of(Credential)), rows)
    return time.perf_counter() - started


def measure(kind: str, label: str, share: float, requests: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="odznaka-fill-") as tmp, database(kind, Path(tmp)) as url:
        settings = IssuerSettings(
            data_dir=Path(tmp),
            database_url=url,
            public_url=PUBLIC_URL,
            verifier_url="http://verifier.bench",
            key_passphrase=PASSPHRASE,
            secret_key=SECRET_KEY,
            key_kdf_rounds=1,
        )
        upgrade(settings.sqlalchemy_url)
        ctx = IssuerContext.from_settings(settings)
        try:
            # EdDSA, so that the figures show the database's share, not RSA signing (about 2 ms more each).
            create_provider(
                ctx, "bench", name="Centrum Szkoleń Benchmark", country="PL", algorithm="EdDSA", actor="bench"
            )
            key = create_api_key(ctx, "bench", list(SCOPES))
            headers = {"Authorization": f"Bearer {key}"}
            with TestClient(create_app(context=ctx), base_url=PUBLIC_URL) as client:
                made = client.post("/api/v1/achievements", json=ACHIEVEMENT, headers=headers)
                assert made.status_code == 201, made.text
                achievement = made.json()["id"]
                filled = int(LENGTH * share)
                fill_seconds = fill(ctx, "bench", achievement.rsplit("/", 1)[-1], filled)
                latencies = []
                for n in range(requests + 1):
                    body = {"achievement": achievement, "recipient": {"name": "Uczestnik", "email": f"u{n}@bench.pl"}}
                    started = time.perf_counter()
                    response = client.post("/api/v1/credentials", json=body, headers=headers)
                    latencies.append((time.perf_counter() - started) * 1000)
                    if response.status_code != 201:
                        raise SystemExit(f"issuing failed: {response.status_code} {response.text[:300]}")
        finally:
            ctx.close()
    rest = sorted(latencies[1:])
    return {
        "database": kind,
        "list": label,
        "filled": filled,
        "fill_s": fill_seconds,
        "first_ms": latencies[0],
        "median_ms": statistics.median(rest),
        "p90_ms": rest[int(0.9 * (len(rest) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=30, help="issue requests measured per fullness")
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgresql"] if os.environ.get("ODZNAKA_BENCH_POSTGRES_URL") else [])
    print("Issue latency by status-list fullness (POST /api/v1/credentials in process, one request at a time)")
    print(f"  list of {LENGTH:,} entries; {args.requests} requests after the first, per fullness\n")
    print(f"  {'database':10}  {'list':9}  {'indexes used':>12}  {'first':>9}  {'median':>9}  {'p90':>9}")
    for kind in kinds:
        for label, share in FULLNESS:
            found = measure(kind, label, share, args.requests)
            print(
                f"  {found['database']:10}  {found['list']:9}  {found['filled']:>12,}  {found['first_ms']:7.1f}ms"
                f"  {found['median_ms']:7.1f}ms  {found['p90_ms']:7.1f}ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
