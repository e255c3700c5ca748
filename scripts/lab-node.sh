#!/usr/bin/env bash
# `make lab-node NODE=<node>`: re-create one lab node bare from the node image, as re-imaging a
# server does on a real site. Its container and the container's own volumes (its disk) are
# removed, then playbooks/lab-up.yml makes it again from the image, with the same address,
# MAC and SSH key; nothing is converged (`make lab` does that).
# The storage pairs' shared disks are the SAN's, not the node's: they are kept.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
node=${1:-}
nodes=$(ansible-inventory -i inventories/lab --list 2>/dev/null |
  python3 -c 'import json, sys; print(" ".join(sorted(json.load(sys.stdin)["_meta"]["hostvars"])))')
if [[ -z $node ]]; then
  echo "lab-node: say which node: make lab-node NODE=<node>, one of: $nodes" >&2
  exit 64
fi
if [[ " $nodes " != *" $node "* ]]; then
  echo "lab-node: $node is not a lab node (inventories/lab/hosts.yml); one of: $nodes" >&2
  exit 64
fi
if podman container exists "$node"; then
  if [[ $(podman container inspect --format '{{index .Config.Labels "jovial.lab"}}' "$node") != true ]]; then
    echo "lab-node: container $node was not made by the lab (no jovial.lab label); not touching it" >&2
    exit 1
  fi
  # Killed first (its disk is discarded anyway), then removed: podman 4.3's `rm --force` of a
  # running node left its address allocated ("IPAM error: requested ip address 10.77.0.31 is
  # already allocated"), and the node could not be made again until the whole lab network was
  # removed. Not `podman stop`: the orderly shutdown of a privileged systemd container with its
  # own cgroup namespace (the Kubernetes nodes) removed the other Kubernetes nodes' cgroups on
  # a cgroup v1 host (`podman exec` into them failed from then on); a kill does not.
  echo ">> lab-node: $node killed and removed with its volumes"
  if [[ $(podman container inspect --format '{{.State.Running}}' "$node") == true ]]; then
    podman kill "$node" >/dev/null
    podman wait "$node" >/dev/null
  fi
  podman rm --volumes "$node" >/dev/null
fi
echo ">> lab-node: $node made again from the image (playbooks/lab-up.yml)"
mkdir -p build/lab
if ! ANSIBLE_STRATEGY=linear ansible-playbook -i inventories/lab playbooks/lab-up.yml \
  >build/lab/lab-node.log 2>&1; then
  tail -n 40 build/lab/lab-node.log >&2
  echo "lab-node: playbooks/lab-up.yml failed (whole log: build/lab/lab-node.log)" >&2
  exit 1
fi
echo ">> lab-node: $node is bare; 'make lab' converges it into every layer it belongs to"
