"""lustre_quota parsers on `lfs quota` output laid out as lfs prints it (fixtures/lustre_quota)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.module_utils.lustre_quota import (
    QuotaParseError,
    block_kbytes,
    desired_limits,
    inode_count,
    limits_differ,
    parse_lfs_quota,
    setquota_argv,
    usage_report,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lustre_quota"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.mark.parametrize("name", ["gsi_rz_kbytes.txt", "gsi_rz_kbytes_quiet.txt"])
def test_parses_a_row_with_and_without_headers(name):
    quota = parse_lfs_quota(fixture(name))
    assert quota == {
        "mount": "/lustre/hebe",
        "block_used": 8183208892,
        "block_softlimit": 107374182400,
        "block_hardlimit": 161061273600,
        "block_grace": "-",
        "block_over": False,
        "inode_used": 2191882,
        "inode_softlimit": 0,
        "inode_hardlimit": 0,
        "inode_grace": "-",
        "inode_over": False,
        "inaccurate": False,
        "notes": [],
    }


def test_wrapped_mount_point_over_quota_and_note():
    quota = parse_lfs_quota(fixture("wrapped_over_quota_quiet.txt"))
    assert quota["mount"] == "/lustre/jovialfs"
    assert quota["block_used"] == 10737418240
    assert quota["block_over"] is True
    assert quota["block_softlimit"] == 9663676416
    assert quota["block_hardlimit"] == 10737418240
    assert quota["inode_used"] == 4120
    assert quota["notes"] == ["gid 10100 is using default file quota setting"]
    assert "OVER QUOTA" in usage_report("astro", quota)


def test_unanswered_server_marks_figures_inaccurate():
    quota = parse_lfs_quota(fixture("inaccurate_quiet.txt"))
    assert quota["block_used"] == 1048576
    assert quota["inode_used"] == 12
    assert quota["inaccurate"] is True
    assert "figures inaccurate" in usage_report("astro", quota)


def test_human_readable_output_is_refused():
    with pytest.raises(QuotaParseError, match=r"human-readable \(-h\)"):
        parse_lfs_quota(fixture("sanger_wrapped_human.txt"))


@pytest.mark.parametrize("text", ["", "lfs: some error\n", "    /lustre/obs 12 0\n"])
def test_output_without_a_row_is_refused(text):
    with pytest.raises(QuotaParseError, match="no quota row"):
        parse_lfs_quota(text)


@pytest.mark.parametrize(
    ("value", "kbytes"),
    [
        ("10T", 10 * 1024**3),
        ("10t", 10 * 1024**3),
        ("500G", 500 * 1024**2),
        ("500GiB", 500 * 1024**2),
        ("2M", 2048),
        ("7k", 7),
        ("1000", 1000),
        (1000, 1000),
        ("1P", 1024**4),
        (0, 0),
    ],
)
def test_block_sizes_are_kbytes(value, kbytes):
    assert block_kbytes(value) == kbytes


@pytest.mark.parametrize("value", ["10 TB of disk", "-1", "1.5T", True, -5, "T"])
def test_bad_block_sizes(value):
    with pytest.raises(ValueError):
        block_kbytes(value)


def test_inode_limits_are_plain_counts():
    assert inode_count("10000000") == 10000000
    assert inode_count(500) == 500
    with pytest.raises(ValueError, match="plain count"):
        inode_count("10M")


def test_desired_limits_fill_missing_with_zero_and_check_soft_below_hard():
    assert desired_limits({"group": "astro", "block_hardlimit": "10T"}) == {
        "block_softlimit": 0,
        "block_hardlimit": 10737418240,
        "inode_softlimit": 0,
        "inode_hardlimit": 0,
    }
    with pytest.raises(ValueError) as err:
        desired_limits({"block_softlimit": "11T", "block_hardlimit": "10T"})
    assert str(err.value) == (
        "block_softlimit '11T' is above block_hardlimit '10T'; the soft limit must be at most "
        "the hard limit"
    )
    with pytest.raises(ValueError, match=r"^inode_hardlimit: 'lots' is not a number"):
        desired_limits({"inode_hardlimit": "lots"})


def test_only_differing_limits_are_reported():
    current = parse_lfs_quota(fixture("gsi_rz_kbytes_quiet.txt"))
    same = {
        "block_softlimit": 107374182400,
        "block_hardlimit": 161061273600,
        "inode_softlimit": 0,
        "inode_hardlimit": 0,
    }
    assert limits_differ(current, same) == {}
    assert limits_differ(current, {**same, "inode_hardlimit": 5}) == {"inode_hardlimit": (0, 5)}


def test_setquota_argv_sets_every_limit():
    limits = desired_limits({"block_softlimit": "9T", "block_hardlimit": "10T"})
    assert setquota_argv("/usr/bin/lfs", "astro", limits, "/lustre/obs") == [
        "/usr/bin/lfs",
        "setquota",
        "-g",
        "astro",
        "-b",
        "9663676416",
        "-B",
        "10737418240",
        "-i",
        "0",
        "-I",
        "0",
        "/lustre/obs",
    ]


def test_usage_report():
    quota = parse_lfs_quota(fixture("gsi_rz_kbytes_quiet.txt"))
    assert usage_report("rz", quota) == (
        "group rz: space 7804.1GiB of 153600.0GiB (5%); files 2191882 (no limit)"
    )
