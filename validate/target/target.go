// Package target turns the validator's inputs (flags, a `cdk deploy --outputs-file` file, the
// environment) into one typed, validated Target: where the cache is, how to reach it (TLS) and
// how to authenticate. Secrets it holds never print.
package target

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"strconv"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
)

// Secret is a string that never prints: fmt, %v, %q and JSON all show "[REDACTED]".
type Secret struct{ v string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{v: s} }

// Reveal returns the secret value; call it only where the value goes onto the wire.
func (s Secret) Reveal() string { return s.v }

// Empty reports whether the secret is empty.
func (s Secret) Empty() bool { return s.v == "" }

// String redacts.
func (s Secret) String() string { return "[REDACTED]" }

// GoString redacts.
func (s Secret) GoString() string { return "[REDACTED]" }

// MarshalJSON redacts.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"[REDACTED]"`), nil }

// MarshalText redacts.
func (s Secret) MarshalText() ([]byte, error) { return []byte("[REDACTED]"), nil }

// TokenFunc returns a fresh IAM auth token for one new connection.
type TokenFunc func() (string, error)

// Auth is how to authenticate.
type Auth struct {
	// Mode is the stack's AuthMode output: none sends no AUTH (the server's default user),
	// password AUTH <user> <password>, iam AUTH <user-id> <SigV4 token>, a fresh token per
	// connection.
	Mode contract.AuthMode
	// User is the ACL user name (the user id in IAM mode); empty means the default user.
	User string
	// Password is the password in password mode.
	Password Secret
	// PasswordSource describes where the password came from, for the evidence
	// ("env VALKEY_PASSWORD", "file /path", "secret arn:...").
	PasswordSource string
	// Token makes IAM tokens in iam mode.
	Token TokenFunc `json:"-"`
	// CacheName and Region are the IAM signing inputs (evidence only here).
	CacheName, Region string
}

// Target is everything the checks need to know about the cache.
type Target struct {
	// Host is the endpoint host name (or IP literal) and Port its primary port.
	Host string
	Port int
	// ReaderPort is the read-from-replica port on the same host; 0 when unknown.
	ReaderPort int
	// DNSNames must each resolve, through their CNAME chain, to Host.
	DNSNames []string
	// TLS is the client TLS configuration; nil only with InsecurePlaintext.
	TLS *tls.Config
	// CAFile is the extra CA bundle (evidence only; TLS already holds it).
	CAFile string
	// InsecurePlaintext is true when the operator asked for no TLS.
	InsecurePlaintext bool
	// Auth is how to authenticate.
	Auth Auth
	// Timeout bounds the whole run.
	Timeout time.Duration
	// Sessions is the number of synthetic sessions.
	Sessions int
	// Source describes where the target came from (outputs file + stack, or flags).
	Source Source
}

// Source records the provenance of the target for the evidence.
type Source struct {
	// OutputsFile and Stack are set when the target came from an outputs file.
	OutputsFile string `json:"outputsFile,omitempty"`
	Stack       string `json:"stack,omitempty"`
	// Outputs are the non-secret stack outputs used.
	Outputs map[string]string `json:"outputs,omitempty"`
}

// Addr returns host:port of the primary endpoint.
func (t *Target) Addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// ReaderAddr returns host:port of the reader endpoint, or "" when unknown.
func (t *Target) ReaderAddr() string {
	if t.ReaderPort == 0 {
		return ""
	}
	return net.JoinHostPort(t.Host, strconv.Itoa(t.ReaderPort))
}

// ServerName is the name the TLS certificate is verified against.
func (t *Target) ServerName() string {
	if t.TLS == nil {
		return ""
	}
	return t.TLS.ServerName
}

// newTLSConfig builds a TLS 1.2+ config with the system roots plus the PEM bundle (if any).
func newTLSConfig(serverName string, caPEM []byte) (*tls.Config, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if len(caPEM) > 0 && !pool.AppendCertsFromPEM(caPEM) {
		return nil, errNoCerts
	}
	return &tls.Config{ServerName: serverName, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
