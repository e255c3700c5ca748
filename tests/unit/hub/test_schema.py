"""Kubernetes schema validation at the pinned version."""

from __future__ import annotations

import pytest

from jovial_hub import schema

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "jupyter-jsoto", "namespace": "hub-astro"},
    "spec": {
        "containers": [
            {
                "name": "notebook",
                "image": "notebook:1",
                "resources": {"limits": {"cpu": "1", "memory": "4Gi"}},
            }
        ]
    },
}


def test_pinned_version_is_shipped_by_kubernetes_validate():
    assert schema.validate(POD) == schema.KUBERNETES_VERSION == "1.31"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p["spec"]["containers"][0].update(imagePullPolicy=True),
            "Pod hub-astro/jupyter-jsoto: spec.containers.0.imagePullPolicy: True is not of type",
        ),
        (
            lambda p: p["spec"]["containers"][0].update(imagee="typo"),
            "spec.containers.0: Additional properties are not allowed ('imagee' was unexpected)",
        ),
        (lambda p: p["spec"].pop("containers"), "spec: 'containers' is a required property"),
    ],
)
def test_broken_manifest_names_object_and_field(change, message):
    import copy

    pod = copy.deepcopy(POD)
    change(pod)
    with pytest.raises(schema.SchemaError) as caught:
        schema.validate(pod)
    assert message in str(caught.value)
    assert "(Kubernetes 1.31 schema)" in str(caught.value)


def test_unknown_kind_and_version():
    with pytest.raises(schema.SchemaError, match="Couldn't find schema for kind Widget"):
        schema.validate({"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}})
    with pytest.raises(schema.SchemaError, match=r"does not support version 9\.99"):
        schema.validate(POD, version="9.99")
    with pytest.raises(schema.SchemaError, match="not a Kubernetes object"):
        schema.validate({"metadata": {}})
