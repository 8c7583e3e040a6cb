package checks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
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

// handshake dials TLS; if the server is silent for plaintextAfter it also probes plaintext. A
// handshake that times out after the TCP connect succeeded is ErrSilent: the port is open and
// the process behind it says nothing, which no security group explains.
func handshake(ctx context.Context, d tls.Dialer, addr string) (net.Conn, error) {
	type res struct {
		c   net.Conn
		err error
	}
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan res, 1)
	go func() {
		c, err := tlsDial(hctx, d, addr)
		ch <- res{c, err}
	}()
	timer := time.NewTimer(plaintextAfter)
	defer timer.Stop()
	for {
		select {
		case r := <-ch:
			return r.c, r.err
		case <-timer.C:
			if p := pingPlaintext(ctx, addr); p.resp {
				cancel()
				if r := <-ch; r.c != nil {
					r.c.Close()
				}
				return nil, fmt.Errorf("%w (%q)", errPlaintextServer, p.reply)
			}
		}
	}
}

// tlsDial is d.DialContext in two steps, so that a silent server after the TCP connect is told
// apart from a connect that never completes.
func tlsDial(ctx context.Context, d tls.Dialer, addr string) (net.Conn, error) {
	nd := d.NetDialer
	if nd == nil {
		nd = &net.Dialer{}
	}
	raw, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	cfg := d.Config.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	c := tls.Client(raw, cfg)
	if err := c.HandshakeContext(ctx); err != nil {
		raw.Close()
		if ctx.Err() != nil && !valkeyclient.Interrupted(ctx) {
			return nil, fmt.Errorf("%w (TLS handshake: %w)", valkeyclient.ErrSilent, err)
		}
		return nil, err
	}
	return c, nil
}

// plainReply is what a server did with a plaintext PING.
type plainReply struct {
	// resp: it answered RESP (reply is its first line): a plaintext server.
	resp  bool
	reply string
	// tls: it answered a TLS record (an alert): it speaks TLS.
	tls bool
	// first are the first bytes of any other answer (garbage).
	first []byte
	// closed: it closed the connection without a byte; silent: it sent nothing before the
	// deadline; err is the dial or write error, if any.
	closed, silent bool
	err            error
}

// pingPlaintext sends PING without TLS and reports what came back.
func pingPlaintext(ctx context.Context, addr string) plainReply {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return plainReply{err: err}
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return plainReply{err: err}
	}
	buf := make([]byte, 64)
	n, err := conn.Read(buf)
	var ne net.Error
	switch {
	case n > 0 && (buf[0] == '+' || buf[0] == '-'):
		return plainReply{resp: true, reply: strings.TrimSpace(string(buf[:n]))}
	case n >= 2 && (buf[0] == tlsRecordAlert || buf[0] == tlsRecordHandshake) && buf[1] == 3:
		return plainReply{tls: true}
	case n > 0:
		return plainReply{first: buf[:min(n, 16)]}
	case errors.As(err, &ne) && ne.Timeout():
		return plainReply{silent: true}
	}
	return plainReply{closed: true, err: err}
}

// TLS record content types (RFC 8446 section 5.1): a TLS server answers bytes it cannot parse
// with an alert record, or a ClientHello with a handshake record.
const (
	tlsRecordAlert     = 0x15
	tlsRecordHandshake = 0x16
)

// speaksTLS reports whether a TLS handshake with addr gets a TLS answer. It only tells whether
// the server speaks TLS (nothing is sent after the handshake), so it trusts any certificate.
func speaksTLS(ctx context.Context, addr string) bool {
	host, _, _ := net.SplitHostPort(addr)
	d := tls.Dialer{Config: &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}} //nolint:gosec // detection only, no data sent
	c, err := d.DialContext(ctx, "tcp", addr)
	if err == nil {
		c.Close()
		return true
	}
	var ae tls.AlertError
	return errors.As(err, &ae) // a TLS server that refused the handshake still speaks TLS
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
	p := pingPlaintext(ctx, addr)
	if p.resp {
		r := pass("INSECURE: --insecure-plaintext: TLS not used, traffic and password are NOT encrypted (server answered plaintext PING)",
			map[string]any{"insecurePlaintext": true, "plaintextReply": p.reply})
		r.Status = report.Warn
		return r
	}
	if ctx.Err() != nil && !p.silent {
		return failErr(ctx.Err(), "plaintext PING to "+addr, nil)
	}
	requiresTLS := valkeyclient.Problem{Class: valkeyclient.ClassTLS,
		Msg: fmt.Sprintf("--insecure-plaintext given but %s answered a plaintext PING with TLS: it requires TLS", addr),
		Fix: "drop --insecure-plaintext (ElastiCache Serverless always uses TLS)"}
	switch {
	case p.tls:
		return failProblem(requiresTLS, nil)
	case p.silent:
		return failErr(fmt.Errorf("plaintext PING: %w", valkeyclient.ErrSilent), "plaintext PING to "+addr, nil)
	case p.first != nil:
		// Raw: printers escape what a server sent (report's oneLine); the evidence has hex.
		return failErr(fmt.Errorf("%w: \"%s...\"", valkeyclient.ErrNotRESP, p.first),
			"plaintext PING to "+addr, map[string]any{"firstBytes": fmt.Sprintf("%x", p.first)})
	case p.err != nil && !p.closed:
		return failErr(p.err, "plaintext PING to "+addr, nil)
	}
	// Closed without a byte. A TLS server may do that with a plaintext PING; whether it does
	// speak TLS is asked, not assumed (a broken server closes too).
	if speaksTLS(ctx, addr) {
		requiresTLS.Msg = fmt.Sprintf("--insecure-plaintext given but %s closed the connection on a plaintext PING and completes a TLS handshake: it requires TLS", addr)
		return failProblem(requiresTLS, nil)
	}
	return failProblem(valkeyclient.Problem{Class: valkeyclient.ClassProtocol,
		Msg: fmt.Sprintf("--insecure-plaintext given but %s closed the connection on a plaintext PING without a reply, and does not speak TLS either: it is not a Valkey server", addr),
		Fix: "check the endpoint and port are the cache's (6379 primary, 6380 reader): something else answers there"}, nil)
}
