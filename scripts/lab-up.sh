#!/usr/bin/env bash
# `make lab`: create the lab containers, converge site.yml on them, write build/lab/access.env
# and print how to reach the platform. Safe to run again: the second run changes nothing.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mkdir -p build/lab
summary=$top/build/lab/last-converge.json

start=$(date +%s)
echo ">> lab: containers (playbooks/lab-up.yml)"
ansible-playbook -i inventories/lab playbooks/lab-up.yml
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
echo "    podman exec -it core1 bash       # a shell on any node (core1-3, edge1-2, hub1, mds1-2, oss1-2)"
echo "    make lab-verify                  # run playbooks/verify.yml against the lab"
echo "    make lab-down                    # remove everything the lab created"
