package checks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/target"
)

// Client timeouts. They are explicit (valkey-go's defaults are 5 s dial and 10 s write) so a
// paused node turns into a timeout verdict inside the check deadline, not a hang.
const (
	// DialTimeout bounds TCP connect plus TLS handshake of one connection.
	DialTimeout = 3 * time.Second
	// ConnWriteTimeout bounds waiting for a reply on one connection.
	ConnWriteTimeout = 3 * time.Second
	// KeyTTL is the TTL of every key the run writes: keys expire even if cleanup cannot run.
	KeyTTL = 10 * time.Minute
	// KeyNamespace starts every key the validator writes.
	KeyNamespace = "valkey-dr:validate:"
)

// Resolver is the DNS seam (net.Resolver satisfies it); tests may fake DNS, never Valkey.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
	LookupCNAME(ctx context.Context, host string) (string, error)
}

var _ Resolver = (*net.Resolver)(nil)

// Env is what the checks share: the target, the run id, and the state earlier checks leave
// for later ones (the client, HELLO info, the keys written).
type Env struct {
	// Target is where and how to connect.
	Target *target.Target
	// Version is the tool version, sent in CLIENT SETNAME.
	Version string
	// RunID is random per run; every key contains it.
	RunID string
	// Resolver resolves names; nil means net.DefaultResolver.
	Resolver Resolver

	// Addresses are the endpoint's resolved addresses (dns check).
	Addresses []string
	// Client is the validator's client (auth check); nil before.
	Client valkey.Client
	// Server is what HELLO reported (auth check).
	Server report.Server
	// ServerCluster is true when the server runs in cluster mode; ServerModeKnown says
	// whether the validator could tell.
	ServerCluster, ServerModeKnown bool
	// SetGetKey and SetGetValue are written by set-get and read by reader; SetGetAt is when.
	SetGetKey, SetGetValue string
	SetGetAt               time.Time
	// ReadOnlyNodes are the client's nodes that are replicas (the read port): skipped by
	// every loop of the primary verdict (see Roles).
	ReadOnlyNodes []string
	// Evictions is evicted_keys per node before the run (auth check), for the cleanup
	// check's delta.
	Evictions map[string]int64
	// BeforeExec, when set, runs between WATCH and EXEC of each session creation: tests use
	// it to touch the watched key from another connection and so abort the EXEC.
	BeforeExec func(key string)

	primaryNodes []string
	roleClient   valkey.Client

	mu      sync.Mutex
	keys    map[string]bool // keys this run created (SET NX / proven absent), true while they may exist
	foreign map[string]bool // keys under the run prefix found to exist before the run wrote them
}

// foreignKey records that key existed when the run wanted to create it: cleanup never deletes
// it, even though its name is under the run prefix.
func (e *Env) foreignKey(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.foreign == nil {
		e.foreign = map[string]bool{}
	}
	e.foreign[key] = true
}

// notForeign drops the keys recorded by foreignKey from keys.
func (e *Env) notForeign(keys []string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, k := range keys {
		if !e.foreign[k] {
			out = append(out, k)
		}
	}
	return out
}

// NewRunID returns 16 random hex digits.
func NewRunID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Prefix is the common start of every key of this run; no glob metacharacters in it.
func (e *Env) Prefix() string { return KeyNamespace + "{" + e.RunID }

// Key returns a key of this run: with tag "" it shares the run's hash tag {<runid>}; otherwise
// it gets its own, {<runid>-<tag>}, which spreads keys over slots (and shards).
func (e *Env) Key(tag, name string) string { return e.key(tag, name) }

// key returns a key of this run with its own hash tag: {<runid>-<tag>} spreads keys over slots.
func (e *Env) key(tag, name string) string {
	if tag == "" {
		return e.Prefix() + "}:" + name
	}
	return e.Prefix() + "-" + tag + "}:" + name
}

// created records that this run created key (so cleanup may delete it).
func (e *Env) created(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.keys == nil {
		e.keys = map[string]bool{}
	}
	e.keys[key] = true
}

// deleted records that key is gone.
func (e *Env) deleted(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.keys != nil {
		e.keys[key] = false
	}
}

// ownKeys returns the keys this run created that may still exist, sorted.
func (e *Env) ownKeys() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ks []string
	for k, live := range e.keys {
		if live {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// createdCount returns how many keys this run created in total.
func (e *Env) createdCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.keys)
}

func (e *Env) resolver() Resolver {
	if e.Resolver != nil {
		return e.Resolver
	}
	return net.DefaultResolver
}

// ClientName is sent with CLIENT SETNAME so the validator's connections are recognisable.
func (e *Env) ClientName() string { return "valkey-dr-validate/" + e.Version }

// ClientOption returns the valkey-go options for addr. Every choice is explicit and recorded
// (ClientOptionsEvidence): no client-side cache, no hidden retries, bounded timeouts.
func (e *Env) ClientOption(addr string) valkey.ClientOption {
	o := valkey.ClientOption{
		InitAddress: []string{addr},
		ClientName:  e.ClientName(),
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
	if e.Target.TLS != nil {
		o.TLSConfig = e.Target.TLS.Clone()
	}
	switch a := e.Target.Auth; a.Mode {
	case target.AuthPassword:
		o.Username, o.Password = a.User, a.Password.Reveal()
	case target.AuthIAM:
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
func (e *Env) ClientOptionsEvidence() map[string]any {
	m := map[string]any{
		"library":          "github.com/valkey-io/valkey-go v1.0.79",
		"clientName":       e.ClientName(),
		"disableCache":     true,
		"disableRetry":     true,
		"connsPerNode":     1,
		"dialTimeout":      DialTimeout.String(),
		"connWriteTimeout": ConnWriteTimeout.String(),
		"clientSetInfo":    "disabled (refused on ElastiCache Serverless)",
		"keyTTL":           KeyTTL.String(),
	}
	if e.Target.TLS != nil {
		m["tls"] = map[string]any{"serverName": e.Target.TLS.ServerName, "minVersion": "TLS1.2", "roots": "system" + caSuffix(e.Target.CAFile)}
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

// NewClient connects to addr, bounded by ctx even though valkey.NewClient takes no context:
// a client that arrives after ctx ended is closed.
func (e *Env) NewClient(ctx context.Context, addr string) (valkey.Client, error) {
	return NewClientWith(ctx, e.ClientOption(addr))
}

// NewClientWith is NewClient with options the caller derived from ClientOption (watch and
// probe add a dial counter and more connections per node).
func NewClientWith(ctx context.Context, opt valkey.ClientOption) (valkey.Client, error) {
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
		return r.c, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, fmt.Errorf("connect to %s: %w", addr, context.DeadlineExceeded)
	}
}

// Close releases the client.
func (e *Env) Close() {
	if e.Client != nil {
		e.Client.Close()
		e.Client = nil
	}
}

// pass, warn, skip and fail build Results; the runner fills the shared fields.
func pass(detail string, ev map[string]any) report.Result {
	return report.Result{Status: report.Pass, Detail: detail, Evidence: ev}
}

func skip(detail string) report.Result { return report.Result{Status: report.Skip, Detail: detail} }

func failProblem(p Problem, ev map[string]any) report.Result {
	return report.Result{Status: report.Fail, Detail: p.Msg, ErrorClass: p.Class, Fix: p.Fix, Evidence: ev}
}

func failErr(err error, what string, ev map[string]any) report.Result {
	return failProblem(Classify(err, what), ev)
}

// errStr is a short error text for evidence.
func errStr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

var errMismatch = errors.New("value mismatch")
