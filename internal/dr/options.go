package dr

import (
	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/kit"
)

// Common are the inputs every real-account procedure takes (drctl's flags shared by
// activate, failback, route and teardown).
type Common struct {
	// Repo is the repository root (bin/cdk, cdk.json, ./validate).
	Repo string
	// Environment is a key of cdk.json's environments (ENV=prod); required.
	Environment string
	// Region is the region to act in; activation requires it (the DR region is a decision,
	// runbook step 1), failback defaults to primaryRegion, teardown to drRegion.
	Region string
	// EvidenceRoot receives the bundles (default <repo>/evidence).
	EvidenceRoot string
	// WorkRoot receives working files (default <repo>/.build/dr).
	WorkRoot string
	// Who is the reason, ticket, approver and incident start (required in production).
	Who evidence.Who
	// SigningKeyFile is the local Ed25519 key (non-production without evidence.signingKeyArn);
	// "" means <WorkRoot>/evidence-ed25519.key (drctl passes evidence.DefaultLocalKeyPath).
	SigningKeyFile string
	// NoArchive skips the upload to the evidence bucket (it is then printed how to do it later).
	NoArchive bool
	// Run is who and what started the run (approver, run URL, reason, ticket), recorded in
	// the metadata under "run"; see RunContextFromEnv.
	Run map[string]string
	// CDKJSON is cdk.json, read once for the run (drctl reads it before anything runs); every
	// Config the procedure needs is selected from it. nil: the procedure reads <Repo>/cdk.json.
	CDKJSON *drcontext.File
}

// DeployOptions are the inputs of the procedures that deploy and validate (activate,
// failback); drctl's flags shared by the two.
type DeployOptions struct {
	// NoRecheck skips the re-check a few alarm periods after the run's switch (activation's
	// forced switch, failback's clearing it), recorded as unknown: the run ends when the
	// request is in the data stream (`make dr-route` can look again later).
	NoRecheck bool
	// Validator is a prebuilt validator binary; "" builds ./validate in preflight.
	Validator string
	// Approval is cdk deploy's --require-approval policy (default broadening).
	Approval string
	// Local runs the validator on this machine instead of through the canary (a bastion or
	// VPN host that reaches the VPC).
	Local bool
	// AllowReplacement deploys although the replacement check found an update CloudFormation
	// cannot make (replacement.go): the operator's acknowledgment, recorded in the evidence.
	AllowReplacement bool
}

// ActivateOptions are activate's inputs (make dr-activate).
type ActivateOptions struct {
	Common
	DeployOptions
	// Route is the routing after validation: auto (leave it to the health checks) or force
	// (request failover after validation passed); see RouteModes.
	Route string
	// Kit is an opened, verified DR kit (drkit.Open): activation deploys its assemblies and
	// runs its validator; nil synthesizes from the repository.
	Kit *drkit.Kit
}

// FailbackOptions are failback's inputs (make dr-failback).
type FailbackOptions struct {
	Common
	DeployOptions
}

// TeardownOptions are teardown's inputs (make dr-teardown).
type TeardownOptions struct {
	Common
	// Confirm must equal the DR stack name for teardown to delete anything.
	Confirm string
	// DisableTerminationProtection turns the stack's termination protection off first.
	DisableTerminationProtection bool
	// AllowWithoutPrimary proceeds when the primary stack does not own the service name
	// (failback not finished).
	AllowWithoutPrimary bool
}

// RouteOptions are route's inputs (make dr-route).
type RouteOptions struct {
	Common
	// NoRecheck skips the re-check a few alarm periods after the switch (recorded as unknown).
	NoRecheck bool
	// To is the destination: a RouteTargets name (dr or primary).
	To string
}
