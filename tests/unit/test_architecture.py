"""The wings of src/modelops import one way; services/ and the client stay light.

Read from the source (AST), so a function-level import counts as much as a top-level one: the
rules hold for every path through the code, not just for what an import happens to load.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "modelops"
GROUND = {"params", "storage"}
WINGS = ("pipeline", "serving", "delivery", "review", "monitoring")

# What each part may import from modelops, besides the ground (params, storage).
ALLOWED = {
    "serving": {"serving"},  # what the Lambda loads: nothing of the other wings
    "pipeline": {"pipeline", "serving"},  # never delivery or review
    "delivery": {"delivery", "serving"},
    "review": {"review", "pipeline", "serving"},  # the report reads the pipeline's outputs
    "monitoring": {"monitoring", "pipeline", "serving"},  # reads the contract and the capture
    "ground": set(),
    "client": set(),  # a notebook imports it: nothing else of the library
    "services": {"serving"},
}
HEAVY = {"mlflow", "great_expectations", "dvc"}  # 5-12 s of cold start each here
LIGHT = {"serving", "client", "services"}


def part_of(path: Path) -> str:
    if path.is_relative_to(REPO / "services"):
        return "services"
    relative = path.relative_to(PACKAGE)
    if len(relative.parts) > 1:
        return relative.parts[0]
    return "client" if relative.stem == "client" else "ground"


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in the file, wherever it stands."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from modelops import pipeline` names the wing in the alias, not the module
            if node.module == "modelops":
                found += [(node.lineno, f"modelops.{alias.name}") for alias in node.names]
    return found


def sources() -> list[Path]:
    return sorted([*PACKAGE.rglob("*.py"), *(REPO / "services").rglob("*.py")])


def violations(path: Path) -> list[str]:
    part = part_of(path)
    problems = []
    for line, module in imports(path):
        names = module.split(".")
        if names[0] == "modelops" and len(names) > 1:
            target = names[1]
            if target in GROUND or target == "modelops":
                continue
            if target not in ALLOWED[part]:
                problems.append(f"{path.relative_to(REPO)}:{line}: {part} imports {module}")
        elif part in LIGHT and names[0] in HEAVY:
            problems.append(f"{path.relative_to(REPO)}:{line}: {part} imports {module}")
    return problems


def test_every_module_belongs_to_a_known_part():
    wings = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert wings == set(WINGS), "a new wing needs its import rule in ALLOWED"
    loose = {p.stem for p in PACKAGE.glob("*.py")} - GROUND - {"__init__", "client"}
    assert not loose, f"top-level modules other than the ground and the client: {sorted(loose)}"


def test_imports_run_one_way():
    problems = [problem for path in sources() for problem in violations(path)]
    assert not problems, "imports against the wing rules:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("part", "source", "expected"),
    [
        ("serving", "from modelops.pipeline.data import DataError", "serving imports"),
        ("pipeline", "import modelops.review.report", "pipeline imports"),
        ("pipeline", "def f():\n    from modelops.delivery import packaging", "pipeline imports"),
        ("serving", "def f():\n    import mlflow", "serving imports mlflow"),
        ("client", "from modelops import serving", "client imports modelops.serving"),
    ],
)
def test_the_check_catches(tmp_path, monkeypatch, part, source, expected):
    """The rule test is only worth something if it fails on a planted violation."""
    fake_package = tmp_path / "src" / "modelops"
    folder = fake_package if part == "client" else fake_package / part
    folder.mkdir(parents=True)
    module = folder / ("client.py" if part == "client" else "planted.py")
    module.write_text(source + "\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake_package)
    assert any(expected in problem for problem in violations(module))


def test_nothing_under_tests_is_run_by_targets_workflows_or_the_image():
    """Makefile targets, workflows and the Dockerfile never run a module of tests/ as a program."""
    runners = [REPO / "Makefile", REPO / "Dockerfile", *(REPO / ".github").rglob("*.yml")]
    offending = [
        f"{path.relative_to(REPO)}: {line.strip()}"
        for path in runners
        for line in path.read_text().splitlines()
        if "-m tests." in line or "python tests/" in line
    ]
    assert not offending, "\n".join(offending)


def test_the_tests_import_check_catches_every_form(tmp_path):
    """The check below fails on a planted import of tests/, whatever form it takes."""
    planted = tmp_path / "planted.py"
    planted.write_text("def f():\n    from tests.project_copy import REPO\nimport tests\n")
    assert sorted(module for _, module in imports(planted)) == ["tests", "tests.project_copy"]


def test_nothing_outside_tests_imports_tests():
    """Product code, stage scripts, services and benchmarks never depend on the test tree."""
    tracked = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "*.py"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    outside = [REPO / name for name in tracked if not name.startswith("tests/")]
    assert any(path.is_relative_to(REPO / "benchmarks") for path in outside)
    offending = [
        f"{path.relative_to(REPO)}:{line}: imports {module}"
        for path in outside
        if path.is_file()
        for line, module in imports(path)
        if module.split(".")[0] == "tests"
    ]
    assert not offending, "\n".join(offending)


SPARK_ENGINE = PACKAGE / "pipeline" / "engines" / "spark"
SPARK_MODULES = {"pyspark", "py4j"}


def spark_imports(path: Path) -> list[str]:
    """Imports of pyspark (or xgboost.spark, which loads it) outside the Spark engine."""
    if path.is_relative_to(SPARK_ENGINE):
        return []
    return [
        f"{path.relative_to(REPO)}:{line}: imports {module}"
        for line, module in imports(path)
        if module.split(".")[0] in SPARK_MODULES or module.startswith("xgboost.spark")
    ]


def test_pyspark_is_imported_only_by_the_spark_engine():
    """The local engine, the stages and serving never load pyspark (350 MB, a JVM)."""
    files = [*sources(), *(REPO / "pipelines").rglob("*.py"), *(REPO / "benchmarks").rglob("*.py")]
    problems = [problem for path in files for problem in spark_imports(path)]
    assert not problems, "pyspark outside src/modelops/pipeline/engines/spark:\n" + "\n".join(
        problems
    )


@pytest.mark.parametrize(
    "source",
    [
        "import pyspark.sql",
        "def f():\n    from pyspark.sql import functions",
        "import xgboost.spark",
    ],
)
def test_the_spark_check_catches(tmp_path, monkeypatch, source):
    fake_package = tmp_path / "src" / "modelops"
    module = fake_package / "pipeline" / "planted.py"
    module.parent.mkdir(parents=True)
    module.write_text(source + "\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "SPARK_ENGINE", fake_package / "x")
    assert spark_imports(module)
