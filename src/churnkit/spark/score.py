"""The monthly scoring job on Spark: :func:`churnkit.score.score` for a cluster.

The driver loads and verifies the model bundle, then ships the LightGBM model once, as its
text, to the executors (a broadcast). Everything per group runs there, in Arrow batches
(``mapInPandas``): the signals (Ibis expressions compiled to Spark SQL), the calibrated
probability, the expected loss and the action; then, after a global order gives every group its
rank and decile, exact TreeSHAP per reason family, the three reasons with their sentences and the
retention script (:func:`churnkit.score.explain`, the function the one-machine job runs). Spark
writes the scored parquet, the CSV and the excluded list (:mod:`churnkit.spark.write`). The
driver holds counts, the top rows it prints and the model, never the table.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from churnkit.errors import ChurnkitError, ModelError, UsageError
from churnkit.families import FAMILIES, LANGS
from churnkit.features import check_month
from churnkit.model import lgbm
from churnkit.model.bundle import MODEL_FILE, Bundle, load_bundle, sha256
from churnkit.months import format_month
from churnkit.output import EXCLUDED_COLUMNS, SCORED_COLUMNS, round_numbers
from churnkit.playbook import load_playbook
from churnkit.policy import ValuePolicy
from churnkit.score import ScoreResult, explain
from churnkit.signals.registry import Settings
from churnkit.spark.tables import excluded_frame, signal_frame, typed_signals
from churnkit.spark.write import write_scored
from churnkit.uplift.scoring import COLUMNS as TARGETING_COLUMNS
from churnkit.uplift.scoring import target
from churnkit.uplift.store import load_uplift

HEAD = 100  # riskiest rows brought back to the driver (what the command prints)
INTS = ("active_lines", "risk_rank", "risk_decile")
COLUMNS = [*SCORED_COLUMNS, "base_probability", *[f"impact_{f}" for f in FAMILIES], *TARGETING_COLUMNS]


@functools.lru_cache(maxsize=2)
def _booster(text: str):
    import lightgbm as lgb

    return lgb.Booster(model_str=text)


def _bundle(model) -> Bundle:
    """The bundle on an executor, from the broadcast (text, manifest); parsed once per worker."""
    text, manifest = model.value
    return Bundle(_booster(text), manifest)


def _predict(model, policy: ValuePolicy, uplift):
    def run(batches):
        bundle = _bundle(model)
        for frame in batches:
            if frame.empty:
                continue
            frame = typed_signals(frame)
            prob = bundle.calibrator(lgbm.raw_score(bundle.booster, lgbm.matrix(frame, bundle.features, bundle.levels)))
            frame["churn_probability"] = prob
            frame["expected_loss"] = prob * frame["spend"].to_numpy(dtype=float) * 12
            frame["action"] = policy.actions(frame).to_numpy(dtype=object)
            yield round_numbers(target(frame, bundle, loaded=uplift.value))

    return run


def _explain(model, lang: str, scripts: dict, month: int):
    def run(batches):
        bundle = _bundle(model)
        for frame in batches:
            if not frame.empty:
                yield explain(typed_signals(frame), bundle, lang, scripts, month)

    return run


def _model_text(bundle: Bundle, model: Path) -> str:
    """The bundle's LightGBM text, checked again against the manifest's SHA-256."""
    data = (Path(bundle.path or model) / MODEL_FILE).read_bytes()
    if sha256(data) != bundle.manifest["model_sha256"]:
        raise ModelError(f"{Path(bundle.path or model) / MODEL_FILE}: SHA-256 does not match the manifest; the model file "
                         "was changed while scoring, refusing to ship it")
    return data.decode("utf-8")


def ranked(predicted):
    """``predicted`` in the global risk order (probability desc, expected loss desc, group_id)
    with ``risk_rank`` 1..n and ``risk_decile``: one distributed sort, then each sorted partition's
    offset from the counts of the partitions before it."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    order = [F.col("churn_probability").desc(), F.col("expected_loss").desc(), F.col("group_id").asc()]
    rows = predicted.orderBy(*order).withColumn("__id", F.monotonically_increasing_id())
    rows = rows.persist(StorageLevel.MEMORY_AND_DISK)
    part = F.shiftright(F.col("__id"), 33)
    counts = sorted((int(r["p"]), int(r["n"])) for r in rows.groupBy(part.alias("p")).agg(F.count("*").alias("n")).collect())
    n, offsets = 0, []
    for p, k in counts:
        offsets += [F.lit(p), F.lit(n)]
        n += k
    offset = F.create_map(*offsets)[part] if offsets else F.lit(0)
    rank = (offset + F.col("__id").bitwiseAND((1 << 33) - 1) + 1).cast("long")
    out = rows.withColumn("risk_rank", rank).withColumn("risk_decile", F.ceil(F.lit(10) * F.col("risk_rank") / F.lit(max(n, 1))).cast("long"))
    return out.drop("__id"), n


def score(dataset, month: int, model: Path, out, lang: str = "zh", playbook: Path | None = None,
          policy: ValuePolicy | None = None, progress=None) -> ScoreResult:
    """Score ``month`` on Spark and write ``out`` (CSV), its parquet twin (a folder of parts) and
    ``<stem>.excluded.csv``: the same rows and columns as :func:`churnkit.score.score`. The result
    carries the summary and the riskiest rows."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

    step = progress or (lambda message: None)
    if lang not in LANGS:
        raise UsageError(f"--lang must be one of {', '.join(LANGS)}, not {lang!r}")
    if not str(out).lower().endswith(".csv"):
        raise UsageError(f"--out {out}: the scored file is a .csv (its parquet twin is written beside it)")
    bundle = load_bundle(model)
    book = load_playbook(playbook)
    policy = policy or ValuePolicy()
    check_month(dataset, month)
    spark = dataset.spark
    step("building the signals")
    settings = Settings(**bundle.manifest.get("signal_settings", {}))
    features = signal_frame(dataset, [month], settings).drop("mi").persist(StorageLevel.MEMORY_AND_DISK)
    excluded = excluded_frame(dataset, month).persist(StorageLevel.MEMORY_AND_DISK)
    scored_n, excluded_n = features.count(), excluded.count()
    groups_n = spark.table("typed_groups").count()
    if scored_n == 0:
        raise ChurnkitError(f"no group can be scored for {format_month(month)} ({excluded_n} excluded)")
    if scored_n + excluded_n != groups_n:
        raise ChurnkitError(f"internal check failed: {groups_n - scored_n - excluded_n} groups are neither scored nor "
                            "excluded; please report this")
    shipped = spark.sparkContext.broadcast((_model_text(bundle, model), bundle.manifest))
    step("predicting")
    uplift = spark.sparkContext.broadcast(load_uplift(bundle))  # the retention waves' saved-value policy, if any
    predicted_schema = StructType([*features.schema.fields, StructField("churn_probability", DoubleType()),
                                   StructField("expected_loss", DoubleType()), StructField("action", StringType()),
                                   StructField("churn_reduction", DoubleType()), StructField("saved_value", DoubleType()),
                                   StructField("ranked_by", StringType())])
    predicted = features.mapInPandas(_predict(shipped, policy, uplift), predicted_schema)
    order, n = ranked(predicted)
    step("explaining")
    types = {c: (LongType() if c in INTS else DoubleType() if c in _DOUBLES else StringType()) for c in COLUMNS}
    schema = StructType([StructField(c, types[c]) for c in COLUMNS])
    scripts = {f: book.script_for(f, lang) for f in FAMILIES}
    scored = order.mapInPandas(_explain(shipped, lang, scripts, month), schema).persist(StorageLevel.MEMORY_AND_DISK)
    step("writing the scored file")
    paths = write_scored(spark, scored, excluded, out, COLUMNS, EXCLUDED_COLUMNS, INTS)
    summary = _summary(scored, scored_n, excluded_n)
    head = scored.filter(F.col("risk_rank") <= HEAD).orderBy("risk_rank").toPandas()
    for frame in (scored, order, features, excluded):
        frame.unpersist()
    base = float(head["base_probability"].iloc[0])
    return ScoreResult(head, excluded.limit(HEAD).toPandas(), paths, base, summary)


_DOUBLES = {"spend", "churn_probability", "expected_loss", "base_probability", "reason_1_impact", "reason_2_impact",
            "reason_3_impact", "churn_reduction", "saved_value", *[f"impact_{f}" for f in FAMILIES]}


def _summary(scored, scored_n: int, excluded_n: int) -> dict:
    """Counts, the top decile's expected loss and the actions, in one aggregate."""
    from pyspark.sql import functions as F

    row = scored.agg(F.sum(F.when(F.col("risk_decile") == 1, F.col("expected_loss"))).alias("top"),
                     *[F.count(F.when(F.col("action") == a, 1)).alias(a) for a in ("visit", "call", "care", "none")]).collect()[0]
    return {"scored": scored_n, "excluded": excluded_n, "top_decile_expected_loss": float(row["top"] or 0.0),
            "actions": {a: int(row[a]) for a in ("visit", "call", "care", "none")}}
