"""lustre_host_topology, and the variables the plays derive from it, on every Lustre server of
the lab (backend moosefs) and sample (backend lustre) inventories.

``rendered`` templates playbooks/vars/lustre_pairs.yml and roles/lustre_server/vars/main.yml as
a play of playbooks/storage.yml sees them (role defaults < inventory < the play's vars_files <
the role's vars), so the expected values below are what storage.yml, lustre-failover.yml and
the lustre_server role get. They were taken from the Jinja those files held before the filter
replaced it (commit db01e6d); this test passed on both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

REPO = Path(__file__).resolve().parents[4]
SERVER_GROUPS = ("lustre_mgs", "lustre_mds", "lustre_oss")
PAIR_VARS = ("__storage_targets_here", "ha_cluster_members", "ha_cluster_name")
PAIR_VARS += ("__storage_resources_here",)
ROLE_VARS = ("__lustre_server_targets", "__lustre_server_target_names")
ROLE_VARS += ("__lustre_server_pair_members", "__lustre_server_partner")
ROLE_VARS += ("__lustre_server_moosefs_packages",)


class Host(NamedTuple):
    members: list[str]
    cluster: str
    # The targets here in order (primary of, then failover of): name, service, device.
    targets: list[tuple[str, str, str]]
    resources: list[str]
    packages: list[str]


LAB_MDS = Host(
    members=["mds1", "mds2"],
    cluster="jovial-mds1-mds2",
    targets=[
        ("jovial-mgt0", "", "/dev/jovial/mgt0"),
        ("jovial-mdt0", "mfsmaster", "/dev/jovial/mdt0"),
    ],
    resources=["jovial-mgt0", "jovial-mdt0", "jovial-mdt0-address", "jovial-mdt0-mfsmaster"],
    packages=["moosefs-master"],
)
OST0 = ("jovial-ost0", "mfschunkserver", "/dev/jovial/ost0")
OST1 = ("jovial-ost1", "mfschunkserver", "/dev/jovial/ost1")
OST0_RES = ["jovial-ost0", "jovial-ost0-address", "jovial-ost0-mfschunkserver"]
OST1_RES = ["jovial-ost1", "jovial-ost1-address", "jovial-ost1-mfschunkserver"]
LAB_OSS: dict[str, Any] = dict(
    members=["oss1", "oss2"], cluster="jovial-oss1-oss2", packages=["moosefs-chunkserver"]
)
MPATH = "/dev/disk/by-id/dm-uuid-mpath-3600a098038304437522b4a6f4a2"
SAMPLE_MDS = Host(
    members=["mds01", "mds02"],
    cluster="obs-mds01-mds02",
    targets=[("obs-mgt0", "", MPATH + "d6d47"), ("obs-mdt0", "", MPATH + "d6d48")],
    resources=["obs-mgt0", "obs-mdt0"],
    packages=[],
)
SAMPLE_OSS: dict[str, Any] = dict(
    members=["oss01", "oss02"], cluster="obs-oss01-oss02", packages=[]
)
OBS_OST0 = ("obs-ost0", "", MPATH + "d7a01")
OBS_OST1 = ("obs-ost1", "", MPATH + "d7a02")

EXPECTED: dict[str, Host] = {
    "lab/mds1": LAB_MDS,
    "lab/mds2": LAB_MDS,
    "lab/oss1": Host(**LAB_OSS, targets=[OST0, OST1], resources=OST0_RES + OST1_RES),
    "lab/oss2": Host(**LAB_OSS, targets=[OST1, OST0], resources=OST1_RES + OST0_RES),
    "sample/mds01": SAMPLE_MDS,
    "sample/mds02": SAMPLE_MDS,
    "sample/oss01": Host(
        **SAMPLE_OSS, targets=[OBS_OST0, OBS_OST1], resources=["obs-ost0", "obs-ost1"]
    ),
    "sample/oss02": Host(
        **SAMPLE_OSS, targets=[OBS_OST1, OBS_OST0], resources=["obs-ost1", "obs-ost0"]
    ),
}


@pytest.fixture(scope="module")
def rendered(
    ansible_plugin_loader: None, load_plugin: Callable[[str], ModuleType]
) -> dict[str, dict[str, Any]]:
    """'<inventory>/<host>' -> the play's topology variables and the inventory's targets, each
    file's strings trusted as templates as Ansible's loader does (jovial_validate's helper)."""
    trusted = load_plugin("plugins/action/jovial_validate.py")._trusted

    def load(path: str) -> dict[str, Any]:
        return trusted(yaml.safe_load((REPO / path).read_text(encoding="utf-8")))

    out: dict[str, dict[str, Any]] = {}
    for inventory in ("lab", "sample"):
        loader = DataLoader()
        manager = InventoryManager(loader=loader, sources=[str(REPO / "inventories" / inventory)])
        variables = VariableManager(loader=loader, inventory=manager)
        hostvars = HostVars(inventory=manager, variable_manager=variables, loader=loader)
        hosts = sorted({h.name for g in SERVER_GROUPS for h in manager.groups[g].get_hosts()})
        for host in hosts:
            task_vars = variables.get_vars(host=manager.get_host(host), include_hostvars=True)
            scope = {
                **load("roles/lustre_server/defaults/main.yml"),
                **task_vars,
                "hostvars": hostvars,
                **load("playbooks/vars/lustre_pairs.yml"),
                **load("roles/lustre_server/vars/main.yml"),
            }
            templar = Templar(loader=loader, variables=scope)
            values = {name: templar.template(scope[name]) for name in PAIR_VARS + ROLE_VARS}
            for name in ("lustre_targets", "lustre_fsname", "lustre_server_backend"):
                values[name] = templar.template(scope[name])
            out[f"{inventory}/{host}"] = values
    return out


@pytest.fixture(scope="module")
def topology(load_plugin: Callable[[str], ModuleType]) -> ModuleType:
    return load_plugin("plugins/filter/topology.py")


def test_every_lustre_server_of_both_inventories_is_covered(rendered):
    assert sorted(rendered) == sorted(EXPECTED)
    assert {v["lustre_server_backend"] for k, v in rendered.items() if k.startswith("lab/")} == {
        "moosefs"
    }
    assert {v["lustre_server_backend"] for k, v in rendered.items() if k.startswith("sample/")} == {
        "lustre"
    }


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_the_pair_playbooks_see_the_pair_its_name_and_resources(rendered, key):
    seen, want = rendered[key], EXPECTED[key]
    assert seen["ha_cluster_members"] == want.members
    assert seen["ha_cluster_name"] == want.cluster
    assert seen["__storage_resources_here"] == want.resources
    # Each target here is an entry of lustre_targets, in order (primary of, then failover of).
    here = seen["__storage_targets_here"]
    inventory = [dict(t) for t in seen["lustre_targets"]]
    assert [{k: t[k] for k in t if k not in ("name", "service")} for t in here] == [
        next(i for i in inventory if f"{seen['lustre_fsname']}-{i['kind']}{i['index']}" == n)
        for n, _service, _device in want.targets
    ]


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_the_lustre_server_role_sees_its_targets_pair_and_partner(rendered, key):
    seen, want = rendered[key], EXPECTED[key]
    host = key.split("/")[1]
    targets = seen["__lustre_server_targets"]
    assert [(t["name"], t["service"], t["device"]) for t in targets] == want.targets
    assert [t["mountpoint"] for t in targets] == [
        f"/lustre/targets/{name}" for name, _service, _device in want.targets
    ]
    assert seen["__lustre_server_pair_members"] == want.members
    assert seen["__lustre_server_partner"] == next(m for m in want.members if m != host)
    # started.yml waits for these as a set (difference with what crm_mon shows Started).
    assert sorted(seen["__lustre_server_target_names"]) == sorted(want.resources)
    assert seen["__lustre_server_moosefs_packages"] == want.packages


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_filter_returns_the_hosts_topology(rendered, topology, key):
    seen, want = rendered[key], EXPECTED[key]
    host = key.split("/")[1]
    result = topology.lustre_host_topology(
        seen["lustre_targets"], host, seen["lustre_fsname"], seen["lustre_server_backend"]
    )
    assert result["members"] == want.members
    assert result["partner"] == next(m for m in want.members if m != host)
    assert result["cluster"] == want.cluster
    assert result["resources"] == want.resources
    assert [(t["name"], t["service"]) for t in result["targets"]] == [
        (name, service) for name, service, _device in want.targets
    ]


def test_a_host_serving_nothing_gets_empty_lists(topology):
    targets = [{"kind": "ost", "index": 0, "primary": "a", "failover": "b"}]
    assert topology.lustre_host_topology(targets, "c", "fs", "moosefs") == {
        "targets": [],
        "members": [],
        "partner": "",
        "cluster": "fs-",
        "resources": [],
    }


def test_backend_lustre_carries_no_moosefs_service(topology):
    targets = [{"kind": "mdt", "index": 0, "primary": "a", "failover": "b", "address": "10.0.0.9"}]
    result = topology.lustre_host_topology(targets, "b", "fs")
    assert result["targets"] == [{**targets[0], "name": "fs-mdt0", "service": ""}]
    assert result["resources"] == ["fs-mdt0"]
    assert result["partner"] == "a"


@pytest.mark.parametrize(
    ("targets", "fsname", "quoted"),
    [
        ("not-a-list", "fs", "'not-a-list'"),
        ([{"kind": "ost", "index": 0, "primary": "a"}], "fs", "lustre_targets[0]"),
        ([], "", "lustre_fsname is ''"),
    ],
)
def test_bad_input_is_refused_quoting_it(topology, targets, fsname, quoted):
    with pytest.raises(AnsibleFilterError, match=quoted.replace("[", r"\[").replace("]", r"\]")):
        topology.lustre_host_topology(targets, "a", fsname, "lustre")
