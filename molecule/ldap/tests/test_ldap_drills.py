"""Repair drills on the real provider pair: restore from a backup, re-seed a wiped provider.

Runs after test_ldap.py (pytest takes the files in name order). Each drill changes the
directory, repairs it with the operator's playbook, then checks what an operator would: both
providers hold exactly the expected content (entries with their entryUUID/entryCSN, and the
contextCSN), the client resolves the users again, and a change still replicates both ways.
"""

from __future__ import annotations

import shlex
import time

from jovial_fixtures import run_playbook, wait_for
from test_ldap import BASE, PROVIDERS, USERS, descriptions, full_content, set_description

PEOPLE = f"ou=people,{BASE}"
INTRUDER = f"uid=intruder,{PEOPLE}"


def ldap_change(host, ldif: str) -> None:
    host.run_expect([0], f"printf %s {shlex.quote(ldif)} | ldapmodify -Q -Y EXTERNAL -H ldapi:///")


def entry_dns(host) -> list[str]:
    out = host.run(
        f"ldapsearch -LLL -o ldif-wrap=no -Q -Y EXTERNAL -H ldapi:/// -b {BASE} 1.1"
    ).stdout
    return sorted(line[4:] for line in out.splitlines() if line.startswith("dn: "))


def in_sync(node) -> bool:
    first, second = (full_content(node(p)) for p in PROVIDERS)
    return bool(first) and first == second


def replicates_both_ways(node, tag: str) -> None:
    dn = f"cn=campaign-deep,ou=groups,{BASE}"
    for writer, reader in (PROVIDERS, PROVIDERS[::-1]):
        text = f"{tag}: written on {writer} at {time.time():.3f}"
        set_description(node(writer), dn, text)
        seen = wait_for(
            lambda t=text, r=reader: t in descriptions(node(r), dn), timeout=30, interval=0.2
        )
        assert seen, f"{text!r} never reached {reader}"


def test_drill_restore_from_backup_brings_back_the_content_on_both_providers(node):
    ldap1, ldap2, client = (node(n) for n in (*PROVIDERS, "ml-client"))
    assert wait_for(lambda: in_sync(node), timeout=30), "providers differ before the drill"
    before = full_content(ldap1)
    ldap1.run_expect([0], "systemctl start jovial-ldap-backup.service")
    backup = ldap1.run("readlink -f /var/backups/ldap/data-latest.ldif.gz").stdout.strip()
    assert backup.startswith("/var/backups/ldap/data-2"), backup

    # After the backup: a user deleted on provider 2, one modified and one added on provider 1,
    # all replicated, so the restore has to undo them on both.
    ldap_change(ldap2, f"dn: uid=bruno,{PEOPLE}\nchangetype: delete\n")
    shell = "changetype: modify\nreplace: loginShell\nloginShell: /bin/sh\n"
    ldap_change(ldap1, f"dn: uid=ada,{PEOPLE}\n{shell}")
    ldap_change(
        ldap1,
        f"dn: {INTRUDER}\nchangetype: add\nobjectClass: account\nuid: intruder\n",
    )
    assert wait_for(
        lambda: INTRUDER in entry_dns(ldap2) and f"uid=bruno,{PEOPLE}" not in entry_dns(ldap1),
        timeout=30,
    ), "the changes did not replicate"
    assert full_content(ldap1) != before

    # Without the confirmation: refused, nothing stopped.
    refused = run_playbook("playbooks/ldap-restore.yml", "-e", f"ldap_restore_file={backup}")
    assert refused.returncode != 0
    assert "ldap_restore_confirm=replace-all-ldap-data" in refused.stdout + refused.stderr, (
        refused.stdout[-3000:] + refused.stderr[-3000:]
    )
    assert ldap1.run("systemctl is-active slapd").stdout.strip() == "active"
    assert INTRUDER in entry_dns(ldap1)

    out = run_playbook(
        "playbooks/ldap-restore.yml",
        "-e",
        f"ldap_restore_file={backup}",
        "-e",
        "ldap_restore_confirm=replace-all-ldap-data",
    )
    assert out.returncode == 0, out.stdout[-4000:]

    # Exactly the backed-up content (same entries, UUIDs, CSNs) on both providers.
    for name in PROVIDERS:
        assert full_content(node(name)) == before, f"{name} differs from the backup"
    assert ldap1.run("ls -d /var/lib/ldap.before-restore-*").rc == 0
    # The client sees bruno again with his numbers.
    client.run_expect([0], "sss_cache -E")
    uid, gid = USERS["bruno"]
    found = wait_for(lambda: client.run("id -u bruno").stdout.strip() == str(uid), timeout=30)
    assert found and client.run("id -g bruno").stdout.strip() == str(gid)
    replicates_both_ways(node, "after restore")


def test_drill_wiped_provider_is_reseeded_from_its_partner(node):
    ldap1, ldap2 = (node(n) for n in PROVIDERS)
    assert wait_for(lambda: in_sync(node), timeout=30), "providers differ before the drill"
    # Provider 2 loses its database (disk replaced) while provider 1 keeps taking writes.
    ldap2.run_expect([0], "systemctl stop slapd && rm -rf /var/lib/ldap")
    set_description(
        ldap1, f"cn=campaign-transient,ou=groups,{BASE}", "changed while ldap2 was wiped"
    )

    # Naming the healthy provider (whose partner is now empty) is refused before anything stops.
    wrong = run_playbook("playbooks/recover-ldap-replica.yml", "-e", "ldap_recover_host=ml-ldap1")
    assert wrong.returncode != 0
    assert "cannot re-seed ml-ldap1" in wrong.stdout + wrong.stderr, (
        wrong.stdout[-3000:] + wrong.stderr[-3000:]
    )
    assert ldap1.run("systemctl is-active slapd").stdout.strip() == "active"
    assert "changed while ldap2 was wiped" in full_content(ldap1)

    # The operator's one command for a node that lost something: recover-node.yml finds that
    # ml-ldap2 is an LDAP provider out of sync with its partner and re-seeds it.
    out = run_playbook("playbooks/recover-node.yml", "-l", "ml-ldap2")
    assert out.returncode == 0, out.stdout[-4000:]
    assert "; recovering LDAP provider, then" in out.stdout
    assert ldap2.run("systemctl is-active slapd").stdout.strip() == "active"
    assert wait_for(lambda: in_sync(node), timeout=30), "providers differ after the re-seed"
    assert "changed while ldap2 was wiped" in full_content(ldap2)
    assert len(entry_dns(ldap2)) == len(entry_dns(ldap1)) > len(USERS)
    replicates_both_ways(node, "after re-seed")
    # A second run finds nothing to recover and changes nothing.
    again = run_playbook("playbooks/recover-node.yml", "-l", "ml-ldap2")
    assert again.returncode == 0, again.stdout[-3000:]
    assert "ml-ldap2 holds the same content as ml-ldap1: left as it is." in again.stdout
    recap = again.stdout.split("PLAY RECAP")[-1]
    assert "changed=0" in recap.split("ml-ldap2")[1].split("\n")[0], recap
