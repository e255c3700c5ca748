"""Parsers of etcdctl -w json output (plugins/module_utils/etcd.py), on real etcdctl 3.4.23
output captured in the Molecule etcd scenario (tests/unit/fixtures/etcd/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.module_utils import etcd

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "etcd"
ME1, ME2, ME3 = "a9097717f2c54aa5", "16c5276e39a11d2c", "54d9fa0e68355b27"
LEARNER = "3f66566b28c67f33"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_member_list():
    parsed = etcd.parse_member_list(fixture("member_list.json"))
    assert parsed["cluster_id"] == format(1687492185899488057, "x")
    assert [(m["name"], m["id"]) for m in parsed["members"]] == [
        ("me-etcd1", ME1),
        ("me-etcd2", ME2),
        ("me-etcd3", ME3),
    ]
    assert parsed["members"][0] == {
        "id": ME1,
        "name": "me-etcd1",
        "peer_urls": ["https://10.78.2.11:2380"],
        "client_urls": ["https://10.78.2.11:2379"],
        "is_learner": False,
        "started": True,
    }


def test_member_list_with_an_unstarted_learner():
    members = etcd.parse_member_list(fixture("member_list_learner.json"))["members"]
    learner = members[0]  # no name yet: sorts first
    assert learner == {
        "id": LEARNER,
        "name": "",
        "peer_urls": ["https://10.78.2.99:2380"],
        "client_urls": [],
        "is_learner": True,
        "started": False,
    }
    assert etcd.find_member(members, "me-etcd9", ["https://10.78.2.99:2380"]) is learner
    assert etcd.find_member(members, "me-etcd9") is None
    assert etcd.member_summary(members)[0] == "(not started) https://10.78.2.99:2380 (learner)"


def test_member_add():
    added = etcd.parse_member_add(fixture("member_add_learner.json"))
    assert added["member"]["id"] == LEARNER
    assert added["member"]["is_learner"] is True
    assert len(added["members"]) == 4


def test_endpoint_health_all_healthy():
    health = etcd.parse_endpoint_health(fixture("endpoint_health.json"))
    assert [h["endpoint"] for h in health] == [
        "https://10.78.2.11:2379",
        "https://10.78.2.12:2379",
        "https://10.78.2.13:2379",
    ]
    assert all(h["healthy"] and h["error"] is None for h in health)


def test_endpoint_health_one_down():
    health = etcd.parse_endpoint_health(fixture("endpoint_health_one_down.json"))
    assert [h["healthy"] for h in health] == [True, True, False]
    assert health[2]["error"] == "context deadline exceeded"


def test_endpoint_status_finds_the_leader():
    status = etcd.parse_endpoint_status(fixture("endpoint_status.json"))
    assert [(s["member_id"], s["is_leader"]) for s in status] == [
        (ME1, True),
        (ME2, False),
        (ME3, False),
    ]
    assert {s["leader_id"] for s in status} == {ME1}
    first = status[0]
    assert first["version"] == "3.4.23"
    assert (first["revision"], first["raft_term"], first["raft_index"]) == (1, 2, 8)
    assert first["db_size"] == 24576 and first["is_learner"] is False


def test_endpoint_status_one_down_lists_who_answered():
    status = etcd.parse_endpoint_status(fixture("endpoint_status_one_down.json"))
    assert [s["endpoint"] for s in status] == ["https://10.78.2.11:2379", "https://10.78.2.12:2379"]


def test_hashkv_agreement():
    hashes = etcd.parse_endpoint_hashkv(fixture("endpoint_hashkv.json"))
    assert {(h["hash"], h["revision"]) for h in hashes} == {(1084519789, 1)}
    assert etcd.hashes_agree(hashes)
    diverged = [*hashes[:2], {**hashes[2], "hash": 1}]
    assert not etcd.hashes_agree(diverged)
    later = [*hashes[:2], {**hashes[2], "revision": 2}]
    assert not etcd.hashes_agree(later)
    assert not etcd.hashes_agree([])


@pytest.mark.parametrize(
    ("voting", "healthy_others", "ok"),
    [
        (3, 2, True),
        (3, 1, False),
        (3, 0, False),
        (5, 3, True),
        (5, 2, False),
        (7, 4, True),
        (7, 3, False),
        (1, 0, False),
    ],
)
def test_removal_keeps_quorum(voting, healthy_others, ok):
    assert etcd.removal_keeps_quorum(voting, healthy_others) is ok


@pytest.mark.parametrize("text", ["", "Error: context deadline exceeded", '{"members"', "[]"])
def test_member_list_rejects_what_is_not_a_member_list(text):
    with pytest.raises(etcd.EtcdParseError, match="member list"):
        etcd.parse_member_list(text)


def test_status_rejects_other_json():
    with pytest.raises(etcd.EtcdParseError, match="endpoint status: unexpected entry"):
        etcd.parse_endpoint_status(fixture("endpoint_health.json"))


def test_empty_output_means_no_answers():
    assert etcd.parse_endpoint_health("") == []
    assert etcd.parse_endpoint_hashkv("\n") == []
