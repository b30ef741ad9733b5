"""The local server's Kerberos acceptor: ``Authorization: Negotiate`` with a Kerberos or SPNEGO token.

Tokens are accepted with MIT Kerberos through ``gssapi`` (the ``exchangelib[kerberos]`` extra) and the
server's keytab for ``HTTP/<host>`` (e.g. from :class:`~exchangelib.testing.kdc.LocalKDC`). Raw Kerberos
tokens (as Windows and exchangelib send) and SPNEGO-wrapped ones (requests-gssapi, curl, browsers) are
both accepted. Over TLS with Extended Protection the client's channel bindings must match the server's
certificate. The acceptor's answer token (mutual authentication) goes back in the 200 response.
"""
from __future__ import annotations

from typing import Optional, Tuple

import gssapi
import gssapi.raw

__all__ = ["KerberosAcceptor"]


class KerberosAcceptor:
    """Accepts Kerberos AP-REQs for the principals in ``keytab``."""

    def __init__(self, keytab: str):
        self.keytab = str(keytab)
        try:
            self._creds = gssapi.Credentials(usage="accept", store={"keytab": self.keytab})
        except gssapi.exceptions.GSSError as e:
            raise ValueError(f"Cannot use the Kerberos keytab {self.keytab!r}: {e.gen_message()}") from None

    def accept(self, token: bytes, tls_end_point: Optional[bytes] = None) -> Tuple[Optional[str], Optional[bytes], str]:
        """(client principal, answer token, '') on success, else (None, None, why)."""
        bindings = None
        if tls_end_point is not None:
            bindings = gssapi.raw.ChannelBindings(application_data=b"tls-server-end-point:" + tls_end_point)
        ctx = gssapi.SecurityContext(creds=self._creds, usage="accept", channel_bindings=bindings)
        try:
            # gssapi returns an error token from step() and raises the error on the next use of the context
            answer = ctx.step(token)
            if not ctx.complete:
                return None, None, "Kerberos exchange needs more than one round trip (not supported)"
            principal = str(ctx.initiator_name)
        except gssapi.exceptions.GSSError as e:
            return None, None, f"Kerberos token refused: {e.gen_message().splitlines()[0]}"
        return principal, answer, ""
