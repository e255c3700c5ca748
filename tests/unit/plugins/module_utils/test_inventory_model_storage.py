"""Storage checks (pairs, backend and devices, LNet/NIDs, fencing, InfiniBand) on the lab
topology of test_inventory_model.BASE plus the storage settings; exact messages."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible.module_utils import inventory_model as im


def _load_base() -> dict[str, Any]:
    """BASE of test_inventory_model.py (the lab topology), loaded by path (no package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name("test_inventory_model.py")
    spec = importlib.util.spec_from_file_location("jovial_test_inventory_base", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BASE


BASE = _load_base()

SERVERS = ("mds1", "mds2", "oss1", "oss2")


def storage_base() -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["site"]["lustre_server_backend"] = "lustre"
    data["site"]["lnet_networks"] = [{"name": "o2ib0", "interfaces": ["ib0"]}]
    data["site"]["lustre_fsname"] = "jovial"
    data["site"]["jovial_required_secrets"] += ["vault_ha_cluster_authkey", "vault_bmc_password"]
    data["secrets"].update(
        {"vault_ha_cluster_authkey": "k" * 128, "vault_bmc_password": "bmc-secret"}
    )
    for n, host in enumerate(data["hosts"]):
        data["hosts"][host]["lustre_nid"] = f"10.80.0.{n + 1}@o2ib0"
    for n, host in enumerate(SERVERS):
        data["hosts"][host]["ha_cluster_fence"] = {
            "agent": "fence_ipmilan",
            "ip": f"10.10.9.{n + 1}",
            "username": "fence",
            "password": "bmc-secret",
        }
    for n, target in enumerate(data["site"]["lustre_targets"]):
        target["device"] = f"/dev/mapper/t{n}"
    data["groups"]["infiniband"] = list(SERVERS)
    data["groups"]["opensm"] = ["mds1", "oss1"]
    data["hosts"]["mds1"]["opensm_priority"] = 15
    data["hosts"]["oss1"]["opensm_priority"] = 14
    data["hosts"]["mds1"]["infiniband_ipoib_interfaces"] = [
        {"name": "ib0", "address": "10.80.0.7/16", "mode": "datagram", "mtu": 2044}
    ]
    return data


def problems(change) -> list[str]:
    data = storage_base()
    change(data)
    return im.validate(im.InventoryModel(**data))


def test_storage_base_is_valid():
    assert problems(lambda d: None) == []


def _set(path: str, value: Any):
    def change(data):
        node = data
        *parents, last = path.split(".")
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


CASES = [
    (
        "bad-backend",
        _set("site.lustre_server_backend", "ext4"),
        [
            "lustre_server_backend 'ext4' is not one of lustre, lab_ext4, moosefs; use lustre "
            "on real servers (lab_ext4 only in the lab and Molecule)"
        ],
    ),
    (
        "device-missing",
        lambda d: d["site"]["lustre_targets"][2].pop("device"),
        [
            "lustre_targets[ost0]: device is not set; with lustre_server_backend lustre every "
            "target needs its shared block device, e.g. device: "
            "/dev/disk/by-id/dm-uuid-mpath-<wwid>"
        ],
    ),
    (
        "device-shared",
        _set("site.lustre_targets.1.device", "/dev/mapper/t0"),
        [
            "host mds1: device /dev/mapper/t0 is used by lustre_targets[mgt0] and "
            "lustre_targets[mdt0]; each target needs its own device (formatting one would "
            "destroy the other)",
            "host mds2: device /dev/mapper/t0 is used by lustre_targets[mgt0] and "
            "lustre_targets[mdt0]; each target needs its own device (formatting one would "
            "destroy the other)",
        ],
    ),
    (
        "nid-missing",
        lambda d: d["hosts"]["hub1"].pop("lustre_nid"),
        [
            "host hub1: lustre_nid is not set; set it to the host's NID on the first LNet "
            "network, e.g. 10.80.0.41@o2ib0"
        ],
    ),
    (
        "nid-malformed",
        _set("hosts.oss1.lustre_nid", "oss1@o2ib0"),
        [
            "host oss1: lustre_nid 'oss1@o2ib0' is not <ipv4>@<net>; use e.g. 10.80.0.41@o2ib0 "
            "(the host's IPoIB address) or 10.77.0.21@tcp0"
        ],
    ),
    (
        "nid-net-unknown-and-pair-split",
        _set("hosts.mds2.lustre_nid", "10.77.0.42@tcp0"),
        [
            "host mds2: lustre_nid '10.77.0.42@tcp0' is on tcp0, which is not in lnet_networks "
            "(o2ib0); fix the NID or add the network",
            "failover pair mds1 and mds2: lustre_nid on different LNet networks (o2ib and tcp); "
            "clients reach a target through both NIDs: put both on the same network",
        ],
    ),
    (
        "nid-duplicate",
        _set("hosts.oss2.lustre_nid", "10.80.0.9@o2ib"),
        ["hosts oss1 and oss2 share lustre_nid 10.80.0.9@o2ib; each needs its own"],
    ),
    (
        "fence-missing",
        lambda d: d["hosts"]["oss2"].pop("ha_cluster_fence"),
        [
            "host oss2: ha_cluster_fence is null; every Lustre server needs its fence device "
            "(STONITH is never off), e.g. {agent: fence_ipmilan, ip: <BMC>, username: admin, "
            "password: '{{ vault_bmc_password }}'}"
        ],
    ),
    (
        "fence-podman-in-production",
        _set("hosts.oss2.ha_cluster_fence", {"agent": "fence_jovial_podman", "container": "x"}),
        [
            "host oss2: ha_cluster_fence: agent fence_jovial_podman only fences lab containers; "
            "with lustre_server_backend lustre use fence_ipmilan or fence_redfish"
        ],
    ),
    (
        "fence-plain-password",
        _set("hosts.mds1.ha_cluster_fence.password", "hunter2"),
        [
            "host mds1: ha_cluster_fence: password is not a vault secret (value not shown); "
            "write password: '{{ vault_bmc_password }}' and list vault_bmc_password in "
            "jovial_required_secrets"
        ],
    ),
    (
        "authkey-not-required",
        lambda d: d["site"]["jovial_required_secrets"].remove("vault_ha_cluster_authkey"),
        [
            "jovial_required_secrets does not list vault_ha_cluster_authkey; the failover "
            "pairs' corosync needs it: add it there and its value to group_vars/all/vault.yml"
        ],
    ),
    (
        "one-opensm",
        _set("groups.opensm", ["mds1"]),
        [
            "group opensm has 1 host (mds1); it needs exactly two InfiniBand hosts so that a "
            "subnet manager always runs"
        ],
    ),
    (
        "opensm-same-priority",
        _set("hosts.oss1.opensm_priority", 15),
        [
            "hosts mds1 and oss1 share opensm_priority 15; give them different priorities so "
            "the master is deterministic"
        ],
    ),
    (
        "ipoib-bad-address",
        _set("hosts.mds1.infiniband_ipoib_interfaces.0.address", "10.80.0.7"),
        [
            "host mds1: infiniband_ipoib_interfaces[0]: address '10.80.0.7' is not "
            "address/prefix (e.g. 10.80.0.41/16)"
        ],
    ),
    (
        "ipoib-network-address",
        _set("hosts.mds1.infiniband_ipoib_interfaces.0.address", "10.80.0.0/16"),
        [
            "host mds1: infiniband_ipoib_interfaces[0]: address '10.80.0.0/16' is the network "
            "address of 10.80.0.0/16; use a host address (e.g. 10.80.0.41/16)"
        ],
    ),
    (
        "ipoib-datagram-mtu-too-big",
        _set("hosts.mds1.infiniband_ipoib_interfaces.0.mtu", 4096),
        [
            "host mds1: infiniband_ipoib_interfaces[0]: mtu 4096 is not an integer 1280-4092 "
            "(the most datagram mode carries); use 2044 (datagram) or 65520 (connected)"
        ],
    ),
    (
        "ipoib-connected-mtu-too-small",
        lambda d: d["hosts"]["mds1"]["infiniband_ipoib_interfaces"][0].update(
            {"mode": "connected", "mtu": 576}
        ),
        [
            "host mds1: infiniband_ipoib_interfaces[0]: mtu 576 is not an integer 1280-65520 "
            "(the most connected mode carries); use 2044 (datagram) or 65520 (connected)"
        ],
    ),
    (
        "ipoib-name-twice",
        lambda d: d["hosts"]["mds1"]["infiniband_ipoib_interfaces"].append(
            {"name": "ib0", "address": "10.81.0.7/16"}
        ),
        ["host mds1: infiniband_ipoib_interfaces: ib0 is listed 2 times; list each interface once"],
    ),
    (
        "authkey-short",
        _set("secrets.vault_ha_cluster_authkey", "k" * 64),
        [
            "vault_ha_cluster_authkey has fewer than 128 characters (value not shown); corosync "
            "takes a key of 128 to 4096: generate one with `openssl rand -base64 192` into "
            "group_vars/all/vault.yml"
        ],
    ),
    (
        "pacemaker-policies-unknown",
        lambda d: d["site"].update(
            {"ha_cluster_stonith_action": "poweroff", "ha_cluster_no_quorum_policy": "suicide"}
        ),
        [
            "ha_cluster_stonith_action 'poweroff' is not reboot or off (reboot power-cycles a "
            "fenced node, off leaves it down); fix it in group_vars/all",
            "ha_cluster_no_quorum_policy 'suicide' is not stop, freeze, demote or ignore (stop, "
            "the default, stops the resources of a member that lost its partner); fix it in "
            "group_vars/all",
        ],
    ),
    (
        "fsname-missing",
        lambda d: d["site"].pop("lustre_fsname"),
        [
            "lustre_fsname is not set; set it in group_vars/all/lustre.yml to the file system's "
            "name, 1-8 letters, digits, '_' or '-' (e.g. jovial)"
        ],
    ),
    (
        "no-mgt",
        lambda d: d["site"]["lustre_targets"].pop(0),
        [
            "lustre_targets has no mgt target; with lustre_server_backend lustre the clients "
            "mount from the MGS pair: add {kind: mgt, index: 0, primary: <a host of lustre_mgs>, "
            "failover: <its partner>, device: <its device>}"
        ],
    ),
    (
        "servers-without-targets",
        _set("site.lustre_targets", []),
        [
            "hosts mds1, mds2, oss1 and oss2 are Lustre servers (lustre_mgs, lustre_mds, "
            "lustre_oss) but lustre_targets lists no target; list the targets their failover "
            "pairs serve in group_vars/all/lustre.yml, or remove the hosts from the lustre_* "
            "groups"
        ],
    ),
    (
        "lnet-state-unknown",
        _set("site.lnet_networks", [{"name": "o2ib0", "interfaces": ["ib0"], "state": "up"}]),
        [
            "lnet_networks[o2ib0]: state 'up' is not present or absent; write state: absent to "
            "remove the network from LNet, or leave state out",
        ],
    ),
    (
        "lnet-nid-not-on-the-first-network",
        _set(
            "site.lnet_networks",
            [
                {"name": "tcp0", "interfaces": ["eth0"]},
                {"name": "o2ib0", "interfaces": ["ib0"]},
            ],
        ),
        [
            f"host {host}: lustre_nid '10.80.0.{n}@o2ib0' is on o2ib0, not on tcp0, the first "
            "network of lnet_networks, where the lnet role gives the node its NID; set "
            "lustre_nid to the host's address on tcp0, or list o2ib0 first"
            for host, n in (("hub1", 6), ("mds1", 7), ("mds2", 8), ("oss1", 9), ("oss2", 10))
        ],
    ),
    (
        "lnet-absent-network-needs-no-interfaces",
        lambda d: d["site"]["lnet_networks"].append({"name": "tcp0", "state": "absent"}),
        [],
    ),
    (
        "lnet-only-absent-networks",
        _set("site.lnet_networks", [{"name": "o2ib0", "state": "absent"}]),
        [
            "lnet_networks has no present network (every entry is state: absent); keep the "
            "network the Lustre nodes' NIDs are on"
        ],
    ),
    (
        "client-mount-root-relative",
        _set("site.lustre_client_mount_root", "lustre"),
        [
            "lustre_mount_root 'lustre' is not an absolute path of letters, digits, '_' and '.' "
            "(e.g. /lustre); every lustre_client mounts the file system at "
            "<lustre_mount_root>/<lustre_fsname>"
        ],
    ),
    (
        "client-tunables",
        _set("site.lustre_client_tunables", {"osc.max_rpcs_in_flight": 16, "max_dirty_mb": 64}),
        [
            "lustre_client_tunables: key 'max_dirty_mb' is not <device type>.<param> with a "
            "device type of osc, mdc, llite, ldlm, lov or lmv (e.g. osc.max_rpcs_in_flight); "
            "the role sets each as <type>.<lustre_fsname>-*.<param>"
        ],
    ),
    (
        "client-tunables-a-list",
        _set("site.lustre_client_tunables", ["osc.max_rpcs_in_flight=16"]),
        [
            "lustre_client_tunables: expected a mapping of <device type>.<param> to a value, "
            "got a list (['osc.max_rpcs_in_flight=16']); e.g. {osc.max_rpcs_in_flight: 16}"
        ],
    ),
]


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_storage_problem_reported_exactly(change, expected):
    assert problems(change) == expected


def test_server_with_two_partners():
    def change(data):
        data["groups"]["lustre_oss"] = ["oss1", "oss2", "mds1"]
        data["site"]["lustre_targets"].append(
            {"kind": "ost", "index": 2, "primary": "mds1", "failover": "oss1", "device": "/dev/x"}
        )

    found = problems(change)
    assert (
        "host mds1 is the partner of mds2 and oss1 in lustre_targets; each Lustre server belongs "
        "to exactly one failover pair (one Pacemaker cluster): give every target of mds1 the "
        "same partner"
    ) in found
    assert any(p.startswith("host oss1 is the partner of mds1 and oss2") for p in found)


def test_without_backend_setting_only_targets_are_checked():
    data = copy.deepcopy(BASE)
    assert im.validate(im.InventoryModel(**data)) == []


# lab_ext4 serves loop-backed ext4 images: only the lab (the inventory that names the podman
# network playbooks/lab-up.yml builds, lab_network_name) or an inventory that says
# jovial_allow_lab_ext4: true may choose it.
LAB_EXT4_REFUSED = (
    "lustre_server_backend 'lab_ext4' outside the lab (no lab_network_name; "
    "jovial_allow_lab_ext4 {seen}): it serves loop-backed ext4 images, not Lustre; on real "
    "servers set lustre_server_backend: lustre and give every target its device, or, for a "
    "throwaway test bed only, set jovial_allow_lab_ext4: true in group_vars/all"
)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, [LAB_EXT4_REFUSED.format(seen="is not set")]),
        ({"jovial_allow_lab_ext4": False}, [LAB_EXT4_REFUSED.format(seen="is false, not true")]),
        (
            {"jovial_allow_lab_ext4": "yes"},
            [LAB_EXT4_REFUSED.format(seen="is 'yes', not true")],
        ),
        ({"jovial_allow_lab_ext4": True}, []),
        ({"lab_network_name": "jovial-lab"}, []),
    ],
    ids=["refused", "allowed-false", "allowed-not-a-bool", "allowed", "lab"],
)
def test_lab_ext4_only_in_the_lab_or_when_allowed(extra, expected):
    def change(data):
        data["site"]["lustre_server_backend"] = "lab_ext4"
        data["site"].update(extra)

    assert problems(change) == expected


def test_lab_ext4_allowance_does_not_touch_the_production_backend():
    assert problems(_set("site.jovial_allow_lab_ext4", True)) == []


def moosefs(data: dict[str, Any]) -> None:
    """The lab's MooseFS backend: a failover address on the MDT and each OST."""
    data["site"]["lustre_server_backend"] = "moosefs"
    for target, address in zip(
        data["site"]["lustre_targets"],
        (None, "10.77.0.45", "10.77.0.55", "10.77.0.56"),
        strict=True,
    ):
        del target["device"]
        if address:
            target["address"] = address


def test_moosefs_with_a_failover_address_per_mdt_and_ost_is_valid():
    assert problems(moosefs) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            _set("site.lustre_targets.2.address", "10.77.0.300"),
            "lustre_targets[ost0]: address '10.77.0.300' is not an IP address; with "
            "lustre_server_backend moosefs each mdt and ost target needs `address`, a free "
            "address on the pair's network that moves with the target (e.g. address: "
            "10.77.0.45)",
        ),
        (
            _set("site.lustre_targets.3.address", "10.99.0.5"),
            "lustre_targets[ost1]: address '10.99.0.5' is not inside any network in "
            "jovial_networks (mgmt 10.77.0.0/24); use a free address of the pair's network",
        ),
        (
            _set("site.lustre_targets.3.address", "10.77.0.31"),
            "host hub1 and lustre_targets[ost1] share the address 10.77.0.31; each target's "
            "failover address must be its own (a free address, not a host's or a VIP's)",
        ),
    ],
)
def test_moosefs_address_problems(change, expected):
    def both(data):
        moosefs(data)
        change(data)

    assert expected in problems(both)


def test_moosefs_needs_exactly_one_mdt():
    def two(data):
        moosefs(data)
        extra = dict(data["site"]["lustre_targets"][1], index=1, address="10.77.0.46")
        data["site"]["lustre_targets"].append(extra)

    assert (
        "lustre_server_backend moosefs needs exactly one mdt target (2 given: "
        "lustre_targets[mdt0] and lustre_targets[mdt1]); MooseFS has one metadata server, run "
        "by the MDS pair"
    ) in problems(two)


@pytest.mark.parametrize(
    ("home", "expected"),
    [
        ("/lustre/jovial/home", []),
        (
            "/lustre/home",
            [
                "ldap_home_root '/lustre/home' is not on the shared filesystem, which every "
                "lustre_client mounts at /lustre/jovial (lustre_mount_root/lustre_fsname): homes "
                "there would sit on each node's own disk and be lost with it; set ldap_home_root: "
                "/lustre/jovial/home"
            ],
        ),
    ],
)
def test_homes_must_be_on_the_shared_filesystem(home, expected):
    def homes(data):
        moosefs(data)
        data["site"].update(
            lustre_fsname="jovial",
            lustre_client_mount_root="/lustre",
            ldap_client_home_root=home,
        )

    assert [p for p in problems(homes) if "ldap_home_root" in p] == expected


GROUPS = [
    {"name": "astro", "gid": 10100},
    {"name": "retired", "gid": 10101, "state": "absent"},
]


@pytest.mark.parametrize(
    ("quotas", "expected"),
    [
        ([{"group": "astro", "block_hardlimit": "10T"}], []),
        (
            [{"group": "radio", "block_hardlimit": "10T"}],
            [
                "lustre_quotas[radio]: group radio is not a present group of ldap_groups; add it "
                "to ldap_groups (its gid is what the quota is set on) or remove the quota"
            ],
        ),
        (
            [{"group": "retired"}],
            [
                "lustre_quotas[retired]: group retired is not a present group of ldap_groups; "
                "add it to ldap_groups (its gid is what the quota is set on) or remove the quota"
            ],
        ),
        (
            [{"block_hardlimit": "10T"}],
            [
                "lustre_quotas[0]: {'block_hardlimit': '10T'} names no group; e.g. [{group: "
                "astro, block_hardlimit: 10T, inode_hardlimit: 10000000}]"
            ],
        ),
        (
            {"group": "astro"},
            [
                "lustre_quotas: expected a list of mappings, got a mapping ({'group': 'astro'}); "
                "e.g. [{group: astro, block_hardlimit: 10T, inode_hardlimit: 10000000}]"
            ],
        ),
    ],
)
def test_quotas_name_groups_of_the_directory(quotas, expected):
    def change(data):
        data["site"].update(ldap_groups=GROUPS, lustre_quotas=quotas)

    assert [p for p in problems(change) if "lustre_quotas" in p] == expected
