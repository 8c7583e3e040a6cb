package valkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// CA is a throwaway certificate authority made at test time (ECDSA P-256,
// valid 1 day), so tests exercise real certificate verification without any
// key material checked into the repository.
type CA struct {
	CertFile string         // PEM file of the CA certificate (for valkey-server and valkey-cli)
	CertPEM  []byte         // the same certificate, PEM encoded
	Pool     *x509.CertPool // a pool holding only this CA, for Go TLS clients

	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
}

// NewCA makes a CA whose files live in t.TempDir().
func NewCA(t testing.TB) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("valkeytest: generate CA key: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: "valkeytest CA", Organization: []string{"valkey-dr tests"}},
		NotBefore:             now.Add(-time.Hour), // tolerate small clock skew
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("valkeytest: create CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("valkeytest: parse CA certificate: %v", err)
	}
	dir := t.TempDir()
	ca := &CA{
		CertFile: filepath.Join(dir, "ca.pem"),
		CertPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		Pool:     x509.NewCertPool(),
		cert:     cert,
		key:      key,
		dir:      dir,
	}
	ca.Pool.AddCert(cert)
	writeFile(t, ca.CertFile, ca.CertPEM, 0o644)
	return ca
}

// TLSConfig returns a client configuration that trusts only this CA.
// serverName may be empty: Go then verifies the dialled host (127.0.0.1 is
// in every certificate this harness issues for servers).
func (ca *CA) TLSConfig(serverName string) *tls.Config {
	return &tls.Config{RootCAs: ca.Pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Issue signs a leaf certificate for cn with the given SANs (DNS names, or IPs
// when net.ParseIP accepts them) and returns its PEM files in t.TempDir().
//
// The certificate allows both server and client auth because a TLS cluster
// node presents its own certificate as a client on the cluster bus.
func (ca *CA) Issue(t testing.TB, cn string, sans ...string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("valkeytest: generate key for %q: %v", cn, err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"valkey-dr tests"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, san := range sans {
		if ip := net.ParseIP(san); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, san)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("valkeytest: sign certificate for %q: %v", cn, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("valkeytest: marshal key for %q: %v", cn, err)
	}
	dir := t.TempDir()
	base := unsafeName.ReplaceAllString(cn, "_")
	if base == "" {
		base = "leaf"
	}
	certFile = filepath.Join(dir, base+".pem")
	keyFile = filepath.Join(dir, base+".key")
	writeFile(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatalf("valkeytest: serial number: %v", err)
	}
	return n
}

func writeFile(t testing.TB, path string, data []byte, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatalf("valkeytest: write %s: %v", path, err)
	}
}
