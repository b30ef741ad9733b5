"""The local server's checks of OAuth 2.0 client assertions (RFC 7523), as Microsoft Entra ID does them.

A client assertion is a JWT signed with the key of a certificate registered for the app: the header names
the certificate by its SHA-1 thumbprint (``x5t``, or ``x5t#S256``), the signature is RS256 or PS256, the
audience is the token endpoint's URL, issuer and subject are the client id, and ``exp``/``nbf`` bound its
lifetime. Each ``jti`` is accepted once (replays are refused). This module has its own code (it imports
nothing from the client side of the package).
"""
from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from typing import Any, Dict, Tuple

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = ["AssertionVerifier", "ASSERTION_TYPE"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_CLOCK_SKEW = 300  # seconds, as Entra ID allows


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class AssertionVerifier:
    """Verifies client assertions; remembers the ``jti`` values it accepted until they expire."""

    def __init__(self) -> None:
        self._seen: Dict[str, float] = {}
        self._lock = threading.Lock()

    def verify(self, assertion: str, cert_pem: bytes, client_id: str, audience: str) -> Tuple[bool, str]:
        """(True, '') or (False, why) for the server log and the error description (never key material)."""
        parts = assertion.split(".")
        if len(parts) != 3:
            return False, "the client assertion is not a compact JWS (three base64url parts)"
        try:
            header: Dict[str, Any] = json.loads(_b64url_decode(parts[0]))
            claims: Dict[str, Any] = json.loads(_b64url_decode(parts[1]))
            signature = _b64url_decode(parts[2])
        except (ValueError, binascii.Error):
            return False, "the client assertion is not valid base64url JSON"
        if not isinstance(header, dict) or not isinstance(claims, dict):
            return False, "the client assertion's header and claims must be JSON objects"
        cert = x509.load_pem_x509_certificate(cert_pem)
        x5t = base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA1())).rstrip(b"=").decode()  # noqa: S303
        x5t256 = base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA256())).rstrip(b"=").decode()
        if header.get("x5t") != x5t and header.get("x5t#S256") != x5t256:
            return False, ("AADSTS700027: the certificate with identifier used to sign the client assertion is not "
                           "registered on application")
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            return False, "the registered certificate does not hold an RSA key"
        alg = header.get("alg")
        if alg == "RS256":
            pad: Any = padding.PKCS1v15()
        elif alg == "PS256":
            pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=hashes.SHA256.digest_size)
        else:
            return False, f"unsupported client assertion algorithm {alg!r} (RS256 or PS256)"
        try:
            key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"), pad, hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False, "AADSTS700027: the client assertion's signature is invalid"
        now = time.time()
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            return False, "AADSTS700023: the client assertion's iss and sub must be the client id"
        if str(claims.get("aud", "")).lower() != audience.lower():
            return False, f"AADSTS700024: the client assertion's audience must be the token endpoint {audience}"
        try:
            exp = float(claims["exp"])
            nbf = float(claims["nbf"]) if "nbf" in claims else now
        except (KeyError, TypeError, ValueError):
            return False, "the client assertion needs numeric exp (and nbf) claims"
        if exp < now - _CLOCK_SKEW:
            return False, "AADSTS700024: the client assertion has expired"
        if nbf > now + _CLOCK_SKEW:
            return False, "AADSTS700024: the client assertion is not yet valid"
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            return False, "the client assertion needs a jti claim"
        with self._lock:
            for old in [j for j, t in self._seen.items() if t < now - _CLOCK_SKEW]:
                del self._seen[old]
            if jti in self._seen:
                return False, "AADSTS700025: the client assertion was already used (replayed jti)"
            self._seen[jti] = exp
        return True, ""
