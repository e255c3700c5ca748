"""lustre_target: reads first, formats only a blank device, never formats over a target or any
other content; check mode runs only reads. Replayed output is real (tests/unit/fixtures/lustre/,
each file's source in its README), and the lab_ext4 path also runs against real image files
with the host's e2fsprogs. The lustre backend's scenarios also need inputs nobody has published
for one ldiskfs target; those are CONSTRUCTED_* below and listed as constructed in the README."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from unittest.mock import patch

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lustre"
WRITES = {"mkfs.ext4", "mkfs.lustre", "wipefs", "tune2fs"}


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.fixture
def lustre_target(load_plugin):
    return load_plugin("plugins/modules/lustre_target.py")


@pytest.fixture
def device(tmp_path: Path) -> str:
    path = tmp_path / "ost0.img"
    path.write_bytes(b"")
    return str(path)


def run(module, args, capsys, replies):
    """replies: {first argv word: [(rc, stdout, stderr), ...]} consumed in order per tool."""
    calls = []
    queues = {tool: list(answers) for tool, answers in replies.items()}

    def fake_run_command(self, argv, **kwargs):
        calls.append(argv)
        return queues[argv[0]].pop(0)

    with (
        patch_module_args(args),
        patch.object(AnsibleModule, "run_command", fake_run_command),
        pytest.raises(SystemExit),
    ):
        module.main()
    return json.loads(capsys.readouterr().out), calls


def lab(device: str, **extra) -> dict:
    return {"device": device, "fsname": "jovial", "kind": "ost", "index": 0} | {
        "backend": "lab_ext4",
        **extra,
    }


BLANK = (2, "", "")


def test_lab_blank_device_is_formatted_with_mmp_and_label(lustre_target, device, capsys):
    replies = {
        "blkid": [BLANK, (0, fixture("blkid_ext4_ost0.txt"), "")],
        "mkfs.ext4": [(0, "", "")],
        "dumpe2fs": [(0, fixture("dumpe2fs_ext4_ost0_mmp.txt"), "")],
    }
    result, calls = run(lustre_target, lab(device, _ansible_diff=True), capsys, replies)
    mkfs = ["mkfs.ext4", "-q", "-O", "mmp", "-E", "mmp_update_interval=5", "-L"]
    assert calls == [
        ["blkid", "-p", "-o", "export", device],
        [*mkfs, "jovial-OST0000", device],
        ["blkid", "-p", "-o", "export", device],
        ["dumpe2fs", "-h", device],
    ]
    assert result["changed"] is True and result["formatted"] is True
    assert result["target"] == "jovial-OST0000" and result["content"] == "blank"
    assert result["mmp"] is True and result["params"] == {"mmp_update_interval": 5}
    assert result["diff"]["after"] == f"{device}: target jovial-OST0000\n"


def test_lab_check_mode_runs_only_reads(lustre_target, device, capsys):
    args = lab(device, _ansible_check_mode=True)
    result, calls = run(lustre_target, args, capsys, {"blkid": [BLANK]})
    assert calls == [["blkid", "-p", "-o", "export", device]]
    assert result["changed"] is True and result["formatted"] is True
    assert result["cmd"][0][0] == "mkfs.ext4"


def test_lab_same_target_is_left_alone(lustre_target, device, capsys):
    replies = {
        "blkid": [(0, fixture("blkid_ext4_ost0.txt"), "")],
        "dumpe2fs": [(0, fixture("dumpe2fs_ext4_ost0_mmp.txt"), "")],
    }
    result, calls = run(lustre_target, lab(device), capsys, replies)
    assert [argv[0] for argv in calls] == ["blkid", "dumpe2fs"]
    assert result["changed"] is False and result["content"] == "this"
    assert result["mounted"] is False


@pytest.mark.parametrize(
    ("blkid", "dumpe2fs", "holds"),
    [
        ("blkid_ext4_ost0.txt", "dumpe2fs_ext4_ost0_mmp.txt", "another target, jovial-OST0000"),
        ("blkid_ext4_scratch.txt", "dumpe2fs_ext4_no_mmp.txt", "ext4 filesystem labelled"),
        ("blkid_swap.txt", None, "holds a swap signature"),
        ("blkid_dos_partition_table.txt", None, "a dos partition table"),
    ],
)
def test_lab_refuses_a_device_with_anything_else(
    lustre_target, device, capsys, blkid, dumpe2fs, holds
):
    replies = {"blkid": [(0, fixture(blkid), "")]}
    if dumpe2fs:
        replies["dumpe2fs"] = [(0, fixture(dumpe2fs), "")]
    # index 1: the OST0000 image is "another target" for OST0001
    result, calls = run(lustre_target, lab(device, index=1), capsys, replies)
    assert result["failed"] is True
    assert holds in result["msg"]
    assert "reformat: true and confirm: 'jovial-OST0001'" in result["msg"]
    assert not [argv for argv in calls if argv[0] in WRITES]


def test_lab_target_without_mmp_is_an_error(lustre_target, device, capsys):
    no_mmp = fixture("dumpe2fs_ext4_no_mmp.txt")
    replies = {"blkid": [(0, fixture("blkid_ext4_ost0.txt"), "")], "dumpe2fs": [(0, no_mmp, "")]}
    result, _ = run(lustre_target, lab(device), capsys, replies)
    assert result["failed"] is True
    assert f"tune2fs -O mmp {device}" in result["msg"]


def test_reformat_needs_the_matching_confirm(lustre_target, device, capsys):
    result, calls = run(
        lustre_target, lab(device, reformat=True, confirm="jovial-OST0001"), capsys, {}
    )
    assert result["failed"] is True and calls == []
    assert "confirm set to the target's label 'jovial-OST0000'" in result["msg"]


def test_reformat_confirmed_wipes_then_formats(lustre_target, device, capsys):
    replies = {
        "blkid": [
            (0, fixture("blkid_ext4_scratch.txt"), ""),
            (0, fixture("blkid_ext4_ost0.txt"), ""),
        ],
        "dumpe2fs": [
            (0, fixture("dumpe2fs_ext4_no_mmp.txt"), ""),
            (0, fixture("dumpe2fs_ext4_ost0_mmp.txt"), ""),
        ],
        "wipefs": [(0, "", "")],
        "mkfs.ext4": [(0, "", "")],
    }
    args = lab(device, reformat=True, confirm="jovial-OST0000")
    result, calls = run(lustre_target, args, capsys, replies)
    writes = [argv for argv in calls if argv[0] in WRITES]
    assert writes[0] == ["wipefs", "-a", device]
    assert writes[1][0] == "mkfs.ext4" and writes[1][-2:] == ["jovial-OST0000", device]
    assert result["changed"] is True


def test_reformat_refused_while_another_node_holds_the_mmp_block(lustre_target, device, capsys):
    # Constructed: the captured header with its MMP sequence changed from clean (0xff4d4d50,
    # EXT4_MMP_SEQ_CLEAN) to a running counter, as a node holding the device writes it.
    in_use = fixture("dumpe2fs_ext4_ost0_mmp.txt").replace("0xff4d4d50", "0x0000002a")
    replies = {"blkid": [(0, fixture("blkid_ext4_ost0.txt"), "")], "dumpe2fs": [(0, in_use, "")]}
    args = lab(device, reformat=True, confirm="jovial-OST0000")
    result, calls = run(lustre_target, args, capsys, replies)
    assert result["failed"] is True and "MMP block is not clean" in result["msg"]
    assert not [argv for argv in calls if argv[0] in WRITES]


def test_missing_device_fails_before_any_command(lustre_target, tmp_path, capsys):
    result, calls = run(lustre_target, lab(str(tmp_path / "nope")), capsys, {})
    assert result["failed"] is True and calls == []
    assert "does not exist" in result["msg"]


def test_status_reports_without_failing_on_other_content(lustre_target, device, capsys):
    replies = {"blkid": [(0, fixture("blkid_swap.txt"), "")]}
    result, calls = run(lustre_target, lab(device, state="status"), capsys, replies)
    assert result["changed"] is False and result["content"] == "other"
    assert calls == [["blkid", "-p", "-o", "export", device]]


# --------------------------------------------------------------------------------------------
# The lab_ext4 path against real image files (the host's blkid, mkfs.ext4, dumpe2fs, wipefs)

REAL_TOOLS = all(shutil.which(t, path="/usr/sbin:/sbin:/usr/bin") for t in ("blkid", "mkfs.ext4"))


def run_real(module, args, capsys):
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.skipif(not REAL_TOOLS, reason="blkid and mkfs.ext4 (e2fsprogs) are not installed")
def test_real_image_lifecycle(lustre_target, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/sbin:/sbin:/usr/bin:/bin")
    image = tmp_path / "ost3.img"
    with image.open("wb") as handle:
        handle.truncate(32 * 1024 * 1024)
    args = lab(str(image), index=3)

    checked = run_real(lustre_target, args | {"_ansible_check_mode": True}, capsys)
    assert checked["changed"] is True
    assert subprocess.run(["blkid", "-p", str(image)], capture_output=True).returncode == 2

    first = run_real(lustre_target, args, capsys)
    assert first["changed"] is True and first["mmp"] is True
    probe = subprocess.run(
        ["blkid", "-p", "-o", "export", str(image)], capture_output=True, text=True
    ).stdout
    assert "LABEL=jovial-OST0003" in probe and "TYPE=ext4" in probe

    again = run_real(lustre_target, args, capsys)
    assert again["changed"] is False and again["content"] == "this"

    other = run_real(lustre_target, lab(str(image), index=4), capsys)
    assert other["failed"] is True and "another target, jovial-OST0003" in other["msg"]

    redo = args | {"index": 4, "reformat": True, "confirm": "jovial-OST0004"}
    assert run_real(lustre_target, redo, capsys)["changed"] is True
    probe = subprocess.run(
        ["blkid", "-p", "-o", "export", str(image)], capture_output=True, text=True
    ).stdout
    assert "LABEL=jovial-OST0004" in probe


@pytest.mark.skipif(not REAL_TOOLS, reason="blkid and mkfs.ext4 (e2fsprogs) are not installed")
def test_real_image_with_data_is_never_formatted(lustre_target, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/sbin:/sbin:/usr/bin:/bin")
    image = tmp_path / "data.img"
    with image.open("wb") as handle:
        handle.truncate(32 * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-L", "userdata", str(image)], check=True)
    before = image.read_bytes()
    result = run_real(lustre_target, lab(str(image)), capsys)
    assert result["failed"] is True and "labelled 'userdata'" in result["msg"]
    assert image.read_bytes() == before


# --------------------------------------------------------------------------------------------
# backend lustre (replayed tunefs.lustre / lctl output; no Lustre modules on this host)

MGSNODE = [["10.73.20.11@tcp"], ["10.73.20.12@tcp"]]
SERVICENODE = ["10.73.20.21@tcp", "10.73.20.22@tcp"]
# Constructed, not captured: what `blkid -p -o export` would print for the ldiskfs OST of
# tunefs_dryrun_ost0009_servicenode.txt (ldiskfs carries ext4's superblock, so libblkid reports
# TYPE=ext4 and the target name as LABEL). No published capture of such a probe was found; the
# module only needs it to be non-empty (it identifies Lustre targets from tunefs.lustre).
CONSTRUCTED_LDISKFS_PROBE = (
    "DEVNAME=/dev/mapper/mpathp\nLABEL=fs-OST0009\nTYPE=ext4\nUSAGE=filesystem\n"
)
LDISKFS_PROBE = CONSTRUCTED_LDISKFS_PROBE
# Constructed: the header of an ext4 image made here with MMP (dumpe2fs_ext4_ost0_mmp.txt)
# stands in for the ldiskfs target's. The module reads only the feature list and the MMP
# fields from it, which ldiskfs shares with ext4; no published `dumpe2fs -h` of an ldiskfs
# target with MMP was found.
CONSTRUCTED_LDISKFS_DUMPE2FS = fixture("dumpe2fs_ext4_ost0_mmp.txt")
# Constructed: the published `lctl dl` of OSS io3 (fs00-OST0000 and fs00-OST0001) with
# fs00-OST0001 renamed to the tunefs fixture's target, fs-OST0009: no source publishes both
# tunefs.lustre and lctl dl of one target. Only the renamed name differs from the capture.
CONSTRUCTED_LCTL_DL_OST0009 = fixture("lctl_dl_oss_two_osts.txt").replace(
    "fs00-OST0001", "fs-OST0009"
)


def prod(device: str, **extra) -> dict:
    base = {"device": device, "fsname": "fs", "kind": "ost", "index": 9}
    return base | {"mgsnode": MGSNODE, "servicenode": SERVICENODE, **extra}


def test_lustre_blank_device_gets_mkfs_lustre_with_servicenodes(lustre_target, device, capsys):
    formatted = fixture("tunefs_dryrun_ost0009_servicenode.txt")
    replies = {
        "blkid": [BLANK, (0, LDISKFS_PROBE, "")],
        "mkfs.lustre": [(0, "", "")],
        "tunefs.lustre": [(0, formatted, "")],
        "dumpe2fs": [(0, CONSTRUCTED_LDISKFS_DUMPE2FS, "")],
        "lctl": [(0, "", "")],
    }
    result, calls = run(lustre_target, prod(device), capsys, replies)
    assert calls[1] == [
        "mkfs.lustre",
        "--fsname=fs",
        "--backfstype=ldiskfs",
        "--ost",
        "--index=9",
        "--mgsnode=10.73.20.11@tcp",
        "--mgsnode=10.73.20.12@tcp",
        "--servicenode=10.73.20.21@tcp",
        "--servicenode=10.73.20.22@tcp",
        device,
    ]
    assert calls[3] == ["tunefs.lustre", "--dryrun", device]
    assert result["changed"] is True and result["target"] == "fs-OST0009"
    assert result["params"]["failover.node"] == ["10.73.20.21@tcp:10.73.20.22@tcp"]


def test_lustre_existing_target_verified_and_reported_running(lustre_target, device, capsys):
    replies = {
        "blkid": [(0, LDISKFS_PROBE, "")],
        "tunefs.lustre": [(0, fixture("tunefs_dryrun_ost0009_servicenode.txt"), "")],
        "dumpe2fs": [(0, CONSTRUCTED_LDISKFS_DUMPE2FS, "")],
        "lctl": [
            (0, CONSTRUCTED_LCTL_DL_OST0009, ""),
            (0, fixture("recovery_status_ost_complete.txt"), ""),
        ],
    }
    result, calls = run(lustre_target, prod(device), capsys, replies)
    assert result["changed"] is False and result["content"] == "this"
    assert result["mounted"] is True
    assert result["recovery"]["status"] == "COMPLETE"
    assert result["recovery"]["completed_clients"] == "1/1"
    assert result["recovery"]["IR"] == "ENABLED"
    assert ["lctl", "get_param", "-n", "obdfilter.fs-OST0009.recovery_status"] in calls
    assert not [argv for argv in calls if argv[0] in WRITES]


def test_lustre_refuses_another_target_in_check_mode_too(lustre_target, device, capsys):
    replies = {
        "blkid": [(0, LDISKFS_PROBE, "")],
        "tunefs.lustre": [(0, fixture("tunefs_dryrun_ost0009_servicenode.txt"), "")],
        "dumpe2fs": [(0, CONSTRUCTED_LDISKFS_DUMPE2FS, "")],
    }
    args = prod(device, index=1, _ansible_check_mode=True)
    result, calls = run(lustre_target, args, capsys, replies)
    assert result["failed"] is True
    assert "another Lustre target, fs-OST0009" in result["msg"]
    assert not [argv for argv in calls if argv[0] in WRITES]


def test_lustre_ext4_without_lustre_data_is_refused(lustre_target, device, capsys):
    # tunefs.lustre exits non-zero on a device without Lustre data (its text is not used)
    replies = {
        "blkid": [(0, fixture("blkid_ext4_scratch.txt"), "")],
        "tunefs.lustre": [(1, "", "")],
        "dumpe2fs": [(0, fixture("dumpe2fs_ext4_no_mmp.txt"), "")],
    }
    result, calls = run(lustre_target, prod(device), capsys, replies)
    assert result["failed"] is True and "labelled 'scratch'" in result["msg"]
    assert not [argv for argv in calls if argv[0] in WRITES]


def test_lustre_needs_both_service_nodes(lustre_target, device, capsys):
    result, calls = run(lustre_target, prod(device, servicenode=SERVICENODE[:1]), capsys, {})
    assert result["failed"] is True and calls == []
    assert "both servers of the pair" in result["msg"]


def test_lustre_reformat_passes_reformat_flag(lustre_target, device, capsys):
    replies = {
        "blkid": [(0, LDISKFS_PROBE, ""), (0, LDISKFS_PROBE, "")],
        "tunefs.lustre": [
            (0, fixture("tunefs_dryrun_ost0009_servicenode.txt"), ""),
            (0, fixture("tunefs_dryrun_ost0009_servicenode.txt"), ""),
        ],
        "dumpe2fs": [(0, CONSTRUCTED_LDISKFS_DUMPE2FS, "")] * 2,
        "lctl": [(0, "", ""), (0, "", "")],
        "mkfs.lustre": [(0, "", "")],
    }
    args = prod(device, reformat=True, confirm="fs-OST0009")
    result, calls = run(lustre_target, args, capsys, replies)
    mkfs = [argv for argv in calls if argv[0] == "mkfs.lustre"]
    assert mkfs and mkfs[0][-2:] == ["--reformat", device]
    assert result["changed"] is True


def test_lustre_modules_not_loaded_means_not_running(lustre_target, device, capsys):
    # not captured output: the module only looks for "/dev/obd" in what lctl prints
    err = "opening /dev/obd failed: No such file or directory\n"
    replies = {
        "blkid": [(0, LDISKFS_PROBE, "")],
        "tunefs.lustre": [(0, fixture("tunefs_dryrun_ost0009_servicenode.txt"), "")],
        "dumpe2fs": [(0, CONSTRUCTED_LDISKFS_DUMPE2FS, "")],
        "lctl": [(2, "", err)],
    }
    result, _ = run(lustre_target, prod(device, state="status"), capsys, replies)
    assert result["mounted"] is False and result["content"] == "this"
