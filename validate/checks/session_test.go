package checks

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/target"
)

// TestAbortedExecIsToldApartFromAnExistingKey is finding 6 of issue 9: ElastiCache Serverless
// may abort a WATCHed EXEC when it is "unsure" (ServerlessWatch.html). An abort after which
// the key still does not exist is retried within the deadline; an abort because someone
// created the key under WATCH is "key already exists", and the key is left alone. The aborts
// are real: a second connection touches the watched key between WATCH and EXEC.
func TestAbortedExecIsToldApartFromAnExistingKey(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
	tests := map[string]struct {
		// touch runs once, between WATCH and EXEC of the first session.
		touch      func(key string)
		status     report.Status
		contains   string
		foreignKey bool
	}{
		"an abort with the key still absent (unsure) is retried and passes": {
			touch: func(key string) {
				// Written and deleted: WATCH sees a change, the key does not exist after.
				valkeytest.Do(t, c, "SET", key, "touch")
				valkeytest.Do(t, c, "DEL", key)
			},
			status: report.Pass, contains: "sessions over",
		},
		"an abort because someone created the key is key-already-exists": {
			touch:  func(key string) { valkeytest.Do(t, c, "SET", key, "someone-else") },
			status: report.Fail, contains: "the key already exists", foreignKey: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tg, err := target.Resolve(context.Background(), target.Config{
				Endpoint: "localhost:" + strconv.Itoa(c.Primary.Port), User: valkeytest.AppUser, CAFile: c.CA.CertFile,
				Sessions: 1, Timeout: 20 * time.Second,
			}, target.Deps{Getenv: func(k string) string {
				if k == target.PasswordEnv {
					return valkeytest.AppPassword
				}
				return ""
			}})
			if err != nil {
				t.Fatal(err)
			}
			e := &Env{Target: tg, Version: "test", RunID: NewRunID()}
			var once sync.Once
			touched := ""
			e.BeforeExec = func(key string) { once.Do(func() { touched = key; tc.touch(key) }) }
			results := (&Runner{Checks: Subset("dns", "tcp", "tls", "auth", "cluster-mode", "ping", "set-get", "session-lifecycle", "cleanup")}).Run(context.Background(), e)
			var sess report.Result
			for _, r := range results {
				if r.Name == "session-lifecycle" {
					sess = r
				}
			}
			if touched == "" {
				t.Fatal("the hook never ran: no WATCHed EXEC")
			}
			if sess.Status != tc.status || !strings.Contains(sess.Detail, tc.contains) {
				t.Fatalf("session-lifecycle %s: %s; want %s containing %q", sess.Status, sess.Detail, tc.status, tc.contains)
			}
			if tc.status == report.Pass && sess.Attempts < 2 {
				t.Errorf("attempts %d: the aborted EXEC was not retried", sess.Attempts)
			}
			got, err := c.Do("GET", touched)
			switch {
			case tc.foreignKey && (err != nil || got != "someone-else"):
				t.Errorf("the foreign key %s is %q (%v): the validator touched it", touched, got, err)
			case tc.foreignKey:
				valkeytest.Do(t, c, "DEL", touched)
			}
		})
	}
}
