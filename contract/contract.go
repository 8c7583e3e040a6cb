// Package contract holds the names two programs agree on: stack output keys and the outputs-file
// parser, the canary's environment and metric names, auth modes, failover roles, ports, exit
// codes and limits. Pure Go that imports nothing of ours (a test enforces it), so the CDK app,
// the validator, the canary Lambda and the DR tools can all depend on it.
package contract

// AuthMode is how applications authenticate to the cache (RBAC is the only access control on
// ElastiCache Serverless). The stack emits it as the AuthMode output; the canary reads it from
// EnvAuthMode.
type AuthMode string

// The accepted auth modes.
const (
	AuthPassword AuthMode = "password" // user group + password user, password in Secrets Manager
	AuthIAM      AuthMode = "iam"      // user group + IAM-auth user (user name == user id)
	AuthNone     AuthMode = "none"     // no user group: default user, TLS only; refused in production
)

// Route 53 failover roles of the service name (docs/design.md, "Routing"): the primary stack owns the
// PRIMARY record with its health check, the DR stack the SECONDARY one.
const (
	RolePrimary   = "PRIMARY"
	RoleSecondary = "SECONDARY"
)

// Ports of an ElastiCache Serverless endpoint: read/write, and read-from-replica on the same
// hostname (reads there need READONLY). docs.aws.amazon.com/AmazonElastiCache/latest/dg/ReadReplicas.html
const (
	PortPrimary = 6379
	PortReader  = 6380
)

// MaxTTLSeconds is the longest Route 53 TTL allowed: after a failover, resolvers must stop
// answering with the failed region's endpoint within a minute.
const MaxTTLSeconds = 60

// Exit codes of every binary (validate, validate probe/watch, drctl, check, summarize, the CDK
// app). Scripts and the runbook branch on them: never renumber one.
const (
	// ExitOK: everything passed.
	ExitOK = 0
	// ExitFailed: a check or a phase failed (validate, drctl, check, summarize).
	ExitFailed = 1
	// ExitUsage: bad input, configuration or a refusal (missing confirmation).
	ExitUsage = 2
	// ExitDegraded, ExitUnreachable and ExitInconclusive are validate probe's verdicts.
	ExitDegraded     = 3
	ExitUnreachable  = 4
	ExitInconclusive = 5
	// ExitInterrupted: a signal (SIGINT/SIGTERM) stopped a DR procedure (128 + SIGINT).
	ExitInterrupted = 130
)
