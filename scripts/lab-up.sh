#!/usr/bin/env bash
# `make lab`: create the lab containers, converge site.yml on them, write build/lab/access.env
# and print how to reach the platform. Safe to run again: the second run changes nothing.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mkdir -p build/lab
summary=$top/build/lab/last-converge.json

# The lab runs Ansible with Mitogen's linear strategy (the mitogen package in .venv): every
# node keeps one Python interpreter over one SSH connection, so a task does not start a new
# Python and re-import Ansible's module code on the node each time. On 2 cores this halves a
# no-op converge (measured: tests/bench/bench_lab_converge.py). JOVIAL_ANSIBLE_STRATEGY=linear
# runs Ansible's own strategy instead (what Molecule and a site without Mitogen use).
strategy=${JOVIAL_ANSIBLE_STRATEGY:-mitogen_linear}
if [[ $strategy == mitogen_* ]]; then
  if ! ANSIBLE_STRATEGY_PLUGINS=$(python3 -c 'import ansible_mitogen, os; print(os.path.join(os.path.dirname(ansible_mitogen.__file__), "plugins", "strategy"))' 2>/dev/null); then
    echo "lab-up: python3 ($(command -v python3)) has no mitogen: run 'make lab' (it installs .venv)," \
      "or set JOVIAL_ANSIBLE_STRATEGY=linear to use Ansible's own strategy" >&2
    exit 1
  fi
  export ANSIBLE_STRATEGY_PLUGINS
fi
export ANSIBLE_STRATEGY=$strategy

start=$(date +%s)
echo ">> lab: containers (playbooks/lab-up.yml)"
# Containers inherit the CPU affinity of the process that starts them, and Mitogen pins its
# workers to one CPU: the containers are made with Ansible's own strategy (lab-up.yml checks).
ANSIBLE_STRATEGY=linear ansible-playbook -i inventories/lab playbooks/lab-up.yml
echo ">> lab: converge site.yml"
JOVIAL_SUMMARY_FILE=$summary ansible-playbook -i inventories/lab site.yml
echo ">> lab: access details"
ansible-playbook -i inventories/lab playbooks/lab-access.yml >/dev/null
elapsed=$(( $(date +%s) - start ))

python3 - "$summary" "$elapsed" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
print(f"\nJovial lab is up ({sys.argv[2]} s in all, site.yml {run['elapsed']:.0f} s)\n")
print(f"  {'layer':<58} {'elapsed':>8}  ran on")
for play in run["plays"]:
    hosts = ", ".join(play["hosts"]) or "-"
    print(f"  {play['name'][:58]:<58} {play['elapsed']:>7.1f}s  {hosts}")
changed = {h: s["changed"] for h, s in run["stats"].items() if s["changed"]}
print(f"\n  changed tasks: {sum(changed.values())}" + (f" ({changed})" if changed else " (converged)"))
PY
echo
echo "  How to reach it:"
echo "    source build/lab/access.env      # LAB_CA, HUB_URL and the test users"
echo "    JupyterHub: open \$HUB_URL (trust \$LAB_CA), log in as \$LAB_USER / \$LAB_PASSWORD"
echo "    curl --cacert \"\$LAB_CA\" \"\$HUB_URL\"hub/api/    # the hub's REST API through the VIP"
echo "    \"\$KUBECTL\" get nodes               # the Kubernetes API through its VIP (KUBECONFIG is exported)"
echo "    podman exec -it core1 bash       # a shell on any node (core1-3, edge1-2, hub1, kcp1-2, kw1-2, mds1-2, oss1-2)"
echo "    make lab-verify                  # run playbooks/verify.yml against the lab"
echo "    make lab-down                    # remove everything the lab created"
