"""An astronomer's path through the front door, with real clients.

Everything goes through the proxy VIP over HTTPS verified against the site CA: an HTTP
client that keeps cookies and sends the XSRF token logs in with an LDAP account, starts a
server, and runs code in a kernel over its websocket. The kernel must run as the user's LDAP
uid/gid with HOME on the shared home root; another user must be refused; a wrong password
must be refused; a hub restart must leave the running server (and its files) alone.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import requests
from jovial_fixtures import run_playbook, wait_for

from jovial_hub.client import HubClient

VIP = "10.78.5.100"
BASE = f"https://{VIP}"
EPH = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
CA = str(EPH / "pki" / "ca.crt")
USERS = {"ada": (10001, 10100), "bruno": (10002, 10101)}


def _password(user: str) -> str:
    return (EPH / "secrets" / f"ldap_password_{user}").read_text().strip()


def _client(user: str, password: str) -> tuple[HubClient, requests.Response]:
    client = HubClient(BASE, CA)
    return client, client.login(user, password)


@pytest.fixture(scope="module")
def ada() -> HubClient:
    client, resp = _client("ada", _password("ada"))
    assert resp.status_code == 200, resp.text[:500]
    assert client.user == "ada"
    return client


def _start_server(client: HubClient) -> None:
    assert client.start_server() in (201, 202, 400)  # 400: already running
    assert client.wait_ready(timeout=180, interval=2), f"{client.user}'s server never became ready"


def test_wrong_password_is_refused():
    client, resp = _client("ada", "not-" + _password("ada"))
    assert resp.status_code == 403
    assert "Invalid username or password" in resp.text
    assert "jupyterhub-session-id" not in client.session.cookies
    assert client.user is None


def test_login_spawn_and_code_runs_as_the_users_ldap_identity(ada, node):
    _start_server(ada)
    xsrf = ada.open_server()
    out = ada.execute(
        xsrf,
        "import os; print(os.getuid(), os.getgid(), os.environ['HOME']);"
        "open(os.path.expanduser('~/survives-restart.txt'), 'w').write('m31')",
    )
    uid, gid, home = out.split()
    assert (int(uid), int(gid)) == USERS["ada"]
    assert home == "/lustre/home/ada"
    # The file the kernel wrote is the user's, on the shared home root, as SSSD sees it.
    owner = node("mj-hub").run("stat -c '%U %u %g' /lustre/home/ada/survives-restart.txt")
    assert owner.stdout.split() == ["ada", "10001", "10100"]
    # No user code as root: every process of ada's server runs as her uid.
    ps = node("mj-hub").run("ps -o uid= -u ada")
    assert ps.rc == 0 and set(ps.stdout.split()) == {"10001"}


def test_a_server_starts_with_only_what_users_need(ada, node):
    """What keeps a spawn cheap (docs/spawn-performance.md) holds on the hub node, for a user:
    the language-server scan and the notebook shim are off, importing the server never compiles
    rfc3987-syntax's grammars, and Node.js (for which JupyterLab would run yarn at every start)
    runs only in the proxy's group, with the proxy up on it."""
    hub = node("mj-hub")
    listed = hub.run("runuser -u ada -- /opt/jovial/notebook/bin/jupyter server extension list")
    plain = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)
    states = dict(re.findall(r"^\s+(\w+) (enabled|disabled)$", plain, re.M))
    assert states == {
        "jupyter_lsp": "disabled",
        "jupyter_server_terminals": "enabled",
        "jupyterlab": "enabled",
        "notebook_shim": "disabled",
    }, plain
    imported = hub.run(
        "runuser -u ada -- /opt/jovial/notebook/bin/python -c "
        "'import sys, jupyterhub.singleuser.extension, jupyterlab.labapp; "
        'print(sorted(m for m in sys.modules if m.startswith(("rfc3987_syntax", "lark"))))\''
    )
    assert imported.rc == 0, imported.stderr
    assert imported.stdout.strip() == "[]"
    refused = hub.run("runuser -u ada -- /usr/bin/node --version")
    assert refused.rc != 0 and "Permission denied" in refused.stderr
    proxy_uid = hub.run("id -u jupyterhub-proxy").stdout.strip()
    assert hub.run("ps -o uid= -C node").stdout.split() == [proxy_uid]


def test_another_user_cannot_reach_the_server():
    bruno, resp = _client("bruno", _password("bruno"))
    assert resp.status_code == 200
    s = bruno.session
    # As a browser would: the hub's OAuth ends in 403 for a server that is not bruno's.
    other = s.get(f"{BASE}/user/ada/lab", timeout=60)
    assert other.status_code == 403, (other.status_code, other.url)
    assert s.get(f"{BASE}/user/ada/api/status", timeout=60).status_code == 403


def test_hub_restart_keeps_the_running_server_and_its_files(ada, node):
    hub = node("mj-hub")
    unit = "jupyter-ada-singleuser"
    pid_before = hub.run(f"systemctl show -p MainPID --value {unit}").stdout.strip()
    assert hub.run("systemctl restart jupyterhub").rc == 0

    def hub_up():
        try:
            return requests.get(f"{BASE}/hub/api/", verify=CA, timeout=5).status_code == 200
        except requests.RequestException:
            return False

    assert wait_for(hub_up, timeout=60, interval=1)
    assert hub.run(f"systemctl show -p MainPID --value {unit}").stdout.strip() == pid_before
    resp = ada.session.get(f"{BASE}/user/ada/api/contents/survives-restart.txt", timeout=60)
    assert resp.status_code == 200
    assert resp.json()["content"] == "m31"


PACKAGE = "/opt/jupyterhub/src/jovial_hub"
STALE_MODULE = f"{PACKAGE}/retired_hook.py"
# The hub database backup as Jovial installed it before its backups shared one naming scheme
# (jovial-<name>-backup): units named jupyterhub-backup, the timer enabled and running.
# Written with printf, which turns each \n into a newline (one-line shell commands).
LEGACY_BACKUP_UNITS = {
    "jupyterhub-backup.service": r"[Service]\nType=oneshot\nExecStart=/bin/true\n",
    "jupyterhub-backup.timer": r"[Timer]\nOnCalendar=daily\n\n[Install]\nWantedBy=timers.target\n",
}


@pytest.fixture(scope="module")
def upgraded(node):
    """The hub layer re-run as an operator does after upgrading Jovial, on a hub node that
    still has what an older Jovial left: a module no longer in src/jovial_hub and the hub
    database backup under its old unit names."""
    hub = node("mj-hub")
    hub.run_expect([0], f"echo 'RETIRED = True' > {STALE_MODULE}")
    for unit, text in LEGACY_BACKUP_UNITS.items():
        hub.run_expect([0], f"printf '{text}' > /etc/systemd/system/{unit}")
    hub.run_expect([0], "systemctl daemon-reload && systemctl enable --now jupyterhub-backup.timer")
    assert hub.run("systemctl is-active jupyterhub-backup.timer").stdout.strip() == "active"
    out = run_playbook("playbooks/jupyterhub.yml", "--limit", "mj-hub")
    assert out.returncode == 0, out.stdout + out.stderr
    return hub


def test_a_module_removed_from_the_hub_package_is_removed_from_the_hub(upgraded):
    """The re-run removes a module that is no longer in src/jovial_hub, so the hub cannot
    import stale code; the package's own modules stay and the hub answers again through the
    VIP."""
    assert not upgraded.file(STALE_MODULE).exists
    assert upgraded.file(f"{PACKAGE}/__init__.py").exists
    assert requests.get(f"{BASE}/hub/api/", verify=CA, timeout=30).status_code == 200


def test_the_hub_database_backup_runs_under_the_one_naming_scheme(upgraded):
    """After the re-run only jovial-jupyterhub-backup.timer schedules the backup: the old
    jupyterhub-backup timer is stopped, disabled and its units are gone. Running the backup
    leaves a readable copy of the hub database that only root can read."""
    hub = upgraded
    for unit in LEGACY_BACKUP_UNITS:
        assert not hub.file(f"/etc/systemd/system/{unit}").exists, unit
    assert not hub.file("/etc/systemd/system/timers.target.wants/jupyterhub-backup.timer").exists
    legacy = hub.run("systemctl list-units --all --no-legend --plain 'jupyterhub-backup.*'")
    assert legacy.stdout.strip() == "", legacy.stdout
    timer = "jovial-jupyterhub-backup.timer"
    assert hub.run(f"systemctl is-enabled {timer}").stdout.strip() == "enabled"
    assert hub.run(f"systemctl is-active {timer}").stdout.strip() == "active"
    hub.run_expect([0], "systemctl start jovial-jupyterhub-backup.service")
    copies = hub.run("ls -1t /var/backups/jupyterhub/jupyterhub-*.sqlite").stdout.split()
    newest = copies[0] if copies else ""
    assert newest, "the backup wrote no copy of the hub database"
    assert hub.run(f"stat -c %a {newest}").stdout.strip() == "600"
    check = hub.run(f"sqlite3 {newest} 'PRAGMA integrity_check'")
    assert check.stdout.strip() == "ok", check.stdout + check.stderr


def test_verify_playbook_checks_the_hub_through_the_vip(ada):
    """verify.yml (what an operator runs) reaches the hub's REST API through the front door
    with the read-only verify token and sees ada's running server, and reports the expiry
    of every host certificate from the site CA."""
    out = run_playbook("playbooks/verify.yml")
    assert out.returncode == 0, out.stdout[-4000:]
    assert "JupyterHub 5." in out.stdout, out.stdout[-2000:]
    # The report lists every running server ("running servers: bruno/, ada/" while the
    # browser test's server is also up); ada's must be among them.
    running = re.search(r"running servers: ([^\"\n]*)", out.stdout)
    assert running, out.stdout[-2000:]
    assert "ada/" in [s.strip() for s in running.group(1).split(",")], running.group(0)
    # It reports when each host certificate of the site CA expires: the hub's, and those of
    # the Kubernetes hubs' proxies, which mj-hub made (named after their holders).
    report = re.search(r"mj-hub: [^\"]*certificate \(serial [^\"]*", out.stdout)
    assert report, out.stdout[-3000:]
    for name in ("jupyterhub", "jupyterhub-science proxy", "jupyterhub-teaching proxy"):
        assert re.search(
            rf"(: |; ){name} certificate \(serial [0-9A-F]+\) expires 20", report.group(0)
        ), (name, report.group(0))


def test_every_start_and_stop_is_recorded_for_accounting(ada, node):
    assert ada.stop_server() in (202, 204)
    hub = node("mj-hub")

    def stopped_row():
        rows = hub.run(
            "sqlite3 -json /var/lib/jupyterhub/accounting.sqlite "
            "\"SELECT user, resources, started, stopped FROM servers WHERE user='ada'\""
        )
        records = json.loads(rows.stdout or "[]")
        return records and records[-1]["stopped"] and records[-1]

    record = wait_for(stopped_row, timeout=60, interval=2)
    assert record, "ada's server stop was not recorded"
    assert record["stopped"] >= record["started"] > 0
    assert re.search(r"mem_limit", record["resources"])
    assert hub.run("systemctl is-active jupyter-ada-singleuser").stdout.strip() != "active"
