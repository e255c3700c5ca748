"""ibstat / ibv_devinfo parsers on published output (tests/unit/fixtures/infiniband/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.module_utils.infiniband import (
    InfinibandParseError,
    merge,
    parse_ibstat,
    parse_ibv_devinfo,
    port_problems,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "infiniband"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_two_port_hca_with_a_down_ib_port_and_an_ethernet_port():
    devices = parse_ibstat(fixture("ibstat_mlx4_two_ports_down_and_ethernet.txt"))
    mlx4 = devices["mlx4_0"]
    assert mlx4["ca_type"] == "MT4099" and mlx4["port_count"] == 2
    assert mlx4["fw_ver"] == "2.42.5000" and mlx4["node_guid"] == "0xe41d2d03007b4080"
    assert mlx4["ports"][1] == {
        "state": "Down",
        "physical_state": "Polling",
        "rate": 10,
        "base_lid": 0,
        "lmc": 0,
        "sm_lid": 0,
        "capability_mask": "0x02594868",
        "port_guid": "0xe41d2d03007b4081",
        "link_layer": "InfiniBand",
    }
    assert mlx4["ports"][2]["link_layer"] == "Ethernet"
    assert mlx4["ports"][2]["physical_state"] == "Disabled"


def test_active_port_with_redacted_fields():
    port = parse_ibstat(fixture("ibstat_mlx5_active_200_redacted.txt"))["mlx5_7"]["ports"][1]
    assert port["state"] == "Active" and port["rate"] == 200
    assert port["base_lid"] == 13305 and port["sm_lid"] == 1
    assert port["port_guid"] is None  # '...' in the published output


def test_two_hcas_and_port_problems():
    text = fixture("ibstat_mlx4_two_ports_down_and_ethernet.txt") + fixture(
        "ibstat_mlx5_active_200_redacted.txt"
    )
    devices = parse_ibstat(text)
    assert sorted(devices) == ["mlx4_0", "mlx5_7"]
    problems = port_problems(devices)
    assert problems == [
        "mlx4_0 port 1 is Down/Polling (expected Active/LinkUp): check the cable, the switch "
        "port and that a subnet manager runs (opensm)"
    ]  # the Ethernet port is not an InfiniBand problem
    slow = port_problems({"mlx5_7": devices["mlx5_7"]}, min_rate=400)
    assert slow == [
        "mlx5_7 port 1 runs at 200 Gb/s, below 400: check the cable and the switch port speed"
    ]


def test_no_device_is_empty():
    assert parse_ibstat(fixture("ibstat_no_device.stdout")) == {}


def test_ibv_devinfo():
    devices = parse_ibv_devinfo(fixture("ibv_devinfo_mlx5_12_ethernet_down.txt"))
    mlx5 = devices["mlx5_12"]
    assert mlx5["fw_ver"] == "22.38.1900" and mlx5["board_id"] == "MT_0000000436"
    assert mlx5["transport"] == "InfiniBand" and mlx5["phys_port_cnt"] == 1
    assert mlx5["ports"][1]["state"] == "PORT_DOWN"
    assert mlx5["ports"][1]["active_mtu"] == 1024 and mlx5["ports"][1]["max_mtu"] == 4096


def test_merge_keeps_ibstat_and_adds_devinfo():
    ibstat = parse_ibstat(fixture("ibstat_mlx5_active_200_redacted.txt"))
    devinfo = {
        "mlx5_7": {
            "board_id": "MT_1",
            "fw_ver": "28.1",
            "ports": {1: {"state": "PORT_ACTIVE", "active_mtu": 4096}},
        }
    }
    merged = merge(ibstat, devinfo)["mlx5_7"]
    assert merged["board_id"] == "MT_1" and merged["fw_ver"] == "28.1"  # redacted in ibstat
    assert merged["ports"][1]["state"] == "Active"
    assert merged["ports"][1]["verbs_state"] == "PORT_ACTIVE"
    assert merged["ports"][1]["active_mtu"] == 4096


@pytest.mark.parametrize("text", ["Port 1:\n State: Active\n", "CA 'x'\n garbage line\n"])
def test_garbage_is_an_error(text):
    with pytest.raises(InfinibandParseError):
        parse_ibstat(text)
