"""dpkg_missing / pip_missing: a role runs apt or pip only when a package is not installed (at
its pinned version). Fed dpkg-query and pip output captured in a lab node
(tests/unit/fixtures/packages/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "packages"
MIXED = (FIXTURES / "show_mixed.stdout").read_text()
FREEZE = (FIXTURES / "pip_list_freeze.stdout").read_text()
REQUIREMENTS = Path(__file__).resolve().parents[4] / "images" / "notebook" / "requirements.txt"


@pytest.fixture(scope="module")
def dpkg_missing(load_plugin):
    return load_plugin("plugins/filter/packages.py").dpkg_missing


def test_installed_packages_are_not_missing(dpkg_missing):
    assert dpkg_missing(["chrony", "python3", "sssd"], MIXED) == []


def test_known_but_not_installed_and_unknown_packages_are_missing_in_order(dpkg_missing):
    wanted = ["slapd", "chrony", "nosuchpkg", "sssd"]
    assert dpkg_missing(wanted, MIXED) == ["slapd", "nosuchpkg"]


def test_nothing_shown_means_everything_is_missing(dpkg_missing):
    assert dpkg_missing(["chrony", "sssd"], "") == ["chrony", "sssd"]


@pytest.mark.parametrize("name", ["chrony=4.3-2+deb12u1", "chrony:amd64", "chrony*"])
def test_names_that_are_not_plain_package_names_are_left_to_apt(dpkg_missing, name):
    assert dpkg_missing([name], MIXED) == [name]


def test_half_installed_packages_are_missing(dpkg_missing):
    # Other status abbreviations (iU unpacked, iF half-configured, rc config files only) are
    # not installed packages: apt must finish or redo them.
    shown = "chrony iU \nsssd iF \npython3 rc \n"
    assert dpkg_missing(["chrony", "sssd", "python3"], shown) == ["chrony", "sssd", "python3"]


def test_wrong_input_types_are_refused_naming_the_value(dpkg_missing):
    with pytest.raises(AnsibleFilterError, match="list of package names, got 'chrony'"):
        dpkg_missing("chrony", MIXED)
    with pytest.raises(AnsibleFilterError, match="stdout of dpkg-query --show, got None"):
        dpkg_missing(["chrony"], None)


@pytest.fixture(scope="module")
def pip_missing(load_plugin):
    return load_plugin("plugins/filter/packages.py").pip_missing


def pins() -> list[str]:
    """The users' environment pins, as the jupyterhub role reads them."""
    lines = [line.strip() for line in REQUIREMENTS.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_the_installed_users_environment_has_nothing_missing(pip_missing):
    assert pins(), "images/notebook/requirements.txt has no pins"
    assert pip_missing(pins(), FREEZE) == []


def test_names_compare_as_pep_503_normalises_them(pip_missing):
    # pip prints jupyter_server; a requirement may spell it jupyter-server or Jupyter.Server.
    assert pip_missing(["jupyter-server==2.21.1", "Jupyter.Server==2.21.1"], FREEZE) == []


def test_another_version_or_an_absent_package_is_missing(pip_missing):
    wanted = ["jupyterhub==5.5.5", "numpy==2.4.6", "nosuchpackage==1.0"]
    assert pip_missing(wanted, FREEZE) == ["jupyterhub==5.5.5", "nosuchpackage==1.0"]


@pytest.mark.parametrize(
    "requirement",
    ["numpy>=2", "numpy", "dask[distributed]==2026.8.0", "numpy==2.4.6; python_version<'3'"],
)
def test_anything_but_a_plain_pin_is_left_to_pip(pip_missing, requirement):
    assert pip_missing([requirement], FREEZE) == [requirement]


def test_a_missing_virtualenv_means_everything_is_missing(pip_missing):
    assert pip_missing(["numpy==2.4.6"], "") == ["numpy==2.4.6"]


def test_pip_missing_refuses_wrong_input_types(pip_missing):
    with pytest.raises(AnsibleFilterError, match="list of requirements, got 'numpy==1'"):
        pip_missing("numpy==1", FREEZE)
    with pytest.raises(AnsibleFilterError, match="pip list --format=freeze, got None"):
        pip_missing(["numpy==1"], None)
