"""The signal registry: every signal is named, documented, in a family, and catalogue v1 is complete."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from pandas.testing import assert_series_equal

from churnkit.families import FAMILIES
from churnkit.months import parse_month
from churnkit.signals import SIGNALS, Settings, family_of
from churnkit.signals.build import build_signals
from churnkit.signals.registry import signal
from churnkit.validate import load_dataset

CJK = re.compile(r"[\u4e00-\u9fff]")

# Data contract v1, "Signal catalogue v1" and "Reason families": column -> family.
CATALOGUE_V1 = {
    "active_lines": "member_loss",
    "member_change_1m": "member_loss",
    "member_change_3m": "member_loss",
    "spend": "spend_decline",
    "spend_change_3m": "spend_decline",
    "zero_call_share": "idle_lines",
    "zero_call_share_change_3m": "idle_lines",
    "forwarding_share": "call_forwarding",
    "offnet_forwarding_share": "call_forwarding",
    "addon_cancels_3m": "addon_cancellation",
    "addon_cancel_rate_3m": "addon_cancellation",
    "competitor_hotline_calls_3m": "competitor_contact",
    "competitor_hotline_lines_3m": "competitor_contact",
    "complaints_3m": "complaints",
    "sp_complaints_3m": "complaints",
    "below_plan_share": "spend_decline",
    "arrears_total": "arrears",
    "months_to_contract_end": "contract_expiry",
    "tenure_months": "profile",
    "exit_intent_3m": "exit_intent",
}
# Counts, month differences and the 0/1 flag are integers; the rest are floats.
INTEGER_V1 = {"active_lines", "addon_cancels_3m", "competitor_hotline_calls_3m", "competitor_hotline_lines_3m",
              "complaints_3m", "sp_complaints_3m", "months_to_contract_end", "tenure_months", "exit_intent_3m"}


@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_every_signal_is_named_documented_and_typed(name):
    sig = SIGNALS[name]
    assert sig.name == name == sig.func.__name__
    assert CJK.search(sig.zh), f"{name}: Chinese name {sig.zh!r} has no Chinese characters"
    assert sig.doc and sig.doc == (sig.func.__doc__ or "").strip()
    assert sig.doc.startswith(sig.zh)
    assert len(sig.doc) > len(sig.zh) + 5, f"{name}: the docstring says no more than the name"
    assert sig.family in FAMILIES
    assert sig.direction in (-1, 0, 1)
    assert sig.kind in ("int", "float")
    assert isinstance(sig.params, tuple) and set(sig.params) <= set(Settings.names())
    assert isinstance(sig.catalogue, bool)
    assert callable(sig.func)


def test_chinese_names_are_unique():
    names = [s.zh for s in SIGNALS.values()]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_catalogue_v1_is_registered_with_its_family():
    for name, family in CATALOGUE_V1.items():
        assert name in SIGNALS, f"catalogue v1 column {name} is not registered"
        assert SIGNALS[name].catalogue, f"{name} must be marked catalogue=True"
        assert SIGNALS[name].family == family, f"{name}: family {SIGNALS[name].family}, contract says {family}"
        assert family_of(name) == family
    extra = {n for n, s in SIGNALS.items() if s.catalogue} - set(CATALOGUE_V1)
    assert not extra, f"marked catalogue=True but not in the data contract: {sorted(extra)}"


def test_catalogue_v1_kinds():
    for name in CATALOGUE_V1:
        assert SIGNALS[name].kind == ("int" if name in INTEGER_V1 else "float"), name


def test_threshold_signals_declare_their_settings():
    assert "forwarding_calls" in SIGNALS["forwarding_share"].params
    assert "offnet_forwarding_calls" in SIGNALS["offnet_forwarding_share"].params
    assert "hotline_calls" in SIGNALS["competitor_hotline_lines_3m"].params


def test_settings_defaults_are_the_contract_thresholds():
    s = Settings()
    assert (s.forwarding_calls, s.offnet_forwarding_calls, s.hotline_calls) == (10, 1, 1)
    assert set(Settings.names()) == {"forwarding_calls", "offnet_forwarding_calls", "hotline_calls"}


def test_family_of_unregistered_columns_is_profile():
    for column in ("industry", "region", "value_tier", "size"):
        assert family_of(column) == "profile"


def test_registration_rejects_unknown_family_and_settings():
    before = dict(SIGNALS)

    def probe(w, s):
        """探针: a test signal."""

    with pytest.raises(ValueError, match="family"):
        signal("no_such_family", 1)(probe)
    with pytest.raises(ValueError, match="settings"):
        signal("member_loss", 1, params=("no_such_setting",))(probe)
    assert SIGNALS == before


def test_forwarding_calls_setting_changes_forwarding_share(tiny_dir):
    """tiny_tables: group ...001 has m1 and m2 in 2026-02 (m1: 12 forwarded calls, 5 off-net; m2 no
    usage row) and m1 alone in 2026-03 (2 forwarded calls)."""
    frames = load_dataset(tiny_dir).to_frames()
    months = [parse_month("2026-02"), parse_month("2026-03")]
    default = build_signals(frames, months)
    g = default["group_id"] == "510100000000000001"
    # default 10: m1 forwards 12 >= 10 in 2026-02 -> 1 of 2 lines; 2 < 10 in 2026-03 -> 0.
    assert default.loc[g, "forwarding_share"].tolist() == [0.5, 0.0]
    high = build_signals(frames, months, Settings(forwarding_calls=13))
    assert high.loc[g, "forwarding_share"].tolist() == [0.0, 0.0]  # 12 < 13
    low = build_signals(frames, months, Settings(forwarding_calls=2))
    assert low.loc[g, "forwarding_share"].tolist() == [0.5, 1.0]  # 2 >= 2 in 2026-03
    # only the forwarding signals move.
    for name in SIGNALS:
        if name in ("forwarding_share", "forwarding_lines"):
            continue
        assert_series_equal(default[name], low[name], check_names=False, obj=name)
    assert isinstance(default, pd.DataFrame)
