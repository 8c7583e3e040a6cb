package gate_test

// The gate on real stacks: built from cdk.json the way main.go builds them, synthesized through
// jsii with cdk.json's feature flags. Ours pass with no finding; each rule, deliberately broken,
// fails the synth with a message naming the rule, the construct path and the fix.
//
// No t.Parallel: jsii is one Node process per test binary.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/compliance"
	"github.com/valkey-dr/valkey-dr/compliance/gate"
	drcontext "github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/cdktest"
	"github.com/valkey-dr/valkey-dr/internal/repotest"
	"github.com/valkey-dr/valkey-dr/stacks"
)

// app is an App with cdk.json's context (feature flags included) that writes to a temporary
// directory. appMode inmemory makes a failed validation throw with the whole report in its
// message, which is what the tests read; the CLI prints the same report.
func app(t *testing.T) (awscdk.App, string) {
	t.Helper()
	repotest.RequireNode(t)
	ctx := map[string]interface{}{}
	for k, v := range repotest.CDKContext(t) {
		ctx[k] = v
	}
	ctx["@aws-cdk/core:appMode"] = "inmemory"
	out := t.TempDir()
	return awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(out), BuiltinCloudFormationValidation: cdktest.NoCFNValidation}), out
}

// config loads one environment x drMode from cdk.json, then applies mutate: a Config that
// context validation would have refused, as a code change could produce.
func config(t *testing.T, env string, mode drcontext.DrMode, mutate func(*drcontext.Config)) *drcontext.Config {
	t.Helper()
	cfg, err := drcontext.Load(drcontext.Input{
		Environments: repotest.CDKContext(t)[drcontext.KeyEnvironments], Environment: env, DrMode: string(mode)})
	if err != nil {
		t.Fatalf("load %s %s: %v", env, mode, err)
	}
	if mutate != nil {
		mutate(cfg)
	}
	return cfg
}

// synth synthesizes and returns the error message, "" when the synth passed.
func synth(t *testing.T, a awscdk.App) (msg string) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	a.Synth(nil)
	return ""
}

type nagLine struct {
	RuleID          string `json:"ruleId"`
	ResourceID      string `json:"resourceId"`
	Compliance      string `json:"compliance"`
	ExceptionReason string `json:"exceptionReason"`
}

func nagReport(t *testing.T, out, pack, stack string) []nagLine {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(out, pack+"-*"+stack+"-NagReport.json"))
	if len(m) != 1 {
		t.Fatalf("want one %s nag report for %s in %s, got %v", pack, stack, out, m)
	}
	if _, err := os.Stat(strings.TrimSuffix(m[0], ".json") + ".csv"); err != nil {
		t.Errorf("no CSV nag report beside %s: %v", m[0], err)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Lines []nagLine `json:"lines"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r.Lines
}

func TestOurStacksPassTheGate(t *testing.T) {
	// Each environment's primary and DR stack, every environment in one App as the matrix
	// synth (make check) builds them: the cross-stack rule then runs inside the synth too.
	// Plus the auth modes cdk.json does not use today, so that switching to one cannot surprise
	// anyone with a nag finding: a second App (a stack id is once per App).
	type variant struct {
		env    string
		mutate func(*drcontext.Config)
	}
	var plain []variant
	targets, err := drcontext.Matrix(repotest.CDKContext(t)[drcontext.KeyEnvironments])
	if err != nil {
		t.Fatal(err)
	}
	envs := map[string]bool{}
	for _, tg := range targets {
		if !envs[tg.Environment] {
			envs[tg.Environment] = true
			plain = append(plain, variant{env: tg.Environment})
		}
	}
	authModes := []variant{
		{"prod", func(c *drcontext.Config) { c.Env.Cache.Auth.Mode = contract.AuthIAM }},
		{"example", func(c *drcontext.Config) { c.Env.Cache.Auth.Mode = contract.AuthNone }},
	}
	for _, group := range [][]variant{plain, authModes} {
		a, out := app(t)
		byVariant := make([][]gate.Gated, len(group))
		var all []gate.Gated
		for i, v := range group {
			for _, m := range drcontext.Modes { // none, stateless and the warm standby
				mode := m.Name
				cfg := config(t, v.env, mode, v.mutate)
				byVariant[i] = append(byVariant[i], gate.Gated{Stack: stacks.NewCacheStack(a, cfg), Config: cfg})
			}
			all = append(all, byVariant[i]...)
		}
		gate.Apply(a, all...)
		if msg := synth(t, a); msg != "" {
			t.Fatalf("synth failed:\n%s", msg)
		}
		ss := cdktest.Assembly(t, out, all)
		if len(ss) != len(all) {
			t.Fatalf("want %d stacks, got %d", len(all), len(ss))
		}
		for _, f := range compliance.Check(ss) {
			t.Errorf("finding on our stack:\n%s", f)
		}
		b, err := os.ReadFile(filepath.Join(out, "validation-report.json"))
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			PluginReports []struct {
				PluginName string
				Violations []any
			}
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		for _, p := range rep.PluginReports {
			if len(p.Violations) > 0 {
				t.Errorf("validation report: %s has %d violations:\n%s", p.PluginName, len(p.Violations), b)
			}
		}
		for i, v := range group {
			name := v.env
			if v.mutate != nil {
				name += " auth " + string(byVariant[i][0].Config.Env.Cache.Auth.Mode)
			}
			t.Run(name, func(t *testing.T) {
				for _, tg := range byVariant[i] {
					cdktest.NagClean(t, out, tg)
				}
			})
		}
	}
}

func TestEachRuleFailsTheSynthNamingRulePathAndFix(t *testing.T) {
	type stackSpec struct {
		env    string
		mode   drcontext.DrMode
		mutate func(*drcontext.Config)
	}
	// dnsBuilt are the DNS stacks built beside the stacks made on the night (as a matrix synth
	// builds them), in spec order, for breakApp.
	var dnsBuilt []*stacks.DNSStack
	primary := func(env string) stackSpec { return stackSpec{env: env, mode: drcontext.DrModeNone} }
	dr := func(env string) stackSpec { return stackSpec{env: env, mode: drcontext.DrModeStateless} }
	with := func(s stackSpec, m func(*drcontext.Config)) stackSpec { s.mutate = m; return s }

	for name, tc := range map[string]struct {
		stacks []stackSpec
		// breakApp breaks the built stacks (an escape hatch, a stray construct), as a code
		// change could; nil when the mutated Config is the break.
		breakApp func(a awscdk.App, ss []*stacks.CacheStack)
		rule     string
		// paths are construct paths, relative to the stacks' names, the message must name.
		paths []string
	}{
		"the engine overridden to redis": {stacks: []stackSpec{primary("example")}, rule: compliance.RuleEngineValkey,
			breakApp: func(_ awscdk.App, ss []*stacks.CacheStack) { ss[0].Cache.Cache.SetEngine(jsii.String("redis")) },
			paths:    []string{"ValkeyDr-example-us-east-1-primary/SessionCache/Cache"}},
		"the subnets dropped by an override": {stacks: []stackSpec{primary("example")}, rule: compliance.RuleNetworkPlacement,
			breakApp: func(_ awscdk.App, ss []*stacks.CacheStack) {
				ss[0].Cache.Cache.AddPropertyDeletionOverride(jsii.String("SubnetIds"))
			},
			paths: []string{"ValkeyDr-example-us-east-1-primary/SessionCache/Cache"}},
		"an SSH rule added to the cache security group": {stacks: []stackSpec{dr("example")}, rule: compliance.RuleIngressValkeyPorts,
			breakApp: func(_ awscdk.App, ss []*stacks.CacheStack) {
				awsec2.NewCfnSecurityGroupIngress(ss[0].Stack, jsii.String("AdminSsh"), &awsec2.CfnSecurityGroupIngressProps{
					GroupId: ss[0].Cache.SecurityGroup.AttrGroupId(), IpProtocol: jsii.String("tcp"),
					FromPort: jsii.Number(22), ToPort: jsii.Number(22), CidrIp: jsii.String("10.0.0.0/8"),
				})
			},
			paths: []string{"ValkeyDr-example-us-west-2-dr/AdminSsh"}},
		"an open CIDR that got past context validation": {rule: compliance.RuleNoOpenCIDR,
			stacks: []stackSpec{with(dr("prod"), func(c *drcontext.Config) { c.Net.AllowedCidrs = []string{"0.0.0.0/0"} })},
			paths:  []string{"ValkeyDr-prod-us-west-2-dr/SessionCache/SecurityGroup"}},
		"the egress block removed (CloudFormation then allows all)": {stacks: []stackSpec{primary("example")}, rule: compliance.RuleNoEgress,
			breakApp: func(_ awscdk.App, ss []*stacks.CacheStack) {
				ss[0].Cache.SecurityGroup.AddPropertyDeletionOverride(jsii.String("SecurityGroupEgress"))
			},
			paths: []string{"ValkeyDr-example-us-east-1-primary/SessionCache/SecurityGroup"}},
		"prod without a user group": {rule: compliance.RuleProdUserGroup,
			stacks: []stackSpec{with(primary("prod"), func(c *drcontext.Config) { c.Env.Cache.Auth.Mode = contract.AuthNone })},
			paths:  []string{"ValkeyDr-prod-us-east-1-primary/SessionCache/Cache"}},
		"prod without a CMK": {rule: compliance.RuleProdKMS,
			stacks: []stackSpec{with(dr("prod"), func(c *drcontext.Config) { c.Net.KmsKeyArn = "" })},
			paths:  []string{"ValkeyDr-prod-us-west-2-dr/SessionCache/Cache"}},
		"a snapshot to restore": {stacks: []stackSpec{dr("example")}, rule: compliance.RuleNoSnapshotRestore,
			breakApp: func(_ awscdk.App, ss []*stacks.CacheStack) {
				ss[0].Cache.Cache.SetSnapshotArnsToRestore(jsii.Strings("arn:aws:elasticache:us-east-1:111111111111:serverlesscachesnapshot:sessions"))
			},
			paths: []string{"ValkeyDr-example-us-west-2-dr/SessionCache/Cache"}},
		"snapshot retention on a DR cache": {stacks: []stackSpec{dr("staging")}, rule: compliance.RuleStatelessNoBackups,
			breakApp: func(_ awscdk.App, ss []*stacks.CacheStack) {
				ss[0].Cache.Cache.SetSnapshotRetentionLimit(jsii.Number(7))
			},
			paths: []string{"ValkeyDr-staging-us-west-2-dr/SessionCache/Cache"}},
		"no dataClassification tag": {rule: compliance.RuleRequiredTags,
			stacks: []stackSpec{with(primary("example"), func(c *drcontext.Config) { delete(c.Env.Tags, "dataClassification") })},
			paths:  []string{"ValkeyDr-example-us-east-1-primary/SessionCache/Cache"}},
		"prod with termination protection turned off": {stacks: []stackSpec{primary("prod")}, rule: compliance.RuleProdTermination,
			breakApp: func(_ awscdk.App, ss []*stacks.CacheStack) { ss[0].Stack.SetTerminationProtection(jsii.Bool(false)) },
			paths:    []string{"ValkeyDr-prod-us-east-1-primary"}},
		"a five-minute TTL": {rule: compliance.RuleDNSTTL,
			stacks: []stackSpec{with(dr("example"), func(c *drcontext.Config) { c.Env.DNS.TTLSeconds = 300 })},
			paths:  []string{"ValkeyDr-example-us-west-2-dr-dns/Dns/RegionalRecord", "ValkeyDr-example-us-west-2-dr-dns/Dns/ServiceRecord"}},
		"the DR half of the service name with the primary's set identifier": {stacks: []stackSpec{primary("example"), dr("example")},
			rule: compliance.RuleRecordOwnedOnce,
			breakApp: func(_ awscdk.App, ss []*stacks.CacheStack) {
				dnsBuilt[0].DNS.Service.SetSetIdentifier(jsii.String("primary"))
			},
			paths: []string{"ValkeyDr-example-us-east-1-primary/Dns/ServiceRecord", "ValkeyDr-example-us-west-2-dr-dns/Dns/ServiceRecord"}},
		"an alarm notifying a topic whose policy holds only the TLS Deny": {stacks: []stackSpec{primary("example")}, rule: compliance.RuleAlarmTopicPublish,
			breakApp: func(_ awscdk.App, ss []*stacks.CacheStack) {
				// What every alarm topic was before constructs/alarmtopic added the Allow.
				topic := awssns.NewTopic(ss[0].Stack, jsii.String("StrayTopic"), &awssns.TopicProps{
					EnforceSSL: jsii.Bool(true), MasterKey: awskms.Alias_FromAliasName(ss[0].Stack, jsii.String("SnsKey"), jsii.String("alias/stray"))})
				alarm := awscloudwatch.NewAlarm(ss[0].Stack, jsii.String("StrayAlarm"), &awscloudwatch.AlarmProps{
					Metric:            awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String("Stray"), MetricName: jsii.String("Stray")}),
					Threshold:         jsii.Number(1),
					EvaluationPeriods: jsii.Number(1),
				})
				alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
			},
			paths: []string{"ValkeyDr-example-us-east-1-primary/StrayTopic/Policy"}},
		"an IAM role in the stack deployed on the night": {stacks: []stackSpec{dr("example")}, rule: compliance.RuleNightStaticStable,
			breakApp: func(_ awscdk.App, ss []*stacks.CacheStack) {
				awsiam.NewRole(ss[0].Stack, jsii.String("NightRole"), &awsiam.RoleProps{
					AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)})
			},
			paths: []string{"ValkeyDr-example-us-west-2-dr/NightRole"}},
		"a stack the gate was not told about": {stacks: []stackSpec{primary("example")}, rule: compliance.RuleStackRegistered,
			breakApp: func(a awscdk.App, _ []*stacks.CacheStack) {
				awscdk.NewStack(a, jsii.String("Stray"), &awscdk.StackProps{Env: &awscdk.Environment{
					Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")}})
			},
			paths: []string{"Stray"}},
	} {
		t.Run(name, func(t *testing.T) {
			a, out := app(t)
			var tgs []gate.Gated
			var built []*stacks.CacheStack
			dnsBuilt = nil
			for _, spec := range tc.stacks {
				cfg := config(t, spec.env, spec.mode, spec.mutate)
				s := stacks.NewCacheStack(a, cfg)
				built = append(built, s)
				g := gate.Gated{Stack: s, Config: cfg}
				if cfg.Mode().OnTheNight {
					g.DNS = stacks.NewDNSStack(a, cfg)
					dnsBuilt = append(dnsBuilt, g.DNS)
				}
				tgs = append(tgs, g)
			}
			if tc.breakApp != nil {
				tc.breakApp(a, built)
			}
			gate.Apply(a, tgs...)
			msg := synth(t, a)
			if msg == "" {
				t.Fatalf("synth passed; want %s to fail it", tc.rule)
			}
			rule := compliance.RuleByID(tc.rule)
			for _, want := range append([]string{rule.ID + " " + rule.Title, "Suggested fix: " + rule.Fix, compliance.PluginName}, tc.paths...) {
				if !strings.Contains(msg, want) {
					t.Errorf("the synth error lacks %q:\n%s", want, msg)
				}
			}
			// Only the broken rule fires among ours (cdk-nag may agree: an open CIDR is its
			// AwsSolutions-EC23 too).
			if tc.rule == compliance.RuleStackRegistered {
				return // the stray stack has no facts to evaluate it with
			}
			fired := map[string]bool{}
			for _, f := range compliance.Check(cdktest.Assembly(t, out, tgs)) {
				fired[f.RuleID] = true
			}
			var ids []string
			for id := range fired {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			if len(ids) != 1 || ids[0] != tc.rule {
				t.Errorf("rules fired %v, want only %s", ids, tc.rule)
			}
		})
	}
}
