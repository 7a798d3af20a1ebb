"""What a hostile issuer site costs the verifier: decompression bombs and a hanging (slow loris) key set.

The verifier is the real ASGI app, ``verifier.app.create_app(VerifierSettings(...))``, driven in process through
``httpx.ASGITransport``; it reaches issuers with its own default outgoing client, over real TCP sockets, so its
network code runs exactly as in production. The hostile issuers are small asyncio servers in this process (a
background thread) listening on 127.0.0.1 on free ports. Each scenario runs the verifier in a fresh child
process, so memory figures are per scenario and a runaway verifier can be killed without harm.

Every token sent to the verifier is a well-formed compact JWS with the header ``{"alg":"EdDSA","kid":"k1",
"typ":"JWT"}``, a payload whose ``iss`` is the hostile issuer (trusted by the verifier) and a garbage signature:
the verifier has to fetch the issuer's ``/.well-known/jwks.json`` before it can say anything.

1. Decompression bombs. The key set is served with ``Content-Encoding: gzip, gzip`` (a gzip inside a gzip,
   a few KiB on the wire, inflating to 1 GiB of spaces followed by ``{"keys":[]}``) and with plain ``gzip``
   (4 GiB of spaces; deflate cannot shrink more than about 1032:1, so this one is about 4 MiB on the wire).
   The bombs are built block by block, each block compressed on its own, so building them needs only MiBs.
   Measured: the verifier process's peak RSS growth during the one request (``VmHWM`` after it, reset
   through ``/proc/self/clear_refs`` just before, minus ``VmRSS`` before), the time to answer, the verdict and
   the code of the ``key`` check. The child is watched from outside and killed if its RSS passes 3 GiB
   (reported as "> 3 GiB").
2. Hanging issuer. The key set's response headers come at once (``Content-Length: 2000``), then the body
   trickles at one byte every 2 s: a fetch that only bounds the time between two reads never ends.
   Measured: 64 concurrent ``POST /api/v1/verify`` (min / median / max time to answer, verdicts, how many
   connections the issuer saw); then, in a fresh child, one request alone and a second one started 1 s after
   it (the second one's wait). Requests still unanswered at the cap (120 s by default) are reported as
   "> cap" and cancelled.

Before measuring, each child verifies one token of a well-behaved issuer (an empty key set) so that the code
paths and connection machinery are warm and their memory is not counted against the bomb.

Settings passed to ``VerifierSettings``: the trusted issuers, ``require_https=False`` and the defaults below;
``--set NAME=VALUE`` adds or overrides one (settings the code does not know are ignored).

    .venv/bin/python bench/hostile.py                      # every scenario, as a table (about 5 minutes)
    .venv/bin/python bench/hostile.py --scenario bomb      # only the decompression bombs
    .venv/bin/python bench/hostile.py --scenario slow --json
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import gzip
import json
import os
import platform
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if sys.path[:1] != [str(ROOT)]:
    sys.path.insert(0, str(ROOT))

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

RSS_CAP = 3 * GIB
CAP_SECONDS = 120.0
CHILD_GRACE = 30.0
"""Extra seconds a child gets past its cap to answer and shut down before it is killed."""
POLL_SECONDS = 0.005

BLOCK = MIB
"""Inflated size of one independently compressed block of a bomb."""
JWKS_TAIL = b'{"keys":[]}'
"""What follows the filler: a verifier that read a whole bomb would find a valid (empty) key set."""
TRICKLE_LENGTH = 2000
TRICKLE_INTERVAL = 2.0
CONCURRENCY = 64
SECOND_DELAY = 1.0

DEFAULT_SETTINGS: dict[str, Any] = {"require_https": False}
HEADER = {"alg": "EdDSA", "kid": "k1", "typ": "JWT"}
VERIFIER_BASE_URL = "http://verifier.test"


class BenchError(RuntimeError):
    """Something the measurement relies on did not work; the run exits non-zero."""


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------ bombs


def gzip_of_blocks(filler: bytes, blocks: int, tail: bytes) -> bytes:
    """One gzip member inflating to ``blocks`` MiB of ``filler`` then ``tail``, built one block at a time.

    Each block is deflated by a fresh compressor and ended with a full flush, so it is byte-aligned and refers
    to nothing before it: the compressed block can be repeated verbatim. Only the CRC needs a pass over the
    inflated data, and that pass reuses the same 1 MiB buffer.
    """
    data = filler * (BLOCK // len(filler))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    segment = compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    final = compressor.compress(tail) + compressor.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(data, crc)
    crc = zlib.crc32(tail, crc)
    size = (len(data) * blocks + len(tail)) & 0xFFFFFFFF
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + segment * blocks + final + struct.pack("<II", crc, size)


@dataclass(frozen=True)
class Bomb:
    name: str
    content_encoding: str
    body: bytes
    inflated: int


def build_bombs() -> list[Bomb]:
    inflated_1g = 1024 * BLOCK + len(JWKS_TAIL)
    inner = gzip_of_blocks(b" ", 1024, JWKS_TAIL)
    stacked = gzip.compress(inner, compresslevel=9, mtime=0)
    plain = gzip_of_blocks(b" ", 4096, JWKS_TAIL)
    sample = zlib.decompressobj(zlib.MAX_WBITS | 16)
    if sample.decompress(plain, BLOCK) != b" " * BLOCK:  # the construction inflates as intended
        raise BenchError("the gzip bomb does not inflate to spaces")
    return [
        Bomb("gzip, gzip (stacked)", "gzip, gzip", stacked, inflated_1g),
        Bomb("gzip", "gzip", plain, 4096 * BLOCK + len(JWKS_TAIL)),
    ]


# --------------------------------------------------------------------------------------- hostile issuers

Respond = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class IssuerSites:
    """Issuer sites on 127.0.0.1, each on a free port, served by one background thread's event loop."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="issuers", daemon=True)
        self._servers: list[asyncio.Server] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections: Counter[int] = Counter()
        """Connections accepted, by port."""

    def __enter__(self) -> IssuerSites:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self._loop.close()

    def serve(self, respond: Respond) -> int:
        """Start a site answering every request with ``respond``; return its port."""
        return asyncio.run_coroutine_threadsafe(self._start(respond), self._loop).result(10)

    async def _start(self, respond: Respond) -> int:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections[int(writer.get_extra_info("sockname")[1])] += 1
            self._writers.add(writer)
            try:
                await reader.readuntil(b"\r\n\r\n")
                await respond(reader, writer)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                pass  # the verifier hung up: that is its right
            except asyncio.CancelledError:
                pass  # the site is shutting down; ending quietly keeps asyncio from reporting the cancellation
            finally:
                self._writers.discard(writer)
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self._servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    async def _close(self) -> None:
        for server in self._servers:
            server.close()
        for writer in list(self._writers):
            writer.close()
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def head(content_length: int, extra: str = "") -> bytes:
    return (
        "HTTP/1.1 200 OK\r\nContent-Type: application/jwk-set+json\r\n"
        f"{extra}Content-Length: {content_length}\r\nConnection: close\r\n\r\n"
    ).encode("ascii")


def send_whole(body: bytes, extra: str = "") -> Respond:
    async def respond(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(head(len(body), extra) + body)
        await writer.drain()

    return respond


def trickle(length: int, interval: float) -> Respond:
    """Headers at once, then the body (a valid empty key set, padded) one byte per ``interval`` seconds."""
    body = JWKS_TAIL.ljust(length)

    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(head(len(body)))
        await writer.drain()
        for byte in body:
            await asyncio.sleep(interval)
            if writer.is_closing() or reader.at_eof():
                return
            writer.write(bytes((byte,)))
            await writer.drain()

    return respond


# ------------------------------------------------------------------------------------------ the verifier


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def token(issuer: str) -> str:
    """A well-formed compact JWS naming ``issuer``, with a garbage signature; each call gives a new one."""
    claims = {"iss": issuer, "jti": f"urn:uuid:{uuid.uuid4()}", "sub": "did:example:learner", "nbf": int(time.time())}
    parts = [json.dumps(part, separators=(",", ":")).encode() for part in (HEADER, claims)]
    return ".".join([*(b64url(part) for part in parts), b64url(b"\x5a" * 64)])


def memory(field: str) -> int:
    """``VmRSS`` / ``VmHWM`` of this process in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * KIB
    raise BenchError(f"/proc/self/status has no {field}")


def reset_peak() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux ≥ 4.0); ``False`` if the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def outcome(response: Any) -> dict[str, Any]:
    """Verdict and ``key`` check of one answer of ``POST /api/v1/verify``."""
    found: dict[str, Any] = {"http_status": response.status_code, "verdict": None, "key_code": None}
    try:
        report = response.json()
    except ValueError:
        return found
    if isinstance(report, dict):
        found["verdict"] = report.get("verdict")
        for check in report.get("checks") or []:
            if isinstance(check, dict) and check.get("id") == "key":
                found["key_code"] = check.get("code")
                found["key_message"] = str(check.get("message"))[:300]
    return found


async def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one scenario against a fresh verifier in this process and return its figures."""
    import httpx

    from verifier import app as verifier_app
    from verifier.settings import VerifierSettings

    settings = VerifierSettings(**{**spec["settings"], "trusted_issuers": (spec["evil"], spec["benign"])})
    app = verifier_app.create_app(settings)
    result: dict[str, Any] = {"code": str(Path(verifier_app.__file__).resolve().parent)}
    cap: float = spec["cap"]
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=VERIFIER_BASE_URL, timeout=cap + CHILD_GRACE) as client,
    ):

        async def verify(issuer: str) -> dict[str, Any]:
            return outcome(await client.post("/api/v1/verify", json={"credential": token(issuer)}))

        result["warmup"] = await verify(spec["benign"])
        kind = spec["kind"]
        if kind == "bomb":
            gc.collect()
            rss_before = memory("VmRSS")
            result["peak_reset"] = reset_peak()
            started = time.perf_counter()
            result.update(await verify(spec["evil"]))
            result["seconds"] = time.perf_counter() - started
            result["rss_before"] = rss_before
            result["peak_rss_growth"] = memory("VmHWM") - rss_before
        elif kind == "concurrent":
            started = time.perf_counter()

            async def timed() -> tuple[float, dict[str, Any]]:
                found = await verify(spec["evil"])
                return time.perf_counter() - started, found

            tasks = [asyncio.create_task(timed()) for _ in range(spec["count"])]
            done, pending = await asyncio.wait(tasks, timeout=cap)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            answers = [task.result() for task in done]
            result["times"] = sorted(seconds for seconds, _ in answers)
            result["unanswered"] = len(pending)
            result["verdicts"] = dict(Counter(str(found["verdict"]) for _, found in answers))
            result["key_codes"] = dict(Counter(str(found["key_code"]) for _, found in answers))
        elif kind == "pair":
            started = time.perf_counter()

            async def timed_from(begin: float) -> tuple[float, dict[str, Any]]:
                found = await verify(spec["evil"])
                return time.perf_counter() - begin, found

            first = asyncio.create_task(timed_from(started))
            await asyncio.sleep(spec["delay"])
            second = asyncio.create_task(timed_from(time.perf_counter()))
            remaining = max(0.0, cap - (time.perf_counter() - started))
            _done, pending = await asyncio.wait([first, second], timeout=remaining)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for name, task in (("first", first), ("second", second)):
                if task in pending:
                    result[name] = {"seconds": None}
                else:
                    seconds, found = task.result()
                    result[name] = {"seconds": seconds, **found}
        else:
            raise BenchError(f"unknown scenario {kind!r}")
    return result


# ---------------------------------------------------------------------------------------------- parent


def rss_of(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * KIB
    except OSError:
        pass
    return 0


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run ``spec`` in a fresh verifier process, watched: killed past ``RSS_CAP`` or its cap plus a grace."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    limit = spec["cap"] + CHILD_GRACE
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, cwd=ROOT)  # noqa: S603
        started = time.monotonic()
        peak = 0
        killed = None
        while process.poll() is None:
            rss = rss_of(process.pid)
            peak = max(peak, rss)
            if rss > RSS_CAP:
                killed = "rss"
            elif time.monotonic() - started > limit:
                killed = "time"
            if killed:
                process.kill()
                break
            time.sleep(POLL_SECONDS)
        process.wait()
        elapsed = time.monotonic() - started
        assert process.stdout is not None
        output = process.stdout.read().decode()
        process.stdout.close()
        if killed:
            return {"killed": killed, "killed_after": elapsed, "peak_rss_seen": peak}
        if process.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-3000:]
            raise BenchError(f"the verifier process exited with {process.returncode}:\n{tail}")
    lines = output.strip().splitlines()
    if not lines:
        raise BenchError("the verifier process printed nothing")
    result: dict[str, Any] = json.loads(lines[-1])
    result["peak_rss_seen"] = peak
    return result


def check_warmup(result: dict[str, Any]) -> None:
    warmup = result.get("warmup")
    if warmup and warmup.get("key_code") != "unknown_key":
        raise BenchError(f"the well-behaved issuer did not work as expected: {warmup}")


def bomb_scenarios(sites: IssuerSites, settings: dict[str, Any], cap: float, benign: str) -> list[dict[str, Any]]:
    say("building the bombs ...")
    rows = []
    for bomb in build_bombs():
        port = sites.serve(send_whole(bomb.body, f"Content-Encoding: {bomb.content_encoding}\r\n"))
        evil = f"http://127.0.0.1:{port}/issuers/evil"
        say(f"bomb: Content-Encoding {bomb.content_encoding} ({len(bomb.body):,} bytes -> {bomb.inflated:,}) ...")
        spec = {"kind": "bomb", "evil": evil, "benign": benign, "settings": settings, "cap": cap}
        result = run_child(spec)
        check_warmup(result)
        row: dict[str, Any] = {
            "name": bomb.name,
            "content_encoding": bomb.content_encoding,
            "body_bytes": len(bomb.body),
            "inflated_bytes": bomb.inflated,
            "issuer_connections": sites.connections[port],
        }
        if "killed" in result:
            row.update(
                killed=result["killed"],
                peak_rss_growth=None,
                over_rss_cap=result["killed"] == "rss",
                seconds=None,
                killed_after=result["killed_after"],
                verdict=None,
                key_code=None,
            )
        else:
            row.update(
                peak_rss_growth=result["peak_rss_growth"],
                over_rss_cap=result["peak_rss_growth"] > RSS_CAP,
                rss_before=result["rss_before"],
                peak_reset=result["peak_reset"],
                seconds=result["seconds"],
                http_status=result["http_status"],
                verdict=result["verdict"],
                key_code=result["key_code"],
                key_message=result.get("key_message"),
            )
        rows.append(row)
    return rows


def slow_scenarios(sites: IssuerSites, settings: dict[str, Any], cap: float, benign: str) -> dict[str, Any]:
    port = sites.serve(trickle(TRICKLE_LENGTH, TRICKLE_INTERVAL))
    evil = f"http://127.0.0.1:{port}/issuers/evil"
    base = {"evil": evil, "benign": benign, "settings": settings, "cap": cap}

    say(f"hanging issuer: {CONCURRENCY} concurrent verifications (cap {cap:g} s) ...")
    sites.connections[port] = 0
    result = run_child({**base, "kind": "concurrent", "count": CONCURRENCY})
    check_warmup(result)
    times: list[float] = result.get("times", [])
    unanswered = result.get("unanswered", CONCURRENCY) if "killed" not in result else CONCURRENCY
    everything = [*times, *([float("inf")] * unanswered)]
    concurrent = {
        "requests": CONCURRENCY,
        "answered": len(times),
        "unanswered_at_cap": unanswered,
        "min_s": finite(min(everything)),
        "median_s": finite(statistics.median(everything)),
        "max_s": finite(max(everything)),
        "verdicts": result.get("verdicts", {}),
        "key_codes": result.get("key_codes", {}),
        "issuer_connections": sites.connections[port],
    }

    say(f"hanging issuer: one request, a second {SECOND_DELAY:g} s later (cap {cap:g} s) ...")
    sites.connections[port] = 0
    result = run_child({**base, "kind": "pair", "delay": SECOND_DELAY})
    check_warmup(result)
    pair = {
        "second_delay_s": SECOND_DELAY,
        "first": result.get("first", {"seconds": None}),
        "second": result.get("second", {"seconds": None}),
        "issuer_connections": sites.connections[port],
    }
    return {
        "trickle": {"content_length": TRICKLE_LENGTH, "byte_every_s": TRICKLE_INTERVAL},
        "cap_s": cap,
        "concurrent": concurrent,
        "pair": pair,
    }


def finite(value: float) -> float | None:
    return None if value == float("inf") else value


# ---------------------------------------------------------------------------------------------- output


def size(value: int | None) -> str:
    if value is None:
        return "-"
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if abs(value) >= scale:
            return f"{value / scale:.2f} {unit}"
    return f"{value} B"


def seconds(value: float | None, cap: float) -> str:
    return f"> {cap:g} s" if value is None else f"{value:.2f} s"


def counts(found: dict[str, int]) -> str:
    return ", ".join(f"{name} ×{number}" for name, number in sorted(found.items())) or "-"


def table(results: dict[str, Any]) -> str:
    lines = [
        f"Hostile issuers vs the verifier at {results['code']}",
        f"Python {results['python']}, {results['cpus']} CPUs, settings: "
        + ", ".join(f"{name}={value!r}" for name, value in results["settings"].items()),
    ]
    if "bomb" in results:
        cap = results["cap_s"]
        lines += ["", "Decompression bombs (one request; JWKS of a trusted issuer):"]
        row_format = "  {:<22} {:>10} {:>11} {:>16} {:>14}  {:<14} {}"
        lines.append(
            row_format.format("Content-Encoding", "on wire", "inflates", "peak RSS growth", "answer", "verdict", "key")
        )
        for row in results["bomb"]:
            if row.get("killed") == "rss":
                growth, answer = f"> {size(RSS_CAP)}", f"killed {row['killed_after']:.1f} s"
            elif row.get("killed"):
                growth, answer = "-", f"> {cap + CHILD_GRACE:g} s"
            else:
                growth, answer = size(row["peak_rss_growth"]), seconds(row["seconds"], cap)
            lines.append(
                row_format.format(
                    row["name"],
                    size(row["body_bytes"]),
                    size(row["inflated_bytes"]),
                    growth,
                    answer,
                    str(row["verdict"] or "-"),
                    str(row["key_code"] or "-"),
                )
            )
    if "slow" in results:
        slow = results["slow"]
        cap = slow["cap_s"]
        concurrent, pair = slow["concurrent"], slow["pair"]
        lines += [
            "",
            f"Hanging issuer (headers at once, Content-Length {slow['trickle']['content_length']}, "
            f"then 1 byte every {slow['trickle']['byte_every_s']:g} s; cap {cap:g} s):",
            f"  {concurrent['requests']} concurrent: min {seconds(concurrent['min_s'], cap)}, "
            f"median {seconds(concurrent['median_s'], cap)}, max {seconds(concurrent['max_s'], cap)}; "
            f"answered {concurrent['answered']}, unanswered at cap {concurrent['unanswered_at_cap']}; "
            f"issuer saw {concurrent['issuer_connections']} connection(s)",
            f"    verdicts: {counts(concurrent['verdicts'])}; key: {counts(concurrent['key_codes'])}",
        ]
        for name in ("first", "second"):
            found = pair[name]
            started = "alone" if name == "first" else f"started {pair['second_delay_s']:g} s later"
            verdict = f", {found.get('verdict')} / {found.get('key_code')}" if found.get("seconds") is not None else ""
            lines.append(f"  {name} request ({started}): waited {seconds(found.get('seconds'), cap)}{verdict}")
        lines.append(f"    issuer saw {pair['issuer_connections']} connection(s)")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ main


def setting(text: str) -> tuple[str, Any]:
    name, separator, raw = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError("expected NAME=VALUE")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("bomb", "slow", "all"), default="all")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--cap", type=float, default=CAP_SECONDS, help="seconds a scenario may take (default 120)")
    parser.add_argument(
        "--set",
        dest="settings",
        type=setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a VerifierSettings keyword (value parsed as JSON when it is JSON)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(asyncio.run(child(json.loads(args.child)))))
        return 0

    settings = {**DEFAULT_SETTINGS, **dict(args.settings)}
    import verifier

    results: dict[str, Any] = {
        "code": str(Path(verifier.__file__).resolve().parent),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "settings": settings,
        "cap_s": args.cap,
        "rss_cap_bytes": RSS_CAP,
    }
    try:
        with IssuerSites() as sites:
            benign = f"http://127.0.0.1:{sites.serve(send_whole(JWKS_TAIL))}/issuers/plain"
            if args.scenario in ("bomb", "all"):
                results["bomb"] = bomb_scenarios(sites, settings, args.cap, benign)
            if args.scenario in ("slow", "all"):
                results["slow"] = slow_scenarios(sites, settings, args.cap, benign)
    except BenchError as exc:
        say(f"error: {exc}")
        return 1
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
