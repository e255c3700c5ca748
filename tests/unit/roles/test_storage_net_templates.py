"""The storage-net roles' templates (infiniband, lnet, lustre_client), rendered by Ansible's
Templar with an inventory as a play on one host sees it (InventoryManager/VariableManager) on
top of the role's real defaults and vars, then checked line by line: the lines operators rely
on (the mount source with both MGS NIDs, IPoIB address/mode/MTU, opensm priority, LNet
networks). The health check script is also run for real on this machine, where nothing is
mounted from Lustre: it must say so.

The sample inventory gets the storage host variables of docs (contract) from FALLBACK_HOSTVARS
only where it does not define them yet (inventory values win).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

REPO = Path(__file__).resolve().parents[3]
ROLES = REPO / "roles"
SAMPLE = REPO / "inventories" / "sample"
LAB = REPO / "inventories" / "lab"

# Storage variables of the sample topology (contract of issue #7), used only where the sample
# inventory does not set them.
FALLBACK_SITE: dict[str, Any] = {
    "lnet_networks": [{"name": "o2ib0", "interfaces": ["ib0"]}],
    "lustre_mount_root": "/lustre",
}
FALLBACK_HOSTVARS: dict[str, dict[str, Any]] = {
    "mds01": {
        "lustre_nid": "10.80.2.11@o2ib0",
        "infiniband_ipoib_interfaces": [
            {"name": "ib0", "address": "10.80.2.11/16", "mode": "datagram", "mtu": 2044}
        ],
        "opensm_priority": 15,
    },
    "mds02": {"lustre_nid": "10.80.2.12@o2ib0"},
    "oss01": {"opensm_priority": 14},
    "hub01": {"lustre_nid": "10.80.1.51@o2ib0"},
}


def host_vars(inventory_dir: Path, host: str, lab: bool = False) -> dict[str, Any]:
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(inventory_dir)])
    manager = VariableManager(loader=loader, inventory=inventory)
    hostvars = HostVars(inventory=inventory, variable_manager=manager, loader=loader)
    variables = manager.get_vars(host=inventory.get_host(host), include_hostvars=True)
    if not lab:
        for name, value in FALLBACK_SITE.items():
            variables.setdefault(name, value)
        fallback_hosts = {}
        for name, extra in FALLBACK_HOSTVARS.items():
            merged = dict(extra)
            merged.update(dict(hostvars[name]))
            fallback_hosts[name] = merged
        for name, value in FALLBACK_HOSTVARS.get(host, {}).items():
            variables.setdefault(name, value)
        variables["hostvars"] = {**{h: dict(hostvars[h]) for h in hostvars}, **fallback_hosts}
    return variables


def render(role: str, template: str, variables: dict[str, Any], **extra: Any) -> str:
    """Render roles/<role>/templates/<template> with the role's defaults and vars under the
    inventory's variables (defaults lowest, then inventory, then role vars, then extra)."""
    loader = DataLoader()
    layered: dict[str, Any] = {}
    defaults = loader.load_from_file(
        str(ROLES / role / "defaults" / "main.yml"), trusted_as_template=True
    )
    role_vars = loader.load_from_file(
        str(ROLES / role / "vars" / "main.yml"), trusted_as_template=True
    )
    layered.update(defaults)
    layered.update(variables)
    layered.update(role_vars)
    layered.update(extra)
    templar = Templar(loader=loader, variables=layered)
    text = (ROLES / role / "templates" / template).read_text()
    return templar.template(trust_as_template(text))


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def value(role: str, expression: str, variables: dict[str, Any], **extra: Any) -> Any:
    loader = DataLoader()
    layered = dict(
        loader.load_from_file(str(ROLES / role / "defaults" / "main.yml"), trusted_as_template=True)
    )
    layered.update(variables)
    layered.update(
        loader.load_from_file(str(ROLES / role / "vars" / "main.yml"), trusted_as_template=True)
    )
    layered.update(extra)
    return Templar(loader=loader, variables=layered).template(trust_as_template(expression))


@pytest.fixture(scope="module")
def hub01(ansible_plugin_loader) -> dict[str, Any]:
    return host_vars(SAMPLE, "hub01")


@pytest.fixture(scope="module")
def mds01(ansible_plugin_loader) -> dict[str, Any]:
    return host_vars(SAMPLE, "mds01")


# ------------------------------------------------------------------------------------------
# lustre_client


def test_mount_unit_mounts_from_both_mgs_nids(hub01):
    mgt = next(t for t in hub01["lustre_targets"] if t["kind"] == "mgt")
    nids = [hub01["hostvars"][mgt[k]]["lustre_nid"] for k in ("primary", "failover")]
    fsname = hub01["lustre_fsname"]
    unit = lines(render("lustre_client", "lustre.mount.j2", hub01))
    assert f"What={nids[0]}:{nids[1]}:/{fsname}" in unit
    assert f"Where=/lustre/{fsname}" in unit
    assert "Type=lustre" in unit
    assert "Requires=lnet.service" in unit
    assert "After=lnet.service network-online.target" in unit
    assert "Options=_netdev,flock,user_xattr,lazystatfs" in unit
    assert "WantedBy=remote-fs.target" in unit


def test_mount_unit_literal_values(hub01):
    """Fixed NIDs, so a template that dropped or reordered the failover NID cannot pass."""
    hostvars = dict(hub01["hostvars"])
    hostvars["mds01"] = {**hostvars["mds01"], "lustre_nid": "10.80.0.41@o2ib0"}
    hostvars["mds02"] = {**hostvars["mds02"], "lustre_nid": "10.80.0.42@o2ib0"}
    unit = lines(render("lustre_client", "lustre.mount.j2", {**hub01, "hostvars": hostvars}))
    assert "What=10.80.0.41@o2ib0:10.80.0.42@o2ib0:/obs" in unit
    assert "Where=/lustre/obs" in unit


def test_unit_names_follow_the_mount_point(hub01):
    assert value("lustre_client", "{{ __lustre_client_mount_unit }}", hub01) == "lustre-obs.mount"
    assert (
        value("lustre_client", "{{ __lustre_client_mount_unit }}", hub01, lustre_fsname="my-fs")
        == "lustre-my\\x2dfs.mount"
    )
    # systemd-escape agrees (systemd is on this machine).
    escaped = subprocess.run(
        ["systemd-escape", "--path", "--suffix=mount", "/lustre/my-fs"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert escaped == "lustre-my\\x2dfs.mount"


def test_tunables_are_scoped_to_the_filesystem(hub01):
    unit = lines(
        render(
            "lustre_client",
            "lustre-tunables.service.j2",
            hub01,
            lustre_client_tunables={"osc.max_rpcs_in_flight": 16, "llite.max_read_ahead_mb": 1024},
        )
    )
    assert (
        "ExecStart=/usr/sbin/lctl set_param osc.obs-*.max_rpcs_in_flight=16 "
        "llite.obs-*.max_read_ahead_mb=1024"
    ) in unit
    assert "BindsTo=lustre-obs.mount" in unit
    assert "WantedBy=lustre-obs.mount" in unit
    empty = lines(render("lustre_client", "lustre-tunables.service.j2", hub01))
    assert "ExecStart=/bin/true" in empty


def test_units_pass_systemd_analyze_verify(hub01, tmp_path):
    """systemd itself parses the rendered units (unknown keys or sections are errors)."""
    mount = tmp_path / "lustre-obs.mount"
    mount.write_text(render("lustre_client", "lustre.mount.j2", hub01))
    proc = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(mount)],
        capture_output=True,
        text=True,
    )
    # lnet.service does not exist here: the only complaint allowed is about that dependency.
    complaints = [
        line
        for line in proc.stderr.splitlines()
        if line.strip() and "lnet.service" not in line and "remote-fs" not in line
    ]
    assert not [c for c in complaints if "Unknown" in c or "Invalid" in c or "bad" in c], (
        proc.stderr
    )


@pytest.fixture
def health_script(hub01, tmp_path) -> Path:
    script = tmp_path / "jovial-lustre-health"
    script.write_text(render("lustre_client", "jovial-lustre-health.j2", hub01))
    script.chmod(0o755)
    return script


def test_health_reports_not_mounted_honestly(health_script):
    proc = subprocess.run([str(health_script), "--json"], capture_output=True, text=True)
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == {
        "healthy": False,
        "code": 1,
        "backend": "lustre",  # verify.yml reads quotas with the backend it names
        "mountpoint": "/lustre/obs",
        "reason": "/lustre/obs is not mounted",
    }
    plain = subprocess.run([str(health_script)], capture_output=True, text=True)
    assert plain.stdout == "unhealthy: /lustre/obs is not mounted\n"


def test_health_refuses_a_mount_that_is_not_lustre(health_script):
    proc = subprocess.run(
        [str(health_script), "--json", "--mountpoint", "/"], capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["reason"].startswith("/ is a ")
    assert json.loads(proc.stdout)["reason"].endswith(" mount, not Lustre")


def test_health_script_expects_both_nids(hub01):
    mgt = next(t for t in hub01["lustre_targets"] if t["kind"] == "mgt")
    nids = [hub01["hostvars"][mgt[k]]["lustre_nid"] for k in ("primary", "failover")]
    script = render("lustre_client", "jovial-lustre-health.j2", hub01).splitlines()
    assert f"expected_source={nids[0]}:{nids[1]}:/{hub01['lustre_fsname']}" in script
    assert "mountpoint=/lustre/obs" in script


# ------------------------------------------------------------------------------------------
# lnet


def test_lnet_conf_imports_the_inventory_networks(mds01):
    text = render("lnet", "lnet.conf.j2", mds01)
    conf = yaml.safe_load(text)
    expected = mds01["lnet_networks"]
    assert [n["net type"] for n in conf["net"]] == [n["name"] for n in expected]
    assert conf["net"][0]["local NI(s)"] == [
        {"interfaces": {0: i}} for i in expected[0]["interfaces"]
    ]


def test_lnet_conf_and_modprobe_literal(mds01):
    nets = [
        {"name": "o2ib0", "interfaces": ["ib0", "ib1"]},
        {"name": "tcp0", "interfaces": ["eth0"]},
        {"name": "tcp1", "interfaces": ["eth1"], "state": "absent"},
    ]
    conf = yaml.safe_load(render("lnet", "lnet.conf.j2", mds01, lnet_networks=nets))
    assert conf == {
        "net": [
            {
                "net type": "o2ib0",
                "local NI(s)": [{"interfaces": {0: "ib0"}}, {"interfaces": {0: "ib1"}}],
            },
            {"net type": "tcp0", "local NI(s)": [{"interfaces": {0: "eth0"}}]},
        ]
    }
    modprobe = lines(render("lnet", "lnet.modprobe.j2", mds01, lnet_networks=nets))
    assert 'options lnet networks="o2ib0(ib0,ib1),tcp0(eth0)"' in modprobe


def test_lnet_kernel_follows_the_backend(mds01):
    assert value("lnet", "{{ lnet_kernel }}", mds01) is True
    assert value("lnet", "{{ lnet_kernel }}", mds01, lustre_server_backend="lab_ext4") is False


# ------------------------------------------------------------------------------------------
# infiniband


def test_ipoib_interface_file(mds01):
    """The sample's interface; mode and MTU default to datagram and 2044 when it omits them."""
    item = mds01["infiniband_ipoib_interfaces"][0]
    text = lines(render("infiniband", "ipoib.interfaces.j2", mds01, item=item))
    assert text[1:] == [
        f"auto {item['name']}",
        f"iface {item['name']} inet static",
        f"address {item['address']}",
        f"mtu {item.get('mtu', 2044)}",
        "# The IPoIB mode must be set while the link is down, before the MTU.",
        f"pre-up echo {item.get('mode', 'datagram')} > /sys/class/net/{item['name']}/mode",
    ]


def test_ipoib_connected_mode_literal(mds01):
    item = {"name": "ib1", "address": "10.81.0.41/16", "mode": "connected", "mtu": 65520}
    text = lines(render("infiniband", "ipoib.interfaces.j2", mds01, item=item))
    assert "address 10.81.0.41/16" in text
    assert "mtu 65520" in text
    assert "pre-up echo connected > /sys/class/net/ib1/mode" in text


def test_opensm_priority(mds01):
    text = lines(render("infiniband", "opensm.conf.j2", mds01))
    assert f"sm_priority {mds01['opensm_priority']}" in text
    assert "sminfo_polling_timeout 10000" in text
    assert lines(render("infiniband", "opensm.conf.j2", mds01, opensm_priority=3))[4] == (
        "sm_priority 3"
    )
    assert 'PORTS="ALL"' in lines(render("infiniband", "opensm.default.j2", mds01))


# ------------------------------------------------------------------------------------------
# the lab


def test_lab_clients_mount_moosefs_and_lab_ext4_mounts_nothing(ansible_plugin_loader):
    """The lab's backend is moosefs: its clients mount (through FUSE); with lab_ext4 (targets
    only) nothing is mounted and the role says so instead of pretending."""
    hub1 = host_vars(LAB, "hub1", lab=True)
    assert hub1["lustre_server_backend"] == "moosefs"
    for backend, mounted in (("moosefs", True), ("lab_ext4", False), ("lustre", True)):
        enabled = value(
            "lustre_client",
            "{{ lustre_client_mount_enabled }}",
            hub1,
            lustre_server_backend=backend,
        )
        assert enabled is mounted, backend
