package localvalkey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"regexp"
	"time"
)

// DefaultValidity is how long certificates made by NewCA and Issue are valid.
const DefaultValidity = 24 * time.Hour

// CA is a throwaway certificate authority made at run time (ECDSA P-256), so tests and drills
// exercise real certificate verification without any key material checked into the
// repository. Its private key never leaves memory.
type CA struct {
	CertFile string         // PEM file of the CA certificate (for valkey-server and valkey-cli)
	CertPEM  []byte         // the same certificate, PEM encoded
	Pool     *x509.CertPool // a pool holding only this CA, for Go TLS clients

	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
	validity time.Duration
}

// NewCA makes a CA valid for DefaultValidity and writes its certificate to dir/ca.pem.
func NewCA(dir string) (*CA, error) { return NewCAValidFor(dir, DefaultValidity) }

// NewCAValidFor is NewCA with a validity for the CA and every certificate it issues.
func NewCAValidFor(dir string, validity time.Duration) (*CA, error) {
	if validity <= 0 {
		validity = DefaultValidity
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("localvalkey: generate CA key: %w", err)
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: "valkey-dr local CA", Organization: []string{"valkey-dr local servers (tests, drill stand-in): not AWS"}},
		NotBefore:             now.Add(-time.Hour), // tolerate small clock skew
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("localvalkey: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("localvalkey: parse CA certificate: %w", err)
	}
	ca := &CA{
		CertFile: filepath.Join(dir, "ca.pem"),
		CertPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		Pool:     x509.NewCertPool(),
		cert:     cert,
		key:      key,
		validity: validity,
	}
	ca.Pool.AddCert(cert)
	if err := writeFile(ca.CertFile, ca.CertPEM, 0o644); err != nil {
		return nil, err
	}
	return ca, nil
}

// TLSConfig returns a client configuration that trusts only this CA. serverName may be
// empty: Go then verifies the dialled host (127.0.0.1 is in every certificate this package
// issues for servers).
func (ca *CA) TLSConfig(serverName string) *tls.Config {
	return &tls.Config{RootCAs: ca.Pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
}

// verifyTime is a moment inside the validity of the CA and of every certificate it issued
// within 30 minutes of its creation (they all start an hour before their issue).
func (ca *CA) verifyTime() time.Time {
	t := ca.cert.NotBefore.Add(30 * time.Minute)
	if now := time.Now(); now.Before(ca.cert.NotAfter) && now.After(t) {
		return now
	}
	return t
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Issue signs a leaf certificate for cn with the given SANs (DNS names, or IPs when
// net.ParseIP accepts them) and writes its PEM files into dir: <cn>.pem and <cn>.key (0600).
//
// The certificate allows both server and client auth because a TLS cluster node presents its
// own certificate as a client on the cluster bus.
func (ca *CA) Issue(dir, cn string, sans ...string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("localvalkey: generate key for %q: %w", cn, err)
	}
	sn, err := serial()
	if err != nil {
		return "", "", err
	}
	validity := ca.validity
	if validity <= 0 {
		validity = DefaultValidity
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"valkey-dr local servers (tests, drill stand-in): not AWS"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
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
		return "", "", fmt.Errorf("localvalkey: sign certificate for %q: %w", cn, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("localvalkey: marshal key for %q: %w", cn, err)
	}
	base := unsafeName.ReplaceAllString(cn, "_")
	if base == "" {
		base = "leaf"
	}
	certFile = filepath.Join(dir, base+".pem")
	keyFile = filepath.Join(dir, base+".key")
	if err := writeFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", err
	}
	if err := writeFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

func serial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("localvalkey: serial number: %w", err)
	}
	return n, nil
}
