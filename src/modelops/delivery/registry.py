"""The image registry after a push: what Lambda will accept, and what a re-run can re-use.

Light on purpose (boto3 only): CD's lookup and the rehearsal import it without the serving wing.
"""

from __future__ import annotations

import json
import re
from typing import Any


class ImageError(RuntimeError):
    """A build, smoke or push step failed; the message says which and why."""


# What Lambda runs (Lambda developer guide, "Container image requirements": Docker image manifest
# V2 schema 2 or an OCI image manifest); an image index or manifest list is refused.
LAMBDA_MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)
ECR_REPOSITORY = re.compile(
    r"^(?P<registry>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<name>.+)$"
)


def ecr_client(repository: str, client: Any = None) -> tuple[Any, str, str] | None:
    """(boto3 ECR client, registry id, repository name) of an ECR repository URI, else None."""
    found = ECR_REPOSITORY.match(repository)
    if not found:
        return None
    if client is None:
        import boto3

        client = boto3.client("ecr", region_name=found.group("region"))
    return client, found.group("registry"), found.group("name")


def manifest_media_type(repository: str, digest: str, client: Any = None) -> str | None:
    """The media type ECR stored for `digest` (None: not an ECR repository, not checked)."""
    ecr = ecr_client(repository, client)
    if ecr is None:
        return None
    client, registry, name = ecr
    images = client.batch_get_image(
        registryId=registry, repositoryName=name, imageIds=[{"imageDigest": digest}],
        acceptedMediaTypes=[*LAMBDA_MANIFEST_TYPES,
                            "application/vnd.oci.image.index.v1+json",
                            "application/vnd.docker.distribution.manifest.list.v2+json"],
    )["images"]  # fmt: skip
    if not images:
        raise ImageError(f"{repository}@{digest} is not in the registry after the push")
    image = images[0]
    media_type: str | None = image.get("imageManifestMediaType") or json.loads(
        image["imageManifest"]
    ).get("mediaType")
    return media_type


def check_lambda_manifest(repository: str, digest: str, client: Any = None) -> str | None:
    """Raise ImageError unless the pushed manifest is one Lambda runs; return its media type."""
    media_type = manifest_media_type(repository, digest, client)
    if media_type is not None and media_type not in LAMBDA_MANIFEST_TYPES:
        raise ImageError(
            f"{repository}@{digest} is a {media_type}: Lambda runs only a single-platform image "
            f"manifest ({' or '.join(LAMBDA_MANIFEST_TYPES)}); build with --provenance=false "
            "--sbom=false (BuildKit adds attestations and pushes an index)"
        )
    return media_type


def existing_image(repository: str, tag: str, client: Any = None) -> str | None:
    """`<repository>@<digest>` of `tag` if the ECR repository already has it, else None.

    Tags are IMMUTABLE in the project's repository, and builds are not bit-for-bit reproducible:
    a re-run of CD must reuse the digest its first run pushed instead of pushing a new one.
    """
    ecr = ecr_client(repository, client)
    if ecr is None:
        return None
    client, registry, name = ecr
    try:
        found = client.describe_images(
            registryId=registry, repositoryName=name, imageIds=[{"imageTag": tag}]
        )["imageDetails"]
    except client.exceptions.ImageNotFoundException:
        return None
    return f"{repository}@{found[0]['imageDigest']}" if found else None
