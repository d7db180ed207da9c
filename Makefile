# churnkit: every command a user or CI runs. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CK     := $(VENV)/bin/churnkit
SAMPLE := data/sample
DEMO_OUT := out/demo

.DEFAULT_GOAL := help
.PHONY: help demo test install install-dev sample bench bench-commands bench-province bench-features bench-score bench-report bench-spark benchmark-public eval-model eval-reasons bench-uplift clean

help: ## list every target
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-18s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed ## create .venv and install churnkit

install-dev: $(VENV)/.installed-dev ## install churnkit with the test tools

demo: install ## the main job on data/sample: validate, train, score the latest month, write the monthly report; then a retention campaign
	$(CK) validate $(SAMPLE)
	$(CK) train --data $(SAMPLE) --out $(DEMO_OUT)/models/latest --tracking-uri sqlite:///$(DEMO_OUT)/mlflow.db
	$(CK) score --data $(SAMPLE) --month latest --model $(DEMO_OUT)/models/latest --out $(DEMO_OUT)/scored.csv --top 10
	$(CK) report --data $(SAMPLE) --month latest --model $(DEMO_OUT)/models/latest --scored $(DEMO_OUT)/scored.csv --out $(DEMO_OUT)/report.html
	@echo "monthly report: $(abspath $(DEMO_OUT))/report.html (open it in a browser; figures in report.json)"
	@# retention campaigns: the sample's world again, with past waves run in it (true effects in _truth/)
	$(CK) campaign simulate --out $(DEMO_OUT)/campaigns/data --groups 2000 --months 24 --start 2024-11 --seed 7
	$(CK) score --data $(DEMO_OUT)/campaigns/data --month latest --model $(DEMO_OUT)/models/latest --out $(DEMO_OUT)/campaigns/scored.csv
	$(CK) campaign plan --scored $(DEMO_OUT)/campaigns/scored.csv --data $(DEMO_OUT)/campaigns/data --out $(DEMO_OUT)/campaigns/workbooks --model $(DEMO_OUT)/models/latest
	$(CK) report --data $(DEMO_OUT)/campaigns/data --month latest --model $(DEMO_OUT)/models/latest --scored $(DEMO_OUT)/campaigns/scored.csv --out $(DEMO_OUT)/campaigns/report.html
	@echo "retention campaigns: workbooks in $(abspath $(DEMO_OUT))/campaigns/workbooks, report with its Retention section: $(abspath $(DEMO_OUT))/campaigns/report.html"

test: install-dev ## run the whole test suite
	$(PY) -m pytest -q

sample: install ## regenerate data/sample (2,000 groups x 24 months, seed 7)
	rm -rf $(SAMPLE)
	$(CK) simulate --out $(SAMPLE) --groups 2000 --months 24 --start 2024-11 --seed 7

clean: ## remove generated outputs (keeps .venv)
	rm -rf out features/*.parquet benchmarks/results mlflow.db

bench-score: install ## time the monthly scoring job at province scale and the SHAP cost of model capacity
	$(PY) benchmarks/bench_score.py

eval-reasons: install ## on the simulator's truth: how often reason_1 names the true churn cause
	$(PY) benchmarks/reasons_truth.py

eval-model: install ## a candidate model vs the current default: 6 out-of-time months of a 20,000-group x 36-month simulation (generated once)
	$(PY) benchmarks/eval_model.py $(EVAL_MODEL_ARGS)

benchmark-public: install ## public data (Cell2Cell, IBM Telco): churnkit LightGBM vs LightGBM defaults and published values
	$(PY) benchmarks/bench_public.py

# e.g. make bench-features BENCH_FEATURES_ARGS="--groups 20000 --months 12"
bench-features: install ## time the signal builder against one DuckDB scan, 200,000 groups x 12 months
	$(PY) benchmarks/bench_features.py $(BENCH_FEATURES_ARGS)

bench-uplift: install ## targeting by saved value vs risk x value on simulated waves, 20 runs x 4 scenarios (benchmarks/results/uplift.json)
	nice -n 10 $(PY) benchmarks/bench_uplift.py

bench-report: install ## time the monthly report at province scale against the scoring job
	$(PY) benchmarks/bench_report.py

bench-spark: install-dev ## the monthly job on a 2-executor Spark cluster, 200,000 groups x 12 months: wall per step, driver peak RSS (<= 2 GB)
	$(PY) benchmarks/bench_spark.py --groups 200000 --months 12 --executors 2

bench-commands: install ## validate, features, train, score, report as fresh processes vs one DuckDB scan, 200,000 groups x 12 months
	$(PY) benchmarks/bench_commands.py --groups 200000 --months 12

bench-province: install ## the same at 2,000,000 groups x 12 months (a province: ~8 GB of parquet generated once)
	$(PY) benchmarks/bench_commands.py --groups 2000000 --months 12 --steps validate,train,score,report --scans ends

bench: bench-commands bench-features bench-score bench-report ## run the benchmarks (results in benchmarks/results/)
