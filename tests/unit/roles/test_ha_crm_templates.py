"""The production HA configuration of the storage pairs, rendered from inventories/sample/ and
checked by Pacemaker's own tools on this machine, without a running cluster.

What is rendered: roles/ha_cluster/templates/cluster.crm.j2 (properties, fence_ipmilan or
fence_redfish devices) and roles/lustre_server/templates/targets.crm.j2 (ocf:lustre:Lustre
targets, the healthLNET clone, the LNet location rule, MGT-before-MDT order), as the pair's
first member renders them: the two roles' defaults, the sample inventory, the storage plays'
vars file (playbooks/vars/lustre_pairs.yml), the roles' vars.

How it is checked, as production applies it (roles/ha_cluster/files/jovial-crm-apply):
1. `crm --force configure load update` into an offline CIB (crmsh honours CIB_file): crmsh
   parses the crm syntax, checks references between objects (a constraint naming a resource
   that does not exist refuses the whole load) and every fence device's parameters against
   the agent's meta-data (fence-agents installed here, as on the servers). Any ERROR fails the
   test, except one: the meta-data of Lustre's own agents (ocf:lustre:Lustre, healthLNET)
   ships only with Lustre's lustre-resource-agents package, which no Debian archive has; their
   parameters are checked instead against the names those agents' meta-data publish
   (PUBLISHED_LUSTRE_PARAMETERS, from Lustre's contrib/scripts/pacemaker/).
2. `crm_verify` on the CIB with both members online: schema, constraints, STONITH present.
3. `crm_simulate` (Pacemaker's scheduler): where each target and fence device would run with
   LNet healthy on both members, with no LNet health reported, with LNet lost on the primary,
   and after the primary dies (fenced by the device on its partner, targets moved).

Requires Debian's pacemaker-cli-utils, crmsh and fence-agents (scripts/bootstrap.sh).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "inventories" / "sample"
TOOLS = ("crm", "cibadmin", "crm_verify", "crm_simulate", "crm_attribute", "fence_ipmilan")

# Parameters declared by the meta-data of Lustre's resource agents (lustre-release,
# contrib/scripts/pacemaker/Lustre 1.0.0 and healthLNET 0.99.4); required ones second.
PUBLISHED_LUSTRE_PARAMETERS: dict[str, tuple[set[str], set[str]]] = {
    "Lustre": ({"target", "mountpoint"}, {"target", "mountpoint"}),
    "healthLNET": (
        {
            "pidfile",
            "dampen",
            "name",
            "multiplier",
            "host_list",
            "attempts",
            "timeout",
            "lctl",
            "device",
            "options",
            "failure_score",
            "debug",
        },
        {"host_list"},
    ),
}
# crmsh's only tolerated complaints: no meta-data for Lustre's agents on this machine.
LUSTRE_RA_MISSING = ("ocf:lustre:Lustre: ", "ocf:lustre:healthLNET: ")


@pytest.fixture(scope="module", autouse=True)
def pacemaker_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    assert not missing, (
        f"{', '.join(missing)} not installed: run `make deps` "
        "(pacemaker-cli-utils, crmsh, fence-agents from scripts/bootstrap.sh)"
    )


def leader_vars(leader: str, fence_override: dict[str, dict[str, Any]] | None = None):
    """Variables of the pair's first member in the storage plays, on top of the ha_cluster and
    lustre_server role defaults (role vars, which override play vars, come last)."""
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(SAMPLE)])
    manager = VariableManager(loader=loader, inventory=inventory)
    variables = manager.get_vars(host=inventory.get_host(leader), include_hostvars=True)
    hostvars: Any = HostVars(inventory=inventory, variable_manager=manager, loader=loader)
    if fence_override:
        hostvars = {h: dict(hostvars[h]) for h in hostvars}
        for host, fence in fence_override.items():
            hostvars[host]["ha_cluster_fence"] = fence

    def load(path: Path) -> dict[str, Any]:
        return loader.load_from_file(str(path), trusted_as_template=True)

    layered: dict[str, Any] = {}
    for role in ("ha_cluster", "lustre_server"):
        layered.update(load(REPO / "roles" / role / "defaults" / "main.yml"))
    layered.update(variables)
    layered["hostvars"] = hostvars
    layered.update(load(REPO / "playbooks" / "vars" / "lustre_pairs.yml"))
    for role in ("ha_cluster", "lustre_server"):
        layered.update(load(REPO / "roles" / role / "vars" / "main.yml"))
    layered["ansible_managed"] = "Ansible managed"
    return loader, layered


def render_pair(leader: str, **kwargs: Any) -> tuple[str, str]:
    """(cluster.crm, lustre-targets.crm) as the pair's first member renders them."""
    loader, variables = leader_vars(leader, **kwargs)
    templar = Templar(loader=loader, variables=variables)
    out = []
    for role, template in (("ha_cluster", "cluster.crm.j2"), ("lustre_server", "targets.crm.j2")):
        text = (REPO / "roles" / role / "templates" / template).read_text()
        out.append(templar.template(trust_as_template(text)))
    return out[0], out[1]


def run(argv: list[str], cib: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LC_ALL="C")
    if cib is not None:
        env["CIB_file"] = str(cib)
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)


def empty_cib(path: Path, members: list[str]) -> Path:
    """An empty CIB (cibadmin --empty) with the pair's nodes, as a formed two_node cluster
    has them (quorate)."""
    proc = run(["cibadmin", "--empty"])
    assert proc.returncode == 0, proc.stderr
    root = ET.fromstring(proc.stdout)
    root.set("have-quorum", "1")
    nodes = root.find("configuration/nodes")
    assert nodes is not None
    for member in members:
        ET.SubElement(nodes, "node", id=member, uname=member)
    path.write_text(ET.tostring(root, encoding="unicode"))
    return path


def crm_load(cib: Path, text: str, name: str) -> list[str]:
    """`crm --force configure load update` (jovial-crm-apply's call) into the offline CIB;
    returns crmsh's ERROR/WARNING lines that are not about Lustre's absent agents."""
    crm_file = cib.parent / name
    crm_file.write_text(text)
    proc = run(["crm", "--force", "configure", "load", "update", str(crm_file)], cib)
    complaints = [
        line
        for line in _plain(proc.stderr).splitlines()
        if ("ERROR" in line or "WARNING" in line)
        and not any(agent in line for agent in LUSTRE_RA_MISSING)
    ]
    if proc.returncode != 0:
        complaints.append(f"crm exited {proc.returncode}: {_plain(proc.stderr)}")
    return complaints


def _plain(text: str) -> str:
    """crmsh colours its messages even into a pipe."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def loaded_cib(tmp_path: Path, leader: str, members: list[str], **kwargs: Any) -> Path:
    cluster, targets = render_pair(leader, **kwargs)
    cib = empty_cib(tmp_path / "cib.xml", members)
    # Production loads the two files one after the other; their objects are disjoint, so one
    # load of both is the same merge (and one crmsh start less).
    assert crm_load(cib, cluster + targets, "cluster-and-targets.crm") == []
    return cib


def online(cib: Path, members: list[str], lnet_health: dict[str, int]) -> Path:
    """The CIB with both members online and the lnet_health node attribute healthLNET would
    set (a transient attribute), ready for crm_verify and crm_simulate."""
    up = cib.with_name("up.xml")
    argv = ["crm_simulate", "--xml-file", str(cib), "--save-output", str(up)]
    for member in members:
        argv += ["--node-up", member]
    proc = run(argv)
    assert proc.returncode == 0, proc.stderr
    for node, score in lnet_health.items():
        proc = run(
            [
                *("crm_attribute", "--node", node, "--name", "lnet_health"),
                *("--update", str(score), "--lifetime", "reboot"),
            ],
            up,
        )
        assert proc.returncode == 0, proc.stderr
    return up


def simulate(cib: Path, *extra: str) -> tuple[dict[str, str], ET.Element, list[str]]:
    """Run the scheduler: {resource: node it runs on afterwards}, the transition graph and the
    nodes fenced."""
    graph = cib.with_name("graph.xml")
    proc = run(
        [
            *("crm_simulate", "--xml-file", str(cib), "--simulate", "--output-as=xml"),
            *("--save-graph", str(graph), *extra),
        ]
    )
    assert proc.returncode == 0, proc.stderr
    result = ET.fromstring(proc.stdout)
    placed = {}
    for resource in result.iterfind("revised_cluster_status/resources//resource"):
        nodes = [n.get("name", "") for n in resource.iterfind("node")]
        if resource.get("role") == "Started" and len(nodes) == 1:
            placed.setdefault(resource.get("id", ""), nodes[0])
    fenced = [a.get("node", "") for a in result.iterfind("actions/node_action")]
    return placed, ET.parse(graph).getroot(), fenced


def start_inputs(graph: ET.Element, resource: str) -> set[str]:
    """Operation keys the start of resource waits for in the transition graph."""
    for synapse in graph.iterfind("synapse"):
        action = synapse.find("action_set/*")
        if action is not None and action.get("operation_key") == f"{resource}_start_0":
            return {t.get("operation_key", "") for t in synapse.iterfind("inputs/trigger/*")}
    raise AssertionError(f"no start of {resource} in the transition")


MDS = ["mds01", "mds02"]
OSS = ["oss01", "oss02"]


@pytest.fixture(scope="module")
def mds_cib(ansible_plugin_loader, tmp_path_factory) -> Path:
    return loaded_cib(tmp_path_factory.mktemp("mds"), "mds01", MDS)


@pytest.fixture(scope="module")
def oss_cib(ansible_plugin_loader, tmp_path_factory) -> Path:
    return loaded_cib(tmp_path_factory.mktemp("oss"), "oss01", OSS)


# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pair", ["mds", "oss"])
def test_crm_verify_accepts_the_pair(pair, request):
    cib = request.getfixturevalue(f"{pair}_cib")
    members = MDS if pair == "mds" else OSS
    up = online(cib, members, {m: 1000 for m in members})
    proc = run(["crm_verify", "--xml-file", str(up), "-V"])
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


def test_rendered_objects(mds_cib):
    """What was loaded is the production shape: IPMI fencing, Lustre's agents, the clone."""
    root = ET.parse(mds_cib).getroot()
    agents = {
        p.get("id"): (p.get("class"), p.get("provider"), p.get("type"))
        for p in root.iterfind(".//resources//primitive")
    }
    assert agents == {
        "fence-mds01": ("stonith", None, "fence_ipmilan"),
        "fence-mds02": ("stonith", None, "fence_ipmilan"),
        "lnet-health": ("ocf", "lustre", "healthLNET"),
        "obs-mgt0": ("ocf", "lustre", "Lustre"),
        "obs-mdt0": ("ocf", "lustre", "Lustre"),
    }
    assert root.find(".//resources/clone[@id='lnet-health-clone']/primitive") is not None
    props = {n.get("name"): n.get("value") for n in root.iterfind(".//crm_config//nvpair")}
    assert props["stonith-enabled"] == "true"


@pytest.mark.parametrize("pair", ["mds", "oss"])
def test_lustre_agent_parameters_are_the_published_ones(pair, request):
    root = ET.parse(request.getfixturevalue(f"{pair}_cib")).getroot()
    checked = 0
    for primitive in root.iterfind(".//resources//primitive[@provider='lustre']"):
        known, required = PUBLISHED_LUSTRE_PARAMETERS[primitive.get("type", "")]
        names = {n.get("name") for n in primitive.iterfind("instance_attributes/nvpair")}
        assert names <= known, (primitive.get("id"), names - known)
        assert required <= names, (primitive.get("id"), required - names)
        checked += 1
    assert checked == 3  # healthLNET and two targets per pair


def test_targets_start_on_their_primary_mgt_first(mds_cib):
    placed, graph, fenced = simulate(online(mds_cib, MDS, {"mds01": 1000, "mds02": 1000}))
    assert fenced == []
    assert placed["obs-mgt0"] == placed["obs-mdt0"] == "mds01"
    # A node never runs the device that fences it.
    assert (placed["fence-mds01"], placed["fence-mds02"]) == ("mds02", "mds01")
    assert "obs-mgt0_start_0" in start_inputs(graph, "obs-mdt0")


def test_oss_pair_is_active_active(oss_cib):
    placed, _, _ = simulate(online(oss_cib, OSS, {"oss01": 1000, "oss02": 1000}))
    assert (placed["obs-ost0"], placed["obs-ost1"]) == ("oss01", "oss02")


def test_no_target_runs_without_lnet_health(mds_cib):
    """healthLNET has not reported yet (attribute not defined): nothing is mounted."""
    placed, _, _ = simulate(online(mds_cib, MDS, {}))
    assert "obs-mgt0" not in placed and "obs-mdt0" not in placed
    assert placed["fence-mds01"] == "mds02"


def test_targets_go_where_lnet_answers(mds_cib):
    placed, _, fenced = simulate(online(mds_cib, MDS, {"mds01": 0, "mds02": 1000}))
    assert fenced == []
    assert placed["obs-mgt0"] == placed["obs-mdt0"] == "mds02"


def test_primary_lost_is_fenced_and_partner_takes_over(mds_cib):
    up = online(mds_cib, MDS, {"mds01": 1000, "mds02": 1000})
    running = up.with_name("running.xml")
    proc = run(["crm_simulate", "--xml-file", str(up), "--simulate", "--save-output", str(running)])
    assert proc.returncode == 0, proc.stderr
    placed, _, fenced = simulate(running, "--node-fail", "mds01")
    assert fenced == ["mds01"]
    assert placed["obs-mgt0"] == placed["obs-mdt0"] == "mds02"
    assert placed["fence-mds01"] == "mds02"


def test_fence_redfish_parameters_are_known(ansible_plugin_loader, tmp_path):
    """The fence_redfish branch of cluster.crm.j2 (the sample fences with IPMI), with the
    parameters roles/ha_cluster/README.md documents; crmsh checks them against the agent."""
    redfish = {
        "agent": "fence_redfish",
        "ip": "10.10.9.12",
        "username": "jovial-fence",
        "password": "secret",
        "params": {"ssl_insecure": 1, "systems_uri": "/redfish/v1/Systems/1"},
    }
    cluster, _ = render_pair("mds01", fence_override={"mds02": redfish})
    assert "primitive fence-mds02 stonith:fence_redfish" in cluster
    cib = empty_cib(tmp_path / "cib.xml", MDS)
    assert crm_load(cib, cluster, "cluster.crm") == []
    up = online(cib, MDS, {})
    proc = run(["crm_verify", "--xml-file", str(up), "-V"])
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


def test_the_checks_refuse_a_broken_configuration(ansible_plugin_loader, tmp_path):
    """The checks above can fail: an order on a resource that does not exist, an unknown
    fence parameter and a missing fence device are each refused."""
    cluster, targets = render_pair("mds01")
    cib = empty_cib(tmp_path / "cib.xml", MDS)
    complaints = crm_load(cib, cluster.replace('lanplus="1"', 'lanplux="1"'), "a.crm")
    assert any('parameter "lanplux" is not known' in c for c in complaints), complaints
    broken = targets.replace("Optional: obs-mgt0 obs-mdt0", "Optional: obs-mgt9 obs-mdt0")
    complaints = crm_load(cib, broken, "b.crm")
    assert any("obs-mgt9 which doesn't exist" in c for c in complaints), complaints
    fresh = empty_cib(tmp_path / "fresh.xml", MDS)
    complaints = crm_load(fresh, targets, "c.crm")  # targets without any fence device
    assert any("no STONITH resources have been defined" in c for c in complaints), complaints
    proc = run(["crm_verify", "--xml-file", str(online(fresh, MDS, {})), "-V"])
    assert proc.returncode != 0 and "no STONITH resources have been defined" in proc.stderr
