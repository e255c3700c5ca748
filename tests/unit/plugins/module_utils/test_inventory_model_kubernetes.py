"""check_kubernetes (plugins/module_utils/inventory_kubernetes.py): the Kubernetes layer's
inventory.

The base model is the core test model (test_inventory_model.BASE) with a Kubernetes cluster
added the way inventories/sample has one: three control-plane nodes behind the kube-apiserver
VIP, two workers that mount Lustre, and the kubernetes_* settings as the action plugin passes
them (the inventory's values, else the role's defaults). Each case changes it one way and
states the exact problems the whole validation must produce, no more and no fewer.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils import inventory_kubernetes as kubernetes
from ansible.module_utils import inventory_model as im
from test_inventory_model import BASE as CORE

SHA = "0123456789abcdef" * 4
KUBE_HOSTS = {
    "kcp1": "10.77.0.61",
    "kcp2": "10.77.0.62",
    "kcp3": "10.77.0.63",
    "cn1": "10.77.0.71",
    "cn2": "10.77.0.72",
}
BASE: dict[str, Any] = copy.deepcopy(CORE)
BASE["groups"]["all"] += sorted(KUBE_HOSTS)
BASE["groups"]["kube_control_plane"] = ["kcp1", "kcp2", "kcp3"]
BASE["groups"]["kube_node"] = ["cn1", "cn2"]
BASE["groups"]["lustre_client"] += ["cn1", "cn2"]
BASE["hosts"].update({name: {"jovial_address": addr} for name, addr in KUBE_HOSTS.items()})
BASE["site"]["jovial_vips"].append(
    {
        "name": "kube-apiserver",
        "address": "10.77.0.102",
        "network": "mgmt",
        "group": "kube_control_plane",
        "virtual_router_id": 52,
    }
)
BASE["site"].update(
    {
        "kubernetes_version": "v1.34.12",
        "kubernetes_apiserver_vip_name": "kube-apiserver",
        "kubernetes_pod_subnet": "10.244.0.0/16",
        "kubernetes_service_subnet": "10.96.0.0/12",
        "kubernetes_node_cidr_mask": 24,
        "kubernetes_source": "packages",
        "kubernetes_mirror_url": "",
        "kubernetes_checksums": {},
        "kubernetes_package_version": "1.34.12-1.1",
        "kubernetes_user_namespaces": ["hub-science", "hub-teaching"],
        # kubeadm needs an external etcd of 3.5.24 or newer: a pinned release
        "etcd_install_method": "release",
        "etcd_release_version": "3.5.24",
        "etcd_release_sha256": SHA,
        "etcd_release_source": "/srv/jovial/mirror/etcd/etcd-v3.5.24-linux-amd64.tar.gz",
    }
)
DELETE = object()


def build(changes: dict[str, Any] | None = None) -> im.InventoryModel:
    """The base model with changes applied: {"site.jovial_vips.1.group": "proxy"}."""
    data = copy.deepcopy(BASE)
    for path, value in (changes or {}).items():
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return im.InventoryModel(**data)


def test_the_base_cluster_is_valid() -> None:
    assert im.validate(build()) == []


def test_the_check_is_registered_with_its_variables() -> None:
    assert im.check_kubernetes in im.CHECKERS
    assert im.ROLE_DEFAULTS["kubernetes"] == im.KUBERNETES_SETTINGS
    for names in im.ROLE_DEFAULTS.values():
        assert set(names) <= set(im.SITE_VARIABLES)
    assert "lustre_targets" in im.SITE_VARIABLES


def test_the_mirror_files_are_those_the_role_fetches(repo_root: Path) -> None:
    """KUBERNETES_MIRROR_FILES follows the role's lists of binaries and images (vars/main.yml):
    a file the role fetches without a checked sha256 would fail only on the nodes."""
    role_vars = yaml.safe_load((repo_root / "roles/kubernetes/vars/main.yml").read_text())
    images = role_vars["__kubernetes_cp_images"] + role_vars["__kubernetes_node_images"]
    fetched = [f"bin/{name}" for name in role_vars["__kubernetes_binaries"]]
    fetched += [f"images/{name}.tar" for name in images]
    assert sorted(kubernetes.KUBERNETES_MIRROR_FILES) == sorted(fetched)


CHECKSUMS = {name: SHA for name in kubernetes.KUBERNETES_MIRROR_FILES}
MIRROR = {
    "site.kubernetes_source": "mirror",
    "site.kubernetes_mirror_url": "file:///srv/jovial/kube",
    "site.kubernetes_checksums": {"v1.34.12": CHECKSUMS},
}
NOT_SET = (
    "is not set and the kubernetes role has no default for it; set it in "
    "group_vars/all/kubernetes.yml (roles/kubernetes/defaults/main.yml describes it)"
)
HA = (
    "one control-plane node is a single point of failure for the whole cluster: put two or more "
    "(three is usual) hosts in kube_control_plane in hosts.yml"
)
UNSUPPORTED = (
    "is not a supported release (v1.34 to v1.37, written like v1.34.12); pin one in "
    "group_vars/all/kubernetes.yml"
)
SITE_NETWORK = (
    "nodes on that network would be unreachable from pods: pick a range no site network uses"
)
MIRROR_URL = (
    "is not an http://, https:// or file:// URL; with kubernetes_source mirror set it to the "
    "mirror that holds <version>/bin/ and <version>/images/"
)
NAMESPACE = (
    "is not a namespace name (up to 63 lowercase letters, digits and '-', starting and ending "
    "with a letter or digit); rename it"
)
SYSTEM_NAMESPACE = (
    "is one of Kubernetes' own namespaces (kube-system, kube-public, kube-node-lease, default); "
    "users' workloads need a namespace of their own (e.g. hub-science): remove it"
)

CASES = [
    # --- when the check applies
    pytest.param(
        {
            "groups.kube_control_plane": [],
            "groups.kube_node": [],
            "site.jovial_vips": CORE["site"]["jovial_vips"],
        },
        [],
        id="no-kubernetes-hosts-nothing-checked",
    ),
    pytest.param(
        {
            "groups.kube_control_plane": [],
            "groups.kube_node": [],
            "site.jovial_vips": CORE["site"]["jovial_vips"],
            "site.kubernetes_version": "v1.20.0",
            "site.kubernetes_pod_subnet": "10.77.0.0/24",
        },
        [],
        id="no-kubernetes-hosts-settings-ignored",
    ),
    pytest.param(MIRROR, [], id="mirror-source-valid"),
    pytest.param(
        {"site.kubernetes_version": "v1.37.0", "site.kubernetes_package_version": "1.37.0-1.1"},
        [],
        id="newest-supported-release",
    ),
    # --- topology: HA control plane, workers, external etcd
    pytest.param(
        {"groups.kube_control_plane": ["kcp1"]},
        [
            "jovial_vips[kube-apiserver]: group kube_control_plane has 1 host (kcp1); a VIP "
            "needs at least two hosts to move between; add a host to kube_control_plane",
            f"group kube_control_plane has 1 host (kcp1); {HA}",
        ],
        id="one-control-plane-node",
    ),
    pytest.param(
        {"groups.kube_control_plane": [], "site.jovial_vips": [CORE["site"]["jovial_vips"][0]]},
        [
            f"group kube_control_plane has 0 hosts (none); {HA}",
            "kubernetes: no jovial_vips entry is named 'kube-apiserver' "
            "(kubernetes_apiserver_vip_name); add the Kubernetes API's VIP to jovial_vips with "
            "group: kube_control_plane",
        ],
        id="workers-without-control-plane",
    ),
    pytest.param(
        {"groups.kube_node": []},
        [
            "group kube_node has no hosts; users' notebooks and Dask workers run on the "
            "Kubernetes workers: put the compute nodes in kube_node in hosts.yml"
        ],
        id="no-workers",
    ),
    pytest.param(
        {"groups.etcd": [], "site.etcd_members": DELETE},
        [
            "etcd_members has 0 hosts (none); etcd needs 3, 5 or 7 members (an odd number, for "
            "quorum); change group etcd (or etcd_members)",
            "group etcd has no hosts; the Kubernetes control plane stores its state in the "
            "external etcd cluster: put 3 hosts in etcd in hosts.yml",
        ],
        id="no-etcd",
    ),
    # --- the API's VIP
    pytest.param(
        {"site.kubernetes_apiserver_vip_name": "k8s-api"},
        [
            "kubernetes: no jovial_vips entry is named 'k8s-api' (kubernetes_apiserver_vip_name); "
            "add the Kubernetes API's VIP to jovial_vips with group: kube_control_plane"
        ],
        id="vip-name-unknown",
    ),
    pytest.param(
        {"site.jovial_vips.1.group": "proxy"},
        [
            "jovial_vips[kube-apiserver]: carried by group proxy, not kube_control_plane; the "
            "Kubernetes API's VIP must move between the control-plane nodes (HAProxy in front of "
            "kube-apiserver runs there): set its group to kube_control_plane"
        ],
        id="vip-carried-by-proxy",
    ),
    pytest.param(
        {"site.jovial_vips.1.group": "kube_masters"},
        [
            "jovial_vips[kube-apiserver]: group 'kube_masters' is not an inventory group; set it "
            "to the group whose hosts carry the VIP"
        ],
        id="vip-group-unknown-reported-once",
    ),
    pytest.param(
        {"site.kubernetes_apiserver_vip_name": ""},
        [
            "kubernetes_apiserver_vip_name '' is not a VIP name; set it to the name of the "
            "Kubernetes API's jovial_vips entry (e.g. kube-apiserver)"
        ],
        id="vip-name-empty",
    ),
    # --- pod and service subnets
    pytest.param(
        {
            "site.kubernetes_pod_subnet": "10.244.0.0",
            "site.kubernetes_service_subnet": "10.96.0.1/12",
        },
        [
            "kubernetes_pod_subnet '10.244.0.0' is not a network in address/prefix form (e.g. "
            "10.77.0.0/24)",
            "kubernetes_service_subnet '10.96.0.1/12' has host bits set; use 10.96.0.0/12",
        ],
        id="subnets-malformed",
    ),
    pytest.param(
        {"site.kubernetes_pod_subnet": "fd00:10:244::/56", "site.kubernetes_service_subnet": 12},
        [
            "kubernetes_pod_subnet 'fd00:10:244::/56' is not an IPv4 network; Jovial's clusters "
            "are IPv4 only: use a private IPv4 range no site network uses",
            "kubernetes_service_subnet 12 is not a network in address/prefix form (e.g. "
            "10.77.0.0/24)",
        ],
        id="subnets-ipv6-and-integer",
    ),
    pytest.param(
        {"site.kubernetes_service_subnet": "10.244.128.0/20"},
        [
            "kubernetes_service_subnet 10.244.128.0/20 overlaps kubernetes_pod_subnet "
            "10.244.0.0/16; pods and Services need separate ranges: move one of them"
        ],
        id="subnets-overlap-each-other",
    ),
    pytest.param(
        {"site.kubernetes_pod_subnet": "10.76.0.0/15"},
        [
            "kubernetes_pod_subnet 10.76.0.0/15 overlaps jovial_networks[mgmt] (10.77.0.0/24); "
            f"{SITE_NETWORK}"
        ],
        id="pod-subnet-holds-the-site-network-and-its-vips",
    ),
    pytest.param(
        {"site.kubernetes_service_subnet": "10.77.0.128/25"},
        [
            "kubernetes_service_subnet 10.77.0.128/25 overlaps jovial_networks[mgmt] "
            f"(10.77.0.0/24); {SITE_NETWORK}"
        ],
        id="service-subnet-inside-the-site-network",
    ),
    pytest.param(
        {"site.jovial_vips.0.address": "10.96.0.10"},
        [
            "jovial_vips[proxy]: address '10.96.0.10' is outside network mgmt (10.77.0.0/24); "
            "pick a free address inside it",
            "kubernetes_service_subnet 10.96.0.0/12 holds the address 10.96.0.10 of "
            "jovial_vips[proxy]; that VIP would be unreachable from pods: pick a range without "
            "any VIP",
        ],
        id="service-subnet-holds-a-vip",
    ),
    # --- per-node pod ranges
    pytest.param(
        {"site.kubernetes_node_cidr_mask": "24"},
        [
            "kubernetes_node_cidr_mask '24' is not an integer; set the prefix length of each "
            "node's pod range (e.g. 24)"
        ],
        id="mask-string",
    ),
    pytest.param(
        {"site.kubernetes_node_cidr_mask": 16},
        [
            "kubernetes_node_cidr_mask 16 must be larger than the prefix of kubernetes_pod_subnet "
            "10.244.0.0/16 and at most 28: each node gets a /<mask> of the pod subnet (a /28 "
            "holds 14 pods); use e.g. 24 with a /16"
        ],
        id="mask-not-longer-than-subnet",
    ),
    pytest.param(
        {"site.kubernetes_node_cidr_mask": 29},
        [
            "kubernetes_node_cidr_mask 29 must be larger than the prefix of kubernetes_pod_subnet "
            "10.244.0.0/16 and at most 28: each node gets a /<mask> of the pod subnet (a /28 "
            "holds 14 pods); use e.g. 24 with a /16"
        ],
        id="mask-too-long",
    ),
    pytest.param(
        {"site.kubernetes_pod_subnet": "10.244.0.0/22"},
        [
            "kubernetes_pod_subnet 10.244.0.0/22 holds 4 node ranges of /24 "
            "(kubernetes_node_cidr_mask) but kube_control_plane and kube_node have 5 nodes; use "
            "a larger pod subnet or a longer mask"
        ],
        id="pod-subnet-too-small-for-the-nodes",
    ),
    pytest.param(
        {"site.kubernetes_pod_subnet": "10.244.0.0/22", "site.kubernetes_node_cidr_mask": 25},
        [],
        id="pod-subnet-small-but-mask-longer",
    ),
    pytest.param(
        {
            "site.kubernetes_pod_subnet": "10.244.0.0/22",
            "groups.kube_node": ["kcp3", "cn1"],
            "groups.lustre_client": ["hub1", "kcp3", "cn1"],
        },
        [],
        id="a-node-in-both-groups-counts-once",
    ),
    # --- version
    pytest.param(
        {"site.kubernetes_version": "v1.33.5"},
        [f"kubernetes_version 'v1.33.5' {UNSUPPORTED}"],
        id="version-too-old",
    ),
    pytest.param(
        {"site.kubernetes_version": "v1.38.0"},
        [f"kubernetes_version 'v1.38.0' {UNSUPPORTED}"],
        id="version-too-new",
    ),
    pytest.param(
        {"site.kubernetes_version": "1.34.12"},
        [f"kubernetes_version '1.34.12' {UNSUPPORTED}"],
        id="version-without-v",
    ),
    pytest.param(
        {"site.kubernetes_version": "v1.34"},
        [f"kubernetes_version 'v1.34' {UNSUPPORTED}"],
        id="version-without-patch",
    ),
    pytest.param(
        {"site.kubernetes_version": "v1.34.12\n"},
        [f"kubernetes_version 'v1.34.12\n' {UNSUPPORTED}"],
        id="version-trailing-newline",
    ),
    pytest.param(
        {"site.kubernetes_version": 1.34},
        [f"kubernetes_version 1.34 {UNSUPPORTED}"],
        id="version-number",
    ),
    # --- source
    pytest.param(
        {"site.kubernetes_source": "tarball"},
        [
            "kubernetes_source 'tarball' is not packages or mirror; use packages (the Kubernetes "
            "apt repository) or mirror (files on a site mirror checked against "
            "kubernetes_checksums)"
        ],
        id="source-unknown",
    ),
    pytest.param(
        {"site.kubernetes_package_version": "1.35.0-1.1"},
        [
            "kubernetes_package_version '1.35.0-1.1' is not a package of kubernetes_version "
            "v1.34.12; use '1.34.12-<revision>' (e.g. '1.34.12-1.1') or remove it (the role "
            "derives it from kubernetes_version)"
        ],
        id="package-of-another-release",
    ),
    pytest.param(
        {"site.kubernetes_package_version": "1.34.1-1.1"},
        [
            "kubernetes_package_version '1.34.1-1.1' is not a package of kubernetes_version "
            "v1.34.12; use '1.34.12-<revision>' (e.g. '1.34.12-1.1') or remove it (the role "
            "derives it from kubernetes_version)"
        ],
        id="package-of-a-prefix-release",
    ),
    pytest.param(
        {"site.kubernetes_package_version": "1.34.12"},
        [
            "kubernetes_package_version '1.34.12' is not a package of kubernetes_version "
            "v1.34.12; use '1.34.12-<revision>' (e.g. '1.34.12-1.1') or remove it (the role "
            "derives it from kubernetes_version)"
        ],
        id="package-without-revision",
    ),
    pytest.param(
        {"site.kubernetes_version": "v1.30.1", "site.kubernetes_package_version": "1.30.1-1.1"},
        [f"kubernetes_version 'v1.30.1' {UNSUPPORTED}"],
        id="unsupported-version-reported-once",
    ),
    pytest.param(
        {"site.kubernetes_package_version": "1.35.0-1.1", "site.kubernetes_source": "mirror"},
        [
            "kubernetes_mirror_url '' is not an http://, https:// or file:// URL; with "
            "kubernetes_source mirror set it to the mirror that holds <version>/bin/ and "
            "<version>/images/",
            "kubernetes_checksums has no entry for kubernetes_version v1.34.12; with "
            "kubernetes_source mirror add v1.34.12: {<file>: <sha256>} for each file on the "
            "mirror (bin/kubeadm, bin/kubelet, bin/kubectl, bin/crictl, "
            "images/kube-apiserver.tar, images/kube-controller-manager.tar, "
            "images/kube-scheduler.tar, images/kube-proxy.tar, images/pause.tar, "
            "images/coredns.tar, images/kube-router.tar)",
        ],
        id="mirror-without-url-or-checksums",
    ),
    pytest.param(
        {**MIRROR, "site.kubernetes_mirror_url": "ftp://mirror.obs.example.org/kube"},
        [f"kubernetes_mirror_url 'ftp://mirror.obs.example.org/kube' {MIRROR_URL}"],
        id="mirror-url-ftp",
    ),
    pytest.param(
        {**MIRROR, "site.kubernetes_mirror_url": "https://"},
        [f"kubernetes_mirror_url 'https://' {MIRROR_URL}"],
        id="mirror-url-scheme-only",
    ),
    pytest.param(
        {**MIRROR, "site.kubernetes_mirror_url": "/srv/jovial/kube"},
        [f"kubernetes_mirror_url '/srv/jovial/kube' {MIRROR_URL}"],
        id="mirror-url-a-path",
    ),
    pytest.param(
        {**MIRROR, "site.kubernetes_mirror_url": "https://mirror.obs.example.org/kube"},
        [],
        id="mirror-url-https",
    ),
    pytest.param(
        {**MIRROR, "site.kubernetes_checksums": ["v1.34.12"]},
        [
            "kubernetes_checksums: expected a mapping of version -> {file: sha256}, got a list "
            "(['v1.34.12']); write it as {v1.34.12: {bin/kubeadm: <sha256>, ...}}"
        ],
        id="checksums-a-list",
    ),
    pytest.param(
        {**MIRROR, "site.kubernetes_checksums": {"v1.34.12": SHA}},
        [
            "kubernetes_checksums[v1.34.12]: expected a mapping of file -> sha256, got a string "
            f"('{SHA[:57]}...'); write it as {{bin/kubeadm: <sha256>, ...}}"
        ],
        id="checksums-entry-not-a-mapping",
    ),
    pytest.param(
        {
            **MIRROR,
            "site.kubernetes_checksums": {
                "v1.34.12": {
                    k: v
                    for k, v in CHECKSUMS.items()
                    if k not in ("bin/kubectl", "images/pause.tar", "images/kube-router.tar")
                }
            },
        },
        [
            "kubernetes_checksums[v1.34.12] has no sha256 for bin/kubectl, images/pause.tar and "
            "images/kube-router.tar; add the sha256 of each of those files on the mirror"
        ],
        id="checksums-missing-files-in-one-message",
    ),
    pytest.param(
        {
            **MIRROR,
            "site.kubernetes_checksums": {
                "v1.34.12": {**CHECKSUMS, "bin/kubeadm": SHA.upper(), "bin/crictl": "sha256:x"}
            },
        },
        [
            "kubernetes_checksums[v1.34.12]: the value for bin/kubeadm and bin/crictl is not a "
            "sha256 (64 lowercase hex digits); copy each from sha256sum of the file on the mirror"
        ],
        id="checksums-malformed",
    ),
    pytest.param(
        {
            **MIRROR,
            "site.kubernetes_version": "v1.35.1",
            "site.kubernetes_package_version": "1.35.1-1.1",
        },
        [
            "kubernetes_checksums has no entry for kubernetes_version v1.35.1; with "
            "kubernetes_source mirror add v1.35.1: {<file>: <sha256>} for each file on the "
            "mirror (bin/kubeadm, bin/kubelet, bin/kubectl, bin/crictl, "
            "images/kube-apiserver.tar, images/kube-controller-manager.tar, "
            "images/kube-scheduler.tar, images/kube-proxy.tar, images/pause.tar, "
            "images/coredns.tar, images/kube-router.tar)"
        ],
        id="checksums-of-another-version",
    ),
    pytest.param(
        {**MIRROR, "site.kubernetes_version": "v1.33.0"},
        [f"kubernetes_version 'v1.33.0' {UNSUPPORTED}"],
        id="mirror-with-unsupported-version",
    ),
    # --- workers mount Lustre
    pytest.param(
        {"groups.lustre_client": ["hub1", "cn2"]},
        [
            "kube_node host cn1 is not in lustre_client; notebooks and Dask workers need the "
            "users' homes on Lustre: add every kube_node host to lustre_client in hosts.yml"
        ],
        id="worker-without-lustre",
    ),
    pytest.param(
        {"groups.lustre_client": ["hub1"]},
        [
            "kube_node hosts cn1 and cn2 are not in lustre_client; notebooks and Dask workers "
            "need the users' homes on Lustre: add every kube_node host to lustre_client in "
            "hosts.yml"
        ],
        id="workers-without-lustre",
    ),
    pytest.param(
        {
            "groups.lustre_client": [],
            "groups.lustre_mgs": [],
            "groups.lustre_mds": [],
            "groups.lustre_oss": [],
            "site.lustre_targets": [],
        },
        [],
        id="no-lustre-at-the-site",
    ),
    # --- users' namespaces
    pytest.param(
        {"site.kubernetes_user_namespaces": "hub-science"},
        [
            "kubernetes_user_namespaces: expected a list of namespace names, got a string "
            "('hub-science'); write it as e.g. [hub-science]"
        ],
        id="namespaces-a-string",
    ),
    pytest.param(
        {"site.kubernetes_user_namespaces": []},
        [],
        id="namespaces-none",
    ),
    pytest.param(
        {
            "site.kubernetes_user_namespaces": [
                "Hub-Science",
                "hub_teaching",
                "-hub",
                "h" * 64,
                7,
                "42-lab",
            ]
        },
        [
            f"kubernetes_user_namespaces[0] 'Hub-Science' {NAMESPACE}",
            f"kubernetes_user_namespaces[1] 'hub_teaching' {NAMESPACE}",
            f"kubernetes_user_namespaces[2] '-hub' {NAMESPACE}",
            f"kubernetes_user_namespaces[3] '{'h' * 57}...' {NAMESPACE}",
            f"kubernetes_user_namespaces[4] 7 {NAMESPACE}",
        ],
        id="namespaces-not-dns-1123-labels",
    ),
    pytest.param(
        {"site.kubernetes_user_namespaces": ["hub-science", "kube-system", "default"]},
        [
            f"kubernetes_user_namespaces[1] 'kube-system' {SYSTEM_NAMESPACE}",
            f"kubernetes_user_namespaces[2] 'default' {SYSTEM_NAMESPACE}",
        ],
        id="namespaces-of-kubernetes-itself",
    ),
    pytest.param(
        {"site.kubernetes_user_namespaces": ["kube-public", "kube-node-lease"]},
        [
            f"kubernetes_user_namespaces[0] 'kube-public' {SYSTEM_NAMESPACE}",
            f"kubernetes_user_namespaces[1] 'kube-node-lease' {SYSTEM_NAMESPACE}",
        ],
        id="namespaces-public-and-lease",
    ),
    # --- the external etcd kubeadm will find
    pytest.param(
        {"site.etcd_install_method": "debian"},
        [
            "etcd_install_method debian installs Debian's etcd 3.4, and kubeadm "
            "(kube_control_plane has hosts) refuses an external etcd older than 3.5.24; set "
            "etcd_install_method: release with etcd_release_version 3.5.24 or newer in "
            "group_vars/all/etcd.yml"
        ],
        id="etcd-from-debian",
    ),
    pytest.param(
        {"site.etcd_release_version": "3.5.23"},
        [
            "etcd_release_version 3.5.23 is older than 3.5.24, the oldest external etcd "
            "kubeadm accepts (kube_control_plane has hosts); pin 3.5.24 or newer (with its "
            "etcd_release_sha256) in group_vars/all/etcd.yml"
        ],
        id="etcd-release-too-old",
    ),
    pytest.param({"site.etcd_release_version": "3.6.8"}, [], id="etcd-3.6-accepted"),
    # --- settings that are not there or could not be templated
    pytest.param(
        {"site.kubernetes_version": DELETE, "site.kubernetes_pod_subnet": DELETE},
        [f"kubernetes_pod_subnet {NOT_SET}", f"kubernetes_version {NOT_SET}"],
        id="settings-without-default",
    ),
    pytest.param(
        {
            "site.kubernetes_version": DELETE,
            "unresolved": {"kubernetes_version": "AnsibleUndefinedVariable: 'kube_v' is undefined"},
        },
        [
            "kubernetes_version could not be templated (AnsibleUndefinedVariable: 'kube_v' is "
            "undefined); fix its value in group_vars/all"
        ],
        id="version-unresolved",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), CASES)
def test_broken_cluster_reports_exactly(changes: dict[str, Any], expected: list[str]) -> None:
    assert im.validate(build(changes)) == expected


def test_every_kubernetes_problem_at_once() -> None:
    problems = im.check_kubernetes(
        build(
            {
                "groups.kube_control_plane": ["kcp1"],
                "groups.lustre_client": ["hub1"],
                "site.jovial_vips.1.group": "proxy",
                "site.kubernetes_pod_subnet": "10.77.0.0/16",
                "site.kubernetes_version": "v1.29.0",
                "site.kubernetes_source": "mirror",
                "site.kubernetes_user_namespaces": ["default"],
            }
        )
    )
    assert [p.split(" ")[0] for p in problems] == [
        "group",
        "jovial_vips[kube-apiserver]:",
        "kubernetes_pod_subnet",
        "kubernetes_version",
        "kubernetes_mirror_url",
        "kube_node",
        "kubernetes_user_namespaces[0]",
    ]
