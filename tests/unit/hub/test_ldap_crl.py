"""The hub's LDAP clients check the CA's CRL: a throwaway CA, server certificates and CRLs made
with cryptography (tests/unit/tls_testing.py), and a TLS server on 127.0.0.1 that answers just
enough LDAP (binds, searches with no entries, StartTLS) for ldap3 to complete a connection.

The login (JovialLDAPAuthenticator) and the uid/gid lookup (identity.lookup_identity) connect to
it with the CRL set: refused when the CRL lists the server's certificate, accepted when it does
not; the name is still checked; an unreadable CRL is an error naming the file."""

from __future__ import annotations

import dataclasses
import re
import socket
import ssl
from pathlib import Path

import pytest
from ldap3.core.exceptions import LDAPSocketOpenError
from tls_testing import make_ca, make_crl, make_leaf, pem, tls_server
from traitlets.config import Config

from jovial_hub import config
from jovial_hub.auth import JovialLDAPAuthenticator
from jovial_hub.hubconfig import identity_settings
from jovial_hub.identity import DirectoryUnavailable, LdapSettings, UserNotFound, lookup_identity
from jovial_hub.ldaptls import CrlError, CrlTls

BASE = "dc=obs,dc=example,dc=org"
READER = f"cn=reader,ou=services,{BASE}"

# --- A minimal LDAP responder (BER, RFC 4511) --------------------------------------------------

BIND_REQUEST, UNBIND_REQUEST, SEARCH_REQUEST, EXTENDED_REQUEST = 0x60, 0x42, 0x63, 0x77
RESPONSES = {BIND_REQUEST: 0x61, SEARCH_REQUEST: 0x65, EXTENDED_REQUEST: 0x78}
STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"


def _length(data: bytes, at: int) -> tuple[int, int]:
    """A BER length at ``data[at]``: (length, offset of the contents)."""
    first = data[at]
    if first < 0x80:
        return first, at + 1
    size = first & 0x7F
    return int.from_bytes(data[at + 1 : at + 1 + size], "big"), at + 1 + size


def _messages(sock) -> list[tuple[bytes, int, bytes]]:
    """The next LDAPMessages from the socket: (messageID bytes, operation tag, whole message);
    [] when the client closed."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return []
        data += chunk
        out, at = [], 0
        while at < len(data):
            if at + 2 > len(data):
                break
            length, start = _length(data, at + 1)
            if start + length > len(data):
                break
            message = data[start : start + length]
            id_length = message[1]
            out.append((message[2 : 2 + id_length], message[2 + id_length], message))
            at = start + length
        if at == len(data):
            return out


def _success(message_id: bytes, tag: int) -> bytes:
    """An LDAPResult of operation ``tag``: success, no matched DN, no message."""
    result = bytes([tag, 7, 0x0A, 1, 0, 0x04, 0, 0x04, 0])
    body = bytes([0x02, len(message_id)]) + message_id + result
    return bytes([0x30, len(body)]) + body


def _answer(sock) -> bool:
    """Answer until the client unbinds or closes; False when it asked for StartTLS first."""
    while messages := _messages(sock):
        for message_id, tag, whole in messages:
            if tag == UNBIND_REQUEST:
                return True
            sock.sendall(_success(message_id, RESPONSES[tag]))
            if tag == EXTENDED_REQUEST and STARTTLS_OID in whole:
                return False
    return True


def ldap_server(conn: socket.socket, context: ssl.SSLContext) -> None:
    """ldaps:// (TLS first) and ldap:// with StartTLS: a connection that starts with an LDAP
    message (0x30) gets StartTLS answered, then TLS."""
    plain = conn.recv(1, socket.MSG_PEEK) == b"\x30"
    if plain and _answer(conn):
        return
    with context.wrap_socket(conn, server_side=True) as tls:
        _answer(tls)


# --- The PKI: one CA, two server certificates, a CRL revoking one, a CRL revoking none ----------


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("ldap-pki")
    ca = make_ca("Jovial test site CA")
    good = make_leaf(ca, "ldap01.obs.example.org")
    revoked = make_leaf(ca, "ldap02.obs.example.org")
    misnamed = make_leaf(ca, "ldap03.obs.example.org", ips=())  # no IP:127.0.0.1 in it
    return {
        "ca": pem(tmp / "ca.crt", ca[0]),
        "good": pem(tmp / "good.pem", *good),
        "revoked": pem(tmp / "revoked.pem", *revoked),
        "misnamed": pem(tmp / "misnamed.pem", *misnamed),
        "crl": pem(tmp / "crl.pem", make_crl(ca, [revoked[0]])),
        "empty_crl": pem(tmp / "empty-crl.pem", make_crl(ca)),
    }


def settings(pki, uri: str, crl: str = "crl") -> LdapSettings:
    return LdapSettings(
        uris=(uri,),
        base_dn=BASE,
        bind_dn=READER,
        bind_password="reader-pw",
        ca_file=str(pki["ca"]),
        crl_file=str(pki[crl]) if crl else "",
        timeout=2,
    )


# --- uid/gid lookup (identity) -----------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["ldaps", "ldap"], ids=["ldaps", "starttls"])
def test_lookup_accepts_a_server_the_crl_does_not_list(pki, scheme):
    # The directory answers (no such user): the connection and the bind went through.
    with tls_server(pki["good"], ldap_server) as port, pytest.raises(UserNotFound, match="jsoto"):
        lookup_identity(settings(pki, f"{scheme}://127.0.0.1:{port}"), "jsoto")


@pytest.mark.parametrize("scheme", ["ldaps", "ldap"], ids=["ldaps", "starttls"])
def test_lookup_refuses_a_revoked_server(pki, scheme):
    with tls_server(pki["revoked"], ldap_server) as port:
        uri = f"{scheme}://127.0.0.1:{port}"
        # Without the CRL the revoked certificate is accepted: the check below is the CRL's.
        with pytest.raises(UserNotFound):
            lookup_identity(settings(pki, uri, crl=""), "jsoto")
        with pytest.raises(DirectoryUnavailable, match="certificate revoked"):
            lookup_identity(settings(pki, uri), "jsoto")


def test_lookup_with_a_crl_that_lists_nothing_accepts_the_server(pki):
    with tls_server(pki["revoked"], ldap_server) as port, pytest.raises(UserNotFound):
        lookup_identity(settings(pki, f"ldaps://127.0.0.1:{port}", "empty_crl"), "jsoto")


def test_lookup_with_a_crl_still_checks_the_name(pki):
    refused = pytest.raises(DirectoryUnavailable, match="doesn't match any name")
    with tls_server(pki["misnamed"], ldap_server) as port, refused:
        lookup_identity(settings(pki, f"ldaps://127.0.0.1:{port}"), "jsoto")


def test_lookup_with_an_unreadable_crl_names_the_file(pki, tmp_path):
    missing = tmp_path / "no-such-crl.pem"
    refused = pytest.raises(
        DirectoryUnavailable, match=re.escape(f"cannot read the CRL file {missing}")
    )
    with tls_server(pki["good"], ldap_server) as port, refused:
        ldap = settings(pki, f"ldaps://127.0.0.1:{port}")
        lookup_identity(dataclasses.replace(ldap, crl_file=str(missing)), "jsoto")


# --- Login (JovialLDAPAuthenticator) ----------------------------------------------------------


def authenticator(pki, port: int, crl: str = "crl") -> JovialLDAPAuthenticator:
    ldap = {
        "uris": [f"ldaps://127.0.0.1:{port}"],
        "ca_file": str(pki["ca"]),
        "crl_file": str(pki[crl]) if crl else "",
        "base_dn": BASE,
        "bind_dn": READER,
        "bind_password": "reader-pw",
    }
    c = Config()
    config.apply(c, "JovialLDAPAuthenticator", config.authenticator_config(ldap))
    return JovialLDAPAuthenticator(config=c)


def test_login_binds_to_a_server_the_crl_does_not_list(pki):
    with tls_server(pki["good"], ldap_server) as port:
        conn = authenticator(pki, port).get_connection(READER, "reader-pw")
        assert conn is not None and conn.bound
        conn.unbind()


def test_login_refuses_a_revoked_server_like_an_unreachable_one(pki):
    with tls_server(pki["revoked"], ldap_server) as port:
        conn = authenticator(pki, port, crl="").get_connection(READER, "reader-pw")
        assert conn is not None and conn.bound  # the CA alone accepts it
        conn.unbind()
        with pytest.raises(LDAPSocketOpenError, match=r"127\.0\.0\.1: .*certificate revoked"):
            authenticator(pki, port).get_connection(READER, "reader-pw")


def test_login_with_an_unreadable_crl_names_the_file(pki, tmp_path):
    missing = tmp_path / "no-such-crl.pem"
    login = authenticator(pki, 1)
    login.crl_file = str(missing)
    with pytest.raises(CrlError, match=re.escape(f"cannot read the CRL file {missing}")):
        login.get_connection(READER, "reader-pw")


# --- The Tls object and the settings -------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "holds no PEM CRL"),
        ("not a CRL\n", "holds no PEM CRL"),
        ("ca", r"holds \['CERTIFICATE'\] besides CRLs"),
        ("-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n", "cannot load"),
    ],
    ids=["empty", "text", "a-certificate", "garbage-crl"],
)
def test_a_crl_file_without_a_usable_crl_is_refused_naming_it(pki, tmp_path, content, message):
    path = tmp_path / "crl.pem"
    path.write_text(pki["ca"].read_text() if content == "ca" else content)
    with pytest.raises(CrlError, match=message) as raised:
        CrlTls(ca_certs_file=str(pki["ca"]), validate=ssl.CERT_REQUIRED, crl_file=str(path))
    assert str(path) in str(raised.value)


def test_a_crl_needs_verified_certificates(pki):
    with pytest.raises(CrlError, match="not verified"):
        CrlTls(ca_certs_file=str(pki["ca"]), crl_file=str(pki["crl"]))


def test_without_a_crl_it_is_ldap3s_tls(pki):
    tls = CrlTls(ca_certs_file=str(pki["ca"]), validate=ssl.CERT_REQUIRED, crl_file="")
    assert tls.crl_file is None and tls._context is None


def test_crl_file_in_the_settings():
    ldap = {
        "uris": ["ldaps://ldap01.obs.example.org"],
        "ca_file": "/etc/jupyterhub-secret/ldap-ca.crt",
        "crl_file": "/etc/jupyterhub-secret/ldap-crl.pem",
        "base_dn": BASE,
        "bind_dn": READER,
        "bind_password": "reader-pw",
    }
    assert config.authenticator_config(ldap)["crl_file"] == "/etc/jupyterhub-secret/ldap-crl.pem"
    assert identity_settings(ldap).crl_file == "/etc/jupyterhub-secret/ldap-crl.pem"
    # Not set, or empty: no CRL check.
    for without in ({k: v for k, v in ldap.items() if k != "crl_file"}, {**ldap, "crl_file": ""}):
        assert config.authenticator_config(without)["crl_file"] == ""
        assert identity_settings(without).crl_file == ""
