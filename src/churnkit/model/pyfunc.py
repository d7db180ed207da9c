"""The champion as one MLflow model: a ``pyfunc`` that is the whole scorer.

:class:`ChurnkitModel` carries the model bundle as an artifact folder (``artifacts/bundle``:
LightGBM's ``model.txt`` and ``manifest.json``, loaded with the bundle's SHA-256 check). Its
input is the signal table, with the types its signature states: text for ``industry``,
``region`` and ``value_tier``, a long for each count signal, a double (NaN where unknown) for
each other signal; other columns (``group_id``, ``month``) are ignored. Its output is one row per
input row: ``churn_probability`` (calibrated), ``base_probability`` and ``impact_<family>`` for
every reason family, computed by :func:`churnkit.score.predict` (the numbers ``churnkit score``
writes, before rounding).

MLflow stores the model as code (a three-line file that imports this class), not as a pickle.
The same artifact folder is what ``churnkit score --model models:/churnkit@champion`` downloads
and loads as a bundle (see :func:`bundle_folder`), so the registry and the folder score alike.
Like tracking.py, this module imports mlflow; nothing else in the package imports it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import Model, ModelSignature
from mlflow.types import ColSpec, Schema

from churnkit import __version__
from churnkit.errors import ModelError
from churnkit.families import FAMILIES
from churnkit.model import lgbm
from churnkit.model.bundle import MANIFEST, MODEL_FILE, Bundle, load_bundle
from churnkit.signals.registry import SIGNALS

ARTIFACT = "bundle"  # name of the bundle folder among the pyfunc's artifacts
OUTPUTS = ("churn_probability", "base_probability", *[f"impact_{f}" for f in FAMILIES])


def input_types(bundle: Bundle) -> dict[str, str]:
    """MLflow type of each input column, in the model's feature order: ``string`` for a
    categorical, ``long`` for a count signal (never null), ``double`` for the others."""
    return {name: "string" if name in bundle.levels else
            "long" if name in SIGNALS and SIGNALS[name].kind == "int" else "double"
            for name in bundle.features if name != lgbm.UNTREATED}  # the treatment flag is 0 at scoring


def signature(bundle: Bundle) -> ModelSignature:
    """The pyfunc's signature: the signal table in, probabilities and family impacts out."""
    return ModelSignature(inputs=Schema([ColSpec(t, name) for name, t in input_types(bundle).items()]),
                          outputs=Schema([ColSpec("double", name) for name in OUTPUTS]))


def model_input(bundle: Bundle, signals: pd.DataFrame) -> pd.DataFrame:
    """The model's columns of a signal table, in the signature's types (text as Python strings or
    None, counts as int64, the rest float64). A count with a missing value is a ModelError."""
    out = pd.DataFrame(index=signals.index)
    for name, kind in input_types(bundle).items():
        if name not in signals.columns:
            raise ModelError(f"the signal table lacks {name!r}, which the model needs")
        col = signals[name]
        if kind == "string":
            out[name] = col.astype(object).where(col.notna(), None)
        elif kind == "long":
            if col.isna().any():
                raise ModelError(f"signal {name!r} is a count and must not be missing ({int(col.isna().sum())} rows are)")
            out[name] = col.astype("int64")
        else:
            out[name] = pd.to_numeric(col, errors="coerce").astype("float64")
    return out


def model_output(bundle: Bundle, signals: pd.DataFrame) -> pd.DataFrame:
    """Calibrated probability, base probability and family impacts for each row of ``signals``:
    :func:`churnkit.score.predict`, the function ``churnkit score`` explains with."""
    from churnkit.score import predict

    prob, impacts, base = predict(bundle, signals)
    out = pd.DataFrame({"churn_probability": np.asarray(prob, dtype="float64"),
                        "base_probability": np.full(len(prob), base, dtype="float64")}, index=signals.index)
    for family in FAMILIES:
        out[f"impact_{family}"] = impacts[family].to_numpy(dtype="float64")
    return out


class ChurnkitModel(mlflow.pyfunc.PythonModel):
    """The whole scorer as an MLflow pyfunc; holds no state until MLflow loads its artifacts."""

    def load_context(self, context) -> None:
        self.bundle_ = load_bundle(Path(context.artifacts[ARTIFACT]))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        if not hasattr(self, "bundle_"):
            raise ModelError("ChurnkitModel has no bundle; load it with mlflow.pyfunc.load_model")
        return model_output(self.bundle_, model_input)


#: the model's code as MLflow stores it ("models from code"): loading runs these lines, no unpickling
MODEL_CODE = '''"""churnkit's scorer as an MLflow pyfunc: see churnkit.model.pyfunc."""
import mlflow

from churnkit.model.pyfunc import ChurnkitModel

mlflow.models.set_model(ChurnkitModel())
'''


def requirements() -> list[str]:
    """Pinned packages of the serving environment (churnkit itself included)."""
    from importlib.metadata import PackageNotFoundError, version

    pins = []
    for dist in ("churnkit-sme", "mlflow", "lightgbm", "pandas", "numpy", "scikit-learn", "pyarrow"):
        try:
            pins.append(f"{dist}=={version(dist)}")
        except PackageNotFoundError:
            pins.append(dist)
    return pins


def log_model(bundle_dir: Path, registered_model_name: str | None = None, input_example: pd.DataFrame | None = None,
              name: str = "model"):
    """Log the bundle in ``bundle_dir`` as a :class:`ChurnkitModel` in the active run (registered
    under ``registered_model_name`` when given); return MLflow's ModelInfo. ``input_example``, a
    few rows of the signal table, is stored with the model (MLflow checks that it predicts)."""
    bundle = load_bundle(bundle_dir)
    with tempfile.TemporaryDirectory(prefix="churnkit-pyfunc-") as tmp:
        folder = Path(tmp) / ARTIFACT  # the artifact keeps this folder name: artifacts/bundle
        folder.mkdir()
        for file in (MODEL_FILE, MANIFEST):
            shutil.copyfile(Path(bundle_dir) / file, folder / file)
        code = Path(tmp) / "churnkit_model.py"  # a model from code: MLflow stores no pickle
        code.write_text(MODEL_CODE, encoding="utf-8")
        return mlflow.pyfunc.log_model(name=name, python_model=str(code), artifacts={ARTIFACT: str(folder)},
                                       signature=signature(bundle), pip_requirements=requirements(),
                                       registered_model_name=registered_model_name,
                                       input_example=None if input_example is None else model_input(bundle, input_example),
                                       metadata={"churnkit_version": __version__, "model_sha256": bundle.manifest["model_sha256"]})


def bundle_folder(model_dir: Path) -> Path:
    """The bundle folder inside a downloaded churnkit pyfunc model; a ModelError when the model is
    not one (such as the plain LightGBM flavor that earlier churnkit versions registered)."""
    model_dir = Path(model_dir)
    try:
        flavor = Model.load(str(model_dir)).flavors.get("python_function", {})
    except Exception:  # no MLmodel file, or not a model
        flavor = {}
    path = flavor.get("artifacts", {}).get(ARTIFACT, {}).get("path")
    if path is None or not (model_dir / path / MANIFEST).is_file():
        raise ModelError(f"{model_dir}: not a churnkit pyfunc model (no {ARTIFACT} artifact); "
                         "retrain with `churnkit train` to register one")
    return model_dir / path
