"""What users and operators rely on from the LDAP layer (two providers, one SSSD client).

Every check talks to the real slapd pair and the real SSSD/PAM stack of the scenario. The
drill at the end stops provider 1 and checks that lookups and password logins keep working,
then that both providers hold the same content again once it is back.
"""

from __future__ import annotations

import os
import shlex
import time
from pathlib import Path

import pytest
from jovial_fixtures import run_playbook, wait_for

BASE = "dc=ldap,dc=jovial,dc=test"
DOMAIN = "ldap.jovial.test"
PROVIDERS = ["ml-ldap1", "ml-ldap2"]
NODES = [*PROVIDERS, "ml-client"]
USERS = {"ada": (10001, 10100), "bruno": (10002, 10101)}
READER = f"cn=reader,ou=services,{BASE}"


def secret(name: str) -> str:
    path = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "secrets" / name
    return path.read_text().strip()


def search(host, uri: str, base: str, *args: str, bind: tuple[str, str] | None = None, tls=False):
    """ldapsearch from host; returns the command result (rc, stdout, stderr)."""
    cmd = ["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-H", uri, "-x"]
    if tls:
        cmd.append("-ZZ")
    if bind:
        cmd += ["-D", bind[0], "-w", bind[1]]
    cmd += ["-b", base, *args]
    return host.run(shlex.join(cmd))


def root_search(host, *args: str):
    return host.run(
        shlex.join(
            [
                "ldapsearch",
                "-LLL",
                "-o",
                "ldif-wrap=no",
                "-Q",
                "-Y",
                "EXTERNAL",
                "-H",
                "ldapi:///",
                "-b",
                BASE,
                *args,
            ]
        )
    )


def set_description(host, dn: str, text: str) -> None:
    ldif = f"dn: {dn}\nchangetype: modify\nreplace: description\ndescription: {text}\n"
    host.run_expect([0], f"printf %s {shlex.quote(ldif)} | ldapmodify -Q -Y EXTERNAL -H ldapi:///")


def descriptions(host, dn: str) -> list[str]:
    out = host.run(
        shlex.join(
            [
                "ldapsearch",
                "-LLL",
                "-o",
                "ldif-wrap=no",
                "-Q",
                "-Y",
                "EXTERNAL",
                "-H",
                "ldapi:///",
                "-b",
                dn,
                "-s",
                "base",
                "description",
            ]
        )
    )
    return [
        line.split(": ", 1)[1]
        for line in out.stdout.splitlines()
        if line.startswith("description: ")
    ]


def pam_login(host, user: str, password: str):
    """A real PAM authentication + account check through the 'login' service (pam_sss)."""
    return host.run(
        f"printf '%s\\n' {shlex.quote(password)} | pamtester login {user} authenticate acct_mgmt"
    )


# --- TLS and access control -------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_reader_account_reads_over_ldaps_and_starttls_with_a_verified_certificate(node, provider):
    client = node("ml-client")
    creds = (READER, secret("ldap_reader_password"))
    for uri, tls in (
        (f"ldaps://{provider}.{DOMAIN}", False),
        (f"ldap://{provider}.{DOMAIN}", True),
    ):
        out = search(
            client, uri, f"ou=people,{BASE}", "(uid=ada)", "uidNumber", bind=creds, tls=tls
        )
        assert out.rc == 0, out.stderr
        assert "uidNumber: 10001" in out.stdout
    # The certificate is checked against the site CA: an unrelated CA bundle must fail.
    out = client.run(
        f"LDAPTLS_CACERT=/etc/ssl/certs/ISRG_Root_X1.pem LDAPTLS_REQCERT=demand ldapsearch -x -H "
        f"ldaps://{provider}.{DOMAIN} -D {READER} -w {shlex.quote(creds[1])} -b {BASE} -s base"
    )
    assert out.rc != 0 and "Can't contact LDAP server" in out.stderr


@pytest.mark.parametrize("uri", [f"ldaps://ml-ldap1.{DOMAIN}", f"ldap://ml-ldap2.{DOMAIN}"])
def test_anonymous_search_returns_no_users_and_no_hashes(node, uri):
    client = node("ml-client")
    out = search(client, uri, BASE, "(objectClass=*)", "*", "userPassword")
    assert "dn:" not in out.stdout
    assert "userPassword" not in out.stdout
    assert "uid=" not in out.stdout
    # ...while the same search by the reader does see the users (the check can fail).
    seen = search(
        client,
        uri,
        BASE,
        "(uid=*)",
        "uid",
        bind=(READER, secret("ldap_reader_password")),
        tls=uri.startswith("ldap://"),
    )
    assert "uid: ada" in seen.stdout and "uid: bruno" in seen.stdout


@pytest.mark.parametrize("provider", PROVIDERS)
def test_simple_bind_over_plain_ldap_is_refused(node, provider):
    client = node("ml-client")
    creds = (f"uid=ada,ou=people,{BASE}", secret("ldap_password_ada"))
    plain = search(client, f"ldap://{provider}.{DOMAIN}", BASE, "-s", "base", bind=creds)
    assert plain.rc == 13, plain.stderr
    assert "Confidentiality required" in plain.stderr
    over_tls = search(
        client, f"ldap://{provider}.{DOMAIN}", BASE, "-s", "base", bind=creds, tls=True
    )
    assert over_tls.rc == 0, over_tls.stderr


def test_password_hashes_are_salted_and_readable_by_nobody(node):
    client = node("ml-client")
    for who, password in (
        (READER, secret("ldap_reader_password")),
        (f"uid=ada,ou=people,{BASE}", secret("ldap_password_ada")),
    ):
        out = search(
            client,
            f"ldaps://ml-ldap1.{DOMAIN}",
            f"ou=people,{BASE}",
            "(uid=*)",
            "userPassword",
            "uid",
            bind=(who, password),
        )
        assert out.rc == 0, out.stderr
        assert "uid: ada" in out.stdout
        assert "userPassword" not in out.stdout, f"{who} can read password hashes"
    for provider in PROVIDERS:
        hashes = root_search(node(provider), "(objectClass=posixAccount)", "userPassword").stdout
        values = [
            line.split(":: ", 1)[1]
            for line in hashes.splitlines()
            if line.startswith("userPassword::")
        ]
        assert len(values) == len(USERS)
        import base64

        assert all(base64.b64decode(v).startswith(b"{SSHA}") for v in values), values


def test_a_user_can_change_their_own_password(node):
    client = node("ml-client")
    dn = f"uid=bruno,ou=people,{BASE}"
    old = secret("ldap_password_bruno")
    new = "Temp-" + old[::-1]
    for current, wanted in ((old, new), (new, old)):
        out = client.run(
            f"ldappasswd -x -ZZ -H ldap://ml-ldap1.{DOMAIN} -D {dn} -w {shlex.quote(current)} "
            f"-a {shlex.quote(current)} -s {shlex.quote(wanted)}"
        )
        assert out.rc == 0, out.stderr


# --- identities on every node -------------------------------------------------------------


@pytest.mark.parametrize("user", sorted(USERS))
def test_id_equals_the_ldap_numbers_on_every_node(node, user):
    uid, gid = USERS[user]
    entry = search(
        node("ml-client"),
        f"ldaps://ml-ldap1.{DOMAIN}",
        f"ou=people,{BASE}",
        f"(uid={user})",
        "uidNumber",
        "gidNumber",
        bind=(READER, secret("ldap_reader_password")),
    ).stdout
    assert f"uidNumber: {uid}" in entry and f"gidNumber: {gid}" in entry
    passwd_lines = set()
    for name in NODES:
        host = node(name)
        assert host.run(f"id -u {user}").stdout.strip() == str(uid), name
        assert host.run(f"id -g {user}").stdout.strip() == str(gid), name
        passwd_lines.add(host.run(f"getent passwd {user}").stdout.strip())
        groups = host.run(f"id -Gn {user}").stdout.split()
        if user == "ada":
            assert sorted(groups) == ["campaign-deep", "jovial-admins"], name
    assert passwd_lines == {
        f"{user}:*:{uid}:{gid}:{user.title()} Lab:/lustre/home/{user}:/bin/bash"
    }


def test_removed_entries_are_absent(node):
    assert node("ml-client").run("getent passwd gone").rc == 2
    assert node("ml-client").run("getent group campaign-retired").rc == 2


def test_a_hand_edited_entry_is_put_back_by_ldap_directory_and_only_that_entry(node, tmp_path):
    """What the role's content task does on every converge, on the write provider: a value
    changed by hand behind the inventory's back is restored; check mode reports it first and
    changes nothing; a run with nothing to do reports changed=false."""
    provider = node("ml-ldap1")
    dn = f"uid=bruno,ou=people,{BASE}"
    edit = f"dn: {dn}\nchangetype: modify\nreplace: loginShell\nloginShell: /bin/sh\n"
    provider.run_expect(
        [0], f"printf %s {shlex.quote(edit)} | ldapmodify -Q -Y EXTERNAL -H ldapi:///"
    )
    playbook = tmp_path / "directory.yml"
    playbook.write_text(
        "- hosts: ml-ldap1\n  gather_facts: false\n  tasks:\n"
        "    - ldap_directory:\n        entries:\n"
        f"          - {{dn: '{dn}', object_class: [top, inetOrgPerson, posixAccount],\n"
        "             attributes: {loginShell: /bin/bash, uidNumber: '10002'}}\n"
    )

    def shell() -> str:
        out = root_search(provider, "(uid=bruno)", "loginShell").stdout
        return out.split("loginShell: ", 1)[1].split()[0] if "loginShell: " in out else ""

    checked = run_playbook(str(playbook), "--check", "--diff")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "changed=1" in checked.stdout and "loginShell: /bin/sh" in checked.stdout
    assert shell() == "/bin/sh", "check mode must not write"
    fixed = run_playbook(str(playbook))
    assert fixed.returncode == 0 and "changed=1" in fixed.stdout, fixed.stdout + fixed.stderr
    assert shell() == "/bin/bash"
    assert provider.run("getent passwd bruno").stdout.strip().endswith(":/bin/bash")
    again = run_playbook(str(playbook))
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout + again.stderr


def test_password_login_through_pam(node):
    client = node("ml-client")
    ok = pam_login(client, "ada", secret("ldap_password_ada"))
    assert ok.rc == 0, ok.stderr
    assert "successfully authenticated" in ok.stderr + ok.stdout
    bad = pam_login(client, "ada", "not-the-password")
    assert bad.rc != 0


def test_a_scheduled_backup_holds_config_and_data(node):
    host = node("ml-ldap1")
    assert host.run("systemctl is-enabled jovial-ldap-backup.timer").stdout.strip() == "enabled"
    host.run_expect([0], "systemctl start jovial-ldap-backup.service")
    data = host.run("zcat /var/backups/ldap/data-latest.ldif.gz").stdout
    config = host.run("zcat /var/backups/ldap/config-latest.ldif.gz").stdout
    assert "dn: uid=ada,ou=people," in data and "contextCSN:" in data
    assert "olcSyncrepl:" in config
    assert host.run("stat -L -c %a /var/backups/ldap/data-latest.ldif.gz").stdout.strip() == "600"
    # The run is copied off the node, to the other provider (both are backup stores), the same
    # bytes, readable there only by the store's receiving user.
    taken = host.check_output("readlink /var/backups/ldap/data-latest.ldif.gz")
    stored = f"/srv/jovial-backups/ml-ldap1/ldap/{taken}"
    store = node("ml-ldap2")
    assert store.check_output(f"stat -c '%a %U' {stored}") == "600 jovial-backup"
    local_sum = host.check_output(f"sha256sum /var/backups/ldap/{taken}").split()[0]
    assert store.check_output(f"sha256sum {stored}").split()[0] == local_sum


# --- replication ------------------------------------------------------------------------------


def test_a_change_on_either_provider_reaches_the_other(node):
    dn = f"cn=campaign-deep,ou=groups,{BASE}"
    figures = {}
    for writer, reader in (("ml-ldap1", "ml-ldap2"), ("ml-ldap2", "ml-ldap1")):
        text = f"written on {writer} at {time.time():.3f}"
        start = time.monotonic()
        set_description(node(writer), dn, text)
        seen = wait_for(
            lambda t=text, r=reader: t in descriptions(node(r), dn), timeout=30, interval=0.05
        )
        figures[f"{writer}->{reader}_seconds"] = round(time.monotonic() - start, 3)
        assert seen, f"{text!r} never reached {reader}"
    # Figures only for the log; tests/bench/bench_ldap.py measures them (build/bench/ldap.json).
    print("replication delays:", figures)


def full_content(host) -> str:
    return root_search(host, "(objectClass=*)", "*", "entryCSN", "entryUUID", "contextCSN").stdout


# --- drill: provider 1 down -----------------------------------------------------------------


def test_drill_provider_down_then_back(node):
    ldap1, ldap2, client = node("ml-ldap1"), node("ml-ldap2"), node("ml-client")
    ldap1.run_expect([0], "systemctl stop slapd")
    try:
        since = ldap2.run("date '+%Y-%m-%d %H:%M:%S'").stdout.strip()
        # Drop SSSD's cache so lookups really go to a provider (the second one).
        client.run_expect([0], "sss_cache -E")
        for user, (uid, _gid) in USERS.items():
            # Wait on the lookup's answer (a result object is always truthy).
            found = wait_for(
                lambda u=user, i=uid: client.run(f"id -u {u}").stdout.strip() == str(i),
                timeout=20,
            )
            assert found, f"{user} not resolved as uid {uid} with provider 1 down"
        login = pam_login(client, "ada", secret("ldap_password_ada"))
        assert login.rc == 0, login.stderr
        # The login was checked by provider 2, not served from a cache.
        log = ldap2.run(f"journalctl -u slapd --since {shlex.quote(since)} --no-pager").stdout
        assert f'BIND dn="uid=ada,ou=people,{BASE}" method=128' in log
        # A write while provider 1 is down ...
        set_description(
            ldap2, f"cn=campaign-transient,ou=groups,{BASE}", "changed while ldap1 down"
        )
    finally:
        ldap1.run_expect([0], "systemctl start slapd")
    # ... is on provider 1 once it is back, and both hold the same content.
    same = wait_for(
        lambda: (
            full_content(ldap1) == full_content(ldap2)
            and "changed while ldap1 down" in full_content(ldap1)
        ),
        timeout=60,
    )
    assert same, "providers differ after provider 1 came back"
    assert "contextCSN:" in full_content(ldap1)
