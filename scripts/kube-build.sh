#!/usr/bin/env bash
# Build the Kubernetes components the lab and Molecule run, from Go modules (no download site
# and no registry is reachable here), into a cache outside the checkout keyed by version:
#
#   scripts/kube-build.sh            build what is missing, print the cache directory
#   scripts/kube-build.sh --print    print the cache directory the pinned versions give
#
# The versions come from roles/kubernetes/defaults/main.yml and, for etcd, roles/etcd/defaults
# (one source of truth). Output:
#   $JOVIAL_CACHE_DIR/kubernetes/<kube version>/bin/    kubeadm kubelet kubectl kube-apiserver
#        kube-controller-manager kube-scheduler kube-proxy (version-stamped, as upstream does), crictl
#   $JOVIAL_CACHE_DIR/kubernetes/<kube version>/addons/ coredns, kube-router, pause (go into images)
#   .../build.json                                      versions and build time
#   $JOVIAL_CACHE_DIR/etcd/v<etcd version>/etcd-v<version>-linux-amd64.tar.gz and SHA256SUMS:
#        etcd, etcdctl and etcdutl laid out as upstream's release tarball (the etcd role's
#        "release" install method); kubeadm 1.34 refuses an external etcd older than 3.5.24,
#        and Debian 12 ships 3.4.
# images/kubernetes/build.sh then makes the images from these; together they are the lab's
# "mirror" (roles/kubernetes, kubernetes_source: mirror).
# Go's own module and build caches live under $JOVIAL_CACHE_DIR/go too, so a second clone
# (CI) on the same machine rebuilds nothing.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
defaults=$top/roles/kubernetes/defaults/main.yml
cache_root=${JOVIAL_CACHE_DIR:-/var/cache/jovial}

pin() { # the value of a `key: "value"` line in the kubernetes role defaults
  sed -nE "s/^$1:[[:space:]]*\"?([^\"#[:space:]]+)\"?.*/\1/p" "$defaults" | head -1
}
kube_version=$(pin kubernetes_version)
coredns_version=$(pin kubernetes_coredns_version)
router_version=$(pin kubernetes_kube_router_version)
crictl_version=$(pin kubernetes_crictl_version)
etcd_version=$(defaults=$top/roles/etcd/defaults/main.yml pin etcd_release_version)
for v in kube_version coredns_version router_version crictl_version etcd_version; do
  [[ -n ${!v} ]] || { echo "kube-build.sh: no $v pinned in $defaults" >&2; exit 1; }
done

out=$cache_root/kubernetes/$kube_version
etcd_out=$cache_root/etcd/v$etcd_version
etcd_tarball=$etcd_out/etcd-v$etcd_version-linux-amd64.tar.gz
if [[ ${1:-} == --print ]]; then
  echo "$out"
  exit 0
fi

bins=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
missing() { # true when one of the named files is not there
  local f
  for f in "$@"; do [[ -x $f ]] || return 0; done
  return 1
}
if ! missing "${bins[@]/#/$out/bin/}" "$out/bin/crictl" "$out/addons/coredns" \
  "$out/addons/kube-router" "$out/addons/pause" && [[ -s $out/build.json && -s $etcd_tarball ]]; then
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { echo "kube-build.sh: go is missing (Go >= 1.24 is needed)" >&2; exit 1; }
export GOMODCACHE=$cache_root/go/mod GOCACHE=$cache_root/go/build GOFLAGS=-mod=mod
export GOTOOLCHAIN=local CGO_ENABLED=0 GOTELEMETRY=off
mkdir -p "$out/bin" "$out/addons" "$etcd_out" "$GOMODCACHE" "$GOCACHE"
work=$(mktemp -d "$cache_root/kubernetes/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
log() { echo ">> kube-build: $* ($(($(date +%s) - start)) s)" >&2; }

# --- Kubernetes itself: a wrapper module that replaces each staging module by its release.
gomod=$(go mod download -json "k8s.io/kubernetes@$kube_version" | sed -nE 's/.*"GoMod": "([^"]+)".*/\1/p')
staging_version=v0.${kube_version#v1.}
mkdir -p "$work/kube"
{
  echo "module jovial.local/kubebuild"
  echo
  sed -nE 's/^go ([0-9.]+)$/go \1/p' "$gomod"
  sed -nE 's/^godebug (.*)$/godebug \1/p' "$gomod"
  echo
  echo "require k8s.io/kubernetes $kube_version"
  echo
  echo "replace ("
  sed -nE "s#^[[:space:]]*(k8s\.io/[a-z0-9-]+) => \./staging/.*#\t\1 => \1 $staging_version#p" "$gomod"
  echo ")"
} >"$work/kube/go.mod"
commit=$(go mod download -json "k8s.io/kubernetes@$kube_version" | sed -nE 's/.*"Hash": "([^"]+)".*/\1/p' | head -1)
minor=${kube_version#v1.}; minor=${minor%%.*}
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitCommit=${commit:-unknown} -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
done
if missing "${bins[@]/#/$out/bin/}"; then
log "k8s.io/kubernetes $kube_version"
(
  cd "$work/kube"
  printf 'package main\n\nfunc main() {}\n' >main.go
  pkgs=()
  for b in "${bins[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  # @version, or go get would upgrade k8s.io/kubernetes to the newest release.
  go get "${pkgs[@]/%/@$kube_version}" 2>&1 | grep -v '^go: downloading' >&2 || true
  go build -trimpath -tags selinux,notest -ldflags "$ldflags" -o "$out/bin/" "${pkgs[@]}"
)
log "kubernetes binaries built"
fi

# --- Addons: CoreDNS (the version kubeadm expects), kube-router (pod routes + NetworkPolicy
# with iptables and ipset), crictl, and the pause container's static binary.
build_module() { # <dir name> <module> <version> <package> <output> [ldflags]
  missing "$5" || return 0
  mkdir -p "$work/$1"
  (
    cd "$work/$1"
    printf 'module jovial.local/%s\n\ngo 1.24\n' "$1" >go.mod
    printf 'package main\n\nfunc main() {}\n' >main.go
    go get "$2@$3" >/dev/null
    go build -trimpath -ldflags "-s -w ${6:-}" -o "$5" "$4"
  )
  log "$4 $3 built"
}
build_module coredns github.com/coredns/coredns "$coredns_version" github.com/coredns/coredns "$out/addons/coredns"
build_module kube-router github.com/cloudnativelabs/kube-router/v2 "$router_version" \
  github.com/cloudnativelabs/kube-router/v2/cmd/kube-router "$out/addons/kube-router" \
  "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$router_version"
build_module crictl sigs.k8s.io/cri-tools "$crictl_version" sigs.k8s.io/cri-tools/cmd/crictl "$out/bin/crictl" \
  "-X sigs.k8s.io/cri-tools/pkg/version.Version=$crictl_version"
pause_src=$GOMODCACHE/k8s.io/kubernetes@$kube_version/build/pause/linux/pause.c
if missing "$out/addons/pause"; then
  gcc -Os -Wall -Werror -static -DVERSION="v$(pin kubernetes_pause_version)-jovial" -o "$out/addons/pause" "$pause_src"
  log "pause built"
fi

# --- etcd, as upstream's release tarball (etcd-v<version>-linux-amd64/{etcd,etcdctl,etcdutl}).
if [[ ! -s $etcd_tarball ]]; then
  stage=$work/etcd/etcd-v$etcd_version-linux-amd64
  mkdir -p "$stage"
  build_module etcd go.etcd.io/etcd/server/v3 "v$etcd_version" go.etcd.io/etcd/server/v3 "$stage/etcd"
  build_module etcdctl go.etcd.io/etcd/etcdctl/v3 "v$etcd_version" go.etcd.io/etcd/etcdctl/v3 "$stage/etcdctl"
  build_module etcdutl go.etcd.io/etcd/etcdutl/v3 "v$etcd_version" go.etcd.io/etcd/etcdutl/v3 "$stage/etcdutl"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/etcd" \
    -czf "$etcd_tarball.tmp" "etcd-v$etcd_version-linux-amd64"
  mv "$etcd_tarball.tmp" "$etcd_tarball"
  (cd "$etcd_out" && sha256sum "$(basename "$etcd_tarball")" >SHA256SUMS)
  log "etcd v$etcd_version release tarball made"
fi

elapsed=$(($(date +%s) - start))
{
  echo "{"
  echo "  \"kubernetes\": \"$kube_version\", \"coredns\": \"$coredns_version\", \"etcd\": \"$etcd_version\","
  echo "  \"kube_router\": \"$router_version\", \"crictl\": \"$crictl_version\","
  echo "  \"go\": \"$(go env GOVERSION)\", \"built\": \"$date\", \"build_seconds\": $elapsed"
  echo "}"
} >"$out/build.json"
echo ">> kube-build: Kubernetes $kube_version and addons built in $elapsed s into $out" >&2
echo "$out"
