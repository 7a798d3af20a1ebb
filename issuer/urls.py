"""Every public URL the issuer mints, derived from ``ISSUER_PUBLIC_URL`` and ``ISSUER_VERIFIER_URL``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

# A version 10 QR code at error correction M holds 213 bytes in byte mode.
QR_MAX_BYTES = 213


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

    def achievement(self, achievement_id: str) -> str:
        return f"{self.public_url}/achievements/{achievement_id}"

    def credential(self, credential_id: str) -> str:
        """The credential's id: its public page for browsers, its JWT or JSON for machines."""
        return f"{self.public_url}/credentials/{credential_id}"

    def verify(self, credential_id: str) -> str:
        """The verifier page for a credential: what the QR code encodes."""
        return f"{self.verifier_url}/verify?credential={quote(self.credential(credential_id), safe=':/')}"

    def links(self, credential_id: str) -> dict[str, str]:
        page = self.credential(credential_id)
        return {
            "self": f"{self.public_url}/api/v1/credentials/{credential_id}",
            "page": page,
            "verify": self.verify(credential_id),
            "qr_png": f"{page}/qr.png",
            "qr_svg": f"{page}/qr.svg",
            "jwt": f"{page}/credential.jwt",
        }

    def longest_verify_url(self) -> int:
        return len(self.verify("00000000-0000-0000-0000-000000000000").encode("utf-8"))
