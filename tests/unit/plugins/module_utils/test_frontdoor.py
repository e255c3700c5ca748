"""Front-door parsers (plugins/module_utils/frontdoor.py) on real captured output.

Fixtures: tests/unit/fixtures/frontdoor/ (README.md there says where each came from).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from ansible.module_utils import frontdoor

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "frontdoor"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_parse_ip_addr_oneline_holder():
    entries = frontdoor.parse_ip_addr_oneline(fixture("ip_o_addr_holder.txt"))
    assert [(e["interface"], e["family"], e["address"], e["prefixlen"]) for e in entries] == [
        ("lo", "inet", "127.0.0.1", 8),
        ("lo", "inet6", "::1", 128),
        ("eth0", "inet", "10.78.4.21", 24),
        ("eth0", "inet", "10.78.4.100", 24),
        ("eth0", "inet6", "fe80::501b:40ff:febd:201c", 64),
    ]
    vip = entries[3]
    assert vip["label"] == "eth0:41"
    assert vip["secondary"] is True
    assert entries[2]["label"] == "eth0" and entries[2]["secondary"] is False


def test_vips_held_on_the_holder_and_the_backup():
    holder = frontdoor.parse_ip_addr_oneline(fixture("ip_o_addr_holder.txt"))
    backup = frontdoor.parse_ip_addr_oneline(fixture("ip_o_addr_backup.txt"))
    assert frontdoor.vips_held(holder, ["10.78.4.100"]) == {"10.78.4.100": "eth0"}
    assert frontdoor.vips_held(backup, ["10.78.4.100"]) == {}
    # A node's own address is not mistaken for the VIP, and spelling is kept.
    assert frontdoor.vips_held(holder, ["10.78.4.10", " 10.78.4.100"]) == {" 10.78.4.100": "eth0"}


@pytest.mark.parametrize(
    "line",
    [
        "",
        "garbage",
        "2: eth0    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff",
        "x: eth0    inet 10.0.0.1/24 scope global eth0",
        "2: eth0    inet not-an-address scope global eth0",
    ],
)
def test_parse_ip_addr_oneline_skips_other_lines(line):
    assert frontdoor.parse_ip_addr_oneline(line) == []


def test_summarize_peercert_from_real_handshake():
    captured = json.loads(fixture("peercert_proxy.json"))
    now = datetime.datetime(2026, 11, 22, 3, 0, tzinfo=datetime.UTC)
    summary = frontdoor.summarize_peercert(captured["cert"], now)
    assert summary == {
        "subject_cn": "jovial.proxy.jovial.test",
        "issuer_cn": "Jovial molecule-proxy site CA",
        "subject_alt_names": [
            "DNS:jovial.proxy.jovial.test",
            "DNS:proxy-vip",
            "IP:10.78.4.100",
            "DNS:mp-edge1",
            "DNS:mp-edge1.proxy.jovial.test",
            "IP:10.78.4.21",
        ],
        "not_before": "2026-11-22T02:45:40+00:00",
        "not_after": "2029-02-24T02:45:40+00:00",
        "days_left": 824,
        "serial_number": "2074CDC69F4BE6A40120808F00E8C94F02DEF507",
    }


def test_summarize_peercert_expired_is_negative():
    captured = json.loads(fixture("peercert_proxy.json"))
    later = datetime.datetime(2029, 3, 1, tzinfo=datetime.UTC)
    assert frontdoor.summarize_peercert(captured["cert"], later)["days_left"] == -5
