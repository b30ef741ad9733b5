"""Client assertions for OAuth 2.0 token requests: a JWT signed with the app's certificate key (RFC 7523).

The JWT's header names the key by the certificate's SHA-1 thumbprint (``x5t``), as Microsoft Entra ID
expects; the claims are ``aud`` (the token endpoint), ``iss`` and ``sub`` (the client id), ``jti`` (unique),
``nbf``, ``iat`` and ``exp``. Signing uses ``cryptography`` (RS256: RSASSA-PKCS1-v1_5 with SHA-256).

https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials
"""
from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Optional

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = ["sign_client_assertion", "thumbprint"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(cert_pem: bytes) -> str:
    """The certificate's ``x5t``: base64url of the SHA-1 hash of its DER encoding."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    return _b64url(cert.fingerprint(hashes.SHA1()))  # noqa: S303 - x5t is defined as SHA-1 (RFC 7515 4.1.7)


def sign_client_assertion(cert_pem: bytes, key_pem: bytes, password: Optional[bytes], client_id: str,
                          audience: str, lifetime: int = 600) -> str:
    """A compact JWS (RS256) asserting ``client_id`` to the token endpoint ``audience``."""
    try:
        key = serialization.load_pem_private_key(key_pem, password=password)
    except (TypeError, ValueError) as e:
        # The message of cryptography's errors names no key material; keep only its type
        raise ValueError(f"ClientCertificate: the private key cannot be loaded ({type(e).__name__}: wrong password, "
                         f"or not a PEM private key)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"ClientCertificate: the private key must be RSA (RS256), not {type(key).__name__}")
    cert = x509.load_pem_x509_certificate(cert_pem)
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise ValueError("ClientCertificate: the private key does not belong to the certificate")
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "x5t": thumbprint(cert_pem)}
    claims = {"aud": audience, "iss": client_id, "sub": client_id, "jti": str(uuid.uuid4()),
              "nbf": now, "iat": now, "exp": now + int(lifetime)}
    signing_input = (_b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                     + _b64url(json.dumps(claims, separators=(",", ":")).encode()))
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + _b64url(signature)
