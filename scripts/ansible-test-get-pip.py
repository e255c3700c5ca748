"""Stand-in for the pip bootstrap script ansible-test downloads (get-pip-<version>.py).

ansible-test creates each sanity test's virtualenv without pip, then runs
``python get_pip_<version>.py [--disable-pip-version-check] pip==<version> ... --no-setuptools
--no-wheel`` from ~/.ansible/test/cache/. The real script is downloaded from
ci-files.testing.ansible.com, which is unreachable here; PyPI is reachable. This one installs
the pip bundled with Python (ensurepip, offline), then the requested packages from PyPI with it.
scripts/sanity.sh copies it into that cache only when no bootstrap script is cached there.
"""

import subprocess
import sys

# get-pip.py's own options, which `pip install` does not know.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main() -> int:
    # In a child process: ensurepip points PIP_CONFIG_FILE at /dev/null in its own environment,
    # and the install below needs the site's pip configuration (its CA bundle, for one).
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    return subprocess.call([sys.executable, "-m", "pip", "install", *args])


if __name__ == "__main__":
    sys.exit(main())
