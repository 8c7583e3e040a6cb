// Command valkey-dr-app is the CDK app: it reads CDK context once, validates it into a Config,
// builds the stacks that environment + region + drMode gets (drMode=none: the primary and the
// forced-failover switch in the DR region; stateless: the DR stack) and puts the compliance gate on
// it. It is the only place that reads context or the environment.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/compliance/gate"
	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/stacks"

	"github.com/valkey-dr/valkey-dr/contract"
)

// canaryAssetDir is where the cdk.json build step writes the health canary's bootstrap binary
// (relative to the project directory, where the CLI runs the app).
const canaryAssetDir = ".build/canary"

func main() {
	code := run(func() awscdk.App { return awscdk.NewApp(nil) }, canaryAssetDir, os.Stderr)
	jsii.Close()
	os.Exit(code)
}

// run builds and synthesizes the app newApp returns (under the CLI: context and output
// directory from the CLI's environment; in tests: given) with the canary asset from canaryDir.
// It returns the exit code: 0 synthesized, 2 invalid context, 1 anything else. Errors are one
// clear block on stderr, never a Go or JS stack trace: an operator reads this at 3 a.m.
func run(newApp func() awscdk.App, canaryDir string, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			// jsii turns a JS exception into a Go panic whose message is the JS error; the
			// message is what the operator needs, the trace is not.
			fmt.Fprintf(stderr, "valkey-dr: synthesis failed: %s\n", withoutStack(fmt.Sprint(r)))
			code = contract.ExitFailed
		}
	}()
	app := newApp()
	get := func(key string) any { return app.Node().TryGetContext(jsii.String(key)) }
	selected, err := drcontext.SelectedStack(get(drcontext.KeyStack))
	evidence := selected == drcontext.StackEvidence
	if err == nil && selected != drcontext.StackCache && get(drcontext.KeyMatrix) != nil {
		err = fmt.Errorf("context %q=%s and %q: a matrix synth builds each environment's evidence archive and DNS stacks already; give one of them", drcontext.KeyStack, selected, drcontext.KeyMatrix)
	}
	if err != nil {
		fmt.Fprintf(stderr, "valkey-dr: %v\nNothing was synthesized.\n", err)
		return contract.ExitUsage
	}
	in := drcontext.Input{
		Environments:         get(drcontext.KeyEnvironments),
		Environment:          get(drcontext.KeyEnvironment),
		Region:               get(drcontext.KeyRegion),
		DrMode:               get(drcontext.KeyDrMode),
		HoldPrimaryRouting:   get(drcontext.KeyHoldPrimaryRouting),
		AllowSameRegionDrill: get(drcontext.KeyAllowSameRegionDrill),
		Received:             allContext(app),
		// The evidence archive does not depend on drMode.
		ModeFree: evidence,
	}
	// One Config, or one per cell of --context matrix=all|<environment> (matrix.go).
	cfgs, err := configs(in, get(drcontext.KeyMatrix))
	if err != nil {
		fmt.Fprintf(stderr, "valkey-dr: %v\nNothing was synthesized.\n", err)
		var ce interface{ ExitCode() int }
		if errors.As(err, &ce) {
			return ce.ExitCode()
		}
		return contract.ExitUsage
	}
	var gated []gate.Gated
	for _, cfg := range cfgs.Cells {
		if get(drcontext.KeyMatrix) == nil {
			// A matrix synthesizes every cell on purpose; one cell is what an operator deploys.
			if note := cfg.PostureNote(); note != "" {
				fmt.Fprintf(stderr, "valkey-dr: NOTE: %s\n", note)
			}
		}
		if selected == drcontext.StackDNS {
			// --context stack=dns: the Route 53 records of a stack made on the night, alone, so
			// that `cdk deploy` after validation finds exactly one stack.
			if !cfg.Mode().OnTheNight {
				fmt.Fprintf(stderr, "valkey-dr: context %q=%s: drMode=%s keeps its Route 53 records in its cache stack; %s=%s is the after-validation step of a stack made on the night (drMode=%s)\nNothing was synthesized.\n",
					drcontext.KeyStack, selected, cfg.DrMode, drcontext.KeyStack, drcontext.StackDNS, drcontext.DRMode().Name)
				return contract.ExitUsage
			}
			gated = append(gated, gate.Gated{DNS: stacks.NewDNSStack(app, cfg), Config: cfg})
			continue
		}
		// The health canary's bootstrap binary: the cdk.json build step cross-compiles it there.
		stack := stacks.NewCacheStack(app, cfg, stacks.WithCanary(canaryDir))
		// drMode=none also builds the forced-failover switch in the DR region, which the primary
		// depends on: `cdk deploy <primary stack>` deploys both; a DR synth has one stack only.
		sw := stacks.AttachSwitch(app, cfg, stack)
		g := gate.Gated{Stack: stack, Config: cfg, Switch: sw}
		if get(drcontext.KeyMatrix) != nil && cfg.Mode().OnTheNight {
			// A matrix holds every stack an activation deploys, the DNS step's too: the gate
			// checks it, and activation deploys it from the same assembly.
			g.DNS = stacks.NewDNSStack(app, cfg)
		}
		gated = append(gated, g)
	}
	// --context stack=evidence, or a matrix: the environment's evidence archive, deployed once.
	var archives []gate.GatedEvidence
	for _, cfg := range cfgs.Evidence {
		archives = append(archives, gate.GatedEvidence{Stack: stacks.NewEvidenceStack(app, cfg), Config: cfg})
	}
	// The compliance gate: cdk-nag packs and our rules; a violation fails the synth with
	// CDK's validation report (rule id, construct path, fix).
	gate.ApplyAll(app, gated, archives)
	app.Synth(nil)
	return contract.ExitOK
}

// allContext is every context key the app received, exactly as TryGetContext sees them: the
// CLI's CDK_CONTEXT_JSON (cdk.json, cdk.context.json and --context merged), the overflow file
// the CLI writes when that is too large for the environment, and what the App sets itself.
// Reading it from the construct tree rather than from the environment keeps one source of truth.
func allContext(app awscdk.App) map[string]any {
	all, _ := app.Node().GetAllContext(nil).(map[string]any)
	if all == nil {
		// Never nil: nil would switch the unknown-key check off.
		all = map[string]any{}
	}
	return all
}

// withoutStack drops the JS stack frames ("    at fn (file:line)") jsii appends to an error.
func withoutStack(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "at ") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}
