"""The etcd layer's checks: the members and the cluster's settings (docs/inventory.md;
tests/unit/plugins/module_utils/test_inventory_model.py and test_inventory_etcd.py).
"""

from __future__ import annotations

import re
from typing import Any

from . import inventory_core as core
from .inventory_core import InventoryModel

ETCD_SIZES: tuple[int, ...] = (3, 5, 7)


def etcd_members(model: InventoryModel) -> Any:
    """etcd_members as set, or the etcd group when it is not set."""
    value = model.site.get("etcd_members")
    return list(core._group(model, "etcd")) if value is None else value


def _etcd_configured(model: InventoryModel) -> bool:
    """The site runs etcd: group etcd has hosts, etcd_members is set, or Kubernetes (whose
    control plane stores its state in the external etcd cluster) is configured."""
    return (
        bool(core._group(model, "etcd"))
        or model.site.get("etcd_members") is not None
        or core._kubernetes_configured(model)
    )


def check_etcd(model: InventoryModel) -> list[str]:
    """etcd_members: 3, 5 or 7 distinct hosts, each in the inventory and in group etcd."""
    if "etcd_members" in model.unresolved or not _etcd_configured(model):
        return []
    members = etcd_members(model)
    if not core._is_list(members):
        return [
            f"etcd_members: expected a list of hostnames, {core._got(members)}; "
            "use etcd_members: \"{{ groups['etcd'] | default([]) }}\""
        ]
    problems = []
    known = core.inventory_hosts(model)
    etcd_group = set(core._group(model, "etcd"))
    names: list[str] = []
    for position, member in enumerate(members):
        if not isinstance(member, str) or not member:
            problems.append(
                f"etcd_members[{position}]: expected a hostname, {core._got(member)}; "
                "list inventory hostnames"
            )
            continue
        names.append(member)
        if member not in known:
            problems.append(
                f"etcd_members: host {core.show(member)} is not in the inventory; "
                "list hosts of group etcd"
            )
        elif member not in etcd_group:
            problems.append(
                f"etcd_members: host {member} is not in group etcd; add it to group etcd "
                "in hosts.yml or remove it from etcd_members"
            )
    for member, copies in core._duplicates((m, m) for m in names).items():
        problems.append(f"etcd_members lists {member} {len(copies)} times; list each member once")
    for host in core._group(model, "etcd"):
        if host not in names:
            problems.append(
                f"etcd_members: host {host} is in group etcd but not in etcd_members; "
                "playbooks/etcd.yml makes every host of group etcd a member: add it to "
                "etcd_members or remove it from group etcd"
            )
    if len(members) not in ETCD_SIZES:
        shown = core.join_and(str(m) for m in members) if members else "none"
        problems.append(
            f"etcd_members has {core._hosts_word(len(members))} ({shown}); etcd needs 3, 5 or 7 "
            "members (an odd number, for quorum); change group etcd (or etcd_members)"
        )
    return problems


ETCD_QUOTA_MAX = 8 * 1024**3  # etcd's largest supported backend quota (8 GiB)
_ETCD_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _etcd_int(model: InventoryModel, name: str, low: int, high: int, fix: str) -> list[str]:
    value = model.site.get(name)
    if name in model.unresolved or value is None:
        return []
    if not core._is_int(value) or not low <= value <= high:
        return [f"{name} {core.show(value)} is not an integer from {low} to {high}; {fix}"]
    return []


def check_etcd_settings(model: InventoryModel) -> list[str]:
    """etcd install source, ports, raft timing and TLS settings (members: check_etcd).

    Unset variables take the etcd role's defaults (roles/etcd/defaults/main.yml), which are
    valid, so only what the site sets is checked.
    """
    problems: list[str] = []
    site = model.site
    method = site.get("etcd_install_method")
    if "etcd_install_method" not in model.unresolved and method is not None:
        if method not in ("debian", "release"):
            problems.append(
                f"etcd_install_method {core.show(method)} is not debian or release; use debian "
                "(Debian's packages) or release (a pinned upstream tarball)"
            )
        elif method == "release":
            version = site.get("etcd_release_version")
            if not isinstance(version, str) or not _ETCD_VERSION.match(version):
                problems.append(
                    f"etcd_release_version {core.show(version)} is not a version like 3.5.17; pin "
                    "the upstream release in group_vars/all/etcd.yml"
                )
            digest = site.get("etcd_release_sha256")
            if not isinstance(digest, str) or not _SHA256.match(digest):
                problems.append(
                    f"etcd_release_sha256 {core.show(digest)} is not a sha256 (64 lowercase hex "
                    "digits); copy it from the release's SHA256SUMS into group_vars/all/etcd.yml"
                )
            source = site.get("etcd_release_source")
            if not isinstance(source, str) or not source.strip():
                problems.append(
                    f"etcd_release_source {core.show(source)} is empty; set the tarball's URL on "
                    "the site mirror or its absolute path on the control node"
                )

    ports: list[tuple[Any, str]] = []
    for name in ("etcd_client_port", "etcd_peer_port", "etcd_metrics_port"):
        found = _etcd_int(model, name, 1, 65535, "use a free TCP port")
        problems.extend(found)
        if not found and core._is_int(site.get(name)):
            ports.append((site[name], name))
    for port, names in core._duplicates(ports).items():
        problems.append(f"{core.join_and(names)} are all {port}; give each listener its own port")

    problems.extend(
        _etcd_int(
            model,
            "etcd_heartbeat_interval",
            10,
            5000,
            "use about the members' round-trip time in ms (100 on one LAN)",
        )
    )
    problems.extend(
        _etcd_int(
            model,
            "etcd_election_timeout",
            50,
            50000,
            "use 10x etcd_heartbeat_interval in ms (1000 on one LAN)",
        )
    )
    heartbeat = site.get("etcd_heartbeat_interval")
    election = site.get("etcd_election_timeout")
    if core._is_int(heartbeat) and core._is_int(election) and 0 < election < 5 * heartbeat:
        problems.append(
            f"etcd_election_timeout {election} is less than 5x etcd_heartbeat_interval "
            f"{heartbeat}; etcd refuses to start: set it to at least {5 * heartbeat} "
            f"(10x, {10 * heartbeat}, is usual)"
        )
    problems.extend(
        _etcd_int(
            model,
            "etcd_quota_backend_bytes",
            1,
            ETCD_QUOTA_MAX,
            "etcd supports at most 8 GiB (8589934592); 2147483648 is its default",
        )
    )

    problems.extend(
        _etcd_int(
            model,
            "etcd_cert_valid_days",
            1,
            3650,
            "certificates are reissued by re-running playbooks/etcd.yml; 825 is usual",
        )
    )
    sans = site.get("etcd_cert_extra_sans")
    if "etcd_cert_extra_sans" not in model.unresolved and sans is not None:
        if not core._is_list(sans):
            problems.append(
                f"etcd_cert_extra_sans: expected a list like ['DNS:etcd.example.org', "
                f"'IP:10.0.0.5'], {core._got(sans)}"
            )
        else:
            for position, san in enumerate(sans):
                kind, _sep, value = san.partition(":") if isinstance(san, str) else ("", "", "")
                ok = (
                    kind == "DNS" and all(core._DNS_LABEL.match(x) for x in value.split("."))
                ) or (kind == "IP" and core._parse_address(value) is not None)
                if not ok:
                    problems.append(
                        f"etcd_cert_extra_sans[{position}] {core.show(san)} is not a "
                        "subjectAltName like DNS:etcd.example.org or IP:10.0.0.5; fix or remove it"
                    )
    return problems
