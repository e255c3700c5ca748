"""lnet_net: reads lnetctl net show first, changes only what differs, check mode runs only
reads, persist writes lnetctl export when it differs (replayed published lnetctl YAML)."""

from __future__ import annotations

import json
from pathlib import Path
from unittest.mock import patch

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lnet"
LNETCTL = "/usr/sbin/lnetctl"
SHOW = [LNETCTL, "net", "show", "--verbose"]


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.fixture
def lnet_net(load_plugin):
    return load_plugin("plugins/modules/lnet_net.py")


def run(module, args, capsys, replies, lnetctl=LNETCTL):
    calls = []
    queue = list(replies)

    def fake_run_command(self, argv, **kwargs):
        calls.append(argv)
        return queue.pop(0)

    with (
        patch_module_args(args),
        patch.object(AnsibleModule, "run_command", fake_run_command),
        patch.object(AnsibleModule, "get_bin_path", lambda self, name, *a, **k: lnetctl),
        pytest.raises(SystemExit),
    ):
        module.main()
    return json.loads(capsys.readouterr().out), calls


def test_existing_net_is_left_alone(lnet_net, capsys):
    replies = [(0, fixture("net_show_verbose_lo_tcp.yaml"), "")]
    result, calls = run(lnet_net, {"name": "tcp0", "interfaces": ["eth1"]}, capsys, replies)
    assert calls == [SHOW] and result["changed"] is False
    assert result["nids"] == ["10.73.20.11@tcp"]


def test_add_o2ib(lnet_net, capsys):
    after = fixture("net_show_verbose_lo_o2ib_two_nis.yaml")
    replies = [(0, fixture("net_show_verbose_lo_tcp.yaml"), ""), (0, "", ""), (0, after, "")]
    args = {"name": "o2ib0", "interfaces": ["ib0", "ib1"], "_ansible_diff": True}
    result, calls = run(lnet_net, args, capsys, replies)
    assert calls == [SHOW, [LNETCTL, "net", "add", "--net", "o2ib0", "--if", "ib0,ib1"], SHOW]
    assert result["changed"] is True
    assert result["nids"] == ["172.16.0.24@o2ib", "172.16.0.28@o2ib"]
    assert "o2ib: ib0, ib1" in result["diff"]["after"]


def test_check_mode_runs_only_show(lnet_net, capsys):
    replies = [(0, fixture("net_show_lo_tcp_o2ib_one_ni_down.yaml"), "")]
    args = {"name": "tcp0", "state": "absent", "_ansible_check_mode": True, "_ansible_diff": True}
    result, calls = run(lnet_net, args, capsys, replies)
    assert calls == [SHOW]
    assert result["changed"] is True and result["commands"] == [["net", "del", "--net", "tcp0"]]
    assert "tcp:" in result["diff"]["before"] and "tcp:" not in result["diff"]["after"]


def test_lnet_down_is_configured_first(lnet_net, capsys):
    down = fixture("net_show_lnet_down.yaml")
    replies = [
        (1, "", down),
        (0, "", ""),
        (0, fixture("net_show_verbose_lo_tcp.yaml"), ""),
    ]
    result, calls = run(lnet_net, {"name": "tcp", "interfaces": ["eth1"]}, capsys, replies)
    assert calls == [SHOW, [LNETCTL, "lnet", "configure"], SHOW]
    assert result["changed"] is True


def test_persist_writes_export_only_when_it_differs(lnet_net, capsys, tmp_path):
    conf = tmp_path / "lnet.conf"
    exported = fixture("net_show_lo_tcp_o2ib_one_ni_down.yaml")
    args = {"name": "tcp0", "interfaces": ["eth1", "eth2"], "persist": True}
    args["config_file"] = str(conf)
    show = (0, fixture("net_show_lo_tcp_o2ib_one_ni_down.yaml"), "")
    export = [LNETCTL, "export", "--backup"]
    result, calls = run(lnet_net, args, capsys, [show, (0, exported, "")])
    assert calls == [SHOW, export]
    assert result["changed"] is True and conf.read_text() == exported
    again, _ = run(lnet_net, args, capsys, [show, (0, exported, "")])
    assert again["changed"] is False


def test_failed_add_is_reported(lnet_net, capsys):
    replies = [(0, fixture("net_show_verbose_lo_tcp.yaml"), ""), (255, "", "add:\n  errno: -22\n")]
    result, _ = run(lnet_net, {"name": "o2ib0", "interfaces": ["ib9"]}, capsys, replies)
    assert result["failed"] is True and result["msg"] == "lnetctl net add o2ib0 failed"


def test_missing_lnetctl(lnet_net, capsys):
    result, calls = run(
        lnet_net, {"name": "o2ib0", "interfaces": ["ib0"]}, capsys, [], lnetctl=None
    )
    assert result["failed"] is True and "lnetctl is not installed" in result["msg"] and calls == []


def test_missing_pyyaml_fails_naming_it_and_runs_nothing(lnet_net, capsys):
    """A host without PyYAML (python3-yaml): missing_required_lib's message, no lnetctl run."""
    with (
        patch.object(lnet_net, "HAS_YAML", False),
        patch.object(lnet_net, "YAML_IMPORT_ERROR", "ModuleNotFoundError: No module named 'yaml'"),
    ):
        result, calls = run(lnet_net, {"name": "tcp0", "interfaces": ["eth1"]}, capsys, [])
    assert calls == []
    assert result["failed"] is True
    assert "Failed to import the required Python library (PyYAML)" in result["msg"]
