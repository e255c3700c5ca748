"""What an operator relies on after the common layer: names, time and the site CA."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from jovial_fixtures import wait_for

DOMAIN = "common.jovial.test"
NODES = {"mc-time": "10.78.1.11", "mc-node": "10.78.1.12"}


def test_every_node_resolves_every_node_and_vip(node):
    for name in NODES:
        host = node(name)
        for other, address in NODES.items():
            for alias in (other, f"{other}.{DOMAIN}"):
                out = host.run(f"getent hosts {alias}")
                assert out.rc == 0, f"{name} cannot resolve {alias}"
                assert out.stdout.split()[0] == address
        vip = host.run("getent hosts front-vip")
        assert vip.rc == 0 and vip.stdout.split()[0] == "10.78.1.100"


def _issue_leaf(tmp_path: Path) -> Path:
    """Sign a server certificate with the scenario's site CA, as later layers will."""
    eph = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
    passphrase = (eph / "secrets" / "ca_passphrase").read_text().strip().encode()
    ca_key = serialization.load_pem_private_key((eph / "pki" / "ca.key").read_bytes(), passphrase)
    ca_cert = x509.load_pem_x509_certificate((eph / "pki" / "ca.crt").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"mc-node.{DOMAIN}")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    path = tmp_path / "leaf.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_certificates_from_the_site_ca_are_trusted_system_wide(node, tmp_path):
    leaf = _issue_leaf(tmp_path)
    for name in NODES:
        host = node(name)
        host.run_expect([0], f"cat > /tmp/leaf.pem << 'EOF'\n{leaf.read_text()}EOF")
        # The system bundle is what curl, pip, python's ssl and SSSD use.
        out = host.run("openssl verify -CAfile /etc/ssl/certs/ca-certificates.crt /tmp/leaf.pem")
        assert out.rc == 0, out.stderr


def test_an_untrusted_certificate_is_still_refused(node, tmp_path):
    """Guards the test above: a certificate from another CA must fail the same check."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rogue")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    host = node("mc-node")
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    host.run_expect([0], f"cat > /tmp/rogue.pem << 'EOF'\n{pem}EOF")
    out = host.run("openssl verify -CAfile /etc/ssl/certs/ca-certificates.crt /tmp/rogue.pem")
    assert out.rc != 0


def test_nodes_follow_the_site_time_server(node):
    client = node("mc-node")

    def synced():
        out = client.run("chronyc -n tracking")
        return "10.78.1.11" in out.stdout and "Not synchronised" not in out.stdout and out

    tracking = wait_for(synced, timeout=60, interval=2)
    assert tracking, client.run("chronyc -n sources").stdout
    server = node("mc-time")
    assert server.service("chrony").is_running
    # The time server answers other nodes.
    clients = server.run("chronyc -n clients").stdout
    assert "10.78.1.12" in clients
