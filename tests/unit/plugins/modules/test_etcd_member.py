"""etcd_member: reads member list first, changes membership only when needed (real output of
etcdctl 3.4.23, tests/unit/fixtures/etcd/)."""

from __future__ import annotations

import json
from pathlib import Path
from unittest.mock import patch

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "etcd"
ARGS = {
    "endpoints": ["https://10.78.2.11:2379"],
    "cacert": "/etc/etcd/pki/ca.crt",
    "cert": "/etc/etcd/pki/etcd-member.crt",
    "key": "/etc/etcd/pki/etcd-member.key",
    "etcdctl": "/usr/bin/etcdctl",
}
PREFIX = [
    "/usr/bin/etcdctl",
    "--endpoints=https://10.78.2.11:2379",
    "--cacert=/etc/etcd/pki/ca.crt",
    "--cert=/etc/etcd/pki/etcd-member.crt",
    "--key=/etc/etcd/pki/etcd-member.key",
    "-w",
    "json",
]
LIST = [*PREFIX, "member", "list"]
ME3 = "54d9fa0e68355b27"
LEARNER = "3f66566b28c67f33"
NEW_PEER = "https://10.78.2.99:2380"


@pytest.fixture
def etcd_member(load_plugin):
    return load_plugin("plugins/modules/etcd_member.py")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def run(module, args, capsys, replies):
    """replies: a list of (rc, stdout, stderr), one per etcdctl call, in order."""
    calls = []
    queue = list(replies)

    def fake_run_command(self, argv, **kwargs):
        calls.append(argv)
        return queue.pop(0)

    with (
        patch_module_args(args),
        patch.object(AnsibleModule, "run_command", fake_run_command),
        pytest.raises(SystemExit),
    ):
        module.main()
    return json.loads(capsys.readouterr().out), calls


def test_present_member_is_left_alone(etcd_member, capsys):
    args = {**ARGS, "name": "me-etcd3", "peer_urls": ["https://10.78.2.13:2380"]}
    result, calls = run(etcd_member, args, capsys, [(0, fixture("member_list.json"), "")])
    assert calls == [LIST]
    assert result["changed"] is False
    assert result["member"]["id"] == ME3


def test_add_as_learner(etcd_member, capsys):
    args = {**ARGS, "name": "me-etcd9", "peer_urls": [NEW_PEER], "_ansible_diff": True}
    replies = [
        (0, fixture("member_list.json"), ""),
        (0, fixture("member_add_learner.json"), ""),
        (0, fixture("member_list_learner.json"), ""),
    ]
    result, calls = run(etcd_member, args, capsys, replies)
    add = [*PREFIX, "member", "add", "me-etcd9", "--peer-urls=" + NEW_PEER, "--learner"]
    assert calls == [LIST, add, LIST]
    assert result["changed"] is True
    assert result["member"]["id"] == LEARNER and result["member"]["is_learner"] is True
    assert "(not started) https://10.78.2.99:2380 (learner)" in result["diff"]["after"]
    assert "10.78.2.99" not in result["diff"]["before"]


def test_add_in_check_mode_runs_only_member_list(etcd_member, capsys):
    args = {
        **ARGS,
        "name": "me-etcd9",
        "peer_urls": [NEW_PEER],
        "_ansible_check_mode": True,
        "_ansible_diff": True,
    }
    result, calls = run(etcd_member, args, capsys, [(0, fixture("member_list.json"), "")])
    assert calls == [LIST]
    assert result["changed"] is True
    assert result["cmd"][-3:] == ["me-etcd9", "--peer-urls=" + NEW_PEER, "--learner"]
    assert "me-etcd9 https://10.78.2.99:2380 (learner)" in result["diff"]["after"]


def test_remove_by_name(etcd_member, capsys):
    args = {**ARGS, "name": "me-etcd3", "state": "absent"}
    after = json.loads(fixture("member_list.json"))
    after["members"] = [m for m in after["members"] if m["name"] != "me-etcd3"]
    replies = [(0, fixture("member_list.json"), ""), (0, "", ""), (0, json.dumps(after), "")]
    result, calls = run(etcd_member, args, capsys, replies)
    assert calls == [LIST, [*PREFIX, "member", "remove", ME3], LIST]
    assert result["changed"] is True
    assert result["member"] is None
    assert len(result["members"]) == 2


def test_remove_an_unstarted_learner_by_its_peer_url(etcd_member, capsys):
    args = {**ARGS, "name": "me-etcd9", "peer_urls": [NEW_PEER], "state": "absent"}
    replies = [
        (0, fixture("member_list_learner.json"), ""),
        (0, "", ""),
        (0, fixture("member_list.json"), ""),
    ]
    _result, calls = run(etcd_member, args, capsys, replies)
    assert calls[1] == [*PREFIX, "member", "remove", LEARNER]


def test_remove_absent_member_changes_nothing(etcd_member, capsys):
    args = {**ARGS, "name": "me-etcd9", "state": "absent", "_ansible_check_mode": True}
    result, calls = run(etcd_member, args, capsys, [(0, fixture("member_list.json"), "")])
    assert calls == [LIST]
    assert result["changed"] is False


def test_promote_a_learner_not_caught_up_fails_with_etcds_reason(etcd_member, capsys):
    args = {**ARGS, "name": "me-etcd9", "peer_urls": [NEW_PEER], "state": "promoted"}
    replies = [
        (0, fixture("member_list_learner.json"), ""),
        (1, "", fixture("member_promote_not_ready.stderr")),
    ]
    result, calls = run(etcd_member, args, capsys, replies)
    assert calls[1] == [*PREFIX, "member", "promote", LEARNER]
    assert result["failed"] is True
    assert "in sync with leader" in result["stderr"]


def test_promote_a_voting_member_changes_nothing(etcd_member, capsys):
    args = {**ARGS, "name": "me-etcd3", "state": "promoted"}
    result, calls = run(etcd_member, args, capsys, [(0, fixture("member_list.json"), "")])
    assert calls == [LIST]
    assert result["changed"] is False


def test_promote_a_missing_member_says_to_add_it(etcd_member, capsys):
    args = {**ARGS, "name": "me-etcd9", "state": "promoted"}
    result, _ = run(etcd_member, args, capsys, [(0, fixture("member_list.json"), "")])
    assert result["failed"] is True
    assert "me-etcd9 is not a member, so it cannot be promoted" in result["msg"]


def test_member_list_failure_is_reported(etcd_member, capsys):
    args = {**ARGS, "name": "me-etcd3", "state": "absent"}
    result, _ = run(etcd_member, args, capsys, [(1, "", "Error: context deadline exceeded")])
    assert result["failed"] is True
    assert result["msg"] == "etcdctl member list failed"
    assert result["stderr"] == "Error: context deadline exceeded"
