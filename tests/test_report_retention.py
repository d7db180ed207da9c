"""The Retention section's "Learning from outcomes" part: which policy ranks the list, and the Qini chart."""

from churnkit.report.retention import _learning, learning

EVIDENCE = {"waves": 4, "treated": 1200, "holdout": 320, "enough": True, "minimum": {"waves": 3, "holdout": 300, "treated": 1000}}
CURVE = [{"share": 0.0, "per_group": 0.0, "random": 0.0}, {"share": 0.5, "per_group": 0.02, "random": 0.005},
         {"share": 1.0, "per_group": 0.01, "random": 0.01}]


def record(policy="saved_value", curve=CURVE):
    return {"policy": policy, "reason": None if policy == "saved_value" else "not enough randomised waves yet",
            "evidence": EVIDENCE, "calibration": {"average_effect": 0.031, "average_effect_se": 0.012},
            "evaluation": {"wave": "2026-03", "qini_coefficient": 0.0045, "top_decile_uplift": 0.12, "uplift_all": 0.01,
                           "qini_curve": curve}}


def test_without_a_record_there_is_nothing_to_say():
    assert learning(None) is None and _learning(None, "en") == ""


def test_saved_value_policy_with_its_qini_chart():
    html = _learning(learning(record()), "en")
    assert "ranked by saved value" in html and "4 waves, 1,200 treated and 320 holdout groups" in html
    assert "average effect +3.1 points (standard error 1.2)" in html
    # the chart (churns prevented per 100 listed groups) and its table: 2.00 at half the list against 0.50 at random
    assert "<svg" in html and "Qini curve, wave 2026-03" in html and "+2.00" in html and "+0.50" in html
    assert "Qini coefficient (area between the lines) +0.45; effect in the top 10% +12.0 points, whole list +1.0 points" in html


def test_a_curve_below_zero_is_drawn_below_the_axis():
    curve = [dict(p, per_group=-p["per_group"]) for p in CURVE]
    html = _learning(learning(record(curve=curve)), "zh")
    # the axis runs from -2.00 (the lowest point, a nice number already) to +1.00 (nice ceiling of +0.50),
    # in four steps: -2.00, -1.25, -0.50, +0.25, +1.00
    assert "<svg" in html and all(f">{t}<" in html for t in ("-2.00", "-1.25", "-0.50", "+0.25", "+1.00"))
    assert "-0.00" not in html


def test_before_enough_evidence_the_page_says_what_is_missing():
    html = _learning(learning(record("risk_value")), "en")
    assert "still ranked by risk x value (not enough randomised waves yet)" in html
    assert "at least 3 waves, 1,000 treated and 300 holdout groups" in html
