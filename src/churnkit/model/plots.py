"""Figures of an evaluation: lift by decile, calibration curve, SHAP summary (matplotlib)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from churnkit.model.metrics import calibration_curve  # noqa: E402


def lift_figure(lift: pd.DataFrame):
    fig, ax = plt.subplots(figsize=(6, 4))
    x = lift["decile"].to_numpy()
    ax.bar(x - 0.2, lift["model"], width=0.4, label="LightGBM")
    ax.bar(x + 0.2, lift["baseline"], width=0.4, label="rule baseline")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set(xlabel="risk decile (1 = top 10%)", ylabel="lift", title="Lift by decile, test months", xticks=x)
    ax.legend()
    fig.tight_layout()
    return fig


def calibration_figure(y, prob, bins: int = 10):
    curve = calibration_curve(y, prob, bins=bins)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    top = max(0.05, float(curve["mean_predicted"].max()), float(curve["observed_rate"].max())) * 1.05
    ax.plot([0, top], [0, top], color="grey", lw=0.8, ls="--")
    ax.plot(curve["mean_predicted"], curve["observed_rate"], marker="o")
    ax.set(xlabel="predicted probability", ylabel="observed churn rate", title="Calibration, test months",
           xlim=(0, top), ylim=(0, top))
    fig.tight_layout()
    return fig


def decile_calibration_figure(deciles: pd.DataFrame):
    """Predicted against realised churn by risk decile, the realised rate with its 95% binomial
    interval (see calibration.decile_calibration)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    x = deciles["decile"].to_numpy()
    realised = deciles["realised"].to_numpy()
    ax.errorbar(x, realised, yerr=[realised - deciles["lo"].to_numpy(), deciles["hi"].to_numpy() - realised],
                fmt="o", capsize=3, label="realised (95% interval)")
    ax.plot(x, deciles["predicted"], marker="x", ls="--", label="predicted")
    ax.set(xlabel="risk decile (1 = top 10%)", ylabel="churn rate", title="Calibration by decile, test months", xticks=x)
    ax.legend()
    fig.tight_layout()
    return fig


def shap_summary_figure(contrib: np.ndarray, X: pd.DataFrame, max_display: int = 15):
    """SHAP beeswarm of per-feature contributions (log-odds)."""
    import shap

    data = X.apply(lambda c: c.cat.codes.astype(float).where(c.cat.codes >= 0) if isinstance(c.dtype, pd.CategoricalDtype) else c)
    explanation = shap.Explanation(values=contrib[:, :-1], base_values=contrib[:, -1], data=data.to_numpy(dtype=float),
                                   feature_names=list(X.columns))
    plt.figure(figsize=(7, 6))
    shap.plots.beeswarm(explanation, max_display=max_display, show=False)
    fig = plt.gcf()
    fig.tight_layout()
    return fig


def qini_figure(points: list[dict], wave: str):
    """The uplift model's Qini curve on a later wave (churns prevented per listed group) and the random line."""
    fig, ax = plt.subplots(figsize=(5, 4))
    share = [p["share"] for p in points]
    ax.plot(share, [100 * p["per_group"] for p in points], marker="o", label="uplift model")
    ax.plot(share, [100 * p["random"] for p in points], ls="--", color="grey", label="random order")
    ax.set(xlabel="share of the wave's list contacted, by predicted uplift", ylabel="churns prevented per 100 listed groups",
           title=f"Qini curve, wave {wave}")
    ax.legend()
    fig.tight_layout()
    return fig
