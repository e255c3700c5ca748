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
