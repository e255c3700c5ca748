#!/usr/bin/env bash
# Build the container images a kubeadm cluster and its addons run, from the binaries that
# scripts/kube-build.sh put in its cache, and save them as image archives in the same cache:
#
#   images/kubernetes/build.sh <cache dir> <image repository>
#   images/kubernetes/build.sh "$(scripts/kube-build.sh --print)" jovial.lab/k8s
#
# Output (the cache directory is per Kubernetes version):
#   <cache>/images/<name>.tar  docker-archive of <repository>/<name>:<tag>; a node imports it
#                              with its reference: ctr -n k8s.io images import <file>
#   <cache>/SHA256SUMS         sha256sum of bin/kubeadm bin/kubelet bin/kubectl bin/crictl and
#                              images/*.tar, paths relative to the cache directory
# Only missing archives (or ones saved under another reference) are built; with every archive
# there and SHA256SUMS current it does nothing. Tags come from roles/kubernetes/defaults/main.yml
# and must be the ones `kubeadm config images list` gives. Each image is smoke-tested with podman
# before it is saved; the podman copies are then removed (the archives are what nodes use).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
defaults=$top/roles/kubernetes/defaults/main.yml
suite=${JOVIAL_DEBIAN_SUITE:-bookworm}
mirror=${JOVIAL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$top/images/base/containers.conf}

start=$(date +%s)
log() { echo ">> images/kubernetes: $* ($(($(date +%s) - start)) s)" >&2; }
die() { echo "images/kubernetes/build.sh: $*" >&2; exit 1; }

[[ $# -eq 2 ]] || die "usage: images/kubernetes/build.sh <cache dir> <image repository>," \
  "e.g. images/kubernetes/build.sh /var/cache/jovial/kubernetes/v1.34.12 jovial.lab/k8s"
[[ -d $1 ]] || die "cache directory $1 does not exist; run scripts/kube-build.sh first"
cache=$(cd "$1" && pwd)
repo=${2%/}
# Without a registry host first (a dot, a port or localhost) podman would store the images as
# localhost/<repo>/... and containerd would look for docker.io/<repo>/...: never the same name.
first=${repo%%/*}
[[ $repo =~ ^[a-z0-9.:-]+(/[a-z0-9._-]+)*$ && ($first == *[.:]* || $first == localhost) ]] ||
  die "image repository '$2' must be lower case and start with a registry host" \
    "(a name with a dot, a port or localhost), e.g. jovial.lab/k8s"

pin() { # the value of a `key: "value"` line in the kubernetes role defaults
  sed -nE "s/^$1:[[:space:]]*\"?([^\"#[:space:]]+)\"?.*/\1/p" "$defaults" | head -1
}
kube_version=$(pin kubernetes_version)
pause_version=$(pin kubernetes_pause_version)
coredns_version=$(pin kubernetes_coredns_version)
router_version=$(pin kubernetes_kube_router_version)
for v in kube_version pause_version coredns_version router_version; do
  [[ -n ${!v} ]] || die "no $v pinned in $defaults"
done

# name -> tag, Containerfile (Containerfile.<kind>), binary (bin/ or addons/ of the cache).
names=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy pause coredns kube-router)
declare -A tag=(
  [kube-apiserver]=$kube_version [kube-controller-manager]=$kube_version
  [kube-scheduler]=$kube_version [kube-proxy]=$kube_version [pause]=$pause_version
  [coredns]=$coredns_version [kube-router]=$router_version
)
declare -A kind=(
  [kube-apiserver]=control-plane [kube-controller-manager]=control-plane
  [kube-scheduler]=control-plane [kube-proxy]=kube-proxy [pause]=pause [coredns]=coredns
  [kube-router]=kube-router
)
ref() { echo "$repo/$1:${tag[$1]}"; }
binary() { # bin/<name> if it is there, else addons/<name> (relative to the cache)
  if [[ -e $cache/bin/$1 || ! -e $cache/addons/$1 ]]; then echo "bin/$1"; else echo "addons/$1"; fi
}
archive_ref() { # the reference a docker-archive was saved with (manifest.json RepoTags)
  tar -xOf "$1" manifest.json 2>/dev/null | sed -nE 's/.*"RepoTags":\["([^"]+)".*/\1/p'
}

# --- What is missing.
mkdir -p "$cache/images"
missing=()
for n in "${names[@]}"; do
  f=$cache/images/$n.tar
  if [[ ! -s $f ]]; then
    missing+=("$n")
  elif [[ $(archive_ref "$f") != "$(ref "$n")" ]]; then
    log "images/$n.tar holds '$(archive_ref "$f")', not $(ref "$n"): rebuilding it"
    missing+=("$n")
  fi
done

crictl=$(binary crictl)
sum_files=(bin/kubeadm bin/kubelet bin/kubectl "$crictl")
for f in "${sum_files[@]}"; do
  [[ -x $cache/$f ]] || die "$cache/$f is missing; run scripts/kube-build.sh first"
done

write_sums() {
  local files=("${sum_files[@]}") f
  for f in "$cache"/images/*.tar; do files+=("images/${f##*/}"); done
  if [[ ${1:-} == --check ]]; then # current: same paths, none newer than SHA256SUMS
    [[ -s $cache/SHA256SUMS ]] &&
      [[ $(awk '{print $2}' "$cache/SHA256SUMS") == "$(printf '%s\n' "${files[@]}")" ]] &&
      [[ -z $(cd "$cache" && find "${files[@]}" -newer SHA256SUMS) ]]
    return
  fi
  [[ $crictl == bin/crictl ]] || log "bin/crictl is missing: SHA256SUMS covers $crictl instead"
  (cd "$cache" && sha256sum "${files[@]}") >"$cache/.SHA256SUMS.$$"
  mv "$cache/.SHA256SUMS.$$" "$cache/SHA256SUMS"
}

if [[ ${#missing[@]} -eq 0 ]]; then
  if ! write_sums --check; then
    write_sums
    log "all ${#names[@]} archives present; SHA256SUMS rewritten"
  fi
  exit 0
fi

# --- Before building anything: the binaries, the tools, and kubeadm agreeing with the pins.
for n in "${missing[@]}"; do
  [[ -x $cache/$(binary "$n") ]] ||
    die "$n is missing from $cache/bin and $cache/addons; run scripts/kube-build.sh first"
done
command -v podman >/dev/null || die "podman is missing; run 'make deps' (scripts/bootstrap.sh) first"
kubeadm_images=$("$cache/bin/kubeadm" config images list \
  --kubernetes-version "$kube_version" --image-repository "$repo")
for n in "${names[@]}"; do
  [[ $n == kube-router ]] && continue
  grep -qxF "$(ref "$n")" <<<"$kubeadm_images" ||
    die "kubeadm $kube_version expects other images than $defaults pins (no $(ref "$n")):" \
      "$(tr '\n' ' ' <<<"$kubeadm_images")"
done

start=$(date +%s)
mkdir -p "$top/build"
work=$(mktemp -d "$top/build/kubernetes-images.XXXXXX")
trap 'rm -rf "$work" "$cache"/images/.*.tar.$$' EXIT

# --- The netfilter layer kube-proxy and kube-router share: Debian minbase + these packages.
# kube-router also runs `ip` (iproute2) for its tunnels and policy routing.
netbase_packages="iptables ipset conntrack iproute2"
build_netbase() { # <image>: debootstrap a minbase rootfs, import it, add the packages
  local rootfs=localhost/jovial-k8s-rootfs:${1##*:}
  command -v debootstrap >/dev/null || die "debootstrap is missing; run 'make deps' first"
  mkdir -p "$top/build/cache/debootstrap" "$work/netbase"
  log "debootstrap $suite (minbase) from $mirror"
  debootstrap --variant=minbase --cache-dir="$top/build/cache/debootstrap" \
    "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 40 "$work/debootstrap.log" >&2
    die "debootstrap failed (log above)"
  }
  tar -C "$work/rootfs" -c . | podman import --quiet - "$rootfs" >/dev/null
  rm -rf "$work/rootfs"
  cp "$here/Containerfile.netbase" "$top/images/base/apt-sources.list" "$work/netbase/"
  log "podman build $1 (apt-get install $netbase_packages)"
  podman build --quiet --layers=false --squash-all --build-arg "ROOTFS=$rootfs" \
    --build-arg "PACKAGES=$netbase_packages" -f "$work/netbase/Containerfile.netbase" \
    -t "$1" "$work/netbase" >/dev/null
  podman rmi "$rootfs" >/dev/null
}
netbase_hash=$({
  echo "$suite $mirror $netbase_packages"
  cat "$here/Containerfile.netbase" "$top/images/base/apt-sources.list"
  declare -f build_netbase
} | sha256sum | cut -c1-12)
netbase=localhost/jovial-k8s-netbase:$netbase_hash

# --- Smoke tests, run before an image is saved.
run() { podman run --rm --network=none "$@"; }
expect() { # <what ran> <output> <text the output must contain>
  [[ $2 == *"$3"* ]] || die "$1 printed '$2'; expected '$3'"
}
check_tools() { # <image>: the netfilter tools run, iptables on its nf_tables backend
  local out
  out=$(run --cap-add=NET_ADMIN --entrypoint=/bin/sh "$1" -c 'iptables --version;
    ip6tables --version; iptables-restore --version; ip6tables-restore --version;
    ipset version; conntrack --version; ip -V' 2>&1) || die "netfilter tools in $1: $out"
  expect "iptables --version in $1" "$out" "(nf_tables)"
  expect "ipset version in $1" "$out" "ipset v"
}
check_image() { # <name>
  local n=$1 r out cid pid uid
  r=$(ref "$n")
  case $n in
    kube-apiserver | kube-controller-manager | kube-scheduler | kube-proxy)
      out=$(run "$r" "$n" --version 2>&1) || die "$r $n --version failed: $out"
      expect "$r $n --version" "$out" "Kubernetes $kube_version"
      [[ $n != kube-proxy ]] || check_tools "$r"
      ;;
    kube-router)
      out=$(run "$r" --version 2>&1) || die "$r --version failed: $out"
      expect "$r --version" "$out" "$router_version"
      check_tools "$r"
      ;;
    coredns)
      out=$(run "$r" -version 2>&1) || die "$r -version failed: $out"
      expect "$r -version" "$out" "CoreDNS-${coredns_version#v}"
      ;;
    pause) # starts, stays up as 65535, stops on SIGTERM
      cid=$(podman run -d --rm --network=none "$r")
      sleep 2
      pid=$(podman inspect --format '{{.State.Pid}}' "$cid" 2>/dev/null || echo 0)
      uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
      podman stop --time 5 "$cid" >/dev/null 2>&1 || true
      [[ $pid != 0 && $uid == 65535 ]] || die "$r did not stay up as uid 65535 (pid '$pid', uid '$uid')"
      ;;
  esac
}

# --- Build, test, save.
if [[ " ${missing[*]} " == *" kube-proxy "* || " ${missing[*]} " == *" kube-router "* ]]; then
  podman image exists "$netbase" || build_netbase "$netbase"
fi
for n in "${missing[@]}"; do
  r=$(ref "$n")
  mkdir -p "$work/$n"
  src=$cache/$(binary "$n")
  ln "$src" "$work/$n/$n" 2>/dev/null || cp "$src" "$work/$n/$n"
  args=()
  case ${kind[$n]} in
    control-plane) args=(--build-arg "BINARY=$n") ;;
    kube-proxy | kube-router) args=(--build-arg "NETBASE=$netbase") ;;
  esac
  log "podman build $r"
  podman build --quiet --layers=false --network=none "${args[@]}" -f "$here/Containerfile.${kind[$n]}" \
    -t "$r" "$work/$n" >/dev/null
  check_image "$n"
  podman save --quiet --format docker-archive -o "$cache/images/.$n.tar.$$" "$r"
  mv "$cache/images/.$n.tar.$$" "$cache/images/$n.tar"
  podman rmi "$r" >/dev/null
  log "images/$n.tar: $r ($(du -h "$cache/images/$n.tar" | cut -f1))"
done
write_sums
log "built ${#missing[@]} image archive(s) in $(($(date +%s) - start)) s into $cache/images;" \
  "SHA256SUMS written"
