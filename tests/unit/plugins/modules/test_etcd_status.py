"""etcd_status: runs etcdctl health/status/member list/hashkv and combines them (real output of
etcdctl 3.4.23, tests/unit/fixtures/etcd/)."""

from __future__ import annotations

import json
from pathlib import Path
from unittest.mock import patch

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "etcd"
ENDPOINTS = ["https://10.78.2.11:2379", "https://10.78.2.12:2379", "https://10.78.2.13:2379"]
ARGS = {
    "endpoints": ENDPOINTS,
    "cacert": "/etc/etcd/pki/ca.crt",
    "cert": "/etc/etcd/pki/etcd-member.crt",
    "key": "/etc/etcd/pki/etcd-member.key",
    "etcdctl": "/usr/bin/etcdctl",
}
PREFIX = [
    "/usr/bin/etcdctl",
    "--endpoints=" + ",".join(ENDPOINTS),
    "--cacert=/etc/etcd/pki/ca.crt",
    "--cert=/etc/etcd/pki/etcd-member.crt",
    "--key=/etc/etcd/pki/etcd-member.key",
    "--command-timeout=5s",
    "-w",
    "json",
]


@pytest.fixture
def etcd_status(load_plugin):
    return load_plugin("plugins/modules/etcd_status.py")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def run(module, args, capsys, outputs):
    """outputs: 'endpoint health' -> (rc, stdout, stderr)."""
    calls = []

    def fake_run_command(self, argv, **kwargs):
        calls.append(argv)
        return outputs[" ".join(argv[len(PREFIX) :])]

    with (
        patch_module_args(args),
        patch.object(AnsibleModule, "run_command", fake_run_command),
        pytest.raises(SystemExit),
    ):
        module.main()
    return json.loads(capsys.readouterr().out), calls


HEALTHY = {
    "endpoint health": (0, fixture("endpoint_health.json"), ""),
    "endpoint status": (0, fixture("endpoint_status.json"), ""),
    "member list": (0, fixture("member_list.json"), ""),
    "endpoint hashkv": (0, fixture("endpoint_hashkv.json"), ""),
}
# What etcdctl printed (rc 1, stdout and stderr) while me-etcd3 was stopped.
ONE_DOWN = {
    cmd: (1, fixture(f"endpoint_{name}_one_down.json"), fixture(f"endpoint_{name}_one_down.stderr"))
    for cmd, name in (
        ("endpoint health", "health"),
        ("endpoint status", "status"),
        ("endpoint hashkv", "hashkv"),
    )
} | {"member list": (0, fixture("member_list.json"), "")}


@pytest.mark.parametrize("check_mode", [False, True])
def test_healthy_cluster(etcd_status, capsys, check_mode):
    result, calls = run(etcd_status, {**ARGS, "_ansible_check_mode": check_mode}, capsys, HEALTHY)
    assert calls == [
        [*PREFIX, "endpoint", "health"],
        [*PREFIX, "endpoint", "status"],
        [*PREFIX, "member", "list"],
        [*PREFIX, "endpoint", "hashkv"],
    ]
    assert result["changed"] is False
    assert result["healthy"] is True
    assert result["leader"] == "me-etcd1"
    assert result["hashkv_consistent"] is True
    assert result["revision"] == 1
    assert [(e["name"], e["is_leader"]) for e in result["endpoints"]] == [
        ("me-etcd1", True),
        ("me-etcd2", False),
        ("me-etcd3", False),
    ]
    assert result["quorum"] == {"voting": 3, "needed": 2, "healthy_voting": 3, "has_quorum": True}


def test_one_member_down_is_reported_not_a_failure(etcd_status, capsys):
    result, _ = run(etcd_status, ARGS, capsys, ONE_DOWN)
    assert "failed" not in result
    assert result["healthy"] is False
    assert result["leader"] == "me-etcd1"
    down = result["endpoints"][2]
    assert (down["endpoint"], down["healthy"], down["error"]) == (
        ENDPOINTS[2],
        False,
        "context deadline exceeded",
    )
    assert down["name"] == ""  # it did not answer endpoint status
    assert result["hashkv_consistent"] is None  # not every member answered
    assert result["quorum"] == {"voting": 3, "needed": 2, "healthy_voting": 2, "has_quorum": True}


def test_hashkv_can_be_skipped(etcd_status, capsys):
    result, calls = run(etcd_status, {**ARGS, "hashkv": False}, capsys, HEALTHY)
    assert [*PREFIX, "endpoint", "hashkv"] not in calls
    assert result["hashkv_consistent"] is None


def test_output_that_is_not_json_fails_with_the_text(etcd_status, capsys):
    broken = {**HEALTHY, "endpoint status": (0, "Error: something else", "")}
    result, _ = run(etcd_status, ARGS, capsys, broken)
    assert result["failed"] is True
    assert "endpoint status: etcdctl output is not JSON" in result["msg"]
    assert "Error: something else" in result["msg"]
