"""The sshd baseline's inventory checks (check_ssh), on the lab model with one change per case;
each case states the exact problems it must produce, no more and no fewer. Then the tables
behind them: every name OpenSSH 9.2 of Debian 12 knows (fixtures/ssh/, `ssh -Q`) is either usable
or weak, and the split agrees with ssh-audit, the tool the Molecule `common` scenario audits
nodes with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils import inventory_model as im
from ansible.module_utils import inventory_ssh as ssh
from ssh_audit.ssh2_kexdb import SSH2_KexDB
from test_inventory_model import build

REPO = Path(__file__).resolve().parents[4]
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "ssh"
DEFAULTS = yaml.safe_load((REPO / "roles" / "common" / "defaults" / "main.yml").read_text())
SAMPLE = yaml.safe_load(
    (REPO / "inventories" / "sample" / "group_vars" / "all" / "ssh.yml").read_text()
)

MACS_USABLE = (
    "usable: hmac-sha2-512-etm@openssh.com, hmac-sha2-256-etm@openssh.com and "
    "umac-128-etm@openssh.com"
)
KEX_USABLE = (
    "sntrup761x25519-sha512@openssh.com, sntrup761x25519-sha512, curve25519-sha256, "
    "curve25519-sha256@libssh.org, diffie-hellman-group16-sha512, "
    "diffie-hellman-group18-sha512 and diffie-hellman-group-exchange-sha256"
)
CIPHERS_USABLE = (
    "chacha20-poly1305@openssh.com, aes256-gcm@openssh.com, aes128-gcm@openssh.com, "
    "aes256-ctr, aes192-ctr and aes128-ctr"
)
GOOD_MAC = "hmac-sha2-512-etm@openssh.com"

CASES = [
    pytest.param({}, [], id="unset-role-defaults-apply"),
    pytest.param(
        {f"site.{name}": DEFAULTS[name] for name in im.SSH_SETTINGS},
        [],
        id="role-defaults-valid",
    ),
    pytest.param(
        {
            "site.common_ssh_kex_algorithms": [
                "curve25519-sha256",
                "diffie-hellman-group16-sha512",
            ],
            "site.common_ssh_host_key_types": ["ed25519", "rsa"],
        },
        [],
        id="older-clients-allowed",
    ),
    pytest.param(
        {"site.common_ssh_macs": [GOOD_MAC, "hmac-sha1"]},
        [
            "common_ssh_macs: 'hmac-sha1' is weak (SHA-1, encrypt-and-MAC); "
            f"remove it ({MACS_USABLE})"
        ],
        id="mac-sha1",
    ),
    pytest.param(
        {"site.common_ssh_macs": ["umac-64-etm@openssh.com", "hmac-sha2-256"]},
        [
            f"common_ssh_macs: 'umac-64-etm@openssh.com' is weak (64-bit tag); remove it "
            f"({MACS_USABLE})",
            "common_ssh_macs: 'hmac-sha2-256' is weak (encrypt-and-MAC); "
            f"remove it ({MACS_USABLE})",
        ],
        id="mac-short-tag-and-encrypt-and-mac",
    ),
    pytest.param(
        {"site.common_ssh_kex_algorithms": ["ecdh-sha2-nistp256", "diffie-hellman-group14-sha1"]},
        [
            "common_ssh_kex_algorithms: 'ecdh-sha2-nistp256' is weak (NIST P-curve ECDH); "
            f"remove it (usable: {KEX_USABLE})",
            "common_ssh_kex_algorithms: 'diffie-hellman-group14-sha1' is weak (SHA-1); "
            f"remove it (usable: {KEX_USABLE})",
        ],
        id="kex-nist-and-sha1",
    ),
    pytest.param(
        {"site.common_ssh_ciphers": ["aes256-ctr", "aes256-cbc"]},
        [
            "common_ssh_ciphers: 'aes256-cbc' is weak (CBC mode, neither AEAD nor CTR); "
            f"remove it (usable: {CIPHERS_USABLE})"
        ],
        id="cipher-cbc",
    ),
    pytest.param(
        {"site.common_ssh_ciphers": []},
        [
            "common_ssh_ciphers is empty; sshd needs at least one cipher: list the ones to "
            "offer, e.g. [chacha20-poly1305@openssh.com, aes256-gcm@openssh.com] "
            "(roles/common/defaults/main.yml holds the baseline)"
        ],
        id="cipher-empty",
    ),
    pytest.param(
        {"site.common_ssh_macs": "hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com"},
        [
            "common_ssh_macs: expected a list of MACs, got a string "
            "('hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com'); write a YAML list, "
            "e.g. [hmac-sha2-512-etm@openssh.com, hmac-sha2-256-etm@openssh.com]"
        ],
        id="macs-comma-string",
    ),
    pytest.param(
        {"site.common_ssh_kex_algorithms": None},
        [
            "common_ssh_kex_algorithms: expected a list of key exchange algorithms, got "
            "nothing (null); write a YAML list, e.g. [sntrup761x25519-sha512@openssh.com, "
            "sntrup761x25519-sha512]"
        ],
        id="kex-null",
    ),
    pytest.param(
        {"site.common_ssh_macs": [GOOD_MAC, 128]},
        [
            "common_ssh_macs[1] 128 is not a MAC name; write OpenSSH's name, "
            "e.g. hmac-sha2-512-etm@openssh.com"
        ],
        id="mac-not-a-string",
    ),
    pytest.param(
        {"site.common_ssh_macs": ["hmac-sha3-256", "+hmac-sha2-512-etm@openssh.com"]},
        [
            "common_ssh_macs: 'hmac-sha3-256' is not a MAC that OpenSSH 9.2 (Debian 12) knows; "
            "use one of hmac-sha2-512-etm@openssh.com, hmac-sha2-256-etm@openssh.com and "
            "umac-128-etm@openssh.com",
            "common_ssh_macs: '+hmac-sha2-512-etm@openssh.com' is not a MAC that OpenSSH 9.2 "
            "(Debian 12) knows (a +, - or ^ prefix edits sshd's built-in list; the baseline "
            "replaces it, so list full names); use one of hmac-sha2-512-etm@openssh.com, "
            "hmac-sha2-256-etm@openssh.com and umac-128-etm@openssh.com",
        ],
        id="mac-unknown-and-prefixed",
    ),
    pytest.param(
        {"site.common_ssh_host_key_types": ["ed25519", "ecdsa", "ssh-ed25519"]},
        [
            "common_ssh_host_key_types: 'ecdsa' is weak (NIST P-curve ECDSA); remove it "
            "(usable: ed25519 and rsa)",
            "common_ssh_host_key_types: 'ssh-ed25519' is not a host key type that OpenSSH 9.2 "
            "(Debian 12) knows; use one of ed25519 and rsa",
        ],
        id="host-key-ecdsa-and-algorithm-name",
    ),
    pytest.param(
        {"hosts.edge1.common_ssh_macs": ["umac-64-etm@openssh.com"]},
        [
            "host edge1: common_ssh_macs: 'umac-64-etm@openssh.com' is weak (64-bit tag); "
            f"remove it ({MACS_USABLE})"
        ],
        id="host-override-weak",
    ),
    pytest.param(
        {
            "site.common_ssh_macs": [GOOD_MAC, "hmac-md5"],
            "hosts.edge1.common_ssh_macs": [GOOD_MAC, "hmac-md5"],
            "hosts.edge2.common_ssh_macs": [GOOD_MAC],
        },
        [f"common_ssh_macs: 'hmac-md5' is weak (MD5, encrypt-and-MAC); remove it ({MACS_USABLE})"],
        id="group-vars-all-value-reported-once",
    ),
    pytest.param(
        {
            "site.common_ssh_macs": None,
            "hosts.edge1.common_ssh_macs": ["hmac-md5"],
            "unresolved": {"common_ssh_macs": "undefined", "edge1:common_ssh_macs": "undefined"},
        },
        [],
        id="unresolved-reported-by-check-unresolved",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), CASES)
def test_check_ssh(changes: dict[str, Any], expected: list[str]) -> None:
    assert im.check_ssh(build(changes)) == expected


def test_the_check_runs_with_every_other_check() -> None:
    assert im.check_ssh in im.CHECKERS
    problems = im.validate(build({"site.common_ssh_macs": ["hmac-sha1"]}))
    assert [p for p in problems if p.startswith("common_ssh_macs: 'hmac-sha1' is weak")]


def test_the_settings_are_collected_from_the_inventory_and_the_common_role() -> None:
    """What the action plugin reads: group_vars/all (or the role's default) and each host's."""
    assert set(im.SSH_SETTINGS) == set(ssh.SSH_LISTS)
    assert set(im.SSH_SETTINGS) <= set(im.SITE_VARIABLES)
    assert set(im.SSH_SETTINGS) <= set(im.HOST_VARIABLES)
    assert set(im.SSH_SETTINGS) <= set(im.ROLE_DEFAULTS["common"])


def test_the_sample_inventory_uses_the_baseline() -> None:
    """inventories/sample/group_vars/all/ssh.yml shows the role's defaults, unchanged."""
    assert {name: SAMPLE[name] for name in im.SSH_SETTINGS} == {
        name: DEFAULTS[name] for name in im.SSH_SETTINGS
    }


# --- The tables behind the check


@pytest.mark.parametrize(
    ("variable", "fixture"),
    [
        ("common_ssh_kex_algorithms", "ssh_Q_kex.txt"),
        ("common_ssh_ciphers", "ssh_Q_cipher.txt"),
        ("common_ssh_macs", "ssh_Q_mac.txt"),
    ],
)
def test_every_name_openssh_knows_is_usable_or_weak(variable: str, fixture: str) -> None:
    spec = ssh.SSH_LISTS[variable]
    known = (FIXTURES / fixture).read_text().split()
    assert not set(spec.usable) & set(spec.weak)
    assert sorted([*spec.usable, *spec.weak]) == sorted(known)


# ssh-audit's database category and names for each list's entries.
AUDIT_NAMES = {
    "common_ssh_kex_algorithms": ("kex", lambda name: [name]),
    "common_ssh_ciphers": ("enc", lambda name: [name]),
    "common_ssh_macs": ("mac", lambda name: [name]),
    "common_ssh_host_key_types": (
        "key",
        lambda name: {
            "ed25519": ["ssh-ed25519"],
            "rsa": ["rsa-sha2-512", "rsa-sha2-256"],
            "ecdsa": ["ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"],
            "dsa": ["ssh-dss"],
        }[name],
    ),
}


def audit_findings(variable: str, name: str) -> list[str]:
    """ssh-audit's failures and warnings for an entry, less the post-quantum warning (the
    baseline keeps X25519 for clients without the hybrid; the audit test allows only that)."""
    category, audit_names = AUDIT_NAMES[variable]
    findings = []
    for audit_name in audit_names(name):
        entry = SSH2_KexDB.MASTER_DB[category][audit_name]
        fails = entry[1] if len(entry) > 1 else []
        warns = entry[2] if len(entry) > 2 else []
        findings += [*fails, *(w for w in warns if w != SSH2_KexDB.WARN_NOT_PQ_SAFE)]
    return findings


@pytest.mark.parametrize("variable", im.SSH_SETTINGS)
def test_usable_and_weak_agree_with_ssh_audit(variable: str) -> None:
    spec = ssh.SSH_LISTS[variable]
    assert {name: audit_findings(variable, name) for name in spec.usable} == {
        name: [] for name in spec.usable
    }
    assert [name for name in spec.weak if not audit_findings(variable, name)] == []


def test_the_baseline_prefers_post_quantum_key_exchange_and_offers_one_ed25519_key() -> None:
    assert DEFAULTS["common_ssh_kex_algorithms"][0] == "sntrup761x25519-sha512@openssh.com"
    assert DEFAULTS["common_ssh_host_key_types"] == ["ed25519"]
