"""Console staff: passwords, invitations, sign-in lockout with device cookies, sessions, CSRF, TOTP, roles, and
``issuer staff``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import pyotp
import pytest
import time_machine
import typer
from argon2 import PasswordHasher, Type
from sqlmodel import col, select
from typer.testing import CliRunner

from issuer import staff as staff_module
from issuer.context import IssuerContext
from issuer.errors import AlreadyExists, InvalidInput, NotFound
from issuer.models import AuditEntry, Staff
from issuer.providers import get_provider
from issuer.settings import get_settings
from issuer.staff import (
    ACTIONS,
    SignIn,
    accept_invitation,
    anonymous_csrf,
    begin_totp,
    can,
    change_role,
    check_anonymous_csrf,
    check_csrf,
    check_password_policy,
    complete_second_factor,
    confirm_totp,
    csrf_token,
    disable,
    end_session,
    hash_password,
    invitation,
    invite,
    issue_device_cookie,
    list_staff,
    pending_session,
    session,
    sign_in,
    start_session,
    totp_qr_svg,
    verify_totp,
)
from issuer.staff_cli import staff_app
from tests.conftest import ProviderFixture, add_provider

DEFAULT_HASHER = staff_module.password_hasher
PASSWORD = "kasztan-rower-1987-Zamek"
OWNER = "ola.lis@example.org"
CLIENT = "198.51.100.7"
ATTACKER = "203.0.113.66"


class CountingHasher(PasswordHasher):
    """argon2 at the lowest cost, counting verifications (what makes an unknown address cost as much)."""

    def __init__(self, time_cost: int = 1) -> None:
        super().__init__(time_cost=time_cost, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    hasher = CountingHasher()
    monkeypatch.setattr(staff_module, "password_hasher", hasher)
    return hasher


def provider_id(ctx: IssuerContext, slug: str) -> int:
    found = get_provider(ctx, slug).id
    assert found is not None
    return found


def join(ctx: IssuerContext, slug: str | None, email: str, role: str = "owner", name: str = "Ola Lis") -> Staff:
    """Invite ``email`` and accept the invitation with :data:`PASSWORD`."""
    link = invite(ctx, provider_slug=slug, email=email, role=role, actor="cli")
    return accept_invitation(ctx, link.rsplit("/", 1)[1], name=name, password=PASSWORD)


def attempt(
    ctx: IssuerContext, password: str, *, email: str = OWNER, client: str = CLIENT, device: str | None = None
) -> SignIn:
    return sign_in(ctx, email=email, password=password, client=client, device=device)


def audit_entries(ctx: IssuerContext) -> list[AuditEntry]:
    with ctx.db.read() as db:
        return list(db.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all())


@pytest.fixture
def owner(ctx: IssuerContext, provider: ProviderFixture) -> Staff:
    return join(ctx, provider.slug, OWNER)


# --------------------------------------------------------------------------------------------------------------
# Passwords


def test_the_default_hasher_is_argon2id_at_rfc_9106_low_memory_or_stronger() -> None:
    assert DEFAULT_HASHER.type is Type.ID
    assert DEFAULT_HASHER.memory_cost >= 64 * 1024
    assert DEFAULT_HASHER.time_cost >= 3


def test_passwords_are_hashed_with_argon2id_and_verify() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert staff_module.password_hasher.verify(hashed, PASSWORD)
    assert PASSWORD not in hashed


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Krótkie1!", "too_short"),
        ("x" * 1025, "too_long"),
        ("Password1234!", "too_weak"),
        ("ola.lis@example.org", "too_weak"),
        ("OlaLis-example.org", "too_personal"),
        ("odznakalublin1", "too_personal"),
    ],
)
def test_the_policy_refuses_short_long_common_and_personal_passwords(password: str, problem: str) -> None:
    assert check_password_policy(password, OWNER, "Ola Lis") == [problem]


def test_the_policy_accepts_a_long_uncommon_password() -> None:
    assert check_password_policy(PASSWORD, OWNER, "Ola Lis") == []


def test_an_outdated_hash_is_replaced_at_sign_in(
    ctx: IssuerContext, owner: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    stronger = CountingHasher(time_cost=2)
    monkeypatch.setattr(staff_module, "password_hasher", stronger)
    assert attempt(ctx, PASSWORD).outcome == "ok"
    with ctx.db.read() as db:
        renewed = db.get(Staff, owner.id)
    assert renewed is not None and renewed.password_hash != owner.password_hash
    assert renewed.password_hash is not None and ",t=2," in renewed.password_hash
    assert attempt(ctx, PASSWORD).outcome == "ok"


# --------------------------------------------------------------------------------------------------------------
# Invitations


def test_an_invitation_link_works_once(ctx: IssuerContext, provider: ProviderFixture) -> None:
    link = invite(ctx, provider_slug=provider.slug, email=" Ola.Lis@Example.org ", role="issuer", actor="cli")
    assert link.startswith("http://issuer.test/console/invitation/")
    token = link.rsplit("/", 1)[1]
    invited = invitation(ctx, token)
    assert invited is not None and invited.email == OWNER and invited.role == "issuer"
    joined = accept_invitation(ctx, token, name="  Ola   Lis ", password=PASSWORD)
    assert joined.name == "Ola Lis"
    assert invitation(ctx, token) is None
    with pytest.raises(NotFound):
        accept_invitation(ctx, token, name="Someone Else", password="inne-Haslo-calkiem-nowe-42")
    assert attempt(ctx, PASSWORD).outcome == "ok"


def test_an_invitation_expires_after_seven_days(ctx: IssuerContext, provider: ProviderFixture) -> None:
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as traveller:
        token = invite(ctx, provider_slug=provider.slug, email=OWNER, role="owner", actor="cli").rsplit("/", 1)[1]
        traveller.shift(timedelta(days=7) - timedelta(seconds=1))
        assert invitation(ctx, token) is not None
        traveller.shift(timedelta(seconds=2))
        assert invitation(ctx, token) is None
        with pytest.raises(NotFound):
            accept_invitation(ctx, token, name="Ola Lis", password=PASSWORD)


def test_inviting_again_renews_the_link_and_kills_the_old_one(ctx: IssuerContext, provider: ProviderFixture) -> None:
    first = invite(ctx, provider_slug=provider.slug, email=OWNER, role="viewer", actor="cli").rsplit("/", 1)[1]
    second = invite(ctx, provider_slug=provider.slug, email=OWNER, role="owner", actor="cli").rsplit("/", 1)[1]
    assert invitation(ctx, first) is None
    renewed = invitation(ctx, second)
    assert renewed is not None and renewed.role == "owner"
    assert len(list_staff(ctx, provider_id(ctx, provider.slug))) == 1


def test_an_address_with_an_account_elsewhere_cannot_be_invited(
    ctx: IssuerContext, provider: ProviderFixture, owner: Staff
) -> None:
    add_provider(ctx, "umcs")
    with pytest.raises(AlreadyExists):
        invite(ctx, provider_slug="umcs", email=OWNER, role="owner", actor="cli")
    with pytest.raises(AlreadyExists):
        invite(ctx, provider_slug=provider.slug, email=OWNER, role="owner", actor="cli")


def test_invitations_check_provider_role_and_address(ctx: IssuerContext, provider: ProviderFixture) -> None:
    with pytest.raises(NotFound):
        invite(ctx, provider_slug="nowhere", email=OWNER, role="owner", actor="cli")
    with pytest.raises(InvalidInput) as error:
        invite(ctx, provider_slug=None, email=OWNER, role="owner", actor="cli")
    assert error.value.fields[0]["field"] == "role"
    with pytest.raises(InvalidInput):
        invite(ctx, provider_slug=provider.slug, email=OWNER, role="operator", actor="cli")
    with pytest.raises(InvalidInput) as error:
        invite(ctx, provider_slug=provider.slug, email="not an address", role="owner", actor="cli")
    assert error.value.fields[0]["field"] == "email"


def test_accepting_names_the_refused_field(ctx: IssuerContext, provider: ProviderFixture) -> None:
    token = invite(ctx, provider_slug=provider.slug, email=OWNER, role="owner", actor="cli").rsplit("/", 1)[1]
    with pytest.raises(InvalidInput) as error:
        accept_invitation(ctx, token, name="Ola Lis", password="Password1234!")
    assert error.value.fields == [{"field": "password", "message": "too_weak"}]
    with pytest.raises(InvalidInput) as error:
        accept_invitation(ctx, token, name="   ", password=PASSWORD)
    assert error.value.fields[0]["field"] == "name"
    assert invitation(ctx, token) is not None  # a refused attempt does not use the link up


# --------------------------------------------------------------------------------------------------------------
# Sign-in and lockout


def test_signing_in_opens_a_session_and_hands_out_a_device_cookie(ctx: IssuerContext, owner: Staff) -> None:
    result = attempt(ctx, PASSWORD, email="OLA.LIS@example.org ")
    assert result.outcome == "ok" and result.session and result.device
    found = session(ctx, result.session)
    assert found is not None and found[0].id == owner.id


def test_an_unknown_address_and_a_wrong_password_answer_alike_after_the_same_work(
    ctx: IssuerContext, owner: Staff, cheap_argon2: CountingHasher
) -> None:
    before = cheap_argon2.verified
    wrong_password = attempt(ctx, "not-the-password-at-all")
    assert cheap_argon2.verified == before + 1
    unknown = attempt(ctx, "not-the-password-at-all", email="nobody@example.org")
    assert cheap_argon2.verified == before + 2
    assert wrong_password == unknown == SignIn("failed")


def test_five_failures_lock_out_untrusted_browsers_but_not_the_owners_own(ctx: IssuerContext, owner: Staff) -> None:
    device = attempt(ctx, PASSWORD).device
    outcomes = [attempt(ctx, f"guess-number-{n}", client=ATTACKER).outcome for n in range(5)]
    assert outcomes == ["failed"] * 4 + ["locked"]
    refused = attempt(ctx, PASSWORD, client=ATTACKER)
    assert refused.outcome == "locked" and refused.session is None
    assert refused.retry_after is not None and 0 < refused.retry_after <= 15 * 60
    assert attempt(ctx, PASSWORD).outcome == "locked"  # the owner's address, but a browser without the cookie
    assert attempt(ctx, PASSWORD, device=device).outcome == "ok"


def test_unknown_addresses_lock_like_real_ones(ctx: IssuerContext, owner: Staff) -> None:
    outcomes = [attempt(ctx, "guess", email="nobody@example.org").outcome for _ in range(6)]
    assert outcomes == ["failed"] * 4 + ["locked"] * 2


def test_a_forged_or_foreign_device_cookie_is_not_trusted(ctx: IssuerContext, provider: ProviderFixture) -> None:
    owner = join(ctx, provider.slug, OWNER)
    other = join(ctx, provider.slug, "jan.wrona@example.org", role="viewer", name="Jan Wrona")
    genuine = issue_device_cookie(ctx, owner)
    staff_id, nonce, mac = genuine.split(".")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    for _ in range(5):
        attempt(ctx, "guess", client=ATTACKER)
    for cookie in (
        f"{staff_id}.{nonce}.{flipped}",
        f"{staff_id}.{nonce}x.{mac}",
        f"{other.id}.{nonce}.{mac}",
        issue_device_cookie(ctx, other),
        f"{staff_id}.{nonce}",
        "",
    ):
        assert attempt(ctx, PASSWORD, device=cookie).outcome == "locked", cookie
    assert attempt(ctx, PASSWORD, device=genuine).outcome == "ok"


def test_a_device_cookie_has_its_own_budget_of_five(ctx: IssuerContext, owner: Staff) -> None:
    device = attempt(ctx, PASSWORD).device
    for _ in range(5):
        attempt(ctx, "guess", client=ATTACKER)
    assert [attempt(ctx, "typo", device=device).outcome for _ in range(5)] == ["failed"] * 5
    # That browser is now like any other, and the account is locked for those.
    assert attempt(ctx, PASSWORD, device=device).outcome == "locked"


def test_the_lockout_ends_after_the_window(ctx: IssuerContext, owner: Staff) -> None:
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(5):
            attempt(ctx, "guess", client=ATTACKER)
        traveller.shift(timedelta(minutes=14))
        assert attempt(ctx, PASSWORD).outcome == "locked"
        traveller.shift(timedelta(minutes=1, seconds=1))
        assert attempt(ctx, PASSWORD).outcome == "ok"


def test_one_client_address_fails_at_most_twenty_times_across_accounts(ctx: IssuerContext, owner: Staff) -> None:
    device = attempt(ctx, PASSWORD).device
    outcomes = {attempt(ctx, "guess", email=f"n{n}@example.org", client=ATTACKER).outcome for n in range(20)}
    assert outcomes == {"failed"}
    assert attempt(ctx, PASSWORD, client=ATTACKER).outcome == "locked"
    assert attempt(ctx, PASSWORD, client=CLIENT).outcome == "ok"
    # The owner's own browser behind the same address (a shared office NAT) still gets in.
    assert attempt(ctx, PASSWORD, client=ATTACKER, device=device).outcome == "ok"


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(
    ctx: IssuerContext, provider: ProviderFixture, owner: Staff
) -> None:
    viewer = join(ctx, provider.slug, "jan.wrona@example.org", role="viewer", name="Jan Wrona")
    token = attempt(ctx, PASSWORD, email="jan.wrona@example.org").session
    assert token and session(ctx, token) is not None
    assert viewer.id is not None
    assert disable(ctx, viewer.id, provider_id=provider_id(ctx, provider.slug), actor=f"staff:{owner.id}")
    assert session(ctx, token) is None
    assert attempt(ctx, PASSWORD, email="jan.wrona@example.org") == SignIn("failed")
    assert not can(viewer.model_copy(update={"disabled_at": datetime.now(UTC)}), "read")


# --------------------------------------------------------------------------------------------------------------
# TOTP


def enrol(ctx: IssuerContext, staff: Staff) -> str:
    assert staff.id is not None
    secret, uri = begin_totp(ctx, staff.id)
    assert uri.startswith("otpauth://totp/") and "secret=" + secret in uri
    assert not confirm_totp(ctx, staff.id, secret, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert confirm_totp(ctx, staff.id, secret, pyotp.TOTP(secret).now())
    return secret


def test_with_a_second_factor_the_password_alone_grants_nothing(ctx: IssuerContext, owner: Staff) -> None:
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as traveller:
        totp = pyotp.TOTP(enrol(ctx, owner))
        traveller.shift(timedelta(seconds=60))
        result = attempt(ctx, PASSWORD)
        assert result.outcome == "needs_second_factor" and result.session and result.device is None
        assert session(ctx, result.session) is None
        waiting = pending_session(ctx, result.session)
        assert waiting is not None and waiting.id == owner.id
        wrong = "123456" if totp.now() != "123456" else "654321"
        assert not complete_second_factor(ctx, result.session, wrong)
        code = totp.now()
        assert complete_second_factor(ctx, result.session, code)
        assert session(ctx, result.session) is not None
        again = attempt(ctx, PASSWORD).session
        assert again is not None
        assert not complete_second_factor(ctx, again, code)  # the same code does not work twice


def test_two_requests_with_the_same_code_pass_once(ctx: IssuerContext, owner: Staff) -> None:
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        totp = pyotp.TOTP(enrol(ctx, owner))
        traveller.shift(timedelta(seconds=60))
        with ctx.db.read() as db:
            loaded = db.get(Staff, owner.id)  # as both requests read it, before either checks the code
        assert loaded is not None
        code = totp.now()
        assert [verify_totp(ctx, loaded, code), verify_totp(ctx, loaded, code)] == [True, False]


def test_a_code_one_step_old_is_accepted(ctx: IssuerContext, owner: Staff) -> None:
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as traveller:
        totp = pyotp.TOTP(enrol(ctx, owner))
        traveller.shift(timedelta(minutes=5))
        late = totp.at(datetime.now(UTC) - timedelta(seconds=30))
        stale = totp.at(datetime.now(UTC) - timedelta(seconds=90))
        token = attempt(ctx, PASSWORD).session
        assert token is not None
        assert not complete_second_factor(ctx, token, stale)
        assert complete_second_factor(ctx, token, late)


def test_five_wrong_codes_end_the_waiting_session(ctx: IssuerContext, owner: Staff) -> None:
    totp = pyotp.TOTP(enrol(ctx, owner))
    token = attempt(ctx, PASSWORD).session
    assert token is not None
    for n in range(5):
        assert not complete_second_factor(ctx, token, f"{(int(totp.now()) + 1 + n) % 1_000_000:06d}")
    assert not complete_second_factor(ctx, token, totp.now())
    assert pending_session(ctx, token) is None


def test_the_enrolment_qr_code_is_svg() -> None:
    svg = totp_qr_svg("otpauth://totp/Odznaka%20Lublin:x?secret=JBSWY3DPEHPK3PXP&issuer=Odznaka%20Lublin")
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "<path" in svg


# --------------------------------------------------------------------------------------------------------------
# Sessions


def test_a_session_ends_after_thirty_idle_minutes(ctx: IssuerContext, owner: Staff) -> None:
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        token = start_session(ctx, owner, second_factor_done=True)
        traveller.shift(timedelta(minutes=29))
        assert session(ctx, token) is not None
        traveller.shift(timedelta(minutes=29))
        assert session(ctx, token) is not None  # seen 29 minutes ago
        traveller.shift(timedelta(minutes=30))
        assert session(ctx, token) is None
        assert session(ctx, token) is None


def test_a_session_ends_twelve_hours_after_sign_in_however_busy(ctx: IssuerContext, owner: Staff) -> None:
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        token = start_session(ctx, owner, second_factor_done=True)
        for _ in range(11 * 3 + 2):
            traveller.shift(timedelta(minutes=20))
            assert session(ctx, token) is not None
        traveller.shift(timedelta(minutes=20))  # 12 h
        assert session(ctx, token) is None


def test_signing_out_ends_the_session(ctx: IssuerContext, owner: Staff) -> None:
    token = start_session(ctx, owner, second_factor_done=True)
    end_session(ctx, token)
    assert session(ctx, token) is None


def test_a_role_change_ends_the_sessions_and_is_audited(
    ctx: IssuerContext, provider: ProviderFixture, owner: Staff
) -> None:
    issuer = join(ctx, provider.slug, "jan.wrona@example.org", role="issuer", name="Jan Wrona")
    token = attempt(ctx, PASSWORD, email="jan.wrona@example.org").session
    assert token is not None and issuer.id is not None
    change_role(ctx, issuer.id, "viewer", provider_id=provider_id(ctx, provider.slug), actor=f"staff:{owner.id}")
    assert session(ctx, token) is None
    [entry] = [entry for entry in audit_entries(ctx) if entry.action == "staff.role_changed"]
    assert entry.subject == f"staff:{issuer.id}" and entry.details == {"from": "issuer", "to": "viewer"}


def test_the_last_owner_can_be_neither_demoted_nor_disabled(
    ctx: IssuerContext, provider: ProviderFixture, owner: Staff
) -> None:
    here = provider_id(ctx, provider.slug)
    assert owner.id is not None
    with pytest.raises(InvalidInput) as error:
        change_role(ctx, owner.id, "viewer", provider_id=here, actor=f"staff:{owner.id}")
    assert error.value.fields == [{"field": "role", "message": "last_owner"}]
    with pytest.raises(InvalidInput):
        disable(ctx, owner.id, provider_id=here, actor=f"staff:{owner.id}")
    second = join(ctx, provider.slug, "jan.wrona@example.org", role="issuer", name="Jan Wrona")
    assert second.id is not None
    change_role(ctx, second.id, "owner", provider_id=here, actor=f"staff:{owner.id}")
    change_role(ctx, owner.id, "viewer", provider_id=here, actor=f"staff:{second.id}")
    assert {member.email: member.role for member in list_staff(ctx, here)} == {
        OWNER: "viewer",
        "jan.wrona@example.org": "owner",
    }


def test_another_providers_staff_is_out_of_reach(ctx: IssuerContext, provider: ProviderFixture, owner: Staff) -> None:
    add_provider(ctx, "umcs")
    assert owner.id is not None
    with pytest.raises(NotFound):
        change_role(ctx, owner.id, "viewer", provider_id=provider_id(ctx, "umcs"), actor="staff:99")
    with pytest.raises(NotFound):
        disable(ctx, owner.id, provider_id=provider_id(ctx, "umcs"), actor="staff:99", keep_owner=False)


# --------------------------------------------------------------------------------------------------------------
# CSRF


def test_csrf_tokens_are_bound_to_the_session(ctx: IssuerContext, owner: Staff) -> None:
    mine = start_session(ctx, owner, second_factor_done=True)
    theirs = start_session(ctx, owner, second_factor_done=True)
    token = csrf_token(ctx, mine)
    assert check_csrf(ctx, mine, token)
    assert not check_csrf(ctx, theirs, token)
    assert not check_csrf(ctx, mine, token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert not check_csrf(ctx, mine, "")
    assert not check_csrf(ctx, mine, "ż" * len(token))


def test_the_anonymous_csrf_pair_is_worthless_without_the_key(ctx: IssuerContext) -> None:
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as traveller:
        cookie, field = anonymous_csrf(ctx)
        other_cookie, other_field = anonymous_csrf(ctx)
        assert check_anonymous_csrf(ctx, cookie, field)
        assert not check_anonymous_csrf(ctx, other_cookie, field)
        assert not check_anonymous_csrf(ctx, cookie, other_field)
        issued, mac = field.split(".")
        assert not check_anonymous_csrf(ctx, cookie, f"{int(issued) + 1}.{mac}")
        assert not check_anonymous_csrf(ctx, "planted-by-an-attacker", field)
        assert not check_anonymous_csrf(ctx, cookie, "garbage")
        traveller.shift(timedelta(hours=2, seconds=1))
        assert not check_anonymous_csrf(ctx, cookie, field)


# --------------------------------------------------------------------------------------------------------------
# Roles and the audit log


def test_roles_and_permissions(ctx: IssuerContext, provider: ProviderFixture) -> None:
    operator = join(ctx, None, "operator@example.org", role="operator", name="Urząd Miasta")
    assert operator.provider_id is None and operator.role == "operator"
    assert [action for action in ACTIONS if can(operator, action)] == ["read"]
    viewer = join(ctx, provider.slug, "jan.wrona@example.org", role="viewer", name="Jan Wrona")
    issuer = join(ctx, provider.slug, "ewa.sowa@example.org", role="issuer", name="Ewa Sowa")
    owner = join(ctx, provider.slug, OWNER)
    assert [action for action in ACTIONS if can(viewer, action)] == ["read"]
    assert not can(issuer, "manage_staff") and not can(issuer, "manage_api_keys") and can(issuer, "revoke")
    assert all(can(owner, action) for action in ACTIONS)
    assert [member.email for member in list_staff(ctx, None)] == ["operator@example.org"]


def test_audit_entries_are_written_and_hold_no_address_or_name(
    ctx: IssuerContext, provider: ProviderFixture, owner: Staff
) -> None:
    attempt(ctx, PASSWORD)
    for _ in range(6):
        attempt(ctx, "guess", client=ATTACKER)
    attempt(ctx, "guess", email="nobody@example.org")
    enrol(ctx, owner)
    entries = audit_entries(ctx)
    actions = {entry.action for entry in entries}
    expected = {"staff.invited", "staff.joined", "staff.signed_in", "staff.sign_in_failed", "staff.locked"}
    assert expected | {"staff.second_factor_on"} <= actions
    reasons = {entry.details["reason"] for entry in entries if entry.action == "staff.sign_in_failed"}
    assert reasons == {"password", "locked"}
    assert {entry.subject for entry in entries if entry.action == "staff.sign_in_failed"} == {
        f"staff:{owner.id}",
        "unknown",
    }
    for entry in entries:
        text = " ".join([entry.actor, entry.subject, json.dumps(entry.details, ensure_ascii=False)])
        assert "@" not in text and "Lis" not in text and CLIENT not in text and ATTACKER not in text, entry


# --------------------------------------------------------------------------------------------------------------
# issuer staff …


@pytest.fixture
def staff_cli(issuer_cli: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """Run ``issuer staff …`` (the environment is the one ``issuer_cli`` sets up)."""
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """The issuer CLI, with only its staff commands."""

    app.add_typer(staff_app, name="staff")
    runner = CliRunner()

    def run(*args: str) -> Any:
        get_settings.cache_clear()
        return runner.invoke(app, list(args))

    yield run


def test_staff_add_prints_a_link_that_invites(
    staff_cli: Callable[..., Any], ctx: IssuerContext, provider: ProviderFixture
) -> None:
    result = staff_cli("staff", "add", provider.slug, OWNER, "--role", "issuer")
    assert result.exit_code == 0, result.output
    [link] = [line for line in result.output.splitlines() if line.startswith("http://issuer.test/console/")]
    assert "expires " in result.output
    invited = invitation(ctx, link.rsplit("/", 1)[1])
    assert invited is not None and invited.email == OWNER and invited.role == "issuer"
    listed = staff_cli("staff", "list", provider.slug)
    assert listed.exit_code == 0 and OWNER in listed.output and "invited" in listed.output


def test_staff_add_refuses_an_unknown_provider(staff_cli: Callable[..., Any]) -> None:
    result = staff_cli("staff", "add", "nowhere", OWNER)
    assert result.exit_code != 0
    assert "There is no provider 'nowhere'" in result.output


def test_staff_add_operator_and_disable(staff_cli: Callable[..., Any], ctx: IssuerContext, owner: Staff) -> None:
    added = staff_cli("staff", "add-operator", "operator@example.org")
    assert added.exit_code == 0, added.output
    token = attempt(ctx, PASSWORD).session
    assert token is not None
    disabled = staff_cli("staff", "disable", OWNER)  # even the last owner: the operator may
    assert disabled.exit_code == 0, disabled.output
    assert session(ctx, token) is None
    assert staff_cli("staff", "disable", "nobody@example.org").exit_code != 0
