// Command validate proves that a valkey-dr cache works right after `cdk deploy` (runbook step 4)
// and writes evidence fit for an audit (runbook section 9).
//
//	go run ./validate --outputs cdk-outputs.json --stack ValkeyDr-prod-us-west-2-dr --evidence-dir evidence/
//
// With no subcommand (or `run`) it runs the validation once (exit status: 0 every check passed,
// 1 a check failed, 2 usage or configuration error). `watch` sends session-like traffic and
// judges it against SLA flags (runbook section 7; exit 0 held, 1 not); `probe` answers healthy
// (0), degraded (3), unreachable (4) or inconclusive (5) (runbook section 5).
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/buildinfo"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; otherwise it comes from
// the module build info (VCS revision) or stays "dev".
var version = "dev"

// toolName names the binary in output and evidence.
const toolName = "valkey-dr-validate"

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// Main dispatches a subcommand and returns the exit status. Flags first (or no argument) means
// `run`, so `validate --outputs x` and `validate run --outputs x` are the same.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "run":
			return run(args[1:], stdout, stderr, defaultDeps())
		case "watch":
			return watchCmd(args[1:], stdout, stderr, defaultDeps())
		case "probe":
			return probeCmd(args[1:], stdout, stderr, defaultDeps())
		case "help":
			return run([]string{"--help"}, stdout, stderr, defaultDeps())
		case "version":
			return run([]string{"--version"}, stdout, stderr, defaultDeps())
		default:
			fmt.Fprintf(stderr, "%s: unknown command %q: want run (the default), watch, probe, help or version\n", toolName, args[0])
			return contract.ExitUsage
		}
	}
	return run(args, stdout, stderr, defaultDeps())
}

// toolVersion is the version every output names: the -ldflags stamp, else the module
// version, else dev-<VCS revision>[-dirty] (internal/buildinfo: one rule for every binary).
func toolVersion() string { return buildinfo.Version(version) }

func goVersion() string { return runtime.Version() }
