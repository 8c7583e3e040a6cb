package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	drcontext "github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/assembly"
	"github.com/valkey-dr/valkey-dr/internal/repotest"
)

// oneSynth is one `cdk synth` as an operator or a pipeline types it, and what it left.
type oneSynth struct {
	name string   // subtest name
	ctx  []string // --context values
	// want: the stacks `cdk deploy` finds in its cloud assembly, in order (checked with cdk ls);
	// nil: not checked.
	want []string
	out  string // its cloud assembly
}

// cell is one synth of the matrix as its own app: its context keys (besides cdk.json's) and
// the subtest name.
type cell struct {
	name string
	ctx  map[string]string
	// cli: the synth that also runs through the real CLI: the runbook's DR command (step 2).
	// (The CLI's example synths run in CI: make drill's matrix=example, make check's matrix=all.)
	cli bool
	// want: for prod, the stacks `cdk deploy` must find in the cell's assembly (cdk ls order).
	want []string
}

// matrixCells is every one-by-one synth of the matrix: each environment x drMode as operators
// type it (the runbook's DR command names its region; the matrix takes the default one) and
// each environment's evidence archive (--context stack=evidence).
func matrixCells(t *testing.T) (cells []cell, envs int) {
	t.Helper()
	ctx, err := drcontext.ReadFile(drcontext.FileName)
	if err != nil {
		t.Fatal(err)
	}
	mcells, err := drcontext.Matrix(ctx[drcontext.KeyEnvironments])
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range mcells {
		cfg, err := drcontext.LoadFile(drcontext.FileName, drcontext.Request{Environment: c.Environment, DrMode: c.DrMode})
		if err != nil {
			t.Fatal(err)
		}
		prod := c.Environment == "prod"
		dr := !cfg.Mode().Primary // stateless and the warm standby
		one := cell{name: c.Environment + "-" + string(c.DrMode), cli: prod && dr,
			ctx: map[string]string{drcontext.KeyEnvironment: c.Environment, drcontext.KeyDrMode: string(c.DrMode)}}
		if prod {
			// What the runbook's deploy (step 2) and a primary deploy would find.
			one.want = []string{cfg.StackID()}
			if cfg.HasSwitchStack() {
				one.want = append(one.want, cfg.SwitchStackID())
			}
		}
		if dr {
			one.ctx[drcontext.KeyRegion] = c.Region
		}
		cells = append(cells, one)
		if cfg.Mode().OnTheNight {
			// The after-validation DNS stack (--context stack=dns): the matrix holds it too.
			dns := cell{name: one.name + "-dns", ctx: map[string]string{drcontext.KeyStack: drcontext.StackDNS}}
			for k, v := range one.ctx {
				dns.ctx[k] = v
			}
			if prod {
				dns.want = []string{cfg.DNSStackID()}
			}
			cells = append(cells, dns)
		}
		if !seen[c.Environment] {
			seen[c.Environment] = true
			cells = append(cells, cell{name: c.Environment + "-evidence",
				ctx: map[string]string{drcontext.KeyEnvironment: c.Environment, drcontext.KeyStack: drcontext.StackEvidence}})
		}
	}
	return cells, len(seen)
}

// TestMatrixSynthEqualsOneByOne: the one-process matrix (--context matrix=all) builds the same
// stacks, templates and cdk-nag reports as every one-by-one synth of it (issue 14 item 1), each
// cell its own App, all in this process: the app's run() with the context the CLI would give it
// (cdk.json's, path and asset metadata and version reporting on). The matrix synth runs
// aws-cdk-lib's built-in CloudFormation validation over every stack of cdk.json (the tests'
// only in-process run of it: cdktest.NoCFNValidation). The CLI's part (its context,
// the build step) is the same for every synth; TestCLISynthesis runs the operators' synths and
// the matrix through it and compares those.
func TestMatrixSynthEqualsOneByOne(t *testing.T) {
	repotest.RequireNode(t)
	cells, envs := matrixCells(t)
	// The asset is the same directory for every synth here: its content does not matter to
	// the comparison (the CLI's synths use the cross-built canary).
	canary := fakeCanary(t)
	root := t.TempDir()
	// validated: aws-cdk-lib's built-in CloudFormation validation on (the matrix: every stack of
	// cdk.json once); the one-by-one synths skip it, which changes no file compared.
	synth := func(name string, ctx map[string]string, validated bool) string {
		t.Helper()
		out := filepath.Join(root, name)
		extra := map[string]any{
			"aws:cdk:enable-path-metadata":  true,
			"aws:cdk:enable-asset-metadata": true,
			"aws:cdk:version-reporting":     true,
		}
		for k, v := range ctx {
			extra[k] = v
		}
		if stderr, code := inProcess(t, out, canary, extra, validated); code != 0 {
			t.Fatalf("synth %s %v: exit %d\n%s", name, ctx, code, stderr)
		}
		return out
	}
	alone := map[string]string{} // file name -> content, from the one-by-one synths
	for _, c := range cells {
		out := synth(c.name, c.ctx, false)
		noWarnings(t, c.name, out)
		if c.want != nil {
			// What `cdk deploy` finds there (TestCLISynthesis asks `cdk ls` for the runbook's).
			m, err := assembly.ReadManifest(out)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := m.StackNames(), slices.Sorted(slices.Values(c.want)); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: the assembly holds the stacks %v, want %v", c.name, got, c.want)
			}
		}
		for name, content := range gateFiles(t, out) {
			if _, dup := alone[name]; dup {
				t.Fatalf("%s is synthesized by two one-by-one synths", name)
			}
			alone[name] = content
		}
	}
	matrix := synth("matrix", map[string]string{drcontext.KeyMatrix: drcontext.MatrixAll}, true)
	noWarnings(t, "matrix", matrix)
	// The validation found nothing at any severity (a warning would be printed on an
	// operator's synth and deploy as well).
	rep, err := assembly.ReadValidationReport(matrix)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.PluginReports {
		for _, v := range p.Violations {
			t.Errorf("matrix: %s %s %s: %s", p.PluginName, v.Severity, v.RuleName, v.Description)
		}
	}
	together := gateFiles(t, matrix)
	if templates := sameFiles(t, byMatrix, together, oneByOne, alone); templates != envs*6 {
		// Every environment's primary, switch, DR, DR DNS, warm standby and evidence stack.
		t.Errorf("%d templates, want %d", templates, envs*6)
	}

	// `--context matrix=<environment> --context region=<r>` (dr-activate into a DR region
	// cdk.json defines but the drMode does not default to): that environment's DR stack as the
	// one-by-one DR synth with that region builds it, its other stacks as one-by-one synthesis
	// does. cdk.json's environments get a third prod region for it.
	third := map[string]any{drcontext.KeyEnvironments: withRegion(t, "prod", "us-west-2", "us-west-1",
		"arn:aws:kms:us-west-1:222222222222:key/44444444-4444-4444-4444-444444444444")}
	withCtx := func(ctx map[string]string) map[string]string {
		b, _ := json.Marshal(third[drcontext.KeyEnvironments])
		ctx[drcontext.KeyEnvironments] = string(b) // a JSON string, as --context environments='{...}'
		return ctx
	}
	// The region moves the environment's DR posture (what an activation acts on): prod's is the
	// warm standby, which has no DNS stack; the stateless DR stack stays in its default region.
	prodCfg, err := drcontext.LoadFile(drcontext.FileName, drcontext.Request{Environment: "prod", DRPosture: true})
	if err != nil {
		t.Fatal(err)
	}
	posture := prodCfg.Mode()
	movedStack := "ValkeyDr-prod-us-west-1-" + posture.StackRole
	drAlone := gateFiles(t, synth("prod-dr-us-west-1", withCtx(map[string]string{drcontext.KeyEnvironment: "prod",
		drcontext.KeyDrMode: string(posture.Name), drcontext.KeyRegion: "us-west-1"}), false))
	moved := gateFiles(t, synth("matrix-prod-us-west-1", withCtx(map[string]string{drcontext.KeyMatrix: "prod", drcontext.KeyRegion: "us-west-1"}), false))
	if posture.OnTheNight {
		for name, content := range gateFiles(t, synth("prod-dr-dns-us-west-1", withCtx(map[string]string{drcontext.KeyEnvironment: "prod",
			drcontext.KeyDrMode: string(posture.Name), drcontext.KeyRegion: "us-west-1", drcontext.KeyStack: drcontext.StackDNS}), false)) {
			drAlone[name] = content
		}
	}
	if _, ok := drAlone[movedStack+".template.json"]; !ok {
		t.Fatalf("the one-by-one DR synth in us-west-1 wrote %v", slices.Sorted(maps.Keys(drAlone)))
	}
	want := map[string]string{}
	for name, content := range alone {
		if strings.Contains(name, "ValkeyDr-prod-") && !strings.Contains(name, "ValkeyDr-prod-us-west-2-"+posture.StackRole) {
			want[name] = content // prod's other stacks, one by one
		}
	}
	for name, content := range drAlone {
		want[name] = content
	}
	sameFiles(t, byMatrix, moved, oneByOne, want)
}

// withRegion is cdk.json's environments with environment env given region to, a copy of
// region from's settings with its own KMS key.
func withRegion(t *testing.T, env, from, to, kmsKeyArn string) map[string]any {
	t.Helper()
	b, err := json.Marshal(repotest.CDKContext(t)[drcontext.KeyEnvironments])
	if err != nil {
		t.Fatal(err)
	}
	var envs map[string]any
	if err := json.Unmarshal(b, &envs); err != nil { // a deep copy
		t.Fatal(err)
	}
	regions := envs[env].(map[string]any)["regions"].(map[string]any)
	r := map[string]any{}
	for k, v := range regions[from].(map[string]any) {
		r[k] = v
	}
	r["kmsKeyArn"] = kmsKeyArn
	regions[to] = r
	return envs
}

// noWarnings fails the test when the app left a warning or error annotation in the assembly
// (a deprecated API, a feature flag CDK asks about, a construct's own warning): the CLI prints
// those on every synth and deploy, and an operator at 3 a.m. must not have to wonder about them.
// Deprecated jsii APIs fail the synth outright (JSII_DEPRECATED=fail, set in TestMain).
func noWarnings(t *testing.T, name, dir string) {
	t.Helper()
	type entry struct {
		Type string `json:"type"`
		Data any    `json:"data"`
	}
	// The stack metadata: in manifest.json, or (CDK >= 2.1xx) in <stack>.metadata.json.
	var m struct {
		Artifacts map[string]struct {
			Metadata map[string][]entry `json:"metadata"`
		} `json:"artifacts"`
	}
	if err := readJSON(filepath.Join(dir, "manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	all := map[string][]entry{}
	for _, a := range m.Artifacts {
		for path, es := range a.Metadata {
			all[path] = append(all[path], es...)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		var md map[string][]entry
		if err := readJSON(f, &md); err != nil {
			t.Fatal(err)
		}
		for path, es := range md {
			all[path] = append(all[path], es...)
		}
	}
	if len(all) == 0 {
		t.Fatalf("%s: no stack metadata in %s: where does this CDK version write it?", name, dir)
	}
	for path, es := range all {
		for _, e := range es {
			if e.Type == "aws:cdk:warning" || e.Type == "aws:cdk:error" {
				t.Errorf("%s: %s at %s: %v", name, e.Type, path, e.Data)
			}
		}
	}
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Labels of sameFiles' two sides.
const (
	byMatrix   = "the matrix synth"
	oneByOne   = "one-by-one synthesis"
	byCLI      = "the CLI's synth"
	inThisProc = "the synth in this process"
)

// sameFiles fails the test unless got (written by gotBy) holds exactly want's files (written by
// wantBy) with the same JSON; it returns how many templates it compared.
func sameFiles(t *testing.T, gotBy string, got map[string]string, wantBy string, want map[string]string) (templates int) {
	t.Helper()
	together, alone := got, want
	if g, w := slices.Sorted(maps.Keys(together)), slices.Sorted(maps.Keys(alone)); !reflect.DeepEqual(g, w) {
		t.Fatalf("%s wrote\n  %v\n%s wrote\n  %v", gotBy, g, wantBy, w)
	}
	for name, want := range alone {
		if strings.HasSuffix(name, ".template.json") {
			templates++
		}
		var a, b any
		if err := json.Unmarshal([]byte(want), &a); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := json.Unmarshal([]byte(together[name]), &b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s differs between %s and %s", name, gotBy, wantBy)
		}
	}
	return templates
}

// TestCLISynthesis runs the runbook's prod DR command through the real CLI as an operator types
// it (notices on), then checks:
//   - the runbook's DR command (step 2, which names no stack) builds exactly the DR stack, so
//     `cdk deploy` neither refuses nor deploys more (cdk ls; TestMatrixSynthEqualsOneByOne
//     checks a primary synth's stacks, its switch with it, in the assembly's manifest);
//   - it prints no end-of-life, feature-flag or deprecation notice (the CLI's and Node's, the same
//     for every environment; TestMatrixSynthEqualsOneByOne finds the app's own warnings in every
//     cell, and fails on a deprecated API in any);
//   - the runbook's DR command writes the same template and cdk-nag reports as the same cell
//     synthesized in this process, as TestMatrixSynthEqualsOneByOne synthesizes every cell and
//     the matrix: what that test compares is what the CLI writes. (The CLI's matrix synths run
//     in CI: make check's matrix=all, the drill's matrix=example.)
//
// Version reporting is on everywhere (no --no-version-reporting), as in an operator's synth;
// the built-in CloudFormation validation is not (TestMatrixSynthEqualsOneByOne runs it over every
// stack, and the compliance tests prove the CLI's validated synth fails on what it refuses).
func TestCLISynthesis(t *testing.T) {
	cells, _ := matrixCells(t)
	var synths []*oneSynth
	var runbook *cell
	for _, c := range cells {
		if !c.cli {
			continue
		}
		s := &oneSynth{name: c.name, want: c.want}
		for _, k := range slices.Sorted(maps.Keys(c.ctx)) {
			s.ctx = append(s.ctx, k+"="+c.ctx[k])
		}
		synths = append(synths, s)
		if c.want != nil {
			runbook = &c
		}
	}
	root := t.TempDir() // the assemblies outlive the subtests that write them
	t.Run("synth", func(t *testing.T) {
		for _, s := range synths {
			s.out = filepath.Join(root, s.name)
			t.Run(s.name, func(t *testing.T) {
				// --no-validation: TestMatrixSynthEqualsOneByOne runs the built-in validation
				// over every stack in-process; it changes no file compared here. No
				// --no-notices: whatever the CLI has to say, an operator would read.
				args := []string{"synth", "--quiet", "--no-validation", "--output", s.out}
				stdout, stderr, code := runCLI(t, args, s.ctx...)
				if code != 0 {
					t.Fatalf("cdk synth %v exited %d:\n%s%s", s.ctx, code, stdout, stderr)
				}
				for _, noise := range []string{"end-of-life", "End-of-Life", "EOL", "feature flag", "deprecated", "WARNING"} {
					if strings.Contains(stdout+stderr, noise) {
						t.Errorf("cdk synth %v mentions %q:\n%s%s", s.ctx, noise, stdout, stderr)
					}
				}
			})
		}
	})
	if t.Failed() {
		return
	}
	// What `cdk deploy` would find: `cdk ls` of the synthesized assembly (no second synth).
	cli := repotest.CDKCLI(t)
	var lsWG sync.WaitGroup
	lsErr := make([]string, len(synths))
	var fromCLI string // the runbook's DR command's assembly
	for i, s := range synths {
		if s.want == nil {
			continue
		}
		fromCLI = s.out
		lsWG.Add(1)
		go func() {
			defer lsWG.Done()
			stdout, stderr, code := runCLIResult(cli, []string{"ls", "--no-notices", "--app", s.out, "--output", s.out})
			got := strings.Fields(stdout)
			if code != 0 || strings.Join(got, " ") != strings.Join(s.want, " ") {
				lsErr[i] = fmt.Sprintf("cdk ls of cdk synth %v: exit %d, stacks %v, want %v\n%s", s.ctx, code, got, s.want, stderr)
			}
		}()
	}
	// Meanwhile the same cell in this process, as TestMatrixSynthEqualsOneByOne builds it,
	// with the canary the CLI's build step cross-compiled (the asset hash is in the template).
	extra := map[string]any{
		"aws:cdk:enable-path-metadata":  true,
		"aws:cdk:enable-asset-metadata": true,
		"aws:cdk:version-reporting":     true,
	}
	for k, v := range runbook.ctx {
		extra[k] = v
	}
	inProc := filepath.Join(root, "in-process")
	stderr, code := inProcess(t, inProc, filepath.Join(repotest.RepoRoot(t), canaryAssetDir), extra, false)
	lsWG.Wait()
	for _, e := range lsErr {
		if e != "" {
			t.Error(e)
		}
	}
	if code != 0 {
		t.Fatalf("in-process synth of %s: exit %d\n%s", runbook.name, code, stderr)
	}
	sameFiles(t, byCLI, gateFiles(t, fromCLI), inThisProc, gateFiles(t, inProc))
}

// gateFiles are the files of a cloud assembly the gate reads per stack: templates and cdk-nag
// JSON reports, by file name.
func gateFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, pattern := range []string{"*.template.json", "*-NagReport.json"} {
		matches, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range matches {
			b, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			out[filepath.Base(m)] = string(b)
		}
	}
	return out
}
