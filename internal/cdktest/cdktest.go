// Package cdktest is what CDK tests share: an App carrying cdk.json's context (feature flags
// included, which a bare awscdk.NewApp in a test would silently lack), assertions that fail the
// test instead of panicking, and JSON golden files.
//
// jsii runs one Node process per test binary and its protocol is not thread-safe: tests that
// use this package must never call t.Parallel().
package cdktest

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/valkey-dr/valkey-dr/internal/repotest"
)

// Update rewrites golden files instead of comparing: go test ./stacks/ -update.
var Update = flag.Bool("update", false, "rewrite golden files under testdata/")

// NoCFNValidation switches aws-cdk-lib's built-in CloudFormation validation (resource schemas)
// off for an App. It is the largest fixed cost of a synth (stacks tests: 22.6 -> 14.7 s of CPU,
// gate tests 14.9 -> 7.7 s) and proves a property of the templates, not of what a test asserts:
// the tests are an inner loop (README "Validation where it pays"). Where it runs in make test:
// the matrix synth of TestMatrixSynthEqualsOneByOne (every stack of cdk.json, no violation at
// any severity), and compliance's cfn-schema test, which proves the gate's CLI synth fails on a
// template only this validation refuses.
var NoCFNValidation = jsii.Bool(false)

// NewApp is an App with cdk.json's context, as the CLI would pass it, the built-in CloudFormation
// validation off (NoCFNValidation).
func NewApp(t testing.TB) awscdk.App {
	t.Helper()
	repotest.RequireNode(t)
	ctx := repotest.CDKContext(t)
	m := make(map[string]interface{}, len(ctx))
	for k, v := range ctx {
		m[k] = v
	}
	return awscdk.NewApp(&awscdk.AppProps{Context: &m, BuiltinCloudFormationValidation: NoCFNValidation})
}

// Must runs an assertions call and turns its panic (how jsii reports a failed assertion) into
// a test failure with the assertion's message.
func Must(t testing.TB, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %s", what, r)
		}
	}()
	f()
}

// SynthError synthesizes app and returns the message of its panic (how jsii reports a failed
// synth or a validation plugin's findings), "" when the synth passed.
func SynthError(app awscdk.App) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	app.Synth(nil)
	return ""
}

// Template returns a stack's template as plain JSON values.
func Template(t testing.TB, stack awscdk.Stack) map[string]any {
	t.Helper()
	var out map[string]any
	Must(t, "synthesize template", func() {
		app := awscdk.Stage_Of(stack)
		asm := app.Synth(nil)
		art := asm.GetStackArtifact(stack.ArtifactId())
		b, err := json.Marshal(art.Template())
		if err != nil {
			panic(err)
		}
		if err := json.Unmarshal(b, &out); err != nil {
			panic(err)
		}
	})
	if out == nil {
		t.FailNow()
	}
	return out
}

// JSON turns a jsii value (an assertions Template's ToJSON) into plain JSON values.
func JSON(t testing.TB, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Resources returns the template's resources of one type, by logical id.
func Resources(tmpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	res, _ := tmpl["Resources"].(map[string]any)
	for id, r := range res {
		rm, _ := r.(map[string]any)
		if rm["Type"] == typ {
			out[id] = rm
		}
	}
	return out
}

// Props returns a resource's Properties.
func Props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

// Golden compares got with testdata/<name>.json as JSON values (key order and whitespace do
// not matter), or rewrites the file with -update.
func Golden(t testing.TB, name string, got any) {
	t.Helper()
	path := filepath.Join("testdata", name+".json")
	gotJSON, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if *Update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(gotJSON, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s missing (run go test ./%s -update and review the diff): %v", path, filepath.Base(mustWd(t)), err)
	}
	var wantV, gotV any
	if err := json.Unmarshal(want, &wantV); err != nil {
		t.Fatalf("golden %s: %v", path, err)
	}
	_ = json.Unmarshal(gotJSON, &gotV)
	if !reflect.DeepEqual(wantV, gotV) {
		wantIndented, _ := json.MarshalIndent(wantV, "", "  ")
		t.Errorf("template differs from %s (review, then go test -update):\n%s", path, lineDiff(string(wantIndented), string(gotJSON)))
	}
}

func mustWd(t testing.TB) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// lineDiff is a longest-common-subsequence line diff with two lines of context: templates are
// a few hundred lines, so the quadratic table is cheap, and an inserted resource shows up as
// the lines it adds instead of shifting every later line.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	lcs := make([][]int, len(w)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(g)+1)
	}
	for i := len(w) - 1; i >= 0; i-- {
		for j := len(g) - 1; j >= 0; j-- {
			if w[i] == g[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var ops []line
	i, j := 0, 0
	for i < len(w) || j < len(g) {
		switch {
		case i < len(w) && j < len(g) && w[i] == g[j]:
			ops = append(ops, line{' ', w[i]})
			i, j = i+1, j+1
		case j < len(g) && (i == len(w) || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, line{'+', g[j]})
			j++
		default:
			ops = append(ops, line{'-', w[i]})
			i++
		}
	}
	var b bytes.Buffer
	shown, lastPrinted := 0, -1
	for k, op := range ops {
		if op.op == ' ' {
			continue
		}
		for c := max(k-2, lastPrinted+1); c < k; c++ {
			fmt.Fprintf(&b, "    %s\n", ops[c].text)
		}
		fmt.Fprintf(&b, "  %c %s\n", op.op, op.text)
		lastPrinted = k
		if shown++; shown == 60 {
			b.WriteString("  ...\n")
			break
		}
	}
	return b.String()
}

// S is jsii.String, shorter in test tables.
func S(s string) *string { return jsii.String(s) }

// CanaryBuildArgs are the `go build` arguments of the health canary's bootstrap binary (with
// GOOS=linux GOARCH=arm64 CGO_ENABLED=0): the cdk.json build step runs the same. -trimpath and
// -buildvcs=false keep the binary, and so the asset hash, the same for the same source.
var CanaryBuildArgs = []string{"build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w"}

// BuildCanary cross-compiles the health canary (validate/canary) into .build/test/stacks/canary
// and returns that directory, the asset directory stacks.WithCanary takes (only the bootstrap
// binary in it). Relinked only when the canary changed. Tests call it once, from TestMain.
func BuildCanary() (string, error) {
	bin, err := repotest.Build("stacks", filepath.Join("canary", "bootstrap"), "./validate/canary",
		[]string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}, CanaryBuildArgs[1:]...)
	if err != nil {
		return "", fmt.Errorf("build the health canary: %w", err)
	}
	return filepath.Dir(bin), nil
}

// assetHash matches the S3 key of a file asset: the SHA-256 of its content.
var assetHash = regexp.MustCompile(`^[0-9a-f]{64}\.(zip|json)$`)

// NormalizeAssetHashes replaces asset object keys ("<sha256>.zip") in a template with
// "<asset-hash>.zip": the canary binary changes with the Go toolchain and every dependency, and
// a golden template should change when the infrastructure does, not when a compiler does.
func NormalizeAssetHashes(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = NormalizeAssetHashes(e)
		}
	case []any:
		for i, e := range t {
			t[i] = NormalizeAssetHashes(e)
		}
	case string:
		if m := assetHash.FindStringSubmatch(t); m != nil {
			return "<asset-hash>." + m[1]
		}
	}
	return v
}
