"""Where the pinned infra tools live (installed by `make infra-tools` into .tools/)."""

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools"


def tool(name: str, env: str | None = None) -> str:
    """The path of tool `name` from its own env in .tools/ (or PATH), else skip naming it."""
    candidate = TOOLS / (env or name) / "bin" / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    pytest.skip(f"{name} is not installed: run `make infra-tools`")
