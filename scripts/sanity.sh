#!/usr/bin/env bash
# `make sanity`: Ansible's own plugin test suite (`ansible-test sanity`) on plugins/, laid out as
# the collection that galaxy.yml names. ansible-test only runs with its working directory inside
# ansible_collections/<namespace>/<name>, so the collection's files (galaxy.yml, README.md, meta/,
# plugins/, tests/sanity/) are copied to build/collections/ansible_collections/<ns>/<name>/.
# A copy, not symlinks: ansible-test lists files with git and does not follow directory
# symlinks. The copy gets its own throwaway git repository (build/ is ignored by the checkout's
# git, which would otherwise list nothing there).
#
# Runs with --local on the project's Python: no container. Each test that needs Python packages
# (pylint, yamllint, voluptuous...) gets a virtualenv that ansible-test builds from PyPI once and
# keeps in ~/.ansible/test/venv. It bootstraps pip in those with a script it downloads from
# ci-files.testing.ansible.com, which is unreachable here: scripts/ansible-test-get-pip.py stands
# in for it (installed into ansible-test's cache only when no bootstrap script is cached).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)

field() { sed -nE "s/^$1:[[:space:]]*\"?([A-Za-z0-9_]+)\"?.*/\1/p" "$top/galaxy.yml"; }
namespace=$(field namespace)
name=$(field name)
collection=$top/build/collections/ansible_collections/$namespace/$name

python=$(command -v python)
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# The pip version this ansible-test bootstraps its virtualenvs with (its get-pip cache name).
pip_version=$("$python" - <<'EOF'
from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._internal.host_configs import NativePythonConfig
import sys
print(get_venv_packages(NativePythonConfig(version="%d.%d" % sys.version_info[:2]))["pip"])
EOF
)
get_pip=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [[ ! -e $get_pip ]]; then
  mkdir -p "$(dirname "$get_pip")"
  cp "$top/scripts/ansible-test-get-pip.py" "$get_pip"
fi

mkdir -p "$collection"
rsync -a --delete --exclude /.git --exclude __pycache__ --exclude '*.pyc' \
  "$top/galaxy.yml" "$top/README.md" "$top/meta" "$top/plugins" "$collection/"
mkdir -p "$collection/tests"
rsync -a --delete "$top/tests/sanity" "$collection/tests/"
[[ -d $collection/.git ]] || git -C "$collection" init --quiet

# Tests that cannot run here, each with the reason (none needs a container with --local).
skip=()
reasons=()
if ! command -v pwsh >/dev/null; then
  skip+=(pslint)
  reasons+=("pslint: PowerShell (pwsh) is not installed; the collection has no PowerShell code")
fi
for reason in "${reasons[@]}"; do echo ">> sanity: skipping $reason"; done

cd "$collection"
# The checkout's Ansible settings (ansible.cfg, ANSIBLE_LIBRARY...) describe the roles, not this
# collection: ansible-test and the ansible-doc it runs must see the collection alone.
unset $(compgen -e | grep '^ANSIBLE_') || true
echo ">> ansible-test sanity --local --python $version on $namespace.$name ($collection)"
rm -rf tests/output/junit
rc=0
ansible-test sanity --local --python "$version" --color no --junit "${skip[@]/#/--skip-test=}" \
  || rc=$?
# One line per outcome, from ansible-test's junit files (a test with no file it applies to, such
# as shellcheck with no shell script, is reported skipped with ansible-test's reason).
"$python" - tests/output/junit <<'EOF'
import pathlib
import sys
import xml.etree.ElementTree as ET

outcomes = {"passed": [], "skipped": [], "failed": []}
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.xml")):
    test = path.stem.removeprefix("ansible-test-sanity-")
    for case in ET.parse(path).iter("testcase"):
        skipped = case.find("skipped")
        if skipped is not None:
            reason = skipped.text or "no reason given"
            if reason == "No tests applicable.":
                reason = "no file in the collection it applies to"
            outcomes["skipped"].append(f"{test}: {reason}")
        elif case.find("failure") is not None or case.find("error") is not None:
            outcomes["failed"].append(test)
        else:
            outcomes["passed"].append(test)
for outcome, tests in outcomes.items():
    print(f">> sanity {outcome} ({len(tests)}): {'; '.join(tests) or '-'}")
EOF
echo ">> sanity: $(( $(date +%s) - start )) s (ansible-test exit $rc)"
exit "$rc"
