"""The time-aware tuning option chooses by validation months only."""

from __future__ import annotations

import json

from churnkit.model.train import TUNING_GRID, train
from churnkit.validate import load_dataset


def test_tune_records_trials_and_picks_the_lowest_validation_loss(sim_dir, tmp_path):
    result = train(load_dataset(sim_dir), out=tmp_path / "m", track=False, n_boot=10, tune_grid=True)
    manifest = json.loads((result.bundle / "manifest.json").read_text())
    trials = manifest["tuning"]
    assert len(trials) == len(TUNING_GRID)
    best = min(trials, key=lambda t: t["valid_logloss"])
    assert manifest["settings"]["num_leaves"] == best["num_leaves"]
    assert manifest["settings"]["max_depth"] == best["max_depth"]
    # the test months stay unseen: they come after the validation months
    assert min(manifest["months"]["test"]) > max(manifest["months"]["valid"])
