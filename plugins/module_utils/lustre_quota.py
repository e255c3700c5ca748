"""Pure helpers of the lustre_quota module: parse ``lfs quota -g <group> <mount>`` output (and,
for the MooseFS backend, ``mfsgetquota -n <directory>``), turn
the inventory's limits (``10T``, ``500G``, ``10000000``) into the units ``lfs`` reports, compare,
and build the ``lfs setquota`` argv (no Ansible, no I/O).

The layout ``lfs quota`` prints is fixed by print_quota()/print_quota_title() in Lustre's
lustre/utils/lfs.c: a title and a column header (both left out with ``-q``), then one row per
filesystem: the mount point right-aligned in 15 columns, or on a line of its own when it is longer
than 15 characters with the numbers on the next line; block usage and limits in kbytes (1024
bytes) unless ``-h``; a ``*`` right after a usage that is over a limit; ``[n]`` around a value
some server could not report; grace ``-`` or a time left. Trailing notes (``gid N is using default
block quota setting``, ``Some errors happened ...``) may follow. Unit-tested on captured output
(tests/unit/fixtures/lustre_quota/README.md).
"""

from __future__ import annotations

import re
from typing import Any

# Block limits: a number of kbytes, or a size with a k, M, G, T, P or E suffix (base 1024, as
# lfs setquota reads them), case-insensitive, with an optional "B"/"iB". Inode limits: a plain
# count (lfs is always given plain numbers, so nothing depends on how it reads suffixes).
_SIZE = re.compile(r"^\s*(\d+)\s*([kmgtpe]?)(i?b)?\s*$", re.IGNORECASE)
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}
LIMIT_KEYS: tuple[str, ...] = (
    "block_softlimit",
    "block_hardlimit",
    "inode_softlimit",
    "inode_hardlimit",
)
_NUMBER = re.compile(r"^\[?(\d+)\]?(\*)?$")


class QuotaParseError(ValueError):
    """lfs output that is not what we expect (the message quotes it)."""


def block_kbytes(value: Any) -> int:
    """A block limit in kbytes, as ``lfs quota`` reports it: ``10T`` -> 10737418240; a bare
    number is already kbytes (what ``lfs setquota -B 1000`` means); 0 means no limit."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a size")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{value!r} is negative")
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(
            f"{value!r} is not a size: use kbytes or a number with a k, M, G, T or P suffix"
        )
    number, suffix = int(match.group(1)), match.group(2).lower()
    # kbytes: "k" is the unit itself, "M" is 1024 kbytes, ...
    return number * 1024 ** max(_POWERS[suffix] - 1, 0)


def inode_count(value: Any) -> int:
    """An inode limit as a count: ``10000000`` (an int or a string of digits)."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError(f"{value!r} is not a number of inodes: use a plain count like 10000000")


def desired_limits(spec: dict[str, Any]) -> dict[str, int]:
    """The four limits of one ``lustre_quotas`` entry in lfs units; a missing limit is 0 (none).

    Raises ValueError naming the key and the value when a limit cannot be read or a soft limit
    is above its hard limit (Lustre would accept it, but the soft limit would never apply)."""
    limits: dict[str, int] = {}
    for key in LIMIT_KEYS:
        raw = spec.get(key)
        if raw in (None, ""):
            limits[key] = 0
            continue
        try:
            limits[key] = block_kbytes(raw) if key.startswith("block") else inode_count(raw)
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None
    for kind in ("block", "inode"):
        soft, hard = limits[f"{kind}_softlimit"], limits[f"{kind}_hardlimit"]
        if soft and hard and soft > hard:
            raise ValueError(
                f"{kind}_softlimit {spec.get(kind + '_softlimit')!r} is above "
                f"{kind}_hardlimit {spec.get(kind + '_hardlimit')!r}; the soft limit must be "
                "at most the hard limit"
            )
    return limits


def parse_lfs_quota(text: str) -> dict[str, Any]:
    """The first filesystem row of ``lfs quota [-q] -g <group> <mount>`` (kbytes, not ``-h``).

    Returns {mount, block_used, block_softlimit, block_hardlimit, block_grace, block_over,
    inode_used, inode_softlimit, inode_hardlimit, inode_grace, inode_over, inaccurate, notes}.
    """
    lines = [line.rstrip() for line in text.splitlines()]
    body: list[str] = []
    notes: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("Disk quotas for") or stripped.startswith("Filesystem"):
            continue
        if re.match(r"^[ugp]id \d+ is using default", stripped) or stripped.startswith(
            "Some errors happened"
        ):
            notes.append(stripped)
            continue
        body.append(stripped)
    fields: list[str] = []
    mount = None
    for line in body:
        parts = line.split()
        if mount is None:
            mount = parts[0]
            fields.extend(parts[1:])
        else:
            fields.extend(parts)
        if len(fields) >= 8:
            break
    if mount is None or len(fields) < 8:
        raise QuotaParseError(f"no quota row in lfs quota output: {text!r}")
    if any(f.rstrip("*]")[-1:].isalpha() for f in fields[:3]):
        raise QuotaParseError(f"lfs quota output is human-readable (-h), expected kbytes: {text!r}")
    used_b, over_b, inacc_b = _number(fields[0], text)
    soft_b, _over, inacc_sb = _number(fields[1], text)
    hard_b, _over, inacc_hb = _number(fields[2], text)
    used_i, over_i, inacc_i = _number(fields[4], text)
    soft_i, _over, inacc_si = _number(fields[5], text)
    hard_i, _over, inacc_hi = _number(fields[6], text)
    return {
        "mount": mount,
        "block_used": used_b,
        "block_softlimit": soft_b,
        "block_hardlimit": hard_b,
        "block_grace": fields[3],
        "block_over": over_b,
        "inode_used": used_i,
        "inode_softlimit": soft_i,
        "inode_hardlimit": hard_i,
        "inode_grace": fields[7],
        "inode_over": over_i,
        "inaccurate": any((inacc_b, inacc_sb, inacc_hb, inacc_i, inacc_si, inacc_hi))
        or any(n.startswith("Some errors happened") for n in notes),
        "notes": notes,
    }


def _number(field: str, text: str) -> tuple[int, bool, bool]:
    """(value, over a limit, inaccurate) of one numeric column: 123, 123*, [123]."""
    match = _NUMBER.match(field)
    if not match:
        raise QuotaParseError(f"unexpected value {field!r} in lfs quota output: {text!r}")
    return int(match.group(1)), bool(match.group(2)), field.startswith("[")


def limits_differ(current: dict[str, Any], desired: dict[str, int]) -> dict[str, tuple[int, int]]:
    """{limit: (current, desired)} for every limit that must change."""
    return {
        key: (int(current[key]), desired[key])
        for key in LIMIT_KEYS
        if int(current[key]) != desired[key]
    }


def setquota_argv(lfs: str, group: str, limits: dict[str, int], mount: str) -> list[str]:
    """``lfs setquota -g <group> -b <kB> -B <kB> -i <n> -I <n> <mount>``: every limit given, so the
    result does not depend on what was set before (0 removes a limit)."""
    return [
        lfs,
        "setquota",
        "-g",
        group,
        "-b",
        str(limits["block_softlimit"]),
        "-B",
        str(limits["block_hardlimit"]),
        "-i",
        str(limits["inode_softlimit"]),
        "-I",
        str(limits["inode_hardlimit"]),
        mount,
    ]


def usage_report(group: str, quota: dict[str, Any]) -> str:
    """One line for operators: usage against the hard (else soft) limits, in GiB and inodes."""

    def part(used: int, soft: int, hard: int, unit: str, scale: float) -> str:
        limit = hard or soft
        shown = f"{used / scale:.1f}{unit}" if scale != 1 else f"{used}"
        if not limit:
            return f"{shown} (no limit)"
        cap = f"{limit / scale:.1f}{unit}" if scale != 1 else f"{limit}"
        return f"{shown} of {cap} ({100 * used / limit:.0f}%)"

    blocks = part(
        quota["block_used"], quota["block_softlimit"], quota["block_hardlimit"], "GiB", 1024**2
    )
    inodes = part(quota["inode_used"], quota["inode_softlimit"], quota["inode_hardlimit"], "", 1)
    flags = []
    if quota["block_over"] or quota["inode_over"]:
        flags.append("OVER QUOTA")
    if quota["inaccurate"]:
        flags.append("some servers did not answer: figures inaccurate")
    tail = f" [{'; '.join(flags)}]" if flags else ""
    return f"group {group}: space {blocks}; files {inodes}{tail}"


# -- MooseFS (backend moosefs) ----------------------------------------------------------------
#
# MooseFS quotas are per directory, not per group: a group's limits sit on its directory
# (<mount>/groups/<group>). ``mfsgetquota -n <dir>`` prints (mfstools.c, captured from
# MooseFS 3.0.117 in tests/unit/fixtures/lustre_quota/README.md):
#
#   <dir>: (current values | soft quota | hard quota) ; soft quota grace period: default
#    inodes   |                    3 |                    - |                 1000 |
#    length   |               300000 |                    - |                    - |
#    size     |               417792 |                    - |            200000000 |
#    realsize |               835584 |                    - |                    - |
#
# "-" is no limit. Block limits map to ``size`` (the chunks' size, before copies: what Lustre
# counts), in bytes there and kbytes here. mfssetquota reads suffixes as SI (200M is 2e8
# bytes), so it is always given exact bytes.
_MFS_ROW = re.compile(r"^\s*(inodes|length|size|realsize)\s*\|(.*)$")
MFS_FLAGS = {
    "inode_softlimit": "-i",
    "inode_hardlimit": "-I",
    "block_softlimit": "-s",
    "block_hardlimit": "-S",
}


def _mfs_value(field: str, text: str) -> int:
    field = field.strip()
    if field == "-":
        return 0
    if not field.isdigit():
        raise QuotaParseError(f"unexpected value {field!r} in mfsgetquota output: {text!r}")
    return int(field)


def parse_mfsgetquota(text: str) -> dict[str, Any]:
    """``mfsgetquota -n <dir>`` -> the same keys as parse_lfs_quota (kbytes, inodes)."""
    rows: dict[str, list[int]] = {}
    for line in text.splitlines():
        match = _MFS_ROW.match(line)
        if match:
            fields = match.group(2).split("|")
            if len(fields) < 3:
                raise QuotaParseError(f"short row {line!r} in mfsgetquota output: {text!r}")
            rows[match.group(1)] = [_mfs_value(f, text) for f in fields[:3]]
    if "inodes" not in rows or "size" not in rows:
        raise QuotaParseError(f"no inodes/size rows in mfsgetquota output: {text!r}")
    inodes, size = rows["inodes"], rows["size"]
    return {
        "mount": text.split(":", 1)[0].strip(),
        "block_used": size[0] // 1024,
        "block_softlimit": size[1] // 1024,
        "block_hardlimit": size[2] // 1024,
        "block_grace": "-",
        "block_over": bool(size[2] and size[0] > size[2]),
        "inode_used": inodes[0],
        "inode_softlimit": inodes[1],
        "inode_hardlimit": inodes[2],
        "inode_grace": "-",
        "inode_over": bool(inodes[2] and inodes[0] > inodes[2]),
        "inaccurate": False,
        "notes": [],
    }


def mfs_quota_argvs(
    tools: dict[str, str], directory: str, current: dict[str, Any], limits: dict[str, int]
) -> list[list[str]]:
    """The commands that make the directory's limits equal to limits: one mfssetquota with
    every limit that must be set (exact bytes for block limits) and one mfsdelquota with every
    limit that must go (0 is "none" here; 0 on MooseFS would be a real limit of nothing)."""
    changes = limits_differ(current, limits)
    set_args: list[str] = []
    del_args: list[str] = []
    for key, flag in MFS_FLAGS.items():
        if key not in changes:
            continue
        value = limits[key]
        if value == 0:
            del_args.append(flag)
        else:
            set_args += [flag, str(value * 1024 if key.startswith("block") else value)]
    argvs = []
    if set_args:
        argvs.append([tools["mfssetquota"], *set_args, directory])
    if del_args:
        argvs.append([tools["mfsdelquota"], *del_args, directory])
    return argvs
