"""Throw-away TLS certificates for the local EWS server.

:func:`make_certificates` creates a private CA and a server certificate signed by it (for
``localhost`` and ``127.0.0.1``), writes them as PEM files into a directory and returns their
paths. Clients verify the server with ``verify=server.ca_path``; with the default trust store
verification fails, as it should for an unknown CA. Keys are ECDSA P-256: quick to generate.

The server certificate's hash is also needed for NTLM channel binding (Extended Protection,
RFC 5929 ``tls-server-end-point``), see :func:`end_point_hash`.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertificatePaths", "make_certificates", "server_ssl_context", "end_point_hash", "ClientCA",
           "make_client_ca", "issue_client_certificate", "certificate_user_names"]

# szOID_NT_PRINCIPAL_NAME: the UPN in a certificate's subject alternative name, as AD certificate mapping reads it
UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")


@dataclass(frozen=True)
class CertificatePaths:
    """PEM files: the CA certificate (give it to clients), the server chain and its private key."""

    ca_path: str
    cert_path: str
    key_path: str
    cert_der: bytes


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "exchangelib local test server"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def make_certificates(directory: str, hostnames: Sequence[str] = ("localhost",),
                      ip_addresses: Sequence[str] = ("127.0.0.1", "::1"), days: int = 7) -> CertificatePaths:
    """Create a CA and a server certificate in ``directory``; return the paths."""
    now = datetime.datetime.now(datetime.timezone.utc)
    not_before = now - datetime.timedelta(minutes=5)
    not_after = now + datetime.timedelta(days=days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("exchangelib local test CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(h) for h in hostnames] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ip_addresses]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hostnames[0] if hostnames else "localhost")).issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    ca_path = d / "ca.pem"
    cert_path = d / "server.pem"
    key_path = d / "server-key.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM)
                          + ca_cert.public_bytes(serialization.Encoding.PEM))
    # Create the key file private to this user before writing the key into it.
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return CertificatePaths(str(ca_path), str(cert_path), str(key_path), cert.public_bytes(serialization.Encoding.DER))


def server_ssl_context(paths: CertificatePaths) -> ssl.SSLContext:
    """A server-side SSLContext for the certificate (TLS 1.2 or newer)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(paths.cert_path, paths.key_path)
    return ctx


def end_point_hash(cert_der: bytes) -> bytes:
    """RFC 5929 tls-server-end-point hash: the certificate's signature hash, MD5/SHA-1 upgraded to SHA-256."""
    cert = x509.load_der_x509_certificate(cert_der)
    algorithm = cert.signature_hash_algorithm
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(cert_der)
    return digest.finalize()


@dataclass(frozen=True)
class ClientCA:
    """The CA that signs TLS client certificates for Certificate Based Authentication (its key stays in memory)."""

    path: str
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def make_client_ca(directory: str, days: int = 7) -> ClientCA:
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("exchangelib local client CA")
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = Path(directory) / "client-ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ClientCA(str(path), cert, key)


def _der_utf8(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) < 128:
        return b"\x0c" + bytes([len(data)]) + data
    length = len(data).to_bytes((len(data).bit_length() + 7) // 8, "big")
    return b"\x0c" + bytes([0x80 | len(length)]) + length + data


def issue_client_certificate(ca: ClientCA, upn: str, email: str, directory: str,
                             password: Optional[str] = None, days: int = 7) -> Tuple[str, str]:
    """A client certificate for a user (UPN and e-mail in the subject alternative name), signed by ``ca``.
    Writes ``<upn>.pem`` and ``<upn>-key.pem`` (encrypted with ``password`` if given); returns their paths."""
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(_name(upn)).issuer_name(ca.cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.OtherName(UPN_OID, _der_utf8(upn)),
                                                    x509.RFC822Name(email)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    stem = upn.replace("@", "_at_")
    cert_path, key_path = d / f"{stem}.pem", d / f"{stem}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    return str(cert_path), str(key_path)


def certificate_user_names(cert_der: bytes) -> Tuple[Optional[str], Optional[str]]:
    """(UPN, e-mail address) from a client certificate's subject alternative name, as far as present."""
    cert = x509.load_der_x509_certificate(cert_der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None, None
    upn = None
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id == UPN_OID and other.value[:1] == b"\x0c":
            length, start = other.value[1], 2
            if length & 0x80:
                n = length & 0x7F
                length, start = int.from_bytes(other.value[2:2 + n], "big"), 2 + n
            upn = other.value[start:start + length].decode("utf-8", "replace")
    emails = san.get_values_for_type(x509.RFC822Name)
    return upn, (emails[0] if emails else None)
