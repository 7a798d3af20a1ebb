"""The verifier service: a stateless app that tells an employer whether an Open Badges 3.0 credential holds."""
