"""Throwaway PKI and a TLS server on loopback for tests of TLS clients.

Certificates, keys and CRLs are made here with ``cryptography`` (EC P-256, SHA-256), the way
the site CA makes them (a CA with keyCertSign and cRLSign, server certificates with serverAuth,
a CRL signed by the CA key with a CRLReason per entry). :func:`tls_server` accepts
connections on 127.0.0.1 in a thread and hands each to a function; the default completes the
handshake (or loses it) and waits for the client to close.

Imported by tests as ``tls_testing`` (tests/unit is on the path: its conftest.py lives there).
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["make_ca", "make_crl", "make_leaf", "pem", "tls_server"]

Pair = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def make_ca(name: str) -> Pair:
    """A self-signed CA certificate and its key, valid from yesterday for 30 days."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_leaf(
    ca: Pair,
    name: str,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    ips: Iterable[str] = ("127.0.0.1",),
) -> Pair:
    """A server certificate (serverAuth) for DNS ``name`` and the addresses ``ips``, issued by
    ``ca``; valid from an hour ago for 20 days unless told otherwise."""
    ca_cert, ca_key = ca
    now = _now()
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(name)]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - datetime.timedelta(hours=1))
        .not_valid_after(not_after or now + datetime.timedelta(days=20))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def make_crl(ca: Pair, revoked: Iterable[x509.Certificate] = ()) -> x509.CertificateRevocationList:
    """The CA's CRL listing ``revoked`` (reason keyCompromise), current for 30 days."""
    ca_cert, ca_key = ca
    now = _now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - datetime.timedelta(hours=1))
        .next_update(now + datetime.timedelta(days=30))
    )
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(now - datetime.timedelta(minutes=5))
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
    return builder.sign(ca_key, hashes.SHA256())


def pem(path: Path, item: x509.Certificate | x509.CertificateRevocationList, key=None) -> Path:
    """Write a certificate (with its key after it, for a server's chain file) or a CRL as PEM."""
    data = item.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        data += key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    path.write_bytes(data)
    return path


def _until_closed(conn: socket.socket, context: ssl.SSLContext) -> None:
    with context.wrap_socket(conn, server_side=True) as tls:
        tls.recv(1)  # until the client closes


@contextlib.contextmanager
def tls_server(
    chain: Path, serve: Callable[[socket.socket, ssl.SSLContext], None] = _until_closed
) -> Iterator[int]:
    """Accepts connections on 127.0.0.1 and calls ``serve(connection, server_context)`` for
    each (the default completes, or loses, the handshake and waits for the client to close);
    yields the port. The client's verification, not the server, decides each test."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError, ssl.SSLError):
                    serve(conn, context)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        listener.close()
