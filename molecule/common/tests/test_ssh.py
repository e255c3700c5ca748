"""The sshd baseline as an operator (and an attacker on the site network) sees it: audited from
the control node with ssh-audit, logged into with the control node's own OpenSSH client."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

NODES = {"mc-time": "10.78.1.11", "mc-node": "10.78.1.12"}
PQ_WARNING = "does not provide protection against post-quantum attacks"


@pytest.fixture(scope="module")
def audit():
    """audit(name) -> ssh-audit's JSON report of that node, from the control node.

    --skip-rate-test: the DHEat probe opens ~40 connections in a second to measure throttling
    (a denial-of-service check, reported only as information); connection limits belong to the
    firewall, not to the sshd baseline.
    """
    reports: dict[str, dict[str, Any]] = {}

    def run(name: str) -> dict[str, Any]:
        if name not in reports:
            argv = [sys.executable, "-m", "ssh_audit", "-j", "--skip-rate-test", "-t", "10"]
            out = subprocess.run(
                [*argv, NODES[name]],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            # 0 good, 2 warnings, 3 failures; 1 is "could not connect" (no report).
            assert out.returncode in (0, 2, 3), out.stdout + out.stderr
            reports[name] = json.loads(out.stdout)
        return reports[name]

    return run


def _findings(report: dict[str, Any], level: str) -> list[str]:
    return [
        f"{section} {entry['algorithm']}: {note}"
        for section in ("kex", "key", "enc", "mac")
        for entry in report.get(section, [])
        for note in entry.get("notes", {}).get(level, [])
    ]


@pytest.mark.parametrize("name", NODES)
def test_ssh_audit_finds_nothing_weak(audit, name):
    report = audit(name)
    assert _findings(report, "fail") == []
    # The one warning the baseline accepts: X25519, kept for clients without the post-quantum
    # hybrid (OpenSSH < 8.5, libssh, paramiko), is not post-quantum itself.
    warnings = _findings(report, "warn")
    assert [w for w in warnings if not (w.startswith("kex ") and w.endswith(PQ_WARNING))] == []
    assert report["kex"][0]["algorithm"] == "sntrup761x25519-sha512@openssh.com"
    # The server side of the Terrapin fix (CVE-2023-48795) is there for chacha20 and -etm MACs.
    assert "kex-strict-s-v00@openssh.com" in [e["algorithm"] for e in report["kex"]]


@pytest.mark.parametrize("name", NODES)
def test_the_only_host_key_offered_is_the_nodes_ed25519_key(audit, node, name):
    report = audit(name)
    assert [key["algorithm"] for key in report["key"]] == ["ssh-ed25519"]
    host = node(name)
    own = host.run_expect([0], "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub").stdout.split()
    offered = {f["hostkey"]: f["hash"] for f in report["fingerprints"] if f["hash_alg"] == "SHA256"}
    assert offered == {"ssh-ed25519": own[1].removeprefix("SHA256:")}
    # No other private host key is left on the node to be offered by a later configuration.
    keys = host.run_expect([0], "ls /etc/ssh").stdout.split()
    assert [k for k in keys if k.startswith("ssh_host_")] == [
        "ssh_host_ed25519_key",
        "ssh_host_ed25519_key.pub",
    ]
    # A restart (a fence, a reboot) brings none back and keeps the node's own key.
    host.run_expect([0], "systemctl restart ssh")
    keys = host.run_expect([0], "ls /etc/ssh").stdout.split()
    assert [k for k in keys if k.startswith("ssh_host_")] == [
        "ssh_host_ed25519_key",
        "ssh_host_ed25519_key.pub",
    ]
    after = host.run_expect([0], "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub").stdout
    assert after.split()[1] == own[1]


def _ssh_options() -> list[str]:
    """The options Molecule's Ansible connects with (.config/molecule/config.yml), for a fresh
    connection: no shared master, so the handshake really happens against the new sshd."""
    project = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
    config = yaml.safe_load((project / ".config" / "molecule" / "config.yml").read_text())
    options = shlex.split(" ".join(config["driver"]["ssh_connection_options"]))
    fresh = []
    for flag, value in zip(options[::2], options[1::2], strict=True):
        assert flag == "-o", options
        if not value.startswith(("ControlMaster=", "ControlPersist=")):
            fresh += [flag, value]
    return [*fresh, "-o", "ControlPath=none"]


def _ssh(address: str, *options: str, command: str = "true", **kwargs: Any):
    return subprocess.run(
        ["ssh", *_ssh_options(), *options, f"root@{address}", command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
        **kwargs,
    )


@pytest.mark.parametrize("name", NODES)
def test_the_control_node_still_logs_in_with_its_key(name):
    """The control node's OpenSSH client (Debian 12, 9.2) with Molecule's key and options."""
    key = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "ssh" / "id_ed25519"
    out = _ssh(
        NODES[name],
        "-v",
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-i",
        str(key),
        command="echo logged-in",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "logged-in"
    assert "kex: algorithm: sntrup761x25519-sha512@openssh.com" in out.stderr
    assert "kex: host key algorithm: ssh-ed25519" in out.stderr


def test_ansible_still_reaches_every_node(tmp_path):
    """Ansible itself, over new SSH connections (its own control sockets are elsewhere)."""
    inventory = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "inventory"
    env = {**os.environ, "ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp")}
    out = subprocess.run(
        ["ansible", "-i", str(inventory), "all", "-m", "ansible.builtin.ping", "-o"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert sorted(line.split(" |")[0] for line in out.stdout.splitlines() if "SUCCESS" in line) == (
        sorted(NODES)
    )


@pytest.mark.parametrize("name", NODES)
def test_root_with_the_right_password_is_refused(node, tmp_path, name):
    """Give root a password for the length of the test and offer it: sshd must not even ask."""
    host = node(name)
    password = secrets.token_urlsafe(18)
    saved = host.run_expect([0], "getent shadow root").stdout.split(":")[1]
    askpass = tmp_path / "askpass"
    askpass.write_text('#!/bin/sh\nprintf "%s\\n" "$JOVIAL_TEST_PASSWORD"\n')
    askpass.chmod(0o700)
    env = {
        **os.environ,
        "SSH_ASKPASS": str(askpass),
        "SSH_ASKPASS_REQUIRE": "force",
        "JOVIAL_TEST_PASSWORD": password,
    }
    host.run_expect([0], f"printf 'root:%s\\n' '{password}' | chpasswd")
    try:
        out = _ssh(
            NODES[name],
            "-v",
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            "PreferredAuthentications=password,keyboard-interactive",
            "-o",
            "NumberOfPasswordPrompts=1",
            env=env,
        )
    finally:
        host.run_expect([0], f"usermod -p {shlex.quote(saved)} root")
    assert out.returncode == 255, out.stderr[-2000:]
    methods = {
        line.rsplit(": ", 1)[1]
        for line in out.stderr.splitlines()
        if "Authentications that can continue:" in line
    }
    assert methods == {"publickey"}


@pytest.mark.parametrize("name", NODES)
def test_sshd_runs_with_the_fixed_settings(node, name):
    """What sshd applies (sshd -T), for the settings no client can see from outside."""
    effective = dict(
        line.split(" ", 1)
        for line in node(name).check_output("sshd -T").splitlines()
        if " " in line
    )
    assert {
        key: effective[key]
        for key in (
            "permitrootlogin",
            "passwordauthentication",
            "kbdinteractiveauthentication",
            "x11forwarding",
        )
    } == {
        "permitrootlogin": "without-password",
        "passwordauthentication": "no",
        "kbdinteractiveauthentication": "no",
        "x11forwarding": "no",
    }
