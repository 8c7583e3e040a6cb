package drill

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// StandInLabel heads every evidence file of a drill (manifest.json's label, README.md's title,
// the validator's target kind): a drill's PASS is a rehearsal, never a deployment's PASS.
const StandInLabel = "LOCAL STAND-IN, NOT A DEPLOYMENT"

// drillEvidence is the drill's signer (the local Ed25519 key, made once) and provenance
// (reason, ticket and approver "drill": nothing in an account is changed, so nobody approves).
func drillEvidence(o Options, d Deps) (evidence.Signer, *evidence.Provenance, error) {
	path := o.SigningKeyFile
	if path == "" {
		path = filepath.Join(o.OutRoot, "work", "evidence-ed25519.key")
	}
	s, created, err := evidence.LoadOrCreateLocalKey(path)
	if err != nil {
		return nil, nil, procedure.Usagef("--signing-key %s: %v. Nothing was run.", path, err)
	}
	if created {
		evidence.PrintKeyCreated(d.Stdout, s)
	}
	prov := evidence.LocalProvenance(evidence.Approval{Reason: evidence.ReasonDrill, Ticket: evidence.ReasonDrill, Approver: evidence.ReasonDrill}, false)
	return s, &prov, nil
}

// labelValidation marks the validator's files in the bundle as a stand-in's: summary.md gets
// a first line saying so, junit.xml's testsuite name starts with it, report.json gets
// target.kind "local-stand-in". The validator has no flag for it yet (validate/ is another
// branch's), so the drill labels the copies it puts in the bundle; the originals stay in the
// work directory untouched.
func labelValidation(b *evidence.Bundle) error {
	dir := filepath.Join(b.Dir, evidence.DirValidation)
	rel := func(name string) string { return filepath.Join(evidence.DirValidation, name) }
	if data, err := os.ReadFile(filepath.Join(dir, "summary.md")); err == nil {
		head := "# " + StandInLabel + " — validator run against a local Valkey cluster, not an AWS cache\n\n"
		if err := b.WriteFile(rel("summary.md"), append([]byte(head), data...)); err != nil {
			return err
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, "junit.xml")); err == nil {
		out := strings.ReplaceAll(string(data), `<testsuite name="`, `<testsuite name="`+StandInLabel+`: `)
		if err := b.WriteFile(rel("junit.xml"), []byte(out)); err != nil {
			return err
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, contract.ReportFile)); err == nil {
		var rep map[string]any
		if err := json.Unmarshal(data, &rep); err != nil {
			return fmt.Errorf("validation/report.json: %w", err)
		}
		target, _ := rep["target"].(map[string]any)
		if target == nil {
			target = map[string]any{}
		}
		target["kind"] = TargetKindStandIn
		target["label"] = StandInLabel
		rep["target"] = target
		if err := b.WriteJSON(rel(contract.ReportFile), rep); err != nil {
			return err
		}
	}
	return nil
}

// TargetKindStandIn is report.json's target.kind in a drill's bundle.
const TargetKindStandIn = "local-stand-in"
