package localvalkey

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// errReply is an error reply from the server, e.g. "LOADING ...".
type errReply string

func (e errReply) Error() string { return string(e) }

// rawDo authenticates as admin and runs one command over a fresh connection with a tiny RESP2
// client. Readiness and cluster polling use it instead of valkey-cli so polling does not fork
// dozens of processes per second. Simple, error, integer, bulk and (flattened) array replies are supported.
func (s *Server) rawDo(timeout time.Duration, args ...string) (string, error) {
	return s.rawDoAs(timeout, AdminUser, s.adminPass, args...)
}

// rawDoAs is rawDo as another user (tests prove what an application user may run).
func (s *Server) rawDoAs(timeout time.Duration, user, pass string, args ...string) (string, error) {
	d := &net.Dialer{Timeout: timeout}
	var conn net.Conn
	var err error
	if s.TLS {
		cfg := s.CA.TLSConfig("localhost")
		// The launcher verifies the chain at a moment inside the validity of everything this
		// CA issued, so it can still manage a server whose certificate a test let expire (the
		// clients under test verify at the real time).
		cfg.Time = s.CA.verifyTime
		conn, err = (&tls.Dialer{NetDialer: d, Config: cfg}).Dial("tcp", s.Addr)
	} else {
		conn, err = d.Dial("tcp", s.Addr)
	}
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	var req bytes.Buffer
	writeCmd(&req, "AUTH", user, pass)
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
	case '*', '%':
		// Arrays (and maps) are flattened into one element per line: enough for the
		// launcher's polling of CLUSTER SLOTS.
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", fmt.Errorf("bad aggregate length %q", line)
		}
		if line[0] == '%' {
			n *= 2
		}
		var parts []string
		for range max(n, 0) {
			p, err := readReply(r)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "\n"), nil
	}
	return "", fmt.Errorf("unsupported reply type %q", line)
}
