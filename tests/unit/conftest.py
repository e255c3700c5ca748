"""Shared pytest setup for tests/unit: no hosts, no network.

- plugins/module_utils is added to the ``ansible.module_utils`` package path, so tests import
  our helpers exactly as modules do on a host (``from ansible.module_utils.<name> import ...``;
  AnsiballZ resolves that import through ansible.cfg's ``module_utils``).
- ``ansible_plugin_loader`` installs Ansible's collection loader (as ansible-playbook does).
- ``load_plugin`` loads a plugin file (action, filter, callback...) by its path in the repo, the
  way Ansible's plugin loader does, without needing a configured Ansible run.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import ansible.module_utils
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULE_UTILS = REPO_ROOT / "plugins" / "module_utils"

if str(MODULE_UTILS) not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(str(MODULE_UTILS))


@pytest.fixture(scope="session")
def ansible_plugin_loader() -> None:
    """Set up Ansible's collection loader as the CLI does, so that in-process templating
    resolves FQCN plugins (ansible.builtin.password, ...)."""
    from ansible.plugins.loader import init_plugin_loader
    from ansible.utils.collection_loader import AnsibleCollectionConfig

    if AnsibleCollectionConfig.collection_finder is None:
        init_plugin_loader()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout's root (where ansible.cfg lives)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def load_plugin() -> Callable[[str], ModuleType]:
    """Load a plugin file by its repo-relative path, e.g. 'plugins/action/jovial_validate.py'."""
    loaded: dict[str, ModuleType] = {}

    def load(relative_path: str) -> ModuleType:
        if relative_path not in loaded:
            path = REPO_ROOT / relative_path
            name = "jovial_test_" + "_".join(Path(relative_path).with_suffix("").parts)
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None, f"cannot load {path}"
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            loaded[relative_path] = module
        return loaded[relative_path]

    return load
