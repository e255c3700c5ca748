"""Pure helpers of the lustre_target module: target labels, the parsers of blkid, dumpe2fs,
tunefs.lustre --dryrun and lctl output, the guard that decides whether a device may be
formatted, and the mkfs argv of both backends (no Ansible, no I/O).

Unit-tested on output captured from the real tools (tests/unit/fixtures/lustre/README.md).

Backends (docs/inventory.md, "Lustre"):
- ``lustre``: mkfs.lustre / tunefs.lustre on ldiskfs, multiple-mount protection (MMP) enabled by
  mkfs.lustre because the target has service nodes.
- ``lab_ext4``: the lab and Molecule stand-in: an ext4 filesystem created with MMP and labelled
  like the Lustre target, so the same guard (never format a device that holds something) runs
  for real on loop devices.
"""

from __future__ import annotations

import re
from typing import Any

KINDS: tuple[str, ...] = ("mgt", "mdt", "ost")
BACKENDS: tuple[str, ...] = ("lustre", "lab_ext4")
# Lustre limits: fsname 1-8 characters; target index 0..0xffff (the label shows 4 hex digits).
_FSNAME = re.compile(r"^[A-Za-z0-9_-]{1,8}$")
INDEX_MAX = 0xFFFF
# ext4 MMP block sequence numbers that mean "no node has it open" (e2fsprogs' ext2_fs.h):
# EXT4_MMP_SEQ_CLEAN after a clean unmount or mkfs; any other value is a live (or crashed) user.
MMP_SEQ_CLEAN = 0xFF4D4D50
MMP_SEQ_FSCK = 0xFF4D4D53
MMP_UPDATE_INTERVAL = 5  # seconds, lab_ext4 (mkfs.ext4 -E mmp_update_interval=)
# lctl dl device types that are a mounted server target.
_TARGET_DEVICE_TYPES = {"mgs", "mdt", "obdfilter"}


class LustreParseError(ValueError):
    """Tool output that is not what we expect (the message quotes it)."""


# --------------------------------------------------------------------------------------------
# Names


def target_problems(fsname: Any, kind: Any, index: Any) -> list[str]:
    """Why fsname/kind/index cannot name a target (empty when they can)."""
    problems = []
    if not isinstance(fsname, str) or not _FSNAME.match(fsname):
        problems.append(
            f"fsname {fsname!r} is not a Lustre filesystem name: use 1-8 letters, digits, "
            "'_' or '-'"
        )
    if kind not in KINDS:
        problems.append(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= INDEX_MAX:
        problems.append(f"index {index!r} is not an integer in 0-{INDEX_MAX}")
    return problems


def target_label(fsname: str, kind: str, index: int) -> str:
    """The label Lustre gives the target: MGS, or <fsname>-MDT<4 hex>/<fsname>-OST<4 hex>.

    The lab_ext4 backend writes the same label (at most 16 characters, the ext4 limit).
    """
    if kind == "mgt":
        return "MGS"
    return f"{fsname}-{kind.upper()}{index:04x}"


def normalize_label(label: str) -> str:
    """A target label as Lustre shows it once registered: a not yet registered target reads
    '<fsname>:OST0000' (first_time flag), a registered one '<fsname>-OST0000'."""
    return re.sub(r"^([^:]+):((?:MDT|OST)[0-9a-fA-F]{4})$", r"\1-\2", label.strip())


# --------------------------------------------------------------------------------------------
# Parsers


def parse_blkid_export(text: str) -> dict[str, str]:
    """`blkid -p -o export <device>`: KEY=value lines -> dict (empty for a blank device,
    for which blkid prints nothing and exits 2)."""
    found: dict[str, str] = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.match(r"^[A-Z_]+$", key):
            raise LustreParseError(f"blkid: unexpected line {line!r}")
        found[key] = value
    return found


def describe_blkid(probe: dict[str, str]) -> str:
    """What blkid found, in words ('an ext4 filesystem labelled scratch')."""
    if not probe:
        return "nothing (blank)"
    if "PTTYPE" in probe and "TYPE" not in probe:
        return f"a {probe['PTTYPE']} partition table"
    kind = probe.get("TYPE", "unknown")
    label = probe.get("LABEL")
    text = f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"
    usage = probe.get("USAGE")
    text += " filesystem" if usage in (None, "filesystem") else " signature"
    if label:
        text += f" labelled '{label}'"
    return text


def parse_dumpe2fs_header(text: str) -> dict[str, Any]:
    """`dumpe2fs -h <device>`: the fields the guard needs (label, features, state, MMP)."""
    fields: dict[str, str] = {}
    for line in (text or "").splitlines():
        match = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_ #/()-]*?):\s*(.*?)\s*$", line)
        if match:
            fields.setdefault(match.group(1).strip(), match.group(2))
    if "Filesystem features" not in fields:
        raise LustreParseError(
            f"dumpe2fs: no 'Filesystem features' line in {(text or '').strip()[:200]!r}"
        )
    label = fields.get("Filesystem volume name", "")
    features = fields["Filesystem features"].split()
    result: dict[str, Any] = {
        "label": "" if label == "<none>" else label,
        "features": features,
        "state": fields.get("Filesystem state", ""),
        "mmp": "mmp" in features,
        "mmp_update_interval": _int_or_none(fields.get("MMP update interval")),
        "mmp_sequence": _int_or_none(fields.get("mmp_sequence")),
        "mmp_node_name": fields.get("mmp_node_name"),
    }
    sequence = result["mmp_sequence"]
    result["mmp_in_use"] = sequence is not None and sequence not in (MMP_SEQ_CLEAN,)
    return result


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value, 0)
    except ValueError:
        return None


def parse_tunefs_dryrun(text: str) -> dict[str, Any]:
    """`tunefs.lustre --dryrun <device>`: the "Read previous values" block -> target, index,
    fsname, mount type, flags (words), mount options and parameters (key -> list of values,
    since mgsnode and failover.node repeat)."""
    block = _tunefs_block(text or "", "Read previous values:")
    if block is None:  # mkfs.lustre prints only what it writes
        block = _tunefs_block(text or "", "Permanent disk data:")
    if block is None:
        raise LustreParseError(
            f"tunefs.lustre: no 'Read previous values' block in {(text or '').strip()[:300]!r}"
        )
    fields: dict[str, str] = {}
    flag_words: list[str] = []
    for line in block:
        words = re.match(r"^\s*\((.*)\)\s*$", line)
        if words:
            flag_words = words.group(1).split()
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    target = fields.get("Target", "")
    index = fields.get("Index", "")
    result: dict[str, Any] = {
        "target": normalize_label(target),
        "raw_target": target,
        "index": int(index) if index.isdigit() else None,
        "fsname": fields.get("Lustre FS", ""),
        "mount_type": fields.get("Mount type", ""),
        "flags": _int_or_none(fields.get("Flags")),
        "flag_words": flag_words,
        "mount_options": fields.get("Persistent mount opts", ""),
        "params": parse_params(fields.get("Parameters", "")),
    }
    return result


def _tunefs_block(text: str, heading: str) -> list[str] | None:
    lines = text.splitlines()
    for position, line in enumerate(lines):
        if line.strip() == heading:
            block = []
            for following in lines[position + 1 :]:
                if following.strip().endswith(":") and following.startswith("   "):
                    break  # the next heading ("Permanent disk data:")
                if following.strip():
                    block.append(following)
            return block
    return None


def parse_params(text: str) -> dict[str, list[str]]:
    """'mgsnode=a@o2ib mgsnode=b@o2ib failover.node=c@o2ib' -> {key: [values]}.

    tunefs.lustre prints the nodes of one parameter joined by ': ' ('failover.node=a@tcp:
    b@tcp'); they are joined back with ':' (Lustre's node separator)."""
    params: dict[str, list[str]] = {}
    for word in re.sub(r":\s+", ":", text).split():
        key, sep, value = word.partition("=")
        if sep:
            params.setdefault(key, []).append(value)
    return params


def parse_lctl_dl(text: str) -> list[dict[str, Any]]:
    """`lctl dl`: one device per line: index, status, type, name, uuid, refcount."""
    devices = []
    for line in (text or "").splitlines():
        words = line.split()
        if not words:
            continue
        if len(words) < 6 or not words[0].isdigit():
            raise LustreParseError(f"lctl dl: unexpected line {line!r}")
        devices.append(
            {
                "index": int(words[0]),
                "status": words[1],
                "type": words[2],
                "name": words[3],
                "uuid": words[4],
                "refcount": int(words[5]) if words[5].isdigit() else None,
            }
        )
    return devices


def target_running(devices: list[dict[str, Any]], label: str) -> bool:
    """The target is set up (mounted) on this server: `lctl dl` lists it UP."""
    return any(
        d["name"] == label and d["status"] == "UP" and d["type"] in _TARGET_DEVICE_TYPES
        for d in devices
    )


def parse_recovery_status(text: str) -> dict[str, str]:
    """`lctl get_param -n <obd>.<target>.recovery_status`: 'key: value' lines."""
    status: dict[str, str] = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            status[key.strip()] = value.strip()
    return status


def recovery_param(kind: str, label: str) -> str | None:
    """The lctl parameter holding a target's recovery status (none for the MGS)."""
    if kind == "mdt":
        return f"mdt.{label}.recovery_status"
    if kind == "ost":
        return f"obdfilter.{label}.recovery_status"
    return None


def mount_sources(mounts_text: str) -> dict[str, str]:
    """/proc/self/mounts -> {source device: mount point} (octal escapes decoded)."""
    found: dict[str, str] = {}
    for line in (mounts_text or "").splitlines():
        words = line.split()
        if len(words) >= 2:
            found[_unescape(words[0])] = _unescape(words[1])
    return found


def _unescape(text: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)


# --------------------------------------------------------------------------------------------
# The guard


def classify(
    label: str,
    probe: dict[str, str],
    backend: str,
    tunefs: dict[str, Any] | None = None,
) -> tuple[str, str | None, str]:
    """(content, label found, description) of a device.

    content: 'blank' (blkid finds nothing: may be formatted), 'this' (already this target),
    'target' (another Lustre target) or 'other' (any other filesystem, partition table or
    signature). tunefs: parse_tunefs_dryrun of the device (lustre backend) or None when
    tunefs.lustre found no Lustre data.
    """
    if not probe and tunefs is None:
        return "blank", None, "nothing (blank)"
    if backend == "lustre":
        if tunefs is not None and tunefs.get("target"):
            found = tunefs["target"]
            if found == label:
                return "this", found, f"Lustre target {found}"
            return "target", found, f"another Lustre target, {found}"
        return "other", None, describe_blkid(probe)
    found = probe.get("LABEL")
    if probe.get("TYPE") == "ext4" and found:
        if found == label:
            return "this", found, f"target {found} (ext4)"
        if normalize_label(found) != found or re.match(r"^(MGS|.+-(MDT|OST)[0-9a-f]{4})$", found):
            return "target", found, f"another target, {found} (ext4)"
    return "other", None, describe_blkid(probe)


def refusal(device: str, description: str, label: str) -> str:
    """The message when a device holds something other than the requested target."""
    return (
        f"lustre_target: device {device} holds {description}, not target {label}; it is never "
        "formatted over. Check the device path (and the target's device in lustre_targets); to "
        f"destroy its contents and format it as {label} deliberately, run once with "
        f"reformat: true and confirm: '{label}'"
    )


def reformat_problem(reformat: bool, confirm: str | None, label: str) -> str | None:
    """Why a reformat request is not confirmed (None when it is, or no reformat asked)."""
    if not reformat:
        return None
    if confirm != label:
        return (
            f"lustre_target: reformat: true destroys the device's contents; it needs confirm "
            f"set to the target's label '{label}' (got {confirm!r})"
        )
    return None


# --------------------------------------------------------------------------------------------
# Commands


def mkfs_ext4_argv(device: str, label: str, mkfsoptions: str | None = None) -> list[str]:
    """lab_ext4: an ext4 filesystem with multiple-mount protection, labelled like the target."""
    argv = [
        "mkfs.ext4",
        "-q",
        "-O",
        "mmp",
        "-E",
        f"mmp_update_interval={MMP_UPDATE_INTERVAL}",
        "-L",
        label,
    ]
    if mkfsoptions:
        argv += mkfsoptions.split()
    return [*argv, device]


def mkfs_lustre_argv(
    device: str,
    fsname: str,
    kind: str,
    index: int,
    mgsnode: list[list[str]],
    servicenode: list[str],
    backfstype: str = "ldiskfs",
    mkfsoptions: str | None = None,
    params: list[str] | None = None,
    reformat: bool = False,
) -> list[str]:
    """mkfs.lustre for one target. --servicenode for every server of the pair (mkfs.lustre
    then enables ldiskfs MMP), --mgsnode once per MGS host with all its NIDs."""
    argv = ["mkfs.lustre", f"--fsname={fsname}", f"--backfstype={backfstype}"]
    if kind == "mgt":
        argv.append("--mgs")
    else:
        argv += [f"--{kind}", f"--index={index}"]
        argv += [f"--mgsnode={','.join(nids)}" for nids in mgsnode]
    argv += [f"--servicenode={nid}" for nid in servicenode]
    if mkfsoptions:
        argv.append(f"--mkfsoptions={mkfsoptions}")
    argv += [f"--param={param}" for param in params or []]
    if reformat:
        argv.append("--reformat")
    return [*argv, device]


def lustre_argument_problems(
    kind: str, mgsnode: list[list[str]], servicenode: list[str]
) -> list[str]:
    """What the lustre backend needs before it may format: service nodes (failover and MMP)
    and, except for the MGT, the MGS NIDs."""
    problems = []
    if len(servicenode) < 2:
        problems.append(
            f"servicenode {servicenode!r} must list the NIDs of both servers of the pair "
            "(primary and failover): mkfs.lustre enables multiple-mount protection from them"
        )
    if kind != "mgt" and not any(mgsnode):
        problems.append(
            "mgsnode is empty: list each MGS host's NIDs (e.g. [[10.80.0.41@o2ib0], "
            "[10.80.0.42@o2ib0]])"
        )
    nid = re.compile(r"^[^@\s,:]+@[a-z][a-z0-9]*$")
    for value in [n for nids in mgsnode for n in nids] + [
        n for entry in servicenode for n in entry.split(",")
    ]:
        if not nid.match(value):
            problems.append(f"{value!r} is not a NID (<address>@<net>, e.g. 10.80.0.41@o2ib0)")
    return problems
