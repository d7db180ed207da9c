"""notebooks/retrain.ipynb runs top to bottom, and stays in sync with its jupytext twin retrain.py."""

from __future__ import annotations

import json
from pathlib import Path

import jupytext
import nbformat
import pytest
from conftest import fresh_store
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "retrain.ipynb"
SCRIPT = ROOT / "notebooks" / "retrain.py"
SAMPLE = ROOT / "data" / "sample"









def test_notebook_and_script_are_in_sync():
    ipynb, script = jupytext.read(NOTEBOOK), jupytext.read(SCRIPT)
    cells = lambda nb: [(c.cell_type, c.source) for c in nb.cells]  # noqa: E731
    assert cells(ipynb) == cells(script), "regenerate with: jupytext --to ipynb notebooks/retrain.py"


def test_notebook_is_committed_without_outputs():
    raw = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    for cell in raw["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_notebook_runs_top_to_bottom(model_sim_dir, tmp_path, tmp_path_factory, monkeypatch):
    # the committed sample when there is one, else the simulated operator of this session
    data = SAMPLE if (SAMPLE / "groups.parquet").exists() or (SAMPLE / "groups.csv").exists() else model_sim_dir
    work = tmp_path / "work"
    work.mkdir()
    store = fresh_store(tmp_path_factory, tmp_path / "mlflow.db")
    monkeypatch.setenv("CHURNKIT_DATA", str(data))
    monkeypatch.setenv("CHURNKIT_BUNDLE", str(tmp_path / "bundle"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}})
    client.execute()  # raises CellExecutionError naming the failing cell

    assert (tmp_path / "bundle" / "manifest.json").exists()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3, "lift, calibration and SHAP figures"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "beats the rule baseline:" in text
    if "beats the rule baseline: True" in text:
        assert "is the champion" in text
    tables = [o for o in outputs if "text/html" in o.get("data", {})]
    assert any("rule baseline" in o["data"]["text/html"] for o in tables)
