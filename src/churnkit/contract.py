"""The data contract, version 1, as data: which tables churnkit reads and what they hold.

Every other module (loader, validation, signals, simulator tests) reads the table specs from
here, so the contract lives in one place. The user-facing description is the "Your data" section of README.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONTRACT_VERSION = "1"


@dataclass(frozen=True)
class Column:
    """One column of a table.

    kind: ``id`` (text identifier, never a number), ``text``, ``month`` (YYYY-MM or a first-of-month
    date), ``date`` (ISO date), ``float``, ``int``.
    """

    name: str
    kind: str
    required: bool = True
    nullable: bool = False
    ge: float | None = None
    isin: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TableSpec:
    name: str
    required: bool
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""
    fk_groups: bool = True  # every group_id must exist in `groups`
    date_column: str | None = None  # the column that places a row in time
    extra: dict = field(default_factory=dict)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


GROUPS = TableSpec(
    "groups",
    required=True,
    key=("group_id",),
    fk_groups=False,
    description="one row per group customer (集团客户)",
    columns=(
        Column("group_id", "id"),
        Column("group_name", "text", required=False, nullable=True),
        Column("industry", "text", required=False, nullable=True),
        Column("region", "text", required=False, nullable=True),
        Column("value_tier", "text", required=False, nullable=True),
        Column("account_manager", "text", required=False, nullable=True),
        Column("contract_end", "date", required=False, nullable=True),
        Column("opened", "date", required=False, nullable=True),
    ),
)

BILLING = TableSpec(
    "billing",
    required=True,
    key=("month", "member_id"),
    date_column="month",
    description="one row per member line and month: the line's bill",
    columns=(
        Column("month", "month"),
        Column("group_id", "id"),
        Column("member_id", "id"),
        Column("charge", "float", ge=0),
        Column("plan_fee", "float", required=False, nullable=True, ge=0),
        Column("arrears", "float", required=False, nullable=True, ge=0),
    ),
)

USAGE = TableSpec(
    "usage",
    required=True,
    key=("month", "member_id"),
    date_column="month",
    description="one row per member line and month: its traffic",
    columns=(
        Column("month", "month"),
        Column("group_id", "id"),
        Column("member_id", "id"),
        Column("call_count", "int", ge=0),
        Column("call_minutes", "float", ge=0),
        Column("forwarded_calls", "int", ge=0),
        Column("forwarded_offnet_calls", "int", ge=0),
        Column("competitor_hotline_calls", "int", ge=0),
        Column("data_mb", "float", required=False, nullable=True, ge=0),
    ),
)

ADDONS = TableSpec(
    "addons",
    required=False,
    key=(),
    date_column="date",
    description="value-added service subscriptions and cancellations",
    columns=(
        Column("group_id", "id"),
        Column("member_id", "id", nullable=True),
        Column("product", "text", nullable=True),
        Column("action", "text", isin=("subscribe", "cancel")),
        Column("date", "date"),
    ),
)

COMPLAINTS = TableSpec(
    "complaints",
    required=False,
    key=(),
    date_column="date",
    description="complaints by the group or its members",
    columns=(
        Column("group_id", "id"),
        Column("member_id", "id", nullable=True),
        Column("date", "date"),
        Column("category", "text", nullable=True),
    ),
)

INTEL = TableSpec(
    "intel",
    required=False,
    key=(),
    date_column="date",
    description="what the account manager heard through the contact person",
    columns=(
        Column("group_id", "id"),
        Column("date", "date"),
        Column("kind", "text", isin=("exit_intent", "competitor_offer")),
        Column("note", "text", required=False, nullable=True),
    ),
)

CONTRACTS = TableSpec(
    "contracts",
    required=False,
    key=("group_id", "start"),
    description="the group's agreement history (协议), renewals included",
    columns=(
        Column("group_id", "id"),
        Column("start", "date"),
        Column("end", "date"),
    ),
)

CHURN = TableSpec(
    "churn",
    required=False,
    key=("group_id",),
    description="first month in which a group has left (整体离网); needed for training",
    columns=(
        Column("group_id", "id"),
        Column("churn_month", "month"),
    ),
)

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (GROUPS, BILLING, USAGE, ADDONS, COMPLAINTS, INTEL, CONTRACTS, CHURN)
}
EVENT_TABLES = ("addons", "complaints", "intel")
