"""The operator's one command for a node that was re-imaged, on a whole site (every layer
site.yml converges): mj-kcp2, a Kubernetes control-plane node, an etcd member and a holder of
the API VIP pair, is destroyed and made again bare from the image (its container and its disk
removed; molecule/resources/create.yml -e jovial_reimage=mj-kcp2, what `make lab-node` is to
the lab); one run of playbooks/recover-node.yml -l mj-kcp2 works out what it serves, replaces
the etcd member and waits until it has caught up, installs and rejoins the node, converges
site.yml and verify.yml on it. Nothing is lost: one member replaced and none added, the same
data on every member (hashkv), the API VIP held by one node, the hubs and their users' servers
untouched. A second run changes nothing.

Then the hub node (systemd backend) is re-imaged the same way, the hub database and its own
backups gone with its disk: the backup copied off the node to the backup store (mj-kw2) brings
the hub's users and accounting back in the same one run. The node's key on the store can only
write there.

Runs after the hub tests (file order): it leaves the site whole for those that follow."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

from jovial_fixtures import run_playbook, wait_for

EPH = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
API_VIP = "10.78.5.101"
VICTIM = "mj-kcp2"
CONTROL_PLANE = ("mj-kcp1", "mj-kcp2")


def etcd_members(node) -> list[str]:
    """etcd's member IDs, asked on mj-kw1 (a member that is no control-plane node)."""
    out = node("mj-kw1").check_output("bash -lc 'etcdctl -w json member list'")
    return sorted(hex(m["ID"]) for m in json.loads(out)["members"])


KUBECTL = "kubectl --kubeconfig=/etc/kubernetes/admin.conf"


def node_ready(node, name: str) -> bool:
    status = node("mj-kcp1").run(
        f"{KUBECTL} get node {name} "
        "-o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}'"
    )
    return status.rc == 0 and status.stdout.strip() == "True"


def hub_pods(node) -> list[str]:
    """Every pod of the hubs' namespaces (hub, proxy, users' servers): namespace/name uid."""
    out = node("mj-kcp1").check_output(
        f"{KUBECTL} get pods -A -o jsonpath='{{range .items[*]}}{{.metadata.namespace}}/"
        '{.metadata.name} {.metadata.uid}{"\\n"}{end}\''
    )
    return sorted(line for line in out.splitlines() if line.startswith("hub-"))


def vip_holders(node) -> list[str]:
    return [n for n in CONTROL_PLANE if API_VIP in node(n).check_output("ip -o -4 addr show")]


def container_id(name: str) -> str:
    return subprocess.run(
        ["podman", "container", "inspect", "--format", "{{.Id}}", name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def reimage(name: str) -> None:
    """The node destroyed and made again bare from the image, as Molecule's create makes it."""
    out = run_playbook("molecule/resources/create.yml", "-e", f"jovial_reimage={name}")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]


def test_drill_a_reimaged_node_is_back_in_every_layer_after_one_recover_node_run(node):
    victim = node(VICTIM)
    before = etcd_members(node)
    pods = hub_pods(node)
    assert pods, "no pod of the hubs before the drill"
    old = container_id(VICTIM)
    reimage(VICTIM)
    # A new container from the image: nothing of the node's layers is left on it.
    assert container_id(VICTIM) != old
    for gone in ("/etc/kubernetes", "/var/lib/etcd", "/etc/sssd"):
        assert victim.run(f"test -e {gone}").rc != 0, f"{gone} is still on the re-imaged node"
    assert victim.run("command -v kubelet etcd").rc != 0, "binaries left on the re-imaged node"

    started = time.monotonic()
    out = run_playbook("playbooks/recover-node.yml", "-l", VICTIM, timeout=1500)
    took = time.monotonic() - started
    log = EPH / f"recover-node-{VICTIM}.log"
    log.write_text(out.stdout + out.stderr)
    print(f"\nrecover-node.yml -l {VICTIM} (re-imaged): rc {out.returncode} in {took:.0f} s")
    etcd_log = victim.run("journalctl -u etcd --no-pager -n 40").stdout
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:] + etcd_log
    # It said what the node serves, and recovered both layers with state.
    assert "; recovering etcd member, Kubernetes node, then" in out.stdout
    assert re.search(
        rf"{VICTIM} is back: 3 healthy members, leader \S+, revision \d+, identical hashkv",
        out.stdout,
    ), out.stdout[-4000:]
    assert wait_for(lambda: node_ready(node, VICTIM), timeout=120), f"{VICTIM} is not Ready"
    assert victim.check_output("curl -sk https://127.0.0.1:6443/readyz") == "ok"
    # The new member's data is on disk: it starts again and answers.
    victim.run_expect([0], "systemctl restart etcd")
    health = "bash -lc 'ETCDCTL_ENDPOINTS=${ETCDCTL_ENDPOINTS%%,*} etcdctl endpoint health'"
    assert wait_for(lambda: victim.run(health).rc == 0, timeout=60), victim.run(
        "journalctl -u etcd --no-pager -n 20"
    ).stdout
    # One member replaced (a new ID), none added or lost.
    after = etcd_members(node)
    assert len(after) == len(before) and len(set(after) - set(before)) == 1, (before, after)
    # The API VIP has one holder; the hubs' pods (and the users' servers) were not touched.
    assert wait_for(lambda: len(vip_holders(node)) == 1, timeout=30), vip_holders(node)
    assert hub_pods(node) == pods

    # A second run finds nothing to recover and changes nothing.
    again = run_playbook("playbooks/recover-node.yml", "-l", VICTIM, timeout=1500)
    assert again.returncode == 0, again.stdout[-3000:]
    assert f"{VICTIM} is a healthy etcd member" in again.stdout
    recap = again.stdout.split("PLAY RECAP")[-1]
    assert "changed=0" in recap.split(VICTIM)[1].split("\n")[0], recap


# --- The hub node: its database comes back from the backup store -----------------------------
HUB = "mj-hub"
STORE = "mj-kw2"  # group backup_store (molecule.yml)
STORED = f"/srv/jovial-backups/{HUB}/jupyterhub"
# What the hub knows (its users) and what it accounted (every server start), as an operator
# would look; a server the restarted hub finds stopped gets its stop written, so stops are not
# compared.
HUB_STATE = (
    "sqlite3 -readonly /var/lib/jupyterhub/jupyterhub.sqlite "
    "'select name from users order by name'; "
    "sqlite3 -readonly /var/lib/jupyterhub/accounting.sqlite "
    "'select user, server, profile, started from servers order by started'"
)
# The hub's key on the store, as the backup service uses it.
STORE_SSH = (
    "ssh -i /root/.ssh/jovial-backup -o BatchMode=yes -o IdentitiesOnly=yes "
    "-o UserKnownHostsFile=/etc/ssh/jovial-backup-known-hosts"
)


def test_the_hub_backup_is_copied_to_the_store_and_the_node_can_only_write_there(node):
    hub, store = node(HUB), node(STORE)
    hub.run_expect([0], "systemctl start jovial-jupyterhub-backup.service")
    stamp = hub.check_output("ls -1t /var/backups/jupyterhub | head -1").split("-", 1)[1]
    stored = store.check_output(f"ls -l {STORED}")
    # The run just taken, both databases, readable only by the store's receiving user.
    for db in ("jupyterhub", "accounting"):
        line = next((ln for ln in stored.splitlines() if ln.endswith(f"{db}-{stamp}")), "")
        assert line.startswith("-rw------- ") and " jovial-backup jovial-backup " in line, stored
    # The key the node holds cannot run a command, read the backups back or delete them.
    denied = hub.run(f"{STORE_SSH} jovial-backup@{STORE} cat /etc/passwd")
    assert denied.rc != 0 and "root:" not in denied.stdout, denied.stdout
    read = hub.run(f"rsync -e '{STORE_SSH}' jovial-backup@{STORE}:jupyterhub/ /tmp/read-back/")
    assert read.rc != 0, read.stdout
    kept = store.check_output(f"ls {STORED}")
    wipe = hub.run(
        f"mkdir -p /tmp/empty && rsync -r --delete -e '{STORE_SSH}' /tmp/empty/ "
        f"jovial-backup@{STORE}:jupyterhub/"
    )
    assert store.check_output(f"ls {STORED}") == kept, wipe.stdout + wipe.stderr


def test_drill_a_reimaged_hub_node_gets_its_database_back_from_the_store(node):
    hub = node(HUB)
    before = hub.check_output(HUB_STATE)
    assert "ada" in before.splitlines(), before
    hub.run_expect([0], "systemctl start jovial-jupyterhub-backup.service")
    # The hub node is re-imaged: its disk is gone, the database and its own backups with it.
    reimage(HUB)
    assert hub.run("test -e /var/lib/jupyterhub || test -e /var/backups/jupyterhub").rc != 0

    started = time.monotonic()
    out = run_playbook("playbooks/recover-node.yml", "-l", HUB, timeout=1500)
    took = time.monotonic() - started
    (EPH / f"recover-node-{HUB}.log").write_text(out.stdout + out.stderr)
    print(f"\nrecover-node.yml -l {HUB} (re-imaged): rc {out.returncode} in {took:.0f} s")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "; recovering hub database, then" in out.stdout
    assert re.search(
        rf"{HUB}: hub database restored from the backup of \d{{8}}T\d{{6}}Z \(on {STORE}\), "
        r"\d+ users\.",
        out.stdout,
    ), out.stdout[-4000:]
    # The hub knows the same users and has the same accounting, and it runs.
    assert hub.check_output(HUB_STATE) == before
    assert hub.service("jupyterhub").is_running

    # A second run finds the database in place and changes nothing.
    again = run_playbook("playbooks/recover-node.yml", "-l", HUB, timeout=1500)
    assert again.returncode == 0, again.stdout[-3000:]
    recap = again.stdout.split("PLAY RECAP")[-1]
    assert "changed=0" in recap.split(HUB)[1].split("\n")[0], recap


# --- The node keeping the Kubernetes hubs' databases: back from the store ----------------------
DB_NODE = "mj-kw1"  # jupyterhub_k8s_hub_db_node (molecule.yml)
HUB_DBS = "/var/lib/jovial/hubs"
K8S_STORED = f"/srv/jovial-backups/{DB_NODE}/hubs"
# What each hub on Kubernetes knows (its users), as an operator would look.
K8S_HUB_STATE = " && ".join(
    f"echo {hub}: && sqlite3 -readonly {HUB_DBS}/{hub}/jupyterhub.sqlite "
    "'select name from users order by name'"
    for hub in ("science", "teaching")
)


def hub_pod_ready(node, namespace: str) -> bool:
    out = node("mj-kcp1").run(
        f"{KUBECTL} -n {namespace} get pods -l app.kubernetes.io/component=hub "
        "-o jsonpath='{range .items[*]}{.metadata.deletionTimestamp}/"
        '{.status.containerStatuses[0].ready}{"\\n"}{end}\''
    )
    return out.rc == 0 and out.stdout.split() == ["/true"]


def test_drill_the_kubernetes_hubs_databases_come_back_from_the_store(node):
    db_node, store = node(DB_NODE), node(STORE)
    before = db_node.check_output(K8S_HUB_STATE)
    assert "ada" in before.split("teaching:")[0].split(), before
    # The backup's run, copied off the node, readable only by the store's receiving user.
    db_node.run_expect([0], "systemctl start jovial-hubs-backup.service")
    stamp = db_node.check_output(
        "ls -1t /var/backups/jovial-hubs | head -1 | grep -o '[0-9]\\{8\\}T[0-9]\\{6\\}Z'"
    )
    stored = store.check_output(f"ls -l {K8S_STORED}")
    for name in ("science.jupyterhub", "science.dask-gateway", "teaching.jupyterhub"):
        line = next((ln for ln in stored.splitlines() if ln.endswith(f"{name}-{stamp}.sqlite")), "")
        assert line.startswith("-rw------- ") and " jovial-backup jovial-backup " in line, stored

    # The node's local disk loses the hubs' databases and their backups under the running hubs.
    db_node.run_expect([0], f"rm -rf {HUB_DBS} /var/backups/jovial-hubs")
    started = time.monotonic()
    out = run_playbook("playbooks/recover-node.yml", "-l", DB_NODE, timeout=1500)
    took = time.monotonic() - started
    (EPH / f"recover-node-{DB_NODE}.log").write_text(out.stdout + out.stderr)
    print(
        f"\nrecover-node.yml -l {DB_NODE} (hub databases lost): rc {out.returncode} in {took:.0f} s"
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "Kubernetes hubs' databases, then" in out.stdout
    assert re.search(
        rf"{DB_NODE}: hub databases restored from the backup of {stamp} \(on {STORE}\): "
        r"science \d+ users, teaching \d+ users\.",
        out.stdout,
    ), out.stdout[-4000:]
    # Each hub knows the same users, and runs again on its restored database.
    assert db_node.check_output(K8S_HUB_STATE) == before
    for namespace in ("hub-science", "hub-teaching"):
        assert wait_for(lambda ns=namespace: hub_pod_ready(node, ns), timeout=180), namespace

    # A second run finds the databases in place and changes nothing.
    again = run_playbook("playbooks/recover-node.yml", "-l", DB_NODE, timeout=1500)
    assert again.returncode == 0, again.stdout[-3000:]
    recap = again.stdout.split("PLAY RECAP")[-1]
    assert "changed=0" in recap.split(DB_NODE)[1].split("\n")[0], recap
