"""The model bundle: ``model.txt`` (LightGBM's own text format) and ``manifest.json``.

Nothing here unpickles: the manifest is JSON and the model is text that LightGBM parses. Loading
checks the SHA-256 of the model file against the manifest before LightGBM reads a byte of it,
so a tampered file or a pickle dropped in its place is refused. A bundle is written to a
temporary folder and swapped into place, so an interrupted training run leaves the previous
bundle usable.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb

from churnkit import __version__
from churnkit.errors import ModelError, StorageError
from churnkit.model.calibration import Calibrator

FORMAT = "churnkit-bundle/1"
MODEL_FILE = "model.txt"
MANIFEST = "manifest.json"


@dataclass
class Bundle:
    booster: lgb.Booster
    manifest: dict
    path: Path | None = None

    @property
    def features(self) -> list[str]:
        return [f["name"] for f in self.manifest["features"]]

    @property
    def families(self) -> dict[str, str]:
        return {f["name"]: f["family"] for f in self.manifest["features"]}

    @property
    def levels(self) -> dict[str, list[str]]:
        return self.manifest["categorical"]

    @property
    def calibrator(self) -> Calibrator:
        return Calibrator.from_dict(self.manifest["calibration"])

    @property
    def horizon(self) -> int:
        return int(self.manifest["horizon"])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _aside(path: Path) -> Path:
    """Where the previous bundle waits while a new one is swapped in."""
    return path.with_name(f".{path.name}.old")


def _recover(path: Path) -> Path:
    """A run stopped between the two renames of the swap leaves the previous bundle aside only:
    put it back (or read it where it is) so that it stays usable."""
    old = _aside(path)
    if not path.exists() and (old / MANIFEST).is_file():
        try:
            os.replace(old, path)
        except OSError:
            return old
    return path


def save_bundle(booster: lgb.Booster, manifest: dict, out: Path, extra: dict[str, bytes] | None = None) -> Path:
    """Write the bundle to ``out`` atomically (temporary folder, then swap). ``extra`` files (such as
    the uplift model's trees) go beside model.txt, their SHA-256 in the manifest's ``files``."""
    out = Path(out)
    _recover(out)
    text = booster.model_to_string(num_iteration=booster.best_iteration or None).encode("utf-8")
    extra = dict(extra or {})
    manifest = {"format": FORMAT, "churnkit_version": __version__, **manifest,
                "model_file": MODEL_FILE, "model_sha256": sha256(text),
                **({"files": {name: sha256(data) for name, data in extra.items()}} if extra else {})}
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise StorageError(f"{out}: cannot write the model bundle ({exc.strerror or exc})") from None
    old = None

    def restore() -> None:  # put the previous bundle back if it was moved aside but not replaced; never raises
        if old is not None and old.exists() and not out.exists():
            try:
                os.replace(old, out)
            except OSError:
                pass  # load_bundle finds it aside (see _recover)

    try:
        (tmp / MODEL_FILE).write_bytes(text)
        for name, data in extra.items():
            (tmp / name).write_bytes(data)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        restore()
        raise StorageError(f"{out}: cannot write the model bundle ({exc.strerror or exc}); the previous bundle is unchanged") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        restore()
        raise
    return out


def read_extra(bundle: Bundle, name: str) -> bytes:
    """An extra file of the bundle, checked against the SHA-256 in its manifest."""
    expected = bundle.manifest.get("files", {}).get(name)
    target = Path(bundle.path or ".") / name
    if expected is None or not target.is_file():
        raise ModelError(f"{bundle.path}: {name} is missing; retrain to rebuild the bundle")
    data = target.read_bytes()
    if sha256(data) != expected:
        raise ModelError(f"{target}: SHA-256 does not match the manifest; the file was changed or replaced, "
                         "refusing to load it (retrain, or restore the original bundle)")
    return data


def load_bundle(path: Path) -> Bundle:
    """Load and verify a bundle; any mismatch is a ModelError naming the problem."""
    path = _recover(Path(path))
    manifest_path, model_path = path / MANIFEST, path / MODEL_FILE
    if not manifest_path.is_file():
        raise ModelError(f"{path}: no model bundle here ({MANIFEST} missing); run `churnkit train --out {path}` first")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{manifest_path}: not a readable manifest ({exc}); retrain to rebuild the bundle") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelError(f"{manifest_path}: not a churnkit bundle manifest (format {manifest.get('format') if isinstance(manifest, dict) else None!r}, expected {FORMAT!r})")
    for key in ("features", "categorical", "calibration", "horizon", "model_sha256"):
        if key not in manifest:
            raise ModelError(f"{manifest_path}: manifest lacks {key!r}; retrain to rebuild the bundle")
    if not model_path.is_file():
        raise ModelError(f"{path}: {MODEL_FILE} is missing; retrain to rebuild the bundle")
    data = model_path.read_bytes()
    if sha256(data) != manifest["model_sha256"]:
        raise ModelError(f"{model_path}: SHA-256 does not match the manifest; the model file was changed or replaced, "
                         "refusing to load it (retrain, or restore the original bundle)")
    try:
        booster = lgb.Booster(model_str=data.decode("utf-8"))
    except (UnicodeDecodeError, lgb.basic.LightGBMError) as exc:
        raise ModelError(f"{model_path}: not a LightGBM text model ({str(exc).splitlines()[0]})") from None
    names = booster.feature_name()
    listed = [f["name"] for f in manifest["features"]]
    if names != listed:
        unknown, unlisted = [n for n in listed if n not in names], [n for n in names if n not in listed]
        detail = "; ".join([*([f"the manifest lists {', '.join(unknown)}, which the model lacks"] if unknown else []),
                            *([f"the model uses {', '.join(unlisted)}, which the manifest lacks"] if unlisted else [])]) \
            or "the features are in another order"
        raise ModelError(f"{path}: the bundle is inconsistent ({detail}); retrain, or restore the original bundle")
    return Bundle(booster, manifest, path)
