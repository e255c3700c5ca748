"""stale_images (plugins/filter/images.py) on crictl output captured on the lab's worker kw1
(tests/unit/fixtures/crictl/README.md)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "crictl"
IMAGES = json.loads((FIXTURES / "images.json").read_text())
CONTAINERS = json.loads((FIXTURES / "ps-a.json").read_text())
HUB = "localhost/jovial-hub:3b6b7a35e6c6"
NOTEBOOK = "localhost/jovial-notebook:02301cedd853"
WANTED = [HUB, NOTEBOOK]


@pytest.fixture(scope="module")
def images(load_plugin):
    return load_plugin("plugins/filter/images.py")


def with_earlier(image_id: str, *tags: str) -> dict:
    """The captured listing plus an earlier build (constructed: the shape of the captured
    entries, another id and tag)."""
    listing = copy.deepcopy(IMAGES)
    listing["images"].append(
        {"id": image_id, "repoTags": list(tags), "repoDigests": [], "size": "1", "pinned": False}
    )
    return listing


def test_nothing_is_stale_on_the_captured_worker(images):
    assert images.stale_images(IMAGES, CONTAINERS, WANTED) == []


def test_an_earlier_build_no_container_uses_is_stale(images):
    listing = with_earlier("sha256:" + "1" * 64, "localhost/jovial-notebook:0ld0ld0ld0ld")
    assert images.stale_images(listing, CONTAINERS, WANTED) == ["sha256:" + "1" * 64]


def test_an_earlier_build_a_container_still_runs_stays(images):
    containers = copy.deepcopy(CONTAINERS)
    containers["containers"][0]["imageRef"] = "sha256:" + "2" * 64
    containers["containers"][0]["image"]["image"] = "sha256:" + "2" * 64
    listing = with_earlier("sha256:" + "2" * 64, "localhost/jovial-hub:0ld0ld0ld0ld")
    assert images.stale_images(listing, containers, WANTED) == []


@pytest.mark.parametrize(
    "tags",
    [
        # Another repository: the kubelet's garbage collection decides, not us.
        ["jovial.lab/k8s/coredns:v1.11.0"],
        # Also tagged in a repository we do not manage.
        ["localhost/jovial-hub:0ld0ld0ld0ld", "registry.obs.example.org/tools/hub:1"],
        # Untagged.
        [],
    ],
)
def test_images_outside_the_managed_repositories_stay(images, tags):
    listing = with_earlier("sha256:" + "3" * 64, *tags)
    assert images.stale_images(listing, CONTAINERS, WANTED) == []


@pytest.mark.parametrize(
    ("ref", "repository"),
    [
        ("localhost/jovial-hub:3b6b7a35e6c6", "localhost/jovial-hub"),
        (
            "registry.obs.example.org:5000/jovial/notebook:2026.11",
            "registry.obs.example.org:5000/jovial/notebook",
        ),
        (
            "registry.obs.example.org:5000/jovial/notebook",
            "registry.obs.example.org:5000/jovial/notebook",
        ),
        ("localhost/jovial-hub@sha256:" + "a" * 64, "localhost/jovial-hub"),
    ],
)
def test_repository_of_a_reference(images, ref, repository):
    assert images.repository(ref) == repository


def test_wrong_inputs_are_named(images):
    with pytest.raises(AnsibleFilterError, match="crictl images -o json"):
        images.stale_images("not json", CONTAINERS, WANTED)
    with pytest.raises(AnsibleFilterError, match="crictl ps -a -o json"):
        images.stale_images(IMAGES, {"containers": "x"}, WANTED)
    with pytest.raises(AnsibleFilterError, match="list of image references"):
        images.stale_images(IMAGES, CONTAINERS, HUB)
