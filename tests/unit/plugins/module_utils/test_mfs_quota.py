"""lustre_quota's MooseFS backend: mfsgetquota parsing and the commands that reach the limits
(output captured from MooseFS 3.0.117, fixtures/lustre_quota/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.module_utils.lustre_quota import (
    QuotaParseError,
    desired_limits,
    mfs_quota_argvs,
    parse_mfsgetquota,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lustre_quota"
TOOLS = {"mfssetquota": "mfssetquota", "mfsdelquota": "mfsdelquota"}
DIRECTORY = "/lustre/jovial/groups/astro"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_reads_usage_and_limits_in_kbytes_and_inodes():
    quota = parse_mfsgetquota(fixture("mfsgetquota_limits.txt"))
    assert quota["mount"] == DIRECTORY
    assert (quota["block_used"], quota["block_softlimit"], quota["block_hardlimit"]) == (
        408,
        0,
        204800,
    )
    assert (quota["inode_used"], quota["inode_softlimit"], quota["inode_hardlimit"]) == (3, 0, 1000)
    assert not quota["block_over"] and not quota["inode_over"]


def test_a_directory_without_limits_reads_as_zero():
    quota = parse_mfsgetquota(fixture("mfsgetquota_none.txt"))
    assert quota["block_hardlimit"] == quota["inode_hardlimit"] == 0


def test_refuses_output_without_the_rows():
    with pytest.raises(QuotaParseError, match="no inodes/size rows"):
        parse_mfsgetquota("mfsgetquota: can't find mfs mount point\n")
    with pytest.raises(QuotaParseError, match="unexpected value"):
        parse_mfsgetquota(fixture("mfsgetquota_limits.txt").replace("1000", "1k"))


def test_same_limits_need_no_command():
    current = parse_mfsgetquota(fixture("mfsgetquota_limits.txt"))
    limits = desired_limits({"block_hardlimit": "200M", "inode_hardlimit": 1000})
    assert mfs_quota_argvs(TOOLS, DIRECTORY, current, limits) == []


def test_new_limits_are_set_in_exact_bytes():
    current = parse_mfsgetquota(fixture("mfsgetquota_none.txt"))
    limits = desired_limits(
        {"block_softlimit": "1G", "block_hardlimit": "2G", "inode_hardlimit": 10}
    )
    assert mfs_quota_argvs(TOOLS, DIRECTORY, current, limits) == [
        ["mfssetquota", "-I", "10", "-s", str(1024**3), "-S", str(2 * 1024**3), DIRECTORY]
    ]


def test_a_limit_left_out_is_removed_not_set_to_zero():
    current = parse_mfsgetquota(fixture("mfsgetquota_limits.txt"))
    limits = desired_limits({"block_hardlimit": "200M"})
    assert mfs_quota_argvs(TOOLS, DIRECTORY, current, limits) == [["mfsdelquota", "-I", DIRECTORY]]
