"""The model bundle: a round trip scores identically, a changed or swapped model file is refused
before LightGBM (or pickle) reads it, features are matched by name, and a failed save keeps the
previous bundle."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # LightGBM's OpenMP threads spin otherwise on a busy machine

import hashlib
import json
import pickle
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from churnkit.errors import ModelError, StorageError
from churnkit.model import lgbm
from churnkit.model.bundle import MANIFEST, MODEL_FILE, load_bundle, save_bundle

FEATURES = ["spend_change_3m", "complaints_3m", "value_tier"]
LEVELS_SEEN = ["A", "B", "C"]


def synthetic(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "group_id": [f"g{seed}-{i}" for i in range(n)],
        "spend_change_3m": rng.normal(0, 0.3, n),
        "complaints_3m": rng.poisson(0.5, n).astype(float),
        "value_tier": rng.choice(LEVELS_SEEN, n),
    })
    z = -2 - 3 * frame["spend_change_3m"] + 0.8 * frame["complaints_3m"] + (frame["value_tier"] == "C") * 1.0
    frame["label"] = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return frame


@pytest.fixture(scope="module")
def model():
    """A small LightGBM on a synthetic table, with its manifest as `train` would write it."""
    train, valid = synthetic(1500, 1), synthetic(500, 2)
    levels = lgbm.category_levels(train, ["value_tier"])
    settings = lgbm.ModelSettings(n_estimators=60, min_child_samples=20, threads=1)
    booster = lgbm.fit(lgbm.matrix(train, FEATURES, levels), train["label"],
                       lgbm.matrix(valid, FEATURES, levels), valid["label"], settings)
    manifest = {
        "features": [{"name": "spend_change_3m", "family": "spend_decline"},
                     {"name": "complaints_3m", "family": "complaints"},
                     {"name": "value_tier", "family": "profile"}],
        "categorical": levels,
        "calibration": {"method": "platt", "a": 1.0, "b": 0.0},
        "horizon": 3,
    }
    return booster, manifest, synthetic(300, 3)


@pytest.fixture
def bundle_dir(model, tmp_path) -> Path:
    booster, manifest, _ = model
    return save_bundle(booster, manifest, tmp_path / "models" / "latest")


def scores(bundle, frame: pd.DataFrame) -> np.ndarray:
    return lgbm.raw_score(bundle.booster, lgbm.matrix(frame, bundle.features, bundle.levels))


def leftovers(folder: Path) -> list[str]:
    """Temporary or set-aside folders save_bundle may leave next to the bundle."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --------------------------------------------------------------------------- round trip
def test_round_trip_gives_identical_scores(model, bundle_dir):
    booster, manifest, frame = model
    bundle = load_bundle(bundle_dir)
    assert sorted(p.name for p in bundle_dir.iterdir()) == [MANIFEST, MODEL_FILE]
    assert bundle.features == FEATURES
    assert bundle.families == {"spend_change_3m": "spend_decline", "complaints_3m": "complaints", "value_tier": "profile"}
    assert bundle.levels == {"value_tier": LEVELS_SEEN}
    assert bundle.horizon == 3
    expected = lgbm.raw_score(booster, lgbm.matrix(frame, FEATURES, manifest["categorical"]))
    np.testing.assert_array_equal(scores(bundle, frame), expected)
    # the calibration travels as plain numbers: platt(a=1, b=0) is the logistic function
    np.testing.assert_allclose(bundle.calibrator(expected), 1 / (1 + np.exp(-expected)))


def test_manifest_is_json_with_the_model_files_sha256(bundle_dir):
    manifest = json.loads((bundle_dir / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format"] == "churnkit-bundle/1"
    assert manifest["model_file"] == MODEL_FILE
    # what a user can check with `sha256sum model.txt`
    assert manifest["model_sha256"] == hashlib.sha256((bundle_dir / MODEL_FILE).read_bytes()).hexdigest()
    assert (bundle_dir / MODEL_FILE).read_text(encoding="utf-8").startswith("tree")  # LightGBM's text format


def test_saving_again_replaces_the_bundle_and_leaves_no_temporary_folder(model, bundle_dir):
    booster, manifest, _ = model
    save_bundle(booster, {**manifest, "horizon": 2}, bundle_dir)
    assert load_bundle(bundle_dir).horizon == 2
    assert leftovers(bundle_dir.parent) == []


# --------------------------------------------------------------------------- refused files
def test_one_changed_byte_in_the_model_is_refused(bundle_dir):
    path = bundle_dir / MODEL_FILE
    data = bytearray(path.read_bytes())
    # change one digit of a leaf value: still a valid LightGBM model, but not the one trained
    at = data.index(b"leaf_value=") + len(b"leaf_value=")
    while not chr(data[at]).isdigit():
        at += 1
    data[at] = ord("7") if data[at] != ord("7") else ord("3")
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256") as info:
        load_bundle(bundle_dir)
    assert str(path) in str(info.value)


class Payload:
    """Records it was unpickled; a real attacker's payload would run code instead."""

    def __reduce__(self):
        return (_unpickled, ())


UNPICKLED: list[bool] = []


def _unpickled():
    UNPICKLED.append(True)
    return "pwned"


def test_a_pickle_in_place_of_the_model_is_refused_before_it_is_read(bundle_dir, monkeypatch):
    (bundle_dir / MODEL_FILE).write_bytes(pickle.dumps(Payload()))

    def never(*args, **kwargs):
        raise AssertionError("the model file was handed to a deserialiser before its hash was checked")

    monkeypatch.setattr(lgb, "Booster", never)
    monkeypatch.setattr(pickle, "loads", never)
    monkeypatch.setattr(pickle, "load", never)
    with pytest.raises(ModelError, match="SHA-256"):
        load_bundle(bundle_dir)
    assert UNPICKLED == []


def test_missing_manifest_tells_to_train(tmp_path, bundle_dir):
    (bundle_dir / MANIFEST).unlink()
    with pytest.raises(ModelError, match="churnkit train") as info:
        load_bundle(bundle_dir)
    assert MANIFEST in str(info.value)
    with pytest.raises(ModelError, match="churnkit train"):
        load_bundle(tmp_path / "never-trained")


def test_missing_model_file_is_refused(bundle_dir):
    (bundle_dir / MODEL_FILE).unlink()
    with pytest.raises(ModelError, match=MODEL_FILE):
        load_bundle(bundle_dir)


def test_manifest_that_is_not_json_is_refused(bundle_dir):
    (bundle_dir / MANIFEST).write_bytes(pickle.dumps({"format": "churnkit-bundle/1"}))
    with pytest.raises(ModelError, match="manifest"):
        load_bundle(bundle_dir)


# --------------------------------------------------------------------------- features by name
def test_reordered_columns_give_identical_scores(model, bundle_dir):
    _, _, frame = model
    bundle = load_bundle(bundle_dir)
    reordered = frame[list(reversed(frame.columns))]
    assert list(reordered.columns) != list(frame.columns)
    np.testing.assert_array_equal(scores(bundle, reordered), scores(bundle, frame))


def test_missing_feature_column_is_a_model_error_listing_it(model, bundle_dir):
    _, _, frame = model
    bundle = load_bundle(bundle_dir)
    with pytest.raises(ModelError, match="complaints_3m") as info:
        lgbm.matrix(frame.drop(columns=["complaints_3m", "value_tier"]), bundle.features, bundle.levels)
    assert "value_tier" in str(info.value)
    assert "spend_change_3m" not in str(info.value)


def test_extra_columns_are_ignored(model, bundle_dir):
    # documented behaviour: matrix keeps exactly the model's features, in the model's order,
    # so a feature table may carry ids, labels or newer signals the model does not use
    _, _, frame = model
    bundle = load_bundle(bundle_dir)
    wider = frame.assign(new_signal=np.arange(len(frame)), note="x")
    X = lgbm.matrix(wider, bundle.features, bundle.levels)
    assert list(X.columns) == FEATURES
    assert X.index.equals(frame.index)
    np.testing.assert_array_equal(scores(bundle, wider), scores(bundle, frame))


def test_unseen_category_level_scores_as_missing(model, bundle_dir):
    _, _, frame = model
    bundle = load_bundle(bundle_dir)
    X = lgbm.matrix(frame.assign(value_tier="Z"), bundle.features, bundle.levels)
    assert X["value_tier"].isna().all()
    assert list(X["value_tier"].cat.categories) == LEVELS_SEEN
    np.testing.assert_array_equal(scores(bundle, frame.assign(value_tier="Z")),
                                  scores(bundle, frame.assign(value_tier=None)))


# --------------------------------------------------------------------------- interrupted save
@pytest.mark.parametrize("failure", ["write", "set_aside", "swap_in", "interrupt_swap_in"])
def test_interrupted_save_keeps_the_previous_bundle(model, bundle_dir, monkeypatch, failure):
    booster, manifest, frame = model
    before = scores(load_bundle(bundle_dir), frame)
    real_replace, real_write = os.replace, Path.write_text

    def replace(src, dst):
        src, dst = Path(src), Path(dst)
        moving_old_aside = src == bundle_dir
        swapping_new_in = dst == bundle_dir and src.name.endswith(".tmp")  # not the restore of the old one
        if failure == "set_aside" and moving_old_aside:
            raise OSError(28, "No space left on device")
        if failure == "swap_in" and swapping_new_in:
            raise OSError(28, "No space left on device")
        if failure == "interrupt_swap_in" and swapping_new_in:
            raise KeyboardInterrupt
        return real_replace(src, dst)

    def write_text(self, *args, **kwargs):
        if failure == "write" and self.name == MANIFEST:
            raise OSError(28, "No space left on device")
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(Path, "write_text", write_text)
    expected = KeyboardInterrupt if failure == "interrupt_swap_in" else StorageError
    with pytest.raises(expected) as info:
        save_bundle(booster, {**manifest, "horizon": 1}, bundle_dir)
    if expected is StorageError:
        assert "previous bundle is unchanged" in str(info.value)
    monkeypatch.undo()

    kept = load_bundle(bundle_dir)
    assert kept.horizon == 3  # the old manifest, not the half-written one
    np.testing.assert_array_equal(scores(kept, frame), before)
    assert leftovers(bundle_dir.parent) == []
