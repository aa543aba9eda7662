"""notebooks/quickstart.ipynb runs top to bottom against a local server (nbclient)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("smoke")]  # shares the local server

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"


def test_quickstart_scores_a_frame_against_the_local_server(
    local_server, packaged, monkeypatch, tmp_path
):
    monkeypatch.setenv("MODELOPS_URL", local_server["url"])  # the kernel inherits it
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    printed = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "ready: True" in printed
    columns = ["label", "probability", *(f"proba_{c}" for c in packaged["card"]["classes"])]
    assert f"prediction columns: {columns}" in printed
