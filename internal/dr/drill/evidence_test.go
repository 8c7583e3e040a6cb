package drill

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
)

func TestLabelValidationMarksEveryValidatorFile(t *testing.T) {
	b, err := evidence.NewBundle(t.TempDir(), "b")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"summary.md":  "# Valkey DR validation: PASS\n",
		"junit.xml":   `<?xml version="1.0"?>` + "\n" + `<testsuites><testsuite name="valkey-dr-validate x:1"></testsuite></testsuites>`,
		"report.json": `{"target": {"endpoint": "x:1"}, "verdict": "pass"}`,
	} {
		if err := b.WriteFile(filepath.Join(evidence.DirValidation, name), []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := labelValidation(b); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(b.Dir, evidence.DirValidation, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if first := strings.SplitN(read("summary.md"), "\n", 2)[0]; !strings.Contains(first, "LOCAL STAND-IN") {
		t.Errorf("summary.md first line %q", first)
	}
	if !strings.Contains(read("junit.xml"), `<testsuite name="LOCAL STAND-IN, NOT A DEPLOYMENT: valkey-dr-validate x:1"`) {
		t.Errorf("junit.xml: %s", read("junit.xml"))
	}
	var rep struct {
		Target  map[string]string `json:"target"`
		Verdict string            `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(read("report.json")), &rep); err != nil || rep.Target["kind"] != TargetKindStandIn || rep.Target["endpoint"] != "x:1" || rep.Verdict != "pass" {
		t.Errorf("report.json: %+v %v", rep, err)
	}
}
