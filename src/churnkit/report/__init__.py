"""The monthly report: churn rates, this month's risk, a backtest of earlier warnings and input
drift, as one self-contained HTML page with a JSON twin (see :mod:`churnkit.report.build`)."""
