"""``make bench``: the performance ratios of PRODUCT.md §7, measured in one run on this machine.

1. Verify in process: ``await Verifier.verify(token)`` (warm key cache, one event loop) over distinct tokens
   ÷ raw signature verifications of a signing input of the same size, for the same algorithm: RS256, ES256
   and EdDSA, each from a provider signing with it.                                          target ≥ 0.7
2. Verify over HTTP: ``POST /api/v1/verify`` on uvicorn (1 worker) ÷ an empty endpoint on the same server,
   worker count, client and request bodies (EdDSA tokens).                                                  target ≥ 0.6
3. Issue: a 10,000-row cohort through ``issue_credentials`` into a fresh SQLite database ÷ raw PyJWT EdDSA
   signatures of a payload of the same size, on one core.                                    target ≥ 0.25
Plus QR rendering: first (uncached) render and cached request time.                          target ≤ 10 ms

Every ratio pairs each measured run with reference runs taken just before and after it (this kind of shared
VM drifts by tens of percent within seconds), and the raw figures behind it are printed too.

It is a measurement, not a test: a ratio below target still exits 0; anything that errors exits non-zero.
Everything it writes lives in one temporary directory; every server it starts is stopped on the way out.

    .venv/bin/python bench/run.py              # the whole benchmark (about a minute on 2 cores)
    .venv/bin/python bench/run.py --profile    # also print a cProfile of the in-process verify loop
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import cProfile
import http.client
import io
import json
import os
import platform
import pstats
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import jwt  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlmodel import col, func, select  # noqa: E402

from credentials import status_list  # noqa: E402
from credentials.baking import bake_png  # noqa: E402
from credentials.keys import NEW_RSA_BITS, SIGNING_ALGORITHMS  # noqa: E402
from issuer import status_lists  # noqa: E402
from issuer.achievements import AchievementIn, create_achievement  # noqa: E402
from issuer.api_keys import Principal  # noqa: E402
from issuer.app import create_app as create_issuer_app  # noqa: E402
from issuer.artwork import artwork_png  # noqa: E402
from issuer.card import og_card_png  # noqa: E402
from issuer.certificate import CertificateStatus, certificate_pdf, content_from_credential  # noqa: E402
from issuer.cli import DEMO_ACHIEVEMENT as ACHIEVEMENT  # noqa: E402
from issuer.context import IssuerContext  # noqa: E402
from issuer.issuance import CredentialRequest, issue_credentials  # noqa: E402
from issuer.migrate import upgrade  # noqa: E402
from issuer.models import AuditEntry, Credential  # noqa: E402
from issuer.providers import create_provider  # noqa: E402
from issuer.qr import qr_png, qr_version  # noqa: E402
from issuer.revocation import revoke  # noqa: E402
from issuer.settings import IssuerSettings  # noqa: E402
from verifier.app import build_verifier  # noqa: E402
from verifier.settings import VerifierSettings  # noqa: E402

try:
    import uvloop
except ImportError:  # pragma: no cover - uvicorn[standard] brings it
    uvloop = None  # type: ignore[assignment]

PASSPHRASE = "bench-only-passphrase-not-a-secret"  # noqa: S105 - throwaway keys in a temp dir
SECRET_KEY = "bench-only-server-secret-3b9e17c0a4d26f85e1c7b0a9d4f36e2a"  # noqa: S105 - throwaway, temp dir
SLUG = "bench"
SCOPES = frozenset({"issue", "revoke", "manage"})

VERIFY_TOKENS = 2_000  # distinct credentials cycled by both verify benchmarks
VERIFY_ROUNDS = 12  # pipeline slices, each bracketed by raw slices; the median paired ratio counts
VERIFY_SLICE = 400  # pipeline verifications per slice (cycling through the distinct tokens)
RAW_SECONDS = 0.2  # per slice of a raw-primitive loop

HTTP_REQUESTS = 3_000  # per target per round
HTTP_ROUNDS = 5  # verify runs, each bracketed by empty-endpoint runs; the median paired ratio counts
HTTP_WARMUP = 300
HTTP_CONCURRENCY = 16

COHORT = 10_000
BATCH = 500
ISSUE_REPEATS = 2  # runs per mode, alternating, each bracketed by raw signing slices

QR_SAMPLES = 20
QR_CACHED_REQUESTS = 200

TARGETS = {"verify_in_process": 0.7, "verify_http": 0.6, "issue": 0.25}
QR_TARGET_MS = 10.0
STATUS_LIST_TARGET_MS = 100.0

FIRST_NAMES = ("Anna", "Józef", "Małgorzata", "Łukasz", "Zofia", "Paweł", "Agnieszka", "Michał", "Ewa", "Krzysztof")
LAST_NAMES = ("Nowak", "Kowalska", "Wiśniewski", "Wójcik", "Kamińska", "Lewandowski", "Zielińska", "Szymański")


class BenchError(RuntimeError):
    """Something the benchmark relies on did not work; the run exits non-zero."""


# ----------------------------------------------------------------------------------------------- helpers


def say(text: str = "") -> None:
    print(text, flush=True)


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}/s"


SPEED_SPREADS: list[tuple[str, float]] = []
"""max ÷ min of repeated reference measurements: how much the machine's speed drifted during the run."""
SERVER_SHARES: list[tuple[str, float]] = []
"""Median share of a core each server used in its HTTP runs; well below 100 % means it was not saturated."""
CPU_SHARES: list[float] = []
"""Share of a core each single-threaded timed loop got (CPU time ÷ wall time); below ~95 % means contention."""


def timed_loop(step: Callable[[], object], seconds: float, chunk: int = 500) -> float:
    """Call ``step`` in chunks until ``seconds`` have passed; return calls per second."""
    done = 0
    cpu_start = time.process_time()
    start = time.perf_counter()
    while True:
        for _ in range(chunk):
            step()
        done += chunk
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            CPU_SHARES.append((time.process_time() - cpu_start) / elapsed)
            return rate(done, elapsed)


def bracketed(measured: Sequence[float], references: Sequence[float]) -> list[float]:
    """``measured[i]`` ÷ the mean of the reference runs just before and after it (``references[i]``, ``[i+1]``).

    Each measured run is compared with the machine's speed at that moment: on a shared VM the speed of a core
    drifts by tens of percent within seconds, which would otherwise dominate a ratio of two separate runs.
    """
    if len(references) != len(measured) + 1:
        raise ValueError("need one more reference run than measured runs")
    return [value / ((references[i] + references[i + 1]) / 2) for i, value in enumerate(measured)]


def spread(values: Sequence[float]) -> float:
    """max ÷ min of repeated measurements of the same thing: how much the machine's speed drifted."""
    return max(values) / min(values)


def load_average() -> str:
    try:
        return "/".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "?"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def filesystem_of(path: Path) -> str:
    """The type of the filesystem ``path`` is on (SQLite fsync cost depends on it), from /proc/mounts."""
    best, kind = "", "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
                best, kind = parts[1], parts[2]
    return kind


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` (Linux), to see whether a server was saturated."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def version_of(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "-"


# ------------------------------------------------------------------------------------------ issuer data


@dataclass
class Issuer:
    ctx: IssuerContext
    principal: Principal
    achievement_id: str
    issuer_id: str
    database_url: str
    data_dir: Path
    public_url: str
    verifier_url: str


def make_issuer(
    data_dir: Path, public_url: str, verifier_url: str, algorithm: str = "EdDSA", slug: str = SLUG
) -> Issuer:
    """A fresh SQLite issuer with one provider signing with ``algorithm`` and one achievement."""
    data_dir.mkdir(parents=True)
    database_url = f"sqlite:///{data_dir / 'issuer.db'}"
    upgrade(database_url)
    settings = IssuerSettings(
        data_dir=data_dir,
        database_url=database_url,
        keys_dir=data_dir / "keys",
        public_url=public_url,
        verifier_url=verifier_url,
        key_passphrase=PASSPHRASE,
        secret_key=SECRET_KEY,
    )
    ctx = IssuerContext.from_settings(settings)
    provider = create_provider(
        ctx,
        slug,
        algorithm=algorithm,
        name="Centrum Szkoleń Benchmark",
        url="https://lublin.eu/",
        email="kontakt@example.org",
        country="PL",
        region="lubelskie",
        actor="bench",
    )
    achievement = create_achievement(ctx, provider, AchievementIn.model_validate(ACHIEVEMENT), "bench")
    return Issuer(
        ctx=ctx,
        principal=Principal(provider, SCOPES, "bench"),
        achievement_id=achievement.id,
        issuer_id=ctx.urls.issuer_id(slug),
        database_url=database_url,
        data_dir=data_dir,
        public_url=public_url,
        verifier_url=verifier_url,
    )


def cohort(achievement_id: str, size: int, tag: str) -> list[CredentialRequest]:
    """``size`` requests as the API would hand them over: distinct learners, names with Polish letters."""
    return [
        CredentialRequest.model_validate(
            {
                "achievement": achievement_id,
                "recipient": {
                    "name": f"{FIRST_NAMES[row % 10]} {LAST_NAMES[row // 10 % len(LAST_NAMES)]}",
                    "email": f"learner{row:05d}.{tag}@example.org",
                },
            }
        )
        for row in range(size)
    ]


def issue_in_batches(issuer: Issuer, requests: Sequence[CredentialRequest], batch: int) -> list[Any]:
    issued: list[Any] = []
    for start in range(0, len(requests), batch):
        issued.extend(issue_credentials(issuer.ctx, issuer.principal, requests[start : start + batch]))
    return issued


# ------------------------------------------------------------------------------- 1. verify in process


@dataclass
class Result:
    name: str
    ratio: float
    target: float
    detail: list[str] = field(default_factory=list)
    info: list[tuple[str, str]] = field(default_factory=list)
    """Extra (name, value) rows for the summary table, with no target of their own."""

    @property
    def verdict(self) -> str:
        return "PASS" if self.ratio >= self.target else "BELOW"


RAW_NAMES = {"RS256": f"RSA-{NEW_RSA_BITS} PKCS#1 v1.5", "ES256": "ECDSA P-256", "EdDSA": "Ed25519"}


def raw_verify(alg: str, signing_input: bytes) -> Callable[[], None]:
    """One raw verification with ``alg``'s primitive (cryptography, a key of the size providers get) of a message
    of the same size (and content) as a token's signing input."""
    message = bytes(signing_input)
    if alg == "EdDSA":
        ed_key = Ed25519PrivateKey.generate()
        ed_signature, ed_public = ed_key.sign(message), ed_key.public_key()
        return lambda: ed_public.verify(ed_signature, message)
    if alg == "ES256":
        ec_key = ec.generate_private_key(ec.SECP256R1())
        ecdsa = ec.ECDSA(hashes.SHA256())
        ec_signature, ec_public = ec_key.sign(message, ecdsa), ec_key.public_key()
        return lambda: ec_public.verify(ec_signature, message, ecdsa)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=NEW_RSA_BITS)
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    rsa_signature, rsa_public = rsa_key.sign(message, pkcs1, sha256), rsa_key.public_key()
    return lambda: rsa_public.verify(rsa_signature, message, pkcs1, sha256)


async def verify_in_process(issuer: Issuer, alg: str, tokens: list[str], profile: bool) -> Result:
    signing_input = tokens[0].rsplit(".", 1)[0].encode("ascii")
    raw_step = raw_verify(alg, signing_input)
    app = create_issuer_app(context=issuer.ctx)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), timeout=10) as client:
        verifier = build_verifier(VerifierSettings(trusted_issuers=(issuer.issuer_id,), require_https=False), client)
        # Warm up: the first call fetches the JWKS from the issuer app in process; then every token once.
        for token in tokens:
            report = await verifier.verify(token)
            if report.verdict != "valid":
                raise BenchError(
                    f"in-process verify: a freshly issued credential is {report.verdict}: "
                    f"{[c.as_dict() for c in report.checks if c.status != 'passed']}"
                )
        # raw, pipeline, raw, pipeline, ..., raw: each pipeline slice is compared with the raw slices around it.
        raw_rates, pipeline_rates = [timed_loop(raw_step, RAW_SECONDS)], []
        for round_number in range(VERIFY_ROUNDS):
            first = round_number * VERIFY_SLICE % len(tokens)
            batch = (tokens + tokens)[first : first + VERIFY_SLICE]
            cpu_start, start = time.process_time(), time.perf_counter()
            for token in batch:
                await verifier.verify(token)
            elapsed = time.perf_counter() - start
            CPU_SHARES.append((time.process_time() - cpu_start) / elapsed)
            pipeline_rates.append(rate(len(batch), elapsed))
            raw_rates.append(timed_loop(raw_step, RAW_SECONDS))
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for token in tokens:
                await verifier.verify(token)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(22)
            say(
                f"  cProfile of one pass over the {len(tokens):,} tokens (sorted by own time; profiler overhead "
                "inflates Python-level calls):"
            )
            for line in out.getvalue().splitlines():
                if line.strip() and "Ordered by" not in line and "List reduced" not in line:
                    say("    " + line)
    SPEED_SPREADS.append((f"raw {RAW_NAMES[alg]} verify", spread(raw_rates)))
    paired = bracketed(pipeline_rates, raw_rates)
    ratio = statistics.median(paired)
    pipeline = statistics.median(pipeline_rates)
    raw = statistics.median((raw_rates[i] + raw_rates[i + 1]) / 2 for i in range(len(paired)))
    return Result(
        f"Verify in process, {alg}",
        ratio,
        TARGETS["verify_in_process"],
        [
            f"tokens: {len(tokens):,} distinct, {len(tokens[0]):,} chars each "
            f"(signing input {len(signing_input):,} bytes); {VERIFY_ROUNDS} slices of {VERIFY_SLICE} "
            f"verifications, each between two {RAW_SECONDS} s slices of raw verifications",
            f"Verifier.verify (warm key cache): median {fmt_rate(statistics.median(pipeline_rates))}, "
            f"best {fmt_rate(max(pipeline_rates))}",
            f"  slices: {', '.join(fmt_rate(r) for r in pipeline_rates)}",
            f"raw {RAW_NAMES[alg] + ' verify:':<32} median {fmt_rate(statistics.median(raw_rates))}, "
            f"best {fmt_rate(max(raw_rates))}",
            f"  slices: {', '.join(fmt_rate(r) for r in raw_rates)}",
            f"paired ratios: {', '.join(f'{r:.3f}' for r in paired)}",
            f"  -> ratio = their median {ratio:.3f} (best ÷ best {max(pipeline_rates) / max(raw_rates):.3f}); "
            f"medians: pipeline {fmt_rate(pipeline)} = {1e6 / pipeline:.1f} µs, "
            f"raw {fmt_rate(raw)} = {1e6 / raw:.1f} µs per verification",
        ],
    )


async def verify_in_process_with(alg: str, main: Issuer, tokens: list[str], tmp: Path, profile: bool) -> Result:
    """Verify in process for ``alg``: the main (EdDSA) issuer's tokens, or those of an issuer of its own (the
    profile, when asked for, is of the EdDSA run only)."""
    if alg == "EdDSA":
        return await verify_in_process(main, alg, tokens, profile)
    issuer = make_issuer(tmp / f"verify-{alg}", main.public_url, main.verifier_url, alg, f"bench-{alg.lower()}")
    try:
        issued = issue_credentials(issuer.ctx, issuer.principal, cohort(issuer.achievement_id, VERIFY_TOKENS, alg))
        return await verify_in_process(issuer, alg, [credential.record.jwt for credential in issued], False)
    finally:
        issuer.ctx.close()


# --------------------------------------------------------------------------------- 2. verify over HTTP


class Server:
    """A uvicorn subprocess on 127.0.0.1:<port>, 1 worker, no access log; stopped by :meth:`stop`."""

    def __init__(
        self, name: str, app: str, port: int, env: dict[str, str], log_dir: Path, extra: Sequence[str] = ()
    ) -> None:
        self.name, self.port = name, port
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            *extra,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text("utf-8", "replace")[-2000:]
        return ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    connection.close()
                    return
                connection.close()
            except OSError:
                pass
            time.sleep(0.1)
        raise BenchError(f"{self.name} server did not become ready in {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


@dataclass
class LoadRun:
    requests: int
    seconds: float
    server_cpu: float | None  # share of one core the server used during the run
    client_cpu: float  # share of one core this (load-generating) process used

    @property
    def rps(self) -> float:
        return rate(self.requests, self.seconds)


def post_requests(port: int, tokens: Sequence[str], count: int) -> list[bytes]:
    """``count`` raw HTTP/1.1 keep-alive POSTs of ``{"credential": token}``, cycling through ``tokens``."""
    bodies = [json.dumps({"credential": token}).encode() for token in tokens]
    return [
        b"POST /api/v1/verify HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
        b"Accept: application/json\r\nContent-Length: %d\r\n\r\n%s" % (port, len(body), body)
        for body in (bodies[i % len(bodies)] for i in range(count))
    ]


async def load(port: int, requests: Sequence[bytes], concurrency: int, expect: bytes, pid: int) -> LoadRun:
    """Send ``requests`` over ``concurrency`` keep-alive connections, each awaiting its answer before the next.

    A minimal HTTP/1.1 client on asyncio streams (uvloop): far cheaper per request than httpx, so the
    server, not this process, is what saturates. Every answer must be 200 and contain ``expect``.
    """
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(concurrency)]
    next_index = 0
    problems: list[str] = []

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal next_index
        while next_index < len(requests) and not problems:
            request = requests[next_index]
            next_index += 1
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, _, header_block = head.partition(b"\r\n")
            length = None
            for line in header_block.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length is None:
                problems.append(f"no Content-Length in {head[:200]!r}")
                return
            body = await reader.readexactly(length)
            if not status_line.startswith(b"HTTP/1.1 200") or expect not in body:
                problems.append(f"{status_line.decode(errors='replace')}: {body[:300].decode(errors='replace')}")

    server_before = process_cpu_seconds(pid)
    client_before = time.process_time()
    start = time.perf_counter()
    try:
        await asyncio.gather(*(worker(reader, writer) for reader, writer in connections))
    finally:
        elapsed = time.perf_counter() - start
        client_cpu = (time.process_time() - client_before) / elapsed
        server_after = process_cpu_seconds(pid)
        for _, writer in connections:
            writer.close()
        for _, writer in connections:
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()
    if problems:
        raise BenchError(f"HTTP load on port {port}: unexpected answer: {problems[0]}")
    server_cpu = None
    if server_before is not None and server_after is not None:
        server_cpu = (server_after - server_before) / elapsed
    return LoadRun(len(requests), elapsed, server_cpu, client_cpu)


async def verify_over_http(verifier: Server, empty: Server, tokens: list[str]) -> Result:
    expect = b'"verdict":"valid"'
    servers = {"empty": empty, "verify": verifier}
    warm = {name: post_requests(server.port, tokens, HTTP_WARMUP) for name, server in servers.items()}
    timed = {name: post_requests(server.port, tokens, HTTP_REQUESTS) for name, server in servers.items()}

    async def run(name: str, requests: Sequence[bytes]) -> LoadRun:
        server = servers[name]
        return await load(server.port, requests, HTTP_CONCURRENCY, expect, server.process.pid)

    for name in servers:  # the verifier's first request fetches the JWKS over HTTP
        await run(name, warm[name])
    # empty, verify, empty, verify, ..., empty: each verify run is compared with the empty runs around it.
    runs: dict[str, list[LoadRun]] = {"empty": [await run("empty", timed["empty"])], "verify": []}
    for _ in range(HTTP_ROUNDS):
        runs["verify"].append(await run("verify", timed["verify"]))
        runs["empty"].append(await run("empty", timed["empty"]))
    rates = {name: [found.rps for found in found_runs] for name, found_runs in runs.items()}
    paired = bracketed(rates["verify"], rates["empty"])
    ratio = statistics.median(paired)
    SPEED_SPREADS.append(("empty endpoint", spread(rates["empty"])))
    for name, found_runs in runs.items():
        shares = [found.server_cpu for found in found_runs if found.server_cpu is not None]
        if shares:
            SERVER_SHARES.append((name, statistics.median(shares)))

    def line(name: str) -> str:
        found = runs[name]
        server_cpu = [f"{r.server_cpu:.0%}" for r in found if r.server_cpu is not None]
        return (
            f"{name:>6} POST /api/v1/verify: median {fmt_rate(statistics.median(rates[name]))}   "
            f"runs: {', '.join(fmt_rate(r) for r in rates[name])}\n"
            f"         server CPU {'/'.join(server_cpu) or '?'}, client CPU "
            f"{'/'.join(f'{r.client_cpu:.0%}' for r in found)}, mean latency "
            f"{statistics.median(1000 * r.seconds * HTTP_CONCURRENCY / r.requests for r in found):.2f} ms"
        )

    return Result(
        "Verify over HTTP",
        ratio,
        TARGETS["verify_http"],
        [
            f"uvicorn, 1 worker each, 127.0.0.1; client: raw HTTP/1.1 keep-alive on asyncio"
            f"{'+uvloop' if uvloop else ''}, {HTTP_CONCURRENCY} connections, this process",
            f"{HTTP_REQUESTS:,} requests per run ({len(tokens):,} distinct tokens, bodies "
            f"{len(json.dumps({'credential': tokens[0]})):,} bytes), {HTTP_WARMUP} warm-up requests each; "
            f"{HTTP_ROUNDS} verify runs, each between two empty-endpoint runs",
            *line("verify").split("\n"),
            *line("empty").split("\n"),
            f"paired ratios: {', '.join(f'{r:.3f}' for r in paired)}",
            f"  -> ratio = their median {ratio:.3f} (best ÷ best {max(rates['verify']) / max(rates['empty']):.3f}); "
            f"medians: verify {fmt_rate(statistics.median(rates['verify']))} = "
            f"{1e6 / statistics.median(rates['verify']):.0f} µs, empty {fmt_rate(statistics.median(rates['empty']))} = "
            f"{1e6 / statistics.median(rates['empty']):.0f} µs per request",
        ],
    )


def qr_over_http(issuer_server: Server, credential_ids: Sequence[str]) -> tuple[list[str], float]:
    """Time GET /credentials/<id>/qr.png on the running issuer: first request per credential, then cached."""
    connection = http.client.HTTPConnection("127.0.0.1", issuer_server.port, timeout=10)

    def get(credential_id: str) -> float:
        start = time.perf_counter()
        connection.request("GET", f"/credentials/{credential_id}/qr.png")
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200 or not body.startswith(b"\x89PNG"):
            raise BenchError(f"GET qr.png answered {response.status}")
        return elapsed * 1000

    try:
        first = [get(credential_id) for credential_id in credential_ids[:QR_SAMPLES]]
        cached = [get(credential_ids[0]) for _ in range(QR_CACHED_REQUESTS)]
    finally:
        connection.close()
    lines = [
        f"issuer server, GET /credentials/<id>/qr.png: first request median {statistics.median(first):.2f} ms "
        f"(max {max(first):.2f}, {len(first)} credentials); cached median {statistics.median(cached):.2f} ms "
        f"(p95 {sorted(cached)[int(0.95 * len(cached))]:.2f}, {len(cached)} requests)",
    ]
    return lines, statistics.median(cached)


# --------------------------------------------------------------------------------------------- 3. issue


def raw_pyjwt_sign(payload: dict[str, Any]) -> Callable[[], str]:
    """One raw PyJWT EdDSA signature of ``payload`` (a real credential's claims, so the same size)."""
    private_key = Ed25519PrivateKey.generate()
    return lambda: jwt.encode(payload, private_key, algorithm="EdDSA")


def issuance(tmp: Path, public_url: str, verifier_url: str, sample_payload: dict[str, Any]) -> Result:
    """Each mode twice on a fresh database, alternating; every run between two slices of raw signing."""
    raw_step = raw_pyjwt_sign(sample_payload)

    slices: list[float] = []

    def raw_slice() -> float:
        found = [timed_loop(raw_step, RAW_SECONDS, chunk=100) for _ in range(3)]
        slices.extend(found)
        return statistics.median(found)

    modes = ["one call", f"batches of {BATCH}"]
    raw_rates = [raw_slice()]
    runs: list[tuple[str, float]] = []  # (mode, seconds), in order
    build_seconds = 0.0
    payload: dict[str, Any] = sample_payload
    for run_number, mode in enumerate(modes * ISSUE_REPEATS):
        issuer = make_issuer(tmp / f"issue-{run_number}", public_url, verifier_url)
        try:
            start = time.perf_counter()
            requests = cohort(issuer.achievement_id, COHORT, f"c{run_number}")
            build_seconds = time.perf_counter() - start
            start = time.perf_counter()
            if mode == "one call":
                issued = issue_credentials(issuer.ctx, issuer.principal, requests)
            else:
                issued = issue_in_batches(issuer, requests, BATCH)
            runs.append((mode, time.perf_counter() - start))
            if len(issued) != COHORT:
                raise BenchError(f"issuance ({mode}) returned {len(issued)} credentials instead of {COHORT}")
            with issuer.ctx.db.read() as session:
                stored = session.execute(select(func.count()).select_from(Credential)).scalar_one()
                logged = session.execute(
                    select(func.count()).select_from(AuditEntry).where(col(AuditEntry.action) == "credential.issued")
                ).scalar_one()
            if stored != COHORT or logged != COHORT:
                raise BenchError(
                    f"issuance ({mode}) stored {stored} credentials and {logged} audit entries, not {COHORT}"
                )
            payload = json.loads(b64url_decode(issued[0].record.jwt.split(".")[1]))
        finally:
            issuer.ctx.close()
        raw_rates.append(raw_slice())
    SPEED_SPREADS.append(("raw PyJWT sign", spread(slices)))
    paired = bracketed([rate(COHORT, seconds) for _, seconds in runs], raw_rates)
    by_mode = {mode: [i for i, (run_mode, _) in enumerate(runs) if run_mode == mode] for mode in modes}
    ratio_of_mode = {mode: statistics.median(paired[i] for i in found) for mode, found in by_mode.items()}
    best_mode = max(modes, key=ratio_of_mode.__getitem__)
    seconds_of_mode = statistics.median(runs[i][1] for i in by_mode[best_mode])
    raw_of_mode = statistics.median((raw_rates[i] + raw_rates[i + 1]) / 2 for i in by_mode[best_mode])

    def size(claims: dict[str, Any]) -> int:
        return len(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())

    run_lines = [
        f"  run {i + 1}: {mode:<15} {seconds:6.2f} s = {fmt_rate(rate(COHORT, seconds)):>8}   raw signing around it "
        f"{fmt_rate(raw_rates[i])} / {fmt_rate(raw_rates[i + 1])}   paired ratio {paired[i]:.3f}"
        for i, (mode, seconds) in enumerate(runs)
    ]
    return Result(
        "Issue (10,000-row cohort)",
        ratio_of_mode[best_mode],
        TARGETS["issue"],
        [
            f"issue_credentials, {COHORT:,} rows per run, each on a fresh SQLite DB (WAL, synchronous=FULL); "
            f"raw = jwt.encode(EdDSA) on one core, payload {size(sample_payload):,} bytes of JSON "
            f"(issued ones: {size(payload):,}), median of 3 × {RAW_SECONDS} s slices before and after each run",
            *run_lines,
            "  per mode, median of its paired ratios: "
            + ", ".join(f"{mode} {ratio:.3f}" for mode, ratio in ratio_of_mode.items()),
            f"  -> {best_mode} is faster: {COHORT:,} rows in {seconds_of_mode:.2f} s = "
            f"{fmt_rate(rate(COHORT, seconds_of_mode))} vs raw {fmt_rate(raw_of_mode)} (medians); "
            f"ratio {ratio_of_mode[best_mode]:.3f}",
            f"per credential: issuance {1e6 * seconds_of_mode / COHORT:.0f} µs, PyJWT signature alone "
            f"{1e6 / raw_of_mode:.0f} µs "
            f"(building the {COHORT:,} CredentialRequest models beforehand, not counted: {build_seconds:.2f} s)",
        ],
        info=[(f"Issue: {COHORT:,} rows, {best_mode} (s)", f"{seconds_of_mode:.2f}")],
    )


def qr_in_process(verify_urls: Sequence[str]) -> tuple[list[str], float]:
    uncached = []
    for url in verify_urls[:QR_SAMPLES]:
        start = time.perf_counter()
        png = qr_png.__wrapped__(url)
        uncached.append((time.perf_counter() - start) * 1000)
        if not png.startswith(b"\x89PNG"):
            raise BenchError("qr_png did not return a PNG")
    qr_png.cache_clear()
    url = verify_urls[0]
    start = time.perf_counter()
    qr_png(url)
    first = (time.perf_counter() - start) * 1000
    calls = 10_000
    start = time.perf_counter()
    for _ in range(calls):
        qr_png(url)
    cached_us = (time.perf_counter() - start) / calls * 1e6
    return [
        f"QR link: {url} ({len(url)} bytes, version {qr_version(url)})",
        f"qr_png uncached (__wrapped__): median {statistics.median(uncached):.2f} ms, "
        f"max {max(uncached):.2f} ms over {len(uncached)} URLs; first call after cache_clear {first:.2f} ms; "
        f"cached call {cached_us:.2f} µs",
    ], statistics.median(uncached)


ARTEFACT_SAMPLES = 5


def artefact_timings(issuer: Issuer, credential_ids: Sequence[str]) -> tuple[list[str], dict[str, float]]:
    """What the learner's downloads cost to make, uncached: the badge artwork, the baked PNG, the Open Graph
    card and the PDF certificate (the routes keep what they made; these are the first reader's cost)."""
    ctx = issuer.ctx
    samples: dict[str, list[float]] = {"artwork PNG": [], "baked PNG": [], "card PNG": [], "certificate PDF": []}
    for credential_id in credential_ids[:ARTEFACT_SAMPLES]:
        with ctx.db.read() as session:
            record = session.get(Credential, credential_id)
        assert record is not None
        claims = record.claims()
        names = (f"{claims['credentialSubject']['achievement']['id']}#{credential_id}", "Bench", "Provider")
        start = time.perf_counter()
        badge = artwork_png.__wrapped__(*names)
        samples["artwork PNG"].append(time.perf_counter() - start)
        start = time.perf_counter()
        bake_png(badge, record.jwt)
        samples["baked PNG"].append(time.perf_counter() - start)
        start = time.perf_counter()
        og_card_png(
            achievement_id=names[0],
            achievement_name=names[1],
            provider_name=names[2],
            issued_on=datetime.now(UTC).date(),
            lang="pl",
            badge_png=badge,
        )
        samples["card PNG"].append(time.perf_counter() - start)
        content = content_from_credential(
            claims,
            lang="pl",
            status=CertificateStatus("valid", datetime.now(UTC).date()),
            verify_url=ctx.urls.short(record.id),
            jws=record.jwt,
            badge_png=badge,
        )
        start = time.perf_counter()
        pdf = certificate_pdf(content)
        samples["certificate PDF"].append(time.perf_counter() - start)
        if not pdf.startswith(b"%PDF"):
            raise BenchError("certificate_pdf did not return a PDF")
    medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    lines = [
        f"{name}: median {value:.1f} ms over {len(samples[name])} credentials (uncached)"
        for name, value in medians.items()
    ]
    return lines, medians


def status_list_timings(issuer: Issuer, credential_ids: Sequence[str]) -> tuple[list[str], float]:
    """Regenerating and signing a 131,072-entry list, alone and inside a whole revocation transaction."""
    provider = issuer.principal.provider
    now = datetime.now(UTC)
    with issuer.ctx.db.read() as session:
        _, signer = issuer.ctx.signer_for(session, provider, now)
    revoked = random.Random(7).sample(  # noqa: S311 - which bits are set only shapes the test data
        range(status_list.MIN_LENGTH), 1_000
    )
    regenerate = []
    for _ in range(30):
        start = time.perf_counter()
        status_lists.signed_list(issuer.ctx, provider, 1, status_list.MIN_LENGTH, revoked, signer)
        regenerate.append((time.perf_counter() - start) * 1000)
    revocations = []
    for credential_id in credential_ids[:20]:
        start = time.perf_counter()
        revoke(issuer.ctx, provider, credential_id, "benchmark", "bench")
        revocations.append((time.perf_counter() - start) * 1000)
    return [
        f"regenerate + sign a {status_list.MIN_LENGTH:,}-entry list with 1,000 revoked: "
        f"median {statistics.median(regenerate):.2f} ms, max {max(regenerate):.2f} ms over {len(regenerate)} runs",
        f"whole revocation (one transaction: mark, re-sign the list, audit, commit): "
        f"median {statistics.median(revocations):.2f} ms, max {max(revocations):.2f} ms over {len(revocations)}",
    ], statistics.median(regenerate)


# ----------------------------------------------------------------------------------------------- main


def server_env(issuer: Issuer, trusted: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("ISSUER_", "VERIFIER_"))}
    env["ODZNAKA_ENV_FILE"] = ""  # never a developer's .env
    env.update(
        ISSUER_DATA_DIR=str(issuer.data_dir),
        ISSUER_DATABASE_URL=issuer.database_url,
        ISSUER_KEYS_DIR=str(issuer.data_dir / "keys"),
        ISSUER_KEY_PASSPHRASE=PASSPHRASE,
        ISSUER_SECRET_KEY=SECRET_KEY,
        ISSUER_PUBLIC_URL=issuer.public_url,
        ISSUER_VERIFIER_URL=issuer.verifier_url,
        VERIFIER_PUBLIC_URL=issuer.verifier_url,
        VERIFIER_TRUSTED_ISSUERS=trusted,
        VERIFIER_REQUIRE_HTTPS="false",  # the bench's issuer is plain http on 127.0.0.1
        PYTHONUNBUFFERED="1",
    )
    return env


@contextlib.contextmanager
def servers(issuer: Issuer, ports: dict[str, int], log_dir: Path) -> Iterator[dict[str, Server]]:
    env = server_env(issuer, issuer.issuer_id)
    started: dict[str, Server] = {}
    try:
        factory, app_dir = ["--factory"], ["--app-dir", str(BENCH_DIR)]
        started["issuer"] = Server("issuer", "issuer.app:create_app", ports["issuer"], env, log_dir, factory)
        started["verifier"] = Server("verifier", "verifier.app:create_app", ports["verifier"], env, log_dir, factory)
        started["empty"] = Server("empty", "empty_app:app", ports["empty"], env, log_dir, app_dir)
        for server in started.values():
            server.wait_ready()
        yield started
    finally:
        for server in started.values():
            server.stop()


def header(tmp: Path) -> None:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    say("Odznaka benchmark (PRODUCT.md §7) — ratios measured in one run on this machine")
    say(f"machine: {platform.node()}  {platform.system()} {platform.release()} {platform.machine()}")
    say(f"cpu:     {cpu_model()}; os.cpu_count()={os.cpu_count()}, usable={affinity}")
    say(f"python:  {platform.python_implementation()} {platform.python_version()} ({sys.executable})")
    say(
        "libs:    "
        + ", ".join(
            f"{name} {version_of(name)}"
            for name in (
                "cryptography",
                "PyJWT",
                "fastapi",
                "starlette",
                "uvicorn",
                "uvloop",
                "httptools",
                "jsonschema-rs",
                "SQLAlchemy",
                "qrcode",
            )
        )
    )
    say(f"temp:    {tmp} ({filesystem_of(tmp)})")
    say(f"load:    {load_average()} (1/5/15 min) at start")


def section(title: str) -> None:
    say()
    say(title)
    say("-" * len(title))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the in-process verify loop")
    args = parser.parse_args()
    began = time.perf_counter()
    results: list[Result] = []
    qr_lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="odznaka-bench-") as tmp_name:
        tmp = Path(tmp_name)
        header(tmp)

        # Ports first: the issuer's public URL (hence every token's issuer id) names the issuer server's port.
        ports = {name: free_port() for name in ("issuer", "verifier", "empty")}
        public_url, verifier_url = f"http://127.0.0.1:{ports['issuer']}", f"http://127.0.0.1:{ports['verifier']}"
        issuer = make_issuer(tmp / "verify-data", public_url, verifier_url)
        try:
            start = time.perf_counter()
            issued = issue_credentials(issuer.ctx, issuer.principal, cohort(issuer.achievement_id, VERIFY_TOKENS, "v"))
            tokens = [credential.record.jwt for credential in issued]
            sample_payload = json.loads(b64url_decode(tokens[0].split(".")[1]))
            if len(set(tokens)) != VERIFY_TOKENS:
                raise BenchError("the issued tokens are not distinct")
            say(
                f"setup:   {VERIFY_TOKENS:,} credentials issued for the verify benchmarks in "
                f"{time.perf_counter() - start:.2f} s; issuer id {issuer.issuer_id}"
            )

            runner = asyncio.Runner(loop_factory=uvloop.new_event_loop if uvloop else None)
            with runner:
                for alg in SIGNING_ALGORITHMS:
                    section(f"1. Verify in process, {alg}")
                    results.append(runner.run(verify_in_process_with(alg, issuer, tokens, tmp, args.profile)))
                    for line in results[-1].detail:
                        say("  " + line)
                    say(f"  ratio {results[-1].ratio:.3f} (target ≥ {results[-1].target})")

                section("2. Verify over HTTP")
                with servers(issuer, ports, tmp) as started:
                    results.append(runner.run(verify_over_http(started["verifier"], started["empty"], tokens)))
                    for line in results[-1].detail:
                        say("  " + line)
                    say(f"  ratio {results[-1].ratio:.3f} (target ≥ {results[-1].target})")
                    qr_http_lines, qr_cached_ms = qr_over_http(started["issuer"], [c.record.id for c in issued])
            verify_urls = [issuer.ctx.urls.short(c.record.id) for c in issued]
            section("Learner's downloads")
            artefact_lines, artefact_ms = artefact_timings(issuer, [c.record.id for c in issued])
            for line in artefact_lines:
                say("  " + line)
            section("Status list")
            status_lines, status_ms = status_list_timings(issuer, [c.record.id for c in issued])
            for line in status_lines:
                say("  " + line)
        finally:
            issuer.ctx.close()

        section("3. Issue")
        results.append(issuance(tmp, public_url, verifier_url, sample_payload))
        for line in results[-1].detail:
            say("  " + line)
        say(f"  ratio {results[-1].ratio:.3f} (target ≥ {results[-1].target})")

        section("QR codes")
        qr_lines, qr_uncached_ms = qr_in_process(verify_urls)
        for line in [*qr_lines, *qr_http_lines]:
            say("  " + line)

    say()
    say("Summary")
    say("-------")
    rows = [("measure", "value", "target", "result")]
    for result in results:
        rows.append((result.name, f"{result.ratio:.3f}", f"≥ {result.target}", result.verdict))
        rows.extend((name, value, "(info)", "-") for name, value in result.info)
    rows.append(
        (
            "QR request, cached (ms)",
            f"{qr_cached_ms:.2f}",
            f"≤ {QR_TARGET_MS:g}",
            "PASS" if qr_cached_ms <= QR_TARGET_MS else "BELOW",
        )
    )
    rows.append(("QR render, uncached (ms)", f"{qr_uncached_ms:.2f}", "(info)", "-"))
    rows.extend((f"{name}, uncached (ms)", f"{value:.1f}", "(info)", "-") for name, value in artefact_ms.items())
    rows.append(
        (
            "Status list re-sign (ms)",
            f"{status_ms:.2f}",
            f"< {STATUS_LIST_TARGET_MS:g}",
            "PASS" if status_ms < STATUS_LIST_TARGET_MS else "BELOW",
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for number, row in enumerate(rows):
        say("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if number == 0:
            say("  " + "  ".join("-" * width for width in widths))
    say()
    share = statistics.median(CPU_SHARES) if CPU_SHARES else 1.0
    say(
        f"contention check: single-threaded timed loops got a median {share:.0%} of a core "
        f"(min {min(CPU_SHARES, default=1.0):.0%}); load average now {load_average()}"
    )
    if SERVER_SHARES:
        shares = ", ".join(f"{name} {value:.0%}" for name, value in SERVER_SHARES)
        say(f"                  share of a core the HTTP servers used (median of runs): {shares}")
    if SPEED_SPREADS:
        spreads = ", ".join(f"{name} ×{value:.2f}" for name, value in SPEED_SPREADS)
        say(f"                  speed drift, fastest ÷ slowest reference run: {spreads}")
    least_server = min((value for _, value in SERVER_SHARES), default=1.0)
    most_drift = max((value for _, value in SPEED_SPREADS), default=1.0)
    if share < 0.95 or min(CPU_SHARES, default=1.0) < 0.8 or least_server < 0.85 or most_drift > 1.3:
        say(
            "WARNING: the machine was busy or its speed drifted during this run (other work on the host); "
            "the paired ratios compensate for part of it, but rerun on an idle machine for firm numbers."
        )
    say(f"total time {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
