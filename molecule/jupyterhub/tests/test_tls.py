"""Nothing in clear text between the front door and the hub, and the site CA's revocation.

The hub's public port (configurable-http-proxy, 8000) speaks only TLS with a host certificate
from the site CA; nginx on the proxy pair verifies it against the CA and the CA's CRL. An
operator revokes the hub's certificate with playbooks/site-ca-certs.yml: the front door then
refuses the hub (502) and verify.yml fails naming it; the next run of the playbook re-issues
it and users get through again; the run after that changes nothing.
Runs after test_hub.py (file order): it restarts the hub's proxy.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import requests
from jovial_fixtures import run_playbook, wait_for

BASE = "https://10.78.5.100"
CA = str(Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "pki" / "ca.crt")
CERTS = "playbooks/site-ca-certs.yml"


def _hub_status() -> int:
    try:
        return requests.get(f"{BASE}/hub/api/", verify=CA, timeout=10).status_code
    except requests.RequestException:
        return -1


def _recap(stdout: str) -> dict[str, int]:
    """changed= of every host in the PLAY RECAP."""
    return {h: int(c) for h, c in re.findall(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", stdout, re.M)}


def test_the_hub_port_answers_only_tls_from_another_node(node):
    core = node("mj-core1")
    plain = core.run("curl -sS -o /dev/null -w '%{http_code}' -m 5 http://mj-hub:8000/hub/login")
    # No HTTP answer at all (empty reply / reset): a TLS port, not a login page in clear text.
    assert plain.rc != 0 and plain.stdout.strip() in ("", "000"), (plain.rc, plain.stdout)
    tls = core.run(
        "curl -sS -o /dev/null -w '%{http_code}' -m 5 --cacert /etc/nginx/pki/ca.crt "
        "https://mj-hub:8000/hub/api/"
    )
    assert (tls.rc, tls.stdout) == (0, "200"), (tls.rc, tls.stdout, tls.stderr)


def test_a_revoked_hub_certificate_is_refused_then_reissued(node):
    hub = node("mj-hub")
    serial_before = hub.run("openssl x509 -noout -serial -in /etc/jupyterhub-proxy/jupyterhub.crt")
    assert _hub_status() == 200

    # Revoke only (reissue=false): the new CRL reaches the proxy pair, nginx reloads.
    out = run_playbook(
        CERTS,
        "-e", "revoke=mj-hub", "-e", "revoke_reason=key_compromise", "-e", "revoke_cert=jupyterhub",
        "-e", "reissue=false",
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert wait_for(lambda: _hub_status() == 502, timeout=15, interval=1), _hub_status()
    logs = "".join(
        node(n).run("grep -h 'certificate revoked' /var/log/nginx/error.log").stdout
        for n in ("mj-core1", "mj-core2")
    )
    assert "upstream SSL certificate verify error: (23:certificate revoked)" in logs, logs[-1000:]

    # verify.yml reports the hub certificate's expiry and fails because it is revoked.
    out = run_playbook("playbooks/verify.yml", "--tags", "certificates")
    assert out.returncode != 0, out.stdout[-3000:]
    assert re.search(
        r"mj-hub: (.*; )?jupyterhub certificate \([^;]* REVOKED \(key_compromise\)", out.stdout
    ), out.stdout[-3000:]

    # The next run re-issues it (new key and serial), restarts the hub's proxy and the hub.
    out = run_playbook(CERTS)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "mj-hub: jupyterhub in /etc/jupyterhub-proxy RE-ISSUED" in out.stdout
    assert _recap(out.stdout)["mj-hub"] > 0
    assert wait_for(lambda: _hub_status() == 200, timeout=60, interval=1), _hub_status()
    serial_after = hub.run("openssl x509 -noout -serial -in /etc/jupyterhub-proxy/jupyterhub.crt")
    assert serial_after.stdout != serial_before.stdout

    # A second run changes nothing anywhere.
    out = run_playbook(CERTS)
    assert out.returncode == 0, out.stdout[-3000:]
    recap = _recap(out.stdout)
    assert recap and set(recap.values()) == {0}, recap
