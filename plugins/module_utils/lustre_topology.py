"""Lustre failover topology, derived once from lustre_targets (docs/inventory.md, "Lustre").

Each target ``{kind, index, primary, failover, ...}`` is served by the pair of its primary and
failover host. From that list this module derives what the validator checks
(inventory_storage.py: the pairs) and what the plays use (plugins/filter/topology.py:
``lustre_host_topology`` for playbooks/vars/lustre_pairs.yml and roles/lustre_server), so no
play recomputes it in Jinja.

Pure and standalone (no imports of its siblings): the filter plugin loads this file by its
path, as ansible-core 2.19 does not put module_utils on the controller's import path
(plugins/action/jovial_validate.py explains). Unit-tested in
tests/unit/plugins/module_utils/test_lustre_topology.py and, rendered through the plays' own
variables, in tests/unit/plugins/filter/test_topology.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Backend moosefs: the MooseFS daemon each kind of target carries (systemd template units, one
# instance per target: jovial-mfsmaster@jovial-mdt0). The MGT carries nothing.
MOOSEFS_SERVICES: dict[str, str] = {"mdt": "mfsmaster", "ost": "mfschunkserver"}


def target_name(fsname: str, target: Mapping[str, Any]) -> str:
    """A target's name, also its Pacemaker resource: <fsname>-<kind><index> (jovial-ost1)."""
    return f"{fsname}-{target['kind']}{target['index']}"


def target_service(target: Mapping[str, Any], backend: str) -> str:
    """The MooseFS daemon a target carries with backend moosefs; '' otherwise."""
    return MOOSEFS_SERVICES.get(target["kind"], "") if backend == "moosefs" else ""


def pair_partners(targets: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    """Each server -> its partners, from the targets' {primary, failover} (one when valid)."""
    partners: dict[str, set[str]] = {}
    for target in targets:
        a, b = target["primary"], target["failover"]
        partners.setdefault(a, set()).add(b)
        partners.setdefault(b, set()).add(a)
    return partners


def target_resources(name: str, service: str) -> list[str]:
    """A target's Pacemaker resources: the target, and with a MooseFS daemon its failover
    address (<name>-address) and the daemon (<name>-<service>), which follow it."""
    return [name, f"{name}-address", f"{name}-{service}"] if service else [name]


def host_topology(
    targets: Iterable[Mapping[str, Any]], host: str, fsname: str, backend: str = "lustre"
) -> dict[str, Any]:
    """What ``host`` serves, from lustre_targets:

    - ``targets``: the targets whose primary is ``host``, then those whose failover it is, each
      as given plus ``name`` (target_name) and ``service`` (target_service);
    - ``members``: its pair, sorted (the primaries and failovers of those targets);
    - ``partner``: the other member ('' when the host serves nothing);
    - ``cluster``: the pair's Corosync cluster name, <fsname>-<member>-<member>;
    - ``resources``: the pair's Pacemaker resources of those targets (target_resources, in
      target order).

    A host that serves no target gets empty lists. The inventory is validated first
    (inventory_storage.check_lustre_targets, check_lustre_pairs), so one partner per host.
    """
    targets = list(targets)
    here = [t for t in targets if t["primary"] == host] + [
        t for t in targets if t["failover"] == host
    ]
    members = sorted({t["primary"] for t in here} | {t["failover"] for t in here})
    served = []
    for target in here:
        name = target_name(fsname, target)
        served.append({**target, "name": name, "service": target_service(target, backend)})
    return {
        "targets": served,
        "members": members,
        "partner": next((m for m in members if m != host), ""),
        "cluster": f"{fsname}-{'-'.join(members)}",
        "resources": [r for t in served for r in target_resources(t["name"], t["service"])],
    }
