#!/usr/bin/env bash
# Build the Jovial notebook image (the users' servers on the kubernetes backend) with podman.
#
#   images/notebook/build.sh            build if needed, print the image name
#   images/notebook/build.sh --print    print the image name the current inputs give
#
# Inputs (environment):
#   JOVIAL_NOTEBOOK_BASE  base image (build ARG BASE_IMAGE); default: our Debian node image,
#                         built first by images/base/build.sh when missing
#   JOVIAL_SITE_CA        PEM file of the site CA to trust in the image (e.g. the lab's
#                         build/<site>/pki/ca.crt or a site's jovial_pki_dir/ca.crt);
#                         the host's extra CA certificates are always trusted
#
# The tag is a hash of every input (this script, the Containerfile, the requirements, the
# start script, the base image name - itself a hash of its inputs - and the CA certificates),
# so the image is rebuilt only when one of them changes; it is also tagged :latest.
# apt and pip caches under build/cache/ are mounted into the build to save downloads.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
repo=localhost/jovial-notebook
export CONTAINERS_CONF=${CONTAINERS_CONF:-$top/images/base/containers.conf}
base=${JOVIAL_NOTEBOOK_BASE:-$("$top/images/base/build.sh" --print)}
site_ca=${JOVIAL_SITE_CA:-}

if [[ -n $site_ca && ! -r $site_ca ]]; then
  echo "build.sh: JOVIAL_SITE_CA=$site_ca is not a readable file; point it at the site CA" \
       "certificate (PEM), e.g. build/<site>/pki/ca.crt, or unset it" >&2
  exit 1
fi

ca_files() {
  compgen -G "/usr/local/share/ca-certificates/*.crt" || true
  [[ -z $site_ca ]] || echo "$site_ca"
}

inputs_hash() {
  {
    echo "$base"
    cat "$here/build.sh" "$here/Containerfile" "$here/requirements.txt" "$here/start.sh"
    while read -r f; do [[ -z $f ]] || cat "$f"; done < <(ca_files)
  } | sha256sum | cut -c1-12
}

image=$repo:$(inputs_hash)

if [[ ${1:-} == --print ]]; then
  echo "$image"
  exit 0
fi

if podman image exists "$image"; then
  podman tag "$image" "$repo:latest"
  echo "$image"
  exit 0
fi

if ! podman image exists "$base"; then
  if [[ -n ${JOVIAL_NOTEBOOK_BASE:-} ]]; then
    echo "build.sh: base image $base (JOVIAL_NOTEBOOK_BASE) does not exist" >&2
    exit 1
  fi
  "$top/images/base/build.sh" >/dev/null
fi

mkdir -p "$top/build/cache/pip" "$top/build/cache/apt/notebook-image/partial"
work=$(mktemp -d "$top/build/notebook-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ca"
cp "$here/Containerfile" "$here/requirements.txt" "$here/start.sh" "$work/"
n=0
while read -r f; do
  [[ -z $f ]] && continue
  n=$((n + 1))
  # update-ca-certificates only reads *.crt; number them so two files never collide.
  cp "$f" "$work/ca/jovial-$n-$(basename "${f%.*}").crt"
done < <(ca_files)

echo ">> podman build $image (FROM $base)" >&2
podman build --quiet --build-arg "BASE_IMAGE=$base" \
  --volume "$top/build/cache/apt/notebook-image:/var/cache/apt/archives" \
  --volume "$top/build/cache/pip:/root/.cache/pip" \
  -t "$image" -t "$repo:latest" "$work" >/dev/null
echo "$image"
