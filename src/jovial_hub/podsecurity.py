"""Pod Security Standards, "restricted" profile (which includes "baseline"), as a pure check.

Kubernetes' Pod Security admission rejects a non-compliant pod in a namespace labelled
``pod-security.kubernetes.io/enforce: restricted``; this module finds the same problems before
anything reaches a cluster (unit tests, the role's rendered manifests, the spawner's
modify_pod_hook), each with the field path to fix. Rules as published for Kubernetes 1.31
(https://kubernetes.io/docs/concepts/security/pod-security-standards/).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Violation", "check_object", "check_pod_spec"]

# Baseline: sysctls that are namespaced and isolated (safe).
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
# Baseline: SELinux types a pod may ask for; user and role must stay unset.
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
# Restricted: the only volume sources allowed.
VOLUME_TYPES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
SECCOMP_TYPES = frozenset({"RuntimeDefault", "Localhost"})
APPARMOR_TYPES = frozenset({"RuntimeDefault", "Localhost"})
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
# Kinds whose pod template lives at spec.template.spec (CronJob: spec.jobTemplate.spec...).
WORKLOAD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"}
)


@dataclass(frozen=True)
class Violation:
    """One broken rule: the field path (as kubectl explain would name it) and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _get(obj: Mapping[str, Any] | None, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _check_security_context_common(sc: Mapping[str, Any] | None, path: str) -> list[Violation]:
    """Rules that apply the same way to the pod's and to each container's securityContext."""
    out: list[Violation] = []
    if _get(sc, "windowsOptions", "hostProcess"):
        out.append(Violation(f"{path}.windowsOptions.hostProcess", "must be unset or false"))
    if _get(sc, "runAsUser") == 0:
        out.append(Violation(f"{path}.runAsUser", "must not be 0 (root)"))
    se = _get(sc, "seLinuxOptions") or {}
    if se.get("type", "") not in SELINUX_TYPES:
        out.append(
            Violation(
                f"{path}.seLinuxOptions.type",
                f"{se['type']!r} is not allowed (use one of {sorted(SELINUX_TYPES - {''})})",
            )
        )
    for key in ("user", "role"):
        if se.get(key):
            out.append(Violation(f"{path}.seLinuxOptions.{key}", "must be unset"))
    seccomp = _get(sc, "seccompProfile", "type")
    if seccomp is not None and seccomp not in SECCOMP_TYPES:
        out.append(
            Violation(
                f"{path}.seccompProfile.type", f"{seccomp!r}: must be RuntimeDefault or Localhost"
            )
        )
    apparmor = _get(sc, "appArmorProfile", "type")
    if apparmor is not None and apparmor not in APPARMOR_TYPES:
        out.append(
            Violation(
                f"{path}.appArmorProfile.type", f"{apparmor!r}: must be RuntimeDefault or Localhost"
            )
        )
    return out


def _check_container(
    container: Mapping[str, Any], path: str, pod_non_root: bool, pod_seccomp: bool
) -> list[Violation]:
    sc = container.get("securityContext") or {}
    scp = f"{path}.securityContext"
    out = _check_security_context_common(sc, scp)
    if sc.get("privileged"):
        out.append(Violation(f"{scp}.privileged", "must be unset or false"))
    if sc.get("allowPrivilegeEscalation") is not False:
        out.append(Violation(f"{scp}.allowPrivilegeEscalation", "must be false"))
    if sc.get("procMount", "Default") != "Default":
        out.append(Violation(f"{scp}.procMount", f"{sc['procMount']!r}: must be Default"))
    non_root = sc.get("runAsNonRoot")
    if non_root is False or (non_root is None and not pod_non_root):
        out.append(
            Violation(
                f"{scp}.runAsNonRoot",
                "must be true (here or in spec.securityContext, and not false here)",
            )
        )
    if _get(sc, "seccompProfile", "type") is None and not pod_seccomp:
        out.append(
            Violation(
                f"{scp}.seccompProfile.type",
                "must be RuntimeDefault or Localhost (here or in spec.securityContext)",
            )
        )
    caps = sc.get("capabilities") or {}
    if "ALL" not in (caps.get("drop") or []):
        out.append(Violation(f"{scp}.capabilities.drop", "must include ALL"))
    extra = [c for c in caps.get("add") or [] if c != "NET_BIND_SERVICE"]
    if extra:
        out.append(
            Violation(f"{scp}.capabilities.add", f"{extra}: only NET_BIND_SERVICE may be added")
        )
    for i, port in enumerate(container.get("ports") or []):
        if port.get("hostPort"):
            out.append(Violation(f"{path}.ports[{i}].hostPort", "must be unset or 0"))
    return out


def check_pod_spec(
    spec: Mapping[str, Any],
    path: str = "spec",
    annotations: Mapping[str, str] | None = None,
) -> list[Violation]:
    """Every violation of the restricted profile in a pod spec (``annotations`` are the pod's
    metadata annotations, for the AppArmor ones). An empty list means compliant."""
    out: list[Violation] = []
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key):
            out.append(Violation(f"{path}.{key}", "must be unset or false"))
    psc = spec.get("securityContext") or {}
    pscp = f"{path}.securityContext"
    out += _check_security_context_common(psc, pscp)
    if psc.get("runAsNonRoot") is False:
        out.append(Violation(f"{pscp}.runAsNonRoot", "must not be false"))
    for i, sysctl in enumerate(psc.get("sysctls") or []):
        if sysctl.get("name") not in SAFE_SYSCTLS:
            out.append(
                Violation(
                    f"{pscp}.sysctls[{i}].name", f"{sysctl.get('name')!r} is not a safe sysctl"
                )
            )
    for i, volume in enumerate(spec.get("volumes") or []):
        kinds = [k for k in volume if k != "name"]
        for kind in kinds:
            if kind not in VOLUME_TYPES:
                out.append(
                    Violation(
                        f"{path}.volumes[{i}].{kind}",
                        f"volume {volume.get('name')!r}: {kind} volumes are not allowed "
                        f"(allowed: {', '.join(sorted(VOLUME_TYPES))})",
                    )
                )
    for key, value in (annotations or {}).items():
        if key.startswith(APPARMOR_ANNOTATION) and not (
            value == "runtime/default" or value.startswith("localhost/")
        ):
            out.append(
                Violation(
                    f"metadata.annotations[{key}]",
                    f"{value!r}: must be runtime/default or localhost/*",
                )
            )
    pod_non_root = psc.get("runAsNonRoot") is True
    pod_seccomp = _get(psc, "seccompProfile", "type") in SECCOMP_TYPES
    for list_name in CONTAINER_LISTS:
        for i, container in enumerate(spec.get(list_name) or []):
            out += _check_container(
                container, f"{path}.{list_name}[{i}]", pod_non_root, pod_seccomp
            )
    return out


def check_object(obj: Mapping[str, Any]) -> list[Violation]:
    """Check a Kubernetes object that runs pods (Pod, Deployment and other workloads, CronJob);
    other kinds have no pod and give no violations."""
    kind = obj.get("kind")
    if kind == "Pod":
        return check_pod_spec(obj.get("spec") or {}, "spec", _get(obj, "metadata", "annotations"))
    if kind in WORKLOAD_KINDS:
        template = _get(obj, "spec", "template") or {}
        return check_pod_spec(
            template.get("spec") or {},
            "spec.template.spec",
            _get(template, "metadata", "annotations"),
        )
    if kind == "CronJob":
        template = _get(obj, "spec", "jobTemplate", "spec", "template") or {}
        return check_pod_spec(
            template.get("spec") or {},
            "spec.jobTemplate.spec.template.spec",
            _get(template, "metadata", "annotations"),
        )
    return []
