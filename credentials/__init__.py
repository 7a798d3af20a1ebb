"""What the issuer and the verifier share: the Open Badges 3.0 credential format and its JOSE envelope.

The two apps never import each other; they meet only here and over HTTP.
"""
