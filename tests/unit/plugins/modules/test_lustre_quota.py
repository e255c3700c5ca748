"""lustre_quota module: reads `lfs quota` first, runs `lfs setquota` only when a limit differs,
nothing in check mode (lfs replayed from fixtures/lustre_quota)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from unittest.mock import patch

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lustre_quota"
GSI = (FIXTURES / "gsi_rz_kbytes_quiet.txt").read_text()
FRESH = (FIXTURES / "no_limits_quiet.txt").read_text()
LFS = "/usr/bin/lfs"
QUERY = [LFS, "quota", "-q", "-g", "astro", "/lustre/obs"]


@pytest.fixture
def lustre_quota(load_plugin):
    return load_plugin("plugins/modules/lustre_quota.py")


def run(module, args, capsys, replies):
    """Run main() with run_command answering from ``replies`` in order; returns (result, argvs)."""
    calls: list[list[str]] = []
    queue = list(replies)

    def fake_run_command(self, argv, **kwargs):
        calls.append(argv)
        return queue.pop(0)

    with (
        patch_module_args(args),
        patch.object(AnsibleModule, "run_command", fake_run_command),
        patch.object(AnsibleModule, "get_bin_path", return_value=LFS),
        pytest.raises(SystemExit),
    ):
        module.main()
    return json.loads(capsys.readouterr().out), calls


ASTRO = {
    "path": "/lustre/obs",
    "group": "astro",
    "block_softlimit": "100T",
    "block_hardlimit": "150T",
}


def test_already_right_changes_nothing(lustre_quota, capsys):
    result, calls = run(lustre_quota, ASTRO, capsys, [(0, GSI, "")])
    assert calls == [QUERY]
    assert result["changed"] is False
    assert result["quota"]["block_hardlimit"] == 150 * 1024**3


def test_sets_limits_then_reads_back(lustre_quota, capsys):
    after = FRESH.replace(
        "    /lustre/obs       0       0       0",
        "    /lustre/obs       0 107374182400 161061273600",
    )
    result, calls = run(
        lustre_quota,
        {**ASTRO, "_ansible_diff": True},
        capsys,
        [(0, FRESH, ""), (0, "", ""), (0, after, "")],
    )
    setquota = [LFS, "setquota", "-g", "astro", "-b", "107374182400", "-B", "161061273600"]
    assert calls == [QUERY, [*setquota, "-i", "0", "-I", "0", "/lustre/obs"], QUERY]
    assert result["changed"] is True
    assert result["diff"]["before"]["block_hardlimit"] == 0
    assert result["diff"]["after"]["block_hardlimit"] == 161061273600


def test_check_mode_runs_no_setquota(lustre_quota, capsys):
    result, calls = run(
        lustre_quota, {**ASTRO, "_ansible_check_mode": True}, capsys, [(0, FRESH, "")]
    )
    assert calls == [QUERY]
    assert result["changed"] is True
    assert result["cmd"][1] == "setquota"


def test_setquota_that_does_not_stick_fails(lustre_quota, capsys):
    result, _ = run(lustre_quota, ASTRO, capsys, [(0, FRESH, ""), (0, "", ""), (0, FRESH, "")])
    assert result["failed"] is True
    assert "still reports block_softlimit 0 (asked 107374182400)" in result["msg"]


def test_query_reports_without_changing(lustre_quota, capsys):
    result, calls = run(
        lustre_quota,
        {"path": "/lustre/obs", "group": "astro", "state": "query"},
        capsys,
        [(0, GSI, "")],
    )
    assert calls == [QUERY]
    assert result["changed"] is False
    assert result["report"].startswith("group astro: space 7804.1GiB of 153600.0GiB")


def test_bad_limit_fails_before_running_lfs(lustre_quota, capsys):
    result, calls = run(lustre_quota, {**ASTRO, "block_softlimit": "200T"}, capsys, [])
    assert calls == []
    assert result["msg"] == (
        "lustre_quota group astro: block_softlimit '200T' is above block_hardlimit '150T'; "
        "the soft limit must be at most the hard limit"
    )


def test_lfs_quota_failure_names_the_likely_causes(lustre_quota, capsys):
    result, _ = run(
        lustre_quota,
        ASTRO,
        capsys,
        [(2, "", "lfs quota: '/lustre/obs' not on a mounted Lustre filesystem")],
    )
    assert result["failed"] is True
    assert result["msg"].startswith(
        "lfs quota -g astro /lustre/obs failed (is /lustre/obs a mounted"
    )
    assert "not on a mounted Lustre" in result["stderr"]


MFS_LIMITS = (FIXTURES / "mfsgetquota_limits.txt").read_text()


def test_moosefs_query_of_a_group_never_applied_fails_and_creates_nothing(
    lustre_quota, capsys, tmp_path
):
    args = {"path": str(tmp_path), "group": "astro", "backend": "moosefs", "state": "query"}
    result, calls = run(lustre_quota, args, capsys, [])
    assert calls == []
    assert result["failed"] is True
    assert result["msg"] == (
        f"lustre_quota: {tmp_path}/groups/astro does not exist: group astro's quota was never "
        "applied; run playbooks/storage.yml"
    )
    assert list(tmp_path.iterdir()) == []


def test_moosefs_query_reads_the_group_directory_without_changing_it(
    lustre_quota, capsys, tmp_path
):
    directory = tmp_path / "groups" / "astro"
    directory.mkdir(parents=True)
    directory.chmod(0o700)
    args = {"path": str(tmp_path), "group": "astro", "backend": "moosefs", "state": "query"}
    result, calls = run(lustre_quota, args, capsys, [(0, MFS_LIMITS, "")])
    assert calls == [[LFS, "-n", str(directory)]]  # get_bin_path is patched to LFS
    assert result["changed"] is False
    assert result["report"].startswith("group astro: ")
    assert directory.stat().st_mode & 0o7777 == 0o700


def test_a_gid_is_what_lfs_gets_while_the_name_does_not_resolve(lustre_quota, capsys):
    result, calls = run(lustre_quota, {**ASTRO, "gid": 10100}, capsys, [(0, GSI, "")])
    assert calls == [[LFS, "quota", "-q", "-g", "10100", "/lustre/obs"]]
    assert result["report"].startswith("group astro: ")


def test_moosefs_group_directory_gets_the_gid_given(lustre_quota, capsys, tmp_path):
    """No such group on this machine: the directory is still made, named for the group and
    owned by the gid given (as root; chown needs it)."""
    if os.geteuid() != 0:
        pytest.skip("chown to another gid needs root")
    args = {
        "path": str(tmp_path),
        "group": "no-such-group-here",
        "gid": 54321,
        "backend": "moosefs",
        "block_hardlimit": "200M",  # the limits mfsgetquota_limits.txt reports: nothing to set
        "inode_hardlimit": "1000",
    }
    result, _ = run(lustre_quota, args, capsys, [(0, MFS_LIMITS, "")])
    directory = tmp_path / "groups" / "no-such-group-here"
    assert (directory.stat().st_gid, directory.stat().st_mode & 0o7777) == (54321, 0o2770)
    assert result["directory"] == str(directory)
