"""The team's DVC remote: where it is configured, and a clear answer when S3 refuses it.

Pipeline-only (imports dvc and boto3); the serving process never imports this module.
A team commits its remote (`dvc remote add -d storage s3://bucket/dvc` in `.dvc/config`), or
sets `DVC_REMOTE_URL` (and `AWS_ENDPOINT_URL` for an S3-compatible endpoint), which is written to
the git-ignored `.dvc/config.local`. Credentials never go in either file: DVC and boto3 read
them from the usual AWS environment variables, profile or role.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

REMOTE_URL_ENV = "DVC_REMOTE_URL"
ENDPOINT_ENV = "AWS_ENDPOINT_URL"
ENV_REMOTE_NAME = "team"  # the name given to a remote configured from DVC_REMOTE_URL
# S3 error codes that mean "these credentials were refused", as AWS and moto send them.
REFUSED_CODES = {
    "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken",
    "InvalidToken", "InvalidClientTokenId", "403", "Forbidden",
}  # fmt: skip
HOW_TO_CONFIGURE = (
    "configure one: export DVC_REMOTE_URL=s3://<bucket>/dvc (the `dvc_remote_url` output of "
    "infra/bootstrap) [and AWS_ENDPOINT_URL for S3-compatible storage], or commit it with "
    "`dvc remote add -d storage s3://<bucket>/dvc`; see README 'Team setup'"
)


class RemoteError(RuntimeError):
    """The DVC remote is not configured, not reachable, or refused the request."""


class RemoteNotConfigured(RemoteError):
    """No default DVC remote: the message says how to configure one."""


@dataclass(frozen=True)
class Remote:
    """A configured DVC remote."""

    name: str
    url: str
    endpoint_url: str | None = None
    profile: str | None = None
    region: str | None = None

    @property
    def where(self) -> str:
        """The remote's URL with its endpoint, for messages."""
        return f"{self.url} at {self.endpoint_url}" if self.endpoint_url else self.url


def _dvc(root: Path, *args: str) -> None:
    result = subprocess.run(["dvc", *args], cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        raise RemoteError(f"dvc {' '.join(args)} failed: {result.stderr.strip()}")


def configure_from_environment(root: str | Path) -> bool:
    """Write `DVC_REMOTE_URL` (and `AWS_ENDPOINT_URL`) as the default remote in config.local.

    Returns:
        True when the environment named a remote, False when it did not (nothing changed).

    """
    url = os.environ.get(REMOTE_URL_ENV, "").strip()
    if not url:
        return False
    root = Path(root)
    _dvc(root, "remote", "add", "--local", "--force", "--default", ENV_REMOTE_NAME, url)
    endpoint = os.environ.get(ENDPOINT_ENV, "").strip()
    if endpoint:
        _dvc(root, "remote", "modify", "--local", ENV_REMOTE_NAME, "endpointurl", endpoint)
    else:
        _dvc(root, "remote", "modify", "--local", "--unset", ENV_REMOTE_NAME, "endpointurl")
    return True


def default_remote(root: str | Path) -> Remote:
    """The default remote from DVC's merged config (repo, local, global, system).

    Raises:
        RemoteNotConfigured: no default remote is configured, saying how to configure one.

    """
    from dvc.config import Config

    config = Config(dvc_dir=str(Path(root).resolve() / ".dvc"), validate=True)
    name = config["core"].get("remote")
    if not name:
        raise RemoteNotConfigured(f"no DVC remote is configured; {HOW_TO_CONFIGURE}")
    settings = config["remote"].get(name)
    if settings is None:
        raise RemoteNotConfigured(
            f"the default DVC remote {name!r} is not defined; {HOW_TO_CONFIGURE}"
        )
    return Remote(
        name=name,
        url=settings["url"],
        endpoint_url=settings.get("endpointurl") or os.environ.get(ENDPOINT_ENV) or None,
        profile=settings.get("profile"),
        region=settings.get("region"),
    )


def check_s3_remote(remote: Remote, attempts: int = 2, timeout: float = 5.0) -> None:
    """List one object under an S3 remote's prefix, turning each failure into a clear error.

    Remotes on other storage than S3 are not checked (DVC's own errors cover them).

    Raises:
        RemoteError: the endpoint is unreachable, no credentials were found, the credentials
            were refused (naming the access key id and the error code), or the bucket is absent.

    """
    parsed = urlparse(remote.url)
    if parsed.scheme != "s3":
        return
    import boto3
    import botocore.exceptions as errors
    from botocore.config import Config

    session = boto3.Session(profile_name=remote.profile, region_name=remote.region)
    client = session.client(
        "s3",
        endpoint_url=remote.endpoint_url,
        config=Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"total_max_attempts": attempts, "mode": "standard"},
        ),
    )
    bucket, prefix = parsed.netloc, parsed.path.lstrip("/")
    try:
        client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    except (errors.EndpointConnectionError, errors.ConnectTimeoutError) as exc:
        raise RemoteError(
            f"S3 endpoint {remote.endpoint_url or 'of AWS'} is unreachable for DVC remote "
            f"{remote.url} after {attempts} attempt(s): {exc}"
        ) from exc
    except errors.NoCredentialsError as exc:
        raise RemoteError(
            f"no AWS credentials for DVC remote {remote.where}: set AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (CI: an OIDC role)"
        ) from exc
    except errors.ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), error.get("Message") or str(exc)
        if code in REFUSED_CODES:
            credentials = session.get_credentials()
            key = credentials.access_key if credentials else "(none)"
            raise RemoteError(
                f"S3 refused access key {key!r} to s3://{bucket} (DVC remote {remote.where}): "
                f"{code}: {message}"
            ) from exc
        if code in ("NoSuchBucket", "404"):
            raise RemoteError(
                f"bucket {bucket!r} of DVC remote {remote.where} does not exist: create it with "
                "infra/bootstrap (output dvc_remote_url)"
            ) from exc
        raise RemoteError(f"S3 answered {code} for DVC remote {remote.where}: {message}") from exc
