"""The common layer's sshd baseline (roles/common, group_vars/all/ssh.yml;
tests/unit/plugins/module_utils/test_inventory_model_ssh.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import inventory_core as core
from .inventory_core import InventoryModel

# The sshd baseline's settings (group_vars/all/ssh.yml; check_ssh). Their defaults are the common
# role's; a group or host may set its own (group_vars/<group>, host_vars), checked per host.
SSH_SETTINGS: tuple[str, ...] = (
    "common_ssh_kex_algorithms",
    "common_ssh_ciphers",
    "common_ssh_macs",
    "common_ssh_host_key_types",
)


# Common layer: the sshd baseline (roles/common, group_vars/all/ssh.yml)


@dataclass(frozen=True)
class SshList:
    """What one common_ssh_* list may hold: OpenSSH's names for it, usable or weak (and why)."""

    what: str  # in messages: "key exchange algorithm"
    usable: tuple[str, ...]
    weak: Mapping[str, str]


# Every name OpenSSH 9.2p1 of Debian 12 knows for each list (`ssh -Q kex`, `ssh -Q cipher`,
# `ssh -Q mac`, ssh-keygen's host key types; captured in tests/unit/fixtures/ssh/), either usable
# or weak. Weak: what ssh-audit 3.9 fails, or warns about for more than lacking post-quantum
# protection, plus ciphers that are neither AEAD nor CTR and MACs that are not encrypt-then-MAC.
# The baseline (roles/common/defaults/main.yml) uses the strongest usable ones; the others stay
# usable for old clients. Names match exactly: sshd's +, - and ^ prefixes edit its built-in
# list, and the baseline replaces that list.
SSH_LISTS: dict[str, SshList] = {
    "common_ssh_kex_algorithms": SshList(
        what="key exchange algorithm",
        usable=(
            "sntrup761x25519-sha512@openssh.com",
            "sntrup761x25519-sha512",
            "curve25519-sha256",
            "curve25519-sha256@libssh.org",
            "diffie-hellman-group16-sha512",
            "diffie-hellman-group18-sha512",
            "diffie-hellman-group-exchange-sha256",
        ),
        weak={
            "diffie-hellman-group1-sha1": "1024-bit group and SHA-1",
            "diffie-hellman-group14-sha1": "SHA-1",
            "diffie-hellman-group14-sha256": "2048-bit group, 112-bit strength",
            "diffie-hellman-group-exchange-sha1": "SHA-1",
            "ecdh-sha2-nistp256": "NIST P-curve ECDH",
            "ecdh-sha2-nistp384": "NIST P-curve ECDH",
            "ecdh-sha2-nistp521": "NIST P-curve ECDH",
        },
    ),
    "common_ssh_ciphers": SshList(
        what="cipher",
        usable=(
            "chacha20-poly1305@openssh.com",
            "aes256-gcm@openssh.com",
            "aes128-gcm@openssh.com",
            "aes256-ctr",
            "aes192-ctr",
            "aes128-ctr",
        ),
        weak={
            "3des-cbc": "64-bit block cipher in CBC mode",
            "aes128-cbc": "CBC mode, neither AEAD nor CTR",
            "aes192-cbc": "CBC mode, neither AEAD nor CTR",
            "aes256-cbc": "CBC mode, neither AEAD nor CTR",
        },
    ),
    "common_ssh_macs": SshList(
        what="MAC",
        usable=(
            "hmac-sha2-512-etm@openssh.com",
            "hmac-sha2-256-etm@openssh.com",
            "umac-128-etm@openssh.com",
        ),
        weak={
            "hmac-sha1": "SHA-1, encrypt-and-MAC",
            "hmac-sha1-96": "SHA-1 cut to 96 bits, encrypt-and-MAC",
            "hmac-sha2-256": "encrypt-and-MAC",
            "hmac-sha2-512": "encrypt-and-MAC",
            "hmac-md5": "MD5, encrypt-and-MAC",
            "hmac-md5-96": "MD5 cut to 96 bits, encrypt-and-MAC",
            "umac-64@openssh.com": "64-bit tag, encrypt-and-MAC",
            "umac-128@openssh.com": "encrypt-and-MAC",
            "hmac-sha1-etm@openssh.com": "SHA-1",
            "hmac-sha1-96-etm@openssh.com": "SHA-1 cut to 96 bits",
            "hmac-md5-etm@openssh.com": "MD5",
            "hmac-md5-96-etm@openssh.com": "MD5 cut to 96 bits",
            "umac-64-etm@openssh.com": "64-bit tag",
        },
    ),
    "common_ssh_host_key_types": SshList(
        what="host key type",
        usable=("ed25519", "rsa"),
        weak={
            "ecdsa": "NIST P-curve ECDSA",
            "dsa": "1024-bit DSA, refused by OpenSSH since 7.0",
        },
    ),
}


def _ssh_list_problems(name: str, value: Any, spec: SshList, where: str) -> list[str]:
    """Problems of one common_ssh_* value; where is '' (group_vars/all) or 'host x: '."""
    example = ", ".join(spec.usable[:2])
    if not core._is_list(value):
        return [
            f"{where}{name}: expected a list of {spec.what}s, {core._got(value)}; "
            f"write a YAML list, e.g. [{example}]"
        ]
    if not value:
        return [
            f"{where}{name} is empty; sshd needs at least one {spec.what}: list the ones to "
            f"offer, e.g. [{example}] (roles/common/defaults/main.yml holds the baseline)"
        ]
    problems = []
    for position, item in enumerate(value):
        if not isinstance(item, str):
            problems.append(
                f"{where}{name}[{position}] {core.show(item)} is not a {spec.what} name; "
                f"write OpenSSH's name, e.g. {spec.usable[0]}"
            )
        elif item in spec.weak:
            problems.append(
                f"{where}{name}: {core.show(item)} is weak ({spec.weak[item]}); remove it "
                f"(usable: {core.join_and(spec.usable)})"
            )
        elif item not in spec.usable:
            prefix = (
                " (a +, - or ^ prefix edits sshd's built-in list; the baseline replaces it, "
                "so list full names)"
                if item[:1] in ("+", "-", "^")
                else ""
            )
            problems.append(
                f"{where}{name}: {core.show(item)} is not a {spec.what} that OpenSSH 9.2 "
                f"(Debian 12) knows{prefix}; use one of {core.join_and(spec.usable)}"
            )
    return problems


def check_ssh(model: InventoryModel) -> list[str]:
    """The sshd baseline: each common_ssh_* list is a non-empty list of names OpenSSH knows,
    none of them weak. Checked once as set in group_vars/all (or the common role's default),
    then for each host whose value differs (set for a group or the host)."""
    problems: list[str] = []
    for name, spec in SSH_LISTS.items():
        site_set = name in model.site and name not in model.unresolved
        if site_set:
            problems.extend(_ssh_list_problems(name, model.site[name], spec, ""))
        for host in core.managed_hosts(model):
            host_vars = model.hosts.get(host)
            if not isinstance(host_vars, Mapping) or name not in host_vars:
                continue
            if f"{host}:{name}" in model.unresolved:
                continue
            if site_set and host_vars[name] == model.site[name]:
                continue  # the group_vars/all value, checked above
            problems.extend(_ssh_list_problems(name, host_vars[name], spec, f"host {host}: "))
    return problems
