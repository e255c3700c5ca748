"""The lab filters turn per-group container options and Lustre targets into podman args."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

_PATH = Path(__file__).resolve().parents[4] / "plugins" / "filter" / "lab.py"
_spec = importlib.util.spec_from_file_location("jovial_filter_lab", _PATH)
lab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lab)

DEFAULTS = {
    "volumes": ["/cache:/var/cache/apt/archives"],
    "tmpfs": {"/tmp": "rw,exec"},
    "cap_add": [],
    "sysctl": {},
    "privileged": False,
}
BY_GROUP = {
    "proxy": {"cap_add": ["NET_ADMIN", "NET_RAW"], "sysctl": {"net.ipv4.ip_nonlocal_bind": 1}},
    "ldap_server": {"cap_add": ["NET_ADMIN"], "volumes": ["/x:/y"]},
    "lustre_oss": {"privileged": True},
}


def test_node_in_no_special_group_gets_the_defaults():
    opts = lab.lab_container_options(["etcd", "lab_nodes"], BY_GROUP, DEFAULTS)
    assert opts == {
        "volumes": ["/cache:/var/cache/apt/archives"],
        "cap_add": [],
        "devices": [],
        "sysctl": {},
        "tmpfs": {"/tmp": "rw,exec"},
        "privileged": False,
        "cgroupns": "",
    }


def test_a_kubernetes_node_gets_its_own_cgroup_namespace():
    by_group = {**BY_GROUP, "kube_node": {"privileged": True, "cgroupns": "private"}}
    assert lab.lab_container_options(["kube_node"], by_group, DEFAULTS)["cgroupns"] == "private"
    assert lab.lab_container_options(["etcd"], by_group, DEFAULTS)["cgroupns"] == ""


def test_options_of_every_group_are_merged_without_duplicates():
    opts = lab.lab_container_options(["proxy", "ldap_server", "lustre_oss"], BY_GROUP, DEFAULTS)
    assert opts["cap_add"] == ["NET_ADMIN", "NET_RAW"]
    assert opts["volumes"] == ["/cache:/var/cache/apt/archives", "/x:/y"]
    # podman takes sysctl values as strings.
    assert opts["sysctl"] == {"net.ipv4.ip_nonlocal_bind": "1"}
    assert opts["privileged"] is True


def test_unknown_option_names_the_group_and_the_allowed_keys():
    with pytest.raises(AnsibleFilterError, match=r"lab_container_by_group.proxy has unknown"):
        lab.lab_container_options(["proxy"], {"proxy": {"caps": ["NET_ADMIN"]}}, DEFAULTS)


def test_options_that_are_not_a_mapping_are_refused():
    with pytest.raises(AnsibleFilterError, match="must be a mapping"):
        lab.lab_container_options(["proxy"], {"proxy": ["NET_ADMIN"]}, DEFAULTS)


def test_a_lustre_target_becomes_a_disk_shared_by_its_pair():
    disk = lab.jovial_lab_disk({"kind": "ost", "index": 1, "primary": "oss2", "failover": "oss1"})
    assert disk == {
        "name": "ost1",
        "size": "256M",
        "hosts": ["oss2", "oss1"],
    }


def test_a_target_without_its_failover_host_is_refused():
    with pytest.raises(AnsibleFilterError, match="needs kind, index, primary and failover"):
        lab.jovial_lab_disk({"kind": "mdt", "index": 0, "primary": "mds1"})


DISKS = [
    {"name": "mdt0", "hosts": ["mds1", "mds2"]},
    {"name": "ost0", "hosts": ["oss1", "oss2"]},
]


def test_each_host_of_a_disk_gets_its_own_loop_device_in_number_order():
    loops = {"mdt0": ["/dev/loop10", "/dev/loop9"], "ost0": ["/dev/loop3", "/dev/loop4"]}
    assert lab.jovial_disk_nodes(DISKS, loops) == [
        {"host": "mds1", "name": "mdt0", "loop": "/dev/loop9"},
        {"host": "mds2", "name": "mdt0", "loop": "/dev/loop10"},
        {"host": "oss1", "name": "ost0", "loop": "/dev/loop3"},
        {"host": "oss2", "name": "ost0", "loop": "/dev/loop4"},
    ]


def test_a_node_sees_its_disks_through_one_directory_mount_never_a_mounted_device_node():
    # ocf:heartbeat:Filesystem unmounts every mount whose line names the device when it
    # stops; a device node that is itself a bind mount would vanish from the node on failover.
    assert lab.jovial_disk_volumes("mds2", DISKS, "/b/disks/nodes") == [
        "/b/disks/nodes/mds2:/dev/jovial"
    ]
    assert lab.jovial_disk_volumes("hub1", DISKS, "/b/disks/nodes") == []


def test_a_disk_with_fewer_loop_devices_than_hosts_is_an_error():
    with pytest.raises(AnsibleFilterError, match="disk mdt0 has 1 loop device"):
        lab.jovial_disk_nodes(DISKS, {"mdt0": ["/dev/loop1"], "ost0": ["/dev/loop2", "/dev/loop3"]})


def test_a_non_loop_device_is_an_error():
    with pytest.raises(AnsibleFilterError, match="'/dev/sda' is not a loop device"):
        lab.jovial_disk_nodes(DISKS, {"mdt0": ["/dev/sda", "/dev/loop2"]})


def test_a_disk_without_hosts_is_an_error():
    with pytest.raises(AnsibleFilterError, match="needs name and hosts"):
        lab.jovial_disk_volumes("mds1", [{"name": "mdt0"}], "/b/disks/nodes")


def test_a_node_keeps_one_mac_derived_from_its_address_across_restarts():
    mac = lab.jovial_lab_mac("10.78.6.11")
    assert mac == "02:4a:0a:4e:06:0b"
    # Locally administered, unicast: the first octet's bit 1 set, bit 0 clear.
    assert int(mac.split(":")[0], 16) & 0b11 == 0b10
    assert lab.jovial_lab_mac("10.78.6.12") != mac


@pytest.mark.parametrize("bad", ["10.78.6", "10.78.6.256", "fd00::1", "node1", ""])
def test_a_mac_for_something_not_an_ipv4_address_is_refused(bad):
    with pytest.raises(AnsibleFilterError, match="not an IPv4 address"):
        lab.jovial_lab_mac(bad)
