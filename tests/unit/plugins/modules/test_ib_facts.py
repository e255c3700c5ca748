"""ib_facts: facts from replayed ibstat/ibv_devinfo output; clear failure without the tools."""

from __future__ import annotations

import json
from pathlib import Path
from unittest.mock import patch

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "infiniband"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.fixture
def ib_facts(load_plugin):
    return load_plugin("plugins/modules/ib_facts.py")


def run(module, args, capsys, replies, tools=("ibstat", "ibv_devinfo")):
    calls = []
    queue = list(replies)

    def fake_run_command(self, argv, **kwargs):
        calls.append(argv)
        return queue.pop(0)

    def fake_bin(self, name, *a, **k):
        return f"/usr/sbin/{name}" if name in tools else None

    with (
        patch_module_args(args),
        patch.object(AnsibleModule, "run_command", fake_run_command),
        patch.object(AnsibleModule, "get_bin_path", fake_bin),
        pytest.raises(SystemExit),
    ):
        module.main()
    return json.loads(capsys.readouterr().out), calls


def test_facts_from_ibstat_alone(ib_facts, capsys):
    """One real ibstat (ConnectX-3, port 1 InfiniBand Down, port 2 Ethernet), devinfo off."""
    replies = [(0, fixture("ibstat_mlx4_two_ports_down_and_ethernet.txt"), "")]
    result, calls = run(ib_facts, {"min_rate": 40, "devinfo": False}, capsys, replies)
    assert calls == [["/usr/sbin/ibstat"]]
    devices = result["ansible_facts"]["infiniband"]["devices"]
    assert devices["mlx4_0"]["ports"]["1"]["state"] == "Down"
    assert "board_id" not in devices["mlx4_0"]
    assert result["changed"] is False
    assert len(result["problems"]) == 1 and result["problems"][0].startswith("mlx4_0 port 1")


def test_devinfo_fields_are_merged_by_device_name(ib_facts, capsys):
    """Constructed: no source publishes ibstat and ibv_devinfo of one HCA, so the published
    ibv_devinfo block of mlx5_12 (another host's ConnectX-6 Dx) is renamed mlx4_0 to meet the
    ibstat block. What is checked is the merge by name: ibv_devinfo adds board id and MTUs,
    ibstat's ports and states stay."""
    constructed_devinfo = fixture("ibv_devinfo_mlx5_12_ethernet_down.txt").replace(
        "mlx5_12", "mlx4_0"
    )
    replies = [
        (0, fixture("ibstat_mlx4_two_ports_down_and_ethernet.txt"), ""),
        (0, constructed_devinfo, ""),
    ]
    result, calls = run(ib_facts, {"min_rate": 40}, capsys, replies)
    assert calls == [["/usr/sbin/ibstat"], ["/usr/sbin/ibv_devinfo"]]
    device = result["ansible_facts"]["infiniband"]["devices"]["mlx4_0"]
    assert device["board_id"] == "MT_0000000436"
    assert sorted(device["ports"]) == ["1", "2"]  # ibstat's two ports, not devinfo's one
    assert device["ports"]["1"]["state"] == "Down"


def test_ibv_devinfo_failure_is_reported_with_its_output(ib_facts, capsys):
    """ibstat lists a CA but ibv_devinfo cannot open the verbs devices (its captured no-device
    output: rc 255, "Failed to get IB devices list: Function not implemented")."""
    replies = [
        (0, fixture("ibstat_mlx4_two_ports_down_and_ethernet.txt"), ""),
        (255, fixture("ibv_devinfo_no_device.stdout"), fixture("ibv_devinfo_no_device.stderr")),
    ]
    result, _ = run(ib_facts, {}, capsys, replies)
    assert result["failed"] is True and result["msg"] == "ibv_devinfo failed"
    assert result["rc"] == 255
    assert result["stderr"] == "Failed to get IB devices list: Function not implemented\n"


def test_one_device_only(ib_facts, capsys):
    replies = [(0, fixture("ibstat_mlx5_active_200_redacted.txt"), "")]
    result, calls = run(ib_facts, {"device": "mlx5_7", "devinfo": False}, capsys, replies)
    assert calls == [["/usr/sbin/ibstat", "mlx5_7"]]
    assert result["problems"] == []


def test_host_without_hca_has_no_devices(ib_facts, capsys):
    replies = [(0, fixture("ibstat_no_device.stdout"), fixture("ibstat_no_device.stderr"))]
    result, calls = run(ib_facts, {}, capsys, replies)
    assert result["ansible_facts"]["infiniband"]["devices"] == {}
    assert len(calls) == 1  # ibv_devinfo is not asked when ibstat found nothing


def test_ibstat_failure_is_reported(ib_facts, capsys):
    replies = [
        (
            255,
            fixture("ibstat_mlx5_active_200_redacted.txt"),
            fixture("ibstat_mlx5_8_missing.stderr"),
        )
    ]
    result, _ = run(ib_facts, {}, capsys, replies)
    assert result["failed"] is True and result["msg"] == "ibstat failed"
    assert "mlx5_8" in result["stderr"]


def test_missing_ibstat_names_the_package(ib_facts, capsys):
    result, calls = run(ib_facts, {}, capsys, [], tools=())
    assert result["failed"] is True and "install infiniband-diags" in result["msg"]
    assert calls == []
