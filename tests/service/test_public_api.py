"""BentoML by its public API only: no private module, no patch of its attributes, no stand-ins.

Scans the source of `services/` and `src/` (the serving code and everything it could import).
Fails if a private BentoML module (`bentoml._internal`, `_bentoml_impl`, `_bentoml_sdk`, or any
`bentoml._name`) is imported or named, if an attribute of something imported from bentoml is
assigned, deleted or `setattr`-ed, or if `sys.modules` is written to.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRIVATE = ("bentoml._", "_bentoml_impl", "_bentoml_sdk")
WRITES = {"update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__"}


def is_private(name: str) -> bool:
    return name.startswith(PRIVATE)


def root(node: ast.AST) -> str | None:
    """The name at the root of `a.b.c` (or `a[...].b`)."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def is_sys_modules(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "modules"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )


def violations(source: str, where: str = "<code>") -> list[str]:
    """What in `source` breaks the rule, one line each."""
    tree = ast.parse(source)
    found: list[str] = []
    from_bentoml: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if is_private(alias.name):
                    found.append(f"{where}:{node.lineno}: imports {alias.name}")
                if alias.name.split(".")[0] in ("bentoml", "_bentoml_impl", "_bentoml_sdk"):
                    from_bentoml.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            for name in [node.module, *names]:
                if is_private(name):
                    found.append(f"{where}:{node.lineno}: imports {name}")
                    break
            if node.module.split(".")[0] == "bentoml":
                from_bentoml.update(alias.asname or alias.name for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and any(private in node.value for private in PRIVATE)
        ):
            found.append(f"{where}:{node.lineno}: names {node.value!r}")
    for node in ast.walk(tree):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for target in targets:
            if isinstance(target, ast.Attribute) and root(target) in from_bentoml:
                found.append(f"{where}:{node.lineno}: patches {ast.unparse(target)}")
            if isinstance(target, ast.Subscript) and is_sys_modules(target.value):
                found.append(f"{where}:{node.lineno}: writes {ast.unparse(target)}")
        if isinstance(node, ast.Call):
            func = node.func
            patching = isinstance(func, ast.Name) and func.id in ("setattr", "delattr")
            if patching and node.args and root(node.args[0]) in from_bentoml:
                found.append(f"{where}:{node.lineno}: {func.id} on {ast.unparse(node.args[0])}")
            if (
                isinstance(func, ast.Attribute)
                and func.attr in WRITES
                and is_sys_modules(func.value)
            ):
                found.append(f"{where}:{node.lineno}: sys.modules.{func.attr}(...)")
    return found


def test_services_and_src_use_bentoml_by_its_public_api_only():
    files = sorted((REPO / "services").rglob("*.py")) + sorted((REPO / "src").rglob("*.py"))
    assert len(files) > 20
    found = [
        line for path in files for line in violations(path.read_text(), str(path.relative_to(REPO)))
    ]
    assert found == []


@pytest.mark.parametrize(
    "code",
    [
        "from bentoml._internal.server.http import traffic",
        "import _bentoml_impl.worker.service",
        "from _bentoml_sdk import method",
        "from bentoml import _internal",
        "import importlib\nimportlib.import_module('bentoml._internal.context')",
        "import logging\nlogging.getLogger('bentoml._internal.server.http_app')",
        "import bentoml\nbentoml.api = None",
        "from bentoml import exceptions as e\ne.NotFound.code = 1",
        "import bentoml\nsetattr(bentoml.models, 'get', print)",
        "import bentoml as b\ndel b.service",
        "import sys\nsys.modules['aiohttp'] = object()",
        "import sys\nsys.modules.setdefault('aiohttp', object())",
    ],
)
def test_the_scan_finds_each_kind_of_breach(code):
    assert violations(code)


def test_the_scan_lets_public_use_through():
    code = (
        "import bentoml\nimport sys\n"
        "@bentoml.service(traffic={'timeout': 30})\nclass S:\n"
        "    model = bentoml.models.BentoModel('m:1')\n"
        "S.add_asgi_middleware(object)\nloaded = 'x' in sys.modules\n"
    )
    assert violations(code) == []
