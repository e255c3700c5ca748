"""Parsers and builders of plugins/module_utils/lustre.py on real tool output
(tests/unit/fixtures/lustre/README.md says where each file comes from)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.module_utils.lustre import (
    LustreParseError,
    classify,
    lustre_argument_problems,
    mkfs_ext4_argv,
    mkfs_lustre_argv,
    mount_sources,
    normalize_label,
    parse_blkid_export,
    parse_dumpe2fs_header,
    parse_lctl_dl,
    parse_params,
    parse_recovery_status,
    parse_tunefs_dryrun,
    target_label,
    target_problems,
    target_running,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lustre"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.mark.parametrize(
    ("fsname", "kind", "index", "label"),
    [
        ("jovial", "mgt", 0, "MGS"),
        ("jovial", "mdt", 0, "jovial-MDT0000"),
        ("jovial", "ost", 10, "jovial-OST000a"),
        ("scratch8", "ost", 0xFFFF, "scratch8-OSTffff"),
    ],
)
def test_target_label(fsname, kind, index, label):
    assert target_label(fsname, kind, index) == label
    assert len(label) <= 16  # the ext4 label limit (lab_ext4 writes the same label)


@pytest.mark.parametrize(
    ("fsname", "kind", "index", "fragment"),
    [
        ("toolongname", "ost", 0, "fsname 'toolongname'"),
        ("jovial", "osd", 0, "kind 'osd'"),
        ("jovial", "ost", -1, "index -1"),
        ("jovial", "ost", True, "index True"),
    ],
)
def test_target_problems(fsname, kind, index, fragment):
    assert any(fragment in p for p in target_problems(fsname, kind, index))


def test_first_time_label_is_normalized():
    assert normalize_label("hOvicamu:MDT0003") == "hOvicamu-MDT0003"
    assert normalize_label("MGS") == "MGS"


def test_blkid_export():
    assert parse_blkid_export(fixture("blkid_blank.txt")) == {}
    probe = parse_blkid_export(fixture("blkid_ext4_ost0.txt"))
    assert probe["TYPE"] == "ext4" and probe["LABEL"] == "jovial-OST0000"
    assert parse_blkid_export(fixture("blkid_dos_partition_table.txt"))["PTTYPE"] == "dos"
    with pytest.raises(LustreParseError):
        parse_blkid_export("not blkid output")


def test_dumpe2fs_mmp_and_without():
    with_mmp = parse_dumpe2fs_header(fixture("dumpe2fs_ext4_ost0_mmp.txt"))
    assert with_mmp["label"] == "jovial-OST0000"
    assert with_mmp["mmp"] is True and with_mmp["mmp_update_interval"] == 5
    assert with_mmp["mmp_in_use"] is False  # 0xff4d4d50: clean
    without = parse_dumpe2fs_header(fixture("dumpe2fs_ext4_no_mmp.txt"))
    assert without["mmp"] is False and without["mmp_sequence"] is None
    busy = fixture("dumpe2fs_ext4_ost0_mmp.txt").replace("0xff4d4d50", "0x00000007")
    assert parse_dumpe2fs_header(busy)["mmp_in_use"] is True
    with pytest.raises(LustreParseError):
        parse_dumpe2fs_header("dumpe2fs: Bad magic number in super-block")


def test_tunefs_dryrun_of_an_ost_with_service_nodes():
    found = parse_tunefs_dryrun(fixture("tunefs_dryrun_ost0009_servicenode.txt"))
    assert found["target"] == "fs-OST0009" and found["index"] == 9
    assert found["fsname"] == "fs" and found["mount_type"] == "ldiskfs"
    assert found["flags"] == 0x1002 and found["flag_words"] == ["OST", "no_primnode"]
    assert found["mount_options"] == ",errors=remount-ro"
    assert found["params"] == {
        "failover.node": ["10.73.20.21@tcp:10.73.20.22@tcp"],
        "mgsnode": ["10.73.20.11@tcp:10.73.20.12@tcp"],
    }


def test_mkfs_output_of_a_not_yet_registered_mdt():
    found = parse_tunefs_dryrun(fixture("mkfs_lustre_mdt0003_first_time.txt"))
    assert found["raw_target"] == "hOvicamu:MDT0003"
    assert found["target"] == "hOvicamu-MDT0003"
    assert "first_time" in found["flag_words"]
    assert found["params"] == {"mgsnode": ["10.47.18.20@o2ib1"]}


def test_tunefs_garbage_is_an_error():
    with pytest.raises(LustreParseError):
        parse_tunefs_dryrun("tunefs.lustre: Unable to read 2.x config")


def test_params_repeat():
    assert parse_params("mgsnode=a@o2ib mgsnode=b@o2ib sys.timeout=50") == {
        "mgsnode": ["a@o2ib", "b@o2ib"],
        "sys.timeout": ["50"],
    }


def test_lctl_dl_mds():
    devices = parse_lctl_dl(fixture("lctl_dl_mds_mgs_mdt.txt"))
    assert len(devices) == 9
    assert target_running(devices, "MGS")
    assert target_running(devices, "gcfs-MDT0000")
    assert not target_running(devices, "gcfs-MDT0000-osd")  # an osd is not the target
    assert not target_running(devices, "gcfs-OST0000")


def test_lctl_dl_oss():
    devices = parse_lctl_dl("  " + fixture("lctl_dl_oss_two_osts.txt").replace("\n", "\n  "))
    assert target_running(devices, "fs00-OST0001")
    assert not target_running(devices, "fs00-OST0002")
    # Constructed from the capture: the OST's device in lctl's stopping state (ST).
    down = fixture("lctl_dl_oss_two_osts.txt").replace("6 UP obdfilter", "6 ST obdfilter")
    assert not target_running(parse_lctl_dl(down), "fs00-OST0001")
    with pytest.raises(LustreParseError):
        parse_lctl_dl("opening /dev/obd failed")


def test_recovery_status_of_an_ost():
    assert parse_recovery_status(fixture("recovery_status_ost_complete.txt")) == {
        "status": "COMPLETE",
        "recovery_start": "1510605701",
        "recovery_duration": "0",
        "completed_clients": "1/1",
        "replayed_requests": "0",
        "last_transno": "8589934592",
        "VBR": "DISABLED",
        "IR": "ENABLED",
    }


def test_mount_sources_decodes_escapes():
    mounts = "/dev/loop3 /lustre/targets/jovial\\040x ext4 rw 0 0\nproc /proc proc rw 0 0\n"
    assert mount_sources(mounts)["/dev/loop3"] == "/lustre/targets/jovial x"


@pytest.mark.parametrize(
    ("fixture_name", "label", "content"),
    [
        ("blkid_blank.txt", "jovial-OST0000", "blank"),
        ("blkid_ext4_ost0.txt", "jovial-OST0000", "this"),
        ("blkid_ext4_ost0.txt", "jovial-OST0001", "target"),
        ("blkid_ext4_scratch.txt", "jovial-OST0000", "other"),
        ("blkid_swap.txt", "jovial-OST0000", "other"),
        ("blkid_dos_partition_table.txt", "jovial-OST0000", "other"),
    ],
)
def test_classify_lab(fixture_name, label, content):
    probe = parse_blkid_export(fixture(fixture_name))
    assert classify(label, probe, "lab_ext4")[0] == content


def test_classify_lustre_uses_tunefs():
    probe = {"TYPE": "ext4", "LABEL": "fs-OST0009"}
    tunefs = parse_tunefs_dryrun(fixture("tunefs_dryrun_ost0009_servicenode.txt"))
    assert classify("fs-OST0009", probe, "lustre", tunefs)[0] == "this"
    assert classify("fs-OST0001", probe, "lustre", tunefs)[:2] == ("target", "fs-OST0009")
    # ext4 without Lustre data (tunefs.lustre failed) is some other filesystem
    assert classify("fs-OST0009", probe, "lustre", None)[0] == "other"


def test_mkfs_ext4_argv():
    assert mkfs_ext4_argv("/dev/jovial-ost0", "jovial-OST0000") == [
        "mkfs.ext4",
        "-q",
        "-O",
        "mmp",
        "-E",
        "mmp_update_interval=5",
        "-L",
        "jovial-OST0000",
        "/dev/jovial-ost0",
    ]


def test_mkfs_lustre_argv_ost():
    argv = mkfs_lustre_argv(
        "/dev/mapper/ost0",
        "jovial",
        "ost",
        0,
        [["10.80.0.41@o2ib0"], ["10.80.0.42@o2ib0"]],
        ["10.80.0.51@o2ib0", "10.80.0.52@o2ib0"],
        mkfsoptions="-E stride=32",
        params=["ost.quota_type=ug"],
    )
    assert argv == [
        "mkfs.lustre",
        "--fsname=jovial",
        "--backfstype=ldiskfs",
        "--ost",
        "--index=0",
        "--mgsnode=10.80.0.41@o2ib0",
        "--mgsnode=10.80.0.42@o2ib0",
        "--servicenode=10.80.0.51@o2ib0",
        "--servicenode=10.80.0.52@o2ib0",
        "--mkfsoptions=-E stride=32",
        "--param=ost.quota_type=ug",
        "/dev/mapper/ost0",
    ]


def test_mkfs_lustre_argv_mgt_and_reformat():
    argv = mkfs_lustre_argv(
        "/dev/mapper/mgt", "jovial", "mgt", 0, [], ["a@o2ib0", "b@o2ib0"], reformat=True
    )
    assert argv == [
        "mkfs.lustre",
        "--fsname=jovial",
        "--backfstype=ldiskfs",
        "--mgs",
        "--servicenode=a@o2ib0",
        "--servicenode=b@o2ib0",
        "--reformat",
        "/dev/mapper/mgt",
    ]


def test_lustre_argument_problems():
    assert lustre_argument_problems("ost", [["a@o2ib0"]], ["b@o2ib0", "c@o2ib0"]) == []
    problems = lustre_argument_problems("ost", [], ["b@o2ib0"])
    assert any("both servers" in p for p in problems)
    assert any("mgsnode is empty" in p for p in problems)
    assert lustre_argument_problems("mgt", [], ["b@o2ib0", "c@o2ib0"]) == []
    assert any(
        "'mds1' is not a NID" in p for p in lustre_argument_problems("mgt", [], ["mds1", "b@tcp"])
    )
