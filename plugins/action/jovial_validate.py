"""jovial_validate: check the whole inventory model on the control node (docs/inventory.md).

The first play of site.yml (playbooks/validate.yml) runs this action on localhost. It reads the
inventory from the task variables (``groups``, ``hostvars`` and the site-wide variables of
group_vars/all), templates what it reads, and runs the pure checks that
plugins/module_utils/inventory_model.py lists (one module per layer beside it, inventory_*.py).
It never runs a module and never opens a connection
(``_requires_connection = False``): a bad inventory changes nothing anywhere.

Result on failure: ``failed: true``, ``msg`` (a header and every problem, numbered) and
``problems`` (the same problems as a list). On success: ``changed: false``, ``msg``
("Inventory valid: N hosts, ...") and ``summary`` (counts).

Templating (ansible-core 2.19 data tagging): task_vars hold the raw, trusted inventory values;
``self._templar.template`` renders them (lookups included, e.g. the lab's generated vault
values) and ``hostvars[host][var]`` renders under that host's variables. Each variable is
templated on its own so that one broken expression is one problem, not a traceback. Secret
values are only tested for being non-empty strings; neither they nor the text of a templating
error about them ever reach the result.

Role defaults (one source for each default): for a variable of ``ROLE_DEFAULTS`` that the
inventory does not set, the plugin reads ``roles/<role>/defaults/main.yml`` (found from this
file as ../../roles) and templates the default with the task variables plus the role's other
defaults, as the role itself would see it (kubernetes_package_version follows the inventory's
kubernetes_version). The inventory's own values of those variables are templated the same way.
A default that cannot be templated is one problem; a defaults file that cannot be read is a
broken checkout (AnsibleError).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.template import Templar, trust_as_template

# Where the pure checks live, and why they are loaded by path:
# ansible-core 2.19 does not put the configured `module_utils` folder on the controller's import
# path. That setting only feeds AnsiballZ, which packs module_utils into the modules it sends to
# hosts; in an action plugin `from ansible.module_utils.inventory_model import ...` raises
# ModuleNotFoundError (checked with ansible-core 2.19.14). Plugins loaded from a configured
# folder are not part of a package either, so a relative import is impossible. The checks stay
# in plugins/module_utils/inventory_*.py (no Ansible imports; unit-tested directly, and
# reusable by modules through AnsiballZ); inventory_model.py imports its siblings (the core and
# one module per layer) relatively, as module_utils of a collection import each other. This
# plugin makes its sibling folder that package: a package module named _PACKAGE whose __path__
# is plugins/module_utils, then an ordinary import of _PACKAGE.inventory_model, which brings the
# layer modules along as _PACKAGE.inventory_<layer>. If Jovial is run as the collection
# jovial.platform, this becomes an ordinary
# `ansible_collections.jovial.platform.plugins.module_utils` import.
_MODULE_UTILS = Path(__file__).resolve().parent.parent / "module_utils"
_MODEL_FILE = _MODULE_UTILS / "inventory_model.py"
_PACKAGE = "jovial_inventory_checks"
_MODEL_NAME = f"{_PACKAGE}.inventory_model"
_UNSET = object()
# The roles whose defaults ROLE_DEFAULTS names: plugins/action/../../roles.
_ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"


def _load_model() -> ModuleType:
    module = sys.modules.get(_MODEL_NAME)
    if module is not None:
        return module
    if not _MODEL_FILE.is_file():
        raise AnsibleError(
            f"jovial_validate: cannot load the inventory checks from {_MODEL_FILE}; "
            "plugins/action and plugins/module_utils must stay side by side"
        )
    if _PACKAGE not in sys.modules:
        package = ModuleType(_PACKAGE, "plugins/module_utils, for the inventory checks")
        package.__path__ = [str(_MODULE_UTILS)]
        sys.modules[_PACKAGE] = package
    # A failed import leaves nothing half-loaded in sys.modules (importlib removes it).
    return importlib.import_module(_MODEL_NAME)


def to_plain(value: Any) -> Any:
    """Rebuild templated data from builtin types only (drops 2.19's tagged subclasses)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        return {to_plain(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_plain(v) for v in value]
    return value


def _trusted(value: Any) -> Any:
    """The data with every string trusted as a template, as Ansible's loader tags a role's
    defaults file (2.19 renders only trusted strings; yaml.safe_load's are not)."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, Mapping):
        return {key: _trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    return value


def read_role_defaults(role: str, roles_dir: Path | None = None) -> dict[str, Any]:
    """roles/<role>/defaults/main.yml as a dict, its strings trusted as templates."""
    path = (roles_dir or _ROLES_DIR) / role / "defaults" / "main.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise AnsibleError(
            f"jovial_validate: cannot read the {role} role's defaults ({path}): {_reason(exc)}"
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise AnsibleError(
            f"jovial_validate: {path} is not a mapping of variables; fix the {role} role"
        )
    return _trusted(dict(data))


def _reason(exc: Exception) -> str:
    """First line of an error message, short enough to sit inside one problem line."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ActionModule(ActionBase):
    """Validate the inventory model; fail with every problem at once."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict:
        args = self.validate_argument_spec(
            argument_spec={"whole_site": {"type": "bool", "default": True}}
        )[1]
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        model_module = _load_model()

        unresolved: dict[str, str] = {}
        site: dict[str, Any] = {}
        role_of = {
            name: role for role, names in model_module.ROLE_DEFAULTS.items() for name in names
        }
        role_templars: dict[str, tuple[dict[str, Any], Templar]] = {}
        for name in model_module.SITE_VARIABLES:
            templar, value, origin = self._templar, task_vars.get(name, _UNSET), ""
            role = role_of.get(name)
            if role is not None:
                if role not in role_templars:
                    role_templars[role] = self._role_templar(role, task_vars)
                defaults, templar = role_templars[role]
                if value is _UNSET and name in defaults:
                    value, origin = defaults[name], f"; default of roles/{role}/defaults/main.yml"
            if value is _UNSET:
                continue  # not set (with no role default: the checker says so)
            try:
                site[name] = to_plain(templar.template(value))
            except Exception as exc:  # any templating failure is one reported problem
                unresolved[name] = _reason(exc) + origin

        secrets: dict[str, Any] = {}
        for name in model_module.required_secret_names(site.get("jovial_required_secrets")):
            if name in task_vars:
                try:
                    secrets[name] = to_plain(self._templar.template(task_vars[name]))
                except Exception as exc:
                    # Only the error's type: its text could quote the secret's value.
                    unresolved[name] = type(exc).__name__

        groups = {
            str(group): [str(host) for host in members]
            for group, members in (task_vars.get("groups") or {}).items()
        }
        inventory_only = model_module.InventoryModel(groups=groups, hosts={}, site={})
        hostvars = task_vars.get("hostvars") or {}
        hosts: dict[str, dict[str, Any]] = {}
        for host in model_module.managed_hosts(inventory_only):
            hosts[host] = {}
            if host not in hostvars:
                continue
            host_vars = hostvars[host]
            for name in model_module.HOST_VARIABLES:
                if name not in host_vars:
                    continue
                try:
                    hosts[host][name] = to_plain(host_vars[name])  # templated on access
                except Exception as exc:
                    unresolved[f"{host}:{name}"] = _reason(exc)

        model = model_module.InventoryModel(
            groups=groups, hosts=hosts, site=site, secrets=secrets, unresolved=unresolved
        )
        checkers = (
            model_module.WHOLE_SITE_CHECKERS if args["whole_site"] else model_module.LAYER_CHECKERS
        )
        problems = model_module.validate(model, checkers)
        result["changed"] = False
        if problems:
            result["failed"] = True
            result["msg"] = model_module.problems_text(problems)
            result["problems"] = problems
        else:
            result["msg"] = model_module.summary_text(model)
            result["summary"] = model_module.summary(model)
            # Later validation plays of the same run (each entry playbook starts with one, and
            # site.yml imports several) see this fact and skip (playbooks/validate.yml).
            result["ansible_facts"] = {"jovial_inventory_validated": True}
            result["_ansible_verbose_always"] = True  # show the summary line at -v0 too
        return result

    def _role_templar(
        self, role: str, task_vars: Mapping[str, Any]
    ) -> tuple[dict[str, Any], Templar]:
        """The role's defaults and a templar that sees them under the task variables (the
        inventory wins), as the role's tasks would."""
        defaults = read_role_defaults(role)
        templar = self._templar.copy_with_new_env(available_variables={**defaults, **task_vars})
        return defaults, templar
