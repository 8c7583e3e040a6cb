package valkeyclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/valkey-io/valkey-go"
)

// Error classes, recorded in a check result's ErrorClass (report.json errorClass) and by watch/probe.
const (
	ClassDNS     = "dns"
	ClassRefused = "refused"
	ClassTimeout = "timeout"
	ClassNetwork = "network"
	ClassTLS     = "tls"
	// ClassCertificate is a server certificate outside its validity period: every client
	// with a correct clock is refused, so the cache is unusable (not the probe's fault).
	ClassCertificate = "certificate"
	ClassAuth        = "auth"
	ClassPermission  = "permission"
	ClassMode        = "mode"
	ClassOOM         = "oom"
	ClassData        = "data"
	ClassServer      = "server"
	ClassDeadline    = "deadline"
	// ClassRedirect is a redirect loop: commands redirected (MOVED/ASK) past
	// RedirectsPerCommand, or a node that redirects to itself until the RedirectGuard stops
	// dialing it. The server answers; it is never a network problem.
	ClassRedirect = "redirect"
	// ClassInterrupted is a check or command cut short by SIGINT/SIGTERM: not the cache's
	// fault and no verdict on it (issue 23: it was sealed as a DNS failure before).
	ClassInterrupted = "interrupted"
	// ClassProtocol is a server that answers bytes that are not the protocol asked for
	// (neither RESP nor TLS): it is not a Valkey server, whatever else it is.
	ClassProtocol = "protocol"
)

// ErrSilent is a server that accepted the TCP connection and then sent nothing before the
// deadline: a hung process or not Valkey, never a security group (TCP got through).
var ErrSilent = errors.New("the server accepted the TCP connection but sent nothing before the deadline")

// ErrNotRESP is a reply that is not RESP (ReplyGuard and the plaintext probe).
var ErrNotRESP = errors.New("the server answered with bytes that are not RESP")

// notValkeyFix is the fix for a server that answers something other than Valkey's protocol.
const notValkeyFix = "check the endpoint and port are the cache's (6379 primary, 6380 reader): something else answers there"

// IsRESPStart reports whether b can start a RESP reply to a command (RESP2 and RESP3 types).
func IsRESPStart(b byte) bool { return strings.IndexByte("+-:$*_,#!=(%~>|", b) >= 0 }

// ErrInterrupted is the cause of the context a signal cancels (validate's signal handling):
// "interrupted by interrupt" names the signal after it.
var ErrInterrupted = errors.New("interrupted")

// CleanupAfterInterrupt bounds the clean-up of run, watch and probe after SIGINT/SIGTERM:
// the operator is waiting, and the keys expire with their TTL anyway.
const CleanupAfterInterrupt = 2 * time.Second

// Interrupted reports whether ctx ended because of a signal (its cause is ErrInterrupted).
func Interrupted(ctx context.Context) bool {
	return ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrInterrupted)
}

// ErrExecAborted is a WATCHed EXEC aborted although the key still does not exist: the
// service was unsure whether it changed. Healable: retried under the check's deadline.
var ErrExecAborted = errors.New("EXEC aborted although the watched key does not exist (the service was unsure whether it changed)")

// afterHandshakeFix is the fix of a timeout on a connection whose handshake succeeded.
const afterHandshakeFix = "the connection's TCP, TLS and AUTH handshake succeeded, so no security group or NACL is in the way: " +
	"the server stopped answering after the handshake (hung, paused, overloaded or failing over): check the cache status and its CPU (EngineCPUUtilization), then re-run"

// AfterHandshake is p for a command sent on a connection whose handshake (TCP, TLS, HELLO
// with AUTH) succeeded: a timeout there is a server that stopped answering, never a security
// group or NACL (the path was just proven open). Other problems are unchanged.
func AfterHandshake(p Problem) Problem {
	if p.Class != ClassTimeout {
		return p
	}
	p.Msg += " (the server stopped answering after the handshake)"
	p.Fix = afterHandshakeFix
	return p
}

// Problem is a classified error: what class, a one-line message and what to fix.
type Problem struct {
	Class string
	Msg   string
	Fix   string
}

// ReplyCode returns the error code of a server error reply (WRONGPASS, NOPERM, ...), or "".
func ReplyCode(err error) string {
	var ve *valkey.ValkeyError
	if !errors.As(err, &ve) {
		return ""
	}
	msg := ve.Error()
	if i := strings.IndexByte(msg, ' '); i > 0 {
		return msg[:i]
	}
	return msg
}

// Healable reports whether err can go away by itself within seconds, so retrying under the
// check's deadline is right: DNS not propagated yet, CLUSTERDOWN/TRYAGAIN/LOADING/MASTERDOWN
// during a topology change, connection refused/reset while a node (re)starts.
func Healable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrExecAborted) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsNotFound || dnsErr.IsTemporary
	}
	switch ReplyCode(err) {
	case "CLUSTERDOWN", "TRYAGAIN", "LOADING", "MASTERDOWN":
		return true
	case "":
	default:
		return false
	}
	if isTLSProblem(err) {
		return false
	}
	// valkey-go: no node serves the slot (a refresh after a node loss) or the pipe broke.
	if errors.Is(err, valkey.ErrNoSlot) || errors.Is(err, valkey.ErrClosing) {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed)
}

func isTLSProblem(err error) bool {
	var (
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ci  x509.CertificateInvalidError
		rh  tls.RecordHeaderError
		ve  *tls.CertificateVerificationError
		ae  tls.AlertError
		uap *x509.UnknownAuthorityError
	)
	return errors.As(err, &ua) || errors.As(err, &uap) || errors.As(err, &he) || errors.As(err, &ci) ||
		errors.As(err, &rh) || errors.As(err, &ve) || errors.As(err, &ae)
}

// Classify turns an error into a Problem. what names the operation ("connect to h:6379",
// "SET key") and is the start of Msg.
func Classify(err error, what string) Problem {
	msg := fmt.Sprintf("%s: %v", what, err)
	if errors.Is(err, ErrInterrupted) || errors.Is(err, context.Canceled) {
		// Before every other class: a lookup or a handshake cut by Ctrl-C says nothing about
		// the resolver or the server.
		return Problem{ClassInterrupted, what + ": interrupted before it finished", ""}
	}
	var dnsErr *net.DNSError
	var ua x509.UnknownAuthorityError
	var uap *x509.UnknownAuthorityError
	var he x509.HostnameError
	var hep *x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	var ne net.Error
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return Problem{ClassDNS, fmt.Sprintf("%s: name %q does not resolve (NXDOMAIN)", what, dnsErr.Name),
			"check the name; for a Route 53 private zone, check it is associated with this VPC and the record exists"}
	case errors.As(err, &dnsErr):
		return Problem{ClassDNS, msg, "check the resolver (VPC DNS) is reachable from this host"}
	case errors.As(err, &ua) || errors.As(err, &uap):
		return Problem{ClassTLS, what + ": certificate signed by an unknown authority",
			"ElastiCache certificates chain to public Amazon roots (update the system CA bundle); for a private CA pass --ca-file"}
	case errors.As(err, &he) || errors.As(err, &hep):
		if hep != nil {
			he = *hep
		}
		return Problem{ClassTLS, fmt.Sprintf("%s: certificate is not valid for %q (valid for %s)", what, he.Host, certNames(he.Certificate)),
			"connect to the cache endpoint name, or pass --tls-server-name <endpoint> when connecting through a CNAME"}
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return Problem{ClassCertificate, fmt.Sprintf("%s: the server certificate is outside its validity period (%v; this host's clock reads %s UTC)", what, ci, time.Now().UTC().Format(time.RFC3339)),
			"no client with a correct clock can connect: renew the server certificate; if this host's clock is wrong, fix it (NTP) and re-run"}
	case errors.As(err, &ci):
		return Problem{ClassTLS, fmt.Sprintf("%s: certificate invalid: %v", what, ci), "check the server certificate and the system clock"}
	case errors.As(err, &rh) && (rh.RecordHeader == [5]byte{} || IsRESPStart(rh.RecordHeader[0])):
		return Problem{ClassTLS, what + ": the server does not speak TLS (plaintext reply to the TLS handshake)",
			"ElastiCache Serverless always uses TLS: check the endpoint; for a plaintext test server only, pass --insecure-plaintext"}
	case errors.As(err, &rh):
		// Neither TLS nor RESP: nothing says it is a plaintext Valkey, so no --insecure-plaintext.
		// The bytes are the server's, raw: printers escape them (report's oneLine).
		return Problem{ClassProtocol, fmt.Sprintf("%s: the server answered the TLS handshake with bytes that are neither TLS nor RESP (\"%s...\"): it is not a Valkey server",
			what, string(rh.RecordHeader[:])), notValkeyFix}
	case isTLSProblem(err):
		return Problem{ClassTLS, msg, "check the server certificate and --ca-file/--tls-server-name"}
	}
	if p, ok := classifyRedirect(err, what); ok {
		return p
	}
	switch code := ReplyCode(err); code {
	case "WRONGPASS":
		return Problem{ClassAuth, what + ": WRONGPASS: wrong password or unknown/disabled user",
			"check the user name and the password source (secret, file or VALKEY_PASSWORD); the user must be in the cache's user group"}
	case "NOAUTH":
		return Problem{ClassAuth, what + ": NOAUTH: the server requires authentication",
			"give --user and a password source (VALKEY_PASSWORD, --password-file, --password-secret-arn) or --iam"}
	case "NOPERM":
		// Valkey 8: "No permissions to access a key" (older: "... one of the keys used as
		// arguments"): the command is allowed, the key is not.
		switch m := err.Error(); {
		case strings.Contains(m, "access a key"), strings.Contains(m, "one of the keys"):
			// The command is allowed; the key is outside the user's key patterns.
			return Problem{ClassPermission, what + ": NOPERM: the user may not access this key (no key pattern of the access string covers it)",
				"add a key pattern to the user's access string: ~" + KeyNamespace + "* for the validator, or the stack's access string (\"~* ...\"); ElastiCache: modify-user --access-string"}
		case strings.Contains(m, "access a channel"), strings.Contains(m, "one of the channels"):
			return Problem{ClassPermission, what + ": NOPERM: the user may not use this channel (no channel pattern covers it)",
				"add a channel pattern (&*) to the user's access string (ElastiCache: modify-user --access-string)"}
		}
		cmd := nopermCommand(err)
		return Problem{ClassPermission, fmt.Sprintf("%s: NOPERM: the user may not run %s", what, cmd),
			fmt.Sprintf("add +%s to the user's access string (ElastiCache: modify-user --access-string)", cmd)}
	case "OOM":
		// Under noeviction nothing is evicted; under volatile-lru (ElastiCache Serverless) only
		// keys with a TTL are, so OOM there means none was left to evict. Either way the
		// write was refused, not lost.
		return Problem{ClassOOM, what + ": OOM: the server is at maxmemory and could not free memory for the write (its maxmemory-policy found nothing it may evict); the write was refused",
			"raise the cache's data storage limit (CacheUsageLimits) or free memory; a session cache should not be full"}
	case "CLUSTERDOWN", "TRYAGAIN", "LOADING", "MASTERDOWN":
		return Problem{ClassServer, msg + " (still failing at the deadline; refused writes did not land)", "the cluster is not serving all slots: wait for the cache to be AVAILABLE, then re-run"}
	case "READONLY":
		return Problem{ClassServer, msg, "writes reached a replica: use the primary port (6379), not the reader port"}
	case "":
	default:
		return Problem{ClassServer, msg, ""}
	}
	switch {
	case errors.Is(err, ErrSilent):
		return Problem{ClassTimeout, fmt.Sprintf("%s: %v", what, ErrSilent),
			"the port is open (TCP connects), so no security group or NACL is in the way: the process behind it does not answer (hung, or not Valkey): check the endpoint and port are the cache's, and the cache status"}
	case errors.Is(err, ErrNotRESP):
		return Problem{ClassProtocol, msg, notValkeyFix}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return Problem{ClassTimeout, what + ": no answer before the deadline",
			"the node is unresponsive or traffic is dropped: check the security group/NACL allow this host on the port, and the cache status"}
	case errors.As(err, &ne) && ne.Timeout():
		return Problem{ClassTimeout, what + ": timed out: " + err.Error(),
			"the node is unresponsive or traffic is dropped: check the security group/NACL allow this host on the port, and the cache status"}
	case errors.Is(err, syscall.ECONNREFUSED):
		return Problem{ClassRefused, what + ": connection refused",
			"nothing listens there: check the endpoint and port (6379 primary, 6380 reader)"}
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.EPIPE):
		return Problem{ClassNetwork, msg + " (the server closed the connection)",
			"if the server requires TLS, drop --insecure-plaintext; otherwise check the server is up"}
	case errors.Is(err, valkey.ErrNoSlot):
		return Problem{ClassServer, msg + ": no reachable node serves the key's slot",
			"a node of the cluster is down: wait for the cache to be AVAILABLE (failover), then re-run"}
	case errors.Is(err, valkey.ErrClosing):
		return Problem{ClassNetwork, msg, "the client could not (re)connect: check the server is up"}
	}
	return Problem{ClassNetwork, msg, ""}
}

// nopermCommand extracts the command from "NOPERM User x has no permissions to run the 'set'
// command" (and the subcommand form 'cluster|shards').
func nopermCommand(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "'"); i >= 0 {
		if j := strings.Index(msg[i+1:], "'"); j >= 0 {
			return msg[i+1 : i+1+j]
		}
	}
	return "the command"
}

func certNames(c *x509.Certificate) string {
	if c == nil {
		return "unknown names"
	}
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "CN " + c.Subject.CommonName
	}
	return strings.Join(names, ", ")
}

// Retry calls fn until it succeeds, fails with an error that cannot heal, or ctx ends.
// It returns the number of attempts and the last error; when the deadline cut off a series of
// healable failures, it returns the healable one (what kept failing), not "deadline exceeded".
func Retry(ctx context.Context, fn func(ctx context.Context) error) (int, error) {
	backoff := 5 * time.Millisecond
	var healable error
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err != nil && healable != nil && ctx.Err() != nil {
			return attempt, fmt.Errorf("%w (retried %d times until the deadline)", healable, attempt)
		}
		if err == nil || !Healable(err) {
			return attempt, err
		}
		healable = err
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return attempt, fmt.Errorf("%w (retried %d times until the deadline)", err, attempt)
		case <-t.C:
		}
		backoff = min(backoff*2, 400*time.Millisecond)
	}
}
