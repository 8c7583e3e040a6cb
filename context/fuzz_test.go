package drcontext

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// FuzzLoad feeds Load arbitrary context: the environments as JSON text (or, decoded, as the
// map jsii would give) and the five flags as strings or absent. The invariants are the
// promises main.go relies on: no panic; a Config or an *Error, never both or neither; every
// problem one line; and a Config that re-validates to itself.
func FuzzLoad(f *testing.F) {
	valid := mustJSON(build())
	// absent is a bit mask: 1 environment, 2 region, 4 drMode, 8 hold, 16 drill are left out;
	// 32 passes the environments decoded (map[string]any) instead of as a JSON string.
	all := uint8(1 | 2 | 4 | 8 | 16)
	seeds := []struct {
		envs                                  string
		environment, region, drMode, hold, dr string
		absent                                uint8
	}{
		{valid, "", "", "", "", "", all},
		{valid, "", "", "", "", "", all | 32},
		{valid, "prod", "", "stateless", "", "", 2 | 8 | 16},
		{valid, "example", "us-east-1", "stateless", "false", "true", 32},
		{valid, "example", "us-east-1", "none", "true", "false", 0},
		{valid, "nope", "mars-1", "snapshot", "yes", "1", 0},
		{valid, "Prod", "", "restore", "", "", 2 | 8 | 16},
		{valid, "example", "", "", "", "", 2 | 4 | 8 | 16},
		{mustJSON(build(set("example.cache.nmae", "x"), set("example.regions.us-east-1.subnetIds", "subnet-1"))), "", "", "", "", "", all},
		{mustJSON(build(set("example.cache.name", "sessions-0123456789-0123456789-01234"))), "", "", "stateless", "", "", 1 | 2 | 8 | 16},
		{mustJSON(build(set("example.regions.us-east-1.allowedCidrs", []any{"0.0.0.0/0", "::/0", "10.1.2.3/8"}))), "", "", "", "", "", all | 32},
		{mustJSON(build(set("example.dns.ttlSeconds", 1e300), set("example.cache.majorEngineVersion", math.Copysign(0, -1)))), "", "", "", "", "", all},
		{`{"example":{"regions":{"":{}},"tags":{"":""}}}`, "", "", "", "", "", all},
		{`{"example":null}`, "", "", "", "", "", all},
		{`{"example":{"production":null,"cache":{"auth":{"mode":"none"}}}}`, "", "", "", "", "", all},
		{`{"a":{}} trailing`, "a", "", "", "", "", 2 | 4 | 8 | 16},
		{`"{}"`, "", "", "", "", "", all},
		{`[1, 2]`, "", "", "", "", "", all},
		{`{`, "", "", "", "", "", all},
		{``, "", "", "", "", "", all},
		{`{"ex\nample":{}}`, "ex\nample", "us-east-1\n", "none\u2028", "true", "false", 0},
	}
	for _, s := range seeds {
		f.Add(s.envs, s.environment, s.region, s.drMode, s.hold, s.dr, s.absent)
	}
	f.Fuzz(func(t *testing.T, envs, environment, region, drMode, hold, drill string, absent uint8) {
		opt := func(bit uint8, s string) any {
			if absent&bit != 0 {
				return nil
			}
			return s
		}
		in := Input{
			Environments:         envs,
			Environment:          opt(1, environment),
			Region:               opt(2, region),
			DrMode:               opt(4, drMode),
			HoldPrimaryRouting:   opt(8, hold),
			AllowSameRegionDrill: opt(16, drill),
		}
		if absent&32 != 0 {
			var v any
			if json.Unmarshal([]byte(envs), &v) == nil {
				in.Environments = v // float64 numbers and []any, as from jsii
			}
		}

		cfg, err := Load(in)
		checkResult(t, cfg, err)

		// Deterministic: the same input gives the same answer.
		cfg2, err2 := Load(in)
		if errText(err) != errText(err2) || !reflect.DeepEqual(cfg, cfg2) {
			t.Fatalf("Load is not deterministic:\n%v\n%v", err, err2)
		}
		if cfg == nil {
			return
		}

		// A Config re-validates: its own environment, written back out and loaded with its
		// own settings, gives the same Config.
		again, err := Load(Input{
			Environments:         map[string]any{cfg.EnvironmentName: roundTrip(t, cfg.Env)},
			Environment:          cfg.EnvironmentName,
			Region:               cfg.Region,
			DrMode:               string(cfg.DrMode),
			HoldPrimaryRouting:   cfg.HoldPrimaryRouting,
			AllowSameRegionDrill: cfg.SameRegionDrill,
		})
		if err != nil {
			t.Fatalf("a loaded Config does not re-validate: %v", err)
		}
		if !reflect.DeepEqual(again, cfg) {
			t.Fatalf("re-validated Config differs:\n%+v\n%+v", again, cfg)
		}
		// And its environment passes the matrix rules when it is the only one.
		if _, err := Environments(map[string]any{cfg.EnvironmentName: roundTrip(t, cfg.Env)}); err != nil {
			t.Fatalf("a loaded environment fails Environments: %v", err)
		}
	})
}

// checkResult asserts Load's contract for one call.
func checkResult(t *testing.T, cfg *Config, err error) {
	t.Helper()
	if (cfg == nil) == (err == nil) {
		t.Fatalf("Load returned Config %v and error %v: want exactly one", cfg != nil, err)
	}
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error is %T, want *Error: %v", err, err)
	}
	if len(e.Problems) == 0 {
		t.Fatalf("*Error without problems")
	}
	if e.ExitCode() != 2 {
		t.Fatalf("ExitCode %d", e.ExitCode())
	}
	for _, p := range e.Problems {
		s := p.String()
		if strings.ContainsAny(s, "\n\r\u2028\u2029\x00") {
			t.Fatalf("problem is not one line: %q", s)
		}
		if !strings.HasPrefix(s, "context ") {
			t.Fatalf("problem does not start with the key: %q", s)
		}
	}
	if got, want := strings.Count(err.Error(), "\n"), len(e.Problems); got != want {
		t.Fatalf("Error() has %d line breaks for %d problems", got, want)
	}
}

func roundTrip(t *testing.T, e Environment) any {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("marshal Environment: %v", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("unmarshal Environment: %v", err)
	}
	return v
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// FuzzFieldValue puts one fuzzed value into one field of a valid environment, so that the
// fuzzer spends its time in the value rules (and on the path that returns a Config) instead
// of in JSON syntax errors. Same invariants as FuzzLoad.
func FuzzFieldValue(f *testing.F) {
	f.Add(uint8(0), "vpc-0a1b2c3d", int64(0), "none", "")
	f.Add(uint8(6), "10.10.0.0/16", int64(0), "stateless", "")
	f.Add(uint8(9), prodKeyEast, int64(0), "stateless", "us-west-2")
	f.Add(uint8(10), "sessions-example", int64(0), "stateless", "us-east-1")
	f.Add(uint8(16), "owner", int64(0), "none", "")
	f.Add(uint8(17), "", int64(61), "none", "")
	f.Add(uint8(19), "", int64(15_000_000), "stateless", "")
	f.Add(uint8(22), "eu-west-1", int64(0), "stateless", "eu-west-1")
	f.Fuzz(func(t *testing.T, field uint8, value string, num int64, drMode, region string) {
		const east = "example.regions.us-east-1."
		strs := []string{
			"example.account", "example.primaryRegion", "example.drRegion", east + "vpcId",
			east + "subnetIds", east + "applicationSecurityGroupIds", east + "allowedCidrs",
			"example.dns.hostedZoneId", "example.dns.zoneName", east + "kmsKeyArn", "example.cache.name",
			"example.cache.auth.mode", "example.cache.auth.userName", "example.cache.auth.accessString",
			"example.dns.recordName", "example.tags.owner",
		}
		ints := []string{
			"example.dns.ttlSeconds", "example.cache.majorEngineVersion",
			"example.cache.usageLimits.ecpuPerSecondMax", "example.cache.usageLimits.dataStorageMaxGb",
			"example.cache.snapshotRetentionLimit",
		}
		envs := build()
		ex := envs["example"].(map[string]any)
		n := int(field) % (len(strs) + len(ints) + 2)
		switch {
		case n < len(strs):
			path := strs[n]
			var v any = value
			if strings.HasSuffix(path, "Ids") || strings.HasSuffix(path, "Cidrs") {
				v = []any{value, "subnet-0a1b2c3e"} // a list with the value first
			}
			set(path, v)(envs)
		case n < len(strs)+len(ints):
			set(ints[n-len(strs)], float64(num))(envs)
		case n == len(strs)+len(ints):
			ex["tags"].(map[string]any)[value] = "x" // a fuzzed tag key
		default:
			regions := ex["regions"].(map[string]any)
			regions[value] = regions["us-west-2"] // a fuzzed region key
			delete(regions, "us-west-2")
			ex["drRegion"] = value
		}
		in := Input{Environments: envs, DrMode: drMode}
		if region != "" {
			in.Region = region
		}
		cfg, err := Load(in)
		checkResult(t, cfg, err)
		if cfg == nil {
			return
		}
		again, err := Load(Input{
			Environments: map[string]any{cfg.EnvironmentName: roundTrip(t, cfg.Env)},
			Environment:  cfg.EnvironmentName, Region: cfg.Region, DrMode: string(cfg.DrMode),
			HoldPrimaryRouting: cfg.HoldPrimaryRouting, AllowSameRegionDrill: cfg.SameRegionDrill,
		})
		if err != nil || !reflect.DeepEqual(again, cfg) {
			t.Fatalf("a loaded Config does not re-validate to itself: %v", err)
		}
		// Names the stack derives must fit ElastiCache and DNS whenever Load said yes.
		for _, name := range []string{cfg.CacheName(), cfg.UserID(), cfg.UserGroupID()} {
			if nameRule(name, maxCacheName) != "" {
				t.Fatalf("Load accepted a config deriving the invalid name %q", name)
			}
		}
		if why := dnsName(cfg.RegionalDNSName()); why != "" {
			t.Fatalf("Load accepted a config deriving the DNS name %q, which %s", cfg.RegionalDNSName(), why)
		}
	})
}
