#!/bin/sh
# Entry point of the notebook image (under tini): make the environment usable for whatever
# uid:gid the pod runs as, then exec the command (jupyterhub-singleuser by default).
#
# KubeSpawner runs the container as the user's LDAP uid/gid, which has no entry in the image's
# /etc/passwd, and sets HOME to the user's Lustre home. Run any other way (no HOME given, or
# one this uid cannot write), the server would fail to write its runtime files: use a fresh
# private directory under /tmp instead. Nothing here needs or gets root.
set -eu

if [ -z "${HOME:-}" ] || [ "$HOME" = / ] || ! [ -d "$HOME" ] || ! [ -w "$HOME" ]; then
  HOME=$(mktemp -d "${TMPDIR:-/tmp}/home-$(id -u).XXXXXX")
  export HOME
fi
# Python's getpass.getuser() (used by Jupyter and Dask) falls back to the passwd entry, which
# an LDAP uid does not have in the image.
if [ -z "${USER:-}" ]; then
  USER=${JUPYTERHUB_USER:-$(id -un 2>/dev/null || id -u)}
  export USER
fi
export LOGNAME="${LOGNAME:-$USER}"

exec "$@"
