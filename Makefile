# Every task of the project is a target here; CI calls these same targets. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# The interpreter that bootstraps .venv, resolved before PATH points into .venv. It is the real
# executable, not a shim (pyenv's): uv would otherwise rebuild .venv on every sync.
ifndef PYTHON
PYTHON := $(shell for p in python3.11 python3; do command -v $$p >/dev/null && \
	$$p -c 'import sys; print(sys.executable)' && break; done)
endif
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# Stages in dvc.yaml call `python`: make it the project's interpreter.
export PATH := $(BIN):$(PATH)
# Compiled bytecode: these machines set PYTHONDONTWRITEBYTECODE, so without it every start recompiles.
export UV_COMPILE_BYTECODE := 1
export UV_PROJECT_ENVIRONMENT := $(VENV)
# The BentoML model store and Bentos live in the project folder, not in ~/bentoml.
export BENTOML_HOME ?= $(CURDIR)/bentoml_home
# No usage analytics from BentoML (the image sets the same); it also costs start-up time.
export BENTOML_DO_NOT_TRACK ?= true
PORT ?= 3000
UV := $(PYTHON) -m uv
# Targets that need only the standard library (CD's preflight, the PR comment, Terraform) run
# the project's modules without .venv.
STDLIB_PYTHON = PYTHONPATH=$(CURDIR)/src $(PYTHON)
SYNCED := $(VENV)/.synced
PYTEST_ARGS ?=

.PHONY: help
help: ## List the targets with what each does
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(SYNCED): pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || { echo "installing uv with pip"; $(PYTHON) -m pip install --quiet uv; }
	$(UV) sync --frozen --python "$(PYTHON)"
	@touch $@

.PHONY: venv
venv: $(SYNCED) ## Create/refresh .venv from uv.lock (every other target does this first)

.PHONY: run
run: $(SYNCED) ## Run the pipeline (dvc repro) on the embedded defaults and show the outcome
	dvc repro
	@echo; dvc metrics show metrics/selected.json
	@echo; echo "model: models/best/model_card.json   plots: make plots   runs: make mlflow-ui"

.PHONY: contract
contract: $(SYNCED) ## Re-infer the data contract (contract.yaml) from the current table, on purpose
	dvc repro generate
	MODELOPS_REINFER_CONTRACT=1 dvc repro --force --single-item validate
	@echo; echo "review the change: git diff contract.yaml"

.PHONY: repro
repro: $(SYNCED) ## dvc repro (pass STAGE=<name> for one stage and what it needs)
	dvc repro $(STAGE)

.PHONY: metrics
metrics: $(SYNCED) ## Show metrics, and their diff against BASE (default HEAD)
	dvc metrics show
	dvc metrics diff $(or $(BASE),HEAD)

.PHONY: plots
plots: $(SYNCED) ## Render the plots to dvc_plots/index.html
	dvc plots show

.PHONY: promote
promote: $(SYNCED) ## Point the registry's `champion` at `candidate`, or (CD) at VERSION=n DATA_HASH=h once verified [IF_REGISTERED=1]
	python -m pipelines.promote $(if $(VERSION),--version "$(VERSION)" --data-hash "$(DATA_HASH)") $(if $(IF_REGISTERED),--if-registered)

.PHONY: serve
serve: $(SYNCED) ## Serve the packaged model locally (PORT=3000): the page at /, Swagger UI at /docs; predictions captured to captures/
	python -m modelops.delivery.tasks serve --port $(PORT) --capture-dir "$(CAPTURE_DIR)"

# Prediction capture and drift (docs/monitoring.md). `make serve` captures to CAPTURE_DIR
# (MODELOPS_CAPTURE=off turns it off); `make monitor` reads SOURCE: that folder, an S3 prefix
# (s3://bucket/prefix) or the Lambda's log group (logs:///aws/lambda/<function>).
CAPTURE_DIR ?= $(CURDIR)/captures

.PHONY: monitor
monitor: $(SYNCED) ## Drift of captured predictions vs the training reference -> reports/monitor/drift.{json,html} (SOURCE=, DAYS=)
	python -m modelops.delivery.tasks monitor --source "$(or $(SOURCE),$(CAPTURE_DIR))" --days "$(DAYS)"

# CI before repro-check: `make pull` restores an imported data.source only from the DVC remote,
# which lacks a retrain pull request's new labels (only CI on main pushes); this fetches the
# version the commit records from the source itself (docs/monitoring.md).
.PHONY: labelled-data
labelled-data: $(SYNCED) ## Fetch data.source's DVC import at the version this commit records, if missing (fails if the source changed since)
	python -m modelops.monitoring.refresh

.PHONY: monitor-pr
monitor-pr: $(SYNCED) ## Open/update ONE retrain PR (or issue) from reports/monitor/drift.json; silenced once closed unmerged
	python -m modelops.monitoring.retrain

.PHONY: smoke
smoke: $(SYNCED) ## Smoke-test a running endpoint: make smoke URL=https://... [AUTH=aws_iam] [SMOKE_EXPECT_VERSION=n]
	python -m modelops.delivery.tasks smoke --url "$(URL)" --auth "$(AUTH)"

.PHONY: score
score: $(SYNCED) ## Batch-score a file: make score INPUT=in.csv OUTPUT=out.parquet [ENGINE=spark]
	python -m pipelines.score --input "$(INPUT)" --output "$(OUTPUT)" --engine "$(or $(ENGINE),local)"

.PHONY: spark-package
spark-package: $(SYNCED) ## Build + upload the code and the Amazon Linux venv archive EMR Serverless runs (EMR_SERVERLESS_S3_URI) [ENV_ARCHIVE=built.tar.gz]
	python -m modelops.pipeline.engines.spark.package $(if $(ENV_ARCHIVE),--env-archive "$(ENV_ARCHIVE)")

.PHONY: spark-submit
spark-submit: $(SYNCED) ## Run a stage on EMR Serverless, its paths in S3, following its state and logs: make spark-submit STAGE=train (docs/scaling.md)
	python -m modelops.pipeline.engines.spark.submit "$(STAGE)"

.PHONY: mlflow-ui
mlflow-ui: $(SYNCED) ## Open the MLflow UI on the local store (http://127.0.0.1:5000)
	mlflow ui --backend-store-uri "$${MLFLOW_TRACKING_URI:-sqlite:///$(CURDIR)/mlflow.db}" \
		--host 127.0.0.1 --port $(or $(PORT),5000)

# The container tests build the image from the packaged model: make it first if it is missing.
models/bento.json: | $(SYNCED)
	dvc repro

.PHONY: test
test: $(SYNCED) models/bento.json ## Run the whole test suite (container tests skip without an engine)
	pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

.PHONY: test-fast
test-fast: $(SYNCED) ## Unit tests of every wing: no servers, no dvc repro (under a minute)
	pytest -n 2 tests/unit $(PYTEST_ARGS)

.PHONY: lint
lint: $(SYNCED) ## ruff lint + format check, mypy (strict) and the pre-commit hygiene hooks
	ruff check .
	ruff format --check .
	mypy
	hadolint Dockerfile
	pre-commit run --all-files --show-diff-on-failure

.PHONY: format
format: $(SYNCED) ## Format and auto-fix with ruff
	ruff format .
	ruff check --fix .

.PHONY: bench-pipeline
bench-pipeline: $(SYNCED) ## Time dvc repro (full, no-op, 10k/100k/1M rows) -> reports/bench/pipeline.json [ENGINE=spark: 100k/1M/4M] [SIZES="..."]
	python -m benchmarks.pipeline $(if $(filter spark,$(ENGINE)),--engine spark) $(if $(SIZES),--sizes $(SIZES))

.PHONY: bench-candidates
bench-candidates: $(SYNCED) ## Test score + fit time of every candidate kind on real tables -> reports/bench/candidates.json
	OMP_NUM_THREADS=1 python -m benchmarks.candidates

.PHONY: bench-serve
bench-serve: $(SYNCED) ## Serving latency/throughput/cold start vs mlflow, FastAPI, HTTP floor -> reports/bench/serve.json
	python -m modelops.delivery.tasks bench-serve

.PHONY: bench-monitor
bench-monitor: $(SYNCED) ## make monitor's read + drift on 100k and 1M captured rows: time, peak memory -> reports/bench/monitor.json
	python -m benchmarks.monitor

.PHONY: bench-capture
bench-capture: $(SYNCED) ## A file sink's flusher beside 100-row requests: p50/p99/p99.9, full GC pauses -> reports/bench/capture.json
	python -m benchmarks.capture_tail

.PHONY: bench-client
bench-client: $(SYNCED) ## modelops.client on 10,000 rows vs bentoml serve, next to make score -> reports/bench/client.json
	python -m benchmarks.client

.PHONY: image
image: $(SYNCED) ## Build the service image (docker CLI, any engine DOCKER_HOST points at), tagged <commit>-v<model version>
	python -m modelops.delivery.image build

.PHONY: image-smoke
image-smoke: $(SYNCED) ## Run the image: smoke suite over HTTP, then a Lambda-format invocation; removes its containers
	python -m modelops.delivery.image smoke

.PHONY: image-lookup
image-lookup: $(SYNCED) ## CD re-runs: re-use this commit's image if REPOSITORY=<ecr uri> has its tag (writes found=, image_uri=)
	python -m modelops.delivery.image lookup --repository "$(REPOSITORY)"

.PHONY: cd-preflight
cd-preflight: ## CD: deploy only when the repository variables are set and SHA is main's newest commit
	$(STDLIB_PYTHON) -m modelops.delivery.preflight --sha "$(SHA)"

.PHONY: image-push
image-push: $(SYNCED) ## Push the image to REPOSITORY=<registry>/<name>; prints (and writes to $$GITHUB_OUTPUT) image_uri=<repo>@sha256:...
	python -m modelops.delivery.image push --repository "$(REPOSITORY)"

.PHONY: bench-image
bench-image: $(SYNCED) ## Image size, container start -> first 200, Lambda cold invocation -> reports/bench/image.json
	python -m benchmarks.image

.PHONY: bench-front
bench-front: $(SYNCED) ## The image's HTTP front: size with/without Caddy, c=1 p50 and c=16 req/s through it vs MODELOPS_FRONT=off -> reports/bench/front.json
	python -m benchmarks.front

# Mutants of the gate, metrics, contract and inference ([tool.mutmut] in pyproject.toml), each
# against the fast unit tests of those modules. Incremental: a rerun re-tests only the functions
# that changed. One OpenMP thread: mutants run two at a time on two cores.
# MUTANTS=<glob> runs one part (e.g. 'modelops.pipeline.validation.*'), as CI's matrix does.
MUTATION_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
MUTATION_DIR ?= reports/mutation
MUTANTS ?=

.PHONY: mutation
mutation: $(SYNCED) ## Mutation testing of the decision modules (gate, metrics, contract, validation, inference, model encoding/outputs, client) -> reports/mutation/ per module
	MODELOPS_PRELOAD_IMPORTS=1 OMP_NUM_THREADS=1 mutmut run --max-children $(MUTATION_JOBS) $(if $(MUTANTS),'$(MUTANTS)')
	python -m modelops.review.mutation --output $(MUTATION_DIR) $(if $(MUTANTS),--matching '$(MUTANTS)') $(if $(MIN_SCORE),--min-score $(MIN_SCORE))

.PHONY: clean
clean: ## Remove caches of tools (not data, models or the MLflow store)
	rm -rf .pytest_cache .ruff_cache dvc_plots mutants

# --- team setup ---
# A shared MLflow tracking server (PostgreSQL + S3 artifacts) and a DVC remote in S3; all set by
# environment, see README "Team setup". Credentials come from the usual AWS/MLflow variables.
MLFLOW_HOST ?= 127.0.0.1
MLFLOW_PORT ?= 5000
MLFLOW_WORKERS ?= 2

.PHONY: mlflow-server
mlflow-server: $(SYNCED) ## Team tracking server: MLFLOW_BACKEND_STORE_URI=postgresql://... MLFLOW_ARTIFACTS_DESTINATION=s3://...
	python -m modelops.delivery.tasks mlflow-server --host $(MLFLOW_HOST) --port $(MLFLOW_PORT) \
		--workers $(MLFLOW_WORKERS) --app-name "$(MLFLOW_APP_NAME)"

.PHONY: push
push: $(SYNCED) ## dvc push data and models to the team's S3 remote (DVC_REMOTE_URL or .dvc/config)
	python -m pipelines.remote push

.PHONY: pull
pull: $(SYNCED) ## dvc pull data and models from the team's S3 remote instead of recomputing them (ALLOW_MISSING=1: what it lacks is rebuilt)
	python -m pipelines.remote pull $(if $(ALLOW_MISSING),--allow-missing)

# CD deploys what was reviewed: the outputs CI on main pushed for this commit, exactly as dvc.lock
# names them, never a retrain on the deploy runner (modelops.delivery.reviewed). Without a remote
# it says so and falls back to REPRO_CHECK.
REPRO_CHECK ?= $(MAKE) repro-check

.PHONY: reviewed
reviewed: $(SYNCED) ## CD: dvc pull what dvc.lock names, fail unless dvc status is clean, package it (no remote: announced repro fallback)
	python -m modelops.delivery.reviewed --repro-check "$(REPRO_CHECK)"

# --- workflows ---
# What the GitHub workflows run beyond lint/test; each is the same command locally.
REPORT_DIR ?= reports/pr

.PHONY: repro-check
repro-check: $(SYNCED) ## dvc repro, then fail if dvc status is unclean, dvc.lock stale, or an output is not the bytes dvc.lock records
	python -m modelops.review.repro_check

.PHONY: report
report: $(SYNCED) ## PR report vs a git ref: make report BASE=origin/main [STRICT=1: fail if the gate refuses]
	python -m modelops.review.report --base "$(BASE)" --output "$(REPORT_DIR)" $(if $(STRICT),--strict)

# The comment job needs the standard library and GitHub's `gh` CLI, not the ML stack or .venv.
.PHONY: pr-comment
pr-comment: ## Post/update the ONE report comment (GITHUB_TOKEN, GITHUB_REPOSITORY, PR_NUMBER, REPORT); needs only python + gh
	$(STDLIB_PYTHON) -m modelops.review.pr_comment --report "$${REPORT:-$(REPORT_DIR)/report.md}"

.PHONY: pr-comment-outdated
pr-comment-outdated: ## CI failed before the report: mark the report comment outdated (same settings + HEAD_SHA, RUN_URL)
	$(STDLIB_PYTHON) -m modelops.review.pr_comment --outdated

.PHONY: workflow-lint
workflow-lint: $(SYNCED) ## actionlint + zizmor (offline audits) on .github/workflows
	actionlint
	zizmor --offline .github/workflows

# --- infra ---
# Terraform (infra/), its policy checks, and the release CLI used by CD: modelops.delivery.infra
# and modelops.delivery.release (`python -m ... --help`). checkov and terraform-compliance pin
# dependencies that clash with the project's, so each gets its own env in .tools/, installed from
# the hash-locked infra/tools/*.txt (`make infra-tools-lock` updates).
TOOLS := .tools
INFRA_TOOLS := $(TOOLS)/checkov/.installed $(TOOLS)/terraform-compliance/.installed
TERRAFORM ?= terraform
ENV ?= staging
# One Terraform root for every environment (infra/envs): its state key, backend and settings are
# per environment (backend-$(ENV).hcl, $(ENV).tfvars), and so is terraform's working data
# (TF_DATA_DIR=.terraform-$(ENV)), so staging and prod never share an initialised backend.
ENV_DIR = infra/envs
# How long plan/apply wait for the state lock another run holds (CI's staging plan vs CD's apply)
# before failing; without it the second run fails at once with "Error acquiring the state lock".
LOCK_TIMEOUT ?= 10m
TF_ARGS = --env "$(ENV)" --terraform "$(TERRAFORM)" --env-dir "$(ENV_DIR)"
INFRA = $(STDLIB_PYTHON) -m modelops.delivery.infra $(TF_ARGS) --lock-timeout "$(LOCK_TIMEOUT)"
# FUNCTION_NAME/AWS_REGION may be given; otherwise they come from the environment's outputs.
RELEASE = $(BIN)/python -m modelops.delivery.release $(TF_ARGS)

# .installed holds the hash of the requirements it was installed from: a fresh checkout (newer
# mtimes) with a cached .tools/ (CI) re-uses it when the content is the same.
$(TOOLS)/%/.installed: infra/tools/%.txt | $(SYNCED)
	@$(INFRA) install-tool $*

.PHONY: infra-tools
infra-tools: $(INFRA_TOOLS) ## Install the pinned checkov and terraform-compliance envs into .tools/

.PHONY: infra-tools-lock
infra-tools-lock: ## Re-resolve infra/tools/*.txt from their .in pins (hashes included)
	@$(INFRA) lock-tools

# `make test` and `make lint` need the tool envs; these lines only add prerequisites.
test: $(INFRA_TOOLS)
lint: infra-lint

.PHONY: infra-lint
infra-lint: $(TOOLS)/checkov/.installed ## terraform fmt -check -recursive + checkov (offline) on infra/
	@$(INFRA) fmt-check
	$(TOOLS)/checkov/bin/checkov --config-file .checkov.yaml

.PHONY: infra-test
infra-test: ## terraform test of the provider-less naming/validation module (offline)
	@$(INFRA) naming-test

# The whole first merge of a new repository and AWS account, offline (moto on loopback, GitHub's
# OIDC, concurrency and environment rules), in the order docs/deploying-to-aws.md lists the steps.
COMPLIANCE_BIN := $(TOOLS)/terraform-compliance/bin/terraform-compliance

.PHONY: rehearse
rehearse: $(SYNCED) ## Rehearse the first merge on a new repo + AWS account offline: each step ✓/✗ with why
	python -m modelops.delivery.rehearse --plans tests/infra/fixtures \
		$(if $(wildcard $(COMPLIANCE_BIN)),--compliance $(COMPLIANCE_BIN))

.PHONY: policy
policy: $(TOOLS)/terraform-compliance/.installed ## terraform-compliance policies on plans: make policy PLAN="plan.json [...]" (terraform show -json)
	@$(INFRA) policy $(PLAN)

# Fail fast, before any download or lock, when what `plan`/`apply` need is missing.
.PHONY: infra-credentials
infra-credentials: ## Check terraform, the AWS CLI and usable AWS credentials (what plan/apply/bootstrap need)
	@$(INFRA) credentials

.PHONY: bootstrap
bootstrap: ## Once per AWS account: state bucket, KMS, ECR, GitHub OIDC roles, DVC/MLflow buckets (policy-checked plan)
	@$(INFRA) bootstrap

.PHONY: backend-config
backend-config: ## Write infra/envs/backend-$(ENV).hcl: from TF_STATE_BUCKET + TF_STATE_KMS_KEY_ARN + AWS_REGION (CI) or the bootstrap's outputs
	@$(INFRA) backend-config

.PHONY: plan
plan: ## terraform plan of infra/envs for ENV -> tfplan-$(ENV) + tfplan-$(ENV).json (IMAGE_URI=<repo>@sha256:...)
	@$(INFRA) plan --image-uri "$(IMAGE_URI)"

.PHONY: apply
apply: ## terraform apply of infra/envs for ENV (policy-checked plan first; outputs to $$GITHUB_OUTPUT) (IMAGE_URI=...)
	@$(INFRA) apply --image-uri "$(IMAGE_URI)"

# What deploy.yml reads after an apply. smoke_auth is the function URLs' auth type as `make smoke
# AUTH=` takes it (AWS_IAM -> aws_iam: SigV4-signed calls), so signing follows the stack itself.
.PHONY: env-outputs
env-outputs: ## Print live_url=, candidate_url=, smoke_auth= of ENV's stack (terraform output)
	@$(INFRA) env-outputs

# The release targets' function: FUNCTION_NAME/AWS_REGION if set, else ENV's `terraform output`.
.PHONY: release-candidate
release-candidate: $(SYNCED) ## Publish IMAGE_URI=<repo>@sha256:... as a version, point `candidate` at it (ENV=)
	$(RELEASE) candidate "$(IMAGE_URI)"

.PHONY: release-canary
release-canary: $(SYNCED) ## Route WEIGHT (0<W<1) of `live` to the candidate (ENV=)
	$(RELEASE) canary "$(WEIGHT)"

.PHONY: release-promote
release-promote: $(SYNCED) ## Send all of `live` to the candidate version (ENV=)
	$(RELEASE) promote

.PHONY: release-rollback
release-rollback: $(SYNCED) ## Put `live` back on the version before (ENV=)
	$(RELEASE) rollback

.PHONY: release-status
release-status: $(SYNCED) ## Show where `live` and `candidate` point, and their URLs (ENV=)
	$(RELEASE) status
