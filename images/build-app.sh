#!/usr/bin/env bash
# Build one of Jovial's application images (images/<name>/: notebook, hub) with podman, FROM
# our Debian node image (images/base).
#
#   images/build-app.sh <name>            build if needed, print the image name
#   images/build-app.sh <name> --print    print the image name the current inputs give
#   images/build-app.sh <name> --save DIR also save it as DIR/<name>.tar (docker-archive of
#                                         localhost/jovial-<name>:<tag>) and list its sha256
#                                         in DIR/SHA256SUMS; the Kubernetes nodes import it
#
# Inputs (environment):
#   JOVIAL_APP_BASE  base image (build ARG BASE_IMAGE); default: our Debian node image, built
#                    first by images/base/build.sh when missing
#   JOVIAL_SITE_CA   PEM file of the site CA to trust in the image (e.g. build/lab/pki/ca.crt);
#                    the host's extra CA certificates are always trusted
#
# The build context is images/<name>/ plus what images/<name>/context lists (paths relative
# to the checkout, one a line, copied under the same relative path). The tag is a hash of every
# input (this script, the context but its *.md files, the base image name - itself a hash of
# its inputs - and the CA certificates): the image is rebuilt only when one of them changes;
# also tagged :latest.
# apt and pip downloads are kept in JOVIAL_IMAGE_CACHE (outside the checkout, survives clones).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "images/build-app.sh: $*" >&2; exit 1; }
[[ $# -ge 1 && -d $top/images/${1:-/} && -f $top/images/$1/Containerfile ]] ||
  die "usage: images/build-app.sh <name> [--print|--save DIR]; <name> is a directory of" \
    "images/ with a Containerfile (notebook, hub)"
name=$1
shift
here=$top/images/$name
repo=localhost/jovial-$name
export CONTAINERS_CONF=${CONTAINERS_CONF:-$top/images/base/containers.conf}
base=${JOVIAL_APP_BASE:-$("$top/images/base/build.sh" --print)}
site_ca=${JOVIAL_SITE_CA:-}
cache=${JOVIAL_IMAGE_CACHE:-/var/cache/jovial/images-build}

[[ -z $site_ca || -r $site_ca ]] ||
  die "JOVIAL_SITE_CA=$site_ca is not a readable file; point it at the site CA certificate" \
    "(PEM), e.g. build/lab/pki/ca.crt, or unset it"

ca_files() {
  compgen -G "/usr/local/share/ca-certificates/*.crt" || true
  [[ -z $site_ca ]] || echo "$site_ca"
}
extra_context() { # the checkout paths images/<name>/context lists
  [[ -f $here/context ]] || return 0
  grep -vE '^[[:space:]]*(#|$)' "$here/context"
}
context_files() { # every file of the context, sorted, relative to the checkout
  (cd "$top" && { find "images/$name" -type f ! -name '*.pyc' ! -name '*.md'
    extra_context | while read -r p; do find "$p" -type f ! -name '*.pyc' ! -path '*/__pycache__/*'; done
  } | LC_ALL=C sort)
}
inputs_hash() {
  {
    echo "$base"
    cat "$top/images/build-app.sh"
    context_files | while read -r f; do echo "$f"; cat "$top/$f"; done
    while read -r f; do [[ -z $f ]] || cat "$f"; done < <(ca_files)
  } | sha256sum | cut -c1-12
}

image=$repo:$(inputs_hash)
mode=build save_dir=
case ${1:-} in
  --print) echo "$image"; exit 0 ;;
  --save) [[ -n ${2:-} ]] || die "--save needs a directory"; mode=save; save_dir=$2 ;;
  "") ;;
  *) die "unknown option $1 (--print or --save DIR)" ;;
esac

if ! podman image exists "$image"; then
  podman image exists "$base" || {
    [[ -z ${JOVIAL_APP_BASE:-} ]] || die "base image $base (JOVIAL_APP_BASE) does not exist"
    "$top/images/base/build.sh" >/dev/null
  }
  mkdir -p "$cache/pip" "$cache/apt/$name/partial"
  work=$(mktemp -d "${TMPDIR:-/tmp}/jovial-$name-image.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  (cd "$top" && context_files | while read -r f; do
     mkdir -p "$work/$(dirname "$f")" && cp "$f" "$work/$f"; done)
  mkdir -p "$work/ca"
  n=0
  while read -r f; do
    [[ -z $f ]] && continue
    n=$((n + 1))
    # update-ca-certificates only reads *.crt; numbered so two files never collide.
    cp "$f" "$work/ca/jovial-$n-$(basename "${f%.*}").crt"
  done < <(ca_files)
  echo ">> podman build $image (FROM $base)" >&2
  podman build --quiet --build-arg "BASE_IMAGE=$base" \
    --volume "$cache/apt/$name:/var/cache/apt/archives" \
    --volume "$cache/pip:/root/.cache/pip" \
    -f "$work/images/$name/Containerfile" -t "$image" "$work" >/dev/null
fi
podman tag "$image" "$repo:latest"

if [[ $mode == save ]]; then
  mkdir -p "$save_dir"
  archive=$save_dir/$name.tar
  stamp=$save_dir/$name.image
  # The archive is rewritten only when it holds another image.
  if [[ ! -f $archive || "$(cat "$stamp" 2>/dev/null)" != "$image" ]]; then
    rm -f "$archive"
    podman save --quiet --format docker-archive -o "$archive.tmp" "$image"
    mv "$archive.tmp" "$archive"
    echo "$image" >"$stamp"
  fi
  (cd "$save_dir" && sha256sum -- *.tar >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
fi
echo "$image"
