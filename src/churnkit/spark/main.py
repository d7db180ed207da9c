"""The file ``spark-submit`` runs: the churnkit command inside the submitted Spark application.

    spark-submit [cluster options] "$(python -c 'import churnkit.spark.main as m; print(m.__file__)')" \
        score --engine spark --data hdfs:///exports --month 2026-10 --model models/latest --out hdfs:///scored/s.csv

The session is the one ``spark-submit`` configured (master, executors, memory); churnkit only
adds its SQL settings (:func:`churnkit.spark.session.session`).
"""

from churnkit.cli import app

if __name__ == "__main__":
    app(prog_name="churnkit")
