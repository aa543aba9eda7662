"""BentoML's private names the service relies on: all in one module, and checked after upgrades."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from bentoml._internal.context import server_context as bentoml_server_context
from bentoml._internal.marshal import dispatcher as bentoml_dispatcher

from services import bentoml_private

ROOT = Path(__file__).resolve().parents[2]
PRIVATE_PREFIXES = ("bentoml._internal", "_bentoml_impl", "_bentoml_sdk")


def test_the_pinned_bentoml_has_every_private_name_the_service_uses():
    problems = bentoml_private.missing_internals()
    assert problems == [], "\n".join(problems)


def test_a_removed_private_class_is_named(monkeypatch):
    monkeypatch.delattr(bentoml_dispatcher, "CorkDispatcher")
    problems = bentoml_private.missing_internals()
    assert len(problems) == 1, problems
    assert "bentoml._internal.marshal.dispatcher has no attribute CorkDispatcher" in problems[0]
    assert "services.classifier" in problems[0]
    assert "services/bentoml_private.py" in problems[0]


def test_a_dispatcher_without_its_learnt_wait_is_named(monkeypatch):
    class NewDispatcher:  # a future version: same arguments, no optimizer
        def __init__(self, max_latency_in_ms, max_batch_size, *, fallback, get_batch_size):
            pass

    monkeypatch.setattr(bentoml_dispatcher, "CorkDispatcher", NewDispatcher)
    problems = bentoml_private.missing_internals()
    assert len(problems) == 1, problems
    assert "CorkDispatcher has no attribute optimizer.wait" in problems[0]


def test_a_renamed_dispatcher_argument_is_named(monkeypatch):
    class NewDispatcher:
        def __init__(self, max_latency_ms, max_batch_size, *, fallback, get_batch_size):
            pass

    monkeypatch.setattr(bentoml_dispatcher, "CorkDispatcher", NewDispatcher)
    problems = bentoml_private.missing_internals()
    assert len(problems) == 1, problems
    assert "CorkDispatcher() takes no argument max_latency_in_ms" in problems[0]


def test_a_server_context_without_a_field_is_named(monkeypatch):
    monkeypatch.delattr(type(bentoml_server_context), "service_type")
    problems = bentoml_private.missing_internals()
    assert any("server_context has no attribute service_type" in p for p in problems), problems


def test_an_api_method_without_its_local_caller_is_named(monkeypatch):
    monkeypatch.delattr(bentoml_private.APIMethod, "_local_call")
    problems = bentoml_private.missing_internals()
    assert len(problems) == 1, problems
    assert "APIMethod has no method _local_call" in problems[0]
    assert "services.speedups" in problems[0]


def test_importing_a_missing_name_fails_naming_it():
    with pytest.raises(bentoml_private.BentoMLInternalsChanged, match="has no attribute Gone"):
        bentoml_private._require("bentoml._internal.marshal.dispatcher", "Gone", "a test")


def _private_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return [n for n in names if n.startswith(PRIVATE_PREFIXES)]


def test_no_other_product_module_imports_bentoml_internals():
    offenders = {}
    for folder in ("services", "src", "pipelines", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name == "bentoml_private.py":
                continue
            if found := _private_imports(path):
                offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}, (
        f"import BentoML's private names through services.bentoml_private: {offenders}"
    )
