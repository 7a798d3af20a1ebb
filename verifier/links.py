"""Which links the verifier will follow: credential links of the shape issuers publish, on a trusted site.

A QR code's short link, ``{base}/q/<22 characters>``, stands for ``{base}/credentials/<uuid>`` and is read as that.
A link pasted or scanned is fetched only if it is ``{base}/credentials/{id}`` on a trusted issuer's site, where
``base`` is the part of the issuer's id before ``/issuers/`` (``https://odznaka.lublin.eu`` for
``https://odznaka.lublin.eu/issuers/wsei``), or the site itself for issuer ids of another shape. Anything else
on that site (its admin pages, its API, another path) is not fetched, so a link cannot make the verifier
request arbitrary URLs for someone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from credentials.short_ids import SHORT_PATH, expand
from verifier.remote import origin, site_of

_ID = re.compile(r"(?!\.{1,2}$)[A-Za-z0-9._~-]{1,128}")  # not "." or "..", which a client resolves away


def credential_bases(issuer_ids: Iterable[str]) -> set[str]:
    """``scheme://host[:port][/path]`` under which each issuer's credentials live."""
    bases = set()
    for issuer_id in issuer_ids:
        site = site_of(issuer_id)
        if site is None:
            continue
        path = urlsplit(issuer_id).path
        prefix = path.split("/issuers/", 1)[0] if "/issuers/" in path else ""
        bases.add(site + prefix.rstrip("/"))
    return bases


def expand_short_link(url: str) -> str:
    """A QR code's short link, ``{base}/q/<22 characters>``, as the credential link it stands for,
    ``{base}/credentials/<uuid>``; any other link as it is. Nothing is fetched to find out."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    base, found, reference = parts.path.rpartition(SHORT_PATH)
    credential_id = expand(reference) if found and not (parts.query or parts.fragment) else None
    if credential_id is None:
        return url
    return urlunsplit((parts.scheme, parts.netloc, f"{base}/credentials/{credential_id}", "", ""))


def credential_link_problem(url: str, issuer_ids: Iterable[str]) -> str | None:
    """Why ``url`` is not a credential link the verifier follows, or ``None`` when it is one."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "The link is not a valid URL."
    site = origin(url)
    if site is None:
        return "The link is not an http(s) link to an issuer's site."
    if parts.query or parts.fragment:
        return "A credential link has no query or fragment."
    base, _, credential_id = parts.path.rpartition("/credentials/")
    if not _ID.fullmatch(credential_id) or (site + base) not in credential_bases(issuer_ids):
        return "The link is not a credential link of a trusted issuer (…/credentials/<id>)."
    return None
