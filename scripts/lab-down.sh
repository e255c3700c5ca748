#!/usr/bin/env bash
# `make lab-down`: remove every container, network, volume and loop device the lab created
# (found by the jovial.lab label and by the disk images' paths), then build/lab/. The shared
# package cache (build/cache/) is kept so the next lab does not download again.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export CONTAINERS_CONF=${CONTAINERS_CONF:-$top/images/base/containers.conf}

containers=$(podman ps -a --filter label=jovial.lab=true --format '{{.Names}}')
if [[ -n $containers ]]; then
  echo ">> removing containers: $(echo $containers)"
  # A storage node can stop by itself while its partner is being removed (podman then fails
  # with "container state improper: stopped"): what is left is removed again.
  for attempt in 1 2 3; do
    podman rm --force --volumes --time 5 $containers >/dev/null && break
    containers=$(podman ps -a --filter label=jovial.lab=true --format '{{.Names}}')
    [[ -n $containers && $attempt -lt 3 ]] || break
    echo ">> removing again: $(echo $containers)"
  done
fi
networks=$(podman network ls --filter label=jovial.lab=true --format '{{.Name}}')
if [[ -n $networks ]]; then
  echo ">> removing networks: $(echo $networks)"
  podman network rm $networks >/dev/null
fi
# podman 4.3 keeps a network's address allocations after `network rm` (its IPAM database in
# /run/containers/networks). One left by a node removed while running (`podman rm -f`) makes
# every later lab fail with "IPAM error: requested ip address ... is already allocated". The
# database only holds running containers' addresses: with no container left it is dropped.
ipam_db=/run/containers/networks/ipam.db
if [[ -n $networks && -f $ipam_db && -z $(podman ps -aq) ]]; then
  echo ">> dropping podman's address allocations (no container left)"
  rm -f "$ipam_db"
fi
volumes=$(podman volume ls --filter label=jovial.lab=true --format '{{.Name}}')
if [[ -n $volumes ]]; then
  echo ">> removing volumes: $(echo $volumes)"
  podman volume rm $volumes >/dev/null
fi
# The podman API service lab-up.yml started for the lab fence agent (lab_podman_socket).
socket_dir=/run/jovial-podman/jovial-lab
if [[ -f $socket_dir/service.pid ]]; then
  pid=$(cat "$socket_dir/service.pid")
  if kill -0 "$pid" 2>/dev/null && grep -q 'system.service' "/proc/$pid/cmdline"; then
    echo ">> stopping the podman API service (pid $pid)"
    kill "$pid"
  fi
fi
rm -rf "$socket_dir"
shopt -s nullglob
# Every loop device of every image (each storage node has its own on the shared image).
for img in build/lab/disks/*.img; do
  for dev in $(losetup --noheadings --output NAME --associated "$img"); do
    echo ">> detaching $dev ($img)"
    losetup --detach "$dev"
  done
done
rm -rf build/lab

left=$(
  podman ps -a --filter label=jovial.lab=true --format '{{.Names}}'
  podman network ls --filter label=jovial.lab=true --format '{{.Name}}'
  podman volume ls --filter label=jovial.lab=true --format '{{.Name}}'
  losetup --noheadings --output BACK-FILE | grep -F "$top/build/lab/" || true
)
if [[ -n $left ]]; then
  echo "lab-down: these are still there: $left" >&2
  exit 1
fi
echo ">> lab removed (package cache kept in build/cache/)"
