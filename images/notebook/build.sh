#!/usr/bin/env bash
# Build the notebook image (the users' servers on the kubernetes backend): images/build-app.sh
# notebook, which says what its inputs and options are.
exec "$(dirname "$0")/../build-app.sh" notebook "$@"
