"""HTTP routes of the issuer: public documents and pages, and the provider API under ``/api/v1``."""
