package valkeyclient

import (
	"fmt"
	"net"
	"strconv"
	"sync"
)

// Reply bounds (issue 23, must-have 3). valkey-go allocates what a reply header declares
// before reading it (make([]byte, n) for "$n", make([]ValkeyMessage, n) for "*n") and has no
// recover: a hostile server's "$-5" panics the process, "$100000000000" or nested "*100000000"
// exhaust memory, a line without end grows without bound. A respGuard reads every reply in
// front of valkey-go and breaks the connection (ErrNotRESP, class protocol) before a header
// past these bounds reaches it. No reply to the validator's commands comes near them: its
// values are at most 64 KiB (--value-size), SCAN asks 1000 keys at a time, INFO and CLUSTER
// SLOTS are a few KiB.
const (
	// MaxReplyLine bounds one line: a simple string, an error, a number, a header.
	MaxReplyLine = 64 << 10
	// MaxReplyBulk bounds one bulk string.
	MaxReplyBulk = 16 << 20
	// MaxReplyBytes bounds what one reply (all its levels) may make the client allocate:
	// its bulk strings' lengths plus replyElementCost per element its aggregates declare.
	MaxReplyBytes = 64 << 20
	// replyElementCost is what one declared element costs valkey-go before it is read (a
	// ValkeyMessage is 40 bytes on 64-bit; rounded up).
	replyElementCost = 64
)

// respGuard parses the RESP stream a connection delivers, one byte at a time as it passes
// (types, headers and lengths; payloads are skipped), and fails the read at the first byte
// that is not RESP or that declares more than the bounds.
type respGuard struct {
	net.Conn
	mu sync.Mutex
	// err is sticky: once the stream is not RESP, nothing after it is delivered.
	err error
	// typ is the type byte of the header being read (0: expecting a type byte); line holds
	// the header so far.
	typ  byte
	line []byte
	// skip is how many payload bytes (with their CRLF) are still to pass.
	skip int64
	// need is how many elements the current top-level reply still owes (0: between
	// replies); cost is what the reply declared so far.
	need, cost int64
}

func guardReplies(c net.Conn) net.Conn { return &respGuard{Conn: c} }

// Read reads from the connection and passes on what is RESP within the bounds. At a
// violation it passes the bytes before the offending header's end (valkey-go cannot act on a
// header without its newline) and returns the error.
func (g *respGuard) Read(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.Conn.Read(p)
	for i := 0; i < n; i++ {
		if verr := g.next(p[i]); verr != nil {
			g.err = fmt.Errorf("%w: %v", ErrNotRESP, verr)
			return i, g.err
		}
	}
	return n, err
}

// next advances the parser by one byte.
func (g *respGuard) next(b byte) error {
	switch {
	case g.skip > 0:
		g.skip--
		if g.skip == 0 {
			return g.done(0)
		}
		return nil
	case g.typ == 0:
		if !IsRESPStart(b) {
			return fmt.Errorf("type byte %s", strconv.QuoteToASCII(string(b)))
		}
		if g.need == 0 {
			g.need, g.cost = 1, 0 // a new top-level reply
		}
		g.typ, g.line = b, g.line[:0]
		return nil
	case b != '\n':
		if len(g.line) >= MaxReplyLine {
			return fmt.Errorf("a line longer than %d bytes", MaxReplyLine)
		}
		g.line = append(g.line, b)
		return nil
	}
	line := g.line
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	typ := g.typ
	g.typ = 0
	switch typ {
	case '$', '!', '=': // blob string, blob error, verbatim string
		n, err := g.length(line, typ == '$')
		if err != nil || n < 0 {
			return g.nullOr(err)
		}
		if n > MaxReplyBulk {
			return fmt.Errorf("a bulk string of %d bytes (at most %d)", n, MaxReplyBulk)
		}
		if err := g.charge(n); err != nil {
			return err
		}
		g.skip = n + 2
		return nil
	case '*', '%', '~', '>', '|': // array, map, set, push, attribute
		n, err := g.length(line, typ == '*')
		if err != nil || n < 0 {
			return g.nullOr(err)
		}
		if typ == '%' || typ == '|' {
			n *= 2
		}
		if n > MaxReplyBytes/replyElementCost {
			return fmt.Errorf("an aggregate of %d elements", n)
		}
		if err := g.charge(n * replyElementCost); err != nil {
			return err
		}
		if typ == '|' {
			// Attributes precede the element they describe: that element is still owed.
			g.need += n
			return nil
		}
		return g.done(n)
	}
	if typ == ':' {
		// RESP integers are signed 64-bit; valkey-go would overflow silently and read a
		// number the server never sent as a reply.
		if _, err := strconv.ParseInt(string(line), 10, 64); err != nil {
			return fmt.Errorf("integer %s", strconv.QuoteToASCII(string(line)))
		}
	}
	return g.done(0) // a simple type: the line is the value
}

// length parses a header's length; -1 is a null where allowed (nullable).
func (g *respGuard) length(line []byte, nullable bool) (int64, error) {
	n, err := strconv.ParseInt(string(line), 10, 64)
	switch {
	case err != nil:
		return 0, fmt.Errorf("length %s (streamed replies are not Valkey's)", strconv.QuoteToASCII(string(line)))
	case n == -1 && nullable:
		return -1, nil
	case n < 0:
		return 0, fmt.Errorf("a negative length %d", n)
	}
	return n, nil
}

// nullOr ends a null element, or returns err.
func (g *respGuard) nullOr(err error) error {
	if err != nil {
		return err
	}
	return g.done(0)
}

// charge adds cost to the reply's and fails past MaxReplyBytes.
func (g *respGuard) charge(cost int64) error {
	g.cost += cost
	if g.cost > MaxReplyBytes {
		return fmt.Errorf("a reply declaring more than %d bytes", MaxReplyBytes)
	}
	return nil
}

// done ends one element, which declared children more.
func (g *respGuard) done(children int64) error {
	g.need += children - 1
	return nil
}
