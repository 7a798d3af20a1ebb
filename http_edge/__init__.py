"""What both apps do at their HTTP edge: security headers on every response, and an access log that never
records a query string (a verify link carries a whole credential in one).

Like ``credentials``, it is shared by the issuer and the verifier, which never import each other.
"""
