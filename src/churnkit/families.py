"""Reason families (data contract): every signal and every SHAP contribution belongs to one.

``FAMILIES`` is the contract's order; ``FAMILY_LABELS`` gives each code a short name people read
(``zh`` and ``en``); ``LANGS`` are the languages of reason sentences and retention scripts.
"""

from __future__ import annotations

FAMILIES = (
    "member_loss", "spend_decline", "idle_lines", "call_forwarding", "addon_cancellation",
    "competitor_contact", "contract_expiry", "complaints", "exit_intent", "arrears", "profile",
)

LANGS = ("zh", "en")

FAMILY_LABELS: dict[str, dict[str, str]] = {
    "member_loss": {"zh": "成员流失", "en": "member loss"},
    "spend_decline": {"zh": "话费下降", "en": "spend decline"},
    "idle_lines": {"zh": "零次用户", "en": "idle lines"},
    "call_forwarding": {"zh": "呼叫转移", "en": "call forwarding"},
    "addon_cancellation": {"zh": "增值业务退订", "en": "add-on cancellation"},
    "competitor_contact": {"zh": "接触竞争对手", "en": "competitor contact"},
    "contract_expiry": {"zh": "协议到期", "en": "contract expiry"},
    "complaints": {"zh": "投诉", "en": "complaints"},
    "exit_intent": {"zh": "整体离网倾向", "en": "exit intent"},
    "arrears": {"zh": "欠费", "en": "arrears"},
    "profile": {"zh": "客户画像", "en": "profile"},
}


def family_label(family: str, lang: str = "zh") -> str:
    """Display name of a reason family, e.g. ``family_label("idle_lines")`` -> ``"零次用户"``."""
    if family not in FAMILY_LABELS:
        raise ValueError(f"unknown reason family {family!r}; expected one of {', '.join(FAMILIES)}")
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")
    return FAMILY_LABELS[family][lang]
