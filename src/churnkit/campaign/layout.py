"""The manager workbook's layout, shared by the writer and the importer: sheets, columns, words.

A manager workbook has three visible sheets and one hidden one:

- ``名单`` (list): one row per treated group, riskiest first; the decision columns are locked,
  the six input columns (contact date, action taken, script used, offer, offer cost, note)
  are open and validated by drop-downs;
- ``其他联系`` (other contacts): open rows for contacts with groups that are not on the list
  (a holdout group called anyway is kept there, and counted as a deviation);
- ``话术`` (scripts): the playbook's scripts, the drop-down's source;
- ``_churnkit`` (hidden): wave, manager, language and format, read back on import.
"""

from __future__ import annotations

FORMAT = "churnkit-campaign-1"
LIST_SHEET = {"zh": "名单", "en": "List"}
OTHER_SHEET = {"zh": "其他联系", "en": "Other contacts"}
SCRIPT_SHEET = {"zh": "话术", "en": "Scripts"}
META_SHEET = "_churnkit"
OTHER_ROWS = 50  # open rows on the other-contacts sheet

#: (key, zh header, en header, width); the list sheet's columns in order
LIST_COLUMNS = [
    ("risk_rank", "风险排名", "Risk rank", 8),
    ("group_id", "集团编号", "Group id", 21),
    ("group_name", "集团名称", "Group name", 26),
    ("recommended_action", "建议动作", "Recommended action", 10),
    ("churn_probability", "流失概率", "Churn probability", 9),
    ("expected_loss", "预期年化损失（元）", "Expected yearly loss (yuan)", 12),
    ("reasons", "预警原因", "Warning reasons", 40),
    ("script", "建议话术", "Recommended script", 26),
    ("script_steps", "话术步骤", "Script steps", 60),
    ("contacted", "首次联系日期", "Date of first contact", 13),
    ("action_taken", "实际动作", "Action taken", 11),
    ("script_used", "使用话术", "Script used", 16),
    ("offer", "优惠内容", "Offer", 20),
    ("offer_cost", "优惠成本（元）", "Offer cost (yuan)", 11),
    ("note", "备注", "Note", 30),
]
#: the other-contacts sheet: the group id, then the same input columns
OTHER_COLUMNS = [("group_id", "集团编号", "Group id", 21)] + LIST_COLUMNS[9:]
INPUT_KEYS = ("contacted", "action_taken", "script_used", "offer", "offer_cost", "note")
WRAPPED = ("group_name", "reasons", "script", "script_steps", "offer", "note")

#: what the action drop-down shows, by code
ACTION_LABELS = {
    "zh": {"visit": "上门拜访", "call": "电话", "care": "关怀短信/优惠", "none": "未联系"},
    "en": {"visit": "visit", "call": "call", "care": "care", "none": "none"},
}

WORDS = {
    "zh": {
        "title": "挽留名单 · 批次 {wave} · 客户经理 {manager}",
        "summary_sheet": "汇总", "summary_title": "挽留批次 {wave} 汇总（对照组不下发）",
        "manager": "客户经理", "groups": "名单集团数", "expected_loss": "预期年化损失（元）",
        "holdout": "对照组集团数", "total": "合计", "not_set": "（未分配）",
        "script_id": "话术编号", "script_title": "话术名称", "script_family": "原因类别", "script_steps": "话术步骤",
        "about": "说明",
        "bad_action": "请从下拉列表选择实际动作", "bad_script": "请从下拉列表选择话术编号（见“话术”页）",
        "bad_date": "联系日期须在 {first} 至 {last} 之间", "bad_cost": "优惠成本须为不小于0的数字（元）",
        "about_text": ("本批次名单来自 {wave} 月评分。对照组（约 {share:.0%}）按哈希随机抽取，不下发给客户经理，用来衡量挽留的真实效果；"
                       "请勿联系名单以外的集团，若已联系，请在“其他联系”页登记。联系日期须在 {first} 至 {last} 之间。"),
    },
    "en": {
        "title": "Retention list · wave {wave} · account manager {manager}",
        "summary_sheet": "Summary", "summary_title": "Retention wave {wave}: summary (holdout groups are not handed out)",
        "manager": "Account manager", "groups": "Groups on the list", "expected_loss": "Expected yearly loss (yuan)",
        "holdout": "Holdout groups", "total": "Total", "not_set": "(not assigned)",
        "script_id": "Script id", "script_title": "Script", "script_family": "Reason family", "script_steps": "Steps",
        "about": "About",
        "bad_action": "Pick the action from the drop-down list", "bad_script": "Pick a script id from the list (sheet Scripts)",
        "bad_date": "The contact date lies between {first} and {last}", "bad_cost": "The offer cost is a number of yuan, 0 or more",
        "about_text": ("This wave's list comes from the scores of {wave}. A random holdout (about {share:.0%}), drawn by a hash, is "
                       "not handed out: it measures what retention really achieves. Please do not contact groups that are not "
                       "on the list; if you did, record it on the other-contacts sheet. Contact dates lie between {first} and {last}."),
    },
}


def header(columns, lang: str) -> list[str]:
    return [zh if lang == "zh" else en for _, zh, en, _ in columns]


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
