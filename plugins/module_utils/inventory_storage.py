"""The storage layer's checks: Lustre targets and failover pairs, backend and devices,
MooseFS, clients, quotas, LNet and NIDs, fencing, InfiniBand (docs/inventory.md, "Lustre",
"InfiniBand and LNet", "Fencing";
tests/unit/plugins/module_utils/test_inventory_model_storage.py).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from . import inventory_core as core
from .inventory_core import InventoryModel
from .lustre_topology import pair_partners

# The failover pairs' Pacemaker policies (check_fencing): name -> (the values Pacemaker takes,
# what they mean). Their defaults are the ha_cluster role's (ROLE_DEFAULTS,
# inventory_model.py).
HA_CLUSTER_CHOICES: dict[str, tuple[tuple[str, ...], str]] = {
    "ha_cluster_stonith_action": (
        ("reboot", "off"),
        "reboot power-cycles a fenced node, off leaves it down",
    ),
    "ha_cluster_no_quorum_policy": (
        ("stop", "freeze", "demote", "ignore"),
        "stop, the default, stops the resources of a member that lost its partner",
    ),
}

# The lab's inventory (inventories/lab) is the one that names the podman network
# playbooks/lab-up.yml builds its containers on; no real site defines it.
LAB_MARKER = "lab_network_name"

# Lustre target kind -> the group its primary and failover hosts must belong to.
LUSTRE_KIND_GROUPS: dict[str, str] = {
    "mgt": "lustre_mgs",
    "mdt": "lustre_mds",
    "ost": "lustre_oss",
}


def check_lustre_targets(model: InventoryModel) -> list[str]:
    """Each Lustre target: kind, unique index, distinct primary/failover in its kind's group."""
    if "lustre_targets" in model.unresolved:
        return []
    value = model.site.get("lustre_targets")
    if value is None:
        return []  # no Lustre at this site
    if not core._is_list(value):
        return [
            f"lustre_targets: expected a list of {{kind, index, primary, failover}}, "
            f"{core._got(value)}"
        ]
    problems = []
    known = core.inventory_hosts(model)
    kinds = ", ".join(LUSTRE_KIND_GROUPS)
    indexes: list[tuple[tuple[str, int], str]] = []
    for position, target in enumerate(value):
        if not isinstance(target, Mapping):
            problems.append(
                f"lustre_targets[{position}]: expected a mapping {{kind, index, primary, "
                f"failover}}, {core._got(target)}"
            )
            continue
        kind, index = target.get("kind"), target.get("index")
        kind_ok = isinstance(kind, str) and kind in LUSTRE_KIND_GROUPS
        index_ok = core._is_int(index) and index >= 0
        label = (
            f"lustre_targets[{kind}{index}]"
            if kind_ok and index_ok
            else f"lustre_targets[{position}]"
        )
        if not kind_ok:
            problems.append(f"{label}: kind {core.show(kind)} is not one of {kinds}; fix the kind")
        if not index_ok:
            problems.append(
                f"{label}: index {core.show(index)} is not an integer >= 0; "
                "number the targets of each kind 0, 1, 2, ..."
            )
        if kind_ok and index_ok:
            indexes.append(((kind, index), label))
        group = LUSTRE_KIND_GROUPS.get(kind) if kind_ok else None
        where = f"a host of {group}" if group else "a Lustre server"

        hosts: dict[str, str] = {}
        for role in ("primary", "failover"):
            host = target.get(role)
            if host is None or host == "":
                fix = "the partner" if role == "failover" else "the preferred server"
                problems.append(
                    f"{label}: {role} host is not set; a target needs a failover pair: "
                    f"set {role} to {fix} ({where})"
                )
            elif not isinstance(host, str):
                problems.append(f"{label}: {role} {core._got(host)}; set it to {where}")
            elif host not in known:
                problems.append(
                    f"{label}: {role} host {core.show(host)} is not in the inventory; set it to "
                    f"{where}"
                )
            else:
                hosts[role] = host
                if group and host not in core._group(model, group):
                    problems.append(
                        f"{label}: {role} host {host} is not in group {group}; "
                        f"add it to {group} or pick {where}"
                    )
        if hosts.get("primary") is not None and hosts.get("primary") == hosts.get("failover"):
            problems.append(
                f"{label}: failover host '{hosts['failover']}' is the same as primary; "
                f"set failover to the partner in {group or 'its server group'}"
            )
    for (kind, index), labels in core._duplicates(indexes).items():
        problems.append(
            f"lustre_targets[{kind}{index}] is defined {len(labels)} times; "
            f"give each {kind} its own index"
        )
    return problems


# Storage layer: failover pairs, Lustre backend and devices, LNet and NIDs, fencing, InfiniBand
# (docs/inventory.md, "Lustre", "InfiniBand and LNet", "Fencing")

LUSTRE_BACKENDS: tuple[str, ...] = ("lustre", "lab_ext4", "moosefs")
# Backends whose servers serve clients (lab_ext4 serves targets only).
CLIENT_BACKENDS: tuple[str, ...] = ("lustre", "moosefs")
FENCE_AGENTS: tuple[str, ...] = ("fence_ipmilan", "fence_redfish", "fence_jovial_podman")
LUSTRE_SECRETS: tuple[str, ...] = ("vault_ha_cluster_authkey",)
_LNET_NET = re.compile(r"^(?P<type>o2ib|tcp)(?P<num>\d*)$")
_FSNAME = re.compile(r"^[A-Za-z0-9_-]{1,8}$")
OPENSM_PRIORITY_MAX = 15
# IPoIB MTUs: at least IPv6's minimum; datagram mode carries at most the 4K IB MTU less the
# 4-byte IPoIB header, connected mode up to 65520.
IPOIB_MTU_MIN = 1280
IPOIB_MTU_MAX: dict[str, int] = {"datagram": 4092, "connected": 65520}


def _storage_configured(model: InventoryModel) -> bool:
    """The storage layer's settings are present (lustre_server_backend is set, as in the
    sample and lab inventories); until then only the targets and pairs are checked."""
    return "lustre_server_backend" in model.site or "lustre_server_backend" in model.unresolved


def _lustre_servers(model: InventoryModel) -> list[str]:
    return sorted({h for g in LUSTRE_KIND_GROUPS.values() for h in core._group(model, g)})


def _valid_targets(model: InventoryModel) -> list[tuple[str, Mapping]]:
    """(label, target) of the lustre_targets entries check_lustre_targets accepts the hosts of."""
    value = model.site.get("lustre_targets")
    if "lustre_targets" in model.unresolved or not core._is_list(value):
        return []
    found = []
    for item in value:
        if not isinstance(item, Mapping):
            continue
        primary, failover = item.get("primary"), item.get("failover")
        kind = item.get("kind")
        group = LUSTRE_KIND_GROUPS.get(kind) if isinstance(kind, str) else None
        members = core._group(model, group) if group else []
        if primary in members and failover in members and primary != failover:
            found.append((f"lustre_targets[{item.get('kind')}{item.get('index')}]", item))
    return found


def lustre_pairs(model: InventoryModel) -> dict[str, set[str]]:
    """Each server -> its partners, from the targets' {primary, failover} (one when valid);
    the plays derive a host's pair with the same code (lustre_topology.py)."""
    return pair_partners(target for _label, target in _valid_targets(model))


def _lnet_net(name: Any) -> str | None:
    """'o2ib0' -> 'o2ib' (lnetctl's spelling of network 0), None when not an LNet name."""
    match = _LNET_NET.match(name) if isinstance(name, str) else None
    if not match:
        return None
    number = match.group("num")
    return match.group("type") + ("" if number in ("", "0") else str(int(number)))


def check_lustre_pairs(model: InventoryModel) -> list[str]:
    """Failover pairs derived from lustre_targets: each server belongs to exactly one pair."""
    problems = []
    for host, partners in sorted(lustre_pairs(model).items()):
        if len(partners) > 1:
            problems.append(
                f"host {host} is the partner of {core.join_and(sorted(partners))} in "
                "lustre_targets; each Lustre server belongs to exactly one failover pair (one "
                f"Pacemaker cluster): give every target of {host} the same partner"
            )
    servers = _lustre_servers(model)
    no_targets = "lustre_targets" not in model.unresolved and not model.site.get("lustre_targets")
    if servers and no_targets:
        problems.append(
            f"hosts {core.join_and(servers)} are Lustre servers (lustre_mgs, lustre_mds, "
            "lustre_oss) but lustre_targets lists no target; list the targets their failover "
            "pairs serve in group_vars/all/lustre.yml, or remove the hosts from the lustre_* "
            "groups"
        )
    for host in servers:
        if lustre_pairs(model) and host not in lustre_pairs(model):
            problems.append(
                f"host {host} is a Lustre server but no lustre_targets entry names it; give it "
                "targets (as primary or failover) or remove it from the lustre_* groups"
            )
    return problems


def _lab_ext4_problem(model: InventoryModel) -> str | None:
    """lab_ext4 mounts loop-backed ext4 images, not Lustre: accepted in the lab (the inventory
    playbooks/lab-up.yml builds, which defines LAB_MARKER) or where the inventory says
    jovial_allow_lab_ext4: true (a throwaway test bed); refused anywhere else."""
    if LAB_MARKER in model.site or LAB_MARKER in model.unresolved:
        return None
    allowed = model.site.get("jovial_allow_lab_ext4")
    if allowed is True or "jovial_allow_lab_ext4" in model.unresolved:
        return None
    seen = "is not set" if allowed is None else f"is {core.show(allowed)}, not true"
    return (
        "lustre_server_backend 'lab_ext4' outside the lab (no lab_network_name; "
        f"jovial_allow_lab_ext4 {seen}): it serves loop-backed ext4 images, not Lustre; on real "
        "servers set lustre_server_backend: lustre and give every target its device, or, for a "
        "throwaway test bed only, set jovial_allow_lab_ext4: true in group_vars/all"
    )


def check_lustre_backend(model: InventoryModel) -> list[str]:
    """lustre_fsname, lustre_server_backend (lab_ext4 only in the lab or where allowed), and
    with backend lustre a device per target, an absolute path, not shared by two targets of
    the same server."""
    if model.site.get("lustre_targets") is None or not _storage_configured(model):
        return []
    problems = []
    fsname = model.site.get("lustre_fsname")
    if "lustre_fsname" not in model.unresolved and fsname is None:
        problems.append(
            "lustre_fsname is not set; set it in group_vars/all/lustre.yml to the file system's "
            "name, 1-8 letters, digits, '_' or '-' (e.g. jovial)"
        )
    elif "lustre_fsname" not in model.unresolved and (
        not isinstance(fsname, str) or not _FSNAME.match(fsname)
    ):
        problems.append(
            f"lustre_fsname {core.show(fsname)} is not a Lustre file system name; use 1-8 "
            "letters, digits, '_' or '-' (e.g. jovial)"
        )
    backend = model.site.get("lustre_server_backend", "lustre")
    if "lustre_server_backend" in model.unresolved:
        return problems
    if backend not in LUSTRE_BACKENDS:
        problems.append(
            f"lustre_server_backend {core.show(backend)} is not one of "
            f"{', '.join(LUSTRE_BACKENDS)}; "
            "use lustre on real servers (lab_ext4 only in the lab and Molecule)"
        )
        return problems
    if backend == "lab_ext4":
        refused = _lab_ext4_problem(model)
        if refused:
            problems.append(refused)
    targets = model.site.get("lustre_targets")
    if (
        backend == "lustre"
        and "lustre_targets" not in model.unresolved
        and core._is_list(targets)
        and targets
        and not any(isinstance(t, Mapping) and t.get("kind") == "mgt" for t in targets)
    ):
        problems.append(
            "lustre_targets has no mgt target; with lustre_server_backend lustre the clients "
            "mount from the MGS pair: add {kind: mgt, index: 0, primary: <a host of lustre_mgs>, "
            "failover: <its partner>, device: <its device>}"
        )
    used: list[tuple[tuple[str, str], str]] = []
    for label, target in _valid_targets(model):
        device = target.get("device")
        if device is None:
            if backend == "lustre":
                problems.append(
                    f"{label}: device is not set; with lustre_server_backend lustre every "
                    "target needs its shared block device, e.g. device: "
                    "/dev/disk/by-id/dm-uuid-mpath-<wwid>"
                )
            continue
        if not isinstance(device, str) or not device.startswith("/dev/"):
            problems.append(
                f"{label}: device {core.show(device)} is not a /dev path; use the stable name of "
                "the shared block device (/dev/disk/by-id/... or /dev/mapper/...)"
            )
            continue
        for host in (target["primary"], target["failover"]):
            used.append(((host, device), label))
    for (host, device), labels in core._duplicates(used).items():
        problems.append(
            f"host {host}: device {device} is used by {core.join_and(labels)}; each target needs "
            "its own device (formatting one would destroy the other)"
        )
    return problems


def check_moosefs(model: InventoryModel) -> list[str]:
    """Backend moosefs: exactly one MDT, and every MDT and OST has its own failover address
    (`address`), inside a jovial network, used by no host and no VIP."""
    backend = model.site.get("lustre_server_backend", "lustre")
    if not _storage_configured(model) or backend != "moosefs":
        return []
    problems = []
    targets = _valid_targets(model)
    mdts = [label for label, target in targets if target.get("kind") == "mdt"]
    if len(mdts) != 1:
        problems.append(
            f"lustre_server_backend moosefs needs exactly one mdt target ({len(mdts)} given: "
            f"{core.join_and(mdts) or 'none'}); MooseFS has one metadata server, run by the MDS "
            "pair"
        )
    networks = core.valid_networks(model)
    taken: list[tuple[Any, str]] = []
    for host in core.managed_hosts(model):
        address = core._parse_address(model.hosts.get(host, {}).get("jovial_address"))
        if address is not None:
            taken.append((address, f"host {host}"))
    for vip in model.site.get("jovial_vips") or []:
        if isinstance(vip, Mapping) and core._parse_address(vip.get("address")) is not None:
            taken.append((core._parse_address(vip.get("address")), f"VIP {vip.get('name')}"))
    for label, target in targets:
        if target.get("kind") not in ("mdt", "ost"):
            continue
        value = target.get("address")
        address = core._parse_address(value)
        if address is None:
            problems.append(
                f"{label}: address {core.show(value)} is not an IP address; with "
                "lustre_server_backend moosefs each mdt and ost target needs `address`, a free "
                "address on the pair's network that moves with the target (e.g. address: "
                "10.77.0.45)"
            )
            continue
        if address.version != 4:
            problems.append(
                f"{label}: address {core.show(value)} is not an IPv4 address; MooseFS clients and "
                "chunkservers reach its services over IPv4: use a free IPv4 address on the "
                "pair's network"
            )
            continue
        if networks and not any(address in net for net in networks.values()):
            problems.append(
                f"{label}: address {core.show(value)} is not inside any network in jovial_networks "
                f"({core._networks_text(networks)}); use a free address of the pair's network"
            )
        taken.append((address, label))
    for address, owners in core._duplicates(taken).items():
        if any(owner.startswith("lustre_targets") for owner in owners):
            problems.append(
                f"{core.join_and(owners)} share the address {address}; each target's failover "
                "address must be its own (a free address, not a host's or a VIP's)"
            )
    return problems


def check_home_root(model: InventoryModel) -> list[str]:
    """Where the storage layer serves clients, homes are on the shared filesystem:
    ldap_client_home_root inside <lustre_client_mount_root>/<lustre_fsname> (where the site has
    users with homes: see _users_configured)."""
    if (
        not _storage_configured(model)
        or not core._group(model, "lustre_client")
        or not core._users_configured(model)
    ):
        return []
    names = (
        "lustre_server_backend",
        "lustre_fsname",
        "lustre_client_mount_root",
        "ldap_client_home_root",
    )
    if any(name in model.unresolved for name in names):
        return []
    backend = model.site.get("lustre_server_backend", "lustre")
    fsname = model.site.get("lustre_fsname")
    root = model.site.get("lustre_client_mount_root")
    home = model.site.get("ldap_client_home_root")
    if backend not in CLIENT_BACKENDS or not all(isinstance(v, str) for v in (fsname, root, home)):
        return []
    mount = f"{root.rstrip('/')}/{fsname}"
    if home.rstrip("/").startswith(mount + "/"):
        return []
    return [
        f"ldap_home_root {core.show(home)} is not on the shared filesystem, which every "
        f"lustre_client mounts at {mount} (lustre_mount_root/lustre_fsname): homes there would "
        f"sit on each node's own disk and be lost with it; set ldap_home_root: {mount}/home"
    ]


_MOUNT_ROOT = re.compile(r"^(/[A-Za-z0-9_.]+)+$")
_TUNABLE = re.compile(r"^(osc|mdc|llite|ldlm|lov|lmv)\.[a-z0-9_.]+$")


def check_lustre_client(model: InventoryModel) -> list[str]:
    """Where lustre_client hosts mount the storage: a mount root the role can build a mount unit
    from, and tunables named <device type>.<param> (both are the lustre_client role's
    defaults unless the inventory sets them)."""
    if not _storage_configured(model) or not core._group(model, "lustre_client"):
        return []
    problems: list[str] = []
    backend = model.site.get("lustre_server_backend", "lustre")
    root = model.site.get("lustre_client_mount_root")
    if (
        backend in CLIENT_BACKENDS
        and "lustre_client_mount_root" in model.site
        and not (isinstance(root, str) and _MOUNT_ROOT.match(root))
    ):
        problems.append(
            f"lustre_mount_root {core.show(root)} is not an absolute path of letters, digits, '_' "
            "and '.' (e.g. /lustre); every lustre_client mounts the file system at "
            "<lustre_mount_root>/<lustre_fsname>"
        )
    tunables = model.site.get("lustre_client_tunables")
    if "lustre_client_tunables" in model.unresolved or tunables is None:
        return problems
    if not isinstance(tunables, Mapping):
        problems.append(
            f"lustre_client_tunables: expected a mapping of <device type>.<param> to a value, "
            f"{core._got(tunables)}; e.g. {{osc.max_rpcs_in_flight: 16}}"
        )
        return problems
    for key in tunables:
        if not isinstance(key, str) or not _TUNABLE.match(key):
            problems.append(
                f"lustre_client_tunables: key {core.show(key)} is not <device type>.<param> with a "
                "device type of osc, mdc, llite, ldlm, lov or lmv (e.g. osc.max_rpcs_in_flight); "
                "the role sets each as <type>.<lustre_fsname>-*.<param>"
            )
    return problems


def check_lustre_quotas(model: InventoryModel) -> list[str]:
    """Each lustre_quotas entry names a group of the directory (ldap_groups, when the site
    manages it): the storage layer applies quotas by that group's gid before SSSD runs."""
    quotas = model.site.get("lustre_quotas")
    if "lustre_quotas" in model.unresolved or quotas is None:
        return []
    example = "[{group: astro, block_hardlimit: 10T, inode_hardlimit: 10000000}]"
    if not core._is_list(quotas):
        return [f"lustre_quotas: expected a list of mappings, {core._got(quotas)}; e.g. {example}"]
    groups = None
    if "ldap_groups" not in model.unresolved and core._is_list(model.site.get("ldap_groups")):
        groups = [
            g.get("name")
            for g in model.site["ldap_groups"]
            if isinstance(g, Mapping) and g.get("state", "present") == "present"
        ]
    problems = []
    for position, entry in enumerate(quotas):
        group = entry.get("group") if isinstance(entry, Mapping) else None
        if not isinstance(group, str) or not group:
            problems.append(
                f"lustre_quotas[{position}]: {core.show(entry)} names no group; e.g. {example}"
            )
        elif groups is not None and group not in groups:
            problems.append(
                f"lustre_quotas[{group}]: group {group} is not a present group of ldap_groups; "
                "add it to ldap_groups (its gid is what the quota is set on) or remove the quota"
            )
    return problems


def _lnet_names(model: InventoryModel, problems: list[str]) -> dict[str, str] | None:
    """lnet_networks: normalized net -> name as written; None when not set."""
    if "lnet_networks" in model.unresolved:
        return None
    value = model.site.get("lnet_networks")
    if value is None:
        return None
    example = "[{name: o2ib0, interfaces: [ib0]}]"
    if not core._is_list(value) or not value:
        problems.append(
            f"lnet_networks: expected a non-empty list, {core._got(value)}; e.g. {example}"
        )
        return None
    seen: dict[str, str] = {}
    names: dict[str, str] = {}
    absent = 0
    for position, item in enumerate(value):
        name = item.get("name") if isinstance(item, Mapping) else None
        label = core._item_label("lnet_networks", position, name)
        net = _lnet_net(name)
        if net is None:
            problems.append(
                f"{label}: name {core.show(name)} is not an LNet network; use o2ib<N> (InfiniBand) "
                f"or tcp<N> (e.g. o2ib0), as in {example}"
            )
            continue
        if net in seen:
            problems.append(f"{label}: network {name} is listed twice (as {seen[net]}); keep one")
            continue
        seen[net] = name
        state = item.get("state", "present")
        if state not in ("present", "absent"):
            problems.append(
                f"{label}: state {core.show(state)} is not present or absent; write state: absent "
                "to remove the network from LNet, or leave state out"
            )
        elif state == "absent":
            absent += 1
            continue
        names[net] = name
        interfaces = item.get("interfaces")
        if (
            not core._is_list(interfaces)
            or not interfaces
            or not all(isinstance(i, str) and i for i in interfaces)
        ):
            problems.append(
                f"{label}: interfaces {core.show(interfaces)} is not a non-empty list of interface "
                "names; e.g. [ib0] (IPoIB) or [eth0]"
            )
    if absent and absent == len(seen) == len(value):
        problems.append(
            "lnet_networks has no present network (every entry is state: absent); keep the "
            "network the Lustre nodes' NIDs are on"
        )
        return seen  # the NIDs are not checked against networks that are all going away
    return names


def check_lnet(model: InventoryModel) -> list[str]:
    """lnet_networks, and lustre_nid on every Lustre server and client: <ipv4>@<net>, net
    listed in lnet_networks, unique; the two servers of a pair on the same net."""
    if not _storage_configured(model):
        return []
    hosts = sorted(set(_lustre_servers(model)) | set(core._group(model, "lustre_client")))
    problems: list[str] = []
    names = _lnet_names(model, problems)
    if not hosts:
        return problems
    if names is None and "lnet_networks" not in model.unresolved:
        problems.append(
            "lnet_networks is not set; list the LNet networks of the Lustre nodes in "
            "group_vars/all/lnet.yml, e.g. [{name: o2ib0, interfaces: [ib0]}]"
        )
    nid_net: dict[str, str] = {}
    seen: list[tuple[str, str]] = []
    for host in hosts:
        if f"{host}:lustre_nid" in model.unresolved:
            continue
        nid = model.hosts.get(host, {}).get("lustre_nid")
        if nid is None:
            problems.append(
                f"host {host}: lustre_nid is not set; set it to the host's NID on the first "
                "LNet network, e.g. 10.80.0.41@o2ib0"
            )
            continue
        address, _sep, net_name = nid.partition("@") if isinstance(nid, str) else ("", "", "")
        parsed = core._parse_address(address)
        net = _lnet_net(net_name)
        if not isinstance(parsed, ipaddress.IPv4Address) or net is None:
            problems.append(
                f"host {host}: lustre_nid {core.show(nid)} is not <ipv4>@<net>; use e.g. "
                "10.80.0.41@o2ib0 (the host's IPoIB address) or 10.77.0.21@tcp0"
            )
            continue
        if names is not None and net not in names:
            problems.append(
                f"host {host}: lustre_nid {core.show(nid)} is on {net_name}, which is not in "
                f"lnet_networks ({', '.join(names.values()) or 'none'}); fix the NID or add "
                "the network"
            )
        elif names and net != next(iter(names)):
            first = names[next(iter(names))]
            problems.append(
                f"host {host}: lustre_nid {core.show(nid)} is on {net_name}, not on {first}, the "
                "first network of lnet_networks, where the lnet role gives the node its NID; "
                f"set lustre_nid to the host's address on {first}, or list {net_name} first"
            )
        nid_net[host] = net
        seen.append((f"{address}@{net}", host))
    for nid, owners in core._duplicates(seen).items():
        problems.append(f"hosts {core.join_and(owners)} share lustre_nid {nid}; each needs its own")
    for host, partners in sorted(lustre_pairs(model).items()):
        for partner in sorted(partners):
            if (
                host < partner
                and host in nid_net
                and partner in nid_net
                and nid_net[host] != nid_net[partner]
            ):
                problems.append(
                    f"failover pair {host} and {partner}: lustre_nid on different LNet "
                    f"networks ({nid_net[host]} and {nid_net[partner]}); clients reach a "
                    "target through both NIDs: put both on the same network"
                )
    return problems


def check_fencing(model: InventoryModel) -> list[str]:
    """ha_cluster_fence on every Lustre server (STONITH is mandatory), the corosync authkey."""
    servers = _lustre_servers(model)
    if not servers or not _storage_configured(model):
        return []
    problems = []
    backend = model.site.get("lustre_server_backend", "lustre")
    secret_values = [v for v in model.secrets.values() if isinstance(v, str) and v]
    for host in servers:
        if f"{host}:ha_cluster_fence" in model.unresolved:
            continue
        fence = model.hosts.get(host, {}).get("ha_cluster_fence")
        where = f"host {host}: ha_cluster_fence"
        if not isinstance(fence, Mapping):
            problems.append(
                f"{where} is {core.show(fence)}; every Lustre server needs its fence device "
                "(STONITH is never off), e.g. {agent: fence_ipmilan, ip: <BMC>, username: "
                "admin, password: '{{ vault_bmc_password }}'}"
            )
            continue
        agent = fence.get("agent")
        if agent not in FENCE_AGENTS:
            problems.append(
                f"{where}: agent {core.show(agent)} is not one of {', '.join(FENCE_AGENTS)}"
            )
            continue
        if agent == "fence_jovial_podman":
            if backend == "lustre":
                problems.append(
                    f"{where}: agent fence_jovial_podman only fences lab containers; with "
                    "lustre_server_backend lustre use fence_ipmilan or fence_redfish"
                )
            elif not isinstance(fence.get("container"), str) or not fence.get("container"):
                problems.append(f"{where}: container is not set; set it to the node's container")
            continue
        if not isinstance(
            core._parse_address(fence.get("ip")), ipaddress.IPv4Address | ipaddress.IPv6Address
        ):
            problems.append(
                f"{where}: ip {core.show(fence.get('ip'))} is not an address; set the BMC's address"
            )
        if not isinstance(fence.get("username"), str) or not fence.get("username"):
            problems.append(f"{where}: username is not set; set the BMC user")
        password = fence.get("password")
        if not isinstance(password, str) or not password:
            problems.append(
                f"{where}: password is not set (value not shown); set password: "
                "'{{ vault_bmc_password }}' and that secret in group_vars/all/vault.yml"
            )
        elif password not in secret_values:
            problems.append(
                f"{where}: password is not a vault secret (value not shown); write password: "
                "'{{ vault_bmc_password }}' and list vault_bmc_password in "
                "jovial_required_secrets"
            )
    required = model.site.get("jovial_required_secrets")
    if "jovial_required_secrets" not in model.unresolved and core._is_list(required):
        for name in LUSTRE_SECRETS:
            if name not in required:
                problems.append(
                    f"jovial_required_secrets does not list {name}; the failover pairs' "
                    "corosync needs it: add it there and its value to group_vars/all/vault.yml"
                )
    authkey = model.secrets.get("vault_ha_cluster_authkey")
    if isinstance(authkey, str) and authkey.strip() and not 128 <= len(authkey) <= 4096:
        size = "fewer than 128" if len(authkey) < 128 else "more than 4096"
        problems.append(
            f"vault_ha_cluster_authkey has {size} characters (value not shown); corosync takes "
            "a key of 128 to 4096: generate one with `openssl rand -base64 192` into "
            "group_vars/all/vault.yml"
        )
    for name, (choices, meaning) in HA_CLUSTER_CHOICES.items():
        if name in model.unresolved or name not in model.site:
            continue
        if model.site[name] not in choices:
            allowed = ", ".join(choices[:-1]) + " or " + choices[-1]
            problems.append(
                f"{name} {core.show(model.site[name])} is not {allowed} ({meaning}); fix it in "
                "group_vars/all"
            )
    return problems


def check_infiniband(model: InventoryModel) -> list[str]:
    """opensm: exactly two hosts with distinct opensm_priority 0-15; IPoIB interfaces."""
    ib_hosts = core._group(model, "infiniband")
    if not ib_hosts:
        return []
    problems = []
    sm = core._group(model, "opensm")
    if len(sm) != 2:
        problems.append(
            f"group opensm has {core._hosts_word(len(sm))} ({core.join_and(sm)}); it needs exactly "
            "two InfiniBand hosts so that a subnet manager always runs"
        )
    priorities: list[tuple[int, str]] = []
    for host in sm:
        if host not in ib_hosts:
            problems.append(f"host {host} is in opensm but not in infiniband; add it there")
        if f"{host}:opensm_priority" in model.unresolved:
            continue
        value = model.hosts.get(host, {}).get("opensm_priority")
        if not core._is_int(value) or not 0 <= value <= OPENSM_PRIORITY_MAX:
            problems.append(
                f"host {host}: opensm_priority {core.show(value)} is not an integer 0-15; set 15 "
                "on the preferred subnet manager and a lower value on the other"
            )
        else:
            priorities.append((value, host))
    for value, hosts in core._duplicates(priorities).items():
        problems.append(
            f"hosts {core.join_and(hosts)} share opensm_priority {value}; give them different "
            "priorities so the master is deterministic"
        )
    addresses: list[tuple[Any, str]] = []
    for host in ib_hosts:
        names: list[tuple[str, str]] = []
        if f"{host}:infiniband_ipoib_interfaces" in model.unresolved:
            continue
        value = model.hosts.get(host, {}).get("infiniband_ipoib_interfaces")
        if value is None:
            continue
        where = f"host {host}: infiniband_ipoib_interfaces"
        if not core._is_list(value):
            problems.append(f"{where}: expected a list of {{name, address}}, {core._got(value)}")
            continue
        for position, item in enumerate(value):
            if not isinstance(item, Mapping):
                problems.append(f"{where}[{position}]: expected a mapping, {core._got(item)}")
                continue
            name, address = item.get("name"), item.get("address")
            if not isinstance(name, str) or not re.match(r"^ib[0-9a-z.]+$", name):
                problems.append(
                    f"{where}[{position}]: name {core.show(name)} is not an IPoIB interface (ib0, "
                    "ib1, ib0.8001)"
                )
            else:
                names.append((name, name))
            try:
                interface = ipaddress.ip_interface(address) if isinstance(address, str) else None
            except ValueError:
                interface = None
            if interface is None or "/" not in address:
                problems.append(
                    f"{where}[{position}]: address {core.show(address)} is not address/prefix "
                    "(e.g. 10.80.0.41/16)"
                )
            elif role := core._reserved_role(interface.ip, interface.network):
                problems.append(
                    f"{where}[{position}]: address {core.show(address)} is the {role} address of "
                    f"{interface.network}; use a host address (e.g. 10.80.0.41/16)"
                )
            else:
                addresses.append((interface.ip, host))
            mode = item.get("mode", "datagram")
            if mode not in IPOIB_MTU_MAX:
                problems.append(
                    f"{where}[{position}]: mode {core.show(item.get('mode'))} is not datagram or "
                    "connected"
                )
            mtu = item.get("mtu")
            top = IPOIB_MTU_MAX.get(mode, IPOIB_MTU_MAX["connected"])
            if mtu is not None and (not core._is_int(mtu) or not IPOIB_MTU_MIN <= mtu <= top):
                problems.append(
                    f"{where}[{position}]: mtu {core.show(mtu)} is not an integer "
                    f"{IPOIB_MTU_MIN}-{top}"
                    f"{f' (the most {mode} mode carries)' if mode in IPOIB_MTU_MAX else ''}; "
                    "use 2044 (datagram) or 65520 (connected)"
                )
        for name, copies in core._duplicates(names).items():
            problems.append(
                f"{where}: {name} is listed {len(copies)} times; list each interface once"
            )
    for address, hosts in core._duplicates(addresses).items():
        problems.append(f"hosts {core.join_and(hosts)} share the IPoIB address {address}")
    return problems
