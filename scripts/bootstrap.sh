#!/usr/bin/env bash
# Install what Jovial needs on a Debian 12 control/CI machine, idempotently:
#   - Debian packages for the lab and Molecule (podman with runc, debootstrap, ...), only the
#     missing ones, with one `apt-get update` when something is missing;
#   - the project virtualenv .venv/ from pyproject.toml, reinstalled only when pyproject.toml
#     changes (its hash is kept in .venv/.jovial-deps).
# Run by `make deps` (and so by `make test` and `make lab`).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

debs=(
  podman runc netavark aardvark-dns uidmap slirp4netns fuse-overlayfs iptables
  debootstrap e2fsprogs util-linux jq rsync make git
  python3 python3-venv python3-dev gcc libffi-dev libssl-dev
  # Molecule jupyterhub: a headless browser login (certutil makes the throwaway NSS database
  # that trusts the scenario's CA).
  chromium chromium-driver libnss3-tools
)
# Unit tests check the rendered Pacemaker configuration of the storage pairs offline (crmsh,
# crm_verify, crm_simulate, the fence agents' meta-data). These pull in corosync and
# pacemaker, which must never run here: installed with no service started, and disabled.
cluster_debs=(pacemaker-cli-utils crmsh fence-agents)

missing=()
missing_cluster=()
for p in "${debs[@]}" "${cluster_debs[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" && continue
  if [[ " ${cluster_debs[*]} " == *" $p "* ]]; then missing_cluster+=("$p"); else missing+=("$p"); fi
done
if ((${#missing[@]} + ${#missing_cluster[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "bootstrap: missing Debian packages: ${missing[*]} ${missing_cluster[*]}; run 'make deps' as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
fi
if ((${#missing[@]})); then
  echo ">> apt-get install ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ((${#missing_cluster[@]})); then
  echo ">> apt-get install ${missing_cluster[*]} (no service started)"
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 0755 "$policy"
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing_cluster[@]}" >/dev/null
  systemctl disable --quiet corosync.service pacemaker.service
fi

# Every lab and Molecule node is a systemd container of this kernel, run by root: systemd,
# containerd and each kubelet take inotify instances from root's one budget (128 by default;
# the 14-node lab needs more than that, and a kubelet without one dies with "inotify_init: too
# many open files"). Raised as kind's known-issues page advises, kept in /etc/sysctl.d.
inotify=/etc/sysctl.d/60-jovial-inotify.conf
if [[ ! -e $inotify ]]; then
  printf 'fs.inotify.max_user_instances = 1024\nfs.inotify.max_user_watches = 524288\n' > "$inotify"
  echo ">> sysctl: raised the inotify limits for the nodes' containers ($inotify)"
fi
sysctl --quiet --load "$inotify"

python=${JOVIAL_PYTHON:-python3}
want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
have=$(cat .venv/.jovial-deps 2>/dev/null || true)
if [[ ! -x .venv/bin/python ]]; then
  echo ">> creating .venv with $($python --version)"
  "$python" -m venv .venv
  have=""
fi
if [[ $want != "$have" ]]; then
  echo ">> installing Python dependencies into .venv (pyproject.toml changed)"
  .venv/bin/pip install --quiet --upgrade pip
  # Editable: src/jovial_hub changes are live without a reinstall.
  .venv/bin/pip install --quiet --editable ".[test]"
  echo "$want" > .venv/.jovial-deps
fi
echo ">> prerequisites ready: $(.venv/bin/ansible --version | head -1), podman $(podman --version | awk '{print $3}')"
