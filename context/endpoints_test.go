package drcontext

import (
	"strings"
	"testing"
)

func TestCreateVpcEndpoints(t *testing.T) {
	t.Run("absent means off", func(t *testing.T) {
		cfg, err := Load(Input{Environments: build()})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "CreateVpcEndpoints", cfg.Net.CreateVpcEndpoints, false)
	})
	t.Run("true turns it on for that region only", func(t *testing.T) {
		cfg, err := Load(Input{Environments: build(set("example.regions.us-west-2.createVpcEndpoints", true)), DrMode: "stateless"})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "CreateVpcEndpoints", cfg.Net.CreateVpcEndpoints, true)
		want(t, "primary region", cfg.Env.Regions["us-east-1"].CreateVpcEndpoints, false)
	})
	for name, v := range map[string]any{"a string is not a boolean": "true", "a number is not a boolean": 1.0} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(Input{Environments: build(set("example.regions.us-east-1.createVpcEndpoints", v))})
			got := strings.Join(lines(t, err), "\n")
			if !strings.Contains(got, `context "environments.example.regions.us-east-1.createVpcEndpoints"`) || !strings.Contains(got, "accepted: true or false") {
				t.Errorf("problem: %s", got)
			}
		})
	}
	t.Run("in the wrong object it says where it belongs", func(t *testing.T) {
		_, err := Load(Input{Environments: build(set("example.cache.createVpcEndpoints", true))})
		got := strings.Join(lines(t, err), "\n")
		if !strings.Contains(got, "createVpcEndpoints belongs under environments.example.regions.<region>.createVpcEndpoints") {
			t.Errorf("problem: %s", got)
		}
	})
}
