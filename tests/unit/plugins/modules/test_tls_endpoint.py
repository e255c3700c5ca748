"""tls_endpoint: one verified handshake, reported. First with the front door's real
getpeercert() output replayed, then for real: the module's own handshake against a TLS server
on loopback with certificates from throwaway CAs (tests/unit/tls_testing.py): verified; wrong
CA, wrong name and expired refused; a closed port reported."""

from __future__ import annotations

import datetime
import json
import socket
import ssl
from pathlib import Path
from unittest.mock import patch

import pytest
from ansible.module_utils.testing import patch_module_args
from tls_testing import make_ca, make_leaf, pem, tls_server

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "frontdoor"


@pytest.fixture
def tls_endpoint(load_plugin):
    return load_plugin("plugins/modules/tls_endpoint.py")


def run(module, args, capsys, handshake):
    with (
        patch_module_args(args),
        patch.object(module, "handshake", handshake),
        pytest.raises(SystemExit),
    ):
        module.main()
    return json.loads(capsys.readouterr().out)


ARGS = {
    "host": "10.78.4.100",
    "server_name": "jovial.proxy.jovial.test",
    "ca_file": "/usr/local/share/ca-certificates/jovial-molecule-proxy-ca.crt",
}


def test_verified_endpoint_reports_its_certificate(tls_endpoint, capsys):
    captured = json.loads((FIXTURES / "peercert_proxy.json").read_text())
    seen = []

    def handshake(host, port, server_name, ca_file, timeout):
        seen.append((host, port, server_name, ca_file, timeout))
        return captured["cert"], captured["version"], captured["cipher"][0]

    result = run(tls_endpoint, ARGS, capsys, handshake)
    assert seen == [
        (
            "10.78.4.100",
            443,
            "jovial.proxy.jovial.test",
            "/usr/local/share/ca-certificates/jovial-molecule-proxy-ca.crt",
            5.0,
        )
    ]
    assert result["changed"] is False
    assert result["verified"] is True
    assert result["error"] == ""
    assert result["protocol"] == "TLSv1.3"
    assert result["cipher"] == "TLS_AES_256_GCM_SHA384"
    cert = result["certificate"]
    assert cert["subject_cn"] == "jovial.proxy.jovial.test"
    assert cert["not_after"] == "2029-02-24T02:45:40+00:00"
    expected_days = (
        datetime.datetime(2029, 2, 24, 2, 45, 40, tzinfo=datetime.UTC)
        - datetime.datetime.now(datetime.UTC)
    ).days
    assert cert["days_left"] == expected_days
    assert "IP:10.78.4.100" in cert["subject_alt_names"]


def test_failed_verification_is_reported_not_raised(tls_endpoint, capsys):
    def handshake(*_args):
        raise ssl.SSLCertVerificationError(
            1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
        )

    result = run(tls_endpoint, ARGS, capsys, handshake)
    assert result["verified"] is False
    assert result["certificate"] == {}
    assert result["error"].startswith("10.78.4.100:443 (SNI jovial.proxy.jovial.test): ")
    assert "CERTIFICATE_VERIFY_FAILED" in result["error"]


def test_unreachable_endpoint_is_reported(tls_endpoint, capsys):
    def handshake(*_args):
        raise ConnectionRefusedError(111, "Connection refused")

    result = run(tls_endpoint, {**ARGS, "port": 8443}, capsys, handshake)
    assert result["verified"] is False
    assert result["error"] == (
        "10.78.4.100:8443 (SNI jovial.proxy.jovial.test): [Errno 111] Connection refused"
    )


# --------------------------------------------------------------------------------------------
# The real handshake: a TLS server on loopback with certificates from throwaway CAs
# (tests/unit/tls_testing.py).

SERVER_NAME = "hub.jovial.test"


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    """Throwaway CAs and server certificates: the site CA, a current and an expired certificate
    it issued for SERVER_NAME, and an unrelated CA."""
    tmp = tmp_path_factory.mktemp("pki")
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    site = make_ca("Jovial test site CA")
    other = make_ca("Some other CA")
    good = make_leaf(
        site, SERVER_NAME, now - datetime.timedelta(hours=1), now + datetime.timedelta(days=20)
    )
    old = make_leaf(
        site, SERVER_NAME, now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)
    )
    return {
        "ca": pem(tmp / "ca.crt", site[0]),
        "other_ca": pem(tmp / "other-ca.crt", other[0]),
        "good": pem(tmp / "good.pem", *good),
        "expired": pem(tmp / "expired.pem", *old),
    }


def real(module, args, capsys):
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def test_real_handshake_verified(tls_endpoint, pki, capsys):
    with tls_server(pki["good"]) as port:
        args = {"host": "127.0.0.1", "port": port, "server_name": SERVER_NAME}
        result = real(tls_endpoint, args | {"ca_file": str(pki["ca"])}, capsys)
    assert result["verified"] is True, result["error"]
    assert result["error"] == ""
    assert result["protocol"] == "TLSv1.3"
    cert = result["certificate"]
    assert cert["subject_cn"] == SERVER_NAME
    assert cert["issuer_cn"] == "Jovial test site CA"
    assert cert["days_left"] == 19
    assert "IP:127.0.0.1" in cert["subject_alt_names"]


@pytest.mark.parametrize(
    ("server_cert", "ca", "server_name", "reason"),
    [
        ("good", "other_ca", SERVER_NAME, "unable to get local issuer certificate"),
        ("good", "ca", "other.jovial.test", "Hostname mismatch"),
        ("expired", "ca", SERVER_NAME, "certificate has expired"),
    ],
    ids=["wrong-ca", "wrong-name", "expired"],
)
def test_real_handshake_refused(tls_endpoint, pki, capsys, server_cert, ca, server_name, reason):
    with tls_server(pki[server_cert]) as port:
        args = {"host": "127.0.0.1", "port": port, "server_name": server_name}
        result = real(tls_endpoint, args | {"ca_file": str(pki[ca])}, capsys)
    assert result["verified"] is False
    assert result["certificate"] == {} and result["protocol"] == ""
    assert result["error"].startswith(f"127.0.0.1:{port} (SNI {server_name}): ")
    assert "CERTIFICATE_VERIFY_FAILED" in result["error"] and reason in result["error"]


def test_real_closed_port(tls_endpoint, pki, capsys):
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    args = {"host": "127.0.0.1", "port": port, "ca_file": str(pki["ca"]), "timeout": 1}
    result = real(tls_endpoint, args, capsys)
    assert result["verified"] is False
    assert "Connection refused" in result["error"]
