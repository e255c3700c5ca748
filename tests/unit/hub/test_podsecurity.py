"""Pod Security Standards "restricted": compliant specs pass, each rule is caught with its
field path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from jovial_hub.podsecurity import check_object, check_pod_spec

COMPLIANT: dict[str, Any] = {
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 10002,
        "seccompProfile": {"type": "RuntimeDefault"},
        "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}],
    },
    "containers": [
        {
            "name": "notebook",
            "image": "notebook:1",
            "ports": [{"containerPort": 8888}],
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
            },
        }
    ],
    "volumes": [
        {"name": "home", "persistentVolumeClaim": {"claimName": "lustre-home"}},
        {"name": "tmp", "emptyDir": {}},
    ],
}


def spec_with(change) -> dict[str, Any]:
    spec = copy.deepcopy(COMPLIANT)
    change(spec)
    return spec


def container(spec):
    return spec["containers"][0]


def csc(spec):
    return container(spec)["securityContext"]


def test_compliant_spec_has_no_violation():
    assert check_pod_spec(COMPLIANT) == []


def test_container_level_settings_are_enough():
    def move_to_containers(spec):
        del spec["securityContext"]
        csc(spec).update(
            runAsNonRoot=True, seccompProfile={"type": "Localhost", "localhostProfile": "p.json"}
        )

    assert check_pod_spec(spec_with(move_to_containers)) == []


CASES = [
    (lambda s: s.update(hostNetwork=True), "spec.hostNetwork"),
    (lambda s: s.update(hostPID=True), "spec.hostPID"),
    (lambda s: s.update(hostIPC=True), "spec.hostIPC"),
    (lambda s: csc(s).update(privileged=True), "spec.containers[0].securityContext.privileged"),
    (
        lambda s: s["volumes"].append({"name": "h", "hostPath": {"path": "/lustre"}}),
        "spec.volumes[2].hostPath",
    ),
    (
        lambda s: s["volumes"].append({"name": "n", "nfs": {"server": "x", "path": "/"}}),
        "spec.volumes[2].nfs",
    ),
    (
        lambda s: container(s)["ports"][0].update(hostPort=8888),
        "spec.containers[0].ports[0].hostPort",
    ),
    (
        lambda s: csc(s)["capabilities"].update(drop=["NET_RAW"]),
        "spec.containers[0].securityContext.capabilities.drop",
    ),
    (lambda s: csc(s).pop("capabilities"), "spec.containers[0].securityContext.capabilities.drop"),
    (
        lambda s: csc(s)["capabilities"].update(add=["SYS_ADMIN"]),
        "spec.containers[0].securityContext.capabilities.add",
    ),
    (
        lambda s: csc(s).pop("allowPrivilegeEscalation"),
        "spec.containers[0].securityContext.allowPrivilegeEscalation",
    ),
    (
        lambda s: csc(s).update(allowPrivilegeEscalation=True),
        "spec.containers[0].securityContext.allowPrivilegeEscalation",
    ),
    (
        lambda s: s["securityContext"].pop("runAsNonRoot"),
        "spec.containers[0].securityContext.runAsNonRoot",
    ),
    (
        lambda s: csc(s).update(runAsNonRoot=False),
        "spec.containers[0].securityContext.runAsNonRoot",
    ),
    (lambda s: s["securityContext"].update(runAsUser=0), "spec.securityContext.runAsUser"),
    (lambda s: csc(s).update(runAsUser=0), "spec.containers[0].securityContext.runAsUser"),
    (
        lambda s: s["securityContext"].pop("seccompProfile"),
        "spec.containers[0].securityContext.seccompProfile.type",
    ),
    (
        lambda s: s["securityContext"].update(seccompProfile={"type": "Unconfined"}),
        "spec.securityContext.seccompProfile.type",
    ),
    (
        lambda s: csc(s).update(seccompProfile={"type": "Unconfined"}),
        "spec.containers[0].securityContext.seccompProfile.type",
    ),
    (
        lambda s: s["securityContext"]["sysctls"].append({"name": "kernel.msgmax", "value": "1"}),
        "spec.securityContext.sysctls[1].name",
    ),
    (
        lambda s: csc(s).update(appArmorProfile={"type": "Unconfined"}),
        "spec.containers[0].securityContext.appArmorProfile.type",
    ),
    (
        lambda s: s["securityContext"].update(seLinuxOptions={"type": "spc_t"}),
        "spec.securityContext.seLinuxOptions.type",
    ),
    (
        lambda s: csc(s).update(seLinuxOptions={"user": "system_u"}),
        "spec.containers[0].securityContext.seLinuxOptions.user",
    ),
    (lambda s: csc(s).update(procMount="Unmasked"), "spec.containers[0].securityContext.procMount"),
    (
        lambda s: csc(s).update(windowsOptions={"hostProcess": True}),
        "spec.containers[0].securityContext.windowsOptions.hostProcess",
    ),
    (
        lambda s: s.update(initContainers=[{"name": "init", "image": "busybox"}]),
        "spec.initContainers[0].securityContext.allowPrivilegeEscalation",
    ),
]


@pytest.mark.parametrize(("change", "path"), CASES, ids=[c[1] for c in CASES])
def test_each_rule_is_caught_with_its_path(change, path):
    violations = check_pod_spec(spec_with(change))
    assert path in [v.path for v in violations], violations


def test_apparmor_annotation():
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "p",
            "annotations": {
                "container.apparmor.security.beta.kubernetes.io/notebook": "unconfined"
            },
        },
        "spec": COMPLIANT,
    }
    (violation,) = check_object(pod)
    assert violation.path == (
        "metadata.annotations[container.apparmor.security.beta.kubernetes.io/notebook]"
    )


def test_workloads_are_checked_through_their_pod_template():
    bad = spec_with(lambda s: s.update(hostNetwork=True))
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "hub"},
        "spec": {"template": {"spec": bad}},
    }
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "backup"},
        "spec": {"jobTemplate": {"spec": {"template": {"spec": bad}}}},
    }
    assert [str(v) for v in check_object(deployment)] == [
        "spec.template.spec.hostNetwork: must be unset or false"
    ]
    assert [v.path for v in check_object(cronjob)] == [
        "spec.jobTemplate.spec.template.spec.hostNetwork"
    ]
    assert check_object({"apiVersion": "v1", "kind": "Service"}) == []
