"""Every public URL the issuer mints, derived from ``ISSUER_PUBLIC_URL`` and ``ISSUER_VERIFIER_URL``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from credentials.short_ids import SHORT_PATH, compact

QR_MAX_BYTES = 84
"""What a version 5 QR code holds at error correction M in byte mode: the longest short link allowed."""


def last_segment(reference: str) -> str:
    """The id at the end of a reference: ``…/credentials/<uuid>`` or a bare ``<uuid>`` both give ``<uuid>``."""
    return reference.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Urls:
    public_url: str
    verifier_url: str

    def issuer_id(self, slug: str) -> str:
        return f"{self.public_url}/issuers/{slug}"

    def key(self, slug: str, thumbprint: str) -> str:
        """A signing key's URL, which is also its ``kid``: it serves the one public JWK."""
        return f"{self.issuer_id(slug)}/keys/{thumbprint}"

    def did(self, slug: str) -> str:
        """did:web identifier whose document is served at ``<issuer id>/did.json``."""
        parts = urlsplit(self.public_url)
        host = quote(parts.netloc, safe="")
        path = [segment for segment in parts.path.split("/") if segment]
        return ":".join(["did", "web", host, *path, "issuers", slug])

    def status_list(self, slug: str, number: int) -> str:
        """The provider's status list ``number``: a ``BitstringStatusListCredential``."""
        return f"{self.public_url}/status/{slug}/{number}"

    def achievement(self, achievement_id: str) -> str:
        return f"{self.public_url}/achievements/{achievement_id}"

    def credential(self, credential_id: str) -> str:
        """The credential's id: its public page for browsers, its JWT or JSON for machines."""
        return f"{self.public_url}/credentials/{credential_id}"

    def verify(self, credential_id: str) -> str:
        """The verifier page for a credential: what the QR code encodes."""
        return f"{self.verifier_url}/verify?credential={quote(self.credential(credential_id), safe=':/')}"

    def short(self, credential_id: str) -> str:
        """What the QR code encodes: a short link that leads to the verifier's page for the credential."""
        return f"{self.public_url}{SHORT_PATH}{compact(credential_id)}"

    def links(self, credential_id: str) -> dict[str, str]:
        page = self.credential(credential_id)
        return {
            "self": f"{self.public_url}/api/v1/credentials/{credential_id}",
            "page": page,
            "verify": self.verify(credential_id),
            "short": self.short(credential_id),
            "qr_png": f"{page}/qr.png",
            "qr_svg": f"{page}/qr.svg",
            "jwt": f"{page}/credential.jwt",
            "json": f"{page}/credential.json",
            "pdf": f"{page}/certificate.pdf",
            "png": f"{page}/badge.png",
            "svg": f"{page}/badge.svg",
        }

    def longest_short_url(self) -> int:
        return len(self.short("00000000-0000-0000-0000-000000000000").encode("utf-8"))
