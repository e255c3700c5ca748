"""lustre_topology: the pairs and per-host topology derived from lustre_targets (the plays'
view, rendered on the lab and sample inventories: tests/unit/plugins/filter/test_topology.py).
"""

from __future__ import annotations

from ansible.module_utils.lustre_topology import (
    host_topology,
    pair_partners,
    target_resources,
)

TARGETS = [
    {"kind": "mgt", "index": 0, "primary": "m1", "failover": "m2"},
    {"kind": "mdt", "index": 0, "primary": "m1", "failover": "m2", "address": "10.0.0.40"},
    {"kind": "ost", "index": 0, "primary": "o1", "failover": "o2", "address": "10.0.0.50"},
    {"kind": "ost", "index": 1, "primary": "o2", "failover": "o1", "address": "10.0.0.51"},
]


def test_pairs_are_the_primary_and_failover_of_each_target():
    assert pair_partners(TARGETS) == {"m1": {"m2"}, "m2": {"m1"}, "o1": {"o2"}, "o2": {"o1"}}


def test_a_server_with_two_partners_is_seen_so_the_validator_can_refuse_it():
    crossed = [*TARGETS, {"kind": "ost", "index": 2, "primary": "o1", "failover": "m1"}]
    assert pair_partners(crossed)["o1"] == {"o2", "m1"}


def test_resources_of_a_target_with_and_without_a_moosefs_daemon():
    assert target_resources("fs-ost0", "mfschunkserver") == [
        "fs-ost0",
        "fs-ost0-address",
        "fs-ost0-mfschunkserver",
    ]
    assert target_resources("fs-mgt0", "") == ["fs-mgt0"]


def test_a_failover_host_lists_its_own_primaries_first():
    topology = host_topology(TARGETS, "o2", "fs", "moosefs")
    assert [t["name"] for t in topology["targets"]] == ["fs-ost1", "fs-ost0"]
    assert topology["targets"][0] == {**TARGETS[3], "name": "fs-ost1", "service": "mfschunkserver"}
    assert topology["members"] == ["o1", "o2"]
    assert topology["partner"] == "o1"
    assert topology["cluster"] == "fs-o1-o2"
    assert topology["resources"] == [
        "fs-ost1",
        "fs-ost1-address",
        "fs-ost1-mfschunkserver",
        "fs-ost0",
        "fs-ost0-address",
        "fs-ost0-mfschunkserver",
    ]


def test_the_mgt_carries_no_daemon_and_lustre_carries_none():
    moosefs = host_topology(TARGETS, "m1", "fs", "moosefs")
    assert [t["service"] for t in moosefs["targets"]] == ["", "mfsmaster"]
    lustre = host_topology(TARGETS, "m1", "fs", "lustre")
    assert [t["service"] for t in lustre["targets"]] == ["", ""]
    assert lustre["resources"] == ["fs-mgt0", "fs-mdt0"]
