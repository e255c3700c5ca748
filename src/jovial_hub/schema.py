"""Validate Kubernetes objects against the OpenAPI schema of the Kubernetes version we pin.

kubernetes-validate ships the JSON schemas of every Kubernetes minor version (1.25 to 1.37 in
kubernetes-validate 1.37); we validate against KUBERNETES_VERSION in strict mode, so an unknown
or misspelt field is an error too (the API server would silently drop it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubernetes_validate import utils as kv

__all__ = ["KUBERNETES_VERSION", "SchemaError", "validate"]

# The Kubernetes minor version production clusters run (the kubernetes layer's pin).
KUBERNETES_VERSION = "1.31"


class SchemaError(ValueError):
    """An object does not match the Kubernetes schema; the message names the object, the
    field path and the problem."""


def _name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    ns = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind', '?')} {ns}{meta.get('name', '?')}"


def validate(obj: Mapping[str, Any], version: str = KUBERNETES_VERSION, strict: bool = True) -> str:
    """Validate one object; return the schema version used. Raise :class:`SchemaError` with
    ``<Kind> <namespace>/<name>: <field.path>: <problem>`` when it does not validate, or when
    no schema exists for its kind/apiVersion at this version."""
    if not isinstance(obj, Mapping) or "kind" not in obj or "apiVersion" not in obj:
        raise SchemaError(f"not a Kubernetes object (needs apiVersion and kind): {obj!r:.200}")
    try:
        return kv.validate(dict(obj), version, strict=strict)
    except kv.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path) or "(top level)"
        raise SchemaError(
            f"{_name(obj)}: {path}: {exc.message} (Kubernetes {exc.version} schema)"
        ) from None
    except kv.SchemaNotFoundError as exc:
        raise SchemaError(f"{_name(obj)}: {exc.message}") from None
    except kv.VersionNotSupportedError as exc:
        raise SchemaError(f"{_name(obj)}: {exc.message}") from None
