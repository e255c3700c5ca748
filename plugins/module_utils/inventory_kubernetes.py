"""The Kubernetes layer's checks (docs/inventory.md, "Kubernetes"; roles/kubernetes;
tests/unit/plugins/module_utils/test_inventory_model_kubernetes.py).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from . import inventory_core as core
from .inventory_core import InventoryModel
from .inventory_etcd import (
    _ETCD_VERSION,
    _SHA256,
)

# The Kubernetes layer's settings check_kubernetes reads (group_vars/all/kubernetes.yml). Their
# defaults are the kubernetes role's (ROLE_DEFAULTS, inventory_model.py).
KUBERNETES_SETTINGS: tuple[str, ...] = (
    "kubernetes_version",
    "kubernetes_apiserver_vip_name",
    "kubernetes_pod_subnet",
    "kubernetes_service_subnet",
    "kubernetes_node_cidr_mask",
    "kubernetes_source",
    "kubernetes_mirror_url",
    "kubernetes_checksums",
    "kubernetes_package_version",
    "kubernetes_user_namespaces",
)


# Kubernetes layer (docs/inventory.md, "Kubernetes"; roles/kubernetes)

# The releases this code supports (1.35 and later refuse cgroup v1).
_KUBERNETES_VERSION = re.compile(r"v1\.(3[4-7])\.[0-9]+")
KUBERNETES_SUPPORTED = "v1.34 to v1.37"
KUBERNETES_SOURCES: tuple[str, ...] = ("packages", "mirror")
_MIRROR_SCHEMES: tuple[str, ...] = ("http://", "https://", "file://")
# Every file of <kubernetes_mirror_url>/<version>/ the role fetches; each needs a sha256 in
# kubernetes_checksums[<version>].
KUBERNETES_MIRROR_FILES: tuple[str, ...] = (
    "bin/kubeadm",
    "bin/kubelet",
    "bin/kubectl",
    "bin/crictl",
    "images/kube-apiserver.tar",
    "images/kube-controller-manager.tar",
    "images/kube-scheduler.tar",
    "images/kube-proxy.tar",
    "images/pause.tar",
    "images/coredns.tar",
    "images/kube-router.tar",
)
KUBERNETES_NODE_MASK_MAX = 28  # a /28 holds 14 pods
KUBERNETES_SYSTEM_NAMESPACES: tuple[str, ...] = (
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "default",
)
_DNS_1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_KUBERNETES_FILE = "group_vars/all/kubernetes.yml"
# The oldest external etcd kubeadm accepts (MinExternalEtcdVersion in kubeadm's
# cmd/kubeadm/app/constants, the same in v1.34.12, v1.35.4, v1.36.3 and v1.37.2); Debian
# bookworm's etcd packages are 3.4.
KUBEADM_MIN_EXTERNAL_ETCD = (3, 5, 24)


class _Skip:
    """A setting check_kubernetes does not check: unresolved (check_unresolved reports it) or
    not set (reported once, by _kube_setting)."""


_SKIP = _Skip()


def _kube_setting(model: InventoryModel, name: str, problems: list[str]) -> Any:
    """The setting's value, or _SKIP (and a problem when it is not set at all)."""
    if name in model.unresolved:
        return _SKIP
    if name not in model.site:
        problems.append(
            f"{name} is not set and the kubernetes role has no default for it; set it in "
            f"{_KUBERNETES_FILE} (roles/kubernetes/defaults/main.yml describes it)"
        )
        return _SKIP
    return model.site[name]


def _kube_groups(model: InventoryModel, problems: list[str]) -> None:
    """Two or more control-plane nodes, a worker, and the external etcd cluster."""
    control_plane = core._group(model, "kube_control_plane")
    if len(control_plane) < 2:
        shown = core.join_and(control_plane) if control_plane else "none"
        problems.append(
            f"group kube_control_plane has {core._hosts_word(len(control_plane))} ({shown}); one "
            "control-plane node is a single point of failure for the whole cluster: put two "
            "or more (three is usual) hosts in kube_control_plane in hosts.yml"
        )
    if not core._group(model, "kube_node"):
        problems.append(
            "group kube_node has no hosts; users' notebooks and Dask workers run on the "
            "Kubernetes workers: put the compute nodes in kube_node in hosts.yml"
        )
    if not core._group(model, "etcd"):
        problems.append(
            "group etcd has no hosts; the Kubernetes control plane stores its state in the "
            "external etcd cluster: put 3 hosts in etcd in hosts.yml"
        )


def _kube_vip(model: InventoryModel, problems: list[str]) -> None:
    """The API's VIP (kubernetes_apiserver_vip_name) exists and kube_control_plane carries it.
    Its address and group size are check_vips' concern."""
    vip_name = _kube_setting(model, "kubernetes_apiserver_vip_name", problems)
    if vip_name is _SKIP or "jovial_vips" in model.unresolved:
        return
    if not isinstance(vip_name, str) or not vip_name:
        problems.append(
            f"kubernetes_apiserver_vip_name {core.show(vip_name)} is not a VIP name; set it to the "
            "name of the Kubernetes API's jovial_vips entry (e.g. kube-apiserver)"
        )
        return
    vips = model.site.get("jovial_vips")
    vips = vips if core._is_list(vips) else []
    entry = next((v for v in vips if isinstance(v, Mapping) and v.get("name") == vip_name), None)
    if entry is None:
        problems.append(
            f"kubernetes: no jovial_vips entry is named '{vip_name}' "
            "(kubernetes_apiserver_vip_name); add the Kubernetes API's VIP to jovial_vips "
            "with group: kube_control_plane"
        )
        return
    group = entry.get("group")
    if not isinstance(group, str) or group not in model.groups:
        return  # reported by check_vips
    if group != "kube_control_plane":
        problems.append(
            f"jovial_vips[{vip_name}]: carried by group {group}, not kube_control_plane; the "
            "Kubernetes API's VIP must move between the control-plane nodes (HAProxy in front "
            "of kube-apiserver runs there): set its group to kube_control_plane"
        )


def _kube_subnet(model: InventoryModel, name: str, problems: list[str]) -> core.Network | None:
    """The pod or service subnet when it is an IPv4 network; appends problems about it."""
    value = _kube_setting(model, name, problems)
    if value is _SKIP:
        return None
    parsed = core._parse_network(value)
    if isinstance(parsed, str):
        problems.append(f"{name} {core.show(value)} {parsed}")
        return None
    if parsed.version != 4:
        problems.append(
            f"{name} {core.show(value)} is not an IPv4 network; Jovial's clusters are IPv4 only: "
            "use a private IPv4 range no site network uses"
        )
        return None
    return parsed


def _kube_vip_addresses(model: InventoryModel) -> list[tuple[str, ipaddress.IPv4Address]]:
    """(label, address) of every jovial_vips entry whose address parses as IPv4."""
    vips = model.site.get("jovial_vips")
    if "jovial_vips" in model.unresolved or not core._is_list(vips):
        return []
    found = []
    for position, vip in enumerate(vips):
        if not isinstance(vip, Mapping):
            continue
        address = core._parse_address(vip.get("address"))
        if isinstance(address, ipaddress.IPv4Address):
            found.append((core._item_label("jovial_vips", position, vip.get("name")), address))
    return found


def _kube_networks(model: InventoryModel, problems: list[str]) -> None:
    """Pod and service subnets: IPv4, apart from each other, the site networks and the VIPs;
    kubernetes_node_cidr_mask fits the pod subnet and gives every node a range."""
    pods = _kube_subnet(model, "kubernetes_pod_subnet", problems)
    services = _kube_subnet(model, "kubernetes_service_subnet", problems)
    if pods is not None and services is not None and pods.overlaps(services):
        problems.append(
            f"kubernetes_service_subnet {services} overlaps kubernetes_pod_subnet {pods}; pods "
            "and Services need separate ranges: move one of them"
        )
    networks = core.valid_networks(model)
    vips = _kube_vip_addresses(model)
    for name, subnet in (("kubernetes_pod_subnet", pods), ("kubernetes_service_subnet", services)):
        if subnet is None:
            continue
        clashes = [
            (net_name, net)
            for net_name, net in networks.items()
            if net.version == 4 and net.overlaps(subnet)
        ]
        for net_name, net in clashes:
            problems.append(
                f"{name} {subnet} overlaps jovial_networks[{net_name}] ({net}); nodes on that "
                "network would be unreachable from pods: pick a range no site network uses"
            )
        for label, address in vips:
            if address in subnet and not any(address in net for _clash, net in clashes):
                problems.append(
                    f"{name} {subnet} holds the address {address} of {label}; that VIP would "
                    "be unreachable from pods: pick a range without any VIP"
                )

    mask = _kube_setting(model, "kubernetes_node_cidr_mask", problems)
    if mask is _SKIP:
        return
    if not core._is_int(mask):
        problems.append(
            f"kubernetes_node_cidr_mask {core.show(mask)} is not an integer; set the prefix length "
            "of each node's pod range (e.g. 24)"
        )
        return
    if pods is None:
        return
    if not pods.prefixlen < mask <= KUBERNETES_NODE_MASK_MAX:
        problems.append(
            f"kubernetes_node_cidr_mask {mask} must be larger than the prefix of "
            f"kubernetes_pod_subnet {pods} and at most {KUBERNETES_NODE_MASK_MAX}: each node "
            "gets a /<mask> of the pod subnet (a /28 holds 14 pods); use e.g. 24 with a /16"
        )
        return
    nodes = set(core._group(model, "kube_control_plane")) | set(core._group(model, "kube_node"))
    ranges = 2 ** (mask - pods.prefixlen)
    if ranges < len(nodes):
        problems.append(
            f"kubernetes_pod_subnet {pods} holds {ranges} node ranges of /{mask} "
            f"(kubernetes_node_cidr_mask) but kube_control_plane and kube_node have "
            f"{len(nodes)} nodes; use a larger pod subnet or a longer mask"
        )


def _kube_source(model: InventoryModel, problems: list[str]) -> None:
    """A supported kubernetes_version, and what its source needs: checksums of every mirror
    file, or a package version of that release."""
    version = _kube_setting(model, "kubernetes_version", problems)
    if version is not _SKIP and not (
        isinstance(version, str) and _KUBERNETES_VERSION.fullmatch(version)
    ):
        problems.append(
            f"kubernetes_version {core.show(version)} is not a supported release "
            f"({KUBERNETES_SUPPORTED}, written like v1.34.12); pin one in {_KUBERNETES_FILE}"
        )
        version = _SKIP
    source = _kube_setting(model, "kubernetes_source", problems)
    if source is _SKIP:
        return
    if source not in KUBERNETES_SOURCES:
        problems.append(
            f"kubernetes_source {core.show(source)} is not packages or mirror; use packages (the "
            "Kubernetes apt repository) or mirror (files on a site mirror checked against "
            "kubernetes_checksums)"
        )
    elif source == "mirror":
        _kube_mirror(model, version, problems)
    else:
        package = _kube_setting(model, "kubernetes_package_version", problems)
        if version is _SKIP or package is _SKIP:
            return
        release = version[1:]
        if not isinstance(package, str) or not package.startswith(f"{release}-"):
            problems.append(
                f"kubernetes_package_version {core.show(package)} is not a package of "
                f"kubernetes_version {version}; use '{release}-<revision>' (e.g. "
                f"'{release}-1.1') or remove it (the role derives it from kubernetes_version)"
            )


def _kube_etcd_version(model: InventoryModel, problems: list[str]) -> None:
    """The external etcd kubeadm will find: its preflight refuses one older than 3.5.24."""
    minimum = ".".join(str(part) for part in KUBEADM_MIN_EXTERNAL_ETCD)
    method = model.site.get("etcd_install_method")
    if method == "debian" and "etcd_install_method" not in model.unresolved:
        problems.append(
            "etcd_install_method debian installs Debian's etcd 3.4, and kubeadm "
            f"(kube_control_plane has hosts) refuses an external etcd older than {minimum}; set "
            f"etcd_install_method: release with etcd_release_version {minimum} or newer in "
            "group_vars/all/etcd.yml"
        )
    elif method == "release" and "etcd_release_version" not in model.unresolved:
        version = model.site.get("etcd_release_version")
        if (
            isinstance(version, str)
            and _ETCD_VERSION.match(version)
            and tuple(int(part) for part in version.split(".")) < KUBEADM_MIN_EXTERNAL_ETCD
        ):
            problems.append(
                f"etcd_release_version {version} is older than {minimum}, the oldest "
                "external etcd kubeadm accepts (kube_control_plane has hosts); pin "
                f"{minimum} or newer (with its etcd_release_sha256) in group_vars/all/etcd.yml"
            )


def _kube_mirror(model: InventoryModel, version: Any, problems: list[str]) -> None:
    url = _kube_setting(model, "kubernetes_mirror_url", problems)
    if url is not _SKIP and not (
        isinstance(url, str)
        and any(url.startswith(s) and len(url) > len(s) for s in _MIRROR_SCHEMES)
    ):
        problems.append(
            f"kubernetes_mirror_url {core.show(url)} is not an http://, https:// or file:// URL; "
            "with kubernetes_source mirror set it to the mirror that holds "
            "<version>/bin/ and <version>/images/"
        )
    checksums = _kube_setting(model, "kubernetes_checksums", problems)
    if checksums is _SKIP or version is _SKIP:
        return
    if not isinstance(checksums, Mapping):
        problems.append(
            f"kubernetes_checksums: expected a mapping of version -> {{file: sha256}}, "
            f"{core._got(checksums)}; write it as {{{version}: {{bin/kubeadm: <sha256>, ...}}}}"
        )
        return
    if version not in checksums:
        problems.append(
            f"kubernetes_checksums has no entry for kubernetes_version {version}; with "
            f"kubernetes_source mirror add {version}: {{<file>: <sha256>}} for each file on "
            f"the mirror ({', '.join(KUBERNETES_MIRROR_FILES)})"
        )
        return
    entry = checksums[version]
    label = f"kubernetes_checksums[{version}]"
    if not isinstance(entry, Mapping):
        problems.append(
            f"{label}: expected a mapping of file -> sha256, {core._got(entry)}; write it as "
            "{bin/kubeadm: <sha256>, ...}"
        )
        return
    missing = [name for name in KUBERNETES_MIRROR_FILES if name not in entry]
    if missing:
        problems.append(
            f"{label} has no sha256 for {core.join_and(missing)}; add the sha256 of each of "
            "those files on the mirror"
        )
    malformed = [
        name
        for name in KUBERNETES_MIRROR_FILES
        if name in entry and not (isinstance(entry[name], str) and _SHA256.match(entry[name]))
    ]
    if malformed:
        problems.append(
            f"{label}: the value for {core.join_and(malformed)} is not a sha256 (64 lowercase hex "
            "digits); copy each from sha256sum of the file on the mirror"
        )


def _kube_lustre_clients(model: InventoryModel, problems: list[str]) -> None:
    """With Lustre at the site, every worker mounts it (the users' homes)."""
    targets = model.site.get("lustre_targets")
    if "lustre_targets" in model.unresolved or not core._is_list(targets) or not targets:
        return
    clients = set(core._group(model, "lustre_client"))
    missing = [host for host in core._group(model, "kube_node") if host not in clients]
    if missing:
        which = "host" if len(missing) == 1 else "hosts"
        verb = "is" if len(missing) == 1 else "are"
        problems.append(
            f"kube_node {which} {core.join_and(missing)} {verb} not in lustre_client; notebooks "
            "and Dask workers need the users' homes on Lustre: add every kube_node host to "
            "lustre_client in hosts.yml"
        )


def _kube_namespaces(model: InventoryModel, problems: list[str]) -> None:
    value = _kube_setting(model, "kubernetes_user_namespaces", problems)
    if value is _SKIP:
        return
    if not core._is_list(value):
        problems.append(
            f"kubernetes_user_namespaces: expected a list of namespace names, {core._got(value)}; "
            "write it as e.g. [hub-science]"
        )
        return
    for position, name in enumerate(value):
        label = f"kubernetes_user_namespaces[{position}]"
        if not isinstance(name, str) or not _DNS_1123_LABEL.fullmatch(name):
            problems.append(
                f"{label} {core.show(name)} is not a namespace name (up to 63 lowercase letters, "
                "digits and '-', starting and ending with a letter or digit); rename it"
            )
        elif name in KUBERNETES_SYSTEM_NAMESPACES:
            problems.append(
                f"{label} '{name}' is one of Kubernetes' own namespaces "
                f"({', '.join(KUBERNETES_SYSTEM_NAMESPACES)}); users' workloads need a "
                "namespace of their own (e.g. hub-science): remove it"
            )


def check_kubernetes(model: InventoryModel) -> list[str]:
    """The Kubernetes layer, when kube_control_plane or kube_node has hosts: an HA control
    plane, workers and external etcd; the API's VIP on kube_control_plane; pod and service
    subnets apart from the site's networks and VIPs with room for every node; a supported
    version and what its source needs; workers that mount Lustre; users' namespaces."""
    if not core._kubernetes_configured(model):
        return []
    problems: list[str] = []
    _kube_groups(model, problems)
    _kube_vip(model, problems)
    _kube_networks(model, problems)
    _kube_source(model, problems)
    _kube_etcd_version(model, problems)
    _kube_lustre_clients(model, problems)
    _kube_namespaces(model, problems)
    return problems
