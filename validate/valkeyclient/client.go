package valkeyclient

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/validate/target"
)

// Client timeouts. They are explicit (valkey-go's defaults are 5 s dial and 10 s write) so a
// paused node turns into a timeout verdict inside the check deadline, not a hang.
const (
	// DialTimeout bounds TCP connect plus TLS handshake of one connection.
	DialTimeout = 3 * time.Second
	// ConnWriteTimeout bounds waiting for a reply on one connection.
	ConnWriteTimeout = 3 * time.Second
)

// KeyNamespace starts every key the validator writes (a NOPERM fix names it).
const KeyNamespace = "valkey-dr:validate:"

// Options returns the valkey-go options for addr on tg, sent as clientName. Every choice is explicit and recorded
// (ClientOptionsEvidence): no client-side cache, no hidden retries, bounded timeouts.
func Options(tg *target.Target, clientName, addr string) valkey.ClientOption {
	o := valkey.ClientOption{
		InitAddress: []string{addr},
		ClientName:  clientName,
		// ElastiCache does not assure client tracking; the validator wants server truth.
		DisableCache: true,
		// The checks retry only healable errors, under their own deadline.
		DisableRetry: true,
		// One pipelined connection per node (valkey-go: negative = 1), so the reconnect check
		// knows which connection it drops.
		PipelineMultiplex: -1,
		Dialer:            net.Dialer{Timeout: DialTimeout, KeepAlive: time.Second},
		// CLIENT SETINFO is refused on ElastiCache Serverless (not in SupportedCommands):
		// valkey-go would tolerate the error, but the validator sends only what is supported.
		ClientSetInfo:    valkey.DisableClientSetInfo,
		ConnWriteTimeout: ConnWriteTimeout,
	}
	if tg.TLS != nil {
		o.TLSConfig = tg.TLS.Clone()
	}
	switch a := tg.Auth; a.Mode {
	case contract.AuthPassword:
		o.Username, o.Password = a.User, a.Password.Reveal()
	case contract.AuthIAM:
		user, tok := a.User, a.Token
		// A fresh token per connection: ElastiCache tokens live 15 minutes.
		o.AuthCredentialsFn = func(valkey.AuthCredentialsContext) (valkey.AuthCredentials, error) {
			t, err := tok()
			if err != nil {
				return valkey.AuthCredentials{}, err
			}
			return valkey.AuthCredentials{Username: user, Password: t}, nil
		}
	}
	return o
}

// ClientOptionsEvidence describes the client options for the evidence, without secrets.
func OptionsEvidence(tg *target.Target, clientName string) map[string]any {
	m := map[string]any{
		"library":          "github.com/valkey-io/valkey-go v1.0.79",
		"clientName":       clientName,
		"disableCache":     true,
		"disableRetry":     true,
		"connsPerNode":     1,
		"dialTimeout":      DialTimeout.String(),
		"connWriteTimeout": ConnWriteTimeout.String(),
		"clientSetInfo":    "disabled (refused on ElastiCache Serverless)",
		// Redirect bounds (GuardClient): a redirect loop is a verdict, in bounded memory.
		"redirectsPerCommand":  RedirectsPerCommand,
		"redirectConnsPerNode": RedirectConnsPerNode,
	}
	if tg.TLS != nil {
		m["tls"] = map[string]any{"serverName": tg.TLS.ServerName, "minVersion": "TLS1.2", "roots": "system" + caSuffix(tg.CAFile)}
	} else {
		m["tls"] = "DISABLED (--insecure-plaintext)"
	}
	return m
}

func caSuffix(f string) string {
	if f == "" {
		return ""
	}
	return " + " + f
}

// NewClientWith connects with opt, bounded by ctx even though valkey.NewClient takes no context:
// a client that arrives after ctx ended is closed. opt comes from Options, possibly adjusted (watch and
// probe add a dial counter and more connections per node). Its redirects are bounded
// (GuardClient).
func NewClientWith(ctx context.Context, opt valkey.ClientOption) (valkey.Client, error) {
	c, _, err := NewGuardedClient(ctx, opt)
	return c, err
}

// NewGuardedClient is NewClientWith returning the guard (GuardClient), so the caller can tell
// a redirect loop (RedirectGuard.Looped).
func NewGuardedClient(ctx context.Context, opt valkey.ClientOption) (valkey.Client, *RedirectGuard, error) {
	g := GuardClient(&opt)
	addr := strings.Join(opt.InitAddress, ",")
	type res struct {
		c   valkey.Client
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := valkey.NewClient(opt)
		ch <- res{c, err}
	}()
	select {
	case r := <-ch:
		return r.c, g, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, g, fmt.Errorf("connect to %s: %w", addr, context.DeadlineExceeded)
	}
}
