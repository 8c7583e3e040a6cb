package drcontext

import (
	"strings"
	"testing"
)

// received is what the pinned CLI (2.1148.1) hands a plain `cdk synth`, besides cdk.json's
// environments, feature flags and the --context flags (printed once from CDK_CONTEXT_JSON).
func received(extra map[string]any) map[string]any {
	m := map[string]any{
		KeyEnvironments:                  fixture(),
		"aws:cdk:enable-path-metadata":   true,
		"aws:cdk:enable-asset-metadata":  true,
		"aws:cdk:version-reporting":      true,
		"aws:cdk:bundling-stacks":        []any{"**"},
		"@aws-cdk/core:checkSecretUsage": true,
		"@aws-cdk-containers/ecs-service-extensions:enableDefaultLogDriver": true,
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestUnknownContextKeys(t *testing.T) {
	const acc = "accepted: environments, environment, region, drMode, holdPrimaryRouting, allowSameRegionDrill, stack, matrix (and the CDK's own aws:cdk:*, @aws-cdk/* feature flags, cdk-* and lookup cache keys)"
	tests := map[string]struct {
		extra map[string]any
		want  []string // each must be a whole problem line, in order
	}{
		"drmode in lower case would have deployed the primary": {
			extra: map[string]any{"drmode": "stateless"},
			want: []string{`context "drmode": "stateless" is not a context key of this app; ` + acc +
				` (did you mean "drMode"? keys are case-sensitive, and a key the app does not read is ignored by the CDK: drMode would silently take its default and deploy the PRIMARY stack)`},
		},
		"dr_mode with an underscore": {
			extra: map[string]any{"dr_mode": "stateless"},
			want:  []string{`context "dr_mode": "stateless" is not a context key of this app; ` + acc + ` (did you mean "drMode"?`},
		},
		"dr-mode with a hyphen": {
			extra: map[string]any{"dr-mode": "stateless"},
			want:  []string{`context "dr-mode": "stateless" is not a context key of this app; ` + acc + ` (did you mean "drMode"?`},
		},
		"Environment with a capital would have deployed the example": {
			extra: map[string]any{"Environment": "prod"},
			want:  []string{`context "Environment": "prod" is not a context key of this app; ` + acc + ` (did you mean "environment"?`},
		},
		"a misspelt key two letters off": {
			extra: map[string]any{"enviroment": "prod", "holdPrimaryRoutng": "true"},
			want: []string{
				`context "enviroment": "prod" is not a context key of this app; ` + acc + ` (did you mean "environment"?`,
				`context "holdPrimaryRoutng": "true" is not a context key of this app; ` + acc + ` (did you mean "holdPrimaryRouting"?`,
			},
		},
		"a key like nothing of ours gets no guess": {
			extra: map[string]any{"foo": "bar"},
			want:  []string{`context "foo": "bar" is not a context key of this app; ` + acc},
		},
		"a non-string value is shown as JSON": {
			extra: map[string]any{"regions": []any{"us-west-2"}},
			want:  []string{`context "regions": "[\"us-west-2\"]" is not a context key of this app; ` + acc},
		},
		"the CDK's own keys, lookup cache and notice acknowledgements pass": {
			extra: map[string]any{
				"aws:cdk:disable-version-reporting": true,
				"aws-cdk:enableDiffNoFail":          true,
				"cdk-migrate":                       true,
				"acknowledged-issue-numbers":        []any{32775.0},
				"vpc-provider:account=111111111111:filter.vpc-id=vpc-1:region=us-east-1:returnAsymmetricSubnets=true": map[string]any{},
				"availability-zones:account=111111111111:region=us-east-1":                                            []any{"us-east-1a"},
				"@aws-cdk/core:bootstrapQualifier":                                                                    "hnb659fds",
			},
		},
		"our own keys pass": {
			extra: map[string]any{KeyEnvironment: "example", KeyDrMode: "none", KeyRegion: "us-east-1",
				KeyHoldPrimaryRouting: "false", KeyAllowSameRegionDrill: "false"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ps := UnknownKeys(received(tc.extra))
			if len(ps) != len(tc.want) {
				t.Fatalf("%d problems, want %d: %v", len(ps), len(tc.want), ps)
			}
			for i, p := range ps {
				if got := p.String(); !strings.HasPrefix(got, tc.want[i]) || strings.Contains(got, "\n") {
					t.Errorf("problem %d:\n got: %s\nwant: %s...", i, got, tc.want[i])
				}
			}
		})
	}
}

func TestLoadRefusesUnknownKeysAndALostDrMode(t *testing.T) {
	tests := map[string]struct {
		in   Input
		want []string // substrings, one per problem line, in order
	}{
		"drmode typo in prod: both the typo and the missing drMode": {
			in: Input{Environment: "prod", Received: received(map[string]any{"environment": "prod", "drmode": "stateless"})},
			want: []string{
				`context "drMode": is not set: environment "prod" requires it; accepted: none, stateless, standby (give --context drMode=none, --context drMode=stateless or --context drMode=standby explicitly: the CDK CLI drops --context drMode without "=", and a DR deploy whose drMode is lost must not silently become a deploy of the PRIMARY stack)`,
				`context "drmode": "stateless" is not a context key of this app`,
			},
		},
		"Environment typo: the example would have been synthesized": {
			in:   Input{DrMode: "stateless", Received: received(map[string]any{"Environment": "prod", "drMode": "stateless"})},
			want: []string{`context "Environment": "prod" is not a context key of this app`},
		},
		"--context drMode without = (dropped by the CLI) in prod": {
			in:   Input{Environment: "prod", Received: received(map[string]any{"environment": "prod"})},
			want: []string{`context "drMode": is not set: environment "prod" requires it`},
		},
		"the missing drMode in staging-like environments too": {
			in:   Input{Environment: "prod", Region: "us-west-2"},
			want: []string{`context "drMode": is not set: environment "prod" requires it`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := tc.in
			in.Environments = fixture()
			cfg, err := Load(in)
			if cfg != nil {
				t.Fatal("Load returned a Config")
			}
			got := lines(t, err)
			if len(got) != len(tc.want) {
				t.Fatalf("problems:\n%s", strings.Join(got, "\n"))
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("problem %d:\n got: %s\nwant: %s", i, got[i], tc.want[i])
				}
			}
		})
	}

	t.Run("the example environment keeps its drMode default", func(t *testing.T) {
		cfg, err := Load(Input{Environments: fixture(), Received: received(nil)})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "DrMode", cfg.DrMode, DrModeNone)
	})
	t.Run("prod with drMode given and only CDK keys synthesizes", func(t *testing.T) {
		cfg, err := Load(Input{Environments: fixture(), Environment: "prod", DrMode: "stateless",
			Received: received(map[string]any{"environment": "prod", "drMode": "stateless"})})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "StackID", cfg.StackID(), "ValkeyDr-prod-us-west-2-dr")
	})
}
