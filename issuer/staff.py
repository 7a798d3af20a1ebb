"""Staff of the provider console: roles, invitations, passwords, sign-in with lockout, sessions, CSRF and TOTP.

Every secret handed out (invitation link, session token) is random and only its SHA-256 is stored; passwords are
argon2id; TOTP secrets are sealed by the vault. Audit entries name people as ``staff:<id>``, never by address.

Failed sign-ins are counted with ``limits`` (moving windows, in the process or in Redis, as in
:mod:`issuer.throttle`) after OWASP's *device cookies*: a browser that has signed in to an account before holds
a signed cookie naming it and keeps a failure budget of its own. Someone guessing a password from elsewhere
therefore locks out only the *untrusted* browsers, never the account's own. The untrusted budget is keyed by a
keyed digest of the address typed, so an unknown address locks exactly like a real one.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import pyotp
import qrcode
import qrcode.image.svg
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from zxcvbn import zxcvbn

from credentials.encoding import b64url_encode
from credentials.hashing import derive_key, hmac_sha256, sha256_hex
from issuer import audit, repository
from issuer.context import IssuerContext
from issuer.db import Database, changed_rows
from issuer.errors import AlreadyExists, InvalidInput, NotFound
from issuer.i18n import LANGUAGES
from issuer.models import Staff, StaffSession, table_of, utcnow

log = logging.getLogger("issuer.staff")

# --------------------------------------------------------------------------------------------------------------
# Roles

PROVIDER_ROLES = ("owner", "issuer", "viewer")
ROLES = (*PROVIDER_ROLES, "operator")
ACTIONS = ("read", "issue", "revoke", "manage_achievements", "manage_staff", "manage_api_keys", "manage_profile")
PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": frozenset(ACTIONS),
    "issuer": frozenset({"read", "issue", "revoke", "manage_achievements"}),
    "viewer": frozenset({"read"}),
    "operator": frozenset({"read"}),  # the programme operator reads every provider and changes nothing
}


def can(staff: Staff, action: str) -> bool:
    """Whether ``staff`` may do ``action`` (one of :data:`ACTIONS`); never for a disabled account. Which provider
    they act on is the caller's check: their own, or any for an operator."""
    return staff.disabled_at is None and action in PERMISSIONS.get(staff.role, frozenset())


# --------------------------------------------------------------------------------------------------------------
# Passwords

password_hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
"""argon2id with RFC 9106's low-memory profile (64 MiB, 3 passes, 4 lanes). Tests swap in a cheaper one; a hash
made under other parameters still verifies and is replaced at the next sign-in."""
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
MIN_ZXCVBN_SCORE = 3
_PROGRAMME_WORDS = ("odznaka", "lublin")


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string, ``$argon2id$…``) of a password that passed :func:`check_password_policy`."""
    return password_hasher.hash(password)


def check_password_policy(password: str, email: str, name: str | None) -> list[str]:
    """Why ``password`` is refused (``too_short``, ``too_long``, ``too_weak``, ``too_personal``); empty when it
    is accepted.

    zxcvbn scores the first 100 characters, knowing the person's address and name and the programme's words; what
    is left once those words are taken out must score as well, or ``odznakalublin1`` would pass."""
    if len(password) < MIN_PASSWORD:
        return ["too_short"]
    if len(password) > MAX_PASSWORD:
        return ["too_long"]
    words = [email, *email.split("@"), name or "", *(name or "").split(), *_PROGRAMME_WORDS]
    words = [word.lower() for word in words if len(word) >= 3]
    if _score(password, words) < MIN_ZXCVBN_SCORE:
        return ["too_weak"]
    rest = password.lower()
    for word in sorted(words, key=len, reverse=True):
        rest = rest.replace(word, "")
    if rest != password.lower() and _score(rest, words) < MIN_ZXCVBN_SCORE:
        return ["too_personal"]
    return []


def _score(password: str, words: list[str]) -> int:
    return int(zxcvbn(password[:100], user_inputs=words)["score"]) if password else 0


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        # No stored password is longer than MAX_PASSWORD: a longer one is cut (it still fails) so that a huge
        # submission costs no more to hash than a long one.
        return password_hasher.verify(password_hash, password[: MAX_PASSWORD + 1])
    except (VerificationError, InvalidHashError):
        return False


_dummy_hashes: weakref.WeakKeyDictionary[PasswordHasher, str] = weakref.WeakKeyDictionary()


def _dummy_hash() -> str:
    """A hash under the current parameters that no password matches: an unknown address costs a real verify."""
    found = _dummy_hashes.get(password_hasher)
    if found is None:
        found = _dummy_hashes[password_hasher] = password_hasher.hash(secrets.token_urlsafe(32))
    return found


# --------------------------------------------------------------------------------------------------------------
# Invitations

INVITATION_LIFETIME = timedelta(days=7)
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def invite(
    ctx: IssuerContext, *, provider_slug: str | None, email: str, role: str, actor: str, language: str = "pl"
) -> str:
    """Invite ``email`` as ``role`` of provider ``provider_slug`` (``None`` with role ``operator``: the programme
    operator) and return the one-time link ``<public URL>/console/invitation/<token>``, valid 7 days.

    Inviting an address again before it is accepted renews the link (the old one stops working); a disabled
    account starts over. Raises :class:`InvalidInput` (role, e-mail, language), :class:`NotFound` (provider) and
    :class:`AlreadyExists` when the address has an account, here or at another provider."""
    address = email.strip().lower()
    if len(address) > 320 or not _ADDRESS.fullmatch(address):
        raise InvalidInput("That is not an e-mail address.", fields=[{"field": "email", "message": "invalid"}])
    if role not in (PROVIDER_ROLES if provider_slug is not None else ("operator",)):
        allowed = ", ".join(PROVIDER_ROLES) if provider_slug is not None else "operator (without a provider)"
        raise InvalidInput(f"Choose the role from {allowed}.", fields=[{"field": "role", "message": "invalid"}])
    if language not in LANGUAGES:
        raise InvalidInput("Unknown language.", fields=[{"field": "language", "message": "invalid"}])
    token = secrets.token_urlsafe(32)
    try:
        with ctx.db.write() as db:
            provider_id = None
            if provider_slug is not None:
                provider = repository.provider_by_slug(db, provider_slug)
                if provider is None:
                    raise NotFound(f"There is no provider '{provider_slug}'.")
                provider_id = provider.id
            staff = _by_email(db, address) or Staff(email=address, role=role)
            if staff.id is not None and staff.disabled_at is None:
                if staff.provider_id != provider_id:
                    raise AlreadyExists("This address already belongs to another provider's console.")
                if staff.password_hash is not None:
                    raise AlreadyExists("This address already has an account here.")
            if staff.disabled_at is not None:  # invited again after being disabled: nothing carries over
                staff.name = staff.password_hash = staff.totp_secret = staff.totp_last_step = staff.disabled_at = None
            staff.provider_id, staff.role, staff.language = provider_id, role, language
            staff.invitation_hash = _digest(token)
            staff.invitation_expires = utcnow() + INVITATION_LIFETIME
            db.add(staff)
            db.flush()
            audit.record(
                db,
                actor=actor,
                action="staff.invited",
                subject=f"staff:{staff.id}",
                provider_id=provider_id,
                details={"role": role},
            )
    except IntegrityError as exc:  # the same address invited twice at once
        raise AlreadyExists("This address was invited at the same moment; try again.") from exc
    return f"{ctx.urls.public_url}/console/invitation/{token}"


def invitation(ctx: IssuerContext, token: str) -> Staff | None:
    """Who the invitation link's ``token`` is for, while it is valid and unused; otherwise ``None``."""
    with ctx.db.read() as db:
        return _open_invitation(db, token)


def accept_invitation(ctx: IssuerContext, token: str, *, name: str, password: str) -> Staff:
    """Set the invited person's name and password; the link stops working. Raises :class:`NotFound` for a used or
    expired link and :class:`InvalidInput` naming the field (``name``, ``password``) that is refused."""
    staff = invitation(ctx, token)
    if staff is None:
        raise NotFound("This invitation link is not valid any more; ask for a new one.")
    name = " ".join(name.split())
    if not 0 < len(name) <= 200 or not name.isprintable():
        raise InvalidInput("Give your name.", fields=[{"field": "name", "message": "invalid"}])
    problems = check_password_policy(password, staff.email, name)
    if problems:
        fields = [{"field": "password", "message": problem} for problem in problems]
        raise InvalidInput("Choose a longer or less guessable password.", fields=fields, problems=problems)
    password_hash = hash_password(password)
    with ctx.db.write() as db:
        found = _open_invitation(db, token)
        if found is None:
            raise NotFound("This invitation link is not valid any more; ask for a new one.")
        found.name, found.password_hash = name, password_hash
        found.invitation_hash = found.invitation_expires = None
        db.add(found)
        subject = f"staff:{found.id}"
        audit.record(db, actor=subject, action="staff.joined", subject=subject, provider_id=found.provider_id)
    return found


def _open_invitation(db: Session, token: str) -> Staff | None:
    if not 0 < len(token) <= 100:
        return None
    staff = db.exec(select(Staff).where(Staff.invitation_hash == _digest(token))).first()
    if staff is None or staff.disabled_at is not None or staff.invitation_expires is None:
        return None
    return staff if utcnow() < staff.invitation_expires else None


# --------------------------------------------------------------------------------------------------------------
# Sign-in

FAILURE_WINDOW_MINUTES = 15
ACCOUNT_FAILURES = 5
"""Wrong passwords for one address from untrusted browsers before those are refused (for the moving window)."""
DEVICE_FAILURES = 5
"""Wrong passwords from one browser holding the account's device cookie before the cookie stops being trusted."""
CLIENT_FAILURES = 20
"""Failed sign-ins from one client address, across accounts."""
SECOND_FACTOR_FAILURES = 5
"""Wrong TOTP codes for one account (the password was right: whoever guesses may know it)."""
_ACCOUNT = RateLimitItemPerMinute(ACCOUNT_FAILURES, FAILURE_WINDOW_MINUTES)
_DEVICE = RateLimitItemPerMinute(DEVICE_FAILURES, FAILURE_WINDOW_MINUTES)
_CLIENT = RateLimitItemPerMinute(CLIENT_FAILURES, FAILURE_WINDOW_MINUTES)
_SECOND_FACTOR = RateLimitItemPerMinute(SECOND_FACTOR_FAILURES, FAILURE_WINDOW_MINUTES)

DEVICE_PURPOSE = "odznaka console device cookie v1"


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt came to.

    ``ok``: ``session`` is a full session's token and ``device`` the new device cookie (keep it a year);
    ``needs_second_factor``: ``session`` waits for :func:`complete_second_factor`; ``locked``: try again in
    ``retry_after`` seconds (said alike for every address); ``failed``: wrong address or password."""

    outcome: Literal["ok", "needs_second_factor", "locked", "failed"]
    session: str | None = None
    device: str | None = None
    retry_after: int | None = None


@dataclass(frozen=True)
class _Budget:
    item: RateLimitItem
    scope: str
    """``account``, ``device``, ``client`` or ``second_factor``."""
    key: tuple[str, ...]

    @property
    def identifiers(self) -> tuple[str, ...]:
        return ("odznaka-staff", self.scope, *self.key)


class _Counters:
    """Failure budgets in one ``limits`` storage. The account's (or device's) budget is counted *before* the
    password is checked, so that parallel guesses cannot overrun it, and cleared when the password was right, as
    a successful sign-in resets a lockout counter. The client's counts failures only, after the check."""

    def __init__(self, storage_uri: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri.removeprefix("async+")))

    def count(self, budget: _Budget) -> bool:
        """Count an attempt; ``False`` when the budget was already spent (nothing is counted then)."""
        return self._limiter.hit(budget.item, *budget.identifiers)

    def clear(self, budget: _Budget) -> None:
        self._limiter.clear(budget.item, *budget.identifiers)

    def wait(self, budget: _Budget) -> int | None:
        """Seconds until the budget allows another attempt, or ``None`` if it does now."""
        if self._limiter.test(budget.item, *budget.identifiers):
            return None
        stats = self._limiter.get_window_stats(budget.item, *budget.identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))


_counters_by_db: weakref.WeakKeyDictionary[Database, _Counters] = weakref.WeakKeyDictionary()
_counters_lock = threading.Lock()


def _counters(ctx: IssuerContext) -> _Counters:
    # One set of counters per context (its memory storage would otherwise be shared by every test database).
    with _counters_lock:
        found = _counters_by_db.get(ctx.db)
        if found is None:
            found = _counters_by_db[ctx.db] = _Counters(ctx.settings.rate_limit_storage)
        return found


def sign_in(ctx: IssuerContext, *, email: str, password: str, client: str, device: str | None) -> SignIn:
    """Check an address and password typed by ``client`` (its IP address) whose browser sent the device cookie
    ``device``; on success open a session (waiting for the second factor when the account has one).

    A browser with a valid device cookie for the account is held neither by the account's lockout nor by its
    client address's, only by its own budget. An unknown address and a wrong password answer alike, after the
    same argon2 work."""
    counters = _counters(ctx)
    address = email.strip().lower()
    client_budget = _Budget(_CLIENT, "client", (client,))
    with ctx.db.read() as db:
        staff = _by_email(db, address)
    budget = _device_budget(ctx, staff, device)
    if budget is not None and not counters.count(budget):
        budget = None  # this browser has spent its own budget: from now on it is like any other
    if budget is None:
        wait = counters.wait(client_budget)
        if wait is not None:  # refused before the account is looked at, and not audited (as for API keys)
            return SignIn("locked", retry_after=wait)
        budget = _Budget(_ACCOUNT, "account", (ctx.vault.email_key(address),))
        if not counters.count(budget):
            counters.count(client_budget)
            _audit_failure(ctx, staff, "locked")
            return SignIn("locked", retry_after=counters.wait(budget) or 1)
    stored = staff.password_hash if staff is not None else None
    right = _password_matches(stored or _dummy_hash(), password)
    if staff is None or stored is None or staff.disabled_at is not None or not right:
        counters.count(client_budget)
        wait = counters.wait(budget)
        reason = "disabled" if staff is not None and staff.disabled_at is not None else "password"
        _audit_failure(ctx, staff, reason, spent=budget if wait is not None else None)
        if wait is not None and budget.scope == "account":
            return SignIn("locked", retry_after=wait)
        return SignIn("failed")
    counters.clear(budget)
    assert staff.id is not None
    new_hash = hash_password(password) if password_hasher.check_needs_rehash(stored) else None
    complete = staff.totp_secret is None
    with ctx.db.write() as db:
        if new_hash is not None:
            table = table_of(Staff)
            db.execute(
                update(table)
                .where(table.c.id == staff.id, table.c.password_hash == stored)
                .values(password_hash=new_hash)
            )
        token = _open_session(db, staff.id, second_factor_done=complete)
        if complete:
            _audit_signed_in(db, staff, second_factor=False)
    if not complete:
        return SignIn("needs_second_factor", session=token)
    return SignIn("ok", session=token, device=issue_device_cookie(ctx, staff))


def issue_device_cookie(ctx: IssuerContext, staff: Staff) -> str:
    """A device cookie for a browser that has just signed in as ``staff``: ``<staff id>.<nonce>.<MAC>``, checked
    by its MAC alone (no table). It only spares the browser the account's lockout; it is no credential."""
    nonce = secrets.token_urlsafe(16)
    return f"{staff.id}.{nonce}.{_device_mac(ctx, f'{staff.id}.{nonce}')}"


def _device_budget(ctx: IssuerContext, staff: Staff | None, device: str | None) -> _Budget | None:
    """The browser's own budget if ``device`` is a genuine cookie of this account."""
    if staff is None or not device or len(device) > 200:
        return None
    staff_id, _, rest = device.partition(".")
    nonce, _, mac = rest.partition(".")
    if staff_id != str(staff.id) or not nonce or not _same(_device_mac(ctx, f"{staff_id}.{nonce}"), mac):
        return None
    return _Budget(_DEVICE, "device", (staff_id, nonce))


def _device_mac(ctx: IssuerContext, value: str) -> str:
    return b64url_encode(hmac_sha256(derive_key(ctx.secret, DEVICE_PURPOSE), value.encode("utf-8", "surrogatepass")))


def _audit_failure(ctx: IssuerContext, staff: Staff | None, reason: str, *, spent: _Budget | None = None) -> None:
    """Record a failed attempt, and the lockout it caused when it ``spent`` the last of a budget."""
    subject = f"staff:{staff.id}" if staff is not None else "unknown"
    provider_id = staff.provider_id if staff is not None else None
    with ctx.db.write() as db:
        audit.record(
            db,
            actor="anonymous",
            action="staff.sign_in_failed",
            subject=subject,
            provider_id=provider_id,
            details={"reason": reason},
        )
        if spent is not None:
            audit.record(
                db,
                actor="anonymous",
                action="staff.locked",
                subject=subject,
                provider_id=provider_id,
                details={"scope": spent.scope},
            )


def _audit_signed_in(db: Session, staff: Staff, *, second_factor: bool) -> None:
    subject = f"staff:{staff.id}"
    details = {"second_factor": second_factor}
    audit.record(
        db,
        actor=subject,
        action="staff.signed_in",
        subject=subject,
        provider_id=staff.provider_id,
        details=details,
    )


# --------------------------------------------------------------------------------------------------------------
# Sessions

SESSION_LIFETIME = timedelta(hours=12)
SESSION_IDLE = timedelta(minutes=30)
SECOND_FACTOR_WAIT = timedelta(minutes=5)
"""How long a session whose password was right waits for its TOTP code."""
_SEEN_RESOLUTION = timedelta(minutes=1)


def start_session(ctx: IssuerContext, staff: Staff, *, second_factor_done: bool) -> str:
    """Open a session for ``staff`` and return its token (for a cookie); only its SHA-256 is stored."""
    assert staff.id is not None
    with ctx.db.write() as db:
        return _open_session(db, staff.id, second_factor_done=second_factor_done)


def session(ctx: IssuerContext, token: str) -> tuple[Staff, StaffSession] | None:
    """The signed-in staff member and their session, or ``None`` when the token is unknown, expired (12 hours
    after sign-in, 30 minutes idle), its account disabled, or it still waits for the second factor (see
    :func:`pending_session`). Marks the session seen, at most once a minute."""
    found = _live(ctx, token)
    return found if found is not None and found[1].second_factor else None


def pending_session(ctx: IssuerContext, token: str) -> Staff | None:
    """Whose session ``token`` is while it waits for the TOTP code (5 minutes at most); it grants nothing."""
    found = _live(ctx, token)
    return found[0] if found is not None and not found[1].second_factor else None


def complete_second_factor(ctx: IssuerContext, token: str, code: str) -> bool:
    """Check the TOTP ``code`` for a session waiting for it; ``True`` makes it a full session (same token: the
    caller then sets :func:`issue_device_cookie`). After 5 wrong codes in 15 minutes the account takes none, and
    the waiting session ends."""
    found = _live(ctx, token)
    if found is None or found[1].second_factor:
        return False
    staff, waiting = found
    counters = _counters(ctx)
    budget = _Budget(_SECOND_FACTOR, "second_factor", (str(staff.id),))
    if not counters.count(budget):
        end_session(ctx, token)
        _audit_failure(ctx, staff, "locked")
        return False
    if not verify_totp(ctx, staff, code):
        _audit_failure(ctx, staff, "second_factor", spent=budget if counters.wait(budget) is not None else None)
        return False
    counters.clear(budget)
    table = table_of(StaffSession)
    with ctx.db.write() as db:
        db.execute(update(table).where(table.c.token_hash == waiting.token_hash).values(second_factor=True))
        _audit_signed_in(db, staff, second_factor=True)
    return True


def end_session(ctx: IssuerContext, token: str) -> None:
    """Sign out: the token stops working."""
    with ctx.db.write() as db:
        db.execute(delete(table_of(StaffSession)).where(table_of(StaffSession).c.token_hash == _digest(token)))


def end_all_sessions(ctx: IssuerContext, staff_id: int) -> int:
    """End every session of a staff member (after a password or role change, or disabling); how many there were."""
    with ctx.db.write() as db:
        return _end_all(db, staff_id)


def _open_session(db: Session, staff_id: int, *, second_factor_done: bool) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.add(
        StaffSession(
            token_hash=_digest(token),
            staff_id=staff_id,
            created_at=now,
            seen_at=now,
            expires_at=now + SESSION_LIFETIME,
            second_factor=second_factor_done,
        )
    )
    return token


def _end_all(db: Session, staff_id: int) -> int:
    table = table_of(StaffSession)
    return changed_rows(db.execute(delete(table).where(table.c.staff_id == staff_id)))


def _live(ctx: IssuerContext, token: str) -> tuple[Staff, StaffSession] | None:
    if not 0 < len(token) <= 100:
        return None
    now = utcnow()
    with ctx.db.read() as db:
        record = db.get(StaffSession, _digest(token))
        staff = db.get(Staff, record.staff_id) if record is not None else None
    if record is None or staff is None:
        return None
    expired = (
        now >= record.expires_at
        or now - record.seen_at >= SESSION_IDLE
        or (not record.second_factor and now - record.created_at >= SECOND_FACTOR_WAIT)
    )
    if expired or staff.disabled_at is not None:
        end_session(ctx, token)
        return None
    if now - record.seen_at >= _SEEN_RESOLUTION:
        table = table_of(StaffSession)
        with ctx.db.write() as db:
            db.execute(update(table).where(table.c.token_hash == record.token_hash).values(seen_at=now))
        record.seen_at = now
    return staff, record


# --------------------------------------------------------------------------------------------------------------
# CSRF

CSRF_PURPOSE = "odznaka console csrf v1"
ANONYMOUS_CSRF_PURPOSE = "odznaka console anonymous csrf v1"
ANONYMOUS_CSRF_LIFETIME = 7200
"""Seconds a form shown before sign-in (sign-in, invitation) may be sent back."""
_ISSUED = re.compile(r"[0-9]{1,12}")


def csrf_token(ctx: IssuerContext, session_token: str) -> str:
    """The CSRF token of a session's forms: an HMAC of the session token's digest, worthless for any other."""
    key = derive_key(ctx.secret, CSRF_PURPOSE)
    return b64url_encode(hmac_sha256(key, _digest(session_token).encode("ascii")))


def check_csrf(ctx: IssuerContext, session_token: str, submitted: str) -> bool:
    """Whether a form carried its session's CSRF token (compared in constant time)."""
    return _same(csrf_token(ctx, session_token), submitted)


def anonymous_csrf(ctx: IssuerContext) -> tuple[str, str]:
    """A (cookie, form field) pair for a form shown before sign-in: the cookie is random, the field is
    ``<issued>.<MAC of cookie and time>``. A cookie planted without the server secret matches no field. Set the
    cookie as ``__Host-`` prefixed, ``Secure``, ``SameSite=Strict``."""
    cookie = secrets.token_urlsafe(32)
    issued = int(time.time())
    return cookie, f"{issued}.{_anonymous_mac(ctx, cookie, issued)}"


def check_anonymous_csrf(ctx: IssuerContext, cookie_value: str, form_value: str) -> bool:
    """Whether the form field belongs to the cookie and was issued within :data:`ANONYMOUS_CSRF_LIFETIME`."""
    issued, _, mac = form_value.partition(".")
    if not cookie_value or len(cookie_value) > 100 or not _ISSUED.fullmatch(issued):
        return False
    if not -60 <= time.time() - int(issued) <= ANONYMOUS_CSRF_LIFETIME:
        return False
    return _same(_anonymous_mac(ctx, cookie_value, int(issued)), mac)


def _anonymous_mac(ctx: IssuerContext, cookie: str, issued: int) -> str:
    key = derive_key(ctx.secret, ANONYMOUS_CSRF_PURPOSE)
    return b64url_encode(hmac_sha256(key, f"{issued}.{cookie}".encode("utf-8", "surrogatepass")))


# --------------------------------------------------------------------------------------------------------------
# TOTP (RFC 6238: 6 digits, 30 seconds, SHA-1, as every authenticator app reads it)

TOTP_ISSUER = "Odznaka Lublin"
_BASE32_SECRET = re.compile(r"[A-Z2-7]{32}")


def begin_totp(ctx: IssuerContext, staff_id: int) -> tuple[str, str]:
    """A new TOTP secret (160 bits, base32) and its ``otpauth://`` URI for the enrolment QR code.

    Nothing is stored yet: the enrolment page carries the secret in its (CSRF-protected) confirmation form and
    hands it to :func:`confirm_totp` with the first code, so an abandoned enrolment leaves no trace."""
    with ctx.db.read() as db:
        staff = db.get(Staff, staff_id)
    if staff is None:
        raise NotFound("There is no such staff member.")
    secret = pyotp.random_base32()
    return secret, pyotp.TOTP(secret).provisioning_uri(name=staff.email, issuer_name=TOTP_ISSUER)


def confirm_totp(ctx: IssuerContext, staff_id: int, secret: str, code: str) -> bool:
    """Turn the second factor on when ``code`` is right for ``secret`` (from :func:`begin_totp`); the secret is
    kept sealed by the vault. ``False`` for a wrong code or a secret that did not come from ``begin_totp``.
    Raises :class:`AlreadyExists` when a second factor is already on (turn it off first)."""
    step = _matching_step(secret, code, after=None) if _BASE32_SECRET.fullmatch(secret) else None
    if step is None:
        return False
    with ctx.db.write() as db:
        staff = db.get(Staff, staff_id)
        if staff is None or staff.disabled_at is not None:
            raise NotFound("There is no such staff member.")
        if staff.totp_secret is not None:
            raise AlreadyExists("The second factor is already on; turn it off before setting up a new one.")
        staff.totp_secret, staff.totp_last_step = ctx.vault.seal(secret), step
        db.add(staff)
        subject = f"staff:{staff_id}"
        audit.record(db, actor=subject, action="staff.second_factor_on", subject=subject, provider_id=staff.provider_id)
    return True


def verify_totp(ctx: IssuerContext, staff: Staff, code: str) -> bool:
    """Whether ``code`` is ``staff``'s current TOTP code (one step either side is accepted); a code is accepted
    once: none of its step or an earlier one works again."""
    secret = ctx.vault.open(staff.totp_secret) if staff.totp_secret is not None else None
    if secret is None:
        if staff.totp_secret is not None:
            log.error("staff:%s: the TOTP secret does not open under this server secret", staff.id)
        return False
    step = _matching_step(secret, code, after=staff.totp_last_step)
    if step is None:
        return False
    table = table_of(Staff)
    with ctx.db.write() as db:
        # Conditional, so that two requests with the same code cannot both pass.
        used = changed_rows(
            db.execute(
                update(table)
                .where(table.c.id == staff.id, (table.c.totp_last_step.is_(None)) | (table.c.totp_last_step < step))
                .values(totp_last_step=step)
            )
        )
    return used == 1


def disable_totp(ctx: IssuerContext, staff_id: int, *, provider_id: int | None, actor: str) -> bool:
    """Turn off a staff member's second factor (lost phone; or their own choice); ``False`` if it was off.
    Raises :class:`NotFound` unless the staff member belongs to ``provider_id`` (``None``: an operator)."""
    with ctx.db.write() as db:
        staff = _member(db, staff_id, provider_id)
        if staff.totp_secret is None:
            return False
        staff.totp_secret = staff.totp_last_step = None
        db.add(staff)
        audit.record(
            db, actor=actor, action="staff.second_factor_off", subject=f"staff:{staff_id}", provider_id=provider_id
        )
    return True


def totp_qr_svg(uri: str) -> str:
    """The enrolment QR code of an ``otpauth://`` URI, as SVG markup."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage)
    return str(image.to_string(encoding="unicode"))


def _matching_step(secret: str, code: str, *, after: int | None) -> int | None:
    code = code.replace(" ", "")
    if not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(time.time())
    for step in (now - 1, now, now + 1):
        if (after is None or step > after) and _same(totp.generate_otp(step), code):
            return step
    return None


# --------------------------------------------------------------------------------------------------------------
# Managing staff (owners, in the console; the caller checks ``can(actor, "manage_staff")``)


def list_staff(ctx: IssuerContext, provider_id: int | None) -> Sequence[Staff]:
    """A provider's staff (``None``: the programme operators), disabled and invited ones included, oldest first."""
    with ctx.db.read() as db:
        return db.exec(select(Staff).where(Staff.provider_id == provider_id).order_by(col(Staff.id))).all()


def staff_by_email(ctx: IssuerContext, email: str) -> Staff | None:
    """The account of an address (any provider, any state), or ``None``."""
    with ctx.db.read() as db:
        return _by_email(db, email.strip().lower())


def change_role(
    ctx: IssuerContext, staff_id: int, role: str, *, provider_id: int | None, actor: str, keep_owner: bool = True
) -> None:
    """Give a provider's staff member another role; their sessions end. Raises :class:`NotFound` unless they
    belong to ``provider_id``, and :class:`InvalidInput` for an unknown role or (``keep_owner``) when it would
    leave the provider without an owner who can sign in."""
    if role not in PROVIDER_ROLES:
        raise InvalidInput(f"Choose the role from {', '.join(PROVIDER_ROLES)}.", fields=[_field("role", "invalid")])
    with ctx.db.write(serialize_on=provider_id) as db:
        staff = _member(db, staff_id, provider_id)
        if staff.role == "operator":
            raise InvalidInput("A programme operator has no provider role.", fields=[_field("role", "operator")])
        if staff.role == role:
            return
        if keep_owner:
            _keep_an_owner(db, staff)
        before, staff.role = staff.role, role
        db.add(staff)
        _end_all(db, staff_id)
        details = {"from": before, "to": role}
        audit.record(
            db,
            actor=actor,
            action="staff.role_changed",
            subject=f"staff:{staff_id}",
            provider_id=provider_id,
            details=details,
        )


def disable(ctx: IssuerContext, staff_id: int, *, provider_id: int | None, actor: str, keep_owner: bool = True) -> bool:
    """Disable an account: it cannot sign in, its sessions end and an open invitation dies; ``False`` if it
    already was. Raises as :func:`change_role` does. The operator's CLI passes ``keep_owner=False`` (someone
    left) and then invites a new owner."""
    with ctx.db.write(serialize_on=provider_id) as db:
        staff = _member(db, staff_id, provider_id)
        if staff.disabled_at is not None:
            return False
        if keep_owner:
            _keep_an_owner(db, staff)
        staff.disabled_at = utcnow()
        staff.invitation_hash = staff.invitation_expires = None
        db.add(staff)
        _end_all(db, staff_id)
        audit.record(db, actor=actor, action="staff.disabled", subject=f"staff:{staff_id}", provider_id=provider_id)
    return True


def _member(db: Session, staff_id: int, provider_id: int | None) -> Staff:
    staff = db.get(Staff, staff_id)
    if staff is None or staff.provider_id != provider_id:
        raise NotFound("There is no such staff member here.")
    return staff


def _keep_an_owner(db: Session, staff: Staff) -> None:
    """Refuse to take away the last owner who can sign in."""
    if staff.role != "owner" or staff.password_hash is None or staff.disabled_at is not None:
        return
    others = db.exec(
        select(func.count())
        .select_from(Staff)
        .where(
            Staff.provider_id == staff.provider_id,
            Staff.role == "owner",
            col(Staff.password_hash).is_not(None),
            col(Staff.disabled_at).is_(None),
            Staff.id != staff.id,
        )
    ).one()
    if not others:
        raise InvalidInput(
            "This is the provider's last owner: make someone else owner first.",
            fields=[_field("role", "last_owner")],
        )


# --------------------------------------------------------------------------------------------------------------


def _by_email(db: Session, address: str) -> Staff | None:
    return db.exec(select(Staff).where(Staff.email == address)).first()


def _digest(token: str) -> str:
    return sha256_hex(token.encode("utf-8", "surrogatepass"))


def _same(expected: str, given: str) -> bool:
    return secrets.compare_digest(expected.encode("ascii"), given.encode("utf-8", "surrogatepass"))


def _field(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}
