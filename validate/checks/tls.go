package checks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// CertWarnWithin is how close to expiry a certificate turns the tls check into a warning.
const CertWarnWithin = 30 * 24 * time.Hour

// checkTLS handshakes on each port with hostname verification and records the certificate.
// With --insecure-plaintext it instead proves the server really is plaintext: a TLS server
// with a plaintext client would otherwise only show up as a closed connection later.
func checkTLS(ctx context.Context, e *Env) report.Result {
	if e.Target.TLS == nil {
		return plaintextProbe(ctx, e)
	}
	return tlsTo(ctx, e, e.Target.Addr())
}

// checkReaderTLS is checkTLS for the read port (a reader-path row).
func checkReaderTLS(ctx context.Context, e *Env) report.Result {
	addr := e.readerAddr()
	switch {
	case addr == "":
		return skip(noReader)
	case e.Target.TLS == nil:
		return skip("--insecure-plaintext: no TLS on the read port either (see the tls check)")
	}
	return tlsTo(ctx, e, addr)
}

func tlsTo(ctx context.Context, e *Env, addrs ...string) report.Result {
	var certs []map[string]any
	var lines []string
	status := report.Pass
	for _, addr := range addrs {
		d := tls.Dialer{NetDialer: &net.Dialer{}, Config: e.Target.TLS}
		var conn net.Conn
		attempts, err := valkeyclient.Retry(ctx, func(ctx context.Context) error {
			var err error
			conn, err = handshake(ctx, d, addr)
			return err
		})
		if err != nil {
			r := failErr(err, fmt.Sprintf("TLS handshake with %s (verifying %q)", addr, e.Target.TLS.ServerName), map[string]any{"certificates": certs})
			r.Attempts = attempts
			return r
		}
		st := conn.(*tls.Conn).ConnectionState()
		conn.Close()
		leaf := st.PeerCertificates[0]
		left := time.Until(leaf.NotAfter)
		certs = append(certs, map[string]any{
			"address": addr, "serverName": e.Target.TLS.ServerName, "version": tls.VersionName(st.Version),
			"cipherSuite": tls.CipherSuiteName(st.CipherSuite), "subject": leaf.Subject.String(),
			"issuer": leaf.Issuer.String(), "sans": sans(leaf), "notBefore": leaf.NotBefore.UTC(),
			"notAfter": leaf.NotAfter.UTC(), "daysLeft": int(left.Hours() / 24), "chainVerified": len(st.VerifiedChains) > 0,
		})
		line := fmt.Sprintf("%s %s, cert %q valid for %q until %s", addr, tls.VersionName(st.Version),
			leaf.Subject.CommonName, e.Target.TLS.ServerName, leaf.NotAfter.UTC().Format("2006-01-02"))
		if left < CertWarnWithin {
			status = report.Warn
			line += fmt.Sprintf(" (EXPIRES IN %d DAYS)", int(left.Hours()/24))
		}
		lines = append(lines, line)
	}
	r := pass(strings.Join(lines, "; "), map[string]any{"certificates": certs})
	r.Status = status
	return r
}

// errPlaintextServer means the server answered a plaintext PING: it does not speak TLS.
var errPlaintextServer = tls.RecordHeaderError{Msg: "server answered a plaintext PING"}

// plaintextAfter is how long a TLS handshake may stay silent before a plaintext PING is tried
// on a second connection: a plaintext server waits for a newline and never answers the
// ClientHello, which would otherwise look like a timeout.
const plaintextAfter = 300 * time.Millisecond

// handshake dials TLS; if the server is silent for plaintextAfter it also probes plaintext.
func handshake(ctx context.Context, d tls.Dialer, addr string) (net.Conn, error) {
	type res struct {
		c   net.Conn
		err error
	}
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan res, 1)
	go func() {
		c, err := d.DialContext(hctx, "tcp", addr)
		ch <- res{c, err}
	}()
	timer := time.NewTimer(plaintextAfter)
	defer timer.Stop()
	for {
		select {
		case r := <-ch:
			return r.c, r.err
		case <-timer.C:
			if reply, ok := pingPlaintext(ctx, addr); ok {
				cancel()
				if r := <-ch; r.c != nil {
					r.c.Close()
				}
				return nil, fmt.Errorf("%w (%q)", errPlaintextServer, reply)
			}
		}
	}
}

// pingPlaintext sends PING without TLS and reports whether a RESP reply came back.
func pingPlaintext(ctx context.Context, addr string) (string, bool) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", false
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return "", false
	}
	buf := make([]byte, 64)
	n, _ := conn.Read(buf)
	if n > 0 && (buf[0] == '+' || buf[0] == '-') {
		return strings.TrimSpace(string(buf[:n])), true
	}
	return "", false
}

func sans(c *x509.Certificate) []string {
	var s []string
	s = append(s, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		s = append(s, ip.String())
	}
	return s
}

// plaintextProbe runs when the operator passed --insecure-plaintext: it sends a plaintext
// PING. A plaintext server answers at once (+PONG or -NOAUTH); a TLS server reads the bytes as a
// broken TLS record and closes the connection, which later would look like a flaky network.
func plaintextProbe(ctx context.Context, e *Env) report.Result {
	addr := e.Target.Addr()
	if reply, ok := pingPlaintext(ctx, addr); ok {
		r := pass("INSECURE: --insecure-plaintext: TLS not used, traffic and password are NOT encrypted (server answered plaintext PING)",
			map[string]any{"insecurePlaintext": true, "plaintextReply": reply})
		r.Status = report.Warn
		return r
	}
	if ctx.Err() != nil {
		return failErr(ctx.Err(), "plaintext PING to "+addr, nil)
	}
	return failProblem(valkeyclient.Problem{Class: valkeyclient.ClassTLS,
		Msg: fmt.Sprintf("--insecure-plaintext given but %s closed the connection on a plaintext PING: it requires TLS", addr),
		Fix: "drop --insecure-plaintext (ElastiCache Serverless always uses TLS)"}, nil)
}
