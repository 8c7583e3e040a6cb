package stacks_test

// The health canary in the synthesized templates: the function, its network (security groups
// on both sides), its schedule, its least-privilege policy, the metric and the health alarm
// that Route 53 reads, and the compliance gate (cdk-nag AwsSolutions + HIPAA, our VDR rules)
// over all of it. No t.Parallel: jsii is one Node process per test binary.

import (
	"encoding/json"
	"fmt"
	"github.com/valkey-dr/valkey-dr/constructs/monitoring"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/compliance"
	"github.com/valkey-dr/valkey-dr/compliance/gate"
	"github.com/valkey-dr/valkey-dr/constructs/canary"
	"github.com/valkey-dr/valkey-dr/constructs/sessioncache"
	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/cdktest"
	"github.com/valkey-dr/valkey-dr/internal/repotest"
	"github.com/valkey-dr/valkey-dr/stacks"
)

// byPrefix returns the one resource of type typ whose logical id starts with prefix.
func byPrefix(t *testing.T, tmpl map[string]any, typ, prefix string) (string, map[string]any) {
	t.Helper()
	var ids []string
	for id := range cdktest.Resources(tmpl, typ) {
		if strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("want one %s with logical id %s*, got %v", typ, prefix, ids)
	}
	return ids[0], cdktest.Resources(tmpl, typ)[ids[0]]
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestCanaryFunction(t *testing.T) {
	for _, o := range []synthOpts{{env: "example", mode: "none"}, {env: "prod", mode: "stateless"}} {
		t.Run(o.env+"-"+o.mode, func(t *testing.T) {
			s := synth(t, o)
			_, fn := only(t, s.tmpl, "AWS::Lambda::Function")
			p := cdktest.Props(fn)
			if p["Runtime"] != canary.Runtime || js(p["Architectures"]) != `["arm64"]` || p["Handler"] != "bootstrap" {
				t.Errorf("runtime %v %v %v: want provided.al2023 on arm64, handler bootstrap", p["Runtime"], p["Architectures"], p["Handler"])
			}
			code := p["Code"].(map[string]any)
			if key, _ := code["S3Key"].(string); !strings.HasSuffix(key, ".zip") || !strings.Contains(js(code["S3Bucket"]), "cdk-hnb659fds-assets") {
				t.Errorf("code %v: want the bootstrap asset in the CDK assets bucket", code)
			}
			if to, _ := p["Timeout"].(float64); to <= contract.CanaryTimeout.Seconds() || to >= 60 {
				t.Errorf("timeout %v s: want above the checks' %v and below the 1-minute schedule", to, contract.CanaryTimeout)
			}
			// Issue 11: a reservation fails the create in low-quota accounts (100 must stay
			// unreserved); the timeout below the schedule and no retries prevent overlap.
			if v, ok := p["ReservedConcurrentExecutions"]; ok {
				t.Errorf("ReservedConcurrentExecutions %v: a reservation can fail the deploy in a low-quota account", v)
			}
			for _, ic := range cdktest.Resources(s.tmpl, "AWS::Lambda::EventInvokeConfig") {
				if cdktest.Props(ic)["MaximumRetryAttempts"] != float64(0) {
					t.Errorf("event invoke config %v: want no async retries", cdktest.Props(ic))
				}
			}
			vpc := p["VpcConfig"].(map[string]any)
			if js(vpc["SubnetIds"]) != js(s.cfg.Net.SubnetIDs) || !strings.Contains(js(vpc["SecurityGroupIds"]), "CanarySecurityGroup") {
				t.Errorf("VpcConfig %v: want the cache's subnets %v and the canary's own group", vpc, s.cfg.Net.SubnetIDs)
			}
			if !strings.Contains(js(p["DeadLetterConfig"]), "CanaryDeadLetterQueue") || !strings.Contains(js(p["LoggingConfig"]), "CanaryLogGroup") {
				t.Errorf("DeadLetterConfig %v LoggingConfig %v", p["DeadLetterConfig"], p["LoggingConfig"])
			}
			env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
			want := map[string]string{contract.EnvEndpoint: "Endpoint.Address", contract.EnvPort: "Endpoint.Port",
				contract.EnvReaderPort: "ReaderEndpoint.Port", contract.EnvCacheName: s.cfg.CacheName(),
				contract.EnvAuthMode: "password", contract.EnvUser: s.cfg.AuthUserName(), contract.EnvSecretArn: sessioncache.LogicalIDSecret}
			for k, v := range want {
				if !strings.Contains(js(env[k]), v) {
					t.Errorf("env %s = %v, want it to name %s", k, env[k], v)
				}
			}
			if e := js(env); strings.Contains(e, "SecretString") || strings.Contains(e, "resolve:secretsmanager") {
				t.Errorf("the function's environment carries a secret value: %s", e)
			}
			_, lg := only(t, s.tmpl, "AWS::Logs::LogGroup")
			if lp := cdktest.Props(lg); lp["RetentionInDays"] != float64(365) || !strings.Contains(js(lp["KmsKeyId"]), "CanaryLogKey") {
				t.Errorf("log group %v: want one year and the canary's key", lp)
			}
		})
	}
}

func TestCanarySecurityGroupsBothSides(t *testing.T) {
	s := synth(t, synthOpts{env: "prod", mode: "none"})
	id, sg := byPrefix(t, s.tmpl, "AWS::EC2::SecurityGroup", "CanarySecurityGroup")
	p := cdktest.Props(sg)
	if _, ok := p["SecurityGroupIngress"]; ok {
		t.Errorf("the canary's group has ingress: %v", p["SecurityGroupIngress"])
	}
	if p["VpcId"] != s.cfg.Net.VpcID {
		t.Errorf("canary group in %v, want the cache's VPC %s", p["VpcId"], s.cfg.Net.VpcID)
	}
	egress, _ := p["SecurityGroupEgress"].([]any)
	var rules []string
	for _, e := range egress {
		r := e.(map[string]any)
		rules = append(rules, fmt.Sprintf("%v %v-%v %s%v", r["IpProtocol"], r["FromPort"], r["ToPort"], js(r["DestinationSecurityGroupId"]), r["CidrIp"]))
		if d, _ := r["Description"].(string); d == "" {
			t.Errorf("egress rule %v has no description", r)
		}
	}
	sort.Strings(rules)
	wantEgress := []string{`tcp 443-443 null0.0.0.0/0`, `tcp 6379-6380 {"Fn::GetAtt":["SessionCacheSecurityGroup","GroupId"]}<nil>`}
	if strings.Join(rules, "|") != strings.Join(wantEgress, "|") {
		t.Errorf("canary egress %v, want %v", rules, wantEgress)
	}
	// The cache's side: exactly one rule beyond the configured sources, from the canary's group.
	ins := cdktest.Resources(s.tmpl, "AWS::EC2::SecurityGroupIngress")
	if len(ins) != 1 {
		t.Fatalf("%d standalone ingress rules, want the canary's one", len(ins))
	}
	for _, r := range ins {
		rp := cdktest.Props(r)
		if !strings.Contains(js(rp["GroupId"]), sessioncache.LogicalIDSecurityGroup) || !strings.Contains(js(rp["SourceSecurityGroupId"]), id) ||
			rp["IpProtocol"] != "tcp" || rp["FromPort"] != float64(6379) || rp["ToPort"] != float64(6380) || rp["Description"] == nil {
			t.Errorf("cache ingress %v: want tcp 6379-6380 from %s on the cache's group, described", rp, id)
		}
	}
}

func TestCanarySchedule(t *testing.T) {
	s := synth(t, synthOpts{env: "example", mode: "none"})
	fnID, _ := only(t, s.tmpl, "AWS::Lambda::Function")
	ruleID, rule := only(t, s.tmpl, "AWS::Events::Rule")
	rp := cdktest.Props(rule)
	targets := rp["Targets"].([]any)
	if rp["ScheduleExpression"] != "rate(1 minute)" || rp["State"] != "ENABLED" || len(targets) != 1 ||
		!strings.Contains(js(targets[0]), fnID) || !strings.Contains(js(targets[0]), `"MaximumRetryAttempts":0`) {
		t.Errorf("schedule %v: want every minute, one target (the canary), no retry", rp)
	}
	_, perm := only(t, s.tmpl, "AWS::Lambda::Permission")
	pp := cdktest.Props(perm)
	if pp["Principal"] != "events.amazonaws.com" || !strings.Contains(js(pp["SourceArn"]), ruleID) || !strings.Contains(js(pp["FunctionName"]), fnID) {
		t.Errorf("invoke permission %v: want events.amazonaws.com from the schedule only", pp)
	}
	_, cfg := only(t, s.tmpl, "AWS::Lambda::EventInvokeConfig")
	if cp := cdktest.Props(cfg); cp["MaximumRetryAttempts"] != float64(0) {
		t.Errorf("invoke config %v: a failed run is not retried", cp)
	}
}

func TestCanaryMetricDrivesTheHealthAlarm(t *testing.T) {
	for name, tc := range map[string]struct {
		o               synthOpts
		wantHealthCheck bool
	}{
		"primary: the PRIMARY record's health check reads the canary": {synthOpts{env: "example", mode: "none"}, true},
		"DR: same canary and alarm, no health check":                  {synthOpts{env: "example", mode: "stateless"}, false},
	} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, tc.o)
			alarmID, alarm := byPrefix(t, s.tmpl, "AWS::CloudWatch::Alarm", "Monitoringcachehealth")
			p := cdktest.Props(alarm)
			if p["Namespace"] != contract.CanaryNamespace || p["MetricName"] != contract.MetricSuccess || p["Statistic"] != monitoring.HealthStatistic ||
				js(p["Dimensions"]) != fmt.Sprintf(`[{"Name":"CacheName","Value":%q}]`, s.cfg.CacheName()) {
				t.Errorf("health alarm metric %v/%v %v %v: want the canary's Success for %s", p["Namespace"], p["MetricName"], p["Statistic"], p["Dimensions"], s.cfg.CacheName())
			}
			// One period judged on its own, as Route 53 judges it (internal/route53model).
			if p["TreatMissingData"] != "breaching" || p["Threshold"] != monitoring.HealthThreshold || p["ComparisonOperator"] != "LessThanThreshold" ||
				p["EvaluationPeriods"] != float64(1) || p["Period"] != monitoring.HealthPeriod.Seconds() {
				t.Errorf("health alarm %v: want Average Success < %g over one %s period, missing data breaching", p, monitoring.HealthThreshold, monitoring.HealthPeriod)
			}
			hcs := cdktest.Resources(s.tmpl, "AWS::Route53::HealthCheck")
			for id := range hcs {
				// The forced-failover override and the calculated check (TestForcedFailoverSwitch).
				if strings.Contains(id, "Override") || strings.Contains(id, "Calculated") {
					delete(hcs, id)
				}
			}
			if (len(hcs) == 1) != tc.wantHealthCheck {
				t.Fatalf("%d health checks", len(hcs))
			}
			for _, hc := range hcs {
				c := cdktest.Props(hc)["HealthCheckConfig"].(map[string]any)
				if !strings.Contains(js(c["AlarmIdentifier"]), alarmID) || c["InsufficientDataHealthStatus"] != "Unhealthy" {
					t.Errorf("health check %v: want the canary alarm %s, insufficient data unhealthy", c, alarmID)
				}
			}
			// The read port has its own alarm, on ReaderSuccess, that no health check reads.
			readerID, reader := byPrefix(t, s.tmpl, "AWS::CloudWatch::Alarm", "Monitoringreaderhealth")
			if rp := cdktest.Props(reader); rp["MetricName"] != contract.MetricReaderSuccess || rp["Namespace"] != contract.CanaryNamespace ||
				rp["TreatMissingData"] != "notBreaching" {
				t.Errorf("reader alarm %v: want the canary's ReaderSuccess, missing data not breaching", rp)
			}
			for _, hc := range hcs {
				if strings.Contains(js(cdktest.Props(hc)["HealthCheckConfig"]), readerID) {
					t.Errorf("the Route 53 health check reads the reader alarm %s: the read port would move traffic", readerID)
				}
			}
			_, dash := only(t, s.tmpl, "AWS::CloudWatch::Dashboard")
			body := js(cdktest.Props(dash)["DashboardBody"])
			if !strings.Contains(body, contract.CanaryNamespace) || !strings.Contains(body, "Health canary") || !strings.Contains(body, contract.MetricReaderSuccess) {
				t.Errorf("dashboard lacks the canary's graphs (Success and ReaderSuccess)")
			}
		})
	}
}

// statements returns the canary policy's statements by Sid.
func statements(t *testing.T, tmpl map[string]any) map[string]map[string]any {
	t.Helper()
	_, pol := byPrefix(t, tmpl, "AWS::IAM::ManagedPolicy", "CanaryPolicy")
	out := map[string]map[string]any{}
	for _, st := range cdktest.Props(pol)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
		m := st.(map[string]any)
		out[m["Sid"].(string)] = m
	}
	return out
}

func TestCanaryLeastPrivilege(t *testing.T) {
	for name, tc := range map[string]struct {
		mode     contract.AuthMode
		wantSids []string
		extra    func(t *testing.T, s synthesized, st map[string]map[string]any)
	}{
		"password: reads exactly the cache's secret": {contract.AuthPassword,
			[]string{"DeadLetterQueue", "PublishCanaryMetrics", "ReadCachePassword", "VpcNetworkInterfaces", "WriteOwnLogs"},
			func(t *testing.T, _ synthesized, st map[string]map[string]any) {
				r := st["ReadCachePassword"]
				if js(r["Action"]) != `"secretsmanager:GetSecretValue"` || js(r["Resource"]) != `{"Ref":"`+sessioncache.LogicalIDSecret+`"}` {
					t.Errorf("secret statement %v: want GetSecretValue on the cache's secret only", r)
				}
			}},
		"iam: connects as the cache user to this cache only": {contract.AuthIAM,
			[]string{"ConnectAsCacheUser", "DeadLetterQueue", "PublishCanaryMetrics", "VpcNetworkInterfaces", "WriteOwnLogs"},
			func(t *testing.T, _ synthesized, st map[string]map[string]any) {
				r := js(st["ConnectAsCacheUser"])
				for _, want := range []string{`"Action":"elasticache:Connect"`, sessioncache.LogicalIDCache, sessioncache.LogicalIDUser} {
					if !strings.Contains(r, want) {
						t.Errorf("connect statement %s lacks %s", r, want)
					}
				}
			}},
		"none: no credential at all": {contract.AuthNone,
			[]string{"DeadLetterQueue", "PublishCanaryMetrics", "VpcNetworkInterfaces", "WriteOwnLogs"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, synthOpts{env: "example", mode: "none", mutate: func(c *drcontext.Config) { c.Env.Cache.Auth.Mode = tc.mode }})
			st := statements(t, s.tmpl)
			var sids []string
			for sid, m := range st {
				sids = append(sids, sid)
				if m["Effect"] != "Allow" || strings.Contains(js(m["Action"]), `"*"`) || strings.Contains(js(m["Action"]), `:*"`) {
					t.Errorf("statement %s: %v", sid, m)
				}
			}
			slices.Sort(sids)
			if strings.Join(sids, ",") != strings.Join(tc.wantSids, ",") {
				t.Errorf("statements %v, want %v", sids, tc.wantSids)
			}
			if c := js(st["PublishCanaryMetrics"]["Condition"]); c != `{"StringEquals":{"cloudwatch:namespace":"ValkeyDr/Canary"}}` {
				t.Errorf("PutMetricData condition %s: want the canary's namespace only", c)
			}
			for sid, res := range map[string]string{"WriteOwnLogs": "CanaryLogGroup", "DeadLetterQueue": "CanaryDeadLetterQueue"} {
				if r := js(st[sid]["Resource"]); !strings.Contains(r, res) || strings.Contains(r, `"*"`) {
					t.Errorf("%s resource %s: want only %s", sid, r, res)
				}
			}
			if tc.extra != nil {
				tc.extra(t, s, st)
			}
			_, role := byPrefix(t, s.tmpl, "AWS::IAM::Role", "CanaryRole")
			rp := cdktest.Props(role)
			if _, inline := rp["Policies"]; inline || len(rp["ManagedPolicyArns"].([]any)) != 1 || !strings.Contains(js(rp["ManagedPolicyArns"]), "CanaryPolicy") {
				t.Errorf("role %v: want only the canary's customer-managed policy (no inline, no AWS managed policy)", rp)
			}
			if !strings.Contains(js(rp["AssumeRolePolicyDocument"]), "lambda.amazonaws.com") {
				t.Errorf("role trust %v", rp["AssumeRolePolicyDocument"])
			}
			if n := len(cdktest.Resources(s.tmpl, "AWS::IAM::Policy")); n != 0 {
				t.Errorf("%d inline AWS::IAM::Policy resources: HIPAA.Security-IAMNoInlinePolicy", n)
			}
		})
	}
}

func TestStackWithoutCanaryKeepsTheHeartbeat(t *testing.T) {
	// Stacks built without WithCanary (tests of other concerns) have no function and fall back
	// to the cache's own heartbeat; main.go always builds with the canary.
	cfg, err := drcontext.Load(drcontext.Input{Environments: repotest.CDKContext(t)[drcontext.KeyEnvironments], Environment: "example", DrMode: "none"})
	if err != nil {
		t.Fatal(err)
	}
	s := stacks.NewCacheStack(cdktest.NewApp(t), cfg)
	tmpl := cdktest.Template(t, s.Stack)
	if s.Canary != nil || len(cdktest.Resources(tmpl, "AWS::Lambda::Function")) != 0 {
		t.Error("a canary without WithCanary")
	}
	_, alarm := byPrefix(t, tmpl, "AWS::CloudWatch::Alarm", "Monitoringcachehealth")
	if p := cdktest.Props(alarm); p["Namespace"] != "AWS/ElastiCache" || p["MetricName"] != "BytesUsedForCache" || p["TreatMissingData"] != "breaching" {
		t.Errorf("fallback health alarm %v", p)
	}
}

func TestCanaryWithoutBinaryFailsTheSynthWithTheFix(t *testing.T) {
	cfg, err := drcontext.Load(drcontext.Input{Environments: repotest.CDKContext(t)[drcontext.KeyEnvironments], Environment: "example", DrMode: "none"})
	if err != nil {
		t.Fatal(err)
	}
	var msg string
	func() {
		defer func() { msg = fmt.Sprint(recover()) }()
		stacks.NewCacheStack(cdktest.NewApp(t), cfg, stacks.WithCanary(t.TempDir()))
	}()
	if !strings.Contains(msg, "no bootstrap binary") || !strings.Contains(msg, "GOARCH=arm64") {
		t.Errorf("panic %q: want the missing binary and how to build it", msg)
	}
}

// TestCanaryPassesTheComplianceGate puts package gate (cdk-nag AwsSolutions and HIPAA
// Security, our VDR rules) on every environment's primary and DR stack with the canary, plus
// the auth modes cdk.json does not use: no unsuppressed finding, no violation, and every
// suppression on the canary still matches a finding.
func TestCanaryPassesTheComplianceGate(t *testing.T) {
	targets, err := drcontext.Matrix(repotest.CDKContext(t)[drcontext.KeyEnvironments])
	if err != nil {
		t.Fatal(err)
	}
	type variant struct {
		env  string
		auth contract.AuthMode
	}
	var variants []variant
	seen := map[string]bool{}
	for _, tg := range targets {
		if !seen[tg.Environment] {
			seen[tg.Environment] = true
			variants = append(variants, variant{env: tg.Environment})
		}
	}
	// Every environment in one App as the matrix builds them; the auth-mode variants in a
	// second (a stack id is once per App).
	groups := [][]variant{variants, {{"prod", contract.AuthIAM}, {"example", contract.AuthNone}}}
	for _, group := range groups {
		ctx := map[string]interface{}{}
		for k, val := range repotest.CDKContext(t) {
			ctx[k] = val
		}
		ctx["@aws-cdk/core:appMode"] = "inmemory"
		out := t.TempDir()
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(out), BuiltinCloudFormationValidation: cdktest.NoCFNValidation})
		byVariant := make([][]gate.Gated, len(group))
		var all []gate.Gated
		for i, v := range group {
			for _, mode := range []string{"none", "stateless"} {
				cfg, err := drcontext.Load(drcontext.Input{Environments: ctx[drcontext.KeyEnvironments], Environment: v.env, DrMode: mode})
				if err != nil {
					t.Fatal(err)
				}
				if v.auth != "" {
					cfg.Env.Cache.Auth.Mode = v.auth
				}
				byVariant[i] = append(byVariant[i], gate.Gated{Stack: stacks.NewCacheStack(app, cfg, stacks.WithCanary(canaryDir)), Config: cfg})
			}
			all = append(all, byVariant[i]...)
		}
		gate.Apply(app, all...)
		if msg := cdktest.SynthError(app); msg != "" {
			t.Fatalf("synth failed:\n%s", msg)
		}
		for _, f := range compliance.Check(cdktest.Assembly(t, out, all)) {
			t.Errorf("finding:\n%s", f)
		}
		for i, v := range group {
			t.Run(v.env+" "+string(v.auth), func(t *testing.T) {
				tgs := byVariant[i]
				for _, tg := range tgs {
					cdktest.NagClean(t, out, tg)
				}
			})
		}
	}
}

func TestCDKJSONBuildsTheCanaryAsTestsDo(t *testing.T) {
	// The CLI's build step and the tests must build the same binary: same target, tags and
	// flags, into the directory main.go passes to WithCanary.
	b, err := os.ReadFile(filepath.Join(repotest.RepoRoot(t), "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Build string `json:"build"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	quoted := make([]string, len(cdktest.CanaryBuildArgs))
	for i, a := range cdktest.CanaryBuildArgs {
		quoted[i] = a
		if strings.ContainsAny(a, " '") {
			quoted[i] = "'" + a + "'"
		}
	}
	want := "GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go " + strings.Join(quoted, " ") + " -o .build/canary/" + canary.BinaryName + " ./validate/canary"
	// The build step is scripts/build-app (issue 14: no rebuild when nothing changed).
	if script, err := os.ReadFile(filepath.Join(repotest.RepoRoot(t), cfg.Build)); err == nil {
		cfg.Build = string(script)
	}
	if !strings.Contains(cfg.Build, want) {
		t.Errorf("cdk.json build %q does not contain %q", cfg.Build, want)
	}
	main, err := os.ReadFile(filepath.Join(repotest.RepoRoot(t), "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	// main() passes canaryAssetDir to run(), which builds the stacks WithCanary(canaryDir).
	src := string(main)
	if !strings.Contains(src, `canaryAssetDir = ".build/canary"`) || !strings.Contains(src, "canaryAssetDir, os.Stderr)") || !strings.Contains(src, "stacks.WithCanary(canaryDir)") {
		t.Error("main.go does not build the stack WithCanary(\".build/canary\")")
	}
}
