"""Reason families (data contract): every signal and every SHAP contribution belongs to one."""

FAMILIES = (
    "member_loss", "spend_decline", "idle_lines", "call_forwarding", "addon_cancellation",
    "competitor_contact", "contract_expiry", "complaints", "exit_intent", "arrears", "profile",
)
