"""site_ca_issued_current: the site CA role skips its control-node crypto modules only when a
host's key and certificate are exactly what it would make; any difference sends it back to
community.crypto, which repairs it. Keys and certificates are made here with cryptography, the
way community.crypto's ownca provider makes them (RSA key, CSR extensions copied, CA-signed)."""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@pytest.fixture(scope="module")
def pki(load_plugin):
    return load_plugin("plugins/filter/pki.py")


CN = "core1.lab.jovial.internal"
SANS = ["DNS:core1", "DNS:core1.lab.jovial.internal", "IP:10.77.0.11"]
USAGES = ["serverAuth", "clientAuth"]


def _ca(tmp: Path, name: str = "Jovial lab site CA"):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp / "ca.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, path


def _issue(folder: Path, ca_key, ca_cert, *, cn=CN, sans=SANS, key_size=2048, usages=USAGES):
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    alt = []
    for san in sans:
        kind, _, value = san.partition(":")
        alt.append(
            x509.DNSName(value) if kind == "DNS" else x509.IPAddress(ipaddress.ip_address(value))
        )
    oids = {
        "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH,
        "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
    }
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=10))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.ExtendedKeyUsage([oids[u] for u in usages]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    (folder / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(folder / "server.key", 0o600)
    os.chmod(folder / "server.crt", 0o644)
    return key, cert


def current(pki, folder: Path, ca_path: Path, **over) -> bool:
    args = {"cn": CN, "sans": SANS, "usages": USAGES, "key_size": 2048, **over}
    return pki.site_ca_issued_current(
        str(folder),
        "server",
        str(ca_path),
        args["cn"],
        args["sans"],
        args["usages"],
        args["key_size"],
    )


@pytest.fixture
def issued(tmp_path):
    ca_key, ca_cert, ca_path = _ca(tmp_path)
    folder = tmp_path / "issued" / "core1"
    folder.parent.mkdir()
    _issue(folder, ca_key, ca_cert)
    return folder, ca_path, ca_key, ca_cert


def test_a_certificate_exactly_as_wanted_is_current(pki, issued):
    folder, ca_path, _k, _c = issued
    assert current(pki, folder, ca_path) is True
    # SAN order and DNS case do not matter; the set of names does.
    assert current(pki, folder, ca_path, sans=[SANS[2], "DNS:" + SANS[1][4:].upper(), SANS[0]])


@pytest.mark.parametrize(
    "over",
    [
        {"cn": "core2.lab.jovial.internal"},
        {"sans": [*SANS, "DNS:etcd.lab.jovial.internal"]},
        {"sans": SANS[:2]},
        {"sans": [SANS[0], SANS[1], "IP:10.77.0.12"]},
        {"usages": ["serverAuth"]},
        {"key_size": 3072},
    ],
    ids=["common-name", "extra-san", "missing-san", "other-ip", "usages", "key-size"],
)
def test_any_difference_from_the_wanted_certificate_is_not_current(pki, issued, over):
    folder, ca_path, _k, _c = issued
    assert current(pki, folder, ca_path, **over) is False


def test_a_certificate_from_another_ca_is_not_current(pki, issued, tmp_path):
    folder, _ca_path, _k, _c = issued
    other = tmp_path / "other"
    other.mkdir()
    _ok, _oc, other_path = _ca(other, name="Jovial lab site CA")  # same name, other key
    assert current(pki, folder, other_path) is False


def test_a_certificate_that_does_not_hold_the_key_is_not_current(pki, issued, tmp_path):
    folder, ca_path, ca_key, ca_cert = issued
    elsewhere = tmp_path / "elsewhere"
    _issue(elsewhere, ca_key, ca_cert)
    (folder / "server.crt").write_bytes((elsewhere / "server.crt").read_bytes())
    assert current(pki, folder, ca_path) is False


@pytest.mark.parametrize(
    ("name", "mode"), [("server.key", 0o644), ("server.crt", 0o600), (".", 0o755)]
)
def test_files_with_other_modes_are_not_current(pki, issued, name, mode):
    folder, ca_path, _k, _c = issued
    os.chmod(folder / name, mode)
    assert current(pki, folder, ca_path) is False


@pytest.mark.parametrize("missing", ["server.key", "server.crt"])
def test_missing_or_unreadable_material_is_not_current(pki, issued, missing):
    folder, ca_path, _k, _c = issued
    (folder / missing).unlink()
    assert current(pki, folder, ca_path) is False
    assert current(pki, folder.parent / "nowhere", ca_path) is False


def test_garbage_in_the_certificate_file_is_not_current(pki, issued):
    folder, ca_path, _k, _c = issued
    (folder / "server.crt").write_text("not a certificate\n")
    assert current(pki, folder, ca_path) is False


def test_bad_san_or_usage_values_are_refused_naming_the_value(pki, issued):
    folder, ca_path, _k, _c = issued
    with pytest.raises(AnsibleFilterError, match=r"'URI:https://x'.*DNS:<name> and IP:<address>"):
        current(pki, folder, ca_path, sans=["URI:https://x"])
    with pytest.raises(AnsibleFilterError, match=r"\['anyUsage'\] unknown"):
        current(pki, folder, ca_path, usages=["anyUsage"])


# --- Renewal and revocation: site_ca_cert_status, site_ca_crl_due, site_ca_name -------------
# The CRL is made the way community.crypto's x509_crl makes it (signed by the CA key, with a
# CRLReason entry extension); times are fixed so the day arithmetic is exact.
NOW = "2026-06-01T12:00:00+00:00"


def _pem(cert) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _crl(ca_key, ca_cert, revoked=(), next_update_days=180, reason=x509.ReasonFlags.key_compromise):
    at = datetime.datetime.fromisoformat(NOW)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(at)
        .next_update(at + datetime.timedelta(days=next_update_days))
    )
    for cert in revoked:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(at)
            .add_extension(x509.CRLReason(reason), critical=False)
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    crl = builder.sign(ca_key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.PEM).decode()


def _cert_until(ca_key, ca_cert, not_after: str):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CN)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(0xABC123)
        .not_valid_before(datetime.datetime.fromisoformat("2025-01-01T00:00:00+00:00"))
        .not_valid_after(datetime.datetime.fromisoformat(not_after))
        .sign(ca_key, hashes.SHA256())
    )
    return cert


@pytest.fixture
def ca(tmp_path):
    ca_key, ca_cert, _path = _ca(tmp_path)
    return ca_key, ca_cert


@pytest.mark.parametrize(
    ("not_after", "days_left", "expired", "renew"),
    [
        ("2027-06-01T12:00:00+00:00", 365, False, False),
        ("2026-07-01T12:00:00+00:00", 30, False, False),  # exactly the threshold: not yet
        ("2026-07-01T11:59:59+00:00", 29, False, True),  # a second inside it
        ("2026-06-01T11:00:00+00:00", -1, True, True),  # ended an hour ago
    ],
    ids=["a-year-left", "threshold", "inside-threshold", "expired"],
)
def test_status_reports_expiry_and_renews_within_the_threshold(
    pki, ca, not_after, days_left, expired, renew
):
    cert = _cert_until(*ca, not_after)
    status = pki.site_ca_cert_status(_pem(cert), None, 30, now=NOW)
    assert status == {
        "serial": "ABC123",
        "subject_cn": CN,
        "not_after": not_after[:19] + "Z",
        "days_left": days_left,
        "expired": expired,
        "revoked": False,
        "revocation_reason": None,
        "renew": renew,
    }


def test_a_certificate_on_the_crl_is_revoked_with_its_reason_and_due(pki, ca):
    cert = _cert_until(*ca, "2027-06-01T12:00:00+00:00")
    other = _cert_until(*ca, "2027-06-01T12:00:00+00:00").serial_number + 1
    crl = _crl(*ca, revoked=[cert])
    status = pki.site_ca_cert_status(_pem(cert), crl, 30, now=NOW)
    assert (status["revoked"], status["revocation_reason"], status["renew"]) == (
        True,
        "key_compromise",
        True,
    )
    # Another serial on the list does not revoke this one; an empty CRL revokes nothing.
    assert other != cert.serial_number
    assert pki.site_ca_cert_status(_pem(cert), _crl(*ca), 30, now=NOW)["revoked"] is False


def test_status_refuses_what_is_not_pem(pki, ca):
    with pytest.raises(AnsibleFilterError, match="not a PEM certificate"):
        pki.site_ca_cert_status("-----BEGIN NOTHING-----", None, 30)
    cert = _cert_until(*ca, "2027-06-01T12:00:00+00:00")
    with pytest.raises(AnsibleFilterError, match="CRL is not a PEM CRL"):
        pki.site_ca_cert_status(_pem(cert), "garbage", 30)


@pytest.mark.parametrize(
    ("next_update_days", "due"), [(180, False), (31, False), (30, False), (29, True), (0, True)]
)
def test_the_crl_is_due_when_missing_or_near_its_next_update(pki, ca, next_update_days, due):
    assert pki.site_ca_crl_due(_crl(*ca, next_update_days=next_update_days), 30, now=NOW) is due
    assert pki.site_ca_crl_due("", 30, now=NOW) is True
    assert pki.site_ca_crl_due(None, 30, now=NOW) is True


def test_the_crl_issuer_is_the_ca_subject_in_order(pki, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Jovial"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Jovial obs site CA"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    assert pki.site_ca_name(_pem(cert)) == [
        {"C": "CL"},
        {"O": "Jovial"},
        {"CN": "Jovial obs site CA"},
    ]
    with pytest.raises(AnsibleFilterError, match="not a PEM certificate"):
        pki.site_ca_name("nope")


def test_the_serial_is_printed_as_openssl_prints_it(pki, ca):
    ca_key, ca_cert = ca
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CN)]))
        .issuer_name(ca_cert.subject)
        .public_key(ca_key.public_key())
        .serial_number(0xABC12)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    assert pki.site_ca_cert_status(_pem(cert))["serial"] == "0ABC12"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("site_ca_issued_current", ("/nonexistent", "h", "/ca.crt", "h", [], [], 2048)),
        ("site_ca_cert_status", ("not a certificate",)),
        ("site_ca_crl_due", (None,)),
        ("site_ca_name", ("not a certificate",)),
    ],
)
def test_without_cryptography_each_filter_says_what_is_missing(pki, monkeypatch, name, args):
    """The plugin loads without cryptography (ansible-doc, plugin listing); a filter then
    fails naming the package instead of with a NameError."""
    monkeypatch.setattr(pki, "CRYPTOGRAPHY_IMPORT_ERROR", ImportError("No module named 'x'"))
    with pytest.raises(AnsibleFilterError, match=f"{name} needs the Python package cryptography"):
        pki.FilterModule().filters()[name](*args)
