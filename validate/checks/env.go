package checks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/target"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

const (
	// KeyTTL is the TTL of every key the run writes: keys expire even if cleanup cannot run.
	KeyTTL = 10 * time.Minute
	// KeyNamespace starts every key the validator writes (valkeyclient.KeyNamespace).
	KeyNamespace = valkeyclient.KeyNamespace
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
	// every loop of the primary verdict (see valkeyclient.Roles).
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

// ClientOption returns the valkey-go options for addr (valkeyclient.Options): every choice is
// explicit and recorded (ClientOptionsEvidence).
func (e *Env) ClientOption(addr string) valkey.ClientOption {
	return valkeyclient.Options(e.Target, e.ClientName(), addr)
}

// ClientOptionsEvidence describes the client options for the evidence, without secrets.
func (e *Env) ClientOptionsEvidence() map[string]any {
	m := valkeyclient.OptionsEvidence(e.Target, e.ClientName())
	m["keyTTL"] = KeyTTL.String()
	return m
}

// NewClient connects to addr, bounded by ctx even though valkey.NewClient takes no context:
// a client that arrives after ctx ended is closed.
func (e *Env) NewClient(ctx context.Context, addr string) (valkey.Client, error) {
	return valkeyclient.NewClientWith(ctx, e.ClientOption(addr))
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

func failProblem(p valkeyclient.Problem, ev map[string]any) report.Result {
	return report.Result{Status: report.Fail, Detail: p.Msg, ErrorClass: p.Class, Fix: p.Fix, Evidence: ev}
}

func failErr(err error, what string, ev map[string]any) report.Result {
	return failProblem(valkeyclient.Classify(err, what), ev)
}

// failCmd is failErr for a command on a connection whose handshake succeeded (the checks
// after ping, which proved every primary answers after TLS and AUTH): a timeout is then the
// server's silence, not the network's (valkeyclient.AfterHandshake).
func failCmd(err error, what string, ev map[string]any) report.Result {
	return failProblem(valkeyclient.AfterHandshake(valkeyclient.Classify(err, what)), ev)
}

// errStr is a short error text for evidence.
func errStr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

var errMismatch = errors.New("value mismatch")

// pttlNoKey is PTTL's reply for a key that does not exist (-1: it exists without a TTL).
const pttlNoKey = -2

// primaries returns the primary nodes of e's client, asking once per client.
func (e *Env) primaries(ctx context.Context) []string {
	if e.roleClient != e.Client || e.primaryNodes == nil {
		e.primaryNodes, e.ReadOnlyNodes = valkeyclient.Roles(ctx, e.Client, e.Target.ReaderPort)
		e.roleClient = e.Client
	}
	return e.primaryNodes
}
