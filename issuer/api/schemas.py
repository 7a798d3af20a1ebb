"""What the provider API answers, as models: the shapes ``/docs`` shows are the shapes it sends."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Links(BaseModel):
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    self: str = Field(description="This credential in the provider API.")
    page: str = Field(description="The learner's public page (and the credential's id).")
    verify: str = Field(description="The verifier's page for it.")
    short: str = Field(description="What the QR code holds: a short link that leads to the verifier's page.")
    qr_png: str
    qr_svg: str
    jwt: str = Field(description="The signed credential as a file download.")
    json_: str = Field(alias="json", description="The Open Badges 3.0 credential (JSON) as a file download.")
    pdf: str = Field(description="The printable certificate (PDF, A4; ?lang=pl|en|uk).")
    png: str = Field(description="The badge as a PNG with the credential baked in (Open Badges 3.0).")
    svg: str = Field(description="The badge as an SVG with the credential baked in (Open Badges 3.0).")


class IssuedCredential(BaseModel):
    id: str
    jwt: str = Field(description="The credential, a compact VC-JWT (Open Badges 3.0).")
    links: Links


class RevocationStatus(BaseModel):
    revoked: bool
    revokedAt: str | None = None
    reason: str | None = Field(default=None, description="Shown on the credential's page and at the verifier.")
    replacedBy: str | None = Field(default=None, description="The reissued credential that replaced it.")


class CredentialDetail(IssuedCredential):
    issuedAt: str
    status: RevocationStatus
    credential: dict[str, Any] = Field(description="The signed credential's content (the JWT's payload).")


class CredentialPage(BaseModel):
    items: list[IssuedCredential]
    limit: int
    offset: int


class Revoked(RevocationStatus):
    id: str


class AchievementList(BaseModel):
    items: list[dict[str, Any]] = Field(description="Open Badges 3.0 Achievement documents.")


class Health(BaseModel):
    status: str
