package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/buildinfo"
	"github.com/valkey-dr/valkey-dr/internal/dr"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/kit"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
	"github.com/valkey-dr/valkey-dr/internal/termsafe"
)

// activateOptions are `drctl activate`'s inputs: the procedure's and the kit's.
type activateOptions struct {
	dr.ActivateOptions
	// kitFile is --kit: the DR kit tarball to authenticate and deploy from.
	kitFile string
	// kitTrust are --trusted-key files the kit's signature is checked against.
	kitTrust multi
	// allowOldKit accepts a kit older than drkit.MaxAge.
	allowOldKit bool
}

// NewCmdActivate is `drctl activate`'s flag set (runbook section 6), bound to o.
func NewCmdActivate(o *activateOptions, stderr io.Writer) *flag.FlagSet {
	fs := newProcedureFlags("activate", &o.Common, stderr)
	validatorFlag(fs, &o.Validator)
	deployFlags(fs, &o.Approval, &o.AllowReplacement, &o.Local)
	recheckFlag(fs, &o.NoRecheck)
	fs.StringVar(&o.Route, "route", "", "routing after validation: `"+strings.Join(dr.RouteModeNames(), "|")+"` (auto: the health checks decide; force: request failover); "+
		"default auto, force for an environment whose drPosture is standby (its activation is the switch)")
	fs.StringVar(&o.kitFile, "kit", "", "DR kit `tarball` (make dr-kit): authenticate it, deploy its gate-checked assembly; no Go, no synth")
	fs.BoolVar(&o.allowOldKit, "allow-old-kit", false, fmt.Sprintf("with --kit: accept a kit built more than %d days ago (refused otherwise: it deploys the stack as it was then)", int(drkit.MaxAge.Hours()/24)))
	fs.Var(&o.kitTrust, "trusted-key", "with --kit: PEM `file` of public keys the kit's signature is checked against (repeatable; with "+
		evidence.DefaultTrustedKeysPath()+" and --signing-key's public half; docs/evidence.md \"Trust\")")
	return fs
}

// activateRun is `drctl activate`: the kit opened when given, then dr.Activate.
func activateRun(ctx context.Context, o *activateOptions, stdout, stderr io.Writer) error {
	if err := runContext(&o.Common); err != nil {
		return err
	}
	if o.kitFile != "" {
		// The kit's own cdk.json cannot say whom to trust: only keys this machine holds.
		keys, err := trustedKeys(o.kitTrust, o.SigningKeyFile, stderr)
		if err != nil {
			return err
		}
		if err := openKit(ctx, o.kitFile, keys, &o.ActivateOptions, o.Validator != "", o.allowOldKit, stdout); err != nil {
			return err
		}
	}
	problems := func(cfg *drcontext.Config) []string {
		probs := approvalProblem(o.Approval)
		if o.Route != "" && !slices.Contains(dr.RouteModeNames(), o.Route) {
			probs = append(probs, fmt.Sprintf("--route %q (ROUTE=): want %s", o.Route, strings.Join(dr.RouteModeNames(), " or ")))
		}
		if strings.TrimSpace(o.Region) == "" {
			hint := ""
			if cfg != nil {
				hint = fmt.Sprintf(" (cdk.json's drRegion for %s is %s: REGION=%s)", cfg.EnvironmentName, cfg.Region, cfg.Region)
			}
			probs = append(probs, "--region (REGION=) is required for activation: name the DR region explicitly (runbook step 1: the DR region is designated)"+hint)
		}
		return probs
	}
	return runProcedure(ctx, &o.Common, o.Kit, problems, func(d dr.Deps) (*dr.Result, error) {
		return dr.Activate(ctx, o.ActivateOptions, d)
	}, stdout, stderr)
}

// openKit is activate --kit: extract and verify the kit under the current directory's
// .build/kit-run before anything else runs, then point the procedure at it: its cdk.json, its
// assemblies, its validator. Evidence and work files stay in the current directory (not in
// the extracted kit, which is deleted on the next run).
func openKit(ctx context.Context, tarball string, keys []evidence.TrustedKey, o *dr.ActivateOptions, validatorGiven, allowOld bool, stdout io.Writer) error {
	if o.Repo != "." && o.Repo != "" {
		return procedure.Usagef("--repo and --kit: give one (the kit carries the cdk.json and assemblies it deploys). Nothing was run.")
	}
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	k, err := drkit.Open(ctx, tarball, filepath.Join(cwd, ".build", "kit-run"), keys)
	if err != nil {
		return err
	}
	m := k.Manifest
	dirty := ""
	if m.Dirty {
		dirty = " (DIRTY: built from uncommitted changes, not a commit the gate passed)"
	}
	if o.Environment == "" {
		o.Environment = m.Environment
	}
	if o.Environment != m.Environment {
		_ = os.RemoveAll(k.Dir)
		return procedure.Usagef("--env %s: the kit %s is for environment %s: use that environment's kit (make dr-kit ENV=%s). Nothing was run.",
			termsafe.Quote(o.Environment), termsafe.Quote(filepath.Base(tarball)), termsafe.Quote(m.Environment), termsafe.Escape(o.Environment))
	}
	// A kit deploys the stack as it was when built: one older than drkit.MaxAge is one the
	// scheduled rebuild (synth.yml) did not refresh.
	age, aerr := m.Age(time.Now())
	if aerr != nil || age > drkit.MaxAge {
		built := fmt.Sprintf("was built %s (%d days ago)", m.CreatedAt, int(age.Hours()/24))
		if aerr != nil {
			built = "has no build date: " + aerr.Error()
		}
		msg := fmt.Sprintf("the kit %s %s: older than the %d-day limit for activation (drkit.MaxAge)",
			filepath.Base(tarball), built, int(drkit.MaxAge.Hours()/24))
		if !allowOld {
			_ = os.RemoveAll(k.Dir)
			return procedure.Usagef("%s: use a fresh kit (CI rebuilds every kit weekly: the synth workflow's dr-kit artifact; or make dr-kit ENV=%s), "+
				"or, knowing it deploys the stack as it was then, pass --allow-old-kit. Nothing was run.", termsafe.Escape(msg), termsafe.Escape(m.Environment))
		}
		fprintf(stdout, "WARNING: %s; used anyway (--allow-old-kit)\n", termsafe.Escape(msg))
	}
	if !validatorGiven {
		if o.Validator, err = k.Tool("validate"); err != nil {
			return err
		}
	}
	o.Repo = k.Dir
	if o.EvidenceRoot == "" {
		o.EvidenceRoot = filepath.Join(cwd, "evidence")
	}
	if o.WorkRoot == "" {
		o.WorkRoot = filepath.Join(cwd, ".build", "dr")
	}
	o.Kit = k
	fprintf(stdout, "%s\n", termsafe.Escape(fmt.Sprintf("kit: %s authenticated by drctl %s: signed by trusted key %s; %d files match manifest.json (commit %s%s, built %s, sha256 %s)",
		filepath.Base(tarball), buildinfo.Version(version), k.KeyID, len(m.Files), m.Commit, dirty, m.CreatedAt, k.TarballSHA256)))
	return nil
}
