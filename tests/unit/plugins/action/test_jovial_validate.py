"""The jovial_validate action plugin with ansible-core's own inventory, variables and templar.

Each test writes a small inventory, builds the task variables the way a play on localhost
gets them (InventoryManager, VariableManager, HostVars) and calls the plugin's run(). The
checks themselves are covered in tests/unit/plugins/module_utils/test_inventory_model.py; here:
templating (lookups, host variables, broken expressions), secrets never leaking, the result
shape, that no connection is used, and role defaults (ROLE_DEFAULTS: a role's default reaches
the checks when the inventory does not set the variable, the inventory's value wins).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest.mock import MagicMock

import pytest
import yaml
from ansible.errors import AnsibleError
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

HOSTS = """\
all:
  children:
    etcd:
      hosts:
        n1: {jovial_address: 10.9.0.11}
        n2: {jovial_address: 10.9.0.12}
        n3: {jovial_address: "{{ n3_address }}"}
"""

SITE = """\
jovial_site: unit
jovial_domain: unit.example.org
jovial_networks: [{name: mgmt, cidr: 10.9.0.0/24}]
n3_address: 10.9.0.13
jovial_uid_range: {min: 10000, max: 59999}
jovial_gid_range: {min: 10000, max: 59999}
jovial_required_secrets: [vault_unit_secret]
etcd_members: "{{ groups['etcd'] | default([]) }}"
"""

SECRET = "unit-test-secret-value"


@pytest.fixture
def plugin(load_plugin: Callable[[str], ModuleType], ansible_plugin_loader: None) -> ModuleType:
    return load_plugin("plugins/action/jovial_validate.py")


def write_inventory(root: Path, hosts: str = HOSTS, site: str = SITE, vault: str = "") -> Path:
    if not vault:
        vault = f"vault_unit_secret: {SECRET}\n"
    (root / "group_vars" / "all").mkdir(parents=True)
    (root / "hosts.yml").write_text(hosts)
    (root / "group_vars" / "all" / "site.yml").write_text(site)
    (root / "group_vars" / "all" / "vault.yml").write_text(vault)
    return root


def run(
    plugin: ModuleType, inventory: Path, args: dict[str, Any] | None = None
) -> tuple[dict[str, Any], MagicMock]:
    """Run the action as a task on localhost would; return its result and the connection."""
    loader = DataLoader()
    manager = InventoryManager(loader=loader, sources=[str(inventory)])
    variables = VariableManager(loader=loader, inventory=manager)
    HostVars(inventory=manager, variable_manager=variables, loader=loader)
    task_vars = variables.get_vars(host=manager.get_host("localhost"), include_hostvars=True)
    task = MagicMock(args=args or {}, async_val=0, check_mode=False)
    connection = MagicMock()
    connection._shell.tmpdir = None
    action = plugin.ActionModule(
        task=task,
        connection=connection,
        play_context=MagicMock(),
        loader=loader,
        templar=Templar(loader=loader, variables=task_vars),
        shared_loader_obj=None,
    )
    action._load_name = "jovial_validate"
    return action.run(task_vars=task_vars), connection


def test_valid_inventory(plugin: ModuleType, tmp_path: Path) -> None:
    result, connection = run(plugin, write_inventory(tmp_path))
    assert result["changed"] is False
    assert not result.get("failed")
    assert result["msg"] == (
        "Inventory valid: 3 hosts, 3 etcd members, 0 VIPs, 0 Lustre targets, 1 required secret set"
    )
    assert result["summary"]["groups"] == {"etcd": 3}
    assert connection.method_calls == []  # no command, no file transfer, nothing on any host
    assert plugin.ActionModule._requires_connection is False


def test_problems_are_listed_numbered_and_as_a_list(plugin: ModuleType, tmp_path: Path) -> None:
    hosts = HOSTS.replace("10.9.0.12", "10.9.0.11") + "    edge:\n      hosts:\n        n1:\n"
    site = SITE + (
        "jovial_vips: [{name: proxy, address: 10.9.1.5, network: mgmt, group: edge, "
        "virtual_router_id: 51}]\n"
    )
    result, _ = run(plugin, write_inventory(tmp_path, hosts=hosts, site=site, vault="x: 1\n"))
    assert result["failed"] is True
    assert result["changed"] is False
    assert result["problems"] == [
        "hosts n1 and n2 share jovial_address 10.9.0.11; give each host its own address",
        "jovial_vips[proxy]: address '10.9.1.5' is outside network mgmt (10.9.0.0/24); "
        "pick a free address inside it",
        "jovial_vips[proxy]: group edge has 1 host (n1); a VIP needs at least two hosts to "
        "move between; add a host to edge",
        "jovial_required_secrets does not list vault_keepalived_auth_pass; keepalived moves the "
        "VIPs of jovial_vips and authenticates its VRRP adverts with it: add it there and a "
        "random value of 8+ characters to group_vars/all/vault.yml",
        "secret vault_unit_secret is not set; add it to group_vars/all/vault.yml and encrypt "
        "that file with ansible-vault",
    ]
    lines = result["msg"].splitlines()
    assert lines[0] == "Inventory validation found 5 problem(s); nothing was changed:"
    assert lines[1:] == [f"  {n}. {p}" for n, p in enumerate(result["problems"], start=1)]


def test_host_variables_are_templated_under_their_host(plugin: ModuleType, tmp_path: Path) -> None:
    site = SITE.replace("n3_address: 10.9.0.13", "n3_address: 10.9.7.13")
    result, _ = run(plugin, write_inventory(tmp_path, site=site))
    assert result["problems"] == [
        "host n3: jovial_address '10.9.7.13' is not inside any network in jovial_networks "
        "(mgmt 10.9.0.0/24); fix the address or add its network"
    ]


def test_a_lookup_secret_is_resolved(plugin: ModuleType, tmp_path: Path) -> None:
    """Like the lab: the vault value is a password lookup that generates the file."""
    secret_file = tmp_path / "generated" / "unit_secret"
    vault = (
        "vault_unit_secret: \"{{ lookup('ansible.builtin.password', "
        f"'{secret_file}', length=20, chars=['ascii_letters']) }}}}\"\n"
    )
    result, _ = run(plugin, write_inventory(tmp_path / "inv", vault=vault))
    assert not result.get("failed"), result.get("msg")
    generated = secret_file.read_text().strip()
    assert len(generated) == 20
    assert generated not in json.dumps(result)


def test_broken_expressions_are_problems_not_tracebacks(plugin: ModuleType, tmp_path: Path) -> None:
    hosts = HOSTS.replace('"{{ n3_address }}"', '"{{ n3_addr }}"')
    site = SITE.replace(
        "etcd_members: \"{{ groups['etcd'] | default([]) }}\"",
        "etcd_members: \"{{ groups['etcd'] | no_such_filter }}\"",
    )
    # A literal secret that happens to contain template syntax: its text must not leak.
    vault = 'vault_unit_secret: "s3cr3t-{{ not_defined_here }}"\n'
    result, _ = run(plugin, write_inventory(tmp_path, hosts=hosts, site=site, vault=vault))
    problems = result["problems"]
    assert len(problems) == 3, problems
    assert problems[0].startswith("etcd_members could not be templated (")
    assert problems[0].endswith("); fix its value in group_vars/all")
    assert "no_such_filter" in problems[0]
    assert problems[1].startswith("host n3: jovial_address could not be templated (")
    assert "n3_addr" in problems[1]
    assert problems[2] == (
        "secret vault_unit_secret could not be templated (AnsibleUndefinedVariable); "
        "fix its value in group_vars/all/vault.yml"
    )
    assert "s3cr3t" not in json.dumps(result)


def test_secret_values_never_reach_the_result(plugin: ModuleType, tmp_path: Path) -> None:
    site = SITE.replace("[vault_unit_secret]", f"[vault_unit_secret, {SECRET}]")
    result, _ = run(plugin, write_inventory(tmp_path, site=site))
    assert result["problems"] == [
        "jovial_required_secrets[1] is not a variable name (value not shown in case it is a "
        "secret); list vault_* variable names"
    ]
    assert SECRET not in json.dumps(result)


def test_options_are_refused(plugin: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(AnsibleError, match="strict"):
        run(plugin, write_inventory(tmp_path), args={"strict": True})


def test_checks_are_loaded_from_module_utils(plugin: ModuleType, repo_root: Path) -> None:
    model = plugin._load_model()
    assert Path(model.__file__) == repo_root / "plugins" / "module_utils" / "inventory_model.py"
    assert "check_etcd" in [checker.__name__ for checker in model.CHECKERS]


def test_to_plain_rebuilds_builtin_types(plugin: ModuleType) -> None:
    class Tagged(str):
        pass

    value = {Tagged("a"): [Tagged("b"), 1, True, None, 1.5, ("c",)]}
    plain = plugin.to_plain(value)
    assert plain == {"a": ["b", 1, True, None, 1.5, ["c"]]}
    assert type(next(iter(plain))) is str
    assert type(plain["a"][0]) is str


# --- Role defaults (ROLE_DEFAULTS): one source for each default

UNIT_ROLE_DEFAULTS = """\
---
unitrole_version: "v1.2.3"
# Jinja over another default, as kubernetes_package_version is over kubernetes_version.
unitrole_package: "{{ unitrole_version | regex_replace('^v', '') }}-1"
unitrole_list: ["{{ unitrole_version }}", plain]
unitrole_broken: "{{ no_such_variable }}"
unitrole_not_checked: 1
"""
UNIT_ROLE_NAMES = (
    "unitrole_version",
    "unitrole_package",
    "unitrole_list",
    "unitrole_broken",
    "unitrole_without_default",
)


@pytest.fixture
def unit_role(plugin: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A role 'unitrole' with the defaults above, listed in ROLE_DEFAULTS; returns the model."""
    roles = tmp_path / "roles"
    (roles / "unitrole" / "defaults").mkdir(parents=True)
    (roles / "unitrole" / "defaults" / "main.yml").write_text(UNIT_ROLE_DEFAULTS)
    model = plugin._load_model()
    monkeypatch.setattr(plugin, "_ROLES_DIR", roles)
    monkeypatch.setattr(model, "ROLE_DEFAULTS", {"unitrole": UNIT_ROLE_NAMES})
    monkeypatch.setattr(model, "SITE_VARIABLES", (*model.SITE_VARIABLES, *UNIT_ROLE_NAMES))
    return model


def seen_model(
    plugin: ModuleType, model: ModuleType, inventory: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """The InventoryModel the action passes to the checks."""
    seen = []
    monkeypatch.setattr(model, "validate", lambda m, checkers=(): seen.append(m) or [])
    run(plugin, inventory)
    assert len(seen) == 1
    return seen[0]


def test_role_defaults_are_used_when_the_inventory_does_not_set_them(
    plugin: ModuleType, unit_role: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = seen_model(plugin, unit_role, write_inventory(tmp_path / "inv"), monkeypatch)
    assert {k: v for k, v in model.site.items() if k.startswith("unitrole_")} == {
        "unitrole_version": "v1.2.3",
        "unitrole_package": "1.2.3-1",
        "unitrole_list": ["v1.2.3", "plain"],
    }
    assert type(model.site["unitrole_package"]) is str  # plain, not a tagged 2.19 string
    reason = model.unresolved["unitrole_broken"]
    assert reason.startswith("AnsibleUndefinedVariable: ")
    assert "no_such_variable" in reason
    assert reason.endswith("; default of roles/unitrole/defaults/main.yml")
    assert "unitrole_without_default" not in model.site  # the checker reports it as not set


def test_the_inventory_wins_over_role_defaults(
    plugin: ModuleType, unit_role: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = SITE + 'unitrole_version: "v2.0.0"\nunitrole_broken: fixed\n'
    inventory = write_inventory(tmp_path / "inv", site=site)
    model = seen_model(plugin, unit_role, inventory, monkeypatch)
    assert model.site["unitrole_version"] == "v2.0.0"
    # The defaults that derive from it follow the inventory's value, as in the role.
    assert model.site["unitrole_package"] == "2.0.0-1"
    assert model.site["unitrole_list"] == ["v2.0.0", "plain"]
    assert model.site["unitrole_broken"] == "fixed"
    assert "unitrole_broken" not in model.unresolved


def test_inventory_values_see_the_role_defaults(
    plugin: ModuleType, unit_role: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An inventory value may use another of the role's defaults, as it could in the role."""
    site = SITE + 'unitrole_package: "{{ unitrole_version }}-site"\n'
    inventory = write_inventory(tmp_path / "inv", site=site)
    model = seen_model(plugin, unit_role, inventory, monkeypatch)
    assert model.site["unitrole_package"] == "v1.2.3-site"


def test_a_broken_role_default_is_one_problem(
    plugin: ModuleType, unit_role: ModuleType, tmp_path: Path
) -> None:
    result, _ = run(plugin, write_inventory(tmp_path / "inv"))
    assert len(result["problems"]) == 1, result["problems"]
    problem = result["problems"][0]
    assert problem.startswith("unitrole_broken could not be templated (AnsibleUndefinedVariable")
    assert problem.endswith(
        "; default of roles/unitrole/defaults/main.yml); fix its value in group_vars/all"
    )


def test_an_unreadable_defaults_file_is_an_error(
    plugin: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plugin, "_ROLES_DIR", tmp_path / "no-roles")
    with pytest.raises(AnsibleError, match=r"cannot read the [a-z_]+ role's defaults"):
        run(plugin, write_inventory(tmp_path / "inv"))


def test_roles_are_found_next_to_the_plugins(plugin: ModuleType, repo_root: Path) -> None:
    assert repo_root / "roles" == plugin._ROLES_DIR


def test_every_listed_default_exists_in_its_role(plugin: ModuleType) -> None:
    """ROLE_DEFAULTS names variables the role really defaults (a renamed default fails here)."""
    model = plugin._load_model()
    for role, names in model.ROLE_DEFAULTS.items():
        defaults = plugin.read_role_defaults(role)
        assert set(names) <= set(defaults), (role, sorted(set(names) - set(defaults)))
        assert set(names) <= set(model.SITE_VARIABLES)


def test_the_kubernetes_role_defaults_reach_the_checks(
    plugin: ModuleType, repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real role: unset settings are its defaults, read from its file, not restated."""
    defaults_file = repo_root / "roles" / "kubernetes" / "defaults" / "main.yml"
    raw = yaml.safe_load(defaults_file.read_text())
    site = SITE + "kubernetes_version: v1.36.2\n"
    model = seen_model(
        plugin, plugin._load_model(), write_inventory(tmp_path, site=site), monkeypatch
    )
    assert model.site["kubernetes_version"] == "v1.36.2"
    assert model.site["kubernetes_pod_subnet"] == raw["kubernetes_pod_subnet"]
    assert model.site["kubernetes_source"] == raw["kubernetes_source"]
    assert model.site["kubernetes_package_version"].startswith("1.36.2-")
    assert not [name for name in model.unresolved if name.startswith("kubernetes_")]


def test_the_sshd_baseline_defaults_and_a_hosts_own_value_reach_the_checks(
    plugin: ModuleType, repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The common role's defaults are checked as the site's value; a host's own (host_vars)
    is checked for that host, and a weak one fails the run naming the host."""
    raw = yaml.safe_load((repo_root / "roles" / "common" / "defaults" / "main.yml").read_text())
    inventory = write_inventory(tmp_path / "inv")
    (inventory / "host_vars").mkdir()
    (inventory / "host_vars" / "n2.yml").write_text(
        "common_ssh_macs: [hmac-sha1-etm@openssh.com]\n"
    )
    model = plugin._load_model()
    seen = seen_model(plugin, model, inventory, monkeypatch)
    assert seen.site["common_ssh_macs"] == raw["common_ssh_macs"]
    assert seen.site["common_ssh_host_key_types"] == ["ed25519"]
    assert seen.hosts["n2"]["common_ssh_macs"] == ["hmac-sha1-etm@openssh.com"]
    assert "common_ssh_macs" not in seen.hosts["n1"]
    monkeypatch.undo()
    result, _ = run(plugin, inventory)
    assert result["problems"] == [
        "host n2: common_ssh_macs: 'hmac-sha1-etm@openssh.com' is weak (SHA-1); remove it "
        "(usable: hmac-sha2-512-etm@openssh.com, hmac-sha2-256-etm@openssh.com and "
        "umac-128-etm@openssh.com)"
    ]


def test_the_checks_see_the_real_roles_defaults(
    plugin: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The validator restates no default: what the etcd, nginx_proxy and jupyterhub roles would
    use reaches the checks when the inventory leaves it out."""
    model_module = plugin._load_model()
    model = seen_model(plugin, model_module, write_inventory(tmp_path / "inv"), monkeypatch)
    for role, name in (
        ("etcd", "etcd_heartbeat_interval"),
        ("etcd", "etcd_election_timeout"),
        ("nginx_proxy", "nginx_proxy_vip_name"),
        ("nginx_proxy", "nginx_proxy_tls_source"),
        ("jupyterhub", "jupyterhub_backend"),
    ):
        assert model.site[name] == plugin.read_role_defaults(role)[name], name
