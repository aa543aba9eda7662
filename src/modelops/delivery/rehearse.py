"""`make rehearse`: the first merge of a brand-new repository and AWS account, played offline.

    python -m modelops.delivery.rehearse --plans tests/infra/fixtures [--compliance PATH]

The steps run in the order GitHub and AWS run them (docs/deploying-to-aws.md is the checklist
this follows): bootstrap plan (the unknown values a first plan has) -> policy check -> apply ->
a first push before the repository variables exist -> repository variables -> first push to main
(empty DVC remote) -> CI -> CD (image push with its manifest checked, release, smoke signed as the
URL requires, canary, promote) -> a second merge -> a re-run of the same CD -> merges racing on
main -> a failing smoke -> rollback -> a repository without environments (Free plan, private).
Each step prints ✓ or ✗ with why; a ✗ names the documentation section the step contradicts.

What stands in for the services, and where it follows their documentation instead of itself:
- AWS: moto (a server on loopback, so `dvc` in a subprocess reaches the same S3). Where moto
  differs from AWS, the rehearsal follows AWS's documentation: PublishVersion publishes nothing
  when code and configuration are unchanged since the last version and returns that version
  (moto 5.2 publishes after any UpdateFunctionCode); AssumeRoleWithWebIdentity evaluates the
  role's trust policy (moto does not); IAM refuses a trust policy naming an OIDC provider that
  does not exist (moto does not); an ECR digest is the sha256 of the manifest (moto derives it
  from the layers). Function URLs are served on loopback by an emulator that does what Lambda
  documents: AWS_IAM URLs refuse unsigned or wrongly signed requests (403), an alias's routing
  weights pick the version, the version runs its image. It does not run the model: the image's
  own behaviour is `make image-smoke`'s job; here an image is its digest and the model version
  it reports.
- GitHub: the OIDC subject claim (the name form, and the immutable form for repositories created
  or renamed on or after 2026-07-15), the event order (push -> CI -> workflow_run -> CD),
  concurrency groups (one running and one pending run per group; a newer pending run cancels the
  older pending one), environments (none on private repositories of the Free plan), read from
  .github/workflows/*.yml where the rehearsal can (deploy.yml's steps and their `if:`).
Needs the dev dependency group (moto, PyYAML); imports nothing of tests/.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from modelops.delivery import registry as image_module
from modelops.delivery.local_server import free_port
from modelops.delivery.preflight import decide
from modelops.delivery.release import Release, ReleaseError

REPO = Path(__file__).resolve().parents[3]
REGION = "eu-west-1"
ACCOUNT = "123456789012"
OIDC_HOST = "token.actions.githubusercontent.com"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"

# The documentation each step answers to: a ✗ names it.
DOCS = {
    "oidc": "GitHub docs, OpenID Connect: 'Immutable subject claims' and 'Example subject claims'",
    "first-plan": "Terraform docs, 'Data Resource Dependencies' (reads deferred to apply)",
    "policy": "docs/deploying-to-aws.md, step 2 (make bootstrap runs the policy check first)",
    "iam-trust": "AWS IAM User Guide, 'Create a role for OpenID Connect federation'",
    "variables": "docs/deploying-to-aws.md, '3. Repository variables'",
    "dvc": "DVC docs, 'dvc pull --allow-missing'; docs/ci-cd.md, 'Who pushes what to DVC'",
    "s3fs": "S3 API reference, HeadBucket (needs s3:ListBucket) / s3fs core.py `_exists`",
    "manifest": "Lambda developer guide, 'Container image requirements' (image manifest)",
    "immutable": "ECR user guide, 'Image tag mutability' (IMMUTABLE: ImageTagAlreadyExists)",
    "publish": "Lambda API reference, PublishVersion (unchanged code+config: no new version)",
    "sigv4": "Lambda developer guide, 'Control access to function URLs' (AWS_IAM: SigV4)",
    "concurrency": "GitHub docs, 'Control the concurrency of workflows and jobs' (pending runs)",
    "environments": "GitHub docs, 'Managing environments for deployment' (availability by plan)",
    "rollback": "docs/deploying-to-aws.md, 'Releasing a new image' (rollback rule)",
}


class RehearsalFailed(RuntimeError):
    """A step contradicts what the documentation says should happen."""


@dataclass
class Step:
    """One checked step: what, whether it held, why, and the doc it answers to."""

    name: str
    ok: bool
    why: str
    doc: str


@dataclass
class Journal:
    """The steps so far; prints each as it happens."""

    steps: list[Step] = field(default_factory=list)
    out: Any = sys.stdout

    def check(self, name: str, ok: bool, why: str, doc: str) -> bool:
        """Record a step; a failed one names its documentation."""
        step = Step(name, bool(ok), why, DOCS[doc])
        self.steps.append(step)
        mark = "✓" if step.ok else "✗"
        suffix = "" if step.ok else f"  [contradicts: {step.doc}]"
        print(f"{mark} {name}: {why}{suffix}", file=self.out, flush=True)
        return step.ok

    def require(self, name: str, ok: bool, why: str, doc: str) -> None:
        """A step the rest of the journey depends on: stop at its failure."""
        if not self.check(name, ok, why, doc):
            raise RehearsalFailed(f"{name}: {why}")

    @property
    def failed(self) -> list[Step]:
        """The steps that did not hold."""
        return [step for step in self.steps if not step.ok]


# --- GitHub, as its documentation describes it ---------------------------------------------


@dataclass(frozen=True)
class GitHubRepository:
    """A repository as GitHub's OIDC provider names it."""

    owner: str
    name: str
    owner_id: int
    repository_id: int
    immutable_subjects: bool  # created or renamed on or after 2026-07-15, or opted in
    environments: bool = True  # private repositories on the Free plan have none

    def subject(self, environment: str | None, ref: str = "refs/heads/main") -> str:
        """The `sub` claim of a job: `environment:<name>` when it names one, else its ref."""
        context = f"environment:{environment}" if environment else f"ref:{ref}"
        return f"repo:{self.repo_claim}:{context}"

    @property
    def repo_claim(self) -> str:
        """The repository as the subject names it (with IDs for immutable subjects)."""
        if self.immutable_subjects:
            return f"{self.owner}@{self.owner_id}/{self.name}@{self.repository_id}"
        return f"{self.owner}/{self.name}"

    def pull_request_token(self) -> dict[str, str]:
        """The claims of a `pull_request` run's job that names no environment.

        The subject is `repo:OWNER/REPO:pull_request` whatever its branch (GitHub docs, OpenID
        Connect reference, "Filtering for pull_request events"). A fork's pull request runs in
        the base repository but gets no token at all (read-only GITHUB_TOKEN, no id-token).
        """
        return {**self.token(None), "sub": f"repo:{self.repo_claim}:pull_request"}

    def token(self, environment: str | None) -> dict[str, str]:
        """The claims a job's OIDC token carries (aud as configure-aws-credentials asks)."""
        if environment and not self.environments:
            raise RehearsalFailed(
                f"job names environment {environment!r}, but this plan has no environments"
            )
        return {
            "sub": self.subject(environment),
            "aud": "sts.amazonaws.com",
            "iss": f"https://{OIDC_HOST}",
        }


class ConcurrencyGroups:
    """GitHub's concurrency groups: one running run and at most one pending run per group.

    A newly queued run replaces (cancels) the pending one, whatever cancel-in-progress says
    about the running one.
    """

    def __init__(self) -> None:
        self.running: dict[str, str] = {}
        self.pending: dict[str, str] = {}
        self.cancelled: list[str] = []

    def queue(self, group: str, run: str) -> None:
        """Queue `run` in `group`."""
        if group not in self.running:
            self.running[group] = run
            return
        if group in self.pending:
            self.cancelled.append(self.pending[group])
        self.pending[group] = run

    def finish(self, group: str) -> str | None:
        """The running run of `group` ends; the pending one starts (returned)."""
        self.running.pop(group, None)
        nxt = self.pending.pop(group, None)
        if nxt:
            self.running[group] = nxt
        return nxt


def ci_concurrency_group(workflow: dict[str, Any], sha: str, ref: str = "refs/heads/main") -> str:
    """The group of ci.yml for a push to main, from its `concurrency.group` expression."""
    expression = workflow["concurrency"]["group"]
    if "github.sha" in expression:
        return f"ci-{sha}"
    if "github.ref" in expression:
        return f"ci-{ref}"
    raise RehearsalFailed(f"cannot read ci.yml's concurrency group {expression!r}")


# --- AWS, with moto patched where it differs from AWS's documentation ------------------------


class DocumentedLambda:
    """A boto3 Lambda client whose PublishVersion follows AWS's documentation.

    "Lambda doesn't publish a version if the function's configuration and code haven't changed
    since the last version" -- it returns that version. moto 5.2 publishes a new one after any
    UpdateFunctionCode.
    """

    COMPARED = ("CodeSha256", "MemorySize", "Timeout", "Environment", "Role", "Architectures")

    def __init__(self, client: Any):
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def publish_version(self, **kwargs: Any) -> dict[str, Any]:
        """AWS's PublishVersion: the last version again when nothing changed."""
        name = kwargs["FunctionName"]
        latest = self._client.get_function_configuration(FunctionName=name)
        versions = [
            v
            for v in self._client.list_versions_by_function(FunctionName=name)["Versions"]
            if v["Version"] != "$LATEST"
        ]
        if versions:
            newest = max(versions, key=lambda v: int(v["Version"]))
            if all(newest.get(key) == latest.get(key) for key in self.COMPARED):
                return dict(newest)
        published: dict[str, Any] = self._client.publish_version(**kwargs)
        return published


def condition_holds(test: str, expected: list[str] | str, value: str | None) -> bool:
    """IAM's StringEquals / StringLike on one claim (the operators the trust policies use)."""
    values = [expected] if isinstance(expected, str) else list(expected)
    if value is None:
        return False
    if test == "StringEquals":
        return value in values
    if test == "StringLike":
        return any(
            re.fullmatch(re.escape(v).replace(r"\*", ".*").replace(r"\?", "."), value)
            for v in values
        )
    raise RehearsalFailed(f"trust policy uses condition {test}, which the rehearsal cannot read")


def trust_allows(
    policy: dict[str, Any], provider_arn: str, claims: dict[str, str]
) -> tuple[bool, str]:
    """Whether AssumeRoleWithWebIdentity with `claims` passes the role's trust policy."""
    for statement in policy.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        federated = statement.get("Principal", {}).get("Federated")
        if provider_arn not in ([federated] if isinstance(federated, str) else federated or []):
            continue
        conditions = statement.get("Condition", {})
        failed = [
            f"{key} {test} {expected}"
            for test, pairs in conditions.items()
            for key, expected in pairs.items()
            if not condition_holds(test, expected, claims.get(key.split(":", 1)[1]))
        ]
        if not failed:
            return True, "trust policy matches"
        return False, f"sub {claims['sub']!r} does not match: {'; '.join(failed)}"
    return False, "no statement trusts GitHub's OIDC provider"


class Aws:
    """boto3 clients on the moto server, and what moto leaves out of IAM and STS."""

    def __init__(self, endpoint: str):
        import boto3

        self.endpoint = endpoint
        # Any: clients are made by a service name known at run time, and boto3-stubs types
        # `client` only for literal names.
        self.session: Any = boto3.session.Session(
            aws_access_key_id="admin", aws_secret_access_key="admin", region_name=REGION
        )
        self.issued: dict[str, dict[str, str]] = {}  # access key id -> credentials

    def client(self, service: str, credentials: dict[str, str] | None = None) -> Any:
        """A client for `service`, as the administrator or with `credentials`."""
        if credentials is None:
            return self.session.client(service, endpoint_url=self.endpoint)
        return self.session.client(
            service,
            endpoint_url=self.endpoint,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )

    def assume_role(self, role_arn: str, claims: dict[str, str]) -> dict[str, str]:
        """AssumeRoleWithWebIdentity as AWS evaluates it: the trust policy decides."""
        iam = self.client("iam")
        role = iam.get_role(RoleName=role_arn.rsplit("/", 1)[1])["Role"]
        policy = role["AssumeRolePolicyDocument"]
        if isinstance(policy, str):
            policy = json.loads(policy)
        provider = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC_HOST}"
        ok, why = trust_allows(policy, provider, claims)
        if not ok:
            raise PermissionError(
                f"AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity ({why})"
            )
        credentials = self.client("sts").assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="GitHubActions", WebIdentityToken="token"
        )["Credentials"]
        self.issued[credentials["AccessKeyId"]] = credentials
        return dict(credentials)


def plan_resources(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Address -> resource change of a plan (what `terraform show -json` writes)."""
    return {item["address"]: item for item in plan["resource_changes"]}


# The policy documents the configuration writes (not those the provider computes, such as a
# KMS key's default policy), which infra/policies read.
POLICY_ATTRIBUTES = {
    "aws_iam_role": "assume_role_policy",
    "aws_iam_role_policy": "policy",
    "aws_iam_policy": "policy",
    "aws_ecr_repository_policy": "policy",
    "aws_s3_bucket_policy": "policy",
}


def unknown_policies(plan: dict[str, Any]) -> list[str]:
    """Policy documents a first plan cannot show: what a policy check cannot read."""
    found = []
    for address, item in plan_resources(plan).items():
        key = POLICY_ATTRIBUTES.get(item["type"])
        if key and (item["change"].get("after_unknown") or {}).get(key) is True:
            found.append(f"{address}.{key}")
    return found


def deferred_reads(plan: dict[str, Any]) -> list[str]:
    """Data sources Terraform defers to the apply (action read, dependency pending)."""
    return [address for address, item in plan_resources(plan).items() if item.get("mode") == "data"]


# The bootstrap's role policies that are not a deploy role's own (`deploy[env]`, `ecr_login[env]`).
ROLE_OF_POLICY = {
    "pull_request": 'aws_iam_role.read_only["pull_request"]',
    "deploy_labelled_data": 'aws_iam_role.deploy["staging"]',
    "monitor": 'aws_iam_role.read_only["monitor"]',
}
# The read-only roles and the output that names each (the deploy roles: deploy_role_arns).
ROLE_OUTPUTS = {"pull_request": "pull_request_role_arn", "monitor": "monitor_role_arn"}


def apply_bootstrap(aws: Aws, plan: dict[str, Any]) -> dict[str, Any]:
    """Create what the bootstrap's first plan creates, in an order IAM accepts; the outputs."""
    resources = plan_resources(plan)
    iam, ecr, s3 = aws.client("iam"), aws.client("ecr"), aws.client("s3")
    providers = set()
    order = sorted(
        resources.values(),
        key=lambda item: (
            [
                "aws_iam_openid_connect_provider",
                "aws_s3_bucket",
                "aws_ecr_repository",
                "aws_iam_role",
                "aws_iam_role_policy",
            ].index(item["type"])
            if item["type"]
            in (
                "aws_iam_openid_connect_provider",
                "aws_s3_bucket",
                "aws_ecr_repository",
                "aws_iam_role",
                "aws_iam_role_policy",
            )
            else 9
        ),
    )
    outputs: dict[str, Any] = {"deploy_role_arns": {}}
    for item in order:
        after, kind = item["change"]["after"], item["type"]
        if kind == "aws_iam_openid_connect_provider":
            arn = iam.create_open_id_connect_provider(
                Url=after["url"],
                ClientIDList=after["client_id_list"],
                ThumbprintList=after["thumbprint_list"],
            )["OpenIDConnectProviderArn"]
            providers.add(arn)
        elif kind == "aws_s3_bucket":
            s3.create_bucket(
                Bucket=after["bucket"], CreateBucketConfiguration={"LocationConstraint": REGION}
            )
        elif kind == "aws_ecr_repository":
            url = ecr.create_repository(
                repositoryName=after["name"], imageTagMutability=after["image_tag_mutability"]
            )["repository"]["repositoryUri"]
            outputs["ecr_repository_url"] = url
        elif kind == "aws_iam_role":
            # IAM refuses a trust policy naming an OIDC provider that does not exist
            # ("Invalid principal in policy"); moto accepts it, so the rehearsal checks.
            policy = json.loads(after["assume_role_policy"])
            for statement in policy["Statement"]:
                federated = statement.get("Principal", {}).get("Federated")
                if federated and federated not in providers:
                    raise RehearsalFailed(
                        f"{item['address']}: MalformedPolicyDocument: Invalid principal in "
                        f"policy: {federated} (the provider is not created yet)"
                    )
            arn = iam.create_role(
                RoleName=after["name"],
                AssumeRolePolicyDocument=after["assume_role_policy"],
            )["Role"]["Arn"]
            if item["name"] == "read_only":
                outputs[ROLE_OUTPUTS[item["index"]]] = arn
            else:
                outputs["deploy_role_arns"][item["index"]] = arn
        elif kind == "aws_iam_role_policy":
            # `role` is the role's id, unknown on a first plan: the role it is written for
            address = ROLE_OF_POLICY.get(
                item["name"], f"aws_iam_role.deploy[{json.dumps(item['index'])}]"
            )
            role = resources[address]["change"]["after"]["name"]
            iam.put_role_policy(
                RoleName=role, PolicyName=after["name"], PolicyDocument=after["policy"]
            )
    buckets = [
        r["change"]["after"]["bucket"] for r in resources.values() if r["type"] == "aws_s3_bucket"
    ]
    outputs["dvc_remote_url"] = f"s3://{next(b for b in buckets if '-dvc-' in b)}/dvc"
    outputs["state_bucket"] = next(b for b in buckets if "-tfstate-" in b)
    outputs["kms_key_arn"] = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/rehearsal"
    outputs["region"] = REGION
    return outputs


def dvc_remote_grants(plan: dict[str, Any], environment: str) -> set[str]:
    """The S3 actions a deploy role's policy grants on the DVC bucket itself (not objects)."""
    policy = json.loads(
        plan_resources(plan)[f'aws_iam_role_policy.deploy["{environment}"]']["change"]["after"][
            "policy"
        ]
    )
    granted: set[str] = set()
    for statement in policy["Statement"]:
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        if any(re.search(r":s3:::[^/]*-dvc-[^/]*$", r) for r in resources):
            if "Condition" in statement:  # a prefix condition: HeadBucket carries no prefix
                continue
            actions = statement["Action"]
            granted |= {actions} if isinstance(actions, str) else set(actions)
    return granted


# --- Lambda function URLs, as Lambda documents them --------------------------------------------


@dataclass
class Image:
    """What the rehearsal knows of an image: the model version it reports, and a fault."""

    model_version: str
    failing: bool = False


class FunctionUrls:
    """Function URLs on loopback: SigV4 checked for AWS_IAM, alias routing, the version's image.

    A URL is http://127.0.0.1:<port>/<function>/<alias>; Lambda's own URL for the alias (from
    GetFunctionUrlConfig) maps to it.
    """

    def __init__(self, aws: Aws, images: dict[str, Image]):
        self.aws, self.images = aws, images
        self.requests = 0
        # A fault the rehearsal injects: predictions on `live` fail while it routes a canary.
        self.live_canary_fails = False
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()

    def local(self, function: str, alias: str) -> str:
        """The loopback URL standing in for the alias's function URL."""
        return f"{self.base}/{function}/{alias}"

    def signature_ok(
        self, method: str, url: str, headers: dict[str, Any], body: bytes
    ) -> str | None:
        """None if the request carries a valid SigV4 signature for `lambda`, else why not."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        authorization = headers.get("authorization", "")
        found = re.match(
            r"AWS4-HMAC-SHA256 Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request"
            r", SignedHeaders=([^,]+), Signature=([0-9a-f]+)",
            authorization,
        )
        if not found:
            return "no SigV4 Authorization header"
        key, region, service, signed, signature = found.groups()
        if service != "lambda":
            return f"signed for service {service!r}, not 'lambda'"
        credentials = self.aws.issued.get(key)
        if credentials is None:
            return f"unknown access key {key}"
        request = AWSRequest(
            method=method, url=url, data=body, headers={h: headers[h] for h in signed.split(";")}
        )
        request.context["timestamp"] = headers.get("x-amz-date", "")
        signer = SigV4Auth(
            Credentials(key, credentials["SecretAccessKey"], credentials["SessionToken"]),
            "lambda",
            region,
        )
        expected = signer.signature(
            signer.string_to_sign(request, signer.canonical_request(request)), request
        )
        return None if expected == signature else "signature does not match"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        urls = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path.split("/", 3)
                if len(parts) < 3:
                    return self._answer(404, {"Message": "no such function URL"})
                function, alias = parts[1], parts[2]
                rest = "/" + (parts[3] if len(parts) > 3 else "")
                status, payload = urls.invoke(
                    function,
                    alias,
                    self.command,
                    rest,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    f"{urls.base}{self.path}",
                )
                self._answer(status, payload)

            do_GET = do_POST = _serve

        return Handler

    def invoke(
        self,
        function: str,
        alias: str,
        method: str,
        path: str,
        headers: dict[str, Any],
        body: bytes,
        url: str,
    ) -> tuple[int, dict[str, Any]]:
        """What Lambda answers for a request to the alias's function URL."""
        client = self.aws.client("lambda")
        config = client.get_function_url_config(FunctionName=function, Qualifier=alias)
        if config["AuthType"] == "AWS_IAM":
            refused = self.signature_ok(method, url, headers, body)
            if refused:
                return 403, {"Message": f"Forbidden ({refused})"}
        target = client.get_alias(FunctionName=function, Name=alias)
        version = target["FunctionVersion"]
        weights = (target.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        self.requests += 1
        for other, weight in weights.items():  # deterministic share of the requests
            if (self.requests * weight) % 1 < weight:
                version = other
        if self.live_canary_fails and alias == "live" and weights and path.startswith("/predict"):
            return 500, {"detail": "candidate version failing under live traffic"}
        code = client.get_function(FunctionName=function, Qualifier=version)["Code"]
        # deployed by digest: ImageUri is it (moto 5.2 makes up a ResolvedImageUri)
        digest = (code.get("ImageUri") or code["ResolvedImageUri"]).rsplit("@", 1)[-1]
        image = self.images.get(digest)
        if image is None:
            return 502, {"Message": f"version {version} runs an unknown image {digest}"}
        if image.failing and path.startswith("/predict"):
            return 500, {"detail": "internal error"}
        if path == "/readyz":
            return 200, {"status": "ready"}
        if path == "/metadata":
            return 200, {"model_version": image.model_version, "version": version}
        if path == "/predict" and method == "POST":
            rows = json.loads(body or b"{}").get("instances") or []
            return 200, {"predictions": [{"label": "yes"} for _ in rows]}
        return 404, {"detail": "not found"}


def smoke(
    url: str, auth: str, expect_version: str | None, credentials: dict[str, Any]
) -> str | None:
    """The deploy's smoke steps over HTTP, signed as `make smoke AUTH=` signs: None if passed."""
    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    def call(method: str, path: str, payload: dict[str, Any] | None = None) -> requests.Response:
        data = json.dumps(payload).encode() if payload is not None else None
        headers = {"Content-Type": "application/json"} if data else {}
        if auth == "aws_iam":
            request = AWSRequest(method=method, url=url + path, data=data, headers=headers)
            SigV4Auth(
                Credentials(
                    credentials["AccessKeyId"],
                    credentials["SecretAccessKey"],
                    credentials["SessionToken"],
                ),
                "lambda",
                REGION,
            ).add_auth(request)
            headers = dict(request.headers.items())
        return requests.request(method, url + path, data=data, headers=headers, timeout=10)

    if auth == "aws_iam" and requests.get(url + "/readyz", timeout=10).status_code != 403:
        return "an unsigned request was not refused: the URL is open"
    if call("GET", "/readyz").status_code != 200:
        return "/readyz did not answer 200"
    metadata = call("GET", "/metadata")
    if metadata.status_code != 200:
        return f"/metadata answered {metadata.status_code}"
    if expect_version and metadata.json().get("model_version") != expect_version:
        reported = metadata.json().get("model_version")
        return f"/metadata reports model {reported}, not {expect_version}"
    for _ in range(10):  # enough requests for a canary share to be hit
        answer = call("POST", "/predict", {"instances": [{"x": 1}]})
        if answer.status_code != 200 or len(answer.json().get("predictions", [])) != 1:
            return f"/predict answered {answer.status_code}: {answer.text[:200]}"
    return None


# --- the workflows ----------------------------------------------------------------------------


def github_condition(
    expression: str, outcomes: dict[str, Any], failed: bool, inputs: dict[str, Any]
) -> bool:
    """Evaluate a deploy.yml step `if:` (the forms it uses) the way GitHub does."""
    if not expression:
        return not failed
    python = re.sub(r"steps\.(\w+)\.outputs\.(\w+)", r"O('\1','\2')", expression)
    python = re.sub(r"steps\.(\w+)\.outcome", r"S('\1')", python)
    python = re.sub(r"inputs\.(\w+)", r"I('\1')", python)
    python = python.replace("&&", " and ").replace("||", " or ")
    python = python.replace("failure()", "F").replace("always()", "True")
    namespace = {
        "O": lambda step, key: outcomes.get(step, {}).get("outputs", {}).get(key, ""),
        "S": lambda step: outcomes.get(step, {}).get("outcome", "skipped"),
        "I": lambda key: inputs.get(key, ""),
        "F": failed,
    }
    status_function = "failure()" in expression or "always()" in expression
    result = bool(eval(python, {"__builtins__": {}}, namespace))
    return result if status_function else result and not failed


def make_target(run: str) -> str:
    """The make target a workflow step runs."""
    return run.split()[1]


@dataclass
class World:
    """Everything the journey shares."""

    journal: Journal
    aws: Aws
    urls: FunctionUrls
    images: dict[str, Image]
    plans: dict[str, dict[str, Any]]
    repo: GitHubRepository
    variables: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    applied: set[str] = field(default_factory=set)
    deployed: dict[str, str] = field(default_factory=dict)  # environment -> commit
    tags: dict[str, str] = field(default_factory=dict)  # image tag -> digest pushed
    registry: dict[str, str] = field(default_factory=dict)  # tracking server's versions
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)  # the last deploy's steps


def push_image(world: World, tag: str, model_version: str, index: bool = False) -> str:
    """What `docker push` leaves in ECR: a manifest under `tag`; returns its digest."""
    repository = world.variables["ECR_REPOSITORY"]
    name = repository.split("/", 1)[1]
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX if index else DOCKER_MANIFEST,
            "config": {"digest": "sha256:" + hashlib.sha256(tag.encode()).hexdigest()},
            "layers": [],
            "annotations": {"build": str(time.time_ns())},  # not reproducible
        }
    )
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    world.aws.client("ecr").put_image(
        repositoryName=name, imageTag=tag, imageManifest=manifest, imageDigest=digest
    )
    return digest


def apply_stack(
    world: World, environment: str, image_uri: str, credentials: dict[str, Any]
) -> dict[str, Any]:
    """`make apply ENV=`: the first apply creates the stack of the first plan.

    Later applies keep it: the image, aliases and routing belong to the release CLI
    (ignore_changes in infra/modules/serving).
    """
    function = f"modelops-{environment}"
    plan = world.plans[f"{environment}_first"]
    resources = plan_resources(plan)
    url_auth = resources['module.serving.aws_lambda_function_url.this["live"]']["change"]["after"][
        "authorization_type"
    ]
    if environment not in world.applied:
        client = world.aws.client("lambda", credentials)
        role = resources["module.serving.aws_iam_role.function"]["change"]["after"]
        arn = world.aws.client("iam").create_role(
            RoleName=role["name"], AssumeRolePolicyDocument=role["assume_role_policy"]
        )["Role"]["Arn"]
        fn = resources["module.serving.aws_lambda_function.service"]["change"]["after"]
        client.create_function(
            FunctionName=function,
            PackageType="Image",
            Code={"ImageUri": image_uri},
            Role=arn,
            MemorySize=fn["memory_size"],
            Timeout=fn["timeout"],
            Publish=True,
            Architectures=fn["architectures"],
        )
        client.get_waiter("function_active_v2").wait(
            FunctionName=function, WaiterConfig={"Delay": 1}
        )
        for alias in ("live", "candidate"):
            client.create_alias(FunctionName=function, Name=alias, FunctionVersion="1")
            auth = resources[f'module.serving.aws_lambda_function_url.this["{alias}"]']["change"][
                "after"
            ]["authorization_type"]
            client.create_function_url_config(FunctionName=function, Qualifier=alias, AuthType=auth)
        world.applied.add(environment)
    return {"smoke_auth": "aws_iam" if url_auth == "AWS_IAM" else "none"}


def run_deploy(
    world: World,
    environment: str,
    commit: str,
    image_uri: str,
    version: str,
    github_environment: bool = True,
    expect_failure: bool = False,
) -> bool:
    """deploy.yml for one environment: its steps in order, each `if:` as GitHub evaluates it."""
    import yaml

    workflow = yaml.safe_load((REPO / ".github/workflows/deploy.yml").read_text())
    steps = [s for s in workflow["jobs"]["deploy"]["steps"] if "run" in s]
    job_environment = environment if github_environment else None
    role = (
        world.variables["AWS_ROLE_ARN"]
        if environment == "staging"
        else world.outputs["deploy_role_arns"]["prod"]
    )
    try:
        credentials = world.aws.assume_role(role, world.repo.token(job_environment))
    except PermissionError as error:
        world.journal.check(f"{environment}: assume the deploy role", False, str(error), "oidc")
        return False
    function = f"modelops-{environment}"
    release = Release(DocumentedLambda(world.aws.client("lambda", credentials)), function, 1)
    inputs = {"environment": environment, "model_version": version}
    outcomes: dict[str, dict[str, Any]] = {}
    failed = False
    for step in steps:
        name = step.get("id") or make_target(step["run"])
        if not github_condition(step.get("if", ""), outcomes, failed, inputs):
            outcomes[name] = {"outcome": "skipped", "outputs": {}}
            continue
        target = make_target(step["run"])
        outputs: dict[str, str] = {}
        failure: str | None = None
        try:
            if target == "apply":
                outputs = apply_stack(world, environment, image_uri, credentials)
            elif target.startswith("release-"):
                action = target.removeprefix("release-")
                state = (
                    release.candidate(image_uri)
                    if action == "candidate"
                    else release.canary(0.1)
                    if action == "canary"
                    else getattr(release, action)()
                )
                outputs = {
                    "changed": "true" if state.changed else "false",
                    "version": state.version or "",
                }
            elif target == "smoke":
                alias = "candidate" if "CANDIDATE_URL" in step.get("env", {}) else "live"
                expect = version if "SMOKE_EXPECT_VERSION" in step.get("env", {}) else None
                auth = outcomes["apply"]["outputs"]["smoke_auth"]
                failure = smoke(world.urls.local(function, alias), auth, expect, credentials)
            elif target == "promote":
                if version in world.registry:
                    outputs = {"champion": version}
                elif "IF_REGISTERED=1" not in step["run"]:
                    failure = f"the tracking server has no version {version}: champion not moved"
        except (ReleaseError, RehearsalFailed) as exc:
            failure = str(exc)
        if failure:
            failed = True
            outcomes[name] = {"outcome": "failure", "outputs": outputs, "error": failure}
            if expect_failure:  # the scenario's own step reports it
                print(
                    f"  · {environment} {commit[:12]}: step {name} failed: {failure}",
                    file=world.journal.out,
                )
            else:
                world.journal.check(
                    f"{environment} {commit[:12]}: {name}", False, failure, "rollback"
                )
            continue
        outcomes[name] = {"outcome": "success", "outputs": outputs}
    world.outcomes = outcomes
    if not failed:
        world.deployed[environment] = commit
    return not failed


def run_cd(
    world: World,
    commit: str,
    model_version: str,
    main_tip: str,
    failing: bool = False,
    index: bool = False,
) -> dict[str, Any]:
    """cd.yml for a commit whose CI succeeded: preflight, image (lookup/build/push), deploys.

    A `failing` image is a scenario that expects its deploy to fail.
    """
    decision = decide(world.variables, commit, main_tip)
    if not decision.deploy:
        return {"deployed": False, "reason": decision.reason}
    repository = world.variables["ECR_REPOSITORY"]
    token = world.repo.token("staging" if decision.environments else None)
    credentials = world.aws.assume_role(world.variables["AWS_ROLE_ARN"], token)
    ecr = world.aws.client("ecr", credentials)
    tag = f"{commit[:12]}-v{model_version}"
    found = image_module.existing_image(repository, tag, ecr)
    pushed = False
    if found is None:
        digest = push_image(world, tag, model_version, index=index)
        world.images[digest] = Image(model_version, failing)
        world.tags[tag] = digest
        image_uri, pushed = f"{repository}@{digest}", True
    else:
        image_uri = found
    media_type = None
    try:
        media_type = image_module.check_lambda_manifest(repository, image_uri.split("@")[1], ecr)
    except image_module.ImageError as error:
        return {"deployed": False, "reason": str(error), "manifest_refused": True}
    result = {"image_uri": image_uri, "pushed": pushed, "media_type": media_type}
    result["staging"] = run_deploy(
        world,
        "staging",
        commit,
        image_uri,
        model_version,
        decision.environments,
        expect_failure=failing,
    )
    result["staging_outcomes"] = world.outcomes
    if result["staging"] and decision.environments:  # prod: its reviewers approve here
        result["prod"] = run_deploy(world, "prod", commit, image_uri, model_version)
    result["deployed"] = result["staging"]
    return result


# --- the journey ------------------------------------------------------------------------------


def policy_check(world: World, compliance: str | None, workdir: Path) -> None:
    """What `make bootstrap` runs before its apply, on the first plan."""
    plan = world.plans["bootstrap_first"]
    unknown = unknown_policies(plan)
    world.journal.require(
        "bootstrap plan: policies known on the first plan",
        not unknown,
        f"unknown: {unknown}"
        if unknown
        else "every policy document is known (none reads a resource being created)",
        "first-plan",
    )
    deferred = deferred_reads(plan)
    world.journal.check(
        "bootstrap plan: data sources read at plan time",
        not deferred,
        f"deferred: {deferred}" if deferred else "no data source is deferred to the apply",
        "first-plan",
    )
    if not compliance:
        world.journal.check(
            "policy check (terraform-compliance)",
            True,
            "not installed here: `make infra-tools`; known-ness checked above",
            "policy",
        )
        return
    plan_file = workdir / "bootstrap-plan.json"
    plan_file.write_text(json.dumps(plan, separators=(",", ":")))
    result = subprocess.run(
        [compliance, "--no-ansi", "-f", str(REPO / "infra" / "policies"), "-p", str(plan_file)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary = re.search(r"^\d+ scenarios \(.*\)$", result.stdout, re.M)
    world.journal.require(
        "policy check (terraform-compliance) on the first bootstrap plan",
        result.returncode == 0,
        summary.group(0) if summary else result.stdout[-500:],
        "policy",
    )


def dvc_journey(world: World, workdir: Path, credentials: dict[str, Any]) -> None:
    """CI on main's first push against an empty DVC remote, then CD's strict pull."""
    project = workdir / "project"
    project.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DVC_"))},
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
        "AWS_ENDPOINT_URL": world.aws.endpoint,
        "AWS_REGION": REGION,
        "DVC_REMOTE_URL": world.variables["DVC_REMOTE_URL"],
        "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'src'}",
        "DVC_NO_ANALYTICS": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }

    def run(*args: str, cwd: Path = project) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)

    remote = [sys.executable, "-m", "pipelines.remote"]
    # the repository as merged: dvc.lock-like .dvc files in git, the outputs nowhere yet
    run("git", "init", "-q")
    run(sys.executable, "-m", "dvc", "init", "-q")
    (project / "data.csv").write_text("x,y\n1,2\n")
    added = run(sys.executable, "-m", "dvc", "add", "-q", "data.csv")
    if added.returncode != 0:
        raise RehearsalFailed(f"dvc add failed: {added.stderr[-500:]}")

    def fresh_checkout(name: str) -> Path:
        """What actions/checkout gives a runner: the files in git, no DVC cache or outputs."""
        checkout = workdir / name
        shutil.copytree(project, checkout)
        shutil.rmtree(checkout / ".dvc" / "cache")
        (checkout / "data.csv").unlink()
        return checkout

    ci = fresh_checkout("ci-checkout")
    strict = run(*remote, "pull", cwd=ci)
    world.journal.check(
        "first push, CI: a strict pull from the empty remote fails (why CI allows missing)",
        strict.returncode != 0 and "error: dvc pull with remote" in strict.stderr,
        f"dvc pull exit {strict.returncode}",
        "dvc",
    )
    pulled = run(*remote, "pull", "--allow-missing", cwd=ci)
    world.journal.require(
        "first push, CI: make pull ALLOW_MISSING=1 on the empty remote",
        pulled.returncode == 0,
        pulled.stderr[-300:] or "nothing to pull yet, repro-check rebuilds the outputs",
        "dvc",
    )
    (ci / "data.csv").write_text("x,y\n1,2\n")  # what the reproduction writes again
    committed = run(sys.executable, "-m", "dvc", "commit", "-f", "-q", "data.csv.dvc", cwd=ci)
    if committed.returncode != 0:
        raise RehearsalFailed(f"dvc commit failed: {committed.stderr[-500:]}")
    granted = dvc_remote_grants(world.plans["bootstrap_first"], "staging")
    world.journal.check(
        "first push, CI: the staging role may probe the DVC bucket",
        {"s3:ListBucket", "s3:GetBucketLocation"} <= granted,
        f"unconditioned on the bucket: {sorted(granted)} (s3fs probes HeadBucket, then "
        "GetBucketLocation, before it writes; both refused, it tries CreateBucket)",
        "s3fs",
    )
    pushed = run(*remote, "push", cwd=ci)
    world.journal.require(
        "first push, CI: make push of what main reproduced",
        pushed.returncode == 0,
        pushed.stderr[-300:] or "outputs in the remote before CD starts (CD waits for CI)",
        "dvc",
    )
    cd = fresh_checkout("cd-checkout")
    strict = run(*remote, "pull", cwd=cd)
    world.journal.require(
        "first push, CD: make reviewed's strict pull",
        strict.returncode == 0 and (cd / "data.csv").exists(),
        strict.stderr[-300:] or "pulled exactly what dvc.lock names",
        "dvc",
    )


def rehearse(plans_dir: Path, compliance: str | None = None, out: Any = sys.stdout) -> Journal:
    """Play the whole first merge; return the journal (failed steps in `.failed`)."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

    os.environ.setdefault("MOTO_LAMBDA_STUB_ECR", "true")  # moto: no registry behind images
    journal = Journal(out=out)
    plans = {
        path.stem.removeprefix("plan_"): json.loads(path.read_text())
        for path in sorted(plans_dir.glob("plan_*_first.json"))
    }
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    images: dict[str, Image] = {}
    aws = Aws(f"http://127.0.0.1:{port}")
    urls = FunctionUrls(aws, images)
    repo = GitHubRepository("acme", "modelops", 1234567, 890123456, immutable_subjects=True)
    world = World(journal, aws, urls, images, plans, repo)
    try:
        with tempfile.TemporaryDirectory(prefix="rehearse-") as tmp:
            journey(world, Path(tmp), compliance)
    except RehearsalFailed as error:
        print(f"stopped: {error}", file=out)
    finally:
        urls.close()
        server.stop()
    return journal


def journey(world: World, workdir: Path, compliance: str | None) -> None:
    """The steps, in the order GitHub and AWS run them."""
    journal = world.journal
    start = time.perf_counter()
    policy_check(world, compliance, workdir)
    world.outputs = apply_bootstrap(world.aws, world.plans["bootstrap_first"])
    journal.require(
        "bootstrap apply",
        True,
        f"roles {sorted(world.outputs['deploy_role_arns'])}, "
        f"ECR {world.outputs['ecr_repository_url']}",
        "iam-trust",
    )

    # OIDC: both subject forms reach the roles; prod only from its environment
    staging_role = world.outputs["deploy_role_arns"]["staging"]
    prod_role = world.outputs["deploy_role_arns"]["prod"]
    legacy = GitHubRepository("acme", "modelops", 1234567, 890123456, immutable_subjects=False)
    for label, repo in (("immutable subject", world.repo), ("name subject", legacy)):
        for role, env in ((staging_role, None), (staging_role, "staging"), (prod_role, "prod")):
            claims = repo.token(env)
            try:
                world.aws.assume_role(role, claims)
                ok, why = True, claims["sub"]
            except PermissionError as error:
                ok, why = False, str(error)
            journal.check(f"OIDC ({label}) {role.rsplit('/', 1)[1]}", ok, why, "oidc")
    try:
        world.aws.assume_role(prod_role, world.repo.token(None))
        journal.check(
            "OIDC: prod refuses jobs outside its environment",
            False,
            "a job on main without environment assumed the prod role",
            "oidc",
        )
    except PermissionError:
        journal.check(
            "OIDC: prod refuses jobs outside its environment",
            True,
            "ref:refs/heads/main is not trusted by the prod role",
            "oidc",
        )

    # CI on pull requests: the read-only role takes this repository's pull requests only, and
    # no deploy role takes a pull request. The monitor (monitor.yml: schedule and
    # workflow_dispatch on main, no environment): its read-only role takes main's jobs of this
    # repository only, not a pull request nor a job of an environment.
    pr_role = world.outputs["pull_request_role_arn"]
    monitor_role = world.outputs["monitor_role_arn"]
    elsewhere = GitHubRepository("someone", "modelops", 7654321, 98765, immutable_subjects=False)
    branch = {**world.repo.token(None), "sub": world.repo.subject(None, "refs/heads/feature")}
    for label, claims, role, allowed in (
        ("pull request (immutable subject)", world.repo.pull_request_token(), pr_role, True),
        ("pull request (name subject)", legacy.pull_request_token(), pr_role, True),
        ("another repository's pull request", elsewhere.pull_request_token(), pr_role, False),
        (
            "a pull request, staging deploy role",
            world.repo.pull_request_token(),
            staging_role,
            False,
        ),
        ("a pull request, prod deploy role", world.repo.pull_request_token(), prod_role, False),
        ("monitor on main (immutable subject)", world.repo.token(None), monitor_role, True),
        ("monitor on main (name subject)", legacy.token(None), monitor_role, True),
        ("monitor on another branch", branch, monitor_role, False),
        ("monitor in environment prod", world.repo.token("prod"), monitor_role, False),
        ("monitor role, a pull request", world.repo.pull_request_token(), monitor_role, False),
        ("monitor role, another repository", elsewhere.token(None), monitor_role, False),
    ):
        try:
            world.aws.assume_role(role, claims)
            ok, why = allowed, f"{claims['sub']} assumed {role.rsplit('/', 1)[1]}"
        except PermissionError as error:
            ok, why = not allowed, str(error)
        journal.check(f"OIDC {label}", ok, why, "oidc")

    # the first push before the repository variables exist
    early = run_cd(world, "0" * 40, "1", "0" * 40)
    journal.check(
        "push before the repository variables: CD says what to set",
        not early["deployed"] and "ECR_REPOSITORY" in early["reason"],
        early["reason"][:160] + "...",
        "variables",
    )
    out = world.outputs
    world.variables.update(
        {
            "AWS_REGION": out["region"],
            "AWS_ROLE_ARN": staging_role,
            "ECR_REPOSITORY": out["ecr_repository_url"],
            "TF_STATE_BUCKET": out["state_bucket"],
            "TF_STATE_KMS_KEY_ARN": out["kms_key_arn"],
            "DVC_REMOTE_URL": out["dvc_remote_url"],
            "MLFLOW_TRACKING_URI": "http://mlflow.example.internal",
        }
    )
    journal.check("repository variables", True, ", ".join(sorted(world.variables)), "variables")

    # first merge: CI (push to main, no environment) then CD
    ci_credentials = world.aws.assume_role(staging_role, world.repo.token(None))
    dvc_journey(world, workdir, ci_credentials)
    first, second = "a" * 40, "b" * 40
    result = run_cd(world, first, "1", first)
    journal.require(
        "first merge, CD: image pushed, manifest Lambda runs",
        result.get("media_type") == DOCKER_MANIFEST,
        f"{result.get('image_uri')} ({result.get('media_type')})",
        "manifest",
    )
    journal.require(
        "first merge, CD: staging and prod released and smoked",
        bool(result.get("staging") and result.get("prod")),
        f"deployed {world.deployed}",
        "publish",
    )
    versions = {
        env: Release(world.aws.client("lambda"), f"modelops-{env}").status().live_version
        for env in ("staging", "prod")
    }
    journal.check(
        "first merge: live is Terraform's version 1 (same digest, nothing published)",
        versions == {"staging": "1", "prod": "1"},
        f"live versions {versions}",
        "publish",
    )
    journal.check(
        "first merge: prod's champion step warns, not fails (registry never tracked)",
        world.outcomes.get("promote", {}).get("outcome") == "success",
        "make promote IF_REGISTERED=1: the reviewed model card is the record",
        "variables",
    )

    # second merge: a new model, a new digest, a new version through canary and promote
    result = run_cd(world, second, "2", second)
    live = Release(world.aws.client("lambda"), "modelops-prod").status()
    journal.require(
        "second merge: canary then promote to a new version",
        bool(result.get("prod") and live.live_version == "2" and live.previous_version == "1"),
        f"prod live v{live.live_version}, previous v{live.previous_version}",
        "publish",
    )

    # re-run of the same CD: same tag in the IMMUTABLE repository -> its digest is re-used
    digest_before = world.tags[f"{second[:12]}-v2"]
    rerun = run_cd(world, second, "2", second)
    moved = [
        s
        for s, o in rerun.get("staging_outcomes", {}).items()
        if o.get("outputs", {}).get("changed") == "true"
    ]
    journal.check(
        "re-run of the same CD: digest re-used, nothing moved",
        bool(
            rerun.get("deployed")
            and not rerun["pushed"]
            and rerun["image_uri"].endswith(digest_before)
            and not moved
        ),
        f"pushed={rerun.get('pushed')}, steps that moved live: {moved or 'none'}",
        "immutable",
    )
    try:
        push_image(world, f"{second[:12]}-v2", "2")
        journal.check(
            "a rebuild under the same tag is refused",
            False,
            "ECR accepted a second digest under an IMMUTABLE tag",
            "immutable",
        )
    except Exception as error:
        journal.check(
            "a rebuild under the same tag is refused (why CD re-uses the digest)",
            "AlreadyExists" in type(error).__name__ or "AlreadyExists" in str(error),
            type(error).__name__,
            "immutable",
        )

    # an image index with attestations is refused before any release
    indexed = run_cd(world, "c" * 40, "3", "c" * 40, index=True)
    journal.check(
        "an image index (BuildKit attestations) is refused after push",
        indexed.get("manifest_refused") is True,
        indexed.get("reason", "")[:120],
        "manifest",
    )

    # merges racing on main: per-commit CI groups, only the newest commit deploys
    import yaml

    ci = yaml.safe_load((REPO / ".github/workflows/ci.yml").read_text())
    groups = ConcurrencyGroups()
    racing = ["d" * 40, "e" * 40, "f" * 40]
    for sha in racing:
        groups.queue(ci_concurrency_group(ci, sha), sha)
    journal.check(
        "three merges in a minute: no CI run on main is cancelled",
        not groups.cancelled and len(groups.running) == 3,
        f"running {len(groups.running)}, cancelled {len(groups.cancelled)}",
        "concurrency",
    )
    for sha in (racing[1], racing[0], racing[2]):  # CI finishes out of order
        run_cd(world, sha, "2", racing[-1])
    journal.check(
        "CI finishing out of order: only main's newest commit deploys",
        world.deployed.get("staging") == racing[-1],
        f"staging runs {world.deployed.get('staging', '')[:12]}",
        "concurrency",
    )

    # a failing smoke: the candidate is refused and live never moves
    before = Release(world.aws.client("lambda"), "modelops-staging").status().live_version
    broken = run_cd(world, "9" * 40, "4", "9" * 40, failing=True)
    after = Release(world.aws.client("lambda"), "modelops-staging").status()
    journal.check(
        "a failing candidate smoke: no canary, live untouched",
        not broken.get("staging") and after.live_version == before and after.canary_weight == 0,
        f"live v{after.live_version} (was v{before})",
        "rollback",
    )

    # a smoke failing during the canary: this run moved live, so it rolls live back
    world.images[world.tags[f"{'9' * 12}-v4"]].failing = False
    rollback = rehearse_canary_failure(world, "9" * 40, "4")
    journal.check(
        "a smoke failing during the canary rolls live back", rollback[0], rollback[1], "rollback"
    )

    # a private repository on the Free plan: no environments
    free = GitHubRepository("acme", "modelops", 1234567, 890123456, True, environments=False)
    world.repo = free
    world.variables["DEPLOY_ENVIRONMENTS"] = "false"
    result = run_cd(world, "7" * 40, "2", "7" * 40)
    journal.check(
        "Free plan, private: staging deploys without environments, prod waits",
        bool(result.get("staging") and "prod" not in result),
        "DEPLOY_ENVIRONMENTS=false: sub ref:refs/heads/main, staging role trusts it; "
        "prod role trusts only environment:prod",
        "environments",
    )
    print(
        f"rehearsal: {len(journal.steps)} steps, {len(journal.failed)} failed, "
        f"{time.perf_counter() - start:.1f} s",
        file=journal.out,
    )


def rehearse_canary_failure(world: World, commit: str, version: str) -> tuple[bool, str]:
    """deploy.yml with the candidate failing once it takes live traffic: live goes back.

    The fault is injected by the rehearsal after the canary shift; the rollback step (this run
    moved live: canary changed=true) must put live back where it was.
    """
    image = world.images[world.tags[f"{commit[:12]}-v{version}"]]
    world.urls.live_canary_fails = True
    try:
        repository = world.variables["ECR_REPOSITORY"]
        image_uri = f"{repository}@{world.tags[f'{commit[:12]}-v{version}']}"
        before = Release(world.aws.client("lambda"), "modelops-staging").status().live_version
        ok = run_deploy(world, "staging", commit, image_uri, version, expect_failure=True)
        outcomes = world.outcomes
        after = Release(world.aws.client("lambda"), "modelops-staging").status()
    finally:
        world.urls.live_canary_fails = False
        image.failing = False
    rolled = outcomes.get("release-rollback", {}).get("outcome") == "success"
    held = not ok and rolled and after.live_version == before and after.canary_weight == 0
    return held, (
        f"canary changed=true, smoke failed, rollback ran: live v{after.live_version} "
        f"(was v{before}), weight {after.canary_weight}"
    )


def main(argv: list[str] | None = None) -> int:
    """CLI: exit 0 when every step held, 1 otherwise."""
    parser = argparse.ArgumentParser(
        prog="python -m modelops.delivery.rehearse", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--plans",
        type=Path,
        required=True,
        help="folder of plan_<stack>_first.json (terraform show -json)",
    )
    parser.add_argument("--compliance", help="terraform-compliance binary (policy check)")
    args = parser.parse_args(argv)
    if not (args.plans / "plan_bootstrap_first.json").is_file():
        print(f"error: {args.plans}/plan_bootstrap_first.json not found", file=sys.stderr)
        return 2
    compliance = args.compliance if args.compliance and Path(args.compliance).exists() else None
    journal = rehearse(args.plans, compliance)
    return 1 if journal.failed else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
