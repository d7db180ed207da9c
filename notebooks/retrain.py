# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Retrain the churn model
#
# This notebook runs what `churnkit train` runs, one step at a time, so that each step can be
# looked at: load and validate the data, build the training panel, split it by month, train
# LightGBM with calibration, and read the evaluation beside the operators' rule baseline.
# Every step is a call into the `churnkit` package; the notebook holds no model logic, so what
# it trains is exactly what the command line trains.
#
# Settings (environment variables, all optional):
#
# * `CHURNKIT_DATA`: the data directory (default: the committed sample `data/sample`,
#   2,000 simulated groups x 24 months);
# * `CHURNKIT_BUNDLE`: where the model bundle is written (default `models/notebook`, so the
#   bundle that `churnkit score` uses, `models/latest`, is left alone);
# * `MLFLOW_TRACKING_URI`: the MLflow store (default `sqlite:///mlflow.db` in the working
#   directory).

# %%
import os
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm's notice about Jupyter widgets

import pandas as pd
from mlflow import MlflowClient

from churnkit.features import month_indexes, training_panel, usable_months
from churnkit.model import lgbm, plots
from churnkit.model.bundle import load_bundle
from churnkit.model.split import out_of_time_split
from churnkit.model.tracking import MODEL_NAME
from churnkit.model.train import train
from churnkit.months import parse_month
from churnkit.survey import summarise
from churnkit.validate import load_dataset

# %matplotlib inline

# the repository root, whether Jupyter runs the notebook from notebooks/ (its default) or from the root
ROOT = Path("..") if Path("../pyproject.toml").exists() else Path(".")
DATA = Path(os.environ.get("CHURNKIT_DATA", ROOT / "data" / "sample"))
BUNDLE = Path(os.environ.get("CHURNKIT_BUNDLE", ROOT / "models" / "notebook"))
TRACKING_URI = os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")
HORIZON = 3  # a snapshot at month M is labelled 1 when the group churns in (M, M + 3]
print(f"data {DATA.resolve()}\nbundle {BUNDLE.resolve()}\nMLflow {TRACKING_URI}")

# %% [markdown]
# ## 1. Load and validate the data
#
# `load_dataset` opens every table in the engine (DuckDB scans the files where they lie) and
# checks it against the data contract there; a broken export stops here with one message listing
# every problem. Only group-level tables come back to Python. Training also needs the churn table
# (`group_id`, `churn_month`).

# %%
dataset = load_dataset(DATA, survey=True)
for warning in dataset.warnings:
    print("warning:", warning)
summarise(dataset)

# %% [markdown]
# ## 2. The training panel
#
# One row per group and snapshot month M: the warning signals computed from the data up to M,
# the group's profile (industry, region, value tier) and the label. Only months whose whole
# label window lies inside the data are snapshots, so the last `HORIZON` months are not.

# %%
panel = training_panel(dataset, horizon=HORIZON)
print(f"{len(panel):,} snapshots of {panel['group_id'].nunique():,} groups, {panel.shape[1]} columns")
panel.groupby("month")["label"].agg(snapshots="size", churners="sum", churn_rate="mean").round(4)

# %% [markdown]
# ## 3. Out-of-time split
#
# The split is by snapshot month, never by row: the last two months are the test months (seen
# neither by LightGBM nor by the calibration), the two months before them, `HORIZON` months
# earlier, are the validation months (early stopping and calibration), and everything up to
# `HORIZON` months before those trains. The gaps keep training labels from being observed after
# a validation snapshot, and validation labels after a test snapshot.

# %%
split = out_of_time_split(usable_months(month_indexes(dataset), HORIZON), HORIZON)
snapshot_month = panel["month"].map(parse_month)
pd.DataFrame([
    {"part": part, "months": span, "snapshots": int(rows.sum()), "churners": int(panel.loc[rows, "label"].sum())}
    for part, span, rows in (
        (name, split.describe()[f"{name}_months"], snapshot_month.isin(getattr(split, name)))
        for name in ("train", "valid", "test")
    )
]).set_index("part")

# %% [markdown]
# ## 4. Train
#
# `train` builds the same panel and split, fits LightGBM with early stopping on the validation
# months, fits the Platt calibration on the same months, evaluates on the test months beside the
# rule baseline, writes the bundle (`model.txt` and `manifest.json`, with the model's SHA-256)
# and logs the run to MLflow: parameters, metrics, the figures below and the model.

# %%
result = train(dataset, horizon=HORIZON, out=BUNDLE, track=True, tracking_uri=TRACKING_URI, progress=print)
print(f"bundle {result.bundle}, {result.rows:,} snapshots, MLflow run {result.run_id}")

# %% [markdown]
# ## 5. Model and rule baseline on the test months
#
# Both score the same unseen rows. The rule baseline counts the operators' manual warnings, so
# it ranks but gives no probabilities: it has no Brier score or calibration error. The
# intervals are 95% bootstrap intervals over the test rows.

# %%
model, baseline = result.evaluation["model"], result.evaluation["baseline"]
pd.DataFrame([
    {"metric": key, "LightGBM": model[key], "95% interval": f"{model[key + '_lo']:.3f} to {model[key + '_hi']:.3f}",
     "rule baseline": baseline.get(key, float("nan"))}
    for key in ("roc_auc", "pr_auc", "top_decile_lift", "gini", "emp", "brier", "ece")
]).set_index("metric").round(3)

# %% [markdown]
# ## 6. Lift by decile
#
# Groups are ranked by risk and cut into tenths; lift is a decile's churn rate over the overall
# rate. Retention teams call the top deciles first, so the first bars matter most.

# %%
plots.lift_figure(result.evaluation["lift"]);

# %% [markdown]
# ## 7. Calibration
#
# Probabilities are used as probabilities (expected loss = probability x value), so on the test
# months the predicted probability should match the observed churn rate: points near the
# diagonal. We score the test months with the bundle just written, as `churnkit score` would.
# The bins are equal-width: the few groups above 20% fill the upper bins thinly, so those points
# scatter; the calibration error (ECE above) weights each bin by its number of groups.

# %%
bundle = load_bundle(result.bundle)
test = panel[panel["month"].isin(bundle.manifest["months"]["test"])]
X_test = lgbm.matrix(test, bundle.features, bundle.levels)
probability = bundle.calibrator(lgbm.raw_score(bundle.booster, X_test))
plots.calibration_figure(test["label"].to_numpy(), probability);

# %% [markdown]
# ## 8. What drives the risk: SHAP
#
# Exact TreeSHAP contributions (log-odds) of each feature for every test snapshot: each dot is a
# group, its colour the feature's value (red high, blue low). Churn reasons in the scored file
# are these contributions summed per reason family.

# %%
plots.shap_summary_figure(lgbm.contributions(bundle.booster, X_test), X_test);

# %% [markdown]
# ## 9. Champion
#
# A run whose model beats the rule baseline on the test months (higher top-decile lift *and*
# higher PR AUC) is registered in MLflow as the model `churnkit` with the alias `champion`; a
# run that does not is logged but not registered.

# %%
print("beats the rule baseline:", result.champion)
if result.champion:
    champion = MlflowClient(tracking_uri=TRACKING_URI).get_model_version_by_alias(MODEL_NAME, "champion")
    print(f"registered model {MODEL_NAME!r} version {champion.version} is the champion (run {champion.run_id})")
