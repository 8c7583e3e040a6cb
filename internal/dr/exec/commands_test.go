package drexec

import (
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/context"
)

// The command lines are the contract with the operator (they are printed and may be re-run
// by hand) and with the tools: pinned word for word.
func TestCommandLines(t *testing.T) {
	cdk := CDK{Repo: "/repo"}
	dr := Stack{Environment: "prod", Region: "us-west-2", DrMode: drcontext.DrModeStateless, Stack: "ValkeyDr-prod-us-west-2-dr"}
	held := Stack{Environment: "prod", Region: "us-east-1", DrMode: drcontext.DrModeNone, HoldPrimaryRouting: true, Stack: "ValkeyDr-prod-us-east-1-primary"}
	for name, tc := range map[string]struct{ got, want string }{
		"synth": {cdk.Synth(dr, "/w/cdk.out").String(),
			"/repo/bin/cdk synth ValkeyDr-prod-us-west-2-dr --quiet --no-notices --no-version-reporting --no-validation --output /w/cdk.out --context environment=prod --context region=us-west-2 --context drMode=stateless"},
		"deploy DR": {cdk.Deploy(dr, "/w/cdk-outputs.json", "/w/cdk.out", ApprovalBroadening).String(),
			"/repo/bin/cdk deploy ValkeyDr-prod-us-west-2-dr --no-version-reporting --require-approval broadening --outputs-file /w/cdk-outputs.json --output /w/cdk.out --progress events --context environment=prod --context region=us-west-2 --context drMode=stateless"},
		"deploy primary with routing held": {cdk.Deploy(held, "/w/o.json", "/w/out", ApprovalNever).String(),
			"/repo/bin/cdk deploy ValkeyDr-prod-us-east-1-primary --no-version-reporting --require-approval never --outputs-file /w/o.json --output /w/out --progress events --context environment=prod --context region=us-east-1 --context drMode=none --context holdPrimaryRouting=true"},
		"destroy": {cdk.Destroy(dr, "/w/out").String(),
			"/repo/bin/cdk destroy ValkeyDr-prod-us-west-2-dr --force --no-version-reporting --output /w/out --context environment=prod --context region=us-west-2 --context drMode=stateless"},
		"make check synthesizes one matrix cell with the CLI on PATH": {CDK{CLI: "cdk"}.SynthApp("prod", drcontext.DrModeNone, "cdk.out/prod-none").String(),
			"cdk synth --quiet --no-notices --no-version-reporting --output cdk.out/prod-none --context environment=prod --context drMode=none"},
		"build validator": {BuildValidator("/repo", "/repo/.build/valkey-dr-validate").String(), "go build -o /repo/.build/valkey-dr-validate ./validate"},
		"validate against AWS": {Validate{Binary: "/v", OutputsFile: "/w/o.json", Stack: "S", EvidenceDir: "/e"}.Cmd().String(),
			"/v --outputs /w/o.json --stack S --evidence-dir /e"},
		"validate the stand-in": {Validate{Binary: "/v", OutputsFile: "/w/o.json", Stack: "S", EvidenceDir: "/e", CAFile: "/t/ca.pem", PasswordFile: "/t/pw"}.Cmd().String(),
			"/v --outputs /w/o.json --stack S --evidence-dir /e --ca-file /t/ca.pem --password-file /t/pw"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", name, tc.got, tc.want)
		}
	}
	if !cdk.Deploy(dr, "o", "d", ApprovalNever).Interactive || cdk.Synth(dr, "d").Interactive {
		t.Error("deploy must be interactive (approval prompt), synth must not")
	}
	if v := (Validate{Binary: "/v"}).Cmd(); len(v.Unset) != 1 || v.Unset[0] != "VALKEY_PASSWORD" {
		t.Errorf("validator Unset = %v", v.Unset)
	}
}

func TestCheckApproval(t *testing.T) {
	for _, ok := range Approvals {
		if err := CheckApproval(ok); err != nil {
			t.Error(err)
		}
	}
	if err := CheckApproval("yes"); err == nil || !strings.Contains(err.Error(), "broadening, any-change, destructive, never") {
		t.Fatalf("got %v", err)
	}
}
