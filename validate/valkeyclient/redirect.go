package valkeyclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/valkey-io/valkey-go"
)

// Redirect bounds (issue 23, must-have 3): a server that answers every command with a
// redirect to itself drove watch to 3 GB and out of memory, and probe to 800 MB. A redirect
// loop is a verdict (class redirect), reached with bounded memory and time.
const (
	// RedirectsPerCommand is how many MOVED/ASK redirects one command follows (valkey-go's
	// ClusterOption.MaxMovedRedirections; its default, 0, follows without end); the next one
	// is the command's error. A healthy cluster gives one command at most a MOVED after its
	// slot moved and an ASK while the slot migrates; ElastiCache Serverless (one virtual node
	// with every slot, docs/design.md "Serverless as clients see it") gives none.
	RedirectsPerCommand = 2
	// RedirectConnsPerNode is how many connections a client may hold open to one node beyond
	// what its layout opens (its pipelined connections). valkey-go follows a
	// redirect to the node that sent it on a NEW connection and closes the old one only 5 s
	// later (cluster.go redirectOrNew: a moved hostname may resolve elsewhere), so a server
	// that redirects every command to itself makes it open a connection, with a MiB of
	// buffers, per redirect. Past this many, the guard refuses to dial that node
	// (ErrRedirectLoop) and marks the client looped: the total number of connections, and so
	// the memory, stays bounded whatever the server does.
	RedirectConnsPerNode = 8
	// MaxRedirectedCommands is how many commands of a watch or probe may end on a redirect
	// (each after following RedirectsPerCommand) before the traffic stops with the
	// redirect-loop verdict: with RedirectsPerCommand it caps the redirects of a run in total.
	MaxRedirectedCommands = 32
)

// ErrRedirectLoop is a dial refused by the RedirectGuard: the node kept redirecting commands
// to itself until RedirectConnsPerNode extra connections were open.
var ErrRedirectLoop = errors.New("the server keeps redirecting commands to itself: a redirect loop, not a network problem")

// RedirectTarget returns the address of a MOVED or ASK error reply.
func RedirectTarget(err error) (addr string, ok bool) {
	var ve *valkey.ValkeyError
	if !errors.As(err, &ve) {
		return "", false
	}
	if addr, ok = ve.IsMoved(); ok {
		return addr, true
	}
	return ve.IsAsk()
}

// IsRedirectLoop reports whether err is a command that ended on a redirect (it followed
// RedirectsPerCommand already) or a dial the RedirectGuard refused.
func IsRedirectLoop(err error) bool {
	if errors.Is(err, ErrRedirectLoop) {
		return true
	}
	_, ok := RedirectTarget(err)
	return ok
}

// RedirectGuard counts a client's open connections per node and refuses a dial that would
// hold more than the layout's connections plus RedirectConnsPerNode open to one node.
type RedirectGuard struct {
	limit int
	mu    sync.Mutex
	open  map[string]int
	// looped is the first node the guard refused to dial ("" while none).
	looped string
}

// GuardClient bounds what a server can make the client of opt do: it caps the redirects per
// command (RedirectsPerCommand), wraps the dialer (opt.DialCtxFn, or valkey-go's default
// dial) with a RedirectGuard, and reads every reply through a respGuard (MaxReplyBytes). The
// client's layout (its pipelined connections per node) is read from opt.
func GuardClient(opt *valkey.ClientOption) *RedirectGuard {
	opt.ClusterOption.MaxMovedRedirections = RedirectsPerCommand
	wires := 1
	if opt.PipelineMultiplex > 0 {
		wires = 1 << opt.PipelineMultiplex
	}
	g := &RedirectGuard{limit: wires + RedirectConnsPerNode, open: map[string]int{}}
	inner := opt.DialCtxFn
	if inner == nil {
		inner = Dial
	}
	opt.DialCtxFn = func(ctx context.Context, dst string, dialer *net.Dialer, cfg *tls.Config) (net.Conn, error) {
		g.mu.Lock()
		if g.open[dst] >= g.limit {
			if g.looped == "" {
				g.looped = dst
			}
			g.mu.Unlock()
			return nil, fmt.Errorf("dial %s: %d connections already open to it: %w", dst, g.limit, ErrRedirectLoop)
		}
		g.open[dst]++
		g.mu.Unlock()
		conn, err := inner(ctx, dst, dialer, cfg)
		if err != nil {
			g.closed(dst)
			return nil, err
		}
		return OnClose(guardReplies(conn), func() { g.closed(dst) }), nil
	}
	return g
}

func (g *RedirectGuard) closed(dst string) {
	g.mu.Lock()
	g.open[dst]--
	g.mu.Unlock()
}

// Looped returns the node whose dial the guard refused first, and whether it refused any.
func (g *RedirectGuard) Looped() (addr string, ok bool) {
	if g == nil {
		return "", false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.looped, g.looped != ""
}

// OnClose returns conn that calls onClose once, on its first Close (a counter of open
// connections: the RedirectGuard's, watch's DialCounter).
func OnClose(conn net.Conn, onClose func()) net.Conn {
	return &closeHookConn{Conn: conn, onClose: onClose}
}

type closeHookConn struct {
	net.Conn
	once    sync.Once
	onClose func()
}

func (c *closeHookConn) Close() error {
	c.once.Do(c.onClose)
	return c.Conn.Close()
}

// Dial connects as valkey-go does by default: TCP with dialer, then TLS with cfg when set.
func Dial(ctx context.Context, dst string, dialer *net.Dialer, cfg *tls.Config) (net.Conn, error) {
	if cfg != nil {
		td := tls.Dialer{NetDialer: dialer, Config: cfg}
		return td.DialContext(ctx, "tcp", dst)
	}
	return dialer.DialContext(ctx, "tcp", dst)
}

// RedirectLoopText is the verdict's sentence for a redirect loop: what happened and that it is
// not the network (never a security-group or NACL fix). addr is where the redirects pointed;
// self says it is the node that sent them (the only node the client knows); every says no
// command succeeded; ended counts the commands that ended on a redirect.
func RedirectLoopText(addr string, self, every bool, ended int64) string {
	which := "commands"
	if every {
		which = "every command"
	}
	to := "to " + addr
	if self {
		to = "to itself"
	}
	return fmt.Sprintf("the server at %s redirects %s %s (%d ended on a redirect after following %d each): a redirect loop, not a network problem",
		addr, which, to, ended, RedirectsPerCommand)
}

// redirectFix says what to do about a redirect loop.
const redirectFix = "the endpoint answers but never serves a command: check it is the cache's endpoint (not a proxy or another cluster's node) and the cache status; re-running will not help"

// classifyRedirect is Classify's case for a redirect loop.
func classifyRedirect(err error, what string) (Problem, bool) {
	if errors.Is(err, ErrRedirectLoop) {
		return Problem{ClassRedirect, what + ": " + ErrRedirectLoop.Error(), redirectFix}, true
	}
	addr, ok := RedirectTarget(err)
	if !ok {
		return Problem{}, false
	}
	kind := strings.SplitN(err.Error(), " ", 2)[0]
	return Problem{ClassRedirect, fmt.Sprintf("%s: still redirected (%s to %s) after following %d redirects: a redirect loop, not a network problem",
		what, kind, addr, RedirectsPerCommand), redirectFix}, true
}
