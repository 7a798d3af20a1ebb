"""What the verifier's outgoing fetches withstand, through the verifier as a whole.

- Compression: it asks for ``identity``; a stacked (``gzip, gzip``) or unknown (``br``) coding is refused
  before a byte is read; a one-layer gzip bomb is cut off at the size cap with bounded memory; a small
  compressed key set still works.
- Time: a trickling issuer on a real socket costs one connection and one deadline, however many requests
  wait on it, and is then remembered as failing; an expired copy answers within the stale wait (never *valid*).
- Failure memory: a failed fetch is not repeated within ``failure_ttl``, not even for a link on the same site.
- Links: only ``{base}/credentials/{id}`` on a trusted site is fetched; an upstream HTTP status is not echoed.
- Addresses: only public addresses are contacted, unless configured (IP literals, ``allowed_addresses``).
- HTTPS: required by default; an http issuer is then never contacted.

Only the network edge is replaced: an httpx transport, or a real socket server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import gzip
import ipaddress
import json
import struct
import threading
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import ISSUER_URL, VERIFIER_URL, ProviderFixture, check, issue, payload_of, verify
from verifier.app import create_app as create_verifier_app
from verifier.network import AddressPolicy
from verifier.settings import VerifierSettings
from verifier.status import LIST_MAX_BYTES
from verifier.trust import JWKS_MAX_BYTES, STALE_WAIT

FORGED_ISSUER = f"{ISSUER_URL}/issuers/x"
JWKS_PATH = "/.well-known/jwks.json"
MIB = 1 << 20
BOMB_MIB = 512
CHUNK = 64 * 1024
PEAK_LIMIT = 20 * MIB
SERVER_LIFETIME = 30.0
"""Seconds a socket server runs at most, even if a test never stops it."""

# ==============================================================================================================
# helpers: tokens, bombs, the network edge


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forged_token(issuer_id: str) -> str:
    """A token naming ``issuer_id``; its signature is never reached when the keys cannot be had."""
    header = {"alg": "EdDSA", "kid": "k1", "typ": "JWT"}
    payload = {"iss": issuer_id, "sub": "did:example:learner"}
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(payload).encode()), b64url(bytes(64))])


@functools.cache
def _zeros_block() -> bytes:
    """Raw deflate of 1 MiB of zeros ending on a full flush: the same bytes wherever it sits in a stream."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(bytes(MIB)) + compressor.flush(zlib.Z_FULL_FLUSH)


@functools.cache
def _zeros_crc(mib: int) -> int:
    crc = 0
    zeros = bytes(MIB)
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return crc


def gzip_zeros(mib: int) -> Iterator[bytes]:
    """One gzip member inflating to ``mib`` MiB of zeros, made piece by piece (about 1 KiB per MiB)."""
    yield b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    block = _zeros_block()
    for _ in range(mib):
        yield block
    yield b"\x03\x00" + struct.pack("<II", _zeros_crc(mib), (mib * MIB) & 0xFFFFFFFF)  # final block, trailer


def gzip_layer(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """``pieces`` gzip-compressed once more, as a stream."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for piece in pieces:
        if out := compressor.compress(piece):
            yield out
    yield compressor.flush()


def rechunk(pieces: Iterable[bytes], size: int = CHUNK) -> Iterator[bytes]:
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


def bomb(layers: int) -> Iterator[bytes]:
    """A body inflating to :data:`BOMB_MIB` MiB through ``layers`` gzip layers, in chunks of :data:`CHUNK`."""
    pieces: Iterable[bytes] = gzip_zeros(BOMB_MIB)
    for _ in range(layers - 1):
        pieces = gzip_layer(pieces)
    return rechunk(pieces)


def gunzip(pieces: Iterable[bytes]) -> Iterator[bytes]:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    for piece in pieces:
        data = piece
        while data:
            yield inflater.decompress(data, 4 * MIB)
            data = inflater.unconsumed_tail
    yield inflater.flush()
    assert inflater.eof


@functools.cache
def inflated_size(layers: int) -> int:
    """What :func:`bomb` inflates to, decoded step by step (never held whole)."""
    pieces: Iterable[bytes] = bomb(layers)
    for _ in range(layers):
        pieces = gunzip(pieces)
    return sum(len(piece) for piece in pieces)


class Streamed(httpx.AsyncByteStream):
    """A response body handed over chunk by chunk, as from a socket; ``taken`` counts the bytes read of it."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks
        self.taken = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            self.taken += len(chunk)
            yield chunk


Responder = Callable[[httpx.Request], httpx.Response]


class Edge(httpx.AsyncBaseTransport):
    """The network between verifier and issuer: canned answers by path, else the issuer app in-process (or a
    404 without one). ``hang`` makes every request stall. Every request is recorded."""

    def __init__(self, app: Any = None) -> None:
        self.inner = httpx.ASGITransport(app=app) if app is not None else None
        self.routes: dict[str, Responder] = {}
        self.requests: list[httpx.Request] = []
        self.hang = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.hang:
            await asyncio.sleep(SERVER_LIFETIME)
            raise httpx.ConnectError("the issuer stopped answering", request=request)
        respond = self.routes.get(request.url.path)
        if respond is not None:
            return respond(request)
        if self.inner is None:
            return httpx.Response(404)
        return await self.inner.handle_async_request(request)

    def count(self, path: str) -> int:
        return sum(1 for request in self.requests if request.url.path == path)


@contextlib.contextmanager
def verifier_on(edge: Edge, trusted: str = FORGED_ISSUER, **settings: Any) -> Iterator[TestClient]:
    """A verifier reaching issuers only through ``edge``."""
    settings.setdefault("require_https", False)
    app = create_verifier_app(
        VerifierSettings(public_url=VERIFIER_URL, trusted_issuers=(trusted,), **settings),
        client=httpx.AsyncClient(transport=edge),
    )
    with TestClient(app, base_url=VERIFIER_URL) as client:
        yield client


def first_problem(report: dict[str, Any]) -> dict[str, Any]:
    found: list[dict[str, Any]] = [item for item in report["checks"] if item["status"] in ("failed", "unknown")]
    assert found, report
    return found[0]


def assert_keys_unavailable(report: dict[str, Any]) -> dict[str, Any]:
    key = check(report, "key")
    assert (report["verdict"], key["status"], key["code"]) == ("indeterminate", "unknown", "keys_unavailable"), report
    return key


def measured(action: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], float, int]:
    """Run ``action``: its result, seconds taken, and the peak of memory allocated meanwhile (all threads)."""
    tracemalloc.start()
    try:
        started = time.monotonic()
        result = action()
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, elapsed, peak


# ==============================================================================================================
# helpers: a real socket server


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class SocketSite:
    """An issuer site on a real socket (127.0.0.1, a free port), served by an event loop in its own thread.

    Counts connections and keeps each request head. Stops when the ``with`` block ends, or after
    :data:`SERVER_LIFETIME` seconds in any case.
    """

    def __init__(self, respond: Handler) -> None:
        self._respond = respond
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.port = 0
        self.connections = 0
        self.heads: list[str] = []

    def __enter__(self) -> SocketSite:
        self._thread.start()
        assert self._ready.wait(10), "the socket server did not start"
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        assert not self._thread.is_alive(), "the socket server did not stop"

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SERVER_LIFETIME):
                    await self._stop.wait()
        # asyncio.run cancels the connections still open.

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.heads.append(head.decode("latin-1").lower())
            await self._respond(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()


TRICKLE_INTERVAL = 0.25
"""Seconds between the bytes of a trickling answer: each read is quick, only the whole takes forever."""


async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Announce a 2000-byte JWKS, then send one byte every :data:`TRICKLE_INTERVAL` until the client hangs up."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n")
    while True:
        writer.write(b" ")
        await writer.drain()
        try:
            async with asyncio.timeout(TRICKLE_INTERVAL):
                if not await reader.read(1):
                    return  # the client hung up
        except TimeoutError:
            continue


async def empty_jwks(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    body = b'{"keys": []}'
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/jwk-set+json\r\nConnection: close\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()


@pytest.fixture
def issued_token(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]) -> str:
    token: str = issue(issuer, provider, achievement)["jwt"]
    return token


# ==============================================================================================================
# compression


@pytest.mark.parametrize(
    "encoding",
    [[("content-encoding", "gzip, gzip")], [("content-encoding", "gzip"), ("content-encoding", "gzip")]],
    ids=["one-header", "two-headers"],
)
def test_stacked_gzip_bomb_is_refused_unread(encoding: list[tuple[str, str]]) -> None:
    assert inflated_size(2) >= BOMB_MIB * MIB
    body = Streamed(bomb(2))
    edge = Edge()
    edge.routes[JWKS_PATH] = lambda request: httpx.Response(
        200, headers=[("content-type", "application/json"), *encoding], stream=body
    )
    with verifier_on(edge) as verifier:
        report, elapsed, peak = measured(lambda: verify(verifier, forged_token(FORGED_ISSUER)))
    key = assert_keys_unavailable(report)
    assert "compressed more than once" in key["message"]
    assert body.taken == 0
    assert elapsed < 2.0
    assert peak < PEAK_LIMIT, f"{peak / MIB:.1f} MiB"


def test_gzip_bomb_jwks_is_cut_off_at_the_size_cap() -> None:
    assert inflated_size(1) >= BOMB_MIB * MIB
    body = Streamed(bomb(1))
    edge = Edge()
    edge.routes[JWKS_PATH] = lambda request: httpx.Response(
        200, headers={"content-type": "application/json", "content-encoding": "gzip"}, stream=body
    )
    with verifier_on(edge) as verifier:
        report, elapsed, peak = measured(lambda: verify(verifier, forged_token(FORGED_ISSUER)))
    key = assert_keys_unavailable(report)
    assert f"more than {JWKS_MAX_BYTES} bytes" in key["message"]
    assert body.taken <= 2 * CHUNK
    assert elapsed < 2.0
    assert peak < PEAK_LIMIT, f"{peak / MIB:.1f} MiB"


def test_gzip_bomb_status_list_is_cut_off_at_the_size_cap(
    verifier_factory: Any, issuer_app: Any, provider: ProviderFixture, issued_token: str
) -> None:
    list_path = httpx.URL(payload_of(issued_token)["credentialStatus"]["statusListCredential"]).path
    body = Streamed(bomb(1))
    edge = Edge(issuer_app)
    edge.routes[list_path] = lambda request: httpx.Response(
        200, headers={"content-type": "application/vc+jwt", "content-encoding": "gzip"}, stream=body
    )
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    report, elapsed, peak = measured(lambda: verify(verifier, issued_token))
    status = check(report, "status")
    assert report["verdict"] == "indeterminate", report
    assert (check(report, "signature")["status"], status["status"], status["code"]) == (
        "passed",
        "unknown",
        "status_unavailable",
    )
    assert f"more than {LIST_MAX_BYTES} bytes" in status["message"]
    assert edge.count(list_path) == 1 and body.taken <= 2 * CHUNK
    assert elapsed < 5.0
    assert peak < PEAK_LIMIT, f"{peak / MIB:.1f} MiB"


def test_unknown_content_encoding_is_refused() -> None:
    # A readable key set, merely labelled br: taken as identity it would be read (and the kid found missing).
    body = Streamed([b'{"keys": []}'])
    edge = Edge()
    edge.routes[JWKS_PATH] = lambda request: httpx.Response(
        200, headers={"content-type": "application/json", "content-encoding": "br"}, stream=body
    )
    with verifier_on(edge) as verifier:
        key = assert_keys_unavailable(verify(verifier, forged_token(FORGED_ISSUER)))
    assert "unknown compression" in key["message"]
    assert body.taken == 0


@pytest.mark.parametrize(("coding", "compress"), [("gzip", gzip.compress), ("deflate", zlib.compress)])
def test_small_compressed_jwks_is_accepted_and_identity_is_asked(
    verifier_factory: Any,
    issuer: TestClient,
    issuer_app: Any,
    provider: ProviderFixture,
    issued_token: str,
    coding: str,
    compress: Callable[[bytes], bytes],
) -> None:
    published = issuer.get(JWKS_PATH).content
    edge = Edge(issuer_app)
    edge.routes[JWKS_PATH] = lambda request: httpx.Response(
        200,
        headers={"content-type": "application/jwk-set+json", "content-encoding": coding},
        stream=Streamed(rechunk([compress(published)], 64)),
    )
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    report = verify(verifier, issued_token)
    assert report["verdict"] == "valid", report
    assert edge.count(JWKS_PATH) == 1
    assert edge.requests, "nothing was fetched"
    assert {request.headers.get("accept-encoding") for request in edge.requests} == {"identity"}


# ==============================================================================================================
# time: a hanging issuer, an expired copy


def test_hanging_issuer_costs_one_connection_and_one_deadline() -> None:
    with SocketSite(trickle) as site:
        issuer_id = f"http://127.0.0.1:{site.port}/issuers/x"
        app = create_verifier_app(
            VerifierSettings(
                public_url=VERIFIER_URL, trusted_issuers=(issuer_id,), require_https=False, fetch_deadline=1.0
            )
        )
        token = forged_token(issuer_id)

        async def rounds() -> list[tuple[list[dict[str, Any]], float, int]]:
            results = []
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=VERIFIER_URL) as client,
            ):

                async def one() -> dict[str, Any]:
                    response = await client.post("/api/v1/verify", json={"credential": token})
                    assert response.status_code == 200, response.text
                    report: dict[str, Any] = response.json()
                    return report

                for _ in range(2):
                    started = time.monotonic()
                    async with asyncio.timeout(10):  # a verifier without a deadline fails here instead of hanging
                        reports = await asyncio.gather(*(one() for _ in range(64)))
                    results.append((reports, time.monotonic() - started, site.connections))
            return results

        (first, first_time, first_connections), (second, second_time, second_connections) = asyncio.run(rounds())

    for report in first + second:
        assert_keys_unavailable(report)
    assert "did not answer within 1 seconds" in check(first[0], "key")["message"]
    assert first_time < 3.0, first_time
    assert first_connections == 1  # one fetch for all 64 requests
    assert second_time < 1.0, second_time  # answered from failure memory, not after another deadline
    assert second_connections == 1
    assert site.heads and "accept-encoding: identity" in site.heads[0]


def test_expired_copy_answers_within_the_stale_wait_and_never_valid(
    verifier_factory: Any, issuer_app: Any, provider: ProviderFixture, issued_token: str
) -> None:
    edge = Edge(issuer_app)
    verifier = verifier_factory([provider.issuer_id], transport=edge, cache_ttl=1, fetch_deadline=8.0)
    assert verify(verifier, issued_token)["verdict"] == "valid"
    time.sleep(1.3)  # both copies (keys and status list) have expired
    edge.hang = True
    started = time.monotonic()
    report = verify(verifier, issued_token)
    elapsed = time.monotonic() - started
    # The key set and the status list each wait at most STALE_WAIT; nothing waits for the fetch deadline.
    assert elapsed < 2 * STALE_WAIT + 2.0, elapsed
    assert report["verdict"] == "indeterminate", report
    key = check(report, "key")
    assert key["status"] == "passed" and "last known keys" in key["message"], key
    assert check(report, "status")["code"] == "status_unavailable"


# ==============================================================================================================
# failure memory


def unavailable(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, text="maintenance")


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.parametrize("failure", [unavailable, refused], ids=["503", "connect-error"])
def test_failed_fetch_is_remembered_for_failure_ttl(failure: Responder) -> None:
    token = forged_token(FORGED_ISSUER)
    remembering = Edge()
    remembering.routes[JWKS_PATH] = failure
    with verifier_on(remembering) as verifier:
        for _ in range(6):
            assert_keys_unavailable(verify(verifier, token))
    assert remembering.count(JWKS_PATH) == 1

    forgetting = Edge()
    forgetting.routes[JWKS_PATH] = failure
    with verifier_on(forgetting, failure_ttl=0) as verifier:
        for _ in range(3):
            assert_keys_unavailable(verify(verifier, token))
    assert forgetting.count(JWKS_PATH) == 3


def test_site_that_stopped_answering_is_not_contacted_for_links() -> None:
    edge = Edge()
    edge.routes[JWKS_PATH] = refused
    with verifier_on(edge) as verifier:
        assert_keys_unavailable(verify(verifier, forged_token(FORGED_ISSUER)))
        report = verify(verifier, f"{ISSUER_URL}/credentials/abc")
    retrieval = check(report, "retrieval")
    assert (report["verdict"], retrieval["status"], retrieval["code"]) == (
        "indeterminate",
        "unknown",
        "credential_unavailable",
    )
    assert [request.url.path for request in edge.requests] == [JWKS_PATH]


# ==============================================================================================================
# links


@pytest.mark.parametrize(
    "shape",
    [
        lambda url: url.replace("/credentials/", "/api/v1/credentials/"),
        lambda url: f"{url}?x=1",
        lambda url: f"{url}#f",
        lambda url: f"{url}/status",
        lambda url: f"{ISSUER_URL}{JWKS_PATH}",
        # A client resolves dot segments away: "/credentials/.." would fetch the site's root.
        lambda url: f"{ISSUER_URL}/credentials/..",
        lambda url: f"{ISSUER_URL}/credentials/.",
    ],
    ids=["api", "query", "fragment", "status", "jwks", "dot-dot", "dot"],
)
def test_links_not_shaped_like_credentials_are_not_fetched(
    verifier_factory: Any,
    issuer: TestClient,
    issuer_app: Any,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    shape: Callable[[str], str],
) -> None:
    credential_url = issue(issuer, provider, achievement)["id"]
    edge = Edge(issuer_app)
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    report = verify(verifier, shape(credential_url))
    retrieval = check(report, "retrieval")
    assert (report["verdict"], retrieval["status"], retrieval["code"]) == ("invalid", "failed", "unsupported_link")
    assert edge.requests == []


def test_credential_link_is_followed_and_an_upstream_status_is_not_echoed(
    verifier_factory: Any, issuer: TestClient, issuer_app: Any, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    good = issue(issuer, provider, achievement)["id"]
    broken = issue(issuer, provider, achievement, allowDuplicate=True)["id"]
    edge = Edge(issuer_app)
    edge.routes[httpx.URL(broken).path] = lambda request: httpx.Response(500, text="Internal Server Error (500)")
    verifier = verifier_factory([provider.issuer_id], transport=edge)

    report = verify(verifier, good)
    assert report["verdict"] == "valid", report
    assert check(report, "retrieval")["status"] == "passed"

    report = verify(verifier, broken)
    retrieval = check(report, "retrieval")
    assert (report["verdict"], retrieval["status"], retrieval["code"]) == (
        "indeterminate",
        "unknown",
        "credential_unavailable",
    )
    assert edge.count(httpx.URL(broken).path) == 1
    assert not any("500" in item["message"] for item in report["checks"]), report


# ==============================================================================================================
# addresses


def verify_through_the_guard(issuer_id: str, **settings: Any) -> dict[str, Any]:
    """Verify a forged token with the verifier's own outgoing client (no transport handed in)."""
    app = create_verifier_app(
        VerifierSettings(public_url=VERIFIER_URL, trusted_issuers=(issuer_id,), require_https=False, **settings)
    )
    with TestClient(app, base_url=VERIFIER_URL) as verifier:
        return verify(verifier, forged_token(issuer_id))


def test_a_name_resolving_to_a_private_address_is_not_contacted() -> None:
    with SocketSite(empty_jwks) as site:
        report = verify_through_the_guard(f"http://localhost:{site.port}/issuers/x")
    assert "not public" in assert_keys_unavailable(report)["message"]
    assert site.connections == 0


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", ()),
        # localhost may resolve to ::1 as well as 127.0.0.1; every address it resolves to must be allowed.
        ("localhost", ("127.0.0.0/8", "::1")),
    ],
    ids=["ip-literal-in-issuer-id", "allowed-addresses"],
)
def test_configured_addresses_are_contacted(host: str, allowed: tuple[str, ...]) -> None:
    with SocketSite(empty_jwks) as site:
        report = verify_through_the_guard(f"http://{host}:{site.port}/issuers/x", allowed_addresses=allowed)
    problem = first_problem(report)
    assert (report["verdict"], problem["id"], problem["code"]) == ("invalid", "key", "unknown_key"), report
    assert site.connections == 1
    assert "accept-encoding: identity" in site.heads[0]


NON_PUBLIC = [
    *("10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "127.0.0.1", "224.0.0.1"),
    *("::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"),
]


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_address_policy_refuses_non_public_addresses(address: str) -> None:
    assert not AddressPolicy().permits(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8"])
def test_address_policy_permits_public_addresses(address: str) -> None:
    assert AddressPolicy().permits(ipaddress.ip_address(address))


def test_address_policy_allows_only_what_is_configured() -> None:
    policy = AddressPolicy.from_config(
        ["http://127.0.0.1:8000/issuers/x", "http://localhost:8001/issuers/y", "http://[fd00::5]/issuers/z"],
        ["10.1.0.0/16"],
    )
    permitted = ["127.0.0.1", "fd00::5", "10.1.2.3", "::ffff:127.0.0.1"]
    refused = ["127.0.0.2", "fd00::6", "10.2.0.1", "192.168.1.1", "::1"]
    assert [policy.permits(ipaddress.ip_address(address)) for address in permitted] == [True] * len(permitted)
    assert [policy.permits(ipaddress.ip_address(address)) for address in refused] == [False] * len(refused)


# ==============================================================================================================
# https


def test_https_is_required_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VERIFIER_REQUIRE_HTTPS", raising=False)
    assert VerifierSettings().require_https is True


def test_http_issuer_is_not_contacted_when_https_is_required() -> None:
    edge = Edge()
    edge.routes[JWKS_PATH] = lambda request: httpx.Response(200, json={"keys": []})
    with verifier_on(edge, require_https=True) as verifier:
        key = assert_keys_unavailable(verify(verifier, forged_token(FORGED_ISSUER)))
        report = verify(verifier, f"{ISSUER_URL}/credentials/abc")
    assert "https" in key["message"]
    assert check(report, "retrieval")["code"] == "credential_unavailable"
    assert edge.requests == []
