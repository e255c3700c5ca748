"""Filters for the container images Jovial imports into the nodes' containerd.

``stale_images`` picks the images of earlier builds to remove from a node: images whose
repository is one of the wanted references' (the same image, another tag: a previous hub or
notebook build) that no container on the node uses, not even a stopped one. It reads the
JSON of ``crictl images -o json`` and ``crictl ps -a -o json`` from the node. Images of other
repositories (the cluster's own, a site's) and untagged images are never picked: the
kubelet's image garbage collection owns those. Unit-tested in
tests/unit/plugins/filter/test_images.py on crictl 1.34 output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError


def repository(ref: str) -> str:
    """The repository of an image reference: without its ``@digest`` and ``:tag`` (a ``:``
    in the registry's host:port is not a tag)."""
    name = ref.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def _listing(value: Any, key: str, command: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, Mapping) or not isinstance(value.get(key) or [], list):
        raise AnsibleFilterError(
            f"stale_images wants the parsed JSON of `{command}` (a mapping with a list "
            f"{key!r}), got {value!r:.200}"
        )
    return [item for item in value.get(key) or [] if isinstance(item, Mapping)]


def stale_images(images: Any, containers: Any, wanted: Any) -> list[str]:
    """IDs of the images to remove: every tag in a repository of ``wanted`` (image
    references that must stay), none of them wanted, and no container using the image."""
    if isinstance(wanted, str) or not isinstance(wanted, (list, tuple)):
        raise AnsibleFilterError(f"stale_images wants a list of image references, got {wanted!r}")
    keep = {str(ref) for ref in wanted}
    repositories = {repository(ref) for ref in keep}
    used = set()
    for container in _listing(containers, "containers", "crictl ps -a -o json"):
        used.add(container.get("imageRef"))
        image = container.get("image")
        if isinstance(image, Mapping):
            used.add(image.get("image"))
    stale = []
    for image in _listing(images, "images", "crictl images -o json"):
        tags = [str(t) for t in image.get("repoTags") or []]
        if not tags or keep.intersection(tags) or image.get("id") in used:
            continue
        if all(repository(tag) in repositories for tag in tags):
            stale.append(str(image["id"]))
    return sorted(stale)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"stale_images": stale_images}
