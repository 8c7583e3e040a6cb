package valkeytest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"
)

// newClient builds a valkey-go client the way the validator does: explicit
// timeouts, no client-side cache, no hidden retries.
func newClient(t *testing.T, addrs []string, user, pass string, tlsConf *tls.Config) valkey.Client {
	t.Helper()
	c, err := valkey.NewClient(valkey.ClientOption{
		InitAddress:           addrs,
		Username:              user,
		Password:              pass,
		TLSConfig:             tlsConf,
		DisableCache:          true,
		DisableRetry:          true,
		Dialer:                net.Dialer{Timeout: 3 * time.Second},
		ConnWriteTimeout:      3 * time.Second,
		ClientName:            "valkeytest",
		BlockingPoolSize:      1,
		DisableAutoPipelining: true,
	})
	if err != nil {
		t.Fatalf("valkey.NewClient(%v as %s): %v", addrs, user, err)
	}
	t.Cleanup(c.Close)
	return c
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func wantPrefixErr(t *testing.T, err error, prefix string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error, got none", prefix)
	}
	if !strings.HasPrefix(err.Error(), prefix) {
		t.Fatalf("want %s error, got %v", prefix, err)
	}
}

func TestStandaloneTLS(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := StartStandalone(t, Options{TLS: true})
	if !s.TLS || s.CA == nil {
		t.Fatalf("server TLS=%v CA=%v, want TLS with a CA", s.TLS, s.CA)
	}
	c := newClient(t, []string{s.Addr}, AppUser, AppPassword, &tls.Config{RootCAs: s.CA.Pool, ServerName: "localhost"})
	ctx := ctxT(t, 10*time.Second)
	if got, err := c.Do(ctx, c.B().Ping().Build()).ToString(); err != nil || got != "PONG" {
		t.Fatalf("PING over TLS as app = %q, %v; want PONG", got, err)
	}
	if got := Do(t, s, "PING"); got != "PONG" {
		t.Fatalf("Do PING = %q, want PONG", got)
	}

	t.Run("the port speaks only TLS", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", s.Addr, 2*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
		fmt.Fprint(conn, "PING\r\n")
		buf := make([]byte, 64)
		n, _ := conn.Read(buf)
		if strings.Contains(string(buf[:n]), "PONG") {
			t.Fatalf("plaintext PING on the TLS port answered %q", buf[:n])
		}
	})

	t.Run("an untrusted CA fails verification", func(t *testing.T) {
		other := NewCA(t)
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", s.Addr, other.TLSConfig("localhost"))
		if err == nil {
			conn.Close()
			t.Fatal("handshake with a foreign CA succeeded")
		}
		var uerr x509.UnknownAuthorityError
		if !errors.As(err, &uerr) {
			t.Fatalf("want unknown authority error, got %T %v", err, err)
		}
	})
}

func TestStandalonePlaintext(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := StartStandalone(t, Options{})
	if s.TLS || s.CA != nil || s.Host != "127.0.0.1" || s.Addr != "127.0.0.1:"+strconv.Itoa(s.Port) {
		t.Fatalf("unexpected server fields %+v", s)
	}
	c := newClient(t, []string{s.Addr}, AppUser, AppPassword, nil)
	ctx := ctxT(t, 10*time.Second)
	if err := c.Do(ctx, c.B().Set().Key("k").Value("v").Build()).Error(); err != nil {
		t.Fatalf("SET as app: %v", err)
	}
	if got := Do(t, s, "GET", "k"); got != "v" {
		t.Fatalf("Do GET k = %q, want v", got)
	}
	if n := DBSize(t, s); n != 1 {
		t.Fatalf("DBSize = %d, want 1", n)
	}
	if _, err := s.Do("NOSUCHCOMMAND"); err == nil {
		t.Fatal("DoErr of an unknown command returned no error")
	}
	// A wrong admin password is covered in internal/localvalkey, which owns the CLI plumbing.
}

func TestUsers(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := StartStandalone(t, Options{})
	ctx := ctxT(t, 10*time.Second)

	t.Run("readonly gets NOPERM on SET", func(t *testing.T) {
		c := newClient(t, []string{s.Addr}, ReadOnlyUser, ReadOnlyPassword, nil)
		wantPrefixErr(t, c.Do(ctx, c.B().Set().Key("k").Value("v").Build()).Error(), "NOPERM")
		if err := c.Do(ctx, c.B().Get().Key("k").Build()).Error(); err != nil && !valkey.IsValkeyNil(err) {
			t.Fatalf("GET as readonly: %v", err)
		}
	})
	t.Run("nocluster gets NOPERM on CLUSTER SHARDS", func(t *testing.T) {
		c := newClient(t, []string{s.Addr}, NoClusterUser, NoClusterPassword, nil)
		wantPrefixErr(t, c.Do(ctx, c.B().ClusterShards().Build()).Error(), "NOPERM")
	})
	t.Run("the default user is disabled", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", s.Addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
		fmt.Fprint(conn, "PING\r\n")
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "-NOAUTH") {
			t.Fatalf("unauthenticated PING = %q, %v; want -NOAUTH", line, err)
		}
	})
	t.Run("a wrong password is refused", func(t *testing.T) {
		_, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{s.Addr}, Username: AppUser,
			Password: AppPassword + "x", DisableCache: true, Dialer: net.Dialer{Timeout: 2 * time.Second}})
		if err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
			t.Fatalf("want WRONGPASS, got %v", err)
		}
	})
	// ACL DRYRUN proves the rule sets, including that +client|kill survives -@dangerous.
	for _, tc := range []struct {
		user string
		cmd  []string
		ok   bool
	}{
		{AppUser, []string{"CLIENT", "KILL", "ID", "1"}, true},
		{AppUser, []string{"CLIENT", "ID"}, true},
		{AppUser, []string{"CLUSTER", "SHARDS"}, true},
		{AppUser, []string{"CLUSTER", "SLOTS"}, true},
		{AppUser, []string{"SET", "k", "v"}, true},
		{AppUser, []string{"FLUSHALL"}, false},
		{AppUser, []string{"CONFIG", "SET", "maxmemory", "1"}, false},
		{NoClusterUser, []string{"CLUSTER", "SLOTS"}, false},
		{NoClusterUser, []string{"SET", "k", "v"}, true},
		{ReadOnlyUser, []string{"CLUSTER", "SHARDS"}, true},
		{ReadOnlyUser, []string{"HELLO", "3"}, true},
		{ReadOnlyUser, []string{"CLIENT", "SETINFO", "LIB-NAME", "x"}, true},
		{ReadOnlyUser, []string{"DEL", "k"}, false},
	} {
		got := Do(t, s, append([]string{"ACL", "DRYRUN", tc.user}, tc.cmd...)...)
		if (got == "OK") != tc.ok {
			t.Errorf("ACL DRYRUN %s %v = %q, want allowed=%v", tc.user, tc.cmd, got, tc.ok)
		}
	}
}

func TestOptions(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := StartStandalone(t, Options{
		MaxMemory:   "2mb",
		Users:       []User{{Name: "only", Password: "a password with spaces", Rules: "on ~* +@all"}},
		ExtraConfig: []string{"hz 20"},
	})
	if got := Do(t, s, "CONFIG", "GET", "maxmemory-policy"); !strings.HasSuffix(got, "noeviction") {
		t.Fatalf("maxmemory-policy = %q, want noeviction", got)
	}
	if got := Do(t, s, "CONFIG", "GET", "hz"); !strings.HasSuffix(got, "20") {
		t.Fatalf("hz = %q, want 20 from ExtraConfig", got)
	}
	users := strings.Fields(Do(t, s, "ACL", "USERS"))
	if strings.Join(users, ",") != "admin,default,only" {
		t.Fatalf("ACL USERS = %v, want admin added to the custom user", users)
	}
	c := newClient(t, []string{s.Addr}, "only", "a password with spaces", nil)
	ctx := ctxT(t, 10*time.Second)
	big := strings.Repeat("x", 512<<10)
	var err error
	for i := 0; i < 16 && err == nil; i++ {
		err = c.Do(ctx, c.B().Set().Key("big"+strconv.Itoa(i)).Value(big).Build()).Error()
	}
	wantPrefixErr(t, err, "OOM")
}

func TestSecretsStayOutOfArgv(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := StartStandalone(t, Options{TLS: true})
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(s.PID()), "cmdline"))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, p := range []string{AdminPassword, AppPassword, NoClusterPassword, ReadOnlyPassword} {
		if strings.Contains(string(cmdline), p) {
			t.Fatalf("a password is in the server argv: %q", cmdline)
		}
	}
	// The valkey-cli argv is checked in internal/localvalkey, which builds it. The config
	// file (0600 while it exists) is gone once the server has read it.
	if _, err := os.Stat(filepath.Join(s.Dir, "valkey.conf")); !os.IsNotExist(err) {
		t.Fatalf("valkey.conf survives the start: %v", err)
	}
}

func TestKill(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := StartStandalone(t, Options{})
	s.Kill()
	if !s.Exited() {
		t.Fatal("Exited() = false after Kill")
	}
	conn, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err == nil {
		conn.Close()
		t.Fatal("port still accepts connections after Kill")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial after Kill: want connection refused, got %v", err)
	}
	if _, err := s.Do("PING"); err == nil {
		t.Fatal("DoErr PING after Kill returned no error")
	}
	s.Kill() // idempotent
}

func TestPauseResume(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := StartStandalone(t, Options{})
	conn, err := net.DialTimeout("tcp", s.Addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	s.Pause()
	// The kernel still accepts and buffers; nobody answers until Resume.
	fmt.Fprint(conn, "PING\r\n")
	_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if line, err := r.ReadString('\n'); err == nil {
		t.Fatalf("paused server answered %q", line)
	}
	s.Resume()
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "-NOAUTH") {
		t.Fatalf("reply after Resume = %q, %v; want the pending PING answered (-NOAUTH)", line, err)
	}
}

func TestCleanupLeavesNoProcess(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	var pids []int
	t.Run("inner", func(t *testing.T) {
		s := StartStandalone(t, Options{})
		s.Pause() // cleanup must also handle a stopped process
		c := StartCluster(t, Options{})
		pids = append(pids, s.PID())
		for _, n := range c.Nodes {
			pids = append(pids, n.PID())
		}
	})
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("pid %d still exists after cleanup (kill -0: %v)", pid, err)
		}
	}
}

func TestCluster(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	for _, useTLS := range []bool{false, true} {
		t.Run("tls="+strconv.FormatBool(useTLS), func(t *testing.T) {
			start := time.Now()
			c := StartCluster(t, Options{TLS: useTLS})
			t.Logf("cluster ready in %v", time.Since(start))
			if len(c.Nodes) != 3 {
				t.Fatalf("%d nodes, want 3", len(c.Nodes))
			}
			var tlsConf *tls.Config
			if useTLS {
				tlsConf = c.CA.TLSConfig("localhost")
			}
			client := newClient(t, c.Addrs(), AppUser, AppPassword, tlsConf)
			if client.Mode() != valkey.ClientModeCluster {
				t.Fatalf("client mode = %v, want cluster", client.Mode())
			}
			ctx := ctxT(t, 15*time.Second)

			shards, err := client.Do(ctx, client.B().ClusterShards().Build()).ToArray()
			if err != nil {
				t.Fatalf("CLUSTER SHARDS as app: %v", err)
			}
			if len(shards) != 3 {
				t.Fatalf("CLUSTER SHARDS lists %d shards, want 3", len(shards))
			}
			slots := 0
			for _, sh := range shards {
				m, err := sh.AsMap()
				if err != nil {
					t.Fatal(err)
				}
				slotsMsg := m["slots"]
				r, err := slotsMsg.AsIntSlice()
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i+1 < len(r); i += 2 {
					slots += int(r[i+1]-r[i]) + 1
				}
				nodesMsg := m["nodes"]
				nodes, _ := nodesMsg.ToArray()
				if len(nodes) != 1 {
					t.Fatalf("shard has %d nodes, want 1 master", len(nodes))
				}
				nm, _ := nodes[0].AsMap()
				roleMsg := nm["role"]
				if role, _ := roleMsg.ToString(); role != "master" {
					t.Fatalf("shard node role %q, want master", role)
				}
				ipMsg := nm["ip"]
				if ip, _ := ipMsg.ToString(); ip != "127.0.0.1" {
					t.Fatalf("shard node ip %q, want 127.0.0.1", ip)
				}
			}
			if slots != 16384 {
				t.Fatalf("shards cover %d slots, want 16384", slots)
			}

			// Keys chosen to land on all three masters.
			keys := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
			for _, k := range keys {
				if err := client.Do(ctx, client.B().Set().Key(k).Value("v-"+k).Build()).Error(); err != nil {
					t.Fatalf("SET %s: %v", k, err)
				}
			}
			for _, k := range keys {
				if got, err := client.Do(ctx, client.B().Get().Key(k).Build()).ToString(); err != nil || got != "v-"+k {
					t.Fatalf("GET %s = %q, %v", k, got, err)
				}
			}
			for _, n := range c.Nodes {
				if DBSize(t, n) == 0 {
					t.Fatalf("node %s holds no key: keys did not spread over the slots", n.Addr)
				}
			}
			if got := DBSize(t, c); got != len(keys) {
				t.Fatalf("Cluster.DBSize = %d, want %d", got, len(keys))
			}
			if got := Do(t, c, "GET", "h"); got != "v-h" {
				t.Fatalf("Cluster.Do GET h = %q", got)
			}

			t.Run("nocluster gets NOPERM on CLUSTER SHARDS", func(t *testing.T) {
				nc := newClient(t, []string{c.Addr()}, NoClusterUser, NoClusterPassword, tlsConf)
				wantPrefixErr(t, nc.Do(ctx, nc.B().ClusterShards().Build()).Error(), "NOPERM")
				// The silent fallback the validator must detect (docs/design.md, "Serverless as clients see it").
				if nc.Mode() == valkey.ClientModeCluster {
					t.Fatalf("valkey-go mode for a user without cluster|shards = %s; the nocluster user no longer reproduces the silent fallback", nc.Mode())
				}
			})
			t.Run("readonly gets NOPERM on SET", func(t *testing.T) {
				ro := newClient(t, c.Addrs(), ReadOnlyUser, ReadOnlyPassword, tlsConf)
				if ro.Mode() != valkey.ClientModeCluster {
					t.Fatalf("readonly client mode = %v, want cluster", ro.Mode())
				}
				wantPrefixErr(t, ro.Do(ctx, ro.B().Set().Key("a").Value("x").Build()).Error(), "NOPERM")
			})
		})
	}
}

func TestClusterKilledMasterFailsItsSlots(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	c := StartCluster(t, Options{})
	victim := c.Nodes[1]
	victim.Kill()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := c.Nodes[0].Do("SET", "{x}k", "v")
		if err != nil && strings.Contains(err.Error(), "CLUSTERDOWN") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no CLUSTERDOWN 15s after killing a master; last: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
