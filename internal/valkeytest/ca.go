package valkeytest

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/localvalkey"
)

// CA is a throwaway certificate authority made at test time (ECDSA P-256,
// valid 1 day), so tests exercise real certificate verification without any
// key material checked into the repository.
type CA struct {
	CertFile string         // PEM file of the CA certificate (for valkey-server and valkey-cli)
	CertPEM  []byte         // the same certificate, PEM encoded
	Pool     *x509.CertPool // a pool holding only this CA, for Go TLS clients

	ca *localvalkey.CA
}

// NewCA makes a CA whose files live in t.TempDir().
func NewCA(t testing.TB) *CA {
	t.Helper()
	ca, err := localvalkey.NewCA(t.TempDir())
	if err != nil {
		t.Fatalf("valkeytest: %v", err)
	}
	return wrapCA(ca)
}

func wrapCA(ca *localvalkey.CA) *CA {
	if ca == nil {
		return nil
	}
	return &CA{CertFile: ca.CertFile, CertPEM: ca.CertPEM, Pool: ca.Pool, ca: ca}
}

// TLSConfig returns a client configuration that trusts only this CA.
// serverName may be empty: Go then verifies the dialled host (127.0.0.1 is
// in every certificate this harness issues for servers).
func (ca *CA) TLSConfig(serverName string) *tls.Config { return ca.ca.TLSConfig(serverName) }

// Issue signs a leaf certificate for cn with the given SANs (DNS names, or IPs
// when net.ParseIP accepts them) and returns its PEM files in t.TempDir().
//
// The certificate allows both server and client auth because a TLS cluster
// node presents its own certificate as a client on the cluster bus.
func (ca *CA) Issue(t testing.TB, cn string, sans ...string) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile, err := ca.ca.Issue(t.TempDir(), cn, sans...)
	if err != nil {
		t.Fatalf("valkeytest: %v", err)
	}
	return certFile, keyFile
}
