package localvalkey

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// need skips without the binaries, except under CI=true where it fails (docs/design.md:
// CI never passes by silently skipping the tests that use real servers).
func need(t *testing.T) {
	t.Helper()
	if _, _, err := Binaries(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v; install with: %s", err, InstallHint)
		}
		t.Skipf("%v; install with: %s", err, InstallHint)
	}
}

func gone(t *testing.T, pids ...int) {
	t.Helper()
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("pid %d still exists (kill -0: %v)", pid, err)
		}
	}
}

func TestPackageDoesNotImportTesting(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "testing" {
			t.Fatal("localvalkey imports testing: the drill binary would carry the test framework; keep testing.TB in internal/valkeytest")
		}
	}
}

func TestStandaloneCloseRemovesProcessAndFiles(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	need(t)
	parent := t.TempDir()
	admin := "admin-password-0123456789abcdef"
	secretModes := map[string]string{} // name -> "" when 0600, else what it was
	s, err := StartStandalone(context.Background(), Options{TLS: true, Dir: parent,
		Users: []User{{Name: AdminUser, Password: admin, Rules: AdminRules}, {Name: "app", Password: "app-password-0123456789", Rules: "on ~* +@all"}},
		beforeForget: func() {
			_ = filepath.WalkDir(parent, func(p string, d os.DirEntry, err error) error {
				if err == nil && (d.Name() == "valkey.conf" || strings.HasSuffix(d.Name(), ".key")) {
					secretModes[d.Name()] = ""
					if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
						secretModes[d.Name()] = fmt.Sprintf("%v %v", fi.Mode().Perm(), err)
					}
				}
				return nil
			})
		}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Do("PING"); err != nil || got != "PONG" {
		t.Fatalf("Do PING = %q, %v", got, err)
	}
	// Secrets: not in the server's argv, not in valkey-cli's argv, config 0600, dir 0700.
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(s.PID()), "cmdline"))
	if err == nil && strings.Contains(string(cmdline), admin) {
		t.Fatalf("the admin password is in the server argv: %q", cmdline)
	}
	if strings.Contains(strings.Join(s.cliArgs(), " "), admin) {
		t.Fatal("the admin password is in the valkey-cli argv")
	}
	// The config went when the server answered PING; the shared key waits for the last node.
	if len(secretModes) != 1 || secretModes["localhost.key"] != "" {
		t.Fatalf("before the launcher forgot it, the secret files were %v: want localhost.key alone, 0600", secretModes)
	}
	// Read by the server, the secrets are gone from the disk when the start returns.
	for _, p := range []string{filepath.Join(s.Dir, "valkey.conf"), filepath.Join(filepath.Dir(s.Dir), "localhost.key")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s survives the start: %v", p, err)
		}
	}
	fi, err := os.Stat(filepath.Dir(s.Dir))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("launcher dir: %v mode %v, want 0700", err, fi.Mode().Perm())
	}

	wrong := &Server{Host: s.Host, Port: s.Port, Addr: s.Addr, TLS: true, CA: s.CA, cli: s.cli, adminPass: "not-the-password"}
	if _, err := wrong.Do("PING"); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("Do with a wrong admin password: want WRONGPASS error, got %v", err)
	}

	pid := s.PID()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	gone(t, pid)
	left, _ := os.ReadDir(parent)
	if len(left) != 0 {
		t.Fatalf("Close left %d entries in Options.Dir (config with passwords must not survive)", len(left))
	}
}

func TestPauseResume(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	need(t)
	s, err := StartStandalone(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.Pause()
	if _, err := s.rawDo(300*time.Millisecond, "PING"); err == nil {
		t.Fatal("paused server answered PING")
	}
	s.Resume()
	if got, err := s.rawDo(2*time.Second, "PING"); err != nil || got != "PONG" {
		t.Fatalf("PING after Resume = %q, %v", got, err)
	}
	// The default user is off, as on ElastiCache with RBAC.
	conn, err := net.DialTimeout("tcp", s.Addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	writeCmd(conn, "PING")
	if _, err := readReply(bufio.NewReader(conn)); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Fatalf("unauthenticated PING: want NOAUTH, got %v", err)
	}
}

func TestClusterTLSAndClose(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	need(t)
	c, err := StartCluster(context.Background(), Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if c.CA == nil || len(c.Nodes) != 3 || len(c.PIDs()) != 3 {
		t.Fatalf("cluster CA=%v nodes=%d", c.CA, len(c.Nodes))
	}
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		if _, err := c.Do("SET", k, "v"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.DBSize(); err != nil || n != 5 {
		t.Fatalf("DBSize = %d, %v; want 5", n, err)
	}
	// Secrets off the disk while the cluster keeps working.
	if err := c.ForgetSecrets(); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(c.dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && (d.Name() == "valkey.conf" || strings.HasSuffix(d.Name(), ".key")) {
			t.Errorf("%s survives ForgetSecrets", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do("SET", "after-forget", "v"); err != nil {
		t.Fatalf("the cluster stopped working after ForgetSecrets: %v", err)
	}
	pids, dir := c.PIDs(), c.dir
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	gone(t, pids...)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("cluster dir %s survives Close: %v", dir, err)
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	need(t)
	for name, tc := range map[string]struct {
		ctx    func() context.Context
		opts   Options
		wanted string
	}{
		"an interrupted start stops waiting": {
			ctx:    func() context.Context { c, cancel := context.WithCancel(context.Background()); cancel(); return c },
			wanted: "interrupted",
		},
		"a user named default is refused": {
			opts:   Options{Users: []User{{Name: "default", Password: "x"}}},
			wanted: "the default user is always disabled",
		},
		"a user name with a space is refused": {
			opts:   Options{Users: []User{{Name: "a b", Password: "x"}}},
			wanted: "without spaces",
		},
		"a password with a line break is refused": {
			opts:   Options{Users: []User{{Name: "u", Password: "x\nuser evil on"}}},
			wanted: "line breaks",
		},
		"a bad config line fails with the server's log": {
			opts:   Options{ExtraConfig: []string{"no-such-directive yes"}},
			wanted: "not ready",
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			parent := t.TempDir()
			tc.opts.Dir = parent
			s, err := StartStandalone(ctx, tc.opts)
			if err == nil {
				_ = s.Close()
				t.Fatalf("want an error containing %q, got a server", tc.wanted)
			}
			if !strings.Contains(err.Error(), tc.wanted) {
				t.Fatalf("error %q does not contain %q", err, tc.wanted)
			}
			if left, _ := os.ReadDir(parent); len(left) != 0 {
				t.Fatalf("a failed start left %d entries behind", len(left))
			}
		})
	}
}

func TestNewPassword(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	a, err := NewPassword(32)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPassword(32)
	short, _ := NewPassword(4)
	if len(a) != 32 || a == b || len(short) != 16 || strings.ContainsAny(a, " \"'\\#$") {
		t.Fatalf("NewPassword: %q %q %q", a, b, short)
	}
}

// TestServerlessShape proves the stand-in looks like ElastiCache Serverless to a client: one
// hostname for both ports, all slots on one master, a replica that serves reads after
// READONLY, the serverless parameters, and an application user refused what AWS refuses.
func TestServerlessShape(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	need(t)
	const appPass = "app-serverless-Qm4Tz8Lk2Vr6"
	c, err := StartServerless(context.Background(), Options{TLS: true,
		Users: []User{{Name: "app", Password: appPass, Rules: ServerlessRules("on ~* &* +@all -@dangerous")}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if c.Topology != TopologyServerless || c.Primary == nil || c.Replica == nil || c.ReaderPort() != c.Replica.Port {
		t.Fatalf("topology %q primary %v replica %v", c.Topology, c.Primary, c.Replica)
	}
	slots, err := c.Primary.runCLI(false, []string{"CLUSTER", "SLOTS"})
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(slots)
	// valkey-cli prints: 0 16383 localhost P <id> (hostname) localhost P+1 <id> ...
	if len(f) < 8 || f[0] != "0" || f[1] != "16383" || f[2] != "localhost" || f[3] != strconv.Itoa(c.Primary.Port) ||
		!strings.Contains(slots, "localhost\n"+strconv.Itoa(c.Replica.Port)) && !strings.Contains(strings.Join(f, " "), "localhost "+strconv.Itoa(c.Replica.Port)) {
		t.Fatalf("CLUSTER SLOTS = %q, want 0 16383 localhost %d ... localhost %d", slots, c.Primary.Port, c.Replica.Port)
	}
	for _, want := range []string{"cluster-require-full-coverage no", "cluster-allow-reads-when-down yes", "maxmemory-policy volatile-lru"} {
		kv := strings.Fields(want)
		got, err := c.Primary.Do("CONFIG", "GET", kv[0])
		if err != nil || !strings.HasSuffix(strings.TrimSpace(got), kv[1]) {
			t.Errorf("CONFIG GET %s = %q, %v; want %s", kv[0], got, err, kv[1])
		}
	}
	if _, err := c.Primary.rawDoAs(2*time.Second, "app", appPass, "SET", "k", "v"); err != nil {
		t.Fatalf("app SET on the primary: %v", err)
	}
	// The replica serves the read after READONLY on the same connection; without it, MOVED.
	if _, err := c.Replica.rawDoAs(2*time.Second, "app", appPass, "GET", "k"); err == nil || !strings.HasPrefix(err.Error(), "MOVED") {
		t.Errorf("GET on the replica without READONLY: %v, want MOVED", err)
	}
	tests := map[string]struct {
		args    []string
		refused bool
	}{
		"CLIENT ID is refused":      {[]string{"CLIENT", "ID"}, true},
		"CLIENT KILL is refused":    {[]string{"CLIENT", "KILL", "ID", "1"}, true},
		"CLIENT LIST is refused":    {[]string{"CLIENT", "LIST"}, true},
		"CLIENT SETINFO is refused": {[]string{"CLIENT", "SETINFO", "LIB-NAME", "x"}, true},
		"CONFIG GET is refused":     {[]string{"CONFIG", "GET", "maxmemory"}, true},
		"DEBUG is refused":          {[]string{"DEBUG", "SLEEP", "0"}, true},
		"KEYS is refused":           {[]string{"KEYS", "*"}, true},
		"WAIT is refused":           {[]string{"WAIT", "0", "0"}, true},
		"OBJECT is refused":         {[]string{"OBJECT", "ENCODING", "k"}, true},
		"MEMORY is refused":         {[]string{"MEMORY", "USAGE", "k"}, true},
		"PUNSUBSCRIBE is refused":   {[]string{"PUNSUBSCRIBE"}, true},
		"INFO is allowed":           {[]string{"INFO", "stats"}, false},
		"CLUSTER SHARDS is allowed": {[]string{"CLUSTER", "SHARDS"}, false},
		"SCAN is allowed":           {[]string{"SCAN", "0"}, false},
		"DBSIZE is allowed":         {[]string{"DBSIZE"}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := c.Primary.rawDoAs(2*time.Second, "app", appPass, tc.args...)
			refused := err != nil && strings.HasPrefix(err.Error(), "NOPERM")
			if refused != tc.refused {
				t.Fatalf("%v as app: %v; want refused=%v", tc.args, err, tc.refused)
			}
		})
	}
	for _, cmd := range ServerlessRefusedCommands {
		if ServerlessSupported(cmd) {
			t.Errorf("%s is in both the supported and the refused list", cmd)
		}
	}
	if n, err := c.DBSize(); err != nil || n != 1 {
		t.Fatalf("DBSize = %d, %v; want 1 (the replica's copy is not counted)", n, err)
	}
}
