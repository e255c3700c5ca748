"""Filters used by the lab playbooks (playbooks/lab-up.yml).

They turn the lab inventory's data (per-group container options, Lustre targets) into the
arguments of the podman container and disk tasks. Pure functions, unit-tested in
tests/unit/plugins/filter/test_lab.py.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

_LIST_KEYS = ("volumes", "cap_add", "devices")
_MAP_KEYS = ("sysctl", "tmpfs")
_BOOL_KEYS = ("privileged",)
# Plain values: a later group wins (empty = podman's default).
_STR_KEYS = ("cgroupns",)


def lab_container_options(
    group_names: list[str], by_group: dict[str, Any], defaults: dict[str, Any]
) -> dict[str, Any]:
    """Merge the defaults with the options of every group a node is in.

    Lists are joined without duplicates (in order), maps are merged (a later group wins on
    the same key, groups taken in sorted order), booleans are or-ed, plain values (cgroupns)
    taken from the last group that sets them.
    """
    if not isinstance(by_group, dict):
        raise AnsibleFilterError(
            f"lab_container_by_group must be a mapping of group -> options, got {by_group!r}"
        )
    merged: dict[str, Any] = {
        **{k: [] for k in _LIST_KEYS},
        **{k: {} for k in _MAP_KEYS},
        **{k: False for k in _BOOL_KEYS},
        **{k: "" for k in _STR_KEYS},
    }
    sources = [("lab_container_defaults", defaults or {})]
    sources += [
        (f"lab_container_by_group.{g}", by_group[g]) for g in sorted(group_names) if g in by_group
    ]
    for where, opts in sources:
        if not isinstance(opts, dict):
            raise AnsibleFilterError(f"{where} must be a mapping of options, got {opts!r}")
        allowed = _LIST_KEYS + _MAP_KEYS + _BOOL_KEYS + _STR_KEYS
        unknown = set(opts) - set(allowed)
        if unknown:
            raise AnsibleFilterError(
                f"{where} has unknown option(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
            )
        for key in _LIST_KEYS:
            for item in opts.get(key) or []:
                if item not in merged[key]:
                    merged[key].append(item)
        for key in _MAP_KEYS:
            merged[key].update({str(k): str(v) for k, v in (opts.get(key) or {}).items()})
        for key in _BOOL_KEYS:
            merged[key] = merged[key] or bool(opts.get(key, False))
        for key in _STR_KEYS:
            if opts.get(key):
                merged[key] = str(opts[key])
    return merged


# Where a node sees its disks: one directory of device nodes, bind-mounted from the host.
NODE_DISK_DIR = "/dev/jovial"


def jovial_lab_disk(target: dict[str, Any], size: str = "256M") -> dict[str, Any]:
    """Describe the shared loop-backed image that stands in for one Lustre target."""
    try:
        name = f"{target['kind']}{int(target['index'])}"
        hosts = [target["primary"], target["failover"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(
            f"lustre target {target!r} needs kind, index, primary and failover ({exc})"
        ) from exc
    # The nodes see it as NODE_DISK_DIR/<name> (jovial_disk_volumes), the path
    # lustre_server_lab_device_prefix points at.
    return {"name": name, "size": size, "hosts": hosts}


def _loop_number(device: str) -> int:
    tail = device.rsplit("loop", 1)[-1]
    if not tail.isdigit():
        raise AnsibleFilterError(f"{device!r} is not a loop device (/dev/loopN)")
    return int(tail)


def _disk_fields(disk: Any) -> tuple[list[str], str]:
    try:
        return list(disk["hosts"]), str(disk["name"])
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"disk {disk!r} needs name and hosts ({exc})") from exc


def jovial_disk_nodes(disks: list[dict[str, Any]], loops: dict[str, list[str]]) -> list[dict]:
    """Which loop device each host of each disk uses: [{host, name, loop}].

    Each host of a shared disk gets its OWN loop device on the same image file: the nodes'
    containers share the host's kernel, and two mounts of one block device would share one
    superblock, so ext4's multiple-mount protection would never see the other node. Loop
    devices on one file (without direct I/O) see each other's writes through the file's
    page cache, so MMP refuses a second mount as on a real shared LUN. The i-th host of a
    disk gets the i-th of its loop devices in number order (stable while they stay attached).
    """
    nodes = []
    for disk in disks:
        hosts, name = _disk_fields(disk)
        attached = sorted(loops.get(name) or [], key=_loop_number)
        if len(attached) < len(hosts):
            raise AnsibleFilterError(
                f"disk {name} has {len(attached)} loop device(s) {attached} for "
                f"{len(hosts)} hosts {hosts}; each host needs its own (attach more with losetup)"
            )
        nodes += [{"host": h, "name": name, "loop": attached[i]} for i, h in enumerate(hosts)]
    return nodes


def jovial_disk_volumes(host: str, disks: list[dict[str, Any]], nodes_dir: str) -> list[str]:
    """The bind mount `<nodes_dir>/<host>:/dev/jovial` for a host that uses any disk.

    <nodes_dir>/<host>/ holds one block device node per disk of that host (its own loop
    device, see jovial_disk_nodes), so the node sees /dev/jovial/<disk>. A directory, not a
    bind mount per device node: a device node that is itself a mount point is unmounted by
    ocf:heartbeat:Filesystem when it stops the file system on it (the agent unmounts every
    mount whose line names the device), and the node could never mount that target again.
    """
    if any(host in _disk_fields(disk)[0] for disk in disks):
        return [f"{nodes_dir}/{host}:{NODE_DISK_DIR}"]
    return []


def jovial_lab_mac(address: str) -> str:
    """A fixed, locally administered MAC address for a lab node: 02:4a: + its IPv4 address.

    podman gives a container a new random MAC each time it starts. When a node is killed and
    started again (a fence, a drill, lab-recover), the host and the other nodes keep the old
    MAC in their neighbour tables for 15 to 45 s and every new connection to the node times
    out until the entry is re-probed (measured: SSH down for 14 s after a restart with a
    random MAC, 2 s with a fixed one). A node keeps its MAC on bare metal too.
    """
    try:
        octets = [int(part) for part in str(address).split(".")]
    except ValueError:
        octets = []
    if len(octets) != 4 or not all(0 <= o <= 255 for o in octets):
        raise AnsibleFilterError(
            f"jovial_lab_mac: {address!r} is not an IPv4 address (a lab node's jovial_address)"
        )
    return "02:4a:" + ":".join(f"{o:02x}" for o in octets)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "lab_container_options": lab_container_options,
            "jovial_lab_disk": jovial_lab_disk,
            "jovial_disk_nodes": jovial_disk_nodes,
            "jovial_disk_volumes": jovial_disk_volumes,
            "jovial_lab_mac": jovial_lab_mac,
        }
