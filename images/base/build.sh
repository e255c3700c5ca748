#!/usr/bin/env bash
# Build the Jovial node image (lab and Molecule) from Debian's mirror.
#
#   images/base/build.sh            build if needed, print the image name
#   images/base/build.sh --print    print the image name the current inputs give
#
# The tag is a hash of every input (this script, the Containerfile, the package list, the
# apt configuration and the host's extra CA certificates), so the image is rebuilt only when
# one of them changes. The image is also tagged :latest for people running Molecule by hand.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
suite=${JOVIAL_DEBIAN_SUITE:-bookworm}
mirror=${JOVIAL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
repo=localhost/jovial-base
cache=$top/build/cache/debootstrap
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}

inputs_hash() {
  {
    echo "$suite $mirror"
    cat "$here/build.sh" "$here/Containerfile" "$here/packages.txt" \
        "$here/apt-sources.list" "$here/90jovial-keep-debs" "$here/ssh-hostkeys.conf"
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
      cat /usr/local/share/ca-certificates/*.crt
    fi
  } | sha256sum | cut -c1-12
}

tag=$(inputs_hash)
image=$repo:$tag

if [[ ${1:-} == --print ]]; then
  echo "$image"
  exit 0
fi

if podman image exists "$image"; then
  podman tag "$image" "$repo:latest"
  echo "$image"
  exit 0
fi

for tool in debootstrap podman; do
  command -v "$tool" >/dev/null || {
    echo "build.sh: $tool is missing; run 'make deps' (scripts/bootstrap.sh) first" >&2
    exit 1
  }
done

mkdir -p "$top/build"
work=$(mktemp -d "$top/build/base-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache" "$work/context/ca"

include=$(grep -v -e '^#' -e '^$' "$here/packages.txt" | paste -sd, -)
echo ">> debootstrap $suite from $mirror (packages: $include)" >&2
debootstrap --variant=minbase --include="$include" --cache-dir="$cache" \
  "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 40 "$work/debootstrap.log" >&2
  echo "build.sh: debootstrap failed (log above)" >&2
  exit 1
}

echo ">> podman import" >&2
tar -C "$work/rootfs" -c . | podman import --quiet - "localhost/jovial-rootfs:$tag" >/dev/null

cp "$here/Containerfile" "$here/apt-sources.list" "$here/90jovial-keep-debs" \
  "$here/ssh-hostkeys.conf" "$work/context/"
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$work/context/ca/"
fi

echo ">> podman build $image" >&2
podman build --quiet --network=none --build-arg "ROOTFS=localhost/jovial-rootfs:$tag" \
  -t "$image" -t "$repo:latest" "$work/context" >/dev/null
podman rmi "localhost/jovial-rootfs:$tag" >/dev/null
echo "$image"
