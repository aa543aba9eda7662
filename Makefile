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
	@test -f models/bento.json || { echo "no packaged model: run 'make run' first" >&2; exit 1; }
	@tag=$$(python -c 'import json; print(json.load(open("models/bento.json"))["model_tag"])'); \
	echo "serving $$tag at http://127.0.0.1:$(PORT)  page: http://127.0.0.1:$(PORT)/  docs: http://127.0.0.1:$(PORT)/docs  openapi: http://127.0.0.1:$(PORT)/docs.json"; \
	capture=$$(python -m modelops.monitoring.monitor --capture-env); \
	exec env $$capture MODELOPS_CAPTURE_DIR="$${MODELOPS_CAPTURE_DIR:-$(CAPTURE_DIR)}" \
	MODELOPS_MODEL_TAG=$$tag bentoml serve services.classifier:Classifier --host 127.0.0.1 --port $(PORT)

# Prediction capture and drift (docs/monitoring.md). `make serve` captures to CAPTURE_DIR
# (MODELOPS_CAPTURE=off turns it off); `make monitor` reads SOURCE: that folder, an S3 prefix
# (s3://bucket/prefix) or the Lambda's log group (logs:///aws/lambda/<function>).
CAPTURE_DIR ?= $(CURDIR)/captures

.PHONY: monitor
monitor: $(SYNCED) ## Drift of captured predictions vs the training reference -> reports/monitor/drift.{json,html} (SOURCE=, DAYS=)
	@test -f models/reference.json || { echo "no reference summary (models/reference.json): run 'make run' (or 'make pull') first" >&2; exit 1; }
	python -m modelops.monitoring.monitor --source "$(or $(SOURCE),$(CAPTURE_DIR))" $(if $(DAYS),--days "$(DAYS)")

.PHONY: monitor-pr
monitor-pr: $(SYNCED) ## Open/update ONE retrain PR (or issue) from reports/monitor/drift.json; silenced once closed unmerged
	python -m modelops.monitoring.retrain

.PHONY: smoke
smoke: $(SYNCED) ## Smoke-test a running endpoint: make smoke URL=https://... [AUTH=aws_iam] [SMOKE_EXPECT_VERSION=n]
	@test -n "$(URL)" || { echo "usage: make smoke URL=<base url of the service> [AUTH=none|aws_iam]" >&2; exit 2; }
	SMOKE_BASE_URL="$(URL)" SMOKE_AUTH="$(or $(AUTH),$(SMOKE_AUTH),none)" \
		pytest -p no:xdist -p no:cacheprovider tests/smoke

.PHONY: score
score: $(SYNCED) ## Batch-score a file: make score INPUT=in.csv OUTPUT=out.parquet [ENGINE=spark]
	python -m pipelines.score --input "$(INPUT)" --output "$(OUTPUT)" --engine "$(or $(ENGINE),local)"

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
bench-pipeline: $(SYNCED) ## Time dvc repro (full, no-op, 10k/100k/1M rows) -> reports/bench/pipeline.json [ENGINE=spark]
	python -m benchmarks.pipeline $(if $(filter spark,$(ENGINE)),--engine spark)

.PHONY: bench-candidates
bench-candidates: $(SYNCED) ## Test score + fit time of every candidate kind on real tables -> reports/bench/candidates.json
	OMP_NUM_THREADS=1 python -m benchmarks.candidates

.PHONY: bench-serve
bench-serve: $(SYNCED) ## Serving latency/throughput/cold start vs mlflow, FastAPI, HTTP floor -> reports/bench/serve.json
	@test -f models/bento.json || { echo "no packaged model: run 'make run' first" >&2; exit 1; }
	@command -v wrk >/dev/null || { echo "installing wrk (apt)"; apt-get install -y -qq wrk >/dev/null; }
	python -m benchmarks.serve

.PHONY: bench-monitor
bench-monitor: $(SYNCED) ## make monitor's read + drift on 100k and 1M captured rows: time, peak memory -> reports/bench/monitor.json
	python -m benchmarks.monitor

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
	@test -n "$(REPOSITORY)" || { echo "usage: make image-lookup REPOSITORY=<registry>/<name>" >&2; exit 2; }
	python -m modelops.delivery.image lookup --repository "$(REPOSITORY)"

.PHONY: cd-preflight
cd-preflight: ## CD: deploy only when the repository variables are set and SHA is main's newest commit
	@test -n "$(SHA)" || { echo "usage: make cd-preflight SHA=<commit>" >&2; exit 2; }
	PYTHONPATH=$(CURDIR)/src $(PYTHON) -m modelops.delivery.preflight --sha "$(SHA)"

.PHONY: image-push
image-push: $(SYNCED) ## Push the image to REPOSITORY=<registry>/<name>; prints (and writes to $$GITHUB_OUTPUT) image_uri=<repo>@sha256:...
	@test -n "$(REPOSITORY)" || { echo "usage: make image-push REPOSITORY=<registry>/<name> (e.g. an ECR repository URI)" >&2; exit 2; }
	python -m modelops.delivery.image push --repository "$(REPOSITORY)"

.PHONY: bench-image
bench-image: $(SYNCED) ## Image size, container start -> first 200, Lambda cold invocation -> reports/bench/image.json
	python -m benchmarks.image

# Mutants of the gate, metrics, contract and inference ([tool.mutmut] in pyproject.toml), each
# against the fast unit tests of those modules. Incremental: a rerun re-tests only the functions
# that changed. One OpenMP thread: mutants run two at a time on two cores.
# MUTANTS=<glob> runs one part (e.g. 'modelops.pipeline.validation.*'), as CI's matrix does.
MUTATION_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
MUTATION_DIR ?= reports/mutation
MUTANTS ?=

.PHONY: mutation
mutation: $(SYNCED) ## Mutation testing of the decision modules (gate, metrics, contract, validation, inference, client) -> reports/mutation/ per module
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
	@test -n "$${MLFLOW_BACKEND_STORE_URI:-}" -a -n "$${MLFLOW_ARTIFACTS_DESTINATION:-}" || { \
		echo "usage: MLFLOW_BACKEND_STORE_URI=postgresql://USER@HOST:5432/mlflow (password: PGPASSWORD)" \
			"MLFLOW_ARTIFACTS_DESTINATION=s3://<bucket>/mlflow make mlflow-server" \
			"[MLFLOW_HOST=127.0.0.1 MLFLOW_PORT=5000 MLFLOW_WORKERS=2;" \
			"MLFLOW_APP_NAME=basic-auth for user accounts; MLFLOW_S3_ENDPOINT_URL" \
			"for S3-compatible storage] (README: Team setup)" >&2; exit 2; }
	@echo "MLflow tracking server on http://$(MLFLOW_HOST):$(MLFLOW_PORT)" \
		"(store: $${MLFLOW_BACKEND_STORE_URI%%://*}://..., artifacts: $$MLFLOW_ARTIFACTS_DESTINATION)"
	exec mlflow server --backend-store-uri "$$MLFLOW_BACKEND_STORE_URI" \
		--artifacts-destination "$$MLFLOW_ARTIFACTS_DESTINATION" \
		--host $(MLFLOW_HOST) --port $(MLFLOW_PORT) --workers $(MLFLOW_WORKERS) \
		$(if $(MLFLOW_APP_NAME),--app-name $(MLFLOW_APP_NAME))

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
COMMENT_PYTHON = PYTHONPATH=$(CURDIR)/src $(PYTHON)

.PHONY: pr-comment
pr-comment: ## Post/update the ONE report comment (GITHUB_TOKEN, GITHUB_REPOSITORY, PR_NUMBER, REPORT); needs only python + gh
	$(COMMENT_PYTHON) -m modelops.review.pr_comment --report "$${REPORT:-$(REPORT_DIR)/report.md}"

.PHONY: pr-comment-outdated
pr-comment-outdated: ## CI failed before the report: mark the report comment outdated (same settings + HEAD_SHA, RUN_URL)
	$(COMMENT_PYTHON) -m modelops.review.pr_comment --outdated

.PHONY: workflow-lint
workflow-lint: $(SYNCED) ## actionlint + zizmor (offline audits) on .github/workflows
	actionlint
	zizmor --offline .github/workflows

# --- infra ---
# Terraform (infra/), its policy checks, and the release CLI used by CD. checkov and
# terraform-compliance pin dependencies that clash with the project's, so each gets its own env
# in .tools/, installed from the hash-locked infra/tools/*.txt (`make infra-tools-lock` updates).
TOOLS := .tools
INFRA_TOOLS := $(TOOLS)/checkov/.installed $(TOOLS)/terraform-compliance/.installed
TERRAFORM ?= terraform
ENV ?= staging
# One Terraform root for every environment (infra/envs): its state key, backend and settings are
# per environment (backend-$(ENV).hcl, $(ENV).tfvars), and so is terraform's working data
# (TF_DATA_DIR), so staging and prod never share an initialised backend.
ENV_DIR = infra/envs
ENV_BACKEND = $(ENV_DIR)/backend-$(ENV).hcl
TF_ENV = TF_DATA_DIR=.terraform-$(ENV) $(TERRAFORM) -chdir=$(ENV_DIR)
# How long plan/apply wait for the state lock another run holds (CI's staging plan vs CD's apply)
# before failing; without it the second run fails at once with "Error acquiring the state lock".
LOCK_TIMEOUT ?= 10m
# FUNCTION_NAME/AWS_REGION may be given; otherwise they come from the environment's outputs.
RELEASE = $(BIN)/python -m modelops.delivery.release

# .installed holds the hash of the requirements it was installed from: a fresh checkout (newer
# mtimes) with a cached .tools/ (CI) re-uses it when the content is the same.
$(TOOLS)/%/.installed: infra/tools/%.txt | $(SYNCED)
	@if [ -f $@ ] && [ "$$(cat $@)" = "$$(sha256sum $< | cut -d' ' -f1)" ]; then touch $@; \
	else rm -rf $(TOOLS)/$* && \
		$(UV) venv --quiet --python "$(PYTHON)" $(TOOLS)/$* && \
		$(UV) pip sync --quiet --python $(TOOLS)/$*/bin/python $< && \
		sha256sum $< | cut -d' ' -f1 > $@; fi

.PHONY: infra-tools
infra-tools: $(INFRA_TOOLS) ## Install the pinned checkov and terraform-compliance envs into .tools/

.PHONY: infra-tools-lock
infra-tools-lock: ## Re-resolve infra/tools/*.txt from their .in pins (hashes included)
	for tool in checkov terraform-compliance; do \
		$(UV) pip compile --quiet --python-version 3.11 --generate-hashes \
			infra/tools/$$tool.in -o infra/tools/$$tool.txt; done

# `make test` and `make lint` need the tool envs; these lines only add prerequisites.
test: $(INFRA_TOOLS)
lint: infra-lint

.PHONY: infra-lint
infra-lint: $(TOOLS)/checkov/.installed ## terraform fmt -check -recursive + checkov (offline) on infra/
	@if command -v $(TERRAFORM) >/dev/null; then $(TERRAFORM) fmt -check -recursive -diff infra; \
	elif [ -n "$${CI:-}" ]; then echo "terraform is not installed: CI must check terraform fmt" >&2; exit 1; \
	else echo "SKIPPED terraform fmt -check: terraform is not installed (https://developer.hashicorp.com/terraform/install)" >&2; fi
	$(TOOLS)/checkov/bin/checkov --config-file .checkov.yaml

.PHONY: infra-test
infra-test: ## terraform test of the provider-less naming/validation module (offline)
	$(TERRAFORM) -chdir=infra/modules/naming init -backend=false -input=false >/dev/null
	$(TERRAFORM) -chdir=infra/modules/naming test

# The whole first merge of a new repository and AWS account, offline (moto on loopback, GitHub's
# OIDC, concurrency and environment rules), in the order docs/deploying-to-aws.md lists the steps.
COMPLIANCE_BIN := $(TOOLS)/terraform-compliance/bin/terraform-compliance

.PHONY: rehearse
rehearse: $(SYNCED) ## Rehearse the first merge on a new repo + AWS account offline: each step ✓/✗ with why
	python -m modelops.delivery.rehearse --plans tests/infra/fixtures \
		$(if $(wildcard $(COMPLIANCE_BIN)),--compliance $(COMPLIANCE_BIN))

.PHONY: policy
policy: $(TOOLS)/terraform-compliance/.installed ## terraform-compliance policies on plans: make policy PLAN="plan.json [...]" (terraform show -json)
	@test -n "$(PLAN)" || { echo "usage: make policy PLAN=<plan.json from 'terraform show -json tfplan'> [more plans, space-separated]" >&2; exit 2; }
	@for plan in $(PLAN); do test -f "$$plan" || { echo "no such plan file: $$plan" >&2; exit 2; }; done
	@for plan in $(PLAN); do echo "policy: $$plan"; \
		$(TOOLS)/terraform-compliance/bin/terraform-compliance --no-ansi -f infra/policies -p "$$plan" || exit 1; done

# Fail fast, before any download or lock, when what `plan`/`apply` need is missing.
.PHONY: infra-credentials
infra-credentials:
	@command -v $(TERRAFORM) >/dev/null || { echo "terraform is not installed (https://developer.hashicorp.com/terraform/install)" >&2; exit 1; }
	@command -v aws >/dev/null || { echo "the AWS CLI is not installed (pip install awscli, or https://aws.amazon.com/cli/)" >&2; exit 1; }
	@timeout 20 aws sts get-caller-identity >/dev/null 2>&1 || { echo "no usable AWS credentials (or no network to AWS STS): run 'aws configure sso' / set AWS_PROFILE, or use OIDC in CI" >&2; exit 1; }

.PHONY: infra-preflight
infra-preflight:
	@case "$(ENV)" in staging|prod) ;; *) echo "ENV must be staging or prod (got '$(ENV)')" >&2; exit 2;; esac
	@$(MAKE) infra-credentials
	@if [ ! -f $(ENV_BACKEND) ] && [ -n "$${TF_STATE_BUCKET:-}" ]; then $(MAKE) backend-config ENV=$(ENV); fi
	@test -f $(ENV_BACKEND) || { echo "$(ENV_BACKEND) is missing: set TF_STATE_BUCKET (+ AWS_REGION), or write it from the bootstrap outputs (make backend-config ENV=$(ENV))" >&2; exit 1; }

.PHONY: bootstrap
bootstrap: infra-credentials ## Once per AWS account: state bucket, KMS, ECR, GitHub OIDC roles, DVC/MLflow buckets (policy-checked plan)
	@test -f infra/bootstrap/terraform.tfvars || { echo "infra/bootstrap/terraform.tfvars is missing: copy terraform.tfvars.example and set region/repository" >&2; exit 1; }
	$(TERRAFORM) -chdir=infra/bootstrap init -input=false
	$(TERRAFORM) -chdir=infra/bootstrap plan -input=false -out=tfplan
	$(TERRAFORM) -chdir=infra/bootstrap show -json tfplan > infra/bootstrap/tfplan.json
	$(MAKE) policy PLAN=infra/bootstrap/tfplan.json
	$(TERRAFORM) -chdir=infra/bootstrap apply -input=false tfplan
	$(MAKE) backend-config ENV=staging
	$(MAKE) backend-config ENV=prod

.PHONY: backend-config
backend-config: ## Write infra/envs/backend-$(ENV).hcl: from TF_STATE_BUCKET + TF_STATE_KMS_KEY_ARN + AWS_REGION (CI) or the bootstrap's outputs
	@bucket="$${TF_STATE_BUCKET:-}"; region="$${AWS_REGION:-}"; key="$${TF_STATE_KMS_KEY_ARN:-}"; \
	if [ -z "$$bucket" ]; then bucket=$$($(TERRAFORM) -chdir=infra/bootstrap output -raw state_bucket) && \
		region=$$($(TERRAFORM) -chdir=infra/bootstrap output -raw region) && \
		key=$$($(TERRAFORM) -chdir=infra/bootstrap output -raw kms_key_arn); fi && \
	test -n "$$region" || { echo "AWS_REGION is required with TF_STATE_BUCKET" >&2; exit 2; } && \
	test -n "$$key" || { echo "TF_STATE_KMS_KEY_ARN is required with TF_STATE_BUCKET: the state is encrypted with the project's KMS key (bootstrap output kms_key_arn)" >&2; exit 2; } && \
	case "$(ENV)" in staging|prod) ;; *) echo "ENV must be staging or prod (got '$(ENV)')" >&2; exit 2;; esac && \
	printf 'bucket     = "%s"\nregion     = "%s"\nkey        = "envs/%s/terraform.tfstate"\nkms_key_id = "%s"\n' "$$bucket" "$$region" "$(ENV)" "$$key" > $(ENV_BACKEND) && \
	echo "wrote $(ENV_BACKEND) (bucket $$bucket, key envs/$(ENV)/terraform.tfstate, state encrypted with $$key)"

.PHONY: plan
plan: infra-preflight ## terraform plan of infra/envs for ENV -> tfplan-$(ENV) + tfplan-$(ENV).json (IMAGE_URI=<repo>@sha256:...)
	@test -n "$(IMAGE_URI)$${TF_VAR_image_uri:-}" || { echo "IMAGE_URI=<repo>@sha256:<digest> is required (the first apply deploys it; later applies ignore it, releases move the image)" >&2; exit 2; }
	$(TF_ENV) init -input=false -reconfigure -backend-config=backend-$(ENV).hcl
	$(TF_ENV) plan -input=false -lock-timeout=$(LOCK_TIMEOUT) -var-file=$(ENV).tfvars -var environment=$(ENV) -out=tfplan-$(ENV) $(if $(IMAGE_URI),-var image_uri=$(IMAGE_URI))
	$(TF_ENV) show -json tfplan-$(ENV) > $(ENV_DIR)/tfplan-$(ENV).json
	@echo "plan: $(ENV_DIR)/tfplan-$(ENV)   policy check: make policy PLAN=$(ENV_DIR)/tfplan-$(ENV).json"

.PHONY: apply
apply: infra-preflight ## terraform apply of infra/envs for ENV (policy-checked plan first) (IMAGE_URI=...)
	$(MAKE) plan ENV=$(ENV) IMAGE_URI=$(IMAGE_URI)
	$(MAKE) policy PLAN=$(ENV_DIR)/tfplan-$(ENV).json
	$(TF_ENV) apply -input=false -lock-timeout=$(LOCK_TIMEOUT) tfplan-$(ENV)
	@if [ -n "$${GITHUB_OUTPUT:-}" ]; then $(MAKE) env-outputs ENV=$(ENV) >> "$$GITHUB_OUTPUT"; fi

# What deploy.yml reads after an apply. smoke_auth is the function URLs' auth type as `make smoke
# AUTH=` takes it (AWS_IAM -> aws_iam: SigV4-signed calls), so signing follows the stack itself.
.PHONY: env-outputs
env-outputs: ## Print live_url=, candidate_url=, smoke_auth= of ENV's stack (terraform output)
	@auth=$$($(TF_ENV) output -raw function_url_auth_type) && \
	case "$$auth" in AWS_IAM) smoke_auth=aws_iam;; NONE) smoke_auth=none;; \
		*) echo "unexpected function_url_auth_type '$$auth' of ENV=$(ENV)" >&2; exit 1;; esac && \
	echo "live_url=$$($(TF_ENV) output -raw live_url)" && \
	echo "candidate_url=$$($(TF_ENV) output -raw candidate_url)" && \
	echo "smoke_auth=$$smoke_auth"

# The release target's function: FUNCTION_NAME/AWS_REGION if set, else `terraform output`.
define release_env
	@case "$(ENV)" in staging|prod) ;; *) echo "ENV must be staging or prod (got '$(ENV)')" >&2; exit 2;; esac
	$(eval FUNCTION_NAME ?= $(shell $(TF_ENV) output -raw function_name 2>/dev/null))
	$(eval AWS_REGION ?= $(shell $(TF_ENV) output -raw region 2>/dev/null))
	@test -n "$(FUNCTION_NAME)" || { echo "no function for ENV=$(ENV): set FUNCTION_NAME (and AWS_REGION), or run 'make apply ENV=$(ENV)' first" >&2; exit 1; }
endef

.PHONY: release-candidate
release-candidate: $(SYNCED) ## Publish IMAGE_URI=<repo>@sha256:... as a version, point `candidate` at it (ENV=)
	@test -n "$(IMAGE_URI)" || { echo "usage: make release-candidate ENV=<env> IMAGE_URI=<repo>@sha256:<digest>" >&2; exit 2; }
	$(release_env)
	FUNCTION_NAME=$(FUNCTION_NAME) AWS_REGION=$(AWS_REGION) $(RELEASE) candidate "$(IMAGE_URI)"

.PHONY: release-canary
release-canary: $(SYNCED) ## Route WEIGHT (0<W<1) of `live` to the candidate (ENV=)
	@test -n "$(WEIGHT)" || { echo "usage: make release-canary ENV=<env> WEIGHT=<0..1>" >&2; exit 2; }
	$(release_env)
	FUNCTION_NAME=$(FUNCTION_NAME) AWS_REGION=$(AWS_REGION) $(RELEASE) canary "$(WEIGHT)"

.PHONY: release-promote
release-promote: $(SYNCED) ## Send all of `live` to the candidate version (ENV=)
	$(release_env)
	FUNCTION_NAME=$(FUNCTION_NAME) AWS_REGION=$(AWS_REGION) $(RELEASE) promote

.PHONY: release-rollback
release-rollback: $(SYNCED) ## Put `live` back on the version before (ENV=)
	$(release_env)
	FUNCTION_NAME=$(FUNCTION_NAME) AWS_REGION=$(AWS_REGION) $(RELEASE) rollback

.PHONY: release-status
release-status: $(SYNCED) ## Show where `live` and `candidate` point, and their URLs (ENV=)
	$(release_env)
	FUNCTION_NAME=$(FUNCTION_NAME) AWS_REGION=$(AWS_REGION) $(RELEASE) status
