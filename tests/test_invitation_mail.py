"""An owner invites a colleague from the console: the one-time link goes out by e-mail at once (and is shown once
on the page, in case the message does not arrive); it is never stored anywhere but in the message."""

from __future__ import annotations

import email
import re
from email import policy
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from issuer import staff
from issuer.context import IssuerContext
from issuer.models import Delivery
from tests.conftest import csrf_of


def invite(owner_console: TestClient, ctx: IssuerContext, address: str, lang: str = "pl") -> Any:
    form = {"csrf": csrf_of(owner_console, ctx), "email": address, "role": "issuer"}
    return owner_console.post(f"/console/wsei/staff?lang={lang}", data=form)


def test_the_invitation_is_e_mailed_and_its_link_works_once(owner_console: TestClient, ctx: IssuerContext) -> None:
    response = invite(owner_console, ctx, "nowa.osoba@wsei.example")
    assert response.status_code == 200
    assert "Wysłaliśmy zaproszenie e-mailem" in response.text.replace("\u00a0", " ")
    [path] = list(ctx.settings.mail_folder.glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "nowa.osoba@wsei.example"
    assert message["Subject"] == "Zaproszenie do panelu organizatora: Wyższa Szkoła Ekonomii i Innowacji"
    body = message.get_content()
    [link] = re.findall(r"http://issuer\.test/console/invitation/\S+", body)
    assert link in response.text  # the same link, shown once on the page
    token = link.rsplit("/", 1)[-1]
    assert staff.invitation(ctx, token) is not None
    with ctx.db.read() as session:
        assert list(session.scalars(select(Delivery))) == []  # not through the outbox: the link is never stored


def test_the_invitation_speaks_the_inviter_s_language(owner_console: TestClient, ctx: IssuerContext) -> None:
    invite(owner_console, ctx, "nova@wsei.example", lang="uk")
    [path] = list(ctx.settings.mail_folder.glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["Subject"].startswith("Запрошення до панелі організатора")
    assert "роль: видавець" in message.get_content()


def test_when_the_mail_cannot_go_the_page_says_to_pass_the_link_on(
    owner_console: TestClient, ctx: IssuerContext, monkeypatch: Any
) -> None:
    from issuer.mail import DeliveryFailed

    class Refusing:
        def send(self, _message: Any) -> None:
            raise DeliveryFailed("connection refused", permanent=False)

    monkeypatch.setattr(ctx, "_mailer", Refusing())
    response = invite(owner_console, ctx, "ktos@wsei.example")
    assert response.status_code == 200
    page = response.text.replace("\u00a0", " ")
    assert "Skopiuj ten jednorazowy link" in page and "/console/invitation/" in page
