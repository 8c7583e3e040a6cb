package evidence

import (
	"path/filepath"

	"github.com/valkey-dr/valkey-dr/internal/assembly"
)

// The evidence bundle's layout, declared once: every procedure writes these names and nothing
// else decides a file name. docs/runbook.md describes the same layout for auditors.
const (
	// FileReadme says what the bundle is (generated at Finish).
	FileReadme = "README.md"
	// FileMetadata is the procedure's metadata (environment, stack, versions, verdict).
	FileMetadata = "metadata.json"
	// FileTimelineJSON and FileTimelineText are the phases with UTC timestamps and durations.
	FileTimelineJSON = "timeline.json"
	FileTimelineText = "timeline.txt"
	// FileCommands is every external command run, with exit codes and durations.
	FileCommands = "commands.json"
	// FilePreflight is what the preflight found (credentials, bootstrap, the primary probe).
	FilePreflight = "preflight.json"
	// FilePlanJSON and FilePlanText are teardown's plan (what a destroy removes).
	FilePlanJSON = "plan.json"
	FilePlanText = "plan.txt"
	// FileStackOutputs is the deployed (or, in a drill, stand-in) stack outputs file; the
	// held/released variants are failback's two deploys.
	FileStackOutputs         = "stack-outputs.json"
	FileStackOutputsHeld     = "stack-outputs-held.json"
	FileStackOutputsReleased = "stack-outputs-released.json"
	// FileStackOutputsNote explains a drill's stand-in outputs.
	FileStackOutputsNote = "stack-outputs.NOTE.md"
	// The cdk deploy / destroy logs.
	FileDeployLog = "deploy.log"
	// FileDNSDeployLog is the after-validation DNS stack's deploy (a stack made on the night).
	FileDNSDeployLog = "deploy-dns.log"
	// FileDNSReplacement is the replacement check before that deploy (preflight.json has the
	// cache stack's).
	FileDNSReplacement   = "replacement-dns.json"
	FileDeployHeldLog    = "deploy-held.log"
	FileDeployReleaseLog = "deploy-release.log"
	// FileReleaseReplacement is the replacement check before failback's release deploy.
	FileReleaseReplacement = "replacement-release.json"
	FileDestroyLog         = "destroy.log"
	// FileDestroyDNSLog is the teardown's destroy of the DR cache's DNS stack.
	FileDestroyDNSLog = "destroy-dns.log"
	// FileRouteBefore and FileRouteAfter are the forced-failover switch (its alarm in the DR
	// region, the PRIMARY record's health checks) before and after drctl route published.
	FileRouteBefore = "route-before.json"
	FileRouteAfter  = "route-after.json"
	// FileCanaryPreflight is the canary's Success read back before routing is released.
	FileCanaryPreflight = "canary-preflight.json"
	// DirValidation holds the validator's evidence (report.json, junit.xml, summary.md).
	DirValidation = "validation"
	// DirRouting holds the Route 53 record changes, one <step>.json and <step>.md each.
	DirRouting = "routing"
)

// Routing steps: the names of the record changes under DirRouting.
const (
	RoutingActivation      = "activation"
	RoutingFailbackRelease = "failback-release"
	RoutingTeardown        = "teardown"
)

// WriteRouting puts a routing change into the bundle as DirRouting/<step>.json and .md.
func (b *Bundle) WriteRouting(step string, c assembly.RoutingChange) error {
	if err := b.WriteJSON(filepath.Join(DirRouting, step+".json"), c); err != nil {
		return err
	}
	return b.WriteFile(filepath.Join(DirRouting, step+".md"), []byte(c.Markdown()))
}
