//go:build linux

package bench

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
	"github.com/valkey-dr/valkey-dr/validate/checks"
	"github.com/valkey-dr/valkey-dr/validate/watch"
)

// loopFloor is the profile harness's variant "loop": valkey-benchmark's design in Go. One
// goroutine on a locked OS thread owns conc TLS connections and waits on an epoll set of its
// own (level-triggered, outside Go's netpoller): for every connection epoll says is readable it
// reads, decrypts, and when a whole reply is in, records the latency and writes that
// connection's next command. No goroutine parks or wakes per command, which is what separates
// it from rawFloor (same commands, same keys, same TLS): the question it answers is whether
// Go's goroutine-per-connection model, rather than Go, is what watch's figures are bounded by.
func loopFloor(t *testing.T, c *valkeytest.Cluster, conc int, dur time.Duration, rawWait bool) (ops float64, p50, p99 time.Duration) {
	t.Helper()
	n0 := c.Nodes[0]
	prefix := fmt.Sprintf("valkey-dr:bench:{loop}:%s:", checks.NewRunID())
	value := string(make([]byte, 256))
	conns := make([]*loopConn, conc)
	for w := range conc {
		lc, err := dialLoop(n0.Addr, c.CA.TLSConfig("localhost"))
		if err != nil {
			t.Fatal(err)
		}
		defer lc.Close()
		for _, args := range sessionCommands(prefix+strconv.Itoa(w), value) {
			lc.mix = append(lc.mix, respCommand(args...))
		}
		conns[w] = lc
	}
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(ep)
	byFD := map[int32]*loopConn{}
	for _, lc := range conns {
		if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, lc.fd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(lc.fd)}); err != nil {
			t.Fatal(err)
		}
		byFD[int32(lc.fd)] = lc
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var hist watch.Hist
	n := 0
	start := time.Now()
	end := start.Add(dur)
	for _, lc := range conns {
		if err := lc.send(); err != nil {
			t.Fatal(err)
		}
	}
	events := make([]syscall.EpollEvent, conc)
	plain := make([]byte, 64<<10)
	raw := make([]byte, 64<<10)
	inFlight := conc
	for inFlight > 0 {
		k, err := epollWait(ep, events, rawWait)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		stop := now.After(end)
		for _, ev := range events[:k] {
			lc := byFD[ev.Fd]
			done, err := lc.receive(raw, plain)
			if err != nil {
				t.Fatal(err)
			}
			if !done {
				continue
			}
			hist.Record(now.Sub(lc.sent))
			n++
			if stop {
				inFlight--
				syscall.EpollCtl(ep, syscall.EPOLL_CTL_DEL, lc.fd, nil)
				continue
			}
			if err := lc.send(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return float64(n) / time.Since(start).Seconds(), hist.Quantile(0.5), hist.Quantile(0.99)
}

// epollWait waits up to a second. rawWait: without telling Go's scheduler (RawSyscall): the
// thread keeps its P while it sleeps, so waking costs no P hand-off (exitsyscall's slow path), as
// a C event loop's wake costs none; the loop goroutine is the harness's only busy one.
func epollWait(ep int, events []syscall.EpollEvent, rawWait bool) (int, error) {
	if !rawWait {
		return syscall.EpollWait(ep, events, 1000)
	}
	n, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_WAIT, uintptr(ep), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 1000, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// errWouldBlock is what loopConn's Read returns when no ciphertext is buffered: a temporary
// net.Error, which crypto/tls passes up without failing the connection (the partial record
// stays in its input buffer for the next Read).
var errWouldBlock error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "would block" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// loopConn is the transport under a tls.Conn: blocking through the TCP connection for the
// handshake and AUTH, then memory buffers the event loop fills from and drains to the socket.
type loopConn struct {
	net.Conn // the TCP connection (addresses, deadlines, Close)
	tls      *tls.Conn
	fd       int
	loop     bool
	in, out  bytes.Buffer
	reply    []byte
	mix      [][]byte
	next     int
	sent     time.Time
}

func (l *loopConn) Read(p []byte) (int, error) {
	if !l.loop {
		return l.Conn.Read(p)
	}
	if l.in.Len() == 0 {
		return 0, errWouldBlock
	}
	return l.in.Read(p)
}

func (l *loopConn) Write(p []byte) (int, error) {
	if !l.loop {
		return l.Conn.Write(p)
	}
	return l.out.Write(p)
}

func dialLoop(addr string, cfg *tls.Config) (*loopConn, error) {
	tcp, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &loopConn{Conn: tcp}
	l.tls = tls.Client(l, cfg)
	if _, err := l.tls.Write(respCommand("AUTH", valkeytest.AppUser, valkeytest.AppPassword)); err != nil {
		return nil, err
	}
	buf := make([]byte, 512)
	var got []byte
	for {
		n, err := l.tls.Read(buf)
		if err != nil {
			return nil, err
		}
		got = append(got, buf[:n]...)
		if m, ok := replyLen(got); ok {
			if got[0] == '-' || m != len(got) {
				return nil, fmt.Errorf("AUTH: %q", got)
			}
			break
		}
	}
	sc, err := tcp.(*net.TCPConn).SyscallConn()
	if err != nil {
		return nil, err
	}
	// The socket is already non-blocking (Go's); from here only the event loop touches it.
	if err := sc.Control(func(fd uintptr) { l.fd = int(fd) }); err != nil {
		return nil, err
	}
	l.loop = true
	return l, nil
}

// send encrypts the connection's next command and writes it to the socket.
func (l *loopConn) send() error {
	if _, err := l.tls.Write(l.mix[l.next%len(l.mix)]); err != nil {
		return err
	}
	l.next++
	l.sent = time.Now()
	for l.out.Len() > 0 {
		n, err := syscall.Write(l.fd, l.out.Bytes())
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
			continue // a full send buffer with one command in flight: not seen; spin past it
		}
		if err != nil {
			return err
		}
		l.out.Next(n)
	}
	return nil
}

// receive reads what the socket holds and reports whether a whole reply is in (and consumed).
func (l *loopConn) receive(raw, plain []byte) (bool, error) {
	n, err := syscall.Read(l.fd, raw)
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if n == 0 {
		return false, errors.New("connection closed by the server")
	}
	l.in.Write(raw[:n])
	for {
		m, err := l.tls.Read(plain)
		if m > 0 {
			l.reply = append(l.reply, plain[:m]...)
		}
		if errors.Is(err, errWouldBlock) {
			break
		}
		if err != nil {
			return false, err
		}
	}
	size, ok := replyLen(l.reply)
	if !ok {
		return false, nil
	}
	if l.reply[0] == '-' {
		return false, fmt.Errorf("error reply %q", l.reply[:size])
	}
	if size != len(l.reply) {
		return false, fmt.Errorf("%d bytes after a reply with one command in flight", len(l.reply)-size)
	}
	l.reply = l.reply[:0]
	return true, nil
}

// respCommand is args as a RESP array of bulk strings.
func respCommand(args ...string) []byte {
	b := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b
}

// replyLen is the length of the RESP2 reply at the start of b, and whether it is all there.
func replyLen(b []byte) (int, bool) {
	i := bytes.Index(b, []byte("\r\n"))
	if i < 1 {
		return 0, false
	}
	switch b[0] {
	case '+', '-', ':':
		return i + 2, true
	case '$':
		n, err := strconv.Atoi(string(b[1:i]))
		if err != nil || n < 0 {
			return i + 2, true
		}
		total := i + 2 + n + 2
		return total, len(b) >= total
	case '*':
		n, err := strconv.Atoi(string(b[1:i]))
		if err != nil || n < 0 {
			return i + 2, true
		}
		off := i + 2
		for range n {
			m, ok := replyLen(b[off:])
			if !ok {
				return 0, false
			}
			off += m
		}
		return off, true
	}
	return len(b), true
}

// TestReplyLen: the loop's reply framing, on whole and cut replies of each kind it reads.
func TestReplyLen(t *testing.T) {
	for _, tc := range []struct {
		in    string
		n     int
		whole bool
	}{
		{"+OK\r\n", 5, true},
		{"+OK\r", 0, false},
		{":1\r\n", 4, true},
		{"-NOPERM no\r\n", 12, true},
		{"$-1\r\n", 5, true},
		{"$3\r\nabc\r\n", 9, true},
		{"$3\r\nab", 9, false},
		{"*2\r\n$1\r\na\r\n:2\r\n", 15, true},
		{"*2\r\n$1\r\na\r\n", 0, false},
	} {
		if n, whole := replyLen([]byte(tc.in)); whole != tc.whole || (whole && n != tc.n) {
			t.Errorf("replyLen(%q) = %d, %v; want %d, %v", tc.in, n, whole, tc.n, tc.whole)
		}
	}
}
