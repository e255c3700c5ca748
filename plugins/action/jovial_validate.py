"""jovial_validate: check the whole inventory model on the control node (docs/inventory.md).

The first play of site.yml (playbooks/validate.yml) runs this action on localhost. It reads the
inventory from the task variables (``groups``, ``hostvars`` and the site-wide variables of
group_vars/all), templates what it reads, and runs the pure checks of
plugins/module_utils/inventory_model.py. It never runs a module and never opens a connection
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
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

# Where the pure checks live, and why they are loaded by path:
# ansible-core 2.19 does not put the configured `module_utils` folder on the controller's import
# path. That setting only feeds AnsiballZ, which packs module_utils into the modules it sends to
# hosts; in an action plugin `from ansible.module_utils.inventory_model import ...` raises
# ModuleNotFoundError (checked with ansible-core 2.19.14). Plugins loaded from a configured
# folder are not part of a package either, so a relative import is impossible. The checks stay
# in plugins/module_utils/inventory_model.py (no Ansible imports; unit-tested directly, and
# reusable by modules through AnsiballZ) and this plugin loads that file from its sibling
# folder. If Jovial becomes a collection, this becomes an ordinary
# `ansible_collections.<ns>.jovial.plugins.module_utils` import.
_MODEL_FILE = Path(__file__).resolve().parent.parent / "module_utils" / "inventory_model.py"
_MODEL_NAME = "jovial_inventory_model"


def _load_model() -> ModuleType:
    module = sys.modules.get(_MODEL_NAME)
    if module is not None:
        return module
    spec = importlib.util.spec_from_file_location(_MODEL_NAME, _MODEL_FILE)
    if spec is None or spec.loader is None or not _MODEL_FILE.is_file():
        raise AnsibleError(
            f"jovial_validate: cannot load the inventory checks from {_MODEL_FILE}; "
            "plugins/action and plugins/module_utils must stay side by side"
        )
    module = importlib.util.module_from_spec(spec)
    sys.modules[_MODEL_NAME] = module  # dataclasses resolve their module through sys.modules
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[_MODEL_NAME]
        raise
    return module


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
        self.validate_argument_spec(argument_spec={})  # no options: fail on any
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        model_module = _load_model()

        unresolved: dict[str, str] = {}
        site: dict[str, Any] = {}
        for name in model_module.SITE_VARIABLES:
            if name in task_vars:
                try:
                    site[name] = to_plain(self._templar.template(task_vars[name]))
                except Exception as exc:  # any templating failure is one reported problem
                    unresolved[name] = _reason(exc)

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
        problems = model_module.validate(model)
        result["changed"] = False
        if problems:
            result["failed"] = True
            result["msg"] = model_module.problems_text(problems)
            result["problems"] = problems
        else:
            result["msg"] = model_module.summary_text(model)
            result["summary"] = model_module.summary(model)
            result["_ansible_verbose_always"] = True  # show the summary line at -v0 too
        return result
