"""jovial_sha256sums: a mirror's sha256sum listing as the checksums the roles pin."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

A = "a" * 64
B = "0123456789ABCDEF" * 4


@pytest.fixture(scope="module")
def sums(load_plugin):
    return load_plugin("plugins/filter/checksums.py").jovial_sha256sums


def test_text_and_binary_mode_lines_give_path_to_lower_case_sha(sums):
    text = f"{A}  bin/kubeadm\n{B} *images/pause.tar\n\n{A}  ./bin/kubelet\n"
    assert sums(text) == {
        "bin/kubeadm": A,
        "images/pause.tar": B.lower(),
        "bin/kubelet": A,
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("deadbeef  bin/kubeadm", r"line 1 'deadbeef  bin/kubeadm' is not"),
        (f"{A}  bin/kubeadm\n{A}  bin/kubeadm", r"'bin/kubeadm' is listed twice \(line 2\)"),
        (None, "wants sha256sum's output"),
    ],
)
def test_a_malformed_listing_is_refused_quoting_the_line(sums, text, message):
    with pytest.raises(AnsibleFilterError, match=message):
        sums(text)
