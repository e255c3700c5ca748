"""playbooks/validate.yml run by the real ansible-playbook against small inventories.

Broken inventories (tests/fixtures/inventories/<case>/) go through a wrapper playbook that
imports validate.yml and then has a play pinging every host. Their hosts are reached over SSH
at TEST-NET-3 addresses where no SSH server answers, so had validation let the run continue,
the output would show UNREACHABLE hosts. The valid inventory shows that it does: through the
same wrapper the ping play runs and every host is unreachable.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
WRAPPER = FIXTURES / "playbooks" / "validate_then_ping.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
RECAP_LINE = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


def run_playbook(
    playbook: Path, inventory: Path, tmp_path: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{ANSIBLE_PLAYBOOK.parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        # A regression that lets the run reach the hosts must fail fast, not hang on SSH.
        "ANSIBLE_TIMEOUT": "2",
        "LANG": "C.UTF-8",
    }
    return subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", str(inventory), str(playbook), *extra],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP lines as {host: {ok, changed, unreachable, failed}}."""
    hosts = {}
    for line in output.splitlines():
        if match := RECAP_LINE.match(line):
            ok, changed, unreachable, failed = (int(n) for n in match.groups()[1:])
            hosts[match[1]] = {
                "ok": ok,
                "changed": changed,
                "unreachable": unreachable,
                "failed": failed,
            }
    return hosts


BROKEN = [
    pytest.param(
        "etcd_even",
        "etcd_members has 4 hosts (core1, core2, core3 and core4); etcd needs 3, 5 or 7 "
        "members (an odd number, for quorum)",
        id="even-etcd-count",
    ),
    pytest.param(
        "lustre_one_host",
        "lustre_targets[ost1]: failover host is not set; a target needs a failover pair",
        id="lustre-pair-with-one-host",
    ),
    pytest.param(
        "vip_outside_subnet",
        "jovial_vips[proxy]: address '10.78.0.100' is outside network mgmt (10.77.0.0/24)",
        id="vip-outside-subnet",
    ),
    pytest.param(
        "duplicate_address",
        "hosts core1 and core2 share jovial_address 10.77.0.11",
        id="duplicate-address",
    ),
    pytest.param(
        "missing_secret",
        "secret vault_jovial_ca_passphrase is not set; add it to group_vars/all/vault.yml",
        id="missing-vault-secret",
    ),
]


@pytest.mark.parametrize(("case", "message"), BROKEN)
def test_broken_inventory_stops_before_any_host(case: str, message: str, tmp_path: Path) -> None:
    result = run_playbook(WRAPPER, FIXTURES / "inventories" / case, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Inventory validation found 1 problem(s); nothing was changed:" in output
    assert message in output
    # The second play never started and no inventory host was contacted.
    assert "PLAY [Would contact every host]" not in output
    assert "UNREACHABLE" not in output
    assert recap(output) == {
        "localhost": {"ok": 0, "changed": 0, "unreachable": 0, "failed": 1},
    }


def test_a_run_limited_by_tags_is_still_validated(tmp_path: Path) -> None:
    inventory = FIXTURES / "inventories" / "duplicate_address"
    result = run_playbook(WRAPPER, inventory, tmp_path, "--tags", "common")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "hosts core1 and core2 share jovial_address 10.77.0.11" in output


def test_valid_inventory_passes_and_the_run_goes_on(tmp_path: Path) -> None:
    result = run_playbook(WRAPPER, FIXTURES / "inventories" / "valid", tmp_path)
    output = result.stdout + result.stderr
    assert "Inventory valid: 9 hosts, 3 etcd members, 1 VIP, 4 Lustre targets" in output
    # Control for the broken cases: past validation, the ping play does try every host.
    assert "PLAY [Would contact every host]" in output
    hosts = recap(output)
    assert hosts.pop("localhost") == {"ok": 1, "changed": 0, "unreachable": 0, "failed": 0}
    assert " ".join(sorted(hosts)) == "core1 core2 core3 edge1 edge2 mds1 mds2 oss1 oss2"
    assert all(counts["unreachable"] == 1 for counts in hosts.values()), output


def test_sample_inventory_is_valid(tmp_path: Path) -> None:
    playbook = REPO_ROOT / "playbooks" / "validate.yml"
    result = run_playbook(playbook, REPO_ROOT / "inventories" / "sample", tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Inventory valid: 20 hosts, 3 etcd members, 2 VIPs, 4 Lustre targets" in output


SAMPLE_KUBERNETES = [
    pytest.param(
        "kubernetes_version=v1.35.2",
        1,
        "kubernetes_package_version '1.34.12-1.1' is not a package of kubernetes_version "
        "v1.35.2; use '1.35.2-<revision>'",
        id="release-changed-without-its-package",
    ),
    pytest.param(
        "kubernetes_source=mirror",
        2,  # and kubernetes_checksums has no entry for the version
        # kubernetes_mirror_url is not in the sample: the role's default reaches the check.
        "kubernetes_mirror_url '' is not an http://, https:// or file:// URL",
        id="mirror-without-url",
    ),
    pytest.param(
        '{"kubernetes_user_namespaces": ["hub-astro", "hub-teaching", "kube-system"]}',
        1,
        "kubernetes_user_namespaces[2] 'kube-system' is one of Kubernetes' own namespaces",
        id="system-namespace",
    ),
]


@pytest.mark.parametrize(("extra_vars", "count", "message"), SAMPLE_KUBERNETES)
def test_sample_kubernetes_settings_are_checked(
    extra_vars: str, count: int, message: str, tmp_path: Path
) -> None:
    """The sample's kubernetes.yml and the kubernetes role's defaults reach the checks."""
    playbook = REPO_ROOT / "playbooks" / "validate.yml"
    sample = REPO_ROOT / "inventories" / "sample"
    result = run_playbook(playbook, sample, tmp_path, "-e", extra_vars)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"Inventory validation found {count} problem(s); nothing was changed:" in output
    assert message in output


def test_lab_inventory_is_valid_with_generated_secrets(tmp_path: Path) -> None:
    """The lab's vault values are password lookups: validation resolves them (2.19 templating)."""
    playbook = REPO_ROOT / "playbooks" / "validate.yml"
    secrets = tmp_path / "secrets"
    result = run_playbook(
        playbook,
        REPO_ROOT / "inventories" / "lab",
        tmp_path,
        "-e",
        f"jovial_lab_secrets_dir={secrets}",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Inventory valid: 14 hosts, 3 etcd members, 2 VIPs, 4 Lustre targets" in output
    generated = secrets / "jovial_ca_passphrase"
    assert generated.is_file()
    assert generated.read_text().strip() not in output  # the secret itself is never shown


def test_sample_refuses_the_lab_backend_unless_allowed(tmp_path: Path) -> None:
    """A real site that picks lab_ext4 (ext4 images instead of Lustre) is stopped at the gate;
    jovial_allow_lab_ext4: true is the explicit way out."""
    playbook = REPO_ROOT / "playbooks" / "validate.yml"
    sample = REPO_ROOT / "inventories" / "sample"
    refused = run_playbook(
        playbook, sample, tmp_path, "-e", '{"lustre_server_backend": "lab_ext4"}'
    )
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert "Inventory validation found 1 problem(s); nothing was changed:" in output
    assert (
        "lustre_server_backend 'lab_ext4' outside the lab (no lab_network_name; "
        "jovial_allow_lab_ext4 is not set)"
    ) in output
    allowed = run_playbook(
        playbook,
        sample,
        tmp_path,
        "-e",
        '{"lustre_server_backend": "lab_ext4", "jovial_allow_lab_ext4": true}',
    )
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


# --- One gate in front of every entry playbook
# One validation gate (playbooks/validate.yml) in front of every entry playbook.
#
# Every playbook an operator runs (site.yml, each layer's, the recovery, restore and certificate
# playbooks) starts with the same validation play, so a broken inventory is stopped before any
# host is touched whichever playbook is run. site.yml validates once: the validation plays of the
# layer playbooks it imports skip. Each Molecule scenario's inventory (converged through those
# playbooks) passes the gate.

PLAYBOOKS = REPO_ROOT / "playbooks"
# Not entry playbooks: the gate itself, and `make lab`'s helpers, run on the lab's own
# inventory before (lab-up: the containers) and after (lab-access: access.env) site.yml.
NOT_ENTRY = {"validate.yml", "lab-up.yml", "lab-access.yml"}
ENTRY_PLAYBOOKS = sorted(p.name for p in PLAYBOOKS.glob("*.yml") if p.name not in NOT_ENTRY)
SCENARIOS = sorted(p.parent.name for p in (REPO_ROOT / "molecule").glob("*/molecule.yml"))


@pytest.mark.parametrize("name", ENTRY_PLAYBOOKS)
def test_every_entry_playbook_starts_with_the_gate(name: str) -> None:
    plays = yaml.safe_load((PLAYBOOKS / name).read_text())
    assert plays[0].get("ansible.builtin.import_playbook") == "validate.yml", (
        f"playbooks/{name} must start by importing validate.yml"
    )
    whole_site = (plays[0].get("vars") or {}).get("jovial_validate_whole_site", False)
    assert whole_site is (name == "site.yml"), "only site.yml validates as a whole site"


def test_a_layer_playbook_stops_a_broken_inventory_before_any_host(tmp_path: Path) -> None:
    result = run_playbook(PLAYBOOKS / "etcd.yml", FIXTURES / "inventories" / "etcd_even", tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "etcd_members has 4 hosts (core1, core2, core3 and core4)" in output
    assert "PLAY [Etcd | External etcd cluster]" not in output
    assert "UNREACHABLE" not in output
    assert recap(output) == {
        "localhost": {"ok": 0, "changed": 0, "unreachable": 0, "failed": 1},
    }


def test_site_validates_once(tmp_path: Path) -> None:
    wrapper = FIXTURES / "playbooks" / "validate_site_then_layer.yml"
    result = run_playbook(wrapper, FIXTURES / "inventories" / "valid", tmp_path)
    output = result.stdout + result.stderr
    assert output.count("Inventory valid: 9 hosts") == 1, output
    # The second validation play ran and skipped its check on the fact the first one set.
    assert output.count("PLAY [Validate | Check the inventory model on the control node]") == 2
    assert re.search(r"^localhost\s+: ok=1 .* skipped=1 ", output, re.MULTILINE), output
    assert "PLAY [Would contact every host]" in output


def _inventory_hosts_only(tmp_path: Path) -> Path:
    """The common layer's inventory: hosts in no Jovial group."""
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(
        yaml.safe_dump({"all": {"hosts": {"node1": {"jovial_address": "10.77.0.11"}}}})
    )
    (inventory / "group_vars" / "all.yml").write_text(
        yaml.safe_dump(
            {
                "jovial_site": "one",
                "jovial_domain": "one.example.org",
                "jovial_networks": [{"name": "mgmt", "cidr": "10.77.0.0/24"}],
                "jovial_vips": [],
                "ansible_connection": "local",
            }
        )
    )
    return inventory


def test_only_a_whole_site_run_needs_hosts_in_jovial_groups(tmp_path: Path) -> None:
    inventory = _inventory_hosts_only(tmp_path)
    validate = PLAYBOOKS / "validate.yml"
    layer = run_playbook(validate, inventory, tmp_path)
    assert layer.returncode == 0, layer.stdout + layer.stderr
    site = run_playbook(validate, inventory, tmp_path, "-e", "jovial_validate_whole_site=true")
    output = site.stdout + site.stderr
    assert site.returncode != 0, output
    assert "inventory: no host is in any of the groups etcd" in output


_MOLECULE_VAR = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def molecule_inventory(scenario: str, tmp_path: Path) -> Path:
    """The inventory Molecule gives a scenario's converge: its platforms in their groups and
    provisioner.inventory's group_vars and host_vars, with Molecule's ${VAR:-default}
    interpolation (the ephemeral directory under tmp_path)."""
    directory = REPO_ROOT / "molecule" / scenario
    ephemeral = tmp_path / "ephemeral"
    ephemeral.mkdir(exist_ok=True)
    known = {
        "MOLECULE_EPHEMERAL_DIRECTORY": str(ephemeral),
        "MOLECULE_SCENARIO_DIRECTORY": str(directory),
        "MOLECULE_PROJECT_DIRECTORY": str(REPO_ROOT),
    }

    def interpolate(match: re.Match[str]) -> str:
        name, default = match[1], match[2] or ""
        return known.get(name) or os.environ.get(name) or default

    config = yaml.safe_load(
        _MOLECULE_VAR.sub(interpolate, (directory / "molecule.yml").read_text())
    )
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "host_vars").mkdir()
    children: dict[str, dict] = {}
    for platform in config["platforms"]:
        for group in platform.get("groups", []):
            children.setdefault(group, {"hosts": {}})["hosts"][platform["name"]] = None
    hosts = {platform["name"]: None for platform in config["platforms"]}
    (inventory / "hosts.yml").write_text(
        yaml.safe_dump({"all": {"hosts": hosts, "children": children}})
    )
    provisioner = config["provisioner"].get("inventory", {})
    for kind in ("group_vars", "host_vars"):
        for name, values in (provisioner.get(kind) or {}).items():
            (inventory / kind / f"{name}.yml").write_text(yaml.safe_dump(values))
    return inventory


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario_inventory_passes_the_gate(scenario: str, tmp_path: Path) -> None:
    """Each scenario converges through the entry playbooks: a scenario whose inventory the gate
    refuses would fail at converge, after minutes of container start-up."""
    inventory = molecule_inventory(scenario, tmp_path)
    result = run_playbook(PLAYBOOKS / "validate.yml", inventory, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Inventory valid:" in output
