"""The etcd layer's inventory checks (check_etcd_settings), on the lab model with one change
per case; each case states the exact problems it must produce, no more and no fewer."""

from __future__ import annotations

from typing import Any

import pytest
from ansible.module_utils import inventory_model as im
from test_inventory_model import build

SHA = "a" * 64

CASES = [
    pytest.param({}, [], id="lab-defaults-valid"),
    pytest.param(
        {
            "site.etcd_install_method": "release",
            "site.etcd_release_version": "3.5.17",
            "site.etcd_release_sha256": SHA,
            "site.etcd_release_source": "/srv/mirror/etcd-v3.5.17-linux-amd64.tar.gz",
            "site.etcd_client_port": 2379,
            "site.etcd_peer_port": 2380,
            "site.etcd_metrics_port": 2381,
            "site.etcd_heartbeat_interval": 100,
            "site.etcd_election_timeout": 1000,
            "site.etcd_quota_backend_bytes": 8589934592,
            "site.etcd_cert_valid_days": 825,
            "site.etcd_cert_extra_sans": ["DNS:etcd.obs.example.org", "IP:10.77.0.200"],
        },
        [],
        id="production-release-valid",
    ),
    pytest.param(
        {"site.etcd_install_method": "tarball"},
        [
            "etcd_install_method 'tarball' is not debian or release; use debian (Debian's "
            "packages) or release (a pinned upstream tarball)"
        ],
        id="install-method-unknown",
    ),
    pytest.param(
        {
            "site.etcd_install_method": "release",
            "site.etcd_release_version": "latest",
            "site.etcd_release_sha256": "ABC",
            "site.etcd_release_source": " ",
        },
        [
            "etcd_release_version 'latest' is not a version like 3.5.17; pin the upstream "
            "release in group_vars/all/etcd.yml",
            "etcd_release_sha256 'ABC' is not a sha256 (64 lowercase hex digits); copy it from "
            "the release's SHA256SUMS into group_vars/all/etcd.yml",
            "etcd_release_source ' ' is empty; set the tarball's URL on the site mirror or its "
            "absolute path on the control node",
        ],
        id="release-not-pinned",
    ),
    pytest.param(
        {"site.etcd_install_method": "release", "site.etcd_release_sha256": SHA},
        [
            "etcd_release_version null is not a version like 3.5.17; pin the upstream release "
            "in group_vars/all/etcd.yml",
            "etcd_release_source null is empty; set the tarball's URL on the site mirror or "
            "its absolute path on the control node",
        ],
        id="release-version-and-source-missing",
    ),
    pytest.param(
        {"site.etcd_client_port": 2380, "site.etcd_peer_port": 2380},
        ["etcd_client_port and etcd_peer_port are all 2380; give each listener its own port"],
        id="ports-collide",
    ),
    pytest.param(
        {"site.etcd_metrics_port": "2381", "site.etcd_peer_port": 70000},
        [
            "etcd_peer_port 70000 is not an integer from 1 to 65535; use a free TCP port",
            "etcd_metrics_port '2381' is not an integer from 1 to 65535; use a free TCP port",
        ],
        id="ports-bad",
    ),
    pytest.param(
        {"site.etcd_heartbeat_interval": 250, "site.etcd_election_timeout": 1000},
        [
            "etcd_election_timeout 1000 is less than 5x etcd_heartbeat_interval 250; etcd "
            "refuses to start: set it to at least 1250 (10x, 2500, is usual)"
        ],
        id="election-too-short",
    ),
    pytest.param(
        {"site.etcd_heartbeat_interval": 0},
        [
            "etcd_heartbeat_interval 0 is not an integer from 10 to 5000; use about the "
            "members' round-trip time in ms (100 on one LAN)"
        ],
        id="heartbeat-zero",
    ),
    pytest.param(
        {"site.etcd_quota_backend_bytes": 16 * 1024**3},
        [
            "etcd_quota_backend_bytes 17179869184 is not an integer from 1 to 8589934592; etcd "
            "supports at most 8 GiB (8589934592); 2147483648 is its default"
        ],
        id="quota-too-big",
    ),
    pytest.param(
        {"site.etcd_cert_valid_days": 10000},
        [
            "etcd_cert_valid_days 10000 is not an integer from 1 to 3650; certificates are "
            "reissued by re-running playbooks/etcd.yml; 825 is usual"
        ],
        id="cert-lifetime",
    ),
    pytest.param(
        {"site.etcd_cert_extra_sans": ["etcd.example.org", "IP:10.0.0.300", "DNS:ok.example"]},
        [
            "etcd_cert_extra_sans[0] 'etcd.example.org' is not a subjectAltName like "
            "DNS:etcd.example.org or IP:10.0.0.5; fix or remove it",
            "etcd_cert_extra_sans[1] 'IP:10.0.0.300' is not a subjectAltName like "
            "DNS:etcd.example.org or IP:10.0.0.5; fix or remove it",
        ],
        id="sans-bad",
    ),
    pytest.param(
        {"site.etcd_cert_extra_sans": "DNS:etcd.example.org"},
        [
            "etcd_cert_extra_sans: expected a list like ['DNS:etcd.example.org', "
            "'IP:10.0.0.5'], got a string ('DNS:etcd.example.org')"
        ],
        id="sans-not-a-list",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), CASES)
def test_check_etcd_settings(changes: dict[str, Any], expected: list[str]) -> None:
    assert im.check_etcd_settings(build(changes)) == expected


def test_unresolved_settings_are_reported_once_not_as_bad_values() -> None:
    model = build({"site.etcd_peer_port": None, "unresolved": {"etcd_peer_port": "undefined"}})
    assert im.check_etcd_settings(model) == []
    assert any(p.startswith("etcd_peer_port could not be templated") for p in im.validate(model))


def test_the_check_runs_with_every_other_check() -> None:
    assert im.check_etcd_settings in im.CHECKERS
    model = build({"site.etcd_install_method": "tarball"})
    assert any(p.startswith("etcd_install_method 'tarball'") for p in im.validate(model))
