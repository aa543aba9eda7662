"""Promote a container image to the Lambda aliases `candidate` and `live`, and roll back.

Who owns what: Terraform (`infra/modules/serving`) creates the function, its first version, the
aliases and their function URLs once, and then ignores the image, the aliases' versions, routing
and descriptions (`lifecycle { ignore_changes = [...] }`). From then on this module owns them.

Every command is idempotent, following AWS's semantics rather than an emulator's: PublishVersion
publishes nothing when the function's code and configuration are unchanged since the last
version, and returns that version (Lambda API reference, PublishVersion). So the first deploy of
the digest Terraform already published finds version 1 again, and `candidate` == `live`.

- `candidate IMAGE_URI` finds the version that runs the digest (one this CLI published records
  it in its description; Terraform's first version is found by the image GetFunction reports
  for it), or points `$LATEST` at the image and publishes one; then moves `candidate` to it.
- `canary WEIGHT` keeps `live` on its version and routes WEIGHT of its traffic to the candidate.
  When the candidate is already live (a first deploy of the same digest, or a re-run after a
  promotion) there is nothing to shift: it changes nothing and says so.
- `promote` moves `live` fully to the candidate, and writes the version it replaced into `live`'s
  description (`{"previous_version": "N"}`): that is how `rollback` knows where to go back.
  Promoting a candidate that is already live changes nothing, and keeps that history.
- `rollback` ends a canary (live back to its primary version only), or after a promotion moves
  `live` back to the recorded previous version. A second rollback is a no-op, not a step further,
  and so is a rollback when nothing was ever promoted over the live version.

Every command waits for Lambda (botocore waiters) and returns the aliases' state as a dict; the
CLI (`python -m modelops.delivery.release`) prints it as JSON and appends `version=`,
`previous_version=`, `changed=`, `candidate_url=`, `live_url=` to `$GITHUB_OUTPUT` when set.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from modelops.delivery.infra import InfraError, Terraform, function_settings

LIVE = "live"
CANDIDATE = "candidate"
# `<registry>/<repository>@sha256:<64 hex>`: a tag can move, a digest cannot.
IMAGE_DIGEST_URI = re.compile(r"^(?P<repository>[a-z0-9][\w.\-/:]*[\w])@sha256:[0-9a-f]{64}$")
VERSION_DESCRIPTION_PREFIX = "modelops image "
# How many of the newest versions `candidate` asks Lambda about (one GetFunction each) when no
# version's description names the image.
MAX_VERSIONS_SEARCHED = 20


class ReleaseError(RuntimeError):
    """A release step that cannot be done, with the reason in words."""


@dataclass(frozen=True)
class ReleaseState:
    """Where the aliases point after a command."""

    function_name: str
    action: str
    changed: bool
    version: str | None
    live_version: str | None
    candidate_version: str | None
    previous_version: str | None
    canary_weight: float
    candidate_image: str | None
    live_url: str | None
    candidate_url: str | None

    def to_dict(self) -> dict[str, Any]:
        """The state as a JSON-ready dict."""
        return asdict(self)


def validate_image_uri(image_uri: str) -> str:
    """Return `image_uri` if it names an image by digest, else raise ReleaseError."""
    if not IMAGE_DIGEST_URI.match(image_uri or ""):
        raise ReleaseError(
            f"image URI {image_uri!r} is not pinned by digest: expected "
            "<registry>/<repository>@sha256:<64 hex characters> (tags can move, digests cannot)"
        )
    return image_uri


def validate_weight(weight: float) -> float:
    """Return `weight` if it is a canary share strictly between 0 and 1, else raise ReleaseError."""
    if not isinstance(weight, int | float) or not 0.0 < float(weight) < 1.0:
        raise ReleaseError(
            f"canary weight {weight!r} must be greater than 0 and less than 1 "
            "(use promote to send all traffic to the candidate)"
        )
    return float(weight)


class Release:
    """Release operations on one Lambda function, through a boto3 Lambda client."""

    def __init__(self, client: Any, function_name: str, waiter_delay: int | None = None):
        """Bind the client to a function.

        Args:
            client: a boto3 `lambda` client (its region and endpoint decide where).
            function_name: the function's name (not an ARN with a qualifier).
            waiter_delay: seconds between waiter polls; None keeps botocore's defaults.

        """
        self.client = client
        self.function_name = function_name
        self._waiter_config = {"Delay": waiter_delay} if waiter_delay else {}

    # -- reading ---------------------------------------------------------------------------------

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer: dict[str, Any] = getattr(self.client, operation)(**kwargs)
            return answer
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            message = error.response.get("Error", {}).get("Message", str(error))
            if code == "ResourceNotFoundException":
                raise ReleaseError(
                    f"{operation}: not found in region {self.client.meta.region_name}: {message} "
                    f"(is function {self.function_name!r} deployed there? run `make apply` first)"
                ) from error
            raise ReleaseError(
                f"{operation} on {self.function_name!r} failed: {message}"
            ) from error
        except BotoCoreError as error:  # no credentials, no network, bad endpoint
            raise ReleaseError(f"{operation} on {self.function_name!r}: {error}") from error

    def _alias(self, name: str) -> dict[str, Any]:
        return self._call("get_alias", FunctionName=self.function_name, Name=name)

    def _url(self, alias: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            config = self.client.get_function_url_config(
                FunctionName=self.function_name, Qualifier=alias
            )
        except ClientError:  # an alias without a URL is allowed: the state just has none
            return None
        url: str | None = config.get("FunctionUrl")
        return url

    def _versions(self) -> list[dict[str, Any]]:
        paginator = self.client.get_paginator("list_versions_by_function")
        from botocore.exceptions import ClientError

        try:
            pages = list(paginator.paginate(FunctionName=self.function_name))
        except ClientError as error:
            raise ReleaseError(
                f"cannot list versions of {self.function_name!r}: "
                f"{error.response.get('Error', {}).get('Message', error)}"
            ) from error
        return [v for page in pages for v in page["Versions"] if v["Version"] != "$LATEST"]

    def _version_for_image(self, image_uri: str) -> str | None:
        """The newest published version whose code is `image_uri`, or None."""
        versions = sorted(self._versions(), key=lambda v: int(v["Version"]), reverse=True)
        wanted = VERSION_DESCRIPTION_PREFIX + image_uri
        for version in versions:  # published by this CLI: the description names the image
            if version.get("Description") == wanted:
                return str(version["Version"])
        # Otherwise (Terraform's version 1, described as the function is): the image a version
        # runs, from GetFunction with that version as qualifier (ResolvedImageUri is the digest
        # form Lambda resolved). The newest versions first; older ones are rollback targets.
        for version in versions[:MAX_VERSIONS_SEARCHED]:
            code = self._call(
                "get_function", FunctionName=self.function_name, Qualifier=version["Version"]
            ).get("Code", {})
            if image_uri in (code.get("ResolvedImageUri"), code.get("ImageUri")):
                return str(version["Version"])
        return None

    def _image_of(self, version: str | None) -> str | None:
        if version is None:
            return None
        for item in self._versions():
            if item["Version"] == version:
                description = str(item.get("Description", ""))
                if description.startswith(VERSION_DESCRIPTION_PREFIX):
                    return description[len(VERSION_DESCRIPTION_PREFIX) :]
        return None

    @staticmethod
    def _weights(alias: dict[str, Any]) -> dict[str, float]:
        return dict((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})

    @staticmethod
    def _history(alias: dict[str, Any]) -> dict[str, Any]:
        try:
            history = json.loads(alias.get("Description") or "{}")
        except json.JSONDecodeError:  # written by hand or by Terraform: no history
            return {}
        return history if isinstance(history, dict) else {}

    def _state(self, action: str, changed: bool, version: str | None) -> ReleaseState:
        live, candidate = self._alias(LIVE), self._alias(CANDIDATE)
        weights = self._weights(live)
        return ReleaseState(
            function_name=self.function_name,
            action=action,
            changed=changed,
            version=version,
            live_version=live["FunctionVersion"],
            candidate_version=candidate["FunctionVersion"],
            previous_version=self._history(live).get("previous_version"),
            canary_weight=float(sum(weights.values())),
            candidate_image=self._image_of(candidate["FunctionVersion"]),
            live_url=self._url(LIVE),
            candidate_url=self._url(CANDIDATE),
        )

    def status(self) -> ReleaseState:
        """Where `live` and `candidate` point now."""
        self._call("get_function", FunctionName=self.function_name)
        return self._state("status", False, self._alias(LIVE)["FunctionVersion"])

    # -- changing --------------------------------------------------------------------------------

    def _wait(self, waiter: str, **kwargs: Any) -> None:
        from botocore.exceptions import WaiterError

        try:
            self.client.get_waiter(waiter).wait(**kwargs, WaiterConfig=self._waiter_config)
        except WaiterError as error:
            raise ReleaseError(
                f"{self.function_name!r}: {waiter} did not succeed: {error}"
            ) from error

    def candidate(self, image_uri: str) -> ReleaseState:
        """Publish (or re-use) the version running `image_uri` and point `candidate` at it."""
        validate_image_uri(image_uri)
        self._call("get_function", FunctionName=self.function_name)
        version = self._version_for_image(image_uri)
        published = version is None
        if published:
            # Another update may still be in progress (e.g. a Terraform apply): wait for it first.
            self._wait("function_updated_v2", FunctionName=self.function_name)
            self._call("update_function_code", FunctionName=self.function_name, ImageUri=image_uri)
            self._wait("function_updated_v2", FunctionName=self.function_name)
            # If nothing changed since the last version, AWS returns that version instead.
            before = {v["Version"] for v in self._versions()}
            version = self._call(
                "publish_version",
                FunctionName=self.function_name,
                Description=VERSION_DESCRIPTION_PREFIX + image_uri,
            )["Version"]
            published = version not in before
            self._wait(
                "published_version_active", FunctionName=self.function_name, Qualifier=version
            )
        moved = self._alias(CANDIDATE)["FunctionVersion"] != version
        if moved:
            self._call(
                "update_alias",
                FunctionName=self.function_name,
                Name=CANDIDATE,
                FunctionVersion=version,
            )
        return self._state("candidate", published or moved, version)

    def canary(self, weight: float) -> ReleaseState:
        """Route `weight` of `live`'s traffic to the candidate version; the rest stays put."""
        weight = validate_weight(weight)
        live, candidate = self._alias(LIVE), self._alias(CANDIDATE)["FunctionVersion"]
        if live["FunctionVersion"] == candidate:
            # Same digest as live (first deploy of Terraform's version, or a re-run after the
            # promotion): all of live already runs the candidate; there is nothing to shift.
            if self._weights(live):  # a stale routing entry would point at another version
                raise ReleaseError(
                    f"live alias of {self.function_name!r} is on the candidate version "
                    f"{candidate} but routes {self._weights(live)} elsewhere: promote or roll back"
                )
            return self._state("canary", False, candidate)
        routing = {candidate: weight}
        changed = self._weights(live) != routing
        if changed:
            self._call(
                "update_alias",
                FunctionName=self.function_name,
                Name=LIVE,
                FunctionVersion=live["FunctionVersion"],
                RoutingConfig={"AdditionalVersionWeights": routing},
            )
        return self._state("canary", changed, candidate)

    def promote(self) -> ReleaseState:
        """Send all of `live`'s traffic to the candidate, remembering the version it replaces."""
        live, candidate = self._alias(LIVE), self._alias(CANDIDATE)["FunctionVersion"]
        if live["FunctionVersion"] == candidate and not self._weights(live):
            return self._state("promote", False, candidate)
        previous = live["FunctionVersion"]
        self._call(
            "update_alias",
            FunctionName=self.function_name,
            Name=LIVE,
            FunctionVersion=candidate,
            RoutingConfig={"AdditionalVersionWeights": {}},
            Description=json.dumps({"previous_version": previous}),
        )
        return self._state("promote", True, candidate)

    def rollback(self) -> ReleaseState:
        """Put `live` back where it was before the last canary or promotion."""
        live = self._alias(LIVE)
        current, history = live["FunctionVersion"], self._history(live)
        if self._weights(live):  # a canary: the primary version never stopped being live
            self._call(
                "update_alias",
                FunctionName=self.function_name,
                Name=LIVE,
                FunctionVersion=current,
                RoutingConfig={"AdditionalVersionWeights": {}},
            )
            return self._state("rollback", True, current)
        previous = history.get("previous_version")
        if previous is None:
            # Already rolled back, or nothing was ever promoted over this version (a first
            # deploy): live is where it was before, so there is nothing to undo.
            return self._state("rollback", False, current)
        self._call(
            "update_alias",
            FunctionName=self.function_name,
            Name=LIVE,
            FunctionVersion=previous,
            RoutingConfig={"AdditionalVersionWeights": {}},
            Description=json.dumps({"rolled_back_from": current}),
        )
        return self._state("rollback", True, previous)


def write_github_output(state: ReleaseState, path: str) -> None:
    """Append the step outputs CD reads (`version`, `previous_version`, `changed`, URLs)."""
    values = {
        "version": state.version,
        "previous_version": state.previous_version,
        "changed": "true" if state.changed else "false",
        "candidate_url": state.candidate_url,
        "live_url": state.live_url,
    }
    with open(path, "a", encoding="utf-8") as handle:
        for key, value in values.items():
            handle.write(f"{key}={'' if value is None else value}\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m modelops.delivery.release",
        description="Release a container image to the Lambda aliases candidate/live.",
    )
    parser.add_argument(
        "--function-name",
        default=os.environ.get("FUNCTION_NAME"),
        help="Lambda function name (default: $FUNCTION_NAME)",
    )
    parser.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
        help="AWS region (default: $AWS_REGION)",
    )
    parser.add_argument(
        "--endpoint-url", default=None, help="AWS endpoint (default: $AWS_ENDPOINT_URL or AWS's)"
    )
    parser.add_argument(
        "--env",
        default=None,
        help="staging or prod: the function (and region) from that stack's terraform output "
        "unless FUNCTION_NAME (AWS_REGION) is set",
    )
    parser.add_argument("--terraform", default="terraform", help="the terraform CLI (with --env)")
    parser.add_argument(
        "--env-dir", type=Path, default=Path("infra/envs"), help="the Terraform root (with --env)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", help="show where live and candidate point")
    candidate = commands.add_parser("candidate", help="publish IMAGE_URI, point candidate at it")
    candidate.add_argument("image_uri", nargs="?", default="", help="<repository>@sha256:<digest>")
    canary = commands.add_parser("canary", help="route WEIGHT (0..1) of live to the candidate")
    canary.add_argument("weight", nargs="?", default="", help="a number between 0 and 1")
    commands.add_parser("promote", help="send all of live's traffic to the candidate")
    commands.add_parser("rollback", help="put live back on the version before")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one release command; print its state as JSON. Exit 1 with a reason on failure."""
    parser = _parser()
    args = parser.parse_args(argv)
    usage = {
        "candidate": ("image_uri", "IMAGE_URI=<repo>@sha256:<digest>"),
        "canary": ("weight", "WEIGHT=<0..1>"),
    }
    if args.command in usage and not getattr(args, usage[args.command][0]):
        print(f"usage: make release-{args.command} ENV=<env> {usage[args.command][1]}",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.command == "canary":
        try:
            args.weight = float(args.weight)
        except ValueError:
            parser.error(f"argument weight: invalid float value: {args.weight!r}")
    if args.env is not None:
        try:
            args.function_name, region = function_settings(
                Terraform(args.env, args.terraform, args.env_dir), os.environ
            )
        except InfraError as error:
            print(error, file=sys.stderr)
            return error.code
        args.region = region or args.region
    if not args.function_name:
        print("error: no function name: pass --function-name or set FUNCTION_NAME", file=sys.stderr)
        return 2
    if not args.region:
        print("error: no AWS region: pass --region or set AWS_REGION", file=sys.stderr)
        return 2
    import boto3

    # A fresh session: the default one caches whatever credentials it saw first.
    session = boto3.session.Session(region_name=args.region)
    if session.get_credentials() is None:
        print(
            "error: no AWS credentials found (environment, ~/.aws, SSO or instance role): "
            "configure them, e.g. `aws configure sso` or OIDC in CI",
            file=sys.stderr,
        )
        return 1
    client = session.client("lambda", endpoint_url=args.endpoint_url)
    release = Release(client, args.function_name)
    try:
        if args.command == "candidate":
            state = release.candidate(args.image_uri)
        elif args.command == "canary":
            state = release.canary(args.weight)
        else:
            state = getattr(release, args.command)()
    except ReleaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(state.to_dict(), indent=2))
    if os.environ.get("GITHUB_OUTPUT"):
        write_github_output(state, os.environ["GITHUB_OUTPUT"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
