"""churnkit on a Spark cluster: the monthly job with ``--engine spark``.

Spark reads the data directory itself (:mod:`~churnkit.spark.read`), checks it against the data
contract with the same rules and messages as DuckDB (:mod:`~churnkit.spark.validate`), builds
the signals from the same Ibis expressions, scores, explains and writes on the executors
(:mod:`~churnkit.spark.score`) and builds the training panel (:mod:`~churnkit.spark.panel`).
pyspark is an optional dependency (``pip install churnkit-sme[spark]``); nothing else in the
package imports this one.
"""

from churnkit.spark.panel import training_panel
from churnkit.spark.score import score
from churnkit.spark.session import session
from churnkit.spark.validate import SparkDataset, load_dataset

__all__ = ["SparkDataset", "load_dataset", "score", "session", "training_panel"]
