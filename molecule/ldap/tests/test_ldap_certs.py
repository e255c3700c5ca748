"""A provider's certificate revoked with playbooks/site-ca-certs.yml is refused by every LDAP
client, then re-issued and served (#19).

The site CA's CRL reaches every node's LDAP clients (roles/ldap_client: ldap.conf's
TLS_CRLFILE, which SSSD's libldap reads too, in a directory the site CA records, so that the
playbook installs a new CRL there and restarts SSSD). Revoking provider 1's certificate (without
re-issuing it) makes ldapsearch refuse provider 1 while provider 2 still answers, and SSSD fail
over to provider 2 for lookups and password logins. The next run of the playbook re-issues the
certificate and restarts provider 1's slapd, which then serves the new one; provider 2's slapd,
whose certificate did not change, is left running (slapd checks no client certificates, so a
new CRL alone does not restart it). Runs between test_ldap.py and the drills, and leaves both
providers serving.
"""

from __future__ import annotations

import re
import shlex

from jovial_fixtures import run_playbook, wait_for
from test_ldap import BASE, DOMAIN, PROVIDERS, READER, USERS, pam_login, search, secret

CERTS = "playbooks/site-ca-certs.yml"
SSSD_LOG = "/var/log/sssd/sssd_jovial.log"


def _served_serial(client, provider: str) -> str:
    """Serial of the certificate the provider's LDAPS port presents to ml-client ('' if none)."""
    out = client.run(
        f"openssl s_client -connect {provider}.{DOMAIN}:636 </dev/null 2>/dev/null "
        "| openssl x509 -noout -serial"
    )
    return out.stdout.strip() if out.rc == 0 else ""


def _recap(stdout: str) -> dict[str, int]:
    """changed= of every host in the PLAY RECAP."""
    rows = re.findall(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", stdout, re.M)
    return {host: int(changed) for host, changed in rows}


def _pid(host, unit: str) -> str:
    return host.run(f"systemctl show -p MainPID --value {unit}").stdout.strip()


def _binds(host, dn: str, since: str) -> int:
    log = host.run(f"journalctl -u slapd --since {shlex.quote(since)} --no-pager").stdout
    return log.count(f'BIND dn="{dn}" method=128')


def test_a_revoked_provider_certificate_is_refused_then_reissued_and_served(node):
    client = node("ml-client")
    file_serial = "openssl x509 -noout -serial -in /etc/ldap/tls/slapd.crt"
    before = {p: _served_serial(client, p) for p in PROVIDERS}
    assert before == {p: node(p).run(file_serial).stdout.strip() for p in PROVIDERS}
    slapd = {p: _pid(node(p), "slapd") for p in PROVIDERS}
    sssd = _pid(client, "sssd")
    sssd_log_lines = int(client.run(f"wc -l < {SSSD_LOG}").stdout.strip() or 0)
    creds = (READER, secret("ldap_reader_password"))
    ada = f"uid=ada,ou=people,{BASE}"

    # Revoke only (reissue=false): the new CRL reaches every node's LDAP clients, SSSD restarts.
    out = run_playbook(
        CERTS,
        "-e", "revoke=ml-ldap1", "-e", "revoke_cert=slapd", "-e", "revoke_reason=key_compromise",
        "-e", "reissue=false",
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "ml-client: CA certificate and CRL (ldap-client) in /etc/ldap/site-ca installed" in (
        out.stdout
    ), out.stdout[-3000:]
    assert _pid(client, "sssd") != sssd

    # ldapsearch (ldap.conf) refuses provider 1's certificate as revoked; provider 2 answers.
    refused = client.run(
        f"ldapsearch -d 1 -x -H ldaps://ml-ldap1.{DOMAIN} -D {READER} "
        f"-w {shlex.quote(creds[1])} -b {BASE} -s base dn"
    )
    assert refused.rc != 0, refused.stdout
    assert "TLS: peer cert untrusted or revoked" in refused.stdout + refused.stderr
    found = search(client, f"ldaps://ml-ldap2.{DOMAIN}", f"ou=people,{BASE}", "(uid=ada)",
                   "uidNumber", bind=creds)  # fmt: skip
    assert found.rc == 0 and "uidNumber: 10001" in found.stdout, found.stderr

    # SSSD (its cache dropped) resolves users and checks a password through provider 2 only.
    since = node("ml-ldap2").run("date '+%Y-%m-%d %H:%M:%S'").stdout.strip()
    client.run_expect([0], "sss_cache -E")
    for user, (uid, _gid) in USERS.items():
        resolved = wait_for(
            lambda u=user, i=uid: client.run(f"id -u {u}").stdout.strip() == str(i), timeout=20
        )
        assert resolved, f"{user} not resolved as uid {uid} with provider 1's certificate revoked"
    login = pam_login(client, "ada", secret("ldap_password_ada"))
    assert login.rc == 0, login.stderr
    assert _binds(node("ml-ldap2"), ada, since) >= 1
    assert _binds(node("ml-ldap1"), ada, since) == 0
    sssd_log = client.run(f"tail -n +{sssd_log_lines + 1} {SSSD_LOG}").stdout
    assert "ldap_install_tls failed" in sssd_log, sssd_log[-2000:]

    # The next run re-issues it (new key and serial) and restarts provider 1's slapd only.
    out = run_playbook(CERTS)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "ml-ldap1: slapd in /etc/ldap/tls RE-ISSUED" in out.stdout, out.stdout[-3000:]
    new = node("ml-ldap1").run(file_serial).stdout.strip()
    assert new != before["ml-ldap1"]
    # (systemd's restart returns before slapd listens again: a second or so.)
    served = wait_for(lambda: _served_serial(client, "ml-ldap1") == new, timeout=20)
    assert served, _served_serial(client, "ml-ldap1")
    assert _served_serial(client, "ml-ldap2") == before["ml-ldap2"]
    assert _pid(node("ml-ldap1"), "slapd") != slapd["ml-ldap1"]
    assert _pid(node("ml-ldap2"), "slapd") == slapd["ml-ldap2"]
    # Provider 1 answers again over LDAPS, its new certificate verified and checked.
    found = search(client, f"ldaps://ml-ldap1.{DOMAIN}", f"ou=people,{BASE}", "(uid=ada)",
                   "uidNumber", bind=creds)  # fmt: skip
    assert found.rc == 0 and "uidNumber: 10001" in found.stdout, found.stderr

    # A second run changes nothing anywhere.
    again = run_playbook(CERTS)
    assert again.returncode == 0, again.stdout[-3000:]
    recap = _recap(again.stdout)
    assert recap and set(recap.values()) == {0}, recap
