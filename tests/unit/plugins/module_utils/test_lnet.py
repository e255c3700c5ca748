"""lnetctl net show parsing and planning on published output (tests/unit/fixtures/lnet/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.module_utils.lnet import (
    LNetDown,
    LNetError,
    describe,
    find_net,
    net_interfaces,
    net_nids,
    normalize_net,
    parse_net_show,
    plan,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lnet"


def nets(name: str) -> list:
    return parse_net_show((FIXTURES / name).read_text())


@pytest.mark.parametrize(
    ("name", "normal"), [("o2ib0", "o2ib"), ("o2ib", "o2ib"), ("o2ib1", "o2ib1"), ("tcp0", "tcp")]
)
def test_normalize_net(name, normal):
    assert normalize_net(name) == normal


def test_bad_net_name():
    with pytest.raises(LNetError):
        normalize_net("ib 0")


def test_several_nets_and_a_down_ni():
    found = nets("net_show_lo_tcp_o2ib_one_ni_down.yaml")
    assert [n["net"] for n in found] == ["lo", "tcp", "o2ib"]
    o2ib = find_net(found, "o2ib0")
    assert net_nids(o2ib) == ["172.16.0.24@o2ib", "172.16.0.28@o2ib"]
    assert [ni["status"] for ni in o2ib["nis"]] == ["down", "up"]
    assert net_interfaces(o2ib) == ["ib0", "ib3", "ib1", "ib4", "ib5"]
    assert net_interfaces(find_net(found, "tcp0")) == ["eth1", "eth2"]
    assert describe(found).splitlines()[0] == "tcp: eth1, eth2 (10.73.20.21@tcp up)"


def test_verbose_output():
    found = nets("net_show_verbose_lo_o2ib_two_nis.yaml")
    o2ib = find_net(found, "o2ib")
    assert net_interfaces(o2ib) == ["ib0", "ib1"]
    assert [ni["health"] for ni in o2ib["nis"]] == [1000, 1000]
    assert net_nids(find_net(nets("net_show_verbose_lo_tcp.yaml"), "tcp0")) == ["10.73.20.11@tcp"]


def test_lnet_down():
    with pytest.raises(LNetDown, match="Network is down"):
        nets("net_show_lnet_down.yaml")


def test_plan():
    found = nets("net_show_verbose_lo_tcp.yaml")
    assert plan(found, "tcp0", ["eth1"], "present") == []
    assert plan(found, "o2ib0", ["ib0"], "present") == [
        ["net", "add", "--net", "o2ib0", "--if", "ib0"]
    ]
    assert plan(found, "tcp0", ["eth0"], "present") == [
        ["net", "add", "--net", "tcp0", "--if", "eth0"],
        ["net", "del", "--net", "tcp0", "--if", "eth1"],
    ]
    assert plan(found, "tcp0", [], "absent") == [["net", "del", "--net", "tcp0"]]
    assert plan(found, "o2ib0", [], "absent") == []


def test_garbage():
    with pytest.raises(LNetError):
        parse_net_show("net: [unclosed")
