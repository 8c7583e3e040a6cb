package valkeytest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/localvalkey"
)

// Timeouts of the harness. They are bounds, not sleeps: every wait polls.
const (
	// ReadyTimeout bounds how long a started server may take to answer PING.
	ReadyTimeout = localvalkey.ReadyTimeout
	// ClusterTimeout bounds how long a new cluster may take to converge.
	ClusterTimeout = localvalkey.ClusterTimeout
	// CLITimeout bounds one valkey-cli run, so a paused server cannot hang a test.
	CLITimeout = localvalkey.CLITimeout
)

// Options configures a server or every node of a cluster. The zero value is a
// plaintext server with the standard users.
type Options struct {
	// TLS makes the server listen with TLS only (tls-port set, port 0), like an
	// ElastiCache cache with in-transit encryption; false means plaintext only.
	TLS bool
	// CA signs the server certificate; nil with TLS makes a new CA per call.
	CA *CA
	// Users are the ACL users; nil means StandardUsers(). "admin" is always
	// added when missing because the harness authenticates as admin.
	Users []User
	// MaxMemory sets maxmemory (e.g. "2mb"); empty means unlimited.
	MaxMemory string
	// MaxMemoryPolicy sets maxmemory-policy; empty with MaxMemory means
	// "noeviction", so a full server rejects writes with OOM.
	MaxMemoryPolicy string
	// ExtraConfig are raw config lines appended last, so they win.
	ExtraConfig []string
	// CertValidity is localvalkey.Options.CertValidity (a tiny one makes an expired
	// server certificate).
	CertValidity time.Duration
}

// launch converts the options for localvalkey, with every file under t.TempDir().
func (o Options) launch(t testing.TB) localvalkey.Options {
	t.Helper()
	lo := localvalkey.Options{
		TLS:             o.TLS,
		Users:           withAdmin(o.Users),
		MaxMemory:       o.MaxMemory,
		MaxMemoryPolicy: o.MaxMemoryPolicy,
		ExtraConfig:     o.ExtraConfig,
		CertValidity:    o.CertValidity,
		Dir:             t.TempDir(),
	}
	if o.CA != nil {
		lo.CA = o.CA.ca
	}
	return lo
}

// Server is one running valkey-server process on 127.0.0.1.
type Server struct {
	Host string // always "127.0.0.1": the harness never listens on other interfaces
	Port int    // the client port (the TLS port when TLS is set)
	Addr string // Host:Port
	TLS  bool   // whether Port speaks TLS
	CA   *CA    // the CA that signed the server certificate; nil without TLS
	Dir  string // working directory; the log is Dir/valkey.log

	srv *localvalkey.Server
}

func wrapServer(s *localvalkey.Server, ca *CA) *Server {
	w := &Server{Host: s.Host, Port: s.Port, Addr: s.Addr, TLS: s.TLS, Dir: s.Dir, srv: s}
	if s.TLS {
		w.CA = ca
	}
	return w
}

// StartStandalone starts a single non-cluster server and waits until it
// answers PING as admin. The process is killed by t.Cleanup.
func StartStandalone(t testing.TB, opts Options) *Server {
	t.Helper()
	Binaries(t)
	// Registered after t.TempDir (in launch), so Close runs before the directory is removed.
	s, err := localvalkey.StartStandalone(context.Background(), opts.launch(t))
	if err != nil {
		t.Fatalf("valkeytest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("valkeytest: %v", err)
		}
	})
	ca := opts.CA
	if ca == nil {
		ca = wrapCA(s.CA)
	}
	return wrapServer(s, ca)
}

// PID returns the process id of the server.
func (s *Server) PID() int { return s.srv.PID() }

// Exited reports whether the process has exited (killed or crashed).
func (s *Server) Exited() bool { return s.srv.Exited() }

// Kill sends SIGKILL and waits until the process is reaped, so the port
// refuses connections when Kill returns. It is safe to call more than once.
func (s *Server) Kill() { s.srv.Kill() }

// Pause stops the process with SIGSTOP: connections stay open but nothing is
// answered, like a server stuck in a long command or a network black hole.
func (s *Server) Pause() { s.srv.Pause() }

// Resume continues a paused process with SIGCONT.
func (s *Server) Resume() { s.srv.Resume() }

// Do runs one command with valkey-cli as admin and returns its trimmed
// stdout. A connection, authentication or error reply fails the test.
// The password travels in REDISCLI_AUTH, never in argv.
func (s *Server) Do(t testing.TB, args ...string) string {
	t.Helper()
	out, err := s.DoErr(args...)
	if err != nil {
		t.Fatalf("valkeytest: %s %s: %v", s.Addr, strings.Join(args, " "), err)
	}
	return out
}

// DoErr is Do that returns the error (an error reply, a refused connection)
// instead of failing the test, for fault-injection tests.
func (s *Server) DoErr(args ...string) (string, error) { return s.srv.Do(args...) }

// DBSize returns the number of keys on this server. For a cluster use
// Cluster.DBSize, which sums over the masters.
func (s *Server) DBSize(t testing.TB) int {
	t.Helper()
	n, err := s.srv.DBSize()
	if err != nil {
		t.Fatalf("valkeytest: %v", err)
	}
	return n
}

// LogTail returns the last n lines of the server log and of its stdout
// (where errors before the log file opens go), for failure messages.
func (s *Server) LogTail(n int) string { return s.srv.LogTail(n) }
