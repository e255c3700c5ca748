"""kube_apply: kubectl diff first; apply only when the API server reports a difference, never
in check mode; a kubectl error fails with its output."""

from __future__ import annotations

import json
from unittest.mock import patch

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

ARGS = {
    "src": "/etc/kubernetes/jovial/addons",
    "kubeconfig": "/etc/kubernetes/admin.conf",
    "kubectl": "/usr/local/bin/kubectl",
}
BASE = ["/usr/local/bin/kubectl", "--kubeconfig=/etc/kubernetes/admin.conf"]
DIFF = [*BASE, "diff", "--recursive", "-f", "/etc/kubernetes/jovial/addons"]
APPLY = [*BASE, "apply", "--recursive", "-f", "/etc/kubernetes/jovial/addons"]
# Constructed in the shape of kubectl diff's output (a unified diff per object; exit 1).
DIFF_OUT = """--- /tmp/LIVE-1/apps.v1.DaemonSet.kube-system.kube-router
+++ /tmp/MERGED-1/apps.v1.DaemonSet.kube-system.kube-router
@@ -42,7 +42,7 @@
-        - --health-port=20244
+        - --health-port=20245
"""
APPLY_OUT = (
    "serviceaccount/kube-router unchanged\n"
    "daemonset.apps/kube-router configured\n"
    "namespace/hub-science unchanged\n"
)


@pytest.fixture
def kube_apply(load_plugin):
    return load_plugin("plugins/modules/kube_apply.py")


def run(module, args, capsys, replies, check_mode=False, diff=False):
    calls = []
    queue = list(replies)

    def fake_run_command(self, argv, **kwargs):
        calls.append(argv)
        return queue.pop(0)

    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with (
        patch_module_args(args),
        patch.object(AnsibleModule, "run_command", fake_run_command),
        pytest.raises(SystemExit),
    ):
        module.main()
    return json.loads(capsys.readouterr().out), calls


def test_nothing_differs_nothing_is_applied(kube_apply, capsys):
    result, calls = run(kube_apply, ARGS, capsys, [(0, "", "")])
    assert calls == [DIFF]
    assert result["changed"] is False
    assert result["applied"] == []


def test_a_difference_is_applied_and_reported(kube_apply, capsys):
    result, calls = run(
        kube_apply, ARGS, capsys, [(1, DIFF_OUT, ""), (0, APPLY_OUT, "")], diff=True
    )
    assert calls == [DIFF, APPLY]
    assert result["changed"] is True
    assert "daemonset.apps/kube-router configured" in result["applied"]
    assert result["diff"] == {"prepared": DIFF_OUT}


def test_check_mode_only_diffs(kube_apply, capsys):
    result, calls = run(kube_apply, ARGS, capsys, [(1, DIFF_OUT, "")], check_mode=True)
    assert calls == [DIFF]
    assert result["changed"] is True


def test_a_diff_error_fails_with_kubectls_words(kube_apply, capsys):
    err = 'error: unable to recognize "x.yaml": no matches for kind "Foo" in version "v1"'
    result, calls = run(kube_apply, ARGS, capsys, [(2, "", err)])
    assert calls == [DIFF]
    assert result["failed"] is True
    assert result["msg"] == "kubectl diff -f /etc/kubernetes/jovial/addons failed"
    assert result["stderr"] == err


def test_an_apply_error_fails_after_the_diff(kube_apply, capsys):
    err = 'The DaemonSet "kube-router" is invalid: spec.template.spec.containers[0].image: Required'
    result, calls = run(kube_apply, ARGS, capsys, [(1, DIFF_OUT, ""), (1, "", err)])
    assert calls == [DIFF, APPLY]
    assert result["failed"] is True
    assert result["rc"] == 1
    assert "is invalid" in result["stderr"]


def test_objects_in_a_namespace_the_manifests_create_are_a_difference(kube_apply, capsys):
    # kubectl 1.34's words when a NetworkPolicy's namespace does not exist yet.
    err = 'Error from server (NotFound): namespaces "hub-science" not found\n'
    result, calls = run(kube_apply, ARGS, capsys, [(2, "", err), (0, APPLY_OUT, "")])
    assert calls == [DIFF, APPLY]
    assert result["changed"] is True
    assert result["diff_text"].startswith("+ namespace hub-science (new)")


def test_other_not_found_errors_still_fail(kube_apply, capsys):
    err = "Error from server (NotFound): the server could not find the requested resource\n"
    result, calls = run(kube_apply, ARGS, capsys, [(2, "", err)])
    assert calls == [DIFF]
    assert result["failed"] is True
