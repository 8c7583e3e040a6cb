package drkit

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// BuildOptions are the inputs of Build.
type BuildOptions struct {
	// Repo is the repository root (cdk.json, bin/cdk, the Go packages).
	Repo string
	// Environment is the cdk.json environment; required.
	Environment string
	// OutDir receives the tarball and its .sha256 (default <repo>/.build/kit).
	OutDir string
	// Runner runs git, go and the pinned CDK CLI.
	Runner drexec.Runner
	// Stdout receives progress and the commands' output.
	Stdout io.Writer
	// Now is the clock.
	Now func() time.Time
	// Signer signs manifest.json into signature.json (the evidence signer: the environment's
	// KMS key, else the local Ed25519 key); Open refuses a kit no trusted key signed.
	Signer evidence.Signer
}

// Built is a finished kit.
type Built struct {
	// Tarball is the kit; SumFile holds its SHA256 in sha256sum format.
	Tarball, SumFile string
	// SHA256 is the tarball's SHA256 (hex).
	SHA256 string
	// Manifest is what the kit's manifest.json says.
	Manifest Manifest
}

// Environments are the environments of the repository's cdk.json, as a kit is built from
// them; a problem is a usage error (nothing is built).
func Environments(repo string) (map[string]drcontext.Environment, error) {
	raw, err := drcontext.ReadFile(filepath.Join(repo, drcontext.FileName))
	if err != nil {
		return nil, procedure.Usagef("%v", err)
	}
	envs, err := drcontext.Environments(raw[drcontext.KeyEnvironments])
	if err != nil {
		return nil, procedure.Usagef("%v\nNothing was built.", err)
	}
	return envs, nil
}

// Build makes the kit of one environment: for every region of the environment and every
// drMode cdk.json accepts there, `cdk synth` through the pinned CLI — the CDK app runs the
// compliance gate (cdk-nag + VDR rules) as part of its synth, so an assembly exists only if
// the gate passed —, then drctl and validate cross-built for Platforms, the repository files
// activation reads, a manifest with every file's SHA256, and one tarball.
func Build(ctx context.Context, o BuildOptions) (*Built, error) {
	var stderr io.Writer
	procedure.Defaults(&o.Runner, &o.Stdout, &stderr, &o.Now)
	repo, err := procedure.AbsRepo(o.Repo)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(o.Environment) == "" {
		return nil, procedure.Usagef("--env is required: the cdk.json environment the kit is for (make dr-kit ENV=prod)")
	}
	if o.Signer == nil {
		return nil, procedure.Usagef("kit: no signer: a kit is signed when built (docs/evidence.md \"Trust\"). Nothing was built.")
	}
	if o.OutDir == "" {
		o.OutDir = filepath.Join(repo, ".build", "kit")
	}
	if err := runtimeReady(repo); err != nil {
		return nil, err
	}
	envs, err := Environments(repo)
	if err != nil {
		return nil, err
	}
	env, ok := envs[o.Environment]
	if !ok {
		names := make([]string, 0, len(envs))
		for n := range envs {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, procedure.Usagef("--env %q: not an environment of cdk.json; accepted: %s. Nothing was built.", o.Environment, strings.Join(names, ", "))
	}

	r := o.Runner
	say := func(format string, args ...any) { fmt.Fprintf(o.Stdout, "== "+format+"\n", args...) }
	run := func(c drexec.Cmd, what string) (drexec.Result, error) {
		res, err := r.Run(ctx, c)
		if err != nil {
			return res, fmt.Errorf("%s: %w", what, err)
		}
		if res.ExitCode != 0 {
			return res, procedure.Failf("%s: `%s` exited %d: %s", what, c, res.ExitCode, strings.TrimSpace(string(res.Stderr)))
		}
		return res, nil
	}

	m := Manifest{Schema: Schema, Environment: o.Environment, CreatedAt: o.Now().UTC().Format(time.RFC3339)}
	res, err := run(drexec.Cmd{Name: "git", Args: []string{"rev-parse", "HEAD"}, Dir: repo}, "the kit is named after the commit")
	if err != nil {
		return nil, err
	}
	m.Commit = strings.TrimSpace(string(res.Stdout))
	if res, err = run(drexec.Cmd{Name: "git", Args: []string{"status", "--porcelain"}, Dir: repo}, "dirty check"); err != nil {
		return nil, err
	}
	m.Dirty = strings.TrimSpace(string(res.Stdout)) != ""
	name := "valkey-dr-kit-" + o.Environment + "-" + short(m.Commit)
	version := m.Commit
	if m.Dirty {
		name += "-dirty"
		version += "-dirty"
		fmt.Fprintf(o.Stdout, "WARNING: the tree has uncommitted changes: this kit (%s) is not a commit the CI gate passed; do not use it in production\n", name)
	}

	stageRoot := filepath.Join(o.OutDir, ".stage-"+name)
	stage := filepath.Join(stageRoot, name)
	if err := os.RemoveAll(stageRoot); err != nil {
		return nil, err
	}
	defer os.RemoveAll(stageRoot)
	if err := os.MkdirAll(stage, 0o750); err != nil {
		return nil, err
	}

	// The assemblies: every region x drMode cdk.json accepts, gate-checked by the synth. The
	// environment's stacks in their default regions (the ones the runbook deploys) come from
	// ONE synth, --context matrix=<environment>; another region x drMode has a synth of its own.
	regions := make([]string, 0, len(env.Regions))
	for reg := range env.Regions {
		regions = append(regions, reg)
	}
	sort.Strings(regions)
	// Every row of the drMode table: the stateless DR stack, the primary and the warm standby
	// (activating a standby deploys nothing, but repairing one on the night needs its assembly).
	modes := drcontext.Modes
	defaultRegion := map[drcontext.DrMode]string{} // the region of each drMode's matrix cell
	for _, mode := range modes {
		if def, err := drcontext.LoadFile(filepath.Join(repo, drcontext.FileName), drcontext.Request{Environment: o.Environment, DrMode: mode.Name}); err == nil {
			defaultRegion[mode.Name] = def.Region
		}
	}
	say("cdk synth --context %s=%s with the compliance gate: the environment's stacks in their default regions (the first synth builds the CDK app: 1.5-7 minutes on a cold Go cache, seconds when warm)",
		drcontext.KeyMatrix, o.Environment)
	c := drexec.CDK{Repo: repo}.SynthMatrix(o.Environment, filepath.Join(stage, filepath.FromSlash(MatrixAssemblyDir)))
	c.Stdout, c.Stderr = o.Stdout, o.Stdout
	if _, err := run(c, "the compliance gate refused environment "+o.Environment+" (a failed synth is a failed gate; nothing was packed)"); err != nil {
		return nil, err
	}
	for _, reg := range regions {
		for _, mode := range modes {
			cfg, err := drcontext.LoadFile(filepath.Join(repo, drcontext.FileName), drcontext.Request{Environment: o.Environment, Region: reg, DrMode: mode.Name})
			if err != nil {
				m.Skipped = append(m.Skipped, Skip{Region: reg, DrMode: mode.Name, Reason: oneLine(err.Error())})
				say("no %s assembly for %s: cdk.json refuses it: %s", mode.Name, reg, oneLine(err.Error()))
				continue
			}
			if defaultRegion[mode.Name] == reg {
				m.Stacks = append(m.Stacks, Stack{Region: reg, DrMode: mode.Name, Stack: cfg.StackID(), Assembly: MatrixAssemblyDir})
				continue
			}
			rel := AssemblyDir(reg, mode.Name)
			say("cdk synth %s (drMode=%s, %s: not its default region) with the compliance gate", cfg.StackID(), mode.Name, reg)
			c := drexec.CDK{Repo: repo}.SynthGated(drexec.StackOf(cfg), filepath.Join(stage, filepath.FromSlash(rel)))
			c.Stdout, c.Stderr = o.Stdout, o.Stdout
			if _, err := run(c, "the compliance gate refused "+cfg.StackID()+" (a failed synth is a failed gate; nothing was packed)"); err != nil {
				return nil, err
			}
			m.Stacks = append(m.Stacks, Stack{Region: reg, DrMode: mode.Name, Stack: cfg.StackID(), Assembly: rel})
		}
	}
	if len(m.Stacks) == 0 {
		return nil, procedure.Usagef("--env %s: cdk.json accepts no region x drMode: nothing to pack", o.Environment)
	}

	// The binaries: static cross builds, version = commit.
	for _, p := range Platforms {
		for _, t := range Tools {
			out := filepath.Join(stage, filepath.FromSlash(ToolPath(p, t.Name)))
			say("go build %s for %s (CGO_ENABLED=0)", t.Name, p)
			c := drexec.Cmd{Name: "go", Dir: repo, Args: []string{"build", "-trimpath", "-ldflags", "-s -w -X main.version=" + version, "-o", out, t.Package},
				Env: []string{"GOOS=" + p.OS, "GOARCH=" + p.Arch, "CGO_ENABLED=0"}}
			if _, err := run(c, "cross build"); err != nil {
				return nil, err
			}
		}
		m.Platforms = append(m.Platforms, p.String())
	}

	for _, rel := range RepoFiles {
		if err := copyFile(filepath.Join(repo, filepath.FromSlash(rel)), filepath.Join(stage, filepath.FromSlash(rel))); err != nil {
			return nil, err
		}
	}
	// The runtime bin/cdk runs: activation from the kit fetches nothing (runtime.go).
	carried, err := copyRuntime(repo, stage)
	if err != nil {
		return nil, err
	}
	if carried.Node == "" {
		fmt.Fprintf(o.Stdout, "WARNING: node_modules/%s is not installed here (not linux-x64): the kit carries no Node; every runner needs its own Node 24\n", NodePackage)
	}

	v := evidence.CollectVersions(ctx, r, repo)
	gov, _ := r.Run(ctx, drexec.Cmd{Name: "go", Args: []string{"env", "GOVERSION"}, Dir: repo})
	m.Built = Versions{Go: strings.TrimSpace(string(gov.Stdout)), CdkCLI: v.CdkCLI, Node: v.Node, AwsCdkLib: v.AwsCdkLib}
	m.Runtime = runtimeNeeds(carried)
	if err := os.WriteFile(filepath.Join(stage, ReadmeName), []byte(readme(m)), 0o640); err != nil {
		return nil, err
	}
	if m.Files, err = HashTree(stage); err != nil {
		return nil, err
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	mb = append(mb, '\n')
	if err := os.WriteFile(filepath.Join(stage, ManifestName), mb, 0o640); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, signTimeout)
	sig, err := evidence.SignManifest(sctx, o.Signer, mb)
	cancel()
	if err != nil {
		return nil, procedure.Failf("kit: %v. Nothing was packed.", err)
	}
	sb, err := json.MarshalIndent(sig, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(stage, SignatureName), append(sb, '\n'), 0o640); err != nil {
		return nil, err
	}
	tarball := filepath.Join(o.OutDir, name+".tar.gz")
	if err := pack(stage, name, tarball, o.Now()); err != nil {
		return nil, err
	}
	sum, err := fileSHA256(tarball)
	if err != nil {
		return nil, err
	}
	sumFile := tarball + ".sha256"
	if err := os.WriteFile(sumFile, []byte(sum+"  "+filepath.Base(tarball)+"\n"), 0o640); err != nil {
		return nil, err
	}
	say("kit: %s (%d files, sha256 %s), signed by %s", tarball, len(m.Files)+2, sum, o.Signer.KeyID())
	return &Built{Tarball: tarball, SumFile: sumFile, SHA256: sum, Manifest: m}, nil
}

// signTimeout bounds signing the kit's manifest (a kms:Sign call).
const signTimeout = 30 * time.Second

func readme(m Manifest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# valkey-dr DR kit: %s at %s\n\n", m.Environment, m.Commit)
	if m.Dirty {
		b.WriteString("**Built from a tree with uncommitted changes: not for production.**\n\n")
	}
	fmt.Fprintf(&b, "Built %s with %s, CDK CLI %s, Node %s, aws-cdk-lib %s.\n\n", m.CreatedAt, m.Built.Go, m.Built.CdkCLI, m.Built.Node, m.Built.AwsCdkLib)
	b.WriteString("## Needs at run time\n\n")
	fmt.Fprintf(&b, "- Node %s\n- %s\n- %s\n\n", m.Runtime.Node, m.Runtime.CdkCLI, m.Runtime.Notes)
	b.WriteString("## Use (docs/runbook.md, \"DR kit\")\n\n")
	b.WriteString("    tar -xzf <kit>.tar.gz --to-stdout <kit>/tools/linux-amd64/drctl > drctl && chmod +x drctl   # or any platform of tools/\n")
	fmt.Fprintf(&b, "    ./drctl activate --kit <kit>.tar.gz --env %s --region <DR region>\n\n", m.Environment)
	b.WriteString("drctl authenticates signature.json (manifest.json signed by the evidence key: a key the\noperator trusts, docs/evidence.md \"Trust\") and every file against manifest.json before\nanything is extracted or runs, and deploys the assemblies with `cdk deploy --app <assembly>`.\n\n## Assemblies\n\n| region | drMode | stack | directory |\n|---|---|---|---|\n")
	for _, s := range m.Stacks {
		fmt.Fprintf(&b, "| %s | %s | %s | %s/ |\n", s.Region, s.DrMode, s.Stack, s.Assembly)
	}
	for _, s := range m.Skipped {
		fmt.Fprintf(&b, "| %s | %s | not in the kit: %s | |\n", s.Region, s.DrMode, s.Reason)
	}
	return b.String()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, st.Mode().Perm())
	if err != nil {
		return err
	}
	_, cerr := io.Copy(out, in)
	return errors.Join(cerr, out.Close())
}

// pack writes dir as top/ into a gzip tarball: sorted entries, one mtime, no owners, so the
// same tree packs the same way.
func pack(dir, top, tarball string, now time.Time) (err error) {
	tmp := tarball + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	mtime := now.UTC().Truncate(time.Second)
	var paths []string
	if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return err
	}); err != nil {
		return err
	}
	sort.Strings(paths)
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		name := top
		if rel != "." {
			name = top + "/" + filepath.ToSlash(rel)
		}
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: name, ModTime: mtime, Format: tar.FormatPAX}
		switch {
		case st.IsDir():
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, name+"/", 0o755
		default:
			h.Typeflag, h.Size, h.Mode = tar.TypeReg, st.Size(), 0o644
			if st.Mode().Perm()&0o111 != 0 {
				h.Mode = 0o755
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg {
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			_, cerr := io.Copy(tw, in)
			in.Close()
			if cerr != nil {
				return cerr
			}
		}
	}
	if err := errors.Join(tw.Close(), gz.Close(), f.Close()); err != nil {
		return err
	}
	return os.Rename(tmp, tarball)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
