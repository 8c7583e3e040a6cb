package stacks_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/assembly"
)

// TestEveryAlarmIsOnTheDashboard (constructs/monitoring) reads the golden templates (pinned by the
// stacks tests against a real synth): every alarm the construct creates must be on its
// dashboard's alarm widget, so an operator at 3 a.m. sees all of them in one place.
func TestEveryAlarmIsOnTheDashboard(t *testing.T) {
	goldens, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no golden templates: %v", err)
	}
	for _, g := range goldens {
		if b, err := os.ReadFile(g); err != nil || !strings.Contains(string(b), `"AWS::ElastiCache::ServerlessCache"`) {
			// Only cache stacks have monitoring; the switch (one routing alarm) and the
			// evidence archive have nothing to show on a cache dashboard.
			continue
		}
		t.Run(filepath.Base(g), func(t *testing.T) {
			tpl, err := assembly.ReadTemplate(g)
			if err != nil {
				t.Fatal(err)
			}
			var body string
			var alarms []string
			for id, r := range tpl.Resources {
				switch {
				case r.Type == "AWS::CloudWatch::Dashboard" && strings.HasPrefix(id, "Monitoring"):
					b, _ := json.Marshal(r.Properties["DashboardBody"])
					body = string(b)
				case r.Type == "AWS::CloudWatch::Alarm" && strings.HasPrefix(id, "Monitoring"):
					alarms = append(alarms, id)
				}
			}
			if body == "" || len(alarms) == 0 {
				t.Fatalf("want a monitoring dashboard and alarms; got %d alarms, dashboard %v", len(alarms), body != "")
			}
			for _, id := range alarms {
				if !strings.Contains(body, `"Fn::GetAtt":["`+id+`","Arn"]`) {
					t.Errorf("alarm %s is not on the dashboard", id)
				}
			}
		})
	}
}
