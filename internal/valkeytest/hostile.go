package valkeytest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Hostile servers: tiny Go listeners on loopback that are NOT Valkey. They stand in for a
// hostile or broken server (issue 23: a server that redirects every command to itself, one
// that answers garbage, one that accepts and stays silent), so the validator's defences are
// tested against what no real valkey-server would do. They are not mocks of Valkey: where the
// protocol matters, tests use the real server (StartStandalone, StartServerless).

// hostileMaxLine bounds one line the hostile servers read: they are attacked by nobody, but
// a test client that misbehaves must not make them grow without bound either.
const hostileMaxLine = 64 << 10

// Hostile is one hostile listener on 127.0.0.1, closed by t.Cleanup.
type Hostile struct {
	Addr string // 127.0.0.1:port
	Port int
	// accepted counts connections accepted, commands counts commands read (redirect server).
	accepted, commands atomic.Int64
	maxOpen            atomic.Int64
	open               atomic.Int64

	ln    net.Listener
	mu    sync.Mutex
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

// Accepted returns how many connections the server accepted so far.
func (h *Hostile) Accepted() int64 { return h.accepted.Load() }

// MaxOpen returns the most connections that were open at once.
func (h *Hostile) MaxOpen() int64 { return h.maxOpen.Load() }

// Commands returns how many commands the server read (the redirect server counts them).
func (h *Hostile) Commands() int64 { return h.commands.Load() }

// startHostile listens on an ephemeral loopback port and serves every connection with serve.
func startHostile(t testing.TB, serve func(h *Hostile, c net.Conn)) *Hostile {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("valkeytest: hostile listener: %v", err)
	}
	h := &Hostile{Addr: ln.Addr().String(), Port: ln.Addr().(*net.TCPAddr).Port, ln: ln, conns: map[net.Conn]bool{}}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.accepted.Add(1)
			for n := h.open.Add(1); ; {
				if m := h.maxOpen.Load(); n <= m || h.maxOpen.CompareAndSwap(m, n) {
					break
				}
			}
			h.mu.Lock()
			h.conns[c] = true
			h.mu.Unlock()
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				defer func() {
					h.open.Add(-1)
					h.mu.Lock()
					delete(h.conns, c)
					h.mu.Unlock()
					c.Close()
				}()
				serve(h, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		h.mu.Lock()
		for c := range h.conns {
			c.Close()
		}
		h.mu.Unlock()
		h.wg.Wait()
	})
	return h
}

// RedirectOptions shapes StartRedirectLoop.
type RedirectOptions struct {
	// Ask answers -ASK instead of -MOVED.
	Ask bool
	// Handshake answers the connection handshake like a one-node cluster that owns every
	// slot (HELLO, AUTH, CLIENT SETNAME, PING, READONLY, CLUSTER SLOTS) and redirects every
	// other command, so the validator gets past its pre-checks into traffic; false redirects
	// the handshake too.
	Handshake bool
	// Every redirects only every Every-th data command (the rest get a reply: +OK, :1 or a
	// nil): a server that bounces some commands to itself; 0 or 1 redirects all.
	Every int
}

// StartRedirectLoop starts a server that answers commands with a redirect (-MOVED or -ASK)
// to its own address: a client that follows redirects loops on it.
func StartRedirectLoop(t testing.TB, o RedirectOptions) *Hostile {
	t.Helper()
	return startHostile(t, func(h *Hostile, c net.Conn) {
		host, port, _ := net.SplitHostPort(h.Addr)
		kind := "MOVED"
		if o.Ask {
			kind = "ASK"
		}
		r := bufio.NewReaderSize(c, 4096)
		w := bufio.NewWriter(c)
		for {
			args, err := readCommand(r)
			if err != nil {
				return
			}
			n := h.commands.Add(1)
			if reply, ok := handshakeReply(o.Handshake, args, host, port); ok {
				w.WriteString(reply)
			} else if o.Every > 1 && n%int64(o.Every) != 0 {
				w.WriteString(plainReply(args))
			} else {
				// The slot in the reply does not matter: a client redirects by the command's own.
				fmt.Fprintf(w, "-%s 0 %s\r\n", kind, h.Addr)
			}
			if r.Buffered() == 0 {
				if w.Flush() != nil {
					return
				}
			}
		}
	})
}

// handshakeReply answers what a client sends to connect, when on.
func handshakeReply(on bool, args []string, host, port string) (string, bool) {
	if !on || len(args) == 0 {
		return "", false
	}
	switch strings.ToUpper(args[0]) {
	case "HELLO":
		// Version 7.2: valkey-go then discovers the topology with CLUSTER SLOTS (8 and later:
		// CLUSTER SHARDS), the shorter reply to fake.
		return "%5\r\n+server\r\n+valkey\r\n+version\r\n+7.2.4\r\n+proto\r\n:3\r\n+mode\r\n+cluster\r\n+role\r\n+master\r\n", true
	case "AUTH", "READONLY", "SELECT":
		return "+OK\r\n", true
	case "PING":
		return "+PONG\r\n", true
	case "CLIENT":
		if len(args) > 1 && strings.EqualFold(args[1], "SETNAME") {
			return "+OK\r\n", true
		}
	case "CLUSTER":
		if len(args) > 1 && strings.EqualFold(args[1], "SLOTS") {
			return fmt.Sprintf("*1\r\n*3\r\n:0\r\n:16383\r\n*3\r\n$%d\r\n%s\r\n:%s\r\n$40\r\n%040d\r\n", len(host), host, port, 0), true
		}
		return "-ERR unknown subcommand\r\n", true
	}
	return "", false
}

// plainReply is a plausible reply to a data command the bouncing server lets through.
func plainReply(args []string) string {
	switch strings.ToUpper(args[0]) {
	case "SET":
		return "+OK\r\n"
	case "GET":
		return "$-1\r\n"
	default:
		return ":1\r\n"
	}
}

// readCommand reads one RESP array of bulk strings (what clients send).
func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := readLine(r)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(line, "*") {
		return strings.Fields(line), nil // inline command (PING\r\n)
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 || n > 1024 {
		return nil, errors.New("bad array")
	}
	args := make([]string, 0, n)
	for range n {
		l, err := readLine(r)
		if err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimPrefix(l, "$"))
		if err != nil || size < 0 || size > hostileMaxLine {
			return nil, errors.New("bad bulk")
		}
		b := make([]byte, size+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		args = append(args, string(b[:size]))
	}
	return args, nil
}

func readLine(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		chunk, err := r.ReadSlice('\n')
		b.Write(chunk)
		if b.Len() > hostileMaxLine {
			return "", errors.New("line too long")
		}
		if err == nil {
			return strings.TrimRight(b.String(), "\r\n"), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
	}
}

// StartGarbage starts a server that answers whatever it reads (a TLS ClientHello, a PING, a
// HELLO) with reply, then keeps the connection open reading and answering reply again for
// every further read. reply is any bytes: not RESP, not TLS, or a RESP header that lies
// about its length.
func StartGarbage(t testing.TB, reply []byte) *Hostile {
	t.Helper()
	return startHostile(t, func(h *Hostile, c net.Conn) {
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
			if _, err := c.Write(reply); err != nil {
				return
			}
		}
	})
}

// StartHandshakeThenGarbage answers the handshake like StartRedirectLoop with Handshake, and
// every other command with reply: a server that connects fine and then answers garbage.
func StartHandshakeThenGarbage(t testing.TB, reply []byte) *Hostile {
	t.Helper()
	return startHandshakeThen(t, reply)
}

// StartClosing starts a server that closes every connection as soon as it reads something,
// without a byte in reply.
func StartClosing(t testing.TB) *Hostile {
	t.Helper()
	return startHostile(t, func(h *Hostile, c net.Conn) {
		buf := make([]byte, 4096)
		_, _ = c.Read(buf)
	})
}

// StartSilent starts a server that accepts connections, reads what it is sent and never
// answers: a hung process behind an open port.
func StartSilent(t testing.TB) *Hostile {
	t.Helper()
	return startHostile(t, func(h *Hostile, c net.Conn) {
		_, _ = io.Copy(io.Discard, c)
	})
}

// StartHandshakeThenSilent answers the handshake like StartRedirectLoop with Handshake (HELLO
// with AUTH, CLIENT SETNAME, PING, CLUSTER SLOTS) and then never answers another command,
// though it keeps reading: a server that stopped answering after a good handshake (hung,
// paused, overloaded), where TCP, TLS and AUTH prove the network path open.
func StartHandshakeThenSilent(t testing.TB) *Hostile {
	t.Helper()
	return startHandshakeThen(t, nil)
}

// startHandshakeThen answers the handshake (handshakeReply with the cluster commands) and
// every other command with reply: nothing when reply is empty. It reads every command.
func startHandshakeThen(t testing.TB, reply []byte) *Hostile {
	t.Helper()
	return startHostile(t, func(h *Hostile, c net.Conn) {
		host, port, _ := net.SplitHostPort(h.Addr)
		r := bufio.NewReaderSize(c, 4096)
		for {
			args, err := readCommand(r)
			if err != nil {
				return
			}
			h.commands.Add(1)
			out := reply
			if s, ok := handshakeReply(true, args, host, port); ok {
				out = []byte(s)
			}
			if len(out) == 0 {
				continue
			}
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	})
}
