package localvalkey

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configures a server or every node of a cluster. The zero value is a plaintext
// server with only the admin user, in a temporary directory.
type Options struct {
	// TLS makes the server listen with TLS only (tls-port set, port 0), like an ElastiCache
	// cache with in-transit encryption; false means plaintext only.
	TLS bool
	// CA signs the server certificate; nil with TLS makes a new CA per call (its certificate
	// is then Server.CA / Cluster.CA).
	CA *CA
	// CertValidity is the validity of a CA made because CA is nil, and of its certificates;
	// 0 means DefaultValidity. (The validator warns about certificates that expire within 30
	// days, so a stand-in that must look healthy asks for more.)
	CertValidity time.Duration
	// Users are the ACL users. "admin" is added with a random password when missing because
	// the launcher authenticates as admin. The default user is always off.
	Users []User
	// MaxMemory sets maxmemory (e.g. "2mb"); empty means unlimited.
	MaxMemory string
	// MaxMemoryPolicy sets maxmemory-policy; empty means "noeviction" with MaxMemory (a full
	// server rejects writes with OOM), except in the serverless topology, where it always
	// means ServerlessMaxMemoryPolicy.
	MaxMemoryPolicy string
	// ExtraConfig are raw config lines appended last, so they win.
	ExtraConfig []string
	// Dir is where the launcher makes its directory (config with passwords, logs,
	// certificates); "" means the system temporary directory. Close removes what it made.
	// A killed owner's directory is removed by a later start (stale.go).
	Dir string

	// beforeForget, when set, runs after every server has started and before the launcher
	// removes the secret files (tests kill the owner there).
	beforeForget func()
}

// Server is one running valkey-server process on 127.0.0.1.
type Server struct {
	Host string // always "127.0.0.1": the launcher never listens on other interfaces
	Port int    // the client port (the TLS port when TLS is set)
	Addr string // Host:Port
	TLS  bool   // whether Port speaks TLS
	CA   *CA    // the CA that signed the server certificate; nil without TLS
	Dir  string // working directory; the log is Dir/valkey.log

	cli       string
	adminPass string
	cmd       *exec.Cmd
	done      chan struct{} // closed when the process has exited and been reaped
	ownedDirs []string      // removed by Close, innermost first
	// secretFiles hold passwords or private keys: the config file and the TLS key.
	secretFiles []string

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
	// serverless renders the ElastiCache Serverless parameters (one hostname, partial
	// coverage allowed, volatile-lru) instead of the 3-master test cluster's.
	serverless bool
	// ports are handed to the next starts first (the serverless pair P, P+1); a start that
	// loses its port to another process falls back to a free one.
	ports []int
	dir   string // the launcher's directory for this call; node dirs live below it
}

// nextPort returns the port for the next start.
func (spec *nodeSpec) nextPort() (int, error) {
	if len(spec.ports) > 0 {
		p := spec.ports[0]
		spec.ports = spec.ports[1:]
		return p, nil
	}
	return freePort(spec.cluster)
}

// StartStandalone starts a single non-cluster server and waits until it answers PING as
// admin. The caller must Close it. ctx bounds the start (an interrupted drill stops waiting).
func StartStandalone(ctx context.Context, opts Options) (*Server, error) {
	spec, err := newSpec(opts, false)
	if err != nil {
		return nil, err
	}
	s, err := startServer(ctx, spec)
	if err != nil {
		_ = os.RemoveAll(spec.dir)
		return nil, err
	}
	s.ownedDirs = append(s.ownedDirs, spec.dir)
	if err := forget(spec, s.ForgetSecrets); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// forget removes the secret files once every server has read them (forgetSecrets is the
// server's or cluster's ForgetSecrets).
func forget(spec *nodeSpec, forgetSecrets func() error) error {
	if spec.opts.beforeForget != nil {
		spec.opts.beforeForget()
	}
	return forgetSecrets()
}

// newSpec resolves the defaults shared by StartStandalone and StartCluster and makes the
// call's directory (0700: it will hold the config files with the ACL passwords), marked as
// this process's after sweeping what killed runs left (stale.go).
func newSpec(opts Options, cluster bool) (*nodeSpec, error) {
	if _, _, err := Binaries(); err != nil {
		return nil, err
	}
	users, adminPass, err := resolveUsers(opts.Users)
	if err != nil {
		return nil, err
	}
	adopt(opts.Dir)
	dir, err := NewStandInDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	spec := &nodeSpec{opts: opts, users: users, adminPass: adminPass, cluster: cluster, dir: dir}
	if opts.TLS {
		if spec.opts.CA == nil {
			if spec.opts.CA, err = NewCAValidFor(dir, opts.CertValidity); err != nil {
				_ = os.RemoveAll(dir)
				return nil, err
			}
		}
		// Go clients need SANs (the CN is ignored); localhost for clients that set
		// ServerName, 127.0.0.1 for clients that dial the IP.
		spec.certFile, spec.keyFile, err = spec.opts.CA.Issue(dir, "localhost", "localhost", "127.0.0.1")
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	return spec, nil
}

// startServer starts one process, retrying with new ports when the bind fails.
func startServer(ctx context.Context, spec *nodeSpec) (*Server, error) {
	serverBin, cliBin, err := Binaries()
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("localvalkey: start interrupted: %w", ctx.Err())
		}
		port, err := spec.nextPort()
		if err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp(spec.dir, "node-*")
		if err != nil {
			return nil, fmt.Errorf("localvalkey: make node directory: %w", err)
		}
		s := &Server{
			Host:      "127.0.0.1",
			Port:      port,
			Addr:      net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			TLS:       spec.opts.TLS,
			Dir:       dir,
			cli:       cliBin,
			adminPass: spec.adminPass,
			done:      make(chan struct{}),
			ownedDirs: []string{dir},
		}
		if s.TLS {
			s.CA = spec.opts.CA
		}
		conf := filepath.Join(s.Dir, "valkey.conf")
		s.secretFiles = []string{conf}
		if spec.keyFile != "" {
			s.secretFiles = append(s.secretFiles, spec.keyFile)
		}
		// 0600: the file holds the ACL passwords, which must never be in argv.
		if err := writeFile(conf, []byte(strings.Join(s.config(spec), "\n")+"\n"), 0o600); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		out, err := os.OpenFile(filepath.Join(s.Dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("localvalkey: create stdout log: %w", err)
		}
		s.cmd = exec.Command(serverBin, conf)
		s.cmd.Dir = s.Dir
		s.cmd.Stdout, s.cmd.Stderr = out, out // errors before the logfile opens land here
		setProcAttr(s.cmd)
		if err := s.cmd.Start(); err != nil {
			out.Close()
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("localvalkey: start %s: %w", serverBin, err)
		}
		go func() {
			_ = s.cmd.Wait()
			out.Close()
			close(s.done)
		}()

		err = s.waitReady(ctx, ReadyTimeout)
		if err == nil {
			// It answers PING: it has read its config (the passwords live in its memory
			// now). The shared TLS key goes when every node has started (forget).
			_ = os.Remove(conf)
			return s, nil
		}
		s.Kill()
		logTail := s.LogTail(20)
		_ = os.RemoveAll(dir)
		if ctx.Err() == nil && strings.Contains(logTail, "ddress already in use") && attempt < startAttempts {
			continue // someone took the port between our probe and the bind
		}
		return nil, fmt.Errorf("localvalkey: server on %s not ready (attempt %d, limit %v): %w\n--- last lines of its logs ---\n%s",
			s.Addr, attempt, ReadyTimeout, err, logTail)
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
		// A clean slate and no disk writes behind the caller's back (and no data on disk
		// after Close: the stand-in is empty by design, like the DR cache).
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
			"cluster-announce-ip 127.0.0.1",
		)
		if spec.serverless {
			c = append(c,
				// ElastiCache Serverless parameters (RedisConfiguration.html): reads go on
				// while part of the keyspace is down.
				"cluster-require-full-coverage no",
				"cluster-allow-reads-when-down yes",
				// Both nodes announce one hostname, so CLUSTER SLOTS reads
				// "0 16383 localhost P ... localhost P+1 ...", as serverless answers
				// "<endpoint> 6379 ... <endpoint> 6380".
				"cluster-announce-hostname localhost",
				"cluster-preferred-endpoint-type hostname",
				// The replica authenticates to its master as the launcher's admin.
				"masteruser "+AdminUser,
				"masterauth "+quoteConf(spec.adminPass),
				// The master lists its replica in CLUSTER SLOTS once the replica reports
				// a replication offset; pinging every second makes that seconds, not ten.
				"repl-ping-replica-period 1",
			)
		} else {
			// A killed master's slots then answer CLUSTERDOWN, which the validator tests
			// rely on.
			c = append(c, "cluster-require-full-coverage yes")
		}
		if s.TLS {
			// The bus and replication also use TLS; nodes authenticate each other with
			// their server certificate (hence client-auth usage).
			c = append(c, "tls-cluster yes", "tls-replication yes")
		}
	}
	if spec.opts.MaxMemory != "" {
		policy := spec.opts.MaxMemoryPolicy
		if policy == "" {
			policy = "noeviction"
			if spec.serverless {
				policy = ServerlessMaxMemoryPolicy
			}
		}
		c = append(c, "maxmemory "+spec.opts.MaxMemory, "maxmemory-policy "+policy)
	} else if spec.opts.MaxMemoryPolicy != "" {
		c = append(c, "maxmemory-policy "+spec.opts.MaxMemoryPolicy)
	} else if spec.serverless {
		c = append(c, "maxmemory-policy "+ServerlessMaxMemoryPolicy)
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

// errNotReaped means a SIGKILLed child was not reaped in time: a kernel problem, not ours.
var errNotReaped = errors.New("did not exit 10s after SIGKILL")

// Kill sends SIGKILL and waits until the process is reaped, so the port refuses connections
// when Kill returns. It keeps the directory (logs stay readable); it is safe to call more
// than once.
func (s *Server) Kill() {
	if err := s.kill(); err != nil {
		fmt.Fprintf(os.Stderr, "localvalkey: pid %d %v\n", s.PID(), err)
	}
}

func (s *Server) kill() error {
	if s.Exited() {
		return nil
	}
	s.mu.Lock()
	if s.paused {
		// A stopped process still dies from SIGKILL, but resuming first keeps the kernel
		// bookkeeping simple and matches what an operator would do.
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
		s.paused = false
	}
	s.mu.Unlock()
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-s.done:
		return nil
	case <-time.After(10 * time.Second):
		// Cannot happen for a SIGKILLed child short of a kernel problem; say so rather than
		// hang the caller.
		return errNotReaped
	}
}

// Close kills the process and removes the directories the launcher made for it (config with
// the passwords, logs, certificates). It is safe to call more than once.
func (s *Server) Close() error {
	err := s.kill()
	if err != nil {
		err = fmt.Errorf("localvalkey: pid %d %w", s.PID(), err)
	}
	for _, d := range s.ownedDirs {
		if rerr := os.RemoveAll(d); rerr != nil && err == nil {
			err = fmt.Errorf("localvalkey: remove %s: %w", d, rerr)
		}
	}
	s.ownedDirs = nil
	return err
}

// ForgetSecrets removes the files that hold passwords or private keys (the config file and
// the TLS key) once the server has read them, so that not even a SIGKILL of the owner, which
// skips Close, leaves a secret on disk. Afterwards CONFIG REWRITE fails; nothing else changes
// (valkey-server 8 reads its config and key once at start; the ACL users live in the config,
// there is no ACL file to reload). The Start functions call it before they return; it is
// idempotent.
func (s *Server) ForgetSecrets() error {
	var errs []error
	for _, f := range s.secretFiles {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Pause stops the process with SIGSTOP: connections stay open but nothing is answered, like
// a server stuck in a long command or a network black hole.
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

// Do runs one command with valkey-cli as admin and returns its trimmed stdout; an error reply
// or a refused connection is an error. The password travels in REDISCLI_AUTH, never in argv.
func (s *Server) Do(args ...string) (string, error) {
	return s.runCLI(false, args)
}

// DBSize returns the number of keys on this server. For a cluster use Cluster.DBSize, which
// sums over the masters.
func (s *Server) DBSize() (int, error) {
	out, err := s.Do("DBSIZE")
	if err != nil {
		return 0, fmt.Errorf("localvalkey: %s DBSIZE: %w", s.Addr, err)
	}
	n, err := strconv.Atoi(out)
	if err != nil {
		return 0, fmt.Errorf("localvalkey: %s DBSIZE: unexpected reply %q", s.Addr, out)
	}
	return n, nil
}

// LogTail returns the last n lines of the server log and of its stdout (where errors before
// the log file opens go), for failure messages.
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

// cliEnv is the environment of valkey-cli with the admin password in REDISCLI_AUTH
// (valkey-cli 8.0 reads that name; it has no VALKEYCLI_AUTH).
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

// waitReady polls PING until the server answers, the process exits or ctx ends.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: %w (last probe: %v)", ctx.Err(), last)
		}
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
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted: %w (last probe: %v)", ctx.Err(), last)
		case <-time.After(pollInterval):
		}
	}
}

// busOffset is the distance from the client port to the cluster bus port, the valkey default
// that ElastiCache also uses.
const busOffset = 10000

var (
	portMu    sync.Mutex
	portsUsed = map[int]bool{} // ports handed out by this process
)

// freePort returns a port on 127.0.0.1 that is free right now and not yet handed out by this
// process; with bus set, port+10000 is free too.
func freePort(bus bool) (int, error) {
	portMu.Lock()
	defer portMu.Unlock()
	for range 200 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("localvalkey: find a free port: %w", err)
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
			return port, nil
		}
	}
	return 0, errors.New("localvalkey: no free port pair found on 127.0.0.1")
}
