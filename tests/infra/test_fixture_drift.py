"""The fixture plans cannot drift from the Terraform configuration they stand for.

A real `terraform plan` needs the AWS provider, which cannot be downloaded here, so the plans
in tests/infra/fixtures are written by hand. These tests read the configuration itself (parsed
with python-hcl2, the parser checkov ships, from the checkov tool env) and check each first plan
against it the way Terraform writes a first plan (`terraform show -json`):
- every resource block has an instance in `resource_changes` (or is listed below with the
  condition that leaves it out of these plans), every data block is either read during the
  plan (`prior_state`) or deferred to the apply (`resource_changes`, action read);
- every attribute the policies (infra/policies/*.feature) read and the configuration sets is
  in the plan: known in `after`, or true in `after_unknown`;
- a data source whose inputs reach a resource created in the same apply (or that depends_on
  one) is deferred, so every attribute built from it is unknown on a first plan; and no policy
  document the policies read may be unknown (the check runs before the first apply).
The bootstrap's trust policy read the OIDC provider's computed ARN, so its first plan deferred
the data source, while the hand-made fixture showed the policy known: these tests fail on that.
"""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

from modelops.delivery.rehearse import POLICY_ATTRIBUTES  # the documents the policies read
from tests.infra.tools import ROOT, TOOLS

INFRA = ROOT / "infra"
FIXTURES = ROOT / "tests" / "infra" / "fixtures"
STACKS = {
    "bootstrap_first": INFRA / "bootstrap",
    "staging_first": INFRA / "envs",  # one root; the environment comes from ENV
    "prod_first": INFRA / "envs",
    "staging_archive_first": INFRA / "envs",  # capture_archive = true: the ABSENT module planned
}
# Blocks a first plan of these stacks does not create, and why (the fixture's variables).
ABSENT = {
    "module.serving.aws_lambda_permission.public_url": "count: only for url_auth_type NONE",
    "module.serving.aws_lambda_permission.public_url_invoke": "count: only for url_auth_type NONE",
    "module.spark.": "count: only when var.spark is set (default null); every block of the module",
    "module.capture_archive.": "count: only for capture_archive = true (off by default)",
}


def absent(address: str) -> bool:
    """Whether a first plan leaves this block out (ABSENT: an address, or a module's prefix)."""
    return any(address == key or (key.endswith(".") and address.startswith(key)) for key in ABSENT)


MANAGED_REF = re.compile(r"(?<![\w.])(aws_[a-z0-9_]+)\.([a-z0-9_]+)(?:\[[^\]]*\])?\.([a-z_]+)")
DATA_REF = re.compile(r"(?<![\w.])data\.([a-z0-9_]+)\.([a-z0-9_]+)")
LOCAL_REF = re.compile(r"(?<![\w.])local\.([a-z0-9_]+)")
MODULE_REF = re.compile(r"(?<![\w.])module\.([a-z0-9_]+)\.([a-z0-9_]+)")

PARSE = """
import hcl2, json, sys
from pathlib import Path
print(json.dumps({p.name: hcl2.load(open(p)) for p in sorted(Path(sys.argv[1]).glob("*.tf"))}))
"""


@cache
def parse(folder: Path) -> dict:
    """{file: hcl2 dict} of one module folder, parsed in the checkov env (bc-python-hcl2)."""
    python = TOOLS / "checkov" / "bin" / "python"
    if not python.exists():
        pytest.skip("the checkov tool env (python-hcl2) is not installed: `make infra-tools`")
    out = subprocess.run([str(python), "-c", PARSE, str(folder)], capture_output=True,
                         text=True, check=True, timeout=120)  # fmt: skip
    return json.loads(out.stdout)


def blocks(folder: Path, prefix: str = "") -> list[dict]:
    """Every resource and data block of a configuration, with modules followed (local sources)."""
    found = []
    files = parse(folder)
    local_values = {name: value for f in files.values() for group in f.get("locals", [])
                    for name, value in group.items()}  # fmt: skip
    for parsed in files.values():
        for mode in ("resource", "data"):
            for entry in parsed.get(mode, []):
                for kind, named in entry.items():
                    for name, body in named.items():
                        found.append({
                            "mode": "managed" if mode == "resource" else "data",
                            "address": f"{prefix}{'data.' if mode == 'data' else ''}{kind}.{name}",
                            "type": kind, "name": name, "body": body, "prefix": prefix,
                            "locals": local_values, "folder": folder,
                        })  # fmt: skip
        for entry in parsed.get("module", []):
            for name, body in entry.items():
                source = body["source"][0] if isinstance(body["source"], list) else body["source"]
                if source.startswith("."):
                    child = (folder / source).resolve()
                    found += blocks(child, f"{prefix}module.{name}.")
                    found += module_outputs(child, f"{prefix}module.{name}.")
    return found


def module_outputs(folder: Path, prefix: str) -> list[dict]:
    """A module's outputs as pseudo-blocks (`<prefix>output.<name>`), to follow references
    into the module. Its variables count as known: every caller here passes root variables."""
    files = parse(folder)
    local_values = {name: value for f in files.values() for group in f.get("locals", [])
                    for name, value in group.items()}  # fmt: skip
    return [
        {"mode": "output", "address": f"{prefix}output.{name}", "type": "output", "name": name,
         "body": {"value": body["value"]}, "prefix": prefix, "locals": local_values,
         "folder": folder}
        for parsed in files.values() for entry in parsed.get("output", [])
        for name, body in entry.items()
    ]  # fmt: skip


def expression(value) -> str:
    return json.dumps(value)


def resolve(text: str, local_values: dict, seen: frozenset = frozenset()) -> str:
    """The expression with every `local.x` replaced by its definition, recursively."""
    for name in set(LOCAL_REF.findall(text)) - seen:
        if name in local_values:
            text += " " + resolve(expression(local_values[name]), local_values, seen | {name})
    return text


def depends_on_created(block: dict, everything: dict[str, dict], seen=frozenset()) -> list[str]:
    """What in `block` is known only after the apply: attributes of resources it creates,
    module outputs, data sources that are themselves deferred, or a depends_on on a resource."""
    text = resolve(expression({k: v for k, v in block["body"].items() if k != "depends_on"}),
                   block["locals"])  # fmt: skip
    reasons = [f"{kind}.{name}.{attribute}" for kind, name, attribute in MANAGED_REF.findall(text)
               if f"{block['prefix']}{kind}.{name}" in everything]  # fmt: skip
    for module, output in MODULE_REF.findall(text):
        address = f"{block['prefix']}module.{module}.output.{output}"
        if address in everything and address not in seen:
            inner = depends_on_created(everything[address], everything, seen | {address})
            reasons += [f"module.{module}.{output} <- {r}" for r in inner]
        elif address not in everything:
            reasons.append(f"module.{module}.{output} (module not followed)")
    for kind, name in DATA_REF.findall(text):
        address = f"{block['prefix']}data.{kind}.{name}"
        if address in everything and address not in seen:
            inner = depends_on_created(everything[address], everything, seen | {address})
            reasons += [f"data.{kind}.{name} <- {r}" for r in inner]
    if block["mode"] == "data":
        for ref in block["body"].get("depends_on", []):
            for item in ref if isinstance(ref, list) else [ref]:
                if not str(item).removeprefix("${").startswith("data."):
                    reasons.append(f"depends_on {item}")
    return reasons


def plan_addresses(plan: dict) -> tuple[dict[str, dict], set[str]]:
    """(base address -> changes of its instances, data addresses read during the plan)."""
    changes: dict[str, list] = {}
    # every instance key goes, a module's too: module.capture_archive[0].aws_iam_role.logs
    for item in plan["resource_changes"]:
        changes.setdefault(re.sub(r"\[[^\]]*\]", "", item["address"]), []).append(item)

    def walk(module: dict):
        yield from module.get("resources", [])
        for child in module.get("child_modules", []):
            yield from walk(child)

    read = {re.sub(r"\[[^\]]*\]", "", r["address"])
            for r in walk(plan["prior_state"]["values"]["root_module"])}  # fmt: skip
    return changes, read


def policy_attributes() -> dict[str, set[str]]:
    """resource type -> the attribute names the features read (`it must contain <attr>`)."""
    read: dict[str, set[str]] = {}
    for feature in (INFRA / "policies").glob("*.feature"):
        for scenario in feature.read_text().split("Scenario")[1:]:
            types = re.findall(r"Given I have (aws_[a-z0-9_]+) defined", scenario)
            types += re.findall(r"^\s*\|\s*(aws_[a-z0-9_]+)\s*\|", scenario, re.M)
            attributes = re.findall(r"(?:must contain|When its) ([a-z][a-z0-9_]+)\b", scenario)
            for kind in types:
                read.setdefault(kind, set()).update(attributes)
    return read


def configured(stack: str) -> list[dict]:
    """The blocks of `stack`'s configuration a first plan may hold (ABSENT ones only if planned)."""
    return blocks(STACKS[stack])


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_every_block_of_the_configuration_is_in_its_first_plan(stack):
    plan = json.loads((FIXTURES / f"plan_{stack}.json").read_text())
    changes, read = plan_addresses(plan)
    missing = []
    for block in configured(stack):
        address = block["address"]
        if block["mode"] == "output":
            continue
        if absent(address) and address not in changes and address not in read:
            continue
        if block["mode"] == "managed":
            if address not in changes:
                missing.append(address)
        elif address not in read and address not in changes:
            missing.append(address)
    assert not missing, f"{stack}: blocks of the configuration absent from the fixture: {missing}"
    # and nothing in the fixture that the configuration does not have
    addresses = {b["address"] for b in configured(stack) if b["mode"] != "output"}
    extra = (set(changes) | read) - addresses
    assert not extra, f"{stack}: the fixture has blocks the configuration lacks: {extra}"


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_data_sources_are_read_or_deferred_as_terraform_would(stack):
    plan = json.loads((FIXTURES / f"plan_{stack}.json").read_text())
    changes, read = plan_addresses(plan)
    everything = {b["address"]: b for b in configured(stack)}
    for address, block in everything.items():
        if block["mode"] != "data" or (absent(address) and address not in set(changes) | read):
            continue
        pending = depends_on_created(block, everything)
        if pending:
            assert address in changes, f"{address} waits for {pending}: deferred, not read"
            assert all(i["change"]["actions"] == ["read"] for i in changes[address])
        else:
            assert address in read, f"{address} has only known inputs: read during the plan"


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_attributes_the_policies_read_are_in_the_plan_known_or_unknown(stack):
    plan = json.loads((FIXTURES / f"plan_{stack}.json").read_text())
    changes, _ = plan_addresses(plan)
    wanted = policy_attributes()
    everything = {b["address"]: b for b in configured(stack)}
    checked = 0
    for address, block in everything.items():
        if block["mode"] != "managed" or address not in changes:
            continue
        for attribute in sorted(wanted.get(block["type"], set()) & set(block["body"])):
            pending = depends_on_created({**block, "body": {attribute: block["body"][attribute]}},
                                         everything)  # fmt: skip
            for item in changes[address]:
                after, unknown = item["change"]["after"], item["change"]["after_unknown"]
                if pending:
                    assert unknown.get(attribute) is True and attribute not in after, (
                        f"{item['address']}.{attribute} waits for {pending}: unknown on a first "
                        "plan, the fixture shows it known"
                    )
                else:
                    assert attribute in after, f"{item['address']}.{attribute} missing"
                checked += 1
    assert checked >= 8, checked  # the policies read at least this many here


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_no_policy_document_is_unknown_on_a_first_plan(stack):
    """The policy check runs before the first apply: a document it cannot read fails it."""
    everything = {b["address"]: b for b in configured(stack)}
    changes, _ = plan_addresses(json.loads((FIXTURES / f"plan_{stack}.json").read_text()))
    for address, block in everything.items():
        attribute = POLICY_ATTRIBUTES.get(block["type"])
        if block["mode"] != "managed" or attribute not in block["body"]:
            continue
        if absent(address) and address not in changes:
            continue  # (an ABSENT block not in this plan: the policies never read it)
        pending = depends_on_created({**block, "body": {attribute: block["body"][attribute]}},
                                     everything)  # fmt: skip
        assert not pending, f"{address}.{attribute} is unknown on a first plan: {pending}"


def test_the_check_catches_a_trust_policy_that_reads_a_created_resource(tmp_path):
    """The defect of issue #21, put back into a copy of the bootstrap: the check finds it."""
    import shutil

    copy = tmp_path / "bootstrap"
    shutil.copytree(INFRA / "bootstrap", copy)
    shutil.copytree(INFRA / "modules", tmp_path / "modules")
    oidc = copy / "github_oidc.tf"
    text = oidc.read_text()
    old = re.search(r"^  oidc_provider_arn = .*$", text, re.M).group(0)
    oidc.write_text(text.replace(
        old, '  oidc_provider_arn = aws_iam_openid_connect_provider.github[0].arn'))  # fmt: skip
    everything = {b["address"]: b for b in blocks(copy)}
    role = everything["aws_iam_role.deploy"]
    pending = depends_on_created(
        {**role, "body": {"assume_role_policy": role["body"]["assume_role_policy"]}}, everything
    )
    assert pending == [
        "data.aws_iam_policy_document.deploy_trust <- aws_iam_openid_connect_provider.github.arn"
    ]
