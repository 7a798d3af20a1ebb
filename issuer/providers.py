"""Training providers: creation, their signing keys, and what they publish (profile, JWKS, did:web)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from credentials.keys import SIGNING_ALGORITHMS
from credentials.ob3 import CONTEXTS
from issuer import audit, repository
from issuer.context import IssuerContext
from issuer.errors import AlreadyExists, InvalidInput, NotFound
from issuer.models import Provider, ProviderImage, utcnow
from issuer.signing_keys import add_key, published_jwk
from issuer.uploaded_images import clean_image

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
COUNTRY = re.compile(r"[A-Z]{2}")


def create_provider(
    ctx: IssuerContext,
    slug: str,
    *,
    name: str,
    url: str | None = None,
    email: str | None = None,
    country: str | None = None,
    region: str | None = None,
    description: str | None = None,
    image: str | None = None,
    algorithm: str | None = None,
    actor: str = "cli",
) -> Provider:
    """Create a provider and its first active signing key, for ``algorithm`` (default ``ISSUER_KEY_ALGORITHM``).

    Raises ``AlreadyExists`` or ``InvalidInput``.
    """
    algorithm = algorithm or ctx.settings.key_algorithm
    problems = []
    if algorithm not in SIGNING_ALGORITHMS:
        problems.append({"field": "algorithm", "message": f"choose from {', '.join(SIGNING_ALGORITHMS)}"})
    if not SLUG.fullmatch(slug):
        problems.append({"field": "slug", "message": "use 1-64 lower-case letters, digits and hyphens"})
    if not name.strip():
        problems.append({"field": "name", "message": "must not be empty"})
    if country is not None and not COUNTRY.fullmatch(country.upper()):
        problems.append({"field": "country", "message": "use an ISO 3166-1 alpha-2 code such as PL"})
    for field, value in (("url", url), ("image", image)):
        if value is not None and not value.startswith(("http://", "https://")):
            problems.append({"field": field, "message": "must be an http(s) URL"})
    if problems:
        raise InvalidInput("The provider cannot be created.", fields=problems)
    issuer_id = ctx.urls.issuer_id(slug)
    try:
        with ctx.db.write() as session:
            if repository.provider_by_slug(session, slug) is not None:
                raise AlreadyExists(f"A provider '{slug}' already exists.", slug=slug)
            provider = Provider(
                slug=slug,
                name=name.strip(),
                url=url,
                email=email,
                country=country.upper() if country else None,
                region=region,
                description=description,
                image=image,
                key_algorithm=algorithm,
            )
            session.add(provider)
            session.flush()
            assert provider.id is not None
            audit.record(session, actor=actor, action="provider.created", subject=issuer_id, provider_id=provider.id)
            add_key(ctx, session, provider, alg=algorithm, activates_at=utcnow(), actor=actor, reason="provider")
    except IntegrityError as exc:  # a concurrent create of the same slug
        raise AlreadyExists(f"A provider '{slug}' already exists.", slug=slug) from exc
    return provider


def get_provider(ctx: IssuerContext, slug: str) -> Provider:
    with ctx.db.read() as session:
        provider = repository.provider_by_slug(session, slug)
    if provider is None:
        raise NotFound(f"There is no provider '{slug}'.")
    return provider


def profile_document(ctx: IssuerContext, provider: Provider, *, with_context: bool) -> dict[str, Any]:
    """The provider's Open Badges ``Profile``; embedded as the credential's ``issuer``."""
    profile: dict[str, Any] = {}
    if with_context:
        profile["@context"] = list(CONTEXTS)
    profile.update(id=ctx.urls.issuer_id(provider.slug), type=["Profile"], name=provider.name)
    for field in ("url", "email", "description"):
        if getattr(provider, field):
            profile[field] = getattr(provider, field)
    if provider.image:
        profile["image"] = {"id": provider.image, "type": "Image"}
    if provider.country or provider.region:
        address: dict[str, Any] = {"type": ["Address"]}
        if provider.country:
            address["addressCountry"] = provider.country
            address["addressCountryCode"] = provider.country
        if provider.region:
            address["addressRegion"] = provider.region
        profile["address"] = address
    return profile


def jwks_document(ctx: IssuerContext) -> dict[str, Any]:
    """Every published key of every provider on this host; each JWK names its issuer in ``iss``."""
    with ctx.db.read() as session:
        slugs = {provider.id: provider.slug for provider in repository.providers(session)}
        keys = repository.signing_keys(session)
    return {"keys": [published_jwk(ctx, slugs[key.provider_id], key) for key in keys]}


def key_document(ctx: IssuerContext, provider: Provider, thumbprint: str) -> dict[str, Any]:
    """The one public JWK a key's URL serves. Raises :class:`NotFound` for a key the provider does not have."""
    assert provider.id is not None
    with ctx.db.read() as session:
        found = next((key for key in repository.signing_keys(session, provider.id) if key.kid == thumbprint), None)
    if found is None:
        raise NotFound(f"Provider '{provider.slug}' has no such key.")
    return published_jwk(ctx, provider.slug, found)


def did_document(ctx: IssuerContext, provider: Provider) -> dict[str, Any]:
    """The provider's did:web document, listing the same keys as the JWKS."""
    did = ctx.urls.did(provider.slug)
    assert provider.id is not None
    with ctx.db.read() as session:
        keys = repository.signing_keys(session, provider.id)
    methods = [
        {
            "id": f"{did}#{key.kid}",
            "type": "JsonWebKey",
            "controller": did,
            "publicKeyJwk": {
                name: value for name, value in published_jwk(ctx, provider.slug, key).items() if name != "iss"
            },
        }
        for key in keys
    ]
    references = [method["id"] for method in methods]
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
        "id": did,
        "alsoKnownAs": [ctx.urls.issuer_id(provider.slug)],
        "verificationMethod": methods,
        "assertionMethod": references,
    }


def logo_url(ctx: IssuerContext, provider: Provider) -> str:
    return f"{ctx.urls.issuer_id(provider.slug)}/image"


def set_logo(ctx: IssuerContext, provider: Provider, data: bytes, declared_type: str | None, actor: str) -> Provider:
    """Clean and keep the provider's logo; its profile (and the issuer of credentials issued from now on) names it."""
    media_type, cleaned = clean_image(data, declared_type)
    assert provider.id is not None
    with ctx.db.write() as session:
        image = session.get(ProviderImage, provider.id)
        if image is None:
            image = ProviderImage(provider_id=provider.id, media_type=media_type, data=cleaned)
        image.media_type, image.data, image.updated_at = media_type, cleaned, datetime.now(UTC)
        session.add(image)
        stored = session.get(Provider, provider.id)
        assert stored is not None
        stored.image = logo_url(ctx, stored)
        session.add(stored)
        audit.record(
            session,
            actor=actor,
            action="provider.logo_set",
            subject=ctx.urls.issuer_id(provider.slug),
            provider_id=provider.id,
            details={"media_type": media_type, "bytes": len(cleaned)},
        )
    return stored


PROFILE_TEXT_LANGUAGES = ("en", "uk")
"""Languages of ``Provider.descriptions``; the Polish description is ``Provider.description``."""
MAX_NAME = 200
MAX_URL = 500
MAX_EMAIL = 320
MAX_DESCRIPTION = 2000
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def description_in(provider: Provider, lang: str) -> str | None:
    """The provider's description in ``lang``, the Polish one when it gave none in that language."""
    translated = (provider.descriptions or {}).get(lang) if lang != "pl" else None
    return translated or provider.description


def update_profile(
    ctx: IssuerContext,
    provider_id: int,
    *,
    name: str,
    url: str | None,
    email: str | None,
    description: str | None,
    descriptions: dict[str, str],
    actor: str,
) -> Provider:
    """Change the provider's public profile: name, website, contact e-mail and description in each language.
    Credentials issued from now on carry the new profile; issued ones keep theirs.

    Raises :class:`InvalidInput` naming every refused field (``name``, ``url``, ``email``, ``description``,
    ``descriptions.en``…).
    """
    name = name.strip()
    url, email, description = (_blank_to_none(value) for value in (url, email, description))
    texts = {lang: text for lang in PROFILE_TEXT_LANGUAGES if (text := _blank_to_none(descriptions.get(lang)))}
    problems = []
    if not name:
        problems.append({"field": "name", "message": "must not be empty"})
    elif len(name) > MAX_NAME:
        problems.append({"field": "name", "message": f"at most {MAX_NAME} characters"})
    if url is not None and (not url.startswith(("http://", "https://")) or len(url) > MAX_URL or " " in url):
        problems.append({"field": "url", "message": "must be an http(s) URL"})
    if email is not None and (not _EMAIL.fullmatch(email) or len(email) > MAX_EMAIL):
        problems.append({"field": "email", "message": "is not an e-mail address"})
    for field, text in (("description", description), *((f"descriptions.{lang}", texts.get(lang)) for lang in texts)):
        if text is not None and len(text) > MAX_DESCRIPTION:
            problems.append({"field": field, "message": f"at most {MAX_DESCRIPTION} characters"})
    if problems:
        raise InvalidInput("The profile cannot be saved.", fields=problems)
    with ctx.db.write() as session:
        stored = session.get(Provider, provider_id)
        if stored is None:
            raise NotFound("There is no such provider.")
        changes = {
            "name": name,
            "url": url,
            "email": email,
            "description": description,
            "descriptions": texts or None,
        }
        changed = sorted(field for field, value in changes.items() if getattr(stored, field) != value)
        for field in changed:
            setattr(stored, field, changes[field])
        session.add(stored)
        if changed:
            audit.record(
                session,
                actor=actor,
                action="provider.updated",
                subject=ctx.urls.issuer_id(stored.slug),
                provider_id=provider_id,
                details={"fields": changed},
            )
    return stored


def _blank_to_none(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None
