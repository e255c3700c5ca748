#!/usr/bin/python
"""Ansible module kube_apply: apply Kubernetes manifests with kubectl, only when they differ."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kube_apply
short_description: Apply Kubernetes manifests with kubectl, changing only what differs
description:
  - Reads first with C(kubectl diff -f), which asks the API server (a dry run) what
    C(kubectl apply) would change (exit 0 nothing, 1 differences, greater an error).
  - Applies with C(kubectl apply -f) only when something differs and not in check mode, so a
    second run reports C(changed=false). Needs only kubectl on the host (no Python client).
  - A namespace the manifests create is not there yet for the dry run; kubectl diff's
    C(namespaces "x" not found) is then a difference, and apply creates it in file order.
version_added: "0.1.0"
author: Jovial maintainers (!UNKNOWN)
options:
  src:
    description: A manifest file, or a directory of them, on the host.
    type: path
    required: true
  kubeconfig:
    description: Kubeconfig kubectl uses.
    type: path
    default: /etc/kubernetes/admin.conf
  kubectl:
    description: Path of kubectl.
    type: path
    default: kubectl
attributes:
  check_mode:
    support: full
    description: Runs only kubectl diff; reports what apply would change.
  diff_mode:
    support: full
    description: Returns kubectl diff's output as the diff.
"""

EXAMPLES = r"""
- name: addons | kube-router and the user namespaces
  kube_apply:
    src: /etc/kubernetes/jovial/addons
    kubeconfig: /etc/kubernetes/admin.conf
    kubectl: /usr/local/bin/kubectl
"""

RETURN = r"""
diff_text:
  description: What kubectl diff printed (empty when nothing differs).
  type: str
  returned: always
applied:
  description: What kubectl apply printed, one line per object (empty when nothing was applied).
  type: list
  elements: str
  returned: always
"""

import re

from ansible.module_utils.basic import AnsibleModule

# kubectl diff cannot dry-run an object whose namespace the same manifests create; apply can
# (it goes in file order), so a missing namespace is a difference, not an error.
_MISSING_NAMESPACE = re.compile(r'^Error from server \(NotFound\): namespaces "([^"]+)" not found$')


def missing_namespaces(stderr: str) -> list[str]:
    """The namespaces kubectl diff reported missing, when that is all it reported."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    found = [m.group(1) for m in map(_MISSING_NAMESPACE.match, lines) if m]
    return found if found and len(found) == len(lines) else []


def kubectl_argv(kubectl: str, kubeconfig: str, verb: str, src: str) -> list[str]:
    """The kubectl command line for diff or apply of src."""
    return [kubectl, f"--kubeconfig={kubeconfig}", verb, "--recursive", "-f", src]


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "src": {"type": "path", "required": True},
            "kubeconfig": {"type": "path", "default": "/etc/kubernetes/admin.conf"},
            "kubectl": {"type": "path", "default": "kubectl"},
        },
        supports_check_mode=True,
    )
    module.run_command_environ_update = {"LANG": "C", "LC_ALL": "C"}
    params = module.params
    kubectl = params["kubectl"]
    if "/" not in kubectl:
        kubectl = module.get_bin_path(kubectl, required=True)

    diff_cmd = kubectl_argv(kubectl, params["kubeconfig"], "diff", params["src"])
    rc, out, err = module.run_command(diff_cmd)
    if rc > 1 and (namespaces := missing_namespaces(err)):
        rc, out = 1, "".join(f"+ namespace {ns} (new)\n" for ns in namespaces) + out
    if rc not in (0, 1):
        module.fail_json(
            msg=f"kubectl diff -f {params['src']} failed",
            rc=rc,
            stdout=out,
            stderr=err,
            cmd=diff_cmd,
        )
    result: dict = {"changed": rc == 1, "diff_text": out, "applied": []}
    if module._diff and rc == 1:
        result["diff"] = {"prepared": out}
    if rc == 1 and not module.check_mode:
        apply_cmd = kubectl_argv(kubectl, params["kubeconfig"], "apply", params["src"])
        rc, out, err = module.run_command(apply_cmd)
        if rc != 0:
            module.fail_json(
                msg=f"kubectl apply -f {params['src']} failed",
                rc=rc,
                stdout=out,
                stderr=err,
                cmd=apply_cmd,
            )
        result["applied"] = out.splitlines()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
