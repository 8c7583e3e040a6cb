package stacks_test

// Tests read like runbook step 2: what `cdk deploy --context environment=... --context
// drMode=...` would create. No t.Parallel: jsii is one Node process per test binary.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/constructs/sessioncache"
	drcontext "github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/cdktest"
	"github.com/valkey-dr/valkey-dr/internal/repotest"
	"github.com/valkey-dr/valkey-dr/stacks"
)

type synthOpts struct {
	env, mode, region string
	hold, drill       bool
	// posture overrides the environment's drPosture ("" keeps cdk.json's).
	posture drcontext.DrMode
	mutate  func(*drcontext.Config)
}

type synthesized struct {
	cfg   *drcontext.Config
	stack *stacks.CacheStack
	tmpl  map[string]any
	asrt  assertions.Template
	// sw is the switch stack built with a primary, as main.go builds it; nil for DR stacks.
	sw *stacks.SwitchStack
}

// synthCache: the stacks of the options without a mutate, synthesized once per test binary
// (most tests read the same few stacks; each synthesis costs ~0.4 s of jsii). Tests only read
// what they get, and the template map each gets is its own copy. No t.Parallel: no lock.
var synthCache = map[cacheKey]synthesized{}

type cacheKey struct {
	env, mode, region string
	hold, drill       bool
	posture           drcontext.DrMode
}

func synth(t *testing.T, o synthOpts) synthesized {
	t.Helper()
	if o.mutate != nil {
		return synthOnce(t, o)
	}
	k := cacheKey{o.env, o.mode, o.region, o.hold, o.drill, o.posture}
	s, ok := synthCache[k]
	if !ok {
		s = synthOnce(t, o)
		synthCache[k] = s
	}
	b, err := json.Marshal(s.tmpl)
	if err != nil {
		t.Fatal(err)
	}
	s.tmpl = nil
	if err := json.Unmarshal(b, &s.tmpl); err != nil {
		t.Fatal(err)
	}
	return s
}

// load reads cdk.json's environments with o's context, as main.go does for `cdk synth`.
func (o synthOpts) load(t *testing.T) *drcontext.Config {
	t.Helper()
	ctx := repotest.CDKContext(t)
	in := drcontext.Input{Environments: ctx[drcontext.KeyEnvironments], Environment: o.env, DrMode: o.mode}
	if o.region != "" {
		in.Region = o.region
	}
	if o.hold {
		in.HoldPrimaryRouting = "true"
	}
	if o.drill {
		in.AllowSameRegionDrill = "true"
	}
	cfg, err := drcontext.Load(in)
	if err != nil {
		t.Fatalf("load context %+v: %v", o, err)
	}
	if o.posture != "" {
		cfg.Env.DrPosture = o.posture
	}
	if o.mutate != nil {
		o.mutate(cfg)
	}
	return cfg
}

func synthOnce(t *testing.T, o synthOpts) synthesized {
	t.Helper()
	cfg := o.load(t)
	app := cdktest.NewApp(t)
	s := stacks.NewCacheStack(app, cfg, stacks.WithCanary(canaryDir))
	sw := stacks.AttachSwitch(app, cfg, s)
	// One synthesis: Template_FromStack synthesizes the app (force), and the plain JSON is its.
	var a assertions.Template
	cdktest.Must(t, "template from stack", func() { a = assertions.Template_FromStack(s.Stack, nil) })
	tmpl := cdktest.JSON(t, a.ToJSON())
	return synthesized{cfg: cfg, stack: s, tmpl: tmpl, asrt: a, sw: sw}
}

func only(t *testing.T, tmpl map[string]any, typ string) (string, map[string]any) {
	t.Helper()
	rs := cdktest.Resources(tmpl, typ)
	if len(rs) != 1 {
		t.Fatalf("want exactly one %s, got %d", typ, len(rs))
	}
	for id, r := range rs {
		return id, r
	}
	return "", nil
}

func TestCacheLogicalIDsArePinned(t *testing.T) {
	// Changing any of these ids replaces the cache (or its auth) on the next deploy.
	s := synth(t, synthOpts{env: "example", mode: "none"})
	want := map[string]string{
		sessioncache.LogicalIDCache:         "AWS::ElastiCache::ServerlessCache",
		sessioncache.LogicalIDSecurityGroup: "AWS::EC2::SecurityGroup",
		sessioncache.LogicalIDUser:          "AWS::ElastiCache::User",
		sessioncache.LogicalIDUserGroup:     "AWS::ElastiCache::UserGroup",
		sessioncache.LogicalIDSecret:        "AWS::SecretsManager::Secret",
	}
	res := s.tmpl["Resources"].(map[string]any)
	for id, typ := range want {
		r, ok := res[id].(map[string]any)
		if !ok || r["Type"] != typ {
			t.Errorf("logical id %q: want a %s, got %v", id, typ, res[id])
		}
	}
	if sessioncache.LogicalIDCache != "SessionCache" {
		t.Errorf("the cache's logical id changed to %q: every existing cache would be replaced", sessioncache.LogicalIDCache)
	}
}

func TestStackIdentityAndEnvironment(t *testing.T) {
	for name, tc := range map[string]struct {
		o                  synthOpts
		wantID, wantRegion string
		wantProtected      bool
	}{
		"example primary in its primary region": {synthOpts{env: "example", mode: "none"}, "ValkeyDr-example-us-east-1-primary", "us-east-1", false},
		"example DR in its DR region":           {synthOpts{env: "example", mode: "stateless"}, "ValkeyDr-example-us-west-2-dr", "us-west-2", false},
		"prod DR is termination protected":      {synthOpts{env: "prod", mode: "stateless"}, "ValkeyDr-prod-us-west-2-dr", "us-west-2", true},
		"prod primary is termination protected": {synthOpts{env: "prod", mode: "none"}, "ValkeyDr-prod-us-east-1-primary", "us-east-1", true},
		"same-region drill gets its own id":     {synthOpts{env: "example", mode: "stateless", region: "us-east-1", drill: true}, "ValkeyDr-example-us-east-1-dr", "us-east-1", false},
	} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, tc.o)
			if got := *s.stack.StackName(); got != tc.wantID {
				t.Errorf("stack name %q, want %q", got, tc.wantID)
			}
			if got := *s.stack.Region(); got != tc.wantRegion {
				t.Errorf("region %q, want %q", got, tc.wantRegion)
			}
			if got := *s.stack.Account(); got != s.cfg.Env.Account {
				t.Errorf("account %q, want %q (explicit, never environment-agnostic)", got, s.cfg.Env.Account)
			}
			if got := *s.stack.TerminationProtection(); got != tc.wantProtected {
				t.Errorf("termination protection %v, want %v", got, tc.wantProtected)
			}
		})
	}
}

func TestServerlessCache(t *testing.T) {
	for name, tc := range map[string]struct {
		o             synthOpts
		wantName      string
		wantKMS       bool
		wantRetention float64
		wantDeletion  string
	}{
		"primary keeps the configured snapshot retention": {synthOpts{env: "example", mode: "none"}, "example-sessions", false, 0, "Delete"},
		"DR cache is new, empty, named -dr, no snapshots": {synthOpts{env: "example", mode: "stateless"}, "example-sessions-dr", false, 0, "Delete"},
		"prod primary uses the CMK and is retained":       {synthOpts{env: "prod", mode: "none"}, "gc-sessions-prod", true, 0, "Retain"},
		"prod DR uses the DR region's CMK":                {synthOpts{env: "prod", mode: "stateless"}, "gc-sessions-prod-dr", true, 0, "Delete"},
		"primary with retention from config": {synthOpts{env: "example", mode: "none", mutate: func(c *drcontext.Config) {
			c.Env.Cache.SnapshotRetentionLimit = 7
		}}, "example-sessions", false, 7, "Delete"},
		"DR ignores the primary's snapshot retention": {synthOpts{env: "example", mode: "stateless", mutate: func(c *drcontext.Config) {
			c.Env.Cache.SnapshotRetentionLimit = 7
		}}, "example-sessions-dr", false, 0, "Delete"},
	} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, tc.o)
			_, cache := only(t, s.tmpl, "AWS::ElastiCache::ServerlessCache")
			p := cdktest.Props(cache)
			if p["ServerlessCacheName"] != tc.wantName {
				t.Errorf("ServerlessCacheName %v, want %q", p["ServerlessCacheName"], tc.wantName)
			}
			if p["Engine"] != "valkey" || p["MajorEngineVersion"] != "8" {
				t.Errorf("engine %v %v, want valkey 8", p["Engine"], p["MajorEngineVersion"])
			}
			if got := fmt.Sprint(p["SubnetIds"]); got != fmt.Sprint(toAny(s.cfg.Net.SubnetIDs)) {
				t.Errorf("SubnetIds %s, want %v", got, s.cfg.Net.SubnetIDs)
			}
			if got := fmt.Sprint(p["SecurityGroupIds"]); !strings.Contains(got, sessioncache.LogicalIDSecurityGroup) {
				t.Errorf("SecurityGroupIds %s, want the stack's own group", got)
			}
			if _, ok := p["SnapshotArnsToRestore"]; ok {
				t.Error("SnapshotArnsToRestore present: this runbook never restores")
			}
			if got, _ := p["SnapshotRetentionLimit"].(float64); got != tc.wantRetention {
				t.Errorf("SnapshotRetentionLimit %v, want %v", p["SnapshotRetentionLimit"], tc.wantRetention)
			}
			if _, ok := p["KmsKeyId"]; ok != tc.wantKMS {
				t.Errorf("KmsKeyId present=%v, want %v", ok, tc.wantKMS)
			} else if ok && p["KmsKeyId"] != s.cfg.Net.KmsKeyArn {
				t.Errorf("KmsKeyId %v, want %s", p["KmsKeyId"], s.cfg.Net.KmsKeyArn)
			}
			if cache["DeletionPolicy"] != tc.wantDeletion || cache["UpdateReplacePolicy"] != tc.wantDeletion {
				t.Errorf("DeletionPolicy/UpdateReplacePolicy %v/%v, want %s (stated explicitly)", cache["DeletionPolicy"], cache["UpdateReplacePolicy"], tc.wantDeletion)
			}
			limits, _ := p["CacheUsageLimits"].(map[string]any)
			ds, _ := limits["DataStorage"].(map[string]any)
			ecpu, _ := limits["ECPUPerSecond"].(map[string]any)
			if ds["Maximum"] != float64(s.cfg.Env.Cache.UsageLimits.DataStorageMaxGB) || ds["Unit"] != "GB" || ecpu["Maximum"] != float64(s.cfg.Env.Cache.UsageLimits.ECPUPerSecondMax) {
				t.Errorf("CacheUsageLimits %v, want %+v", limits, s.cfg.Env.Cache.UsageLimits)
			}
			if !strings.Contains(fmt.Sprint(p["UserGroupId"]), sessioncache.LogicalIDUserGroup) {
				t.Errorf("UserGroupId %v, want a ref to the stack's user group", p["UserGroupId"])
			}
			tags := fmt.Sprint(p["Tags"])
			for _, k := range []string{"environment", "drMode", "owner", "dataClassification"} {
				if !strings.Contains(tags, "Key:"+k+" ") {
					t.Errorf("cache tags %s lack %q", tags, k)
				}
			}
		})
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func TestSecurityGroupAllowsOnlyValkeyPortsFromConfiguredSources(t *testing.T) {
	for _, o := range []synthOpts{{env: "example", mode: "none"}, {env: "example", mode: "stateless"}, {env: "prod", mode: "stateless"}} {
		t.Run(o.env+"-"+o.mode, func(t *testing.T) {
			s := synth(t, o)
			// Invariant over every group in the template, not "some group matches": each states
			// its egress (without it CloudFormation allows all), none allows all protocols.
			for id, g := range cdktest.Resources(s.tmpl, "AWS::EC2::SecurityGroup") {
				egress, ok := cdktest.Props(g)["SecurityGroupEgress"].([]any)
				if !ok || len(egress) == 0 {
					t.Errorf("group %s states no egress: CloudFormation would allow all outbound", id)
				}
				for _, e := range egress {
					if r := e.(map[string]any); r["IpProtocol"] == "-1" {
						t.Errorf("group %s allows all outbound: %v", id, r)
					}
				}
			}
			// The cache's group never initiates anything (the canary's has its own test).
			cdktest.Must(t, "the cache group allows no outbound", func() {
				s.asrt.HasResource(jsii.String("AWS::EC2::SecurityGroup"), &map[string]any{
					"Properties": map[string]any{"SecurityGroupEgress": []any{map[string]any{"CidrIp": "255.255.255.255/32", "IpProtocol": "icmp", "FromPort": 252, "ToPort": 86, "Description": assertions.Match_AnyValue()}},
						"GroupDescription": assertions.Match_StringLikeRegexp(jsii.String("^ElastiCache Serverless"))},
				})
			})
			sg := s.tmpl["Resources"].(map[string]any)[sessioncache.LogicalIDSecurityGroup].(map[string]any)
			ingress, _ := cdktest.Props(sg)["SecurityGroupIngress"].([]any)
			wantSources := map[string]bool{}
			for _, id := range s.cfg.Net.ApplicationSecurityGroupIDs {
				wantSources[id] = true
			}
			for _, c := range s.cfg.Net.AllowedCidrs {
				wantSources[c] = true
			}
			if len(ingress) != len(wantSources) {
				t.Fatalf("%d ingress rules, want one per configured source (%d)", len(ingress), len(wantSources))
			}
			for _, r := range ingress {
				rule := r.(map[string]any)
				if rule["IpProtocol"] != "tcp" || rule["FromPort"] != float64(6379) || rule["ToPort"] != float64(6380) {
					t.Errorf("rule %v: want tcp 6379-6380 only", rule)
				}
				if d, _ := rule["Description"].(string); d == "" {
					t.Errorf("rule %v has no description", rule)
				}
				src := fmt.Sprint(rule["SourceSecurityGroupId"], rule["CidrIp"], rule["CidrIpv6"])
				if strings.Contains(src, "0.0.0.0/0") || strings.Contains(src, "::/0") {
					t.Errorf("rule %v is open to the world", rule)
				}
				found := false
				for k := range wantSources {
					if strings.Contains(src, k) {
						found = true
					}
				}
				if !found {
					t.Errorf("rule %v has a source not in config", rule)
				}
			}
		})
	}
}

func TestPasswordAuthKeepsThePasswordOutOfTheTemplate(t *testing.T) {
	s := synth(t, synthOpts{env: "example", mode: "stateless"})
	_, user := only(t, s.tmpl, "AWS::ElastiCache::User")
	p := cdktest.Props(user)
	if p["Engine"] != "valkey" || p["UserId"] != "example-sessions-dr-app" || p["UserName"] != "app" {
		t.Errorf("user %v: want engine valkey, id example-sessions-dr-app, name app", p)
	}
	am := p["AuthenticationMode"].(map[string]any)
	pw := fmt.Sprint(am["Passwords"])
	if am["Type"] != "password" || !strings.Contains(pw, "{{resolve:secretsmanager:") || !strings.Contains(pw, ":SecretString:password::}}") {
		t.Errorf("AuthenticationMode %v: want a Secrets Manager dynamic reference, never a literal", am)
	}
	_, secret := only(t, s.tmpl, "AWS::SecretsManager::Secret")
	gen := cdktest.Props(secret)["GenerateSecretString"].(map[string]any)
	if gen["GenerateStringKey"] != "password" || gen["PasswordLength"] != float64(64) {
		t.Errorf("GenerateSecretString %v: want a generated 64-character password", gen)
	}
	_, ug := only(t, s.tmpl, "AWS::ElastiCache::UserGroup")
	if cdktest.Props(ug)["Engine"] != "valkey" || cdktest.Props(ug)["UserGroupId"] != "example-sessions-dr-users" {
		t.Errorf("user group %v", cdktest.Props(ug))
	}
	if _, ok := s.tmpl["Resources"].(map[string]any)[sessioncache.LogicalIDConnectPolicy]; ok {
		t.Error("password mode must not create an IAM connect policy")
	}
}

func TestIAMAuthUserAndConnectPolicy(t *testing.T) {
	iam := func(c *drcontext.Config) { c.Env.Cache.Auth.Mode = contract.AuthIAM }
	s := synth(t, synthOpts{env: "example", mode: "stateless", mutate: iam})
	_, user := only(t, s.tmpl, "AWS::ElastiCache::User")
	p := cdktest.Props(user)
	if p["UserId"] != p["UserName"] {
		t.Errorf("IAM auth needs user name == user id, got %v / %v", p["UserName"], p["UserId"])
	}
	if am := p["AuthenticationMode"].(map[string]any); am["Type"] != "iam" {
		t.Errorf("AuthenticationMode %v, want iam", am)
	}
	if len(cdktest.Resources(s.tmpl, "AWS::SecretsManager::Secret")) != 0 {
		t.Error("IAM mode must not create a password secret")
	}
	// The stack made on the night creates no IAM policy: the switch stack made it in peacetime.
	if _, ok := s.tmpl["Resources"].(map[string]any)[sessioncache.LogicalIDConnectPolicy]; ok {
		t.Error("the DR stack creates the connect policy: IAM's control plane is in us-east-1")
	}
	primary := synth(t, synthOpts{env: "example", mode: "none", mutate: iam})
	pol, _ := primary.tmpl["Resources"].(map[string]any)[sessioncache.LogicalIDConnectPolicy].(map[string]any)
	doc, _ := json.Marshal(cdktest.Props(pol)["PolicyDocument"])
	for _, want := range []string{`"Action":"elasticache:Connect"`, `"Effect":"Allow"`, sessioncache.LogicalIDCache, sessioncache.LogicalIDUser} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("connect policy %s lacks %s", doc, want)
		}
	}
	if strings.Contains(string(doc), `"Resource":"*"`) {
		t.Errorf("connect policy %s must name the cache and the user, not *", doc)
	}
	_, drPol := byPrefix(t, cdktest.Template(t, primary.sw.Stack), "AWS::IAM::ManagedPolicy", "DrConnectPolicy")
	dp := cdktest.Props(drPol)
	drDoc, _ := json.Marshal(dp["PolicyDocument"])
	for _, want := range []string{`"Action":"elasticache:Connect"`, ":serverlesscache:" + s.cfg.CacheName() + `"`, ":user:" + s.cfg.UserID() + `"`} {
		if !strings.Contains(string(drDoc), want) {
			t.Errorf("the switch stack's DR connect policy %s lacks %s", drDoc, want)
		}
	}
	if dp["ManagedPolicyName"] != s.cfg.DRConnectPolicyName() {
		t.Errorf("DR connect policy named %v, want %s (applications attach it by name)", dp["ManagedPolicyName"], s.cfg.DRConnectPolicyName())
	}
}

func TestAuthNoneCreatesNoUserGroup(t *testing.T) {
	s := synth(t, synthOpts{env: "example", mode: "none", mutate: func(c *drcontext.Config) {
		c.Env.Cache.Auth.Mode = contract.AuthNone
	}})
	for _, typ := range []string{"AWS::ElastiCache::User", "AWS::ElastiCache::UserGroup", "AWS::SecretsManager::Secret"} {
		if n := len(cdktest.Resources(s.tmpl, typ)); n != 0 {
			t.Errorf("%d %s with auth none", n, typ)
		}
	}
	_, cache := only(t, s.tmpl, "AWS::ElastiCache::ServerlessCache")
	if _, ok := cdktest.Props(cache)["UserGroupId"]; ok {
		t.Error("UserGroupId set with auth none")
	}
}

func TestRoute53Records(t *testing.T) {
	for name, tc := range map[string]struct {
		o               synthOpts
		wantRegional    string
		wantService     bool
		wantFailover    string
		wantHealthCheck bool
	}{
		"primary owns PRIMARY with an alarm health check": {synthOpts{env: "example", mode: "none"}, "sessions.us-east-1.cache.internal.example.com", true, "PRIMARY", true},
		"DR owns SECONDARY":                          {synthOpts{env: "example", mode: "stateless"}, "sessions.us-west-2.cache.internal.example.com", true, "SECONDARY", false},
		"failback holds PRIMARY back":                {synthOpts{env: "example", mode: "none", hold: true}, "sessions.us-east-1.cache.internal.example.com", false, "", false},
		"a same-region drill owns no service record": {synthOpts{env: "example", mode: "stateless", region: "us-east-1", drill: true}, "sessions.drill.us-east-1.cache.internal.example.com", false, "", false},
	} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, tc.o)
			tmpl := s.tmpl
			if s.cfg.Mode().OnTheNight {
				// A stack made on the night owns no record: its DNS stack does (dnsstack.go).
				if n := len(cdktest.Resources(s.tmpl, "AWS::Route53::RecordSet")); n != 0 {
					t.Fatalf("%d records in the stack made on the night", n)
				}
				_, tmpl = synthDNS(t, tc.o)
			}
			for id, r := range cdktest.Resources(tmpl, "AWS::Route53::RecordSet") {
				if p := cdktest.Props(r); p["TTL"] != "30" || p["Type"] != "CNAME" || p["HostedZoneId"] != s.cfg.Env.DNS.HostedZoneID {
					t.Errorf("record %s: %v, want CNAME, TTL 30, zone %s", id, p, s.cfg.Env.DNS.HostedZoneID)
				}
			}
			records := cdktest.Resources(tmpl, "AWS::Route53::RecordSet")
			var regional, service map[string]any
			for _, r := range records {
				p := cdktest.Props(r)
				switch p["Name"] {
				case tc.wantRegional:
					regional = p
				case s.cfg.ServiceDNSName():
					service = p
				default:
					t.Errorf("unexpected record %v", p["Name"])
				}
			}
			if regional == nil || !strings.Contains(fmt.Sprint(regional["ResourceRecords"]), "Endpoint.Address") && !strings.Contains(fmt.Sprint(regional["ResourceRecords"]), "endpoint-address") {
				t.Errorf("regional record %v: want %s CNAME to the endpoint", regional, tc.wantRegional)
			}
			if (service != nil) != tc.wantService {
				t.Fatalf("service record present=%v, want %v", service != nil, tc.wantService)
			}
			if service != nil && (service["Failover"] != tc.wantFailover || service["SetIdentifier"] != strings.ToLower(tc.wantFailover)) {
				t.Errorf("service record %v: want Failover %s", service, tc.wantFailover)
			}
			hcs := cdktest.Resources(tmpl, "AWS::Route53::HealthCheck")
			if !tc.wantHealthCheck {
				if len(hcs) != 0 {
					t.Fatalf("%d health checks, want none", len(hcs))
				}
				return
			}
			// The PRIMARY record reads a CALCULATED check of the canary check AND the
			// forced-failover override (TestForcedFailoverSwitch has the details).
			if len(hcs) != 3 {
				t.Fatalf("%d health checks, want 3 (canary, override, calculated)", len(hcs))
			}
			var canaryHC string
			for id, hc := range hcs {
				cfg := cdktest.Props(hc)["HealthCheckConfig"].(map[string]any)
				switch {
				case cfg["Type"] == "CALCULATED":
					if !strings.Contains(fmt.Sprint(service["HealthCheckId"]), id) {
						t.Errorf("PRIMARY record does not use the calculated health check %s: %v", id, service["HealthCheckId"])
					}
				case strings.Contains(id, "Override"):
				default:
					canaryHC = id
					if cfg["Type"] != "CLOUDWATCH_METRIC" || cfg["InsufficientDataHealthStatus"] != "Unhealthy" {
						t.Errorf("health check %v: want CLOUDWATCH_METRIC, missing data unhealthy", cfg)
					}
				}
			}
			// The canary health check must read the health alarm, and that alarm must treat
			// silence (a dead region publishes nothing) as unhealthy.
			ref := fmt.Sprint(cdktest.Props(hcs[canaryHC])["HealthCheckConfig"].(map[string]any)["AlarmIdentifier"])
			found := false
			for id, a := range cdktest.Resources(s.tmpl, "AWS::CloudWatch::Alarm") {
				if !strings.Contains(ref, id) {
					continue
				}
				found = true
				p := cdktest.Props(a)
				if p["TreatMissingData"] != "breaching" || p["Namespace"] != contract.CanaryNamespace || p["MetricName"] != contract.MetricSuccess {
					t.Errorf("health alarm %v: want the health canary's Success with missing data breaching", p)
				}
			}
			if !found {
				t.Errorf("health check alarm identifier %s names no alarm of the stack", ref)
			}
		})
	}
}

func TestSSMParametersAndOutputs(t *testing.T) {
	for name, tc := range map[string]struct {
		o          synthOpts
		wantPrefix string
		wantKeys   []string
		absentKeys []string
		// wantParams and absentParams are beyond endpoint-address, port, reader-port, auth-mode.
		wantParams, absentParams []string
	}{
		"password primary": {synthOpts{env: "example", mode: "none"}, "/valkey-dr/example",
			[]string{contract.KeyServiceDNSName, contract.KeySecretArn, contract.KeyUserID, contract.KeyUserName, contract.KeyCanaryFunctionName}, nil,
			[]string{"user-name", "secret-arn"}, nil},
		"held-back primary has no service name": {synthOpts{env: "example", mode: "none", hold: true}, "/valkey-dr/example",
			nil, []string{contract.KeyServiceDNSName}, nil, nil},
		"drill publishes under its own prefix": {synthOpts{env: "example", mode: "stateless", region: "us-east-1", drill: true}, "/valkey-dr/example/drill",
			nil, []string{contract.KeyServiceDNSName}, []string{"secret-arn"}, nil},
		"iam mode has no secret": {synthOpts{env: "example", mode: "stateless", mutate: func(c *drcontext.Config) { c.Env.Cache.Auth.Mode = contract.AuthIAM }}, "/valkey-dr/example",
			[]string{contract.KeyUserID, contract.KeyCanaryFunctionName}, []string{contract.KeySecretArn}, []string{"user-name"}, []string{"secret-arn"}},
		"auth none publishes no user and no secret": {synthOpts{env: "example", mode: "stateless", mutate: func(c *drcontext.Config) { c.Env.Cache.Auth.Mode = contract.AuthNone }}, "/valkey-dr/example",
			nil, []string{contract.KeySecretArn, contract.KeyUserID}, nil, []string{"user-name", "secret-arn"}},
	} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, tc.o)
			params := cdktest.Resources(s.tmpl, "AWS::SSM::Parameter")
			names := map[string]bool{}
			for _, p := range params {
				names[fmt.Sprint(cdktest.Props(p)["Name"])] = true
			}
			for _, n := range append([]string{"endpoint-address", "port", "reader-port", "auth-mode"}, tc.wantParams...) {
				if !names[tc.wantPrefix+"/"+n] {
					t.Errorf("SSM parameter %s/%s missing (have %v)", tc.wantPrefix, n, names)
				}
			}
			for _, n := range tc.absentParams {
				if names[tc.wantPrefix+"/"+n] {
					t.Errorf("SSM parameter %s/%s present, want absent", tc.wantPrefix, n)
				}
			}
			for _, p := range params {
				pp := cdktest.Props(p)
				v, _ := json.Marshal(pp["Value"])
				switch pp["Name"] {
				case tc.wantPrefix + "/auth-mode":
					if pp["Value"] != string(s.cfg.Env.Cache.Auth.Mode) {
						t.Errorf("auth-mode %v, want %s", pp["Value"], s.cfg.Env.Cache.Auth.Mode)
					}
				case tc.wantPrefix + "/secret-arn":
					// The secret's ARN (a Ref), never its value.
					if !strings.Contains(string(v), sessioncache.LogicalIDSecret) || strings.Contains(string(v), "resolve:secretsmanager") {
						t.Errorf("secret-arn %s: want a reference to the secret's ARN", v)
					}
				case tc.wantPrefix + "/user-name":
					if pp["Value"] != s.cfg.AuthUserName() {
						t.Errorf("user-name %v, want %s", pp["Value"], s.cfg.AuthUserName())
					}
				}
			}
			outs, _ := s.tmpl["Outputs"].(map[string]any)
			for _, k := range append(append([]string{}, contract.Required...), tc.wantKeys...) {
				if _, ok := outs[k]; !ok {
					t.Errorf("output %s missing", k)
				}
			}
			for _, k := range tc.absentKeys {
				if _, ok := outs[k]; ok {
					t.Errorf("output %s present, want absent", k)
				}
			}
			all, _ := json.Marshal(outs)
			if strings.Contains(string(all), "SecretString") || strings.Contains(string(all), "resolve:secretsmanager") {
				t.Errorf("an output carries a secret value: %s", all)
			}
		})
	}
}

func TestStabilizationAlarms(t *testing.T) {
	// Runbook section 7: error rates, connections and latency become alarms with thresholds
	// from config, notifying an encrypted SNS topic; names as AWS documents them for
	// serverless caches (namespace AWS/ElastiCache, dimension clusterId).
	s := synth(t, synthOpts{env: "example", mode: "stateless", mutate: func(c *drcontext.Config) {
		c.Env.Monitoring.ReadLatencyP99Micros = 1500
		c.Env.Monitoring.MaxConnections = 3000
	}})
	type want struct {
		stat, op  string
		threshold float64
	}
	wants := map[string]want{
		"ThrottledCmds":                 {"Sum", "GreaterThanThreshold", 0},
		"SuccessfulReadRequestLatency":  {"", "GreaterThanThreshold", 1500},
		"SuccessfulWriteRequestLatency": {"", "GreaterThanThreshold", 2000},
		"ElastiCacheProcessingUnits":    {"Sum", "GreaterThanOrEqualToThreshold", 5000 * 60 * 0.75},
		"CurrConnections":               {"Maximum", "GreaterThanThreshold", 3000},
	}
	seen := map[string]bool{}
	var storage, health bool
	for _, a := range cdktest.Resources(s.tmpl, "AWS::CloudWatch::Alarm") {
		p := cdktest.Props(a)
		if p["Namespace"] == contract.CanaryNamespace {
			// The health alarm reads the health canary (TestCanaryMetricDrivesTheHealthAlarm).
			if p["MetricName"] == contract.MetricSuccess {
				health = p["TreatMissingData"] == "breaching" && strings.Contains(fmt.Sprint(p["AlarmActions"]), "AlarmTopic")
			}
			continue
		}
		dims := fmt.Sprint(p["Dimensions"])
		if p["Namespace"] != "AWS/ElastiCache" || dims != "[map[Name:clusterId Value:example-sessions-dr]]" {
			t.Errorf("alarm %v: want namespace AWS/ElastiCache, dimension clusterId=example-sessions-dr", p["AlarmName"])
		}
		if !strings.Contains(fmt.Sprint(p["AlarmActions"]), "AlarmTopic") || !strings.Contains(fmt.Sprint(p["OKActions"]), "AlarmTopic") {
			t.Errorf("alarm %v does not notify the alarm topic: %v", p["AlarmName"], p["AlarmActions"])
		}
		name, _ := p["MetricName"].(string)
		if name == "BytesUsedForCache" {
			if p["Statistic"] == "Maximum" {
				storage = p["Threshold"] == 10*1e9*0.75
			}
			continue
		}
		w, ok := wants[name]
		if !ok {
			t.Errorf("unexpected alarm metric %q", name)
			continue
		}
		seen[name] = true
		stat := p["Statistic"]
		if w.stat == "" {
			stat = p["ExtendedStatistic"]
			w.stat = "p99"
		}
		if stat != w.stat || p["ComparisonOperator"] != w.op || p["Threshold"] != w.threshold {
			t.Errorf("%s alarm: %v %v %v, want %s %s %v", name, stat, p["ComparisonOperator"], p["Threshold"], w.stat, w.op, w.threshold)
		}
		if p["TreatMissingData"] != "notBreaching" {
			t.Errorf("%s alarm treats missing data as %v: no traffic is not an alarm", name, p["TreatMissingData"])
		}
	}
	for name := range wants {
		if !seen[name] {
			t.Errorf("no %s alarm", name)
		}
	}
	if !storage || !health {
		t.Errorf("storage alarm at 75%% of 10 GB present=%v, health alarm (missing data breaching) present=%v", storage, health)
	}
	_, topic := only(t, s.tmpl, "AWS::SNS::Topic")
	if !strings.Contains(fmt.Sprint(cdktest.Props(topic)["KmsMasterKeyId"]), "AlarmTopicKey") {
		t.Errorf("alarm topic %v is not encrypted with its own key", cdktest.Props(topic))
	}
	_, key := byPrefix(t, s.tmpl, "AWS::KMS::Key", "MonitoringAlarmTopicKey")
	if cdktest.Props(key)["EnableKeyRotation"] != true || !strings.Contains(fmt.Sprint(cdktest.Props(key)["KeyPolicy"]), "cloudwatch.amazonaws.com") {
		t.Errorf("alarm topic key must rotate and let CloudWatch publish: %v", cdktest.Props(key))
	}
	_, dash := only(t, s.tmpl, "AWS::CloudWatch::Dashboard")
	body, _ := json.Marshal(cdktest.Props(dash)["DashboardBody"])
	for _, m := range []string{"SuccessfulReadRequestLatency", "SuccessfulWriteRequestLatency", "ElastiCacheProcessingUnits", "BytesUsedForCache", "CurrConnections", "ThrottledCmds"} {
		if !strings.Contains(string(body), m) {
			t.Errorf("dashboard lacks %s", m)
		}
	}
}

func TestExistingAlarmTopicIsUsedAsIs(t *testing.T) {
	arn := "arn:aws:sns:us-west-2:111111111111:oncall"
	s := synth(t, synthOpts{env: "example", mode: "stateless", mutate: func(c *drcontext.Config) { c.Env.Monitoring.AlarmTopicArn = arn }})
	n := len(cdktest.Resources(s.tmpl, "AWS::SNS::Topic"))
	for id := range cdktest.Resources(s.tmpl, "AWS::KMS::Key") {
		if strings.HasPrefix(id, "MonitoringAlarmTopicKey") {
			n++
		}
	}
	if n != 0 {
		t.Errorf("%d topics/keys created although alarmTopicArn is set", n)
	}
	for _, a := range cdktest.Resources(s.tmpl, "AWS::CloudWatch::Alarm") {
		if got := fmt.Sprint(cdktest.Props(a)["AlarmActions"]); got != "["+arn+"]" {
			t.Errorf("alarm actions %s, want [%s]", got, arn)
		}
	}
}

func TestTemplatesMatchGoldenFiles(t *testing.T) {
	// Reviewed snapshots of what each deploy creates: a diff here is a change to production
	// infrastructure and must be read as one (go test ./stacks/ -update, then review).
	for _, o := range []synthOpts{
		{env: "example", mode: "none"}, {env: "example", mode: "stateless"}, {env: "example", mode: "standby"},
		{env: "prod", mode: "none"}, {env: "prod", mode: "stateless"}, {env: "prod", mode: "standby"},
		// prod as a stateless-posture production environment (the DR procedures' seam tests
		// drive the runbook's stateless activation with it).
		{env: "prod", mode: "stateless", posture: drcontext.DrModeStateless},
	} {
		t.Run(goldenName(o), func(t *testing.T) {
			s := synth(t, o)
			cdktest.Golden(t, goldenName(o), cdktest.NormalizeAssetHashes(s.tmpl))
		})
	}
}

// goldenName is <env>-<mode>, prefixed posture-<posture>- when the test overrides cdk.json's
// drPosture.
func goldenName(o synthOpts) string {
	n := o.env + "-" + o.mode
	if o.posture != "" {
		n = "posture-" + string(o.posture) + "-" + n
	}
	return n
}
