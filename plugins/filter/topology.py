"""Filters that hand the plays the topology the validator derives, computed once in Python.

``lustre_host_topology`` returns what a Lustre server serves, from lustre_targets: its targets
(each with ``name`` <fsname>-<kind><index> and, with backend moosefs, its MooseFS ``service``),
its pair (``members``), its ``partner``, the pair's Corosync ``cluster`` name and the
Pacemaker ``resources`` of its targets (the target, and with a MooseFS daemon
``<name>-address`` and ``<name>-<service>``). playbooks/vars/lustre_pairs.yml and
roles/lustre_server/vars/main.yml read it instead of deriving the same in Jinja::

    __storage_topology: >-
      {{ lustre_targets | lustre_host_topology(inventory_hostname, lustre_fsname,
                                               lustre_server_backend | default('lustre')) }}

The derivation is plugins/module_utils/lustre_topology.py, shared with the inventory validator
(inventory_storage.py). It is loaded by its path: ansible-core 2.19 does not put module_utils on
the controller's import path (plugins/action/jovial_validate.py explains).

Unit-tested in tests/unit/plugins/filter/test_topology.py, on the lab and sample inventories.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from ansible.errors import AnsibleFilterError

_TOPOLOGY_FILE = Path(__file__).resolve().parents[1] / "module_utils" / "lustre_topology.py"
_TOPOLOGY_NAME = "jovial_lustre_topology"
_TARGET_KEYS = ("kind", "index", "primary", "failover")


def _topology() -> ModuleType:
    module = sys.modules.get(_TOPOLOGY_NAME)
    if module is not None:
        return module
    spec = importlib.util.spec_from_file_location(_TOPOLOGY_NAME, _TOPOLOGY_FILE)
    if spec is None or spec.loader is None or not _TOPOLOGY_FILE.is_file():
        raise AnsibleFilterError(
            f"lustre_host_topology: cannot load {_TOPOLOGY_FILE}; plugins/filter and "
            "plugins/module_utils must stay side by side"
        )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[_TOPOLOGY_NAME] = module
    return module


def lustre_host_topology(
    targets: Any, host: str, fsname: str, backend: str = "lustre"
) -> dict[str, Any]:
    """What ``host`` serves of ``targets`` (lustre_targets): {targets, members, partner,
    cluster, resources} (plugins/module_utils/lustre_topology.py, host_topology)."""
    if isinstance(targets, str) or not isinstance(targets, Sequence):
        raise AnsibleFilterError(
            f"lustre_host_topology: lustre_targets is {targets!r}, not a list of "
            "{kind, index, primary, failover}"
        )
    for position, target in enumerate(targets):
        if not isinstance(target, Mapping) or any(k not in target for k in _TARGET_KEYS):
            raise AnsibleFilterError(
                f"lustre_host_topology: lustre_targets[{position}] is {target!r}; each target "
                "needs kind, index, primary and failover (the validation play checks them)"
            )
    if not isinstance(fsname, str) or not fsname:
        raise AnsibleFilterError(
            f"lustre_host_topology: lustre_fsname is {fsname!r}, not a file system name"
        )
    return _topology().host_topology(targets, str(host), fsname, str(backend))


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"lustre_host_topology": lustre_host_topology}
