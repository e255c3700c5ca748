"""vip_status: runs `ip -o addr show` once and reports the VIPs held (real captured output)."""

from __future__ import annotations

import json
from pathlib import Path
from unittest.mock import patch

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "frontdoor"


@pytest.fixture
def vip_status(load_plugin):
    return load_plugin("plugins/modules/vip_status.py")


def run(module, args, capsys, rc=0, out="", err=""):
    calls = []

    def fake_run_command(self, argv, **kwargs):
        calls.append(argv)
        return rc, out, err

    with (
        patch_module_args(args),
        patch.object(AnsibleModule, "run_command", fake_run_command),
        patch.object(AnsibleModule, "get_bin_path", return_value="/usr/sbin/ip"),
        pytest.raises(SystemExit),
    ):
        module.main()
    return json.loads(capsys.readouterr().out), calls


@pytest.mark.parametrize("check_mode", [False, True])
def test_reports_the_vip_on_the_holder(vip_status, capsys, check_mode):
    result, calls = run(
        vip_status,
        {"addresses": ["10.78.4.100"], "_ansible_check_mode": check_mode},
        capsys,
        out=(FIXTURES / "ip_o_addr_holder.txt").read_text(),
    )
    assert calls == [["/usr/sbin/ip", "-o", "addr", "show"]]
    assert result["changed"] is False
    assert result["held"] == ["10.78.4.100"]
    assert result["interfaces"] == {"10.78.4.100": "eth0"}
    assert len(result["addresses"]) == 5


def test_reports_nothing_on_the_backup(vip_status, capsys):
    result, _ = run(
        vip_status,
        {"addresses": ["10.78.4.100"]},
        capsys,
        out=(FIXTURES / "ip_o_addr_backup.txt").read_text(),
    )
    assert result["held"] == []
    assert result["interfaces"] == {}


def test_ip_failure_is_a_module_failure(vip_status, capsys):
    result, _ = run(
        vip_status, {"addresses": ["10.78.4.100"]}, capsys, rc=1, err="Cannot open netlink"
    )
    assert result["failed"] is True
    assert result["msg"] == "ip -o addr show failed"
    assert result["stderr"] == "Cannot open netlink"


def test_bad_address_fails_before_running_anything(vip_status, capsys):
    result, calls = run(vip_status, {"addresses": ["proxy-vip"]}, capsys)
    assert calls == []
    assert result["msg"] == (
        "addresses: ['proxy-vip'] are not IP addresses; list the VIPs' addresses"
    )
