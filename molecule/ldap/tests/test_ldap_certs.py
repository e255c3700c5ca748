"""A provider's certificate renewed by playbooks/site-ca-certs.yml is served at once (#19).

slapd reads its key and certificate when it starts, so the role declares its restart to the
site CA (site_ca_cert_services): after the playbook re-issues a provider's certificate, that
provider's slapd is restarted and serves the new one; the other provider, whose certificate did
not change, is left running (slapd checks no client certificates, so a new CRL alone does not
restart it). Runs between test_ldap.py and the drills, and leaves both providers serving.
"""

from __future__ import annotations

import re

from jovial_fixtures import run_playbook, wait_for
from test_ldap import BASE, DOMAIN, PROVIDERS, READER, search, secret

CERTS = "playbooks/site-ca-certs.yml"


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


def test_a_reissued_provider_certificate_is_served_after_the_playbook_restarts_slapd(node):
    client = node("ml-client")
    file_serial = "openssl x509 -noout -serial -in /etc/ldap/tls/slapd.crt"
    before = {p: _served_serial(client, p) for p in PROVIDERS}
    assert before == {p: node(p).run(file_serial).stdout.strip() for p in PROVIDERS}
    pids = {p: node(p).run("systemctl show -p MainPID --value slapd").stdout for p in PROVIDERS}

    out = run_playbook(
        CERTS, "-e", "revoke=ml-ldap1", "-e", "revoke_cert=slapd", "-e", "revoke_reason=superseded"
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "ml-ldap1: slapd in /etc/ldap/tls RE-ISSUED" in out.stdout, out.stdout[-3000:]

    # ml-ldap1 serves its new certificate (slapd restarted); ml-ldap2 kept running as it was.
    new = node("ml-ldap1").run(file_serial).stdout.strip()
    assert new != before["ml-ldap1"]
    # (systemd's restart returns before slapd listens again: a second or so.)
    served = wait_for(lambda: _served_serial(client, "ml-ldap1") == new, timeout=20)
    assert served, _served_serial(client, "ml-ldap1")
    assert _served_serial(client, "ml-ldap2") == before["ml-ldap2"]
    after = {p: node(p).run("systemctl show -p MainPID --value slapd").stdout for p in PROVIDERS}
    assert after["ml-ldap1"] != pids["ml-ldap1"] and after["ml-ldap2"] == pids["ml-ldap2"]
    # The directory answers over LDAPS with the new certificate, verified against the site CA.
    creds = (READER, secret("ldap_reader_password"))
    found = search(client, f"ldaps://ml-ldap1.{DOMAIN}", f"ou=people,{BASE}", "(uid=ada)",
                   "uidNumber", bind=creds)  # fmt: skip
    assert found.rc == 0 and "uidNumber: 10001" in found.stdout, found.stderr

    # A second run changes nothing anywhere.
    again = run_playbook(CERTS)
    assert again.returncode == 0, again.stdout[-3000:]
    recap = _recap(again.stdout)
    assert recap and set(recap.values()) == {0}, recap
