"""tls_endpoint: one verified handshake, reported (real getpeercert() output replayed)."""

from __future__ import annotations

import datetime
import json
import ssl
from pathlib import Path
from unittest.mock import patch

import pytest
from ansible.module_utils.testing import patch_module_args

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
