"""The console's badge pages: made and changed through the form (each change a new version, credentials issued
before untouched), EU micro-credential elements named when missing, images, archiving, the learner's-page
preview, and who may do what: another provider's staff finds nothing, a viewer changes nothing."""

from __future__ import annotations

import html
import io
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from issuer.achievements import input_of
from issuer.console import achievement_pages, profile_pages
from issuer.console.achievement_form import values_of_input
from issuer.console.achievement_pages import UPLOAD_ROUTES
from issuer.context import IssuerContext
from issuer.models import Achievement, AchievementImage, AuditEntry, Credential
from tests.conftest import (
    PLAIN_ACHIEVEMENT,
    ProviderFixture,
    add_provider,
    add_staff,
    console_client,
    csrf_of,
    issue,
    verify,
)
from tests.helpers import EU_ACHIEVEMENT

PLAIN_FORM = {
    "name": "Analiza danych w Pythonie",
    "description": "Czyści i analizuje dane w bibliotece pandas.",
    "criteria": "Projekt końcowy oceniony na co najmniej 60%.",
    "achievementType": "Course",
    "tag": "dane, pandas ,, Python",
    "validityMonths": "24",
    "align-0-url": "https://data.europa.eu/esco/skill/analyse-data",
    "align-0-name": "analizować dane",
    "align-0-framework": "ESCO",
    "align-0-code": "",
    "align-1-url": "",
    "align-1-name": "",
    "tr-en-name": "Data analysis in Python",
    "tr-en-description": "Cleans and analyses data with pandas.",
    "tr-en-criteria": "",
    "tr-uk-name": "",
    "tr-uk-description": "",
    "tr-uk-criteria": "",
}
EU_FORM = {
    **PLAIN_FORM,
    "name": "Mikropoświadczenie: analiza danych",
    "eu": "on",
    "mc-learningOutcomes": "Importuje i czyści dane\n\nBuduje raport w Power BI\n",
    "mc-ects": "2,5",
    "mc-workloadHours": "",
    "mc-eqfLevel": "5",
    "mc-prkLevel": "5",
    "mc-assessment": "Projekt końcowy oceniany przez dwie osoby",
    "mc-participation": "blended",
    "mc-qualityAssurance": "Wewnętrzny system zapewniania jakości uczelni",
    "mc-prerequisites": "",
    "mc-supervision": "Weryfikacja tożsamości na egzaminie",
    "mc-stackability": "",
    "mc-furtherInformation": "",
}


def text(response: Any) -> str:
    return str(response.text).replace("\u00a0", " ")


def typed(response: Any) -> str:
    """The page with character references read, as a browser fills its form fields (no-break spaces kept)."""
    return html.unescape(str(response.text))


def uuid_of(achievement: dict[str, Any]) -> str:
    return str(achievement["id"]).rsplit("/", 1)[-1]


def stored(ctx: IssuerContext, achievement_id: str) -> Achievement:
    with ctx.db.read() as session:
        found = session.get(Achievement, achievement_id)
    assert found is not None
    return found


def all_achievements(ctx: IssuerContext) -> list[Achievement]:
    with ctx.db.read() as session:
        return list(session.exec(select(Achievement)).all())


def audit_actions(ctx: IssuerContext) -> list[AuditEntry]:
    with ctx.db.read() as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all())  # type: ignore[arg-type]


def post(client: TestClient, ctx: IssuerContext, path: str, form: dict[str, str], **kwargs: Any) -> Any:
    return client.post(path, data={"csrf": csrf_of(client, ctx), **form}, **kwargs)


def created_id(response: Any) -> str:
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/console/wsei/achievements/([0-9a-f-]{36})\?done=ach_\w+", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def png_of(size: tuple[int, int], colour: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("pl", ("Odznaki", "Nowa odznaka", "Mikropoświadczenie UE", "Historia wersji", "Podgląd", "Anna Przykładowa")),
        ("en", ("Badges", "New badge", "EU micro-credential", "Version history", "Preview", "Anna Przykładowa")),
        ("uk", ("Бейджі", "Новий бейдж", "Мікрокваліфікація ЄС", "Історія версій", "Попередній перегляд", "Anna")),
    ],
)
def test_every_badge_page_speaks_each_language(
    owner_console: TestClient, achievement: dict[str, Any], lang: str, words: tuple[str, ...]
) -> None:
    base = f"/console/wsei/achievements/{uuid_of(achievement)}"
    pages = {
        "/console/wsei/achievements": words[:2],
        "/console/wsei/achievements/new": words[2:3],
        base: words[3:4],
        f"{base}/edit": words[2:3],
        f"{base}/preview": words[4:6],
    }
    for path, expected in pages.items():
        response = owner_console.get(f"{path}?lang={lang}")
        assert response.status_code == 200, (path, response.text)
        assert f'<html lang="{lang}">' in response.text
        for word in expected:
            assert word in text(response), (path, word)
        assert "Podstawy Pythona" in text(response) or path.endswith("/new")


def test_a_plain_badge_is_made_through_the_form(owner_console: TestClient, ctx: IssuerContext) -> None:
    response = post(owner_console, ctx, "/console/wsei/achievements/new", PLAIN_FORM)
    record = stored(ctx, created_id(response))
    document = record.document
    assert document["name"] == "Analiza danych w Pythonie"
    assert document["criteria"] == {"narrative": "Projekt końcowy oceniony na co najmniej 60%."}
    assert document["achievementType"] == "Course"
    assert document["tag"] == ["dane", "pandas", "Python"]
    assert document["alignment"] == [
        {
            "type": ["Alignment"],
            "targetUrl": "https://data.europa.eu/esco/skill/analyse-data",
            "targetName": "analizować dane",
            "targetFramework": "ESCO",
        }
    ]
    assert record.validity_months == 24 and record.version == 1 and not record.eu_micro_credential
    assert record.translations == {
        "en": {"name": "Data analysis in Python", "description": "Cleans and analyses data with pandas."}
    }
    page = text(owner_console.get(response.headers["location"]))
    assert "Odznaka została zapisana." in page
    assert "Analiza danych w Pythonie" in page and "analizować dane" in page and "Data analysis in Python" in page
    assert [entry.action for entry in audit_actions(ctx)][-1] == "achievement.created"


def test_an_eu_badge_is_made_through_the_form(owner_console: TestClient, ctx: IssuerContext) -> None:
    record = stored(ctx, created_id(post(owner_console, ctx, "/console/wsei/achievements/new", EU_FORM)))
    document = record.document
    assert record.eu_micro_credential
    assert document["creditsAvailable"] == 2.5, "a Polish decimal comma is read"
    by_type = {entry.get("targetType"): entry for entry in document["alignment"]}
    outcomes = [
        entry["targetName"] for entry in document["alignment"] if entry.get("targetType") == "ext:LearningOutcome"
    ]
    assert outcomes == ["Importuje i czyści dane", "Buduje raport w Power BI"], "one per line, empty lines skipped"
    assert by_type["ext:EQF"]["targetCode"] == "5" and by_type["ext:PRK"]["targetCode"] == "5"
    assert by_type["ext:ParticipationForm"]["targetCode"] == "blended"
    assert by_type["ext:AssessmentType"]["targetName"] == "Projekt końcowy oceniany przez dwie osoby"
    assert by_type["ext:Supervision"]["targetName"] == "Weryfikacja tożsamości na egzaminie"
    assert "ext:Prerequisites" not in by_type
    assert by_type[None]["targetName"] == "analizować dane", "the ESCO skill sits beside the EU elements"


@pytest.mark.parametrize(
    ("lang", "ects", "assessment"),
    [("pl", "Punkty ECTS", "Sposób weryfikacji efektów"), ("en", "ECTS credits", "Type of assessment")],
)
def test_an_eu_badge_missing_ects_and_assessment_names_both_and_keeps_what_was_typed(
    owner_console: TestClient, ctx: IssuerContext, lang: str, ects: str, assessment: str
) -> None:
    form = {**EU_FORM, "mc-ects": "", "mc-workloadHours": "", "mc-assessment": "  "}
    response = post(owner_console, ctx, f"/console/wsei/achievements/new?lang={lang}", form)
    assert response.status_code == 422
    page = text(response)
    summary = page[page.index('id="error-summary"') : page.index("</div>", page.index('id="error-summary"'))]
    assert re.search(rf'<a href="#mc-ects">{ects}: [^<]+</a>', summary), summary
    assert re.search(rf'<a href="#mc-assessment">{assessment}: [^<]+</a>', summary), summary
    assert summary.count("<li>") == 2, "nothing else is wrong"
    ects_field = 'id="mc-ects" name="mc-ects" type="text" value=""'
    assert f'{ects_field} aria-describedby="mc-ects-hint mc-ects-error" aria-invalid="true"' in page
    assert 'aria-describedby="mc-assessment-error" aria-invalid="true"' in page
    assert 'id="mc-ects-error"' in page and 'id="mc-assessment-error"' in page
    # What was typed stays, exactly (no typesetting spaces slipped into the values).
    fields = typed(response)
    assert 'value="Mikropoświadczenie: analiza danych"' in fields
    assert ">Importuje i czyści dane\n\nBuduje raport w Power BI\n</textarea>" in fields
    assert ">Wewnętrzny system zapewniania jakości uczelni</textarea>" in fields
    assert '<option value="5" selected>5</option>' in fields
    assert 'value="blended" checked' in fields and 'name="eu" value="on" aria-describedby="eu-hint" checked' in fields
    assert 'value="https://data.europa.eu/esco/skill/analyse-data"' in fields
    assert all_achievements(ctx) == []


def test_wrong_values_are_named_by_their_labels_all_at_once(owner_console: TestClient, ctx: IssuerContext) -> None:
    form = {
        **EU_FORM,
        "name": "",
        "validityMonths": "dwa lata",
        "align-1-name": "bez adresu",
        "tr-uk-description": "Опис без назви",
        "mc-ects": "dużo",
        "mc-eqfLevel": "",
    }
    response = post(owner_console, ctx, "/console/wsei/achievements/new?lang=en", form)
    assert response.status_code == 422
    page = text(response)
    for anchor, label in [
        ("name", "Badge name: Fill this in."),
        ("validityMonths", "Valid for (months): Enter a whole number."),
        ("align-1-url", "Alignment 2: Address (URL): Fill this in."),
        ("tr-uk-name", "Name (in Ukrainian): Fill this in."),
        ("mc-ects", "ECTS credits: Enter a number"),
    ]:
        assert f'<a href="#{anchor}">{label}' in page, anchor
    assert ">Опис без назви</textarea>" in typed(response)
    assert all_achievements(ctx) == []


def test_an_edit_makes_version_two_and_the_first_stays_as_issued(
    owner_console: TestClient,
    issuer: TestClient,
    verifier: TestClient,
    ctx: IssuerContext,
    provider: ProviderFixture,
    achievement: dict[str, Any],
) -> None:
    old_id = uuid_of(achievement)
    before = issue(issuer, provider, achievement)
    upload = owner_console.post(
        f"/console/wsei/achievements/{old_id}/image",
        data={"csrf": csrf_of(owner_console, ctx)},
        files={"image": ("odznaka.png", png_of((128, 128)), "image/png")},
    )
    assert upload.status_code == 303, upload.text

    form_page = owner_console.get(f"/console/wsei/achievements/{old_id}/edit")
    assert 'value="Podstawy Pythona"' in typed(form_page) and "wersję 2" in text(form_page)
    changed = {**values_of_input(input_of(stored(ctx, old_id))), "name": "Podstawy Pythona (edycja 2027)"}
    new_id = created_id(post(owner_console, ctx, f"/console/wsei/achievements/{old_id}/edit", changed))

    old, new = stored(ctx, old_id), stored(ctx, new_id)
    assert new_id != old_id
    assert (new.version, new.previous_id, new.archived_at) == (2, old_id, None)
    assert old.replaced_by == new_id and old.archived_at is not None
    assert old.document["name"] == "Podstawy Pythona", "the old version is not changed"
    assert new.document["name"] == "Podstawy Pythona (edycja 2027)"
    assert new.document["criteria"] == old.document["criteria"]
    assert new.document["image"]["id"] == f"{new.document['id']}/image", "the image is the new version's own"
    with ctx.db.read() as session:
        images = {image.achievement_id: image.data for image in session.exec(select(AchievementImage)).all()}
    assert images[new_id] == images[old_id]

    report = verify(verifier, before["jwt"])
    assert report["verdict"] == "valid", report
    assert report["credential"]["achievement"]["name"] == "Podstawy Pythona"

    view = text(owner_console.get(f"/console/wsei/achievements/{new_id}"))
    assert f'href="/console/wsei/achievements/{old_id}"' in view and "Wersja 1 z " in view
    old_view = text(owner_console.get(f"/console/wsei/achievements/{old_id}"))
    assert "archiwalna" in old_view and f'href="/console/wsei/achievements/{new_id}"' in old_view
    assert f"/achievements/{old_id}/edit" not in old_view and "/archive" not in old_view

    # Nothing more is issued from, or changed in, the archived version.
    refused = post(
        owner_console,
        ctx,
        "/console/wsei/issue",
        {"achievement": old_id, "name": "Jan Kowalski", "email": "jan@example.org", "notify": "on", "language": "pl"},
    )
    assert refused.status_code == 422 and "archiwalna" in text(refused)
    again = post(owner_console, ctx, f"/console/wsei/achievements/{old_id}/edit", changed)
    assert again.status_code == 422 and "archiwalna" in text(again)
    with ctx.db.read() as session:
        assert len(session.exec(select(Credential)).all()) == 1
    assert owner_console.get(f"/console/wsei/achievements/{old_id}/edit").status_code == 303

    entry = [entry for entry in audit_actions(ctx) if entry.action == "achievement.versioned"][-1]
    assert entry.actor.startswith("staff:") and entry.subject == new.document["id"]
    assert entry.details == {"previous": old.document["id"], "version": 2}


def test_an_eu_badge_saved_unchanged_through_the_form_says_the_same(
    owner_console: TestClient, issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture
) -> None:
    created = issuer.post(
        "/api/v1/achievements", json={**EU_ACHIEVEMENT, "validityMonths": 12}, headers=provider.headers
    )
    assert created.status_code == 201, created.text
    old_id = uuid_of(created.json())
    form = typed(owner_console.get(f"/console/wsei/achievements/{old_id}/edit"))
    assert ">Importuje i czyści dane\nBuduje raport</textarea>" in form
    assert 'value="https://data.europa.eu/esco/skill/analyse-data"' in form and 'value="blended" checked' in form

    values = values_of_input(input_of(stored(ctx, old_id)))
    new_id = created_id(post(owner_console, ctx, f"/console/wsei/achievements/{old_id}/edit", values))
    old, new = stored(ctx, old_id), stored(ctx, new_id)
    moved = json.dumps(old.document).replace(old_id, new_id)
    assert new.document == json.loads(moved)
    assert (new.validity_months, new.eu_micro_credential) == (12, True)


def test_archiving_stops_issuing_and_keeps_the_page(
    owner_console: TestClient, ctx: IssuerContext, achievement: dict[str, Any]
) -> None:
    achievement_id = uuid_of(achievement)
    response = post(owner_console, ctx, f"/console/wsei/achievements/{achievement_id}/archive", {})
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/wsei/achievements/{achievement_id}?done=ach_archived"
    assert stored(ctx, achievement_id).archived_at is not None
    page = text(owner_console.get(response.headers["location"]))
    assert "Odznaka trafiła do archiwum." in page and "nie można z niej wydawać" in page
    listing = text(owner_console.get("/console/wsei/achievements"))
    assert "archiwalna" in listing
    issue_page = text(owner_console.get("/console/wsei/issue"))
    assert achievement_id not in issue_page, "an archived badge is not offered for issuing"
    assert [entry.action for entry in audit_actions(ctx)][-1] == "achievement.archived"
    again = post(owner_console, ctx, f"/console/wsei/achievements/{achievement_id}/archive", {})
    assert again.status_code == 303
    assert [entry.action for entry in audit_actions(ctx)].count("achievement.archived") == 1


def test_an_image_is_uploaded_or_refused_in_the_readers_words(
    owner_console: TestClient, ctx: IssuerContext, achievement: dict[str, Any]
) -> None:
    achievement_id = uuid_of(achievement)
    path = f"/console/wsei/achievements/{achievement_id}/image"
    csrf = {"csrf": csrf_of(owner_console, ctx)}

    refused = owner_console.post(path, data=csrf, files={"image": ("cv.png", b"not an image at all", "image/png")})
    assert refused.status_code == 422
    assert "Tego obrazu nie można użyć" in text(refused)
    assert 'aria-describedby="image-hint image-error" aria-invalid="true"' in refused.text
    missing = owner_console.post(path, data=csrf, files={"image": ("", b"", "application/octet-stream")})
    assert missing.status_code == 422 and "Wybierz plik z obrazem." in text(missing)
    tiny = {"image": ("tiny.png", png_of((20, 20)), "image/png")}
    small = owner_console.post(f"{path}?lang=en", data=csrf, files=tiny)
    assert small.status_code == 422
    assert "This image cannot be used." in text(small) and '<span lang="en">The image is 20' in small.text
    with ctx.db.read() as session:
        assert session.get(AchievementImage, achievement_id) is None

    good = owner_console.post(path, data=csrf, files={"image": ("odznaka.png", png_of((200, 200)), "image/png")})
    assert good.status_code == 303 and good.headers["location"].endswith("?done=ach_image")
    record = stored(ctx, achievement_id)
    assert record.document["image"]["id"] == f"{record.document['id']}/image"
    with ctx.db.read() as session:
        image = session.get(AchievementImage, achievement_id)
    assert image is not None and image.media_type == "image/png"
    assert "Obraz odznaki został zapisany." in text(owner_console.get(good.headers["location"] + "&lang=pl"))


def test_the_preview_shows_the_learners_page_with_a_sample_learner_and_issues_nothing(
    owner_console: TestClient, issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture
) -> None:
    created = issuer.post(
        "/api/v1/achievements", json={**EU_ACHIEVEMENT, "validityMonths": 24}, headers=provider.headers
    )
    achievement_id = uuid_of(created.json())
    response = owner_console.get(f"/console/wsei/achievements/{achievement_id}/preview")
    assert response.status_code == 200
    page = text(response)
    assert "Anna Przykładowa" in page and "Analiza danych w Power BI" in page
    assert "Podgląd" in page and "nic nie zostało wydane" in page
    assert "Przyznane dla" in page and "Efekty uczenia się" in page and "Buduje raport" in page
    assert "analizować dane" in page and "Wyższa Szkoła Ekonomii i Innowacji" in page
    assert "/qr" not in page and "linkedin" not in page.lower(), "no QR code or sharing of a real credential"
    assert f'src="/achievements/{achievement_id}/image"' in page
    english = text(owner_console.get(f"/console/wsei/achievements/{achievement_id}/preview?lang=en"))
    assert "Awarded to" in english and "Anna Przykładowa" in english
    with ctx.db.read() as session:
        assert session.exec(select(Credential)).all() == []


def test_another_providers_owner_finds_none_of_these_pages(
    issuer_app: Any, ctx: IssuerContext, owner_console: TestClient, achievement: dict[str, Any]
) -> None:
    add_provider(ctx, "umcs", name="Uniwersytet Marii Curie-Skłodowskiej")
    with console_client(issuer_app, ctx, add_staff(ctx, "umcs", "wlasciciel@umcs.example", "owner")) as other:
        achievement_id = uuid_of(achievement)
        csrf = {"csrf": csrf_of(other, ctx)}
        for slug in ("wsei", "umcs"):
            base = f"/console/{slug}/achievements"
            own = f"{base}/{achievement_id}"
            gets = [f"{own}", f"{own}/edit", f"{own}/preview"]
            if slug == "wsei":
                gets += [base, f"{base}/new"]
            for path in gets:
                assert other.get(path).status_code == 404, path
            posts = [f"{own}/edit", f"{own}/archive", f"{own}/image"] + ([f"{base}/new"] if slug == "wsei" else [])
            for path in posts:
                response = other.post(
                    path,
                    data={**csrf, **PLAIN_FORM},
                    files={"image": ("a.png", png_of((100, 100)), "image/png")} if path.endswith("/image") else None,
                )
                assert response.status_code == 404, path
    record = stored(ctx, achievement_id)
    assert record.archived_at is None and "image" not in record.document and record.replaced_by is None
    assert len(all_achievements(ctx)) == 1


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_a_viewer_sees_no_forms_and_cannot_post(
    issuer_app: Any, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any], role: str
) -> None:
    member = add_staff(ctx, None if role == "operator" else "wsei", f"{role}@wsei.example", role)
    achievement_id = uuid_of(achievement)
    base = "/console/wsei/achievements"
    with console_client(issuer_app, ctx, member) as client:
        listing = text(client.get(base))
        assert "Podstawy Pythona" in listing and f"{base}/new" not in listing
        view = client.get(f"{base}/{achievement_id}")
        assert view.status_code == 200
        assert "<form" not in view.text.replace('<form method="post" action="/console/sign-out"', "")
        assert f"{achievement_id}/edit" not in view.text and "/archive" not in view.text
        assert client.get(f"{base}/{achievement_id}/preview").status_code == 200
        assert client.get(f"{base}/new").status_code == 403
        assert client.get(f"{base}/{achievement_id}/edit").status_code == 403
        csrf = {"csrf": csrf_of(client, ctx)}
        assert client.post(f"{base}/new", data={**csrf, **PLAIN_FORM}).status_code == 403
        assert client.post(f"{base}/{achievement_id}/edit", data={**csrf, **PLAIN_FORM}).status_code == 403
        assert client.post(f"{base}/{achievement_id}/archive", data=csrf).status_code == 403
        image = {"image": ("a.png", png_of((100, 100)), "image/png")}
        assert client.post(f"{base}/{achievement_id}/image", data=csrf, files=image).status_code == 403
    record = stored(ctx, achievement_id)
    assert record.archived_at is None and "image" not in record.document
    assert len(all_achievements(ctx)) == 1


def test_a_form_without_its_csrf_token_changes_nothing(
    owner_console: TestClient, ctx: IssuerContext, achievement: dict[str, Any]
) -> None:
    achievement_id = uuid_of(achievement)
    base = "/console/wsei/achievements"
    assert owner_console.post(f"{base}/new", data=PLAIN_FORM).status_code == 403
    assert owner_console.post(f"{base}/{achievement_id}/edit", data=PLAIN_FORM).status_code == 403
    assert owner_console.post(f"{base}/{achievement_id}/archive", data={"csrf": "forged"}).status_code == 403
    image = {"image": ("a.png", png_of((100, 100)), "image/png")}
    assert owner_console.post(f"{base}/{achievement_id}/image", files=image).status_code == 403
    record = stored(ctx, achievement_id)
    assert record.archived_at is None and "image" not in record.document
    assert len(all_achievements(ctx)) == 1


def test_the_api_cannot_change_the_image_of_an_archived_version(
    owner_console: TestClient,
    issuer: TestClient,
    ctx: IssuerContext,
    provider: ProviderFixture,
    achievement: dict[str, Any],
) -> None:
    achievement_id = uuid_of(achievement)
    post(owner_console, ctx, f"/console/wsei/achievements/{achievement_id}/archive", {})
    headers = {**provider.headers, "Content-Type": "image/png"}
    response = issuer.put(f"/api/v1/achievements/{achievement_id}/image", content=png_of((100, 100)), headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == [{"field": "achievement", "message": "archived"}]
    assert PLAIN_ACHIEVEMENT["name"] == stored(ctx, achievement_id).document["name"]


def test_the_upload_limits_name_the_upload_routes() -> None:
    routes = {
        (method, route.path)
        for module in (achievement_pages, profile_pages)
        for route in module.router.routes
        for method in getattr(route, "methods", ())
    }
    assert set(UPLOAD_ROUTES) <= routes
    assert all(limit > 1024 * 1024 for limit in UPLOAD_ROUTES.values()), "a 1 MiB image fits with its form around it"
