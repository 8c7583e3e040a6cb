package bench

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
	"github.com/valkey-dr/valkey-dr/validate/checks"
	"github.com/valkey-dr/valkey-dr/validate/watch"
)

// rawFloor is the Go floor of the profile harness (variant "raw"): conc goroutines, each with a
// TLS connection of its own to the first master, writing one command and reading its reply on
// the same goroutine (no client library, no hand-off between goroutines), the session mix's
// command counts (SET NX PX / GET / PEXPIRE / DEL, 1/6/2/1), one key per worker. What is left
// between it and valkey-benchmark is Go's runtime (netpoll, scheduler) and crypto/tls, not
// valkey-go. deadline: a 1 s deadline set on the connection before every command, as a client
// that bounds each command does (valkey-go's per-command path sets one).
func rawFloor(t *testing.T, c *valkeytest.Cluster, conc int, dur time.Duration, deadline bool, spin time.Duration) (ops float64, p50, p99 time.Duration) {
	t.Helper()
	n0 := c.Nodes[0]
	prefix := fmt.Sprintf("valkey-dr:bench:{raw}:%s:", checks.NewRunID())
	value := string(make([]byte, 256))
	hists := make([]watch.Hist, conc)
	counts := make([]int, conc)
	end := time.Now().Add(dur)
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	for w := range conc {
		tcp, err := net.Dial("tcp", n0.Addr)
		if err != nil {
			t.Fatal(err)
		}
		var nc net.Conn = tcp
		if spin > 0 {
			if nc, err = pollWrap(tcp, spin); err != nil {
				t.Fatal(err)
			}
		}
		conn := tls.Client(nc, c.CA.TLSConfig("localhost"))
		defer conn.Close()
		rd, wr := bufio.NewReader(conn), bufio.NewWriter(conn)
		do := func(args ...string) error {
			if deadline { // as a client bounding every command (valkey-go's syncDo does)
				conn.SetDeadline(time.Now().Add(time.Second))
			}
			fmt.Fprintf(wr, "*%d\r\n", len(args))
			for _, a := range args {
				fmt.Fprintf(wr, "$%d\r\n%s\r\n", len(a), a)
			}
			if err := wr.Flush(); err != nil {
				return err
			}
			return skipReply(rd)
		}
		if err := do("AUTH", valkeytest.AppUser, valkeytest.AppPassword); err != nil {
			t.Fatal(err)
		}
		key := prefix + strconv.Itoa(w)
		mix := sessionCommands(key, value)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if i%64 == 0 && time.Now().After(end) {
					return
				}
				t0 := time.Now()
				if err := do(mix[i%len(mix)]...); err != nil {
					errs <- err
					return
				}
				hists[w].Record(time.Since(t0))
				counts[w]++
			}
		}()
	}
	start := time.Now()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var all watch.Hist
	n := 0
	for w := range conc {
		all.Merge(&hists[w])
		n += counts[w]
	}
	return float64(n) / time.Since(start).Seconds(), all.Quantile(0.5), all.Quantile(0.99)
}

// sessionCommands is one session's lifecycle on key, in watch's order and counts (1 create,
// 6 reads, 2 refreshes, 1 delete): the library-free clients' command mix.
func sessionCommands(key, value string) [][]string {
	return [][]string{{"SET", key, value, "NX", "PX", "600000"}, {"GET", key}, {"GET", key}, {"GET", key},
		{"PEXPIRE", key, "600000"}, {"GET", key}, {"GET", key}, {"GET", key}, {"PEXPIRE", key, "600000"}, {"DEL", key}}
}

// skipReply reads one RESP2 reply; an error reply is returned as an error.
func skipReply(rd *bufio.Reader) error {
	line, err := rd.ReadSlice('\n')
	if err != nil {
		return err
	}
	if len(line) < 3 {
		return fmt.Errorf("short reply %q", line)
	}
	switch line[0] {
	case '+', ':':
		return nil
	case '-':
		return fmt.Errorf("%s", line[1:len(line)-2])
	case '$':
		n, err := strconv.Atoi(string(line[1 : len(line)-2]))
		if err != nil || n < 0 {
			return err
		}
		_, err = rd.Discard(n + 2)
		return err
	case '*':
		n, err := strconv.Atoi(string(line[1 : len(line)-2]))
		if err != nil {
			return err
		}
		for range n {
			if err := skipReply(rd); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unexpected reply %q", line)
}
