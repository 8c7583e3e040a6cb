package valkeytest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeouts of the harness. They are bounds, not sleeps: every wait polls.
const (
	// ReadyTimeout bounds how long a started server may take to answer PING.
	ReadyTimeout = 10 * time.Second
	// ClusterTimeout bounds how long a new cluster may take to converge.
	ClusterTimeout = 20 * time.Second
	// CLITimeout bounds one valkey-cli run, so a paused server cannot hang a test.
	CLITimeout = 15 * time.Second
	// startAttempts is how often a start is retried when another process took
	// the port between our probe and the server's bind.
	startAttempts = 5
	// pollInterval is the pause between readiness probes.
	pollInterval = 50 * time.Millisecond
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
}

// Server is one running valkey-server process on 127.0.0.1.
type Server struct {
	Host string // always "127.0.0.1": the harness never listens on other interfaces
	Port int    // the client port (the TLS port when TLS is set)
	Addr string // Host:Port
	TLS  bool   // whether Port speaks TLS
	CA   *CA    // the CA that signed the server certificate; nil without TLS
	Dir  string // working directory; the log is Dir/valkey.log

	cli       string
	adminPass string
	cmd       *exec.Cmd
	done      chan struct{} // closed when the process has exited and been reaped

	mu     sync.Mutex
	paused bool
}

// nodeSpec is everything needed to (re)start one process.
type nodeSpec struct {
	opts      Options
	users     []User
	adminPass string
	certFile  string
	keyFile   string
	cluster   bool
}

// StartStandalone starts a single non-cluster server and waits until it
// answers PING as admin. The process is killed by t.Cleanup.
func StartStandalone(t testing.TB, opts Options) *Server {
	t.Helper()
	spec := newSpec(t, opts, false)
	return startServer(t, spec)
}

// newSpec resolves the defaults shared by StartStandalone and StartCluster.
func newSpec(t testing.TB, opts Options, cluster bool) *nodeSpec {
	t.Helper()
	Binaries(t)
	users, adminPass := resolveUsers(t, opts.Users)
	spec := &nodeSpec{opts: opts, users: users, adminPass: adminPass, cluster: cluster}
	if opts.TLS {
		if spec.opts.CA == nil {
			spec.opts.CA = NewCA(t)
		}
		// Go clients need SANs (the CN is ignored); localhost for clients
		// that set ServerName, 127.0.0.1 for clients that dial the IP.
		spec.certFile, spec.keyFile = spec.opts.CA.Issue(t, "localhost", "localhost", "127.0.0.1")
	}
	return spec
}

// startServer starts one process, retrying with new ports when the bind fails.
func startServer(t testing.TB, spec *nodeSpec) *Server {
	t.Helper()
	serverBin, cliBin := Binaries(t)
	for attempt := 1; ; attempt++ {
		port := freePort(t, spec.cluster)
		s := &Server{
			Host:      "127.0.0.1",
			Port:      port,
			Addr:      net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			TLS:       spec.opts.TLS,
			Dir:       t.TempDir(),
			cli:       cliBin,
			adminPass: spec.adminPass,
			done:      make(chan struct{}),
		}
		if s.TLS {
			s.CA = spec.opts.CA
		}
		conf := filepath.Join(s.Dir, "valkey.conf")
		// 0600: the file holds the ACL passwords, which must never be in argv.
		writeFile(t, conf, []byte(strings.Join(s.config(spec), "\n")+"\n"), 0o600)

		out, err := os.OpenFile(filepath.Join(s.Dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			t.Fatalf("valkeytest: create stdout log: %v", err)
		}
		s.cmd = exec.Command(serverBin, conf)
		s.cmd.Dir = s.Dir
		s.cmd.Stdout, s.cmd.Stderr = out, out // errors before the logfile opens land here
		setProcAttr(s.cmd)
		if err := s.cmd.Start(); err != nil {
			out.Close()
			t.Fatalf("valkeytest: start %s: %v", serverBin, err)
		}
		go func() {
			_ = s.cmd.Wait()
			out.Close()
			close(s.done)
		}()
		// Registered after t.TempDir, so it runs before the directory is removed.
		t.Cleanup(s.Kill)

		err = s.waitReady(ReadyTimeout)
		if err == nil {
			return s
		}
		s.Kill()
		logTail := s.LogTail(20)
		if strings.Contains(logTail, "ddress already in use") && attempt < startAttempts {
			continue // someone took the port between our probe and the bind
		}
		t.Fatalf("valkeytest: server on %s not ready (attempt %d, limit %v): %v\n--- last lines of the logs in %s ---\n%s",
			s.Addr, attempt, ReadyTimeout, err, s.Dir, logTail)
	}
}

// config renders the valkey.conf lines for this server.
func (s *Server) config(spec *nodeSpec) []string {
	c := []string{
		"bind 127.0.0.1",
		// ACL is on and the default user is off, so protected mode adds nothing.
		"protected-mode no",
		"daemonize no",
		"dir " + quoteConf(s.Dir),
		"logfile " + quoteConf(filepath.Join(s.Dir, "valkey.log")),
		"loglevel notice",
		// Tests want a clean slate and no disk writes behind their back.
		`save ""`,
		"appendonly no",
		// Lets fault tests use DEBUG SLEEP from loopback.
		"enable-debug-command local",
	}
	if s.TLS {
		c = append(c,
			"port 0", // no plaintext listener, like ElastiCache with encryption in transit
			"tls-port "+strconv.Itoa(s.Port),
			"tls-cert-file "+quoteConf(spec.certFile),
			"tls-key-file "+quoteConf(spec.keyFile),
			"tls-ca-cert-file "+quoteConf(spec.opts.CA.CertFile),
			// ElastiCache does not ask clients for certificates.
			"tls-auth-clients no",
		)
	} else {
		c = append(c, "port "+strconv.Itoa(s.Port))
	}
	if spec.cluster {
		c = append(c,
			"cluster-enabled yes",
			"cluster-config-file "+quoteConf(filepath.Join(s.Dir, "nodes.conf")),
			"cluster-port "+strconv.Itoa(s.Port+busOffset),
			// Small, so a killed node is marked failed within seconds.
			"cluster-node-timeout 2000",
			// A killed master's slots then answer CLUSTERDOWN, which the
			// validator tests rely on.
			"cluster-require-full-coverage yes",
			"cluster-announce-ip 127.0.0.1",
		)
		if s.TLS {
			// The bus and replication also use TLS; nodes authenticate each
			// other with their server certificate (hence client-auth usage).
			c = append(c, "tls-cluster yes", "tls-replication yes")
		}
	}
	if spec.opts.MaxMemory != "" {
		policy := spec.opts.MaxMemoryPolicy
		if policy == "" {
			policy = "noeviction"
		}
		c = append(c, "maxmemory "+spec.opts.MaxMemory, "maxmemory-policy "+policy)
	} else if spec.opts.MaxMemoryPolicy != "" {
		c = append(c, "maxmemory-policy "+spec.opts.MaxMemoryPolicy)
	}
	c = append(c, aclLines(spec.users)...)
	return append(c, spec.opts.ExtraConfig...)
}

// PID returns the process id of the server.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Exited reports whether the process has exited (killed or crashed).
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Kill sends SIGKILL and waits until the process is reaped, so the port
// refuses connections when Kill returns. It is safe to call more than once.
func (s *Server) Kill() {
	if s.Exited() {
		return
	}
	s.mu.Lock()
	if s.paused {
		// A stopped process still dies from SIGKILL, but resuming first keeps
		// the kernel bookkeeping simple and matches what an operator would do.
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
		s.paused = false
	}
	s.mu.Unlock()
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		// Cannot happen for a SIGKILLed child short of a kernel problem; say so
		// rather than hang the test binary.
		fmt.Fprintf(os.Stderr, "valkeytest: pid %d did not exit 10s after SIGKILL\n", s.PID())
	}
}

// Pause stops the process with SIGSTOP: connections stay open but nothing is
// answered, like a server stuck in a long command or a network black hole.
func (s *Server) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Exited() || s.paused {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGSTOP)
	s.paused = true
	waitStopped(s.PID(), 2*time.Second)
}

// Resume continues a paused process with SIGCONT.
func (s *Server) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Exited() || !s.paused {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	s.paused = false
}

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
func (s *Server) DoErr(args ...string) (string, error) {
	return s.runCLI(false, args)
}

// DBSize returns the number of keys on this server. For a cluster use
// Cluster.DBSize, which sums over the masters.
func (s *Server) DBSize(t testing.TB) int {
	t.Helper()
	out := s.Do(t, "DBSIZE")
	n, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("valkeytest: %s DBSIZE: unexpected reply %q", s.Addr, out)
	}
	return n
}

// LogTail returns the last n lines of the server log and of its stdout
// (where errors before the log file opens go), for failure messages.
func (s *Server) LogTail(n int) string {
	var b strings.Builder
	for _, name := range []string{"stdout.log", "valkey.log"} {
		data, err := os.ReadFile(filepath.Join(s.Dir, name))
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "[%s]\n%s\n", name, strings.Join(lines, "\n"))
	}
	return b.String()
}

// cliArgs are the connection flags for valkey-cli.
func (s *Server) cliArgs() []string {
	// -e: exit non-zero on an error reply; valkey-cli 8 otherwise exits 0.
	a := []string{"-h", s.Host, "-p", strconv.Itoa(s.Port), "--user", AdminUser, "-e"}
	if s.TLS {
		a = append(a, "--tls", "--cacert", s.CA.CertFile, "--sni", "localhost")
	}
	return a
}

// cliEnv is the environment of valkey-cli with the admin password in
// REDISCLI_AUTH (valkey-cli 8.0 reads that name; it has no VALKEYCLI_AUTH).
func (s *Server) cliEnv() []string {
	env := make([]string, 0, len(os.Environ())+1)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REDISCLI_AUTH=") {
			env = append(env, kv)
		}
	}
	return append(env, "REDISCLI_AUTH="+s.adminPass)
}

// runCLI runs valkey-cli, with -c (follow MOVED/ASK) when cluster is set.
func (s *Server) runCLI(cluster bool, args []string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), CLITimeout)
	defer cancel()
	a := s.cliArgs()
	if cluster {
		a = append(a, "-c")
	}
	a = append(a, args...)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, s.cli, a...)
	cmd.Env = s.cliEnv()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := strings.TrimSpace(stdout.String())
	errOut := strings.TrimSpace(stderr.String())
	switch {
	case ctx.Err() != nil:
		return out, fmt.Errorf("valkey-cli timed out after %v: %s", CLITimeout, errOut)
	case err != nil:
		return out, fmt.Errorf("valkey-cli: %w: %s", err, strings.TrimSpace(errOut+"\n"+out))
	case strings.Contains(errOut, "AUTH failed"):
		// valkey-cli reports a failed AUTH on stderr and carries on.
		return out, fmt.Errorf("valkey-cli: %s", errOut)
	}
	return out, nil
}

// errReply is an error reply from the server, e.g. "LOADING ...".
type errReply string

func (e errReply) Error() string { return string(e) }

// rawDo authenticates as admin and runs one command over a fresh connection
// with a tiny RESP2 client. Readiness and cluster polling use it instead of
// valkey-cli so polling does not fork dozens of processes per second.
// Only simple, error, integer and bulk replies are supported.
func (s *Server) rawDo(timeout time.Duration, args ...string) (string, error) {
	d := &net.Dialer{Timeout: timeout}
	var conn net.Conn
	var err error
	if s.TLS {
		conn, err = (&tls.Dialer{NetDialer: d, Config: s.CA.TLSConfig("localhost")}).Dial("tcp", s.Addr)
	} else {
		conn, err = d.Dial("tcp", s.Addr)
	}
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	var req bytes.Buffer
	writeCmd(&req, "AUTH", AdminUser, s.adminPass)
	writeCmd(&req, args...)
	if _, err := conn.Write(req.Bytes()); err != nil {
		return "", err
	}
	r := bufio.NewReader(conn)
	if _, err := readReply(r); err != nil {
		return "", fmt.Errorf("AUTH: %w", err)
	}
	return readReply(r)
}

func writeCmd(w io.Writer, args ...string) {
	fmt.Fprintf(w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(w, "$%d\r\n%s\r\n", len(a), a)
	}
}

func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errReply(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			return "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("unsupported reply type %q", line)
}

// waitReady polls PING until the server answers or the process exits.
func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if s.Exited() {
			return fmt.Errorf("process exited (%v); last probe: %v", s.cmd.ProcessState, last)
		}
		out, err := s.rawDo(time.Second, "PING")
		if err == nil && out == "PONG" {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("PING answered %q", out)
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("last probe: %w", last)
		}
		time.Sleep(pollInterval)
	}
}

// busOffset is the distance from the client port to the cluster bus port,
// the valkey default that ElastiCache also uses.
const busOffset = 10000

var (
	portMu    sync.Mutex
	portsUsed = map[int]bool{} // ports handed out by this test binary
)

// freePort returns a port on 127.0.0.1 that is free right now and not yet
// handed out by this process; with bus set, port+10000 is free too.
func freePort(t testing.TB, bus bool) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	for range 200 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("valkeytest: find a free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		ok := !portsUsed[port]
		if ok && bus {
			ok = port+busOffset <= 65535 && !portsUsed[port+busOffset]
			if ok {
				bl, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+busOffset)))
				ok = err == nil
				if ok {
					bl.Close()
				}
			}
		}
		l.Close()
		if ok {
			portsUsed[port] = true
			if bus {
				portsUsed[port+busOffset] = true
			}
			return port
		}
	}
	t.Fatalf("valkeytest: no free port pair found on 127.0.0.1")
	return 0
}
