"""Every module's documentation is what `ansible-doc -M plugins/modules <name>` renders, and it
describes the options the module really takes (what ansible-test's validate-modules checks).

A DOCUMENTATION block that is not valid YAML (a bare ``: `` in a description, say) makes
ansible-doc fail and hides the module's help from operators; an option documented but not
accepted, or accepted but not documented, misleads them.

A module file without main() documents the action plugin of the same name (as
ansible.builtin.debug does); its options are the argument_spec that action validates.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.parsing.plugin_docs import read_docstring

PLUGINS = Path(__file__).resolve().parents[4] / "plugins"
MODULES = sorted((PLUGINS / "modules").glob("*.py"))


class _Captured(Exception):
    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__("argument_spec captured")
        self.spec = spec


def _load(path: Path, prefix: str) -> Any:
    spec_loader = importlib.util.spec_from_file_location(f"{prefix}{path.stem}", path)
    module = importlib.util.module_from_spec(spec_loader)
    spec_loader.loader.exec_module(module)
    return module


def action_argument_spec(name: str) -> dict[str, Any]:
    """The argument_spec plugins/action/<name>.py validates first thing in run(), captured."""
    path = PLUGINS / "action" / f"{name}.py"
    assert path.is_file(), f"modules/{name}.py has no main() and there is no action/{name}.py"
    action = object.__new__(_load(path, "_doccheck_action_").ActionModule)

    def capture(argument_spec: dict[str, Any] | None = None, **kwargs: Any) -> None:
        raise _Captured(argument_spec or {})

    action.validate_argument_spec = capture
    with pytest.raises(_Captured) as captured:
        action.run(task_vars={})
    return captured.value.spec


def argument_spec(path: Path) -> dict[str, Any]:
    """The argument_spec main() hands to AnsibleModule, captured before anything runs (for
    an action's documentation, the argument_spec the action validates)."""
    module = _load(path, "_doccheck_")
    if not hasattr(module, "main"):
        return action_argument_spec(path.stem)

    def capture(*args: Any, **kwargs: Any) -> None:
        raise _Captured(kwargs.get("argument_spec", args[0] if args else {}))

    module.AnsibleModule = capture
    with pytest.raises(_Captured) as captured:
        module.main()
    return captured.value.spec


def option_names(options: dict[str, Any]) -> dict[str, Any]:
    """Option name -> its suboption names (recursively), from a spec or a DOCUMENTATION."""
    return {
        name: option_names(body.get("options") or body.get("suboptions") or {})
        for name, body in (options or {}).items()
    }


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_documentation_parses_and_names_the_module(path: Path) -> None:
    docs = read_docstring(str(path), ignore_errors=False)
    doc = docs["doc"]
    assert isinstance(doc, dict), f"{path.name}: DOCUMENTATION is not a YAML mapping"
    assert doc["module"] == path.stem
    assert doc.get("short_description"), f"{path.name}: no short_description"
    assert docs["plainexamples"], f"{path.name}: no EXAMPLES"
    assert isinstance(docs["returndocs"], dict), f"{path.name}: RETURN is not a YAML mapping"
    # STYLE.md: modules declare their check mode and diff support.
    attributes = doc.get("attributes") or {}
    assert {"check_mode", "diff_mode"} <= set(attributes), (
        f"{path.name}: DOCUMENTATION attributes must declare check_mode and diff_mode"
    )


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_documented_options_are_the_options_the_module_takes(path: Path) -> None:
    doc = read_docstring(str(path), ignore_errors=False)["doc"]
    documented = option_names(doc.get("options") or {})
    accepted = option_names(argument_spec(path))
    assert documented == accepted


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_examples_are_tasks_that_use_only_documented_options(path: Path) -> None:
    docs = read_docstring(str(path), ignore_errors=False)
    options = set(docs["doc"].get("options") or {})
    tasks = yaml.safe_load(docs["plainexamples"])
    assert isinstance(tasks, list) and tasks, f"{path.name}: EXAMPLES is not a list of tasks"
    calls = [task[path.stem] for task in tasks if path.stem in task]
    assert calls, f"{path.name}: no example calls {path.stem}"
    for args in calls:
        assert set(args or {}) <= options, f"{path.name}: example uses {set(args) - options}"
