package checks

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// Session TTLs: created with SessionTTL, refreshed to KeyTTL (as an app's sliding expiry would).
const (
	SessionTTL = 5 * time.Minute
	// sessionWorkers bounds concurrent session creations (each holds one dedicated connection).
	sessionWorkers = 8
)

// checkSessions is the synthetic login: create N session hashes with a TTL, each under its own
// hash tag so they spread over slots (and shards), read them back, refresh their TTL, delete
// them and prove they are gone.
func checkSessions(ctx context.Context, e *Env) report.Result {
	c := e.Client
	n := e.Target.Sessions
	keys := make([]string, n)
	slots := map[uint16]bool{}
	fields := make([]map[string]string, n)
	for i := range n {
		keys[i] = e.key(strconv.Itoa(i), "session")
		slots[valkeyclient.Slot(keys[i])] = true
		fields[i] = map[string]string{
			"user": fmt.Sprintf("synthetic-user-%d", i), "token": randomHex(16), "run": e.RunID,
			"createdAt": time.Now().UTC().Format(time.RFC3339Nano),
		}
	}
	ev := map[string]any{"sessions": n, "distinctSlots": len(slots), "keyExample": keys[0]}
	phases := map[string]float64{}
	ev["phaseMs"] = phases
	attempts := 0
	phase := func(name string, fn func(ctx context.Context) error) error {
		start := time.Now()
		a, err := valkeyclient.Retry(ctx, fn)
		attempts += a
		phases[name] = report.Ms(time.Since(start))
		return err
	}
	fail := func(err error, what string) report.Result {
		r := setFail(err, what, ev)
		r.Attempts = attempts
		return r
	}

	// 1. create (never touching a key that exists)
	start := time.Now()
	errs := make([]error, n)
	var createAttempts atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, sessionWorkers)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			a, err := valkeyclient.Retry(ctx, func(ctx context.Context) error { return createSession(ctx, e, keys[i], fields[i]) })
			createAttempts.Add(int64(a))
			errs[i] = err
		}()
	}
	wg.Wait()
	attempts += int(createAttempts.Load())
	phases["create"] = report.Ms(time.Since(start))
	for i, err := range errs {
		if err != nil {
			return fail(err, "create session "+keys[i])
		}
	}

	// 2. read back
	if err := phase("read", func(ctx context.Context) error {
		cmds := make(valkey.Commands, 0, 2*n)
		for _, k := range keys {
			cmds = append(cmds, c.B().Hgetall().Key(k).Build(), c.B().Pttl().Key(k).Build())
		}
		res := c.DoMulti(ctx, cmds...)
		for i, k := range keys {
			got, err := res[2*i].AsStrMap()
			if err != nil {
				return err
			}
			if len(got) == 0 {
				return e.goneErr(ctx, k) // evicted or deleted, not a "different value"
			}
			for f, v := range fields[i] {
				if got[f] != v {
					return fmt.Errorf("session %s: field %q read back %q, want %q: %w", k, f, got[f], v, errMismatch)
				}
			}
			ttl, err := res[2*i+1].AsInt64()
			if err != nil {
				return err
			}
			if ttl == pttlNoKey {
				// Gone between HGETALL and PTTL: at the memory limit the server evicts before
				// any command, reads included (seen in the eviction test). Not a mismatch.
				return e.goneErr(ctx, k)
			}
			if ttl <= 0 || ttl > SessionTTL.Milliseconds() {
				return fmt.Errorf("session %s: PTTL %d ms, want 1..%d: %w", k, ttl, SessionTTL.Milliseconds(), errMismatch)
			}
		}
		return nil
	}); err != nil {
		return fail(err, "read sessions back")
	}

	// 3. refresh: touch lastSeen and extend the TTL, as a sliding-expiry session store does
	if err := phase("refresh", func(ctx context.Context) error {
		cmds := make(valkey.Commands, 0, 3*n)
		now := time.Now().UTC().Format(time.RFC3339Nano)
		for _, k := range keys {
			cmds = append(cmds, c.B().Hset().Key(k).FieldValue().FieldValue("lastSeen", now).Build(),
				c.B().Pexpire().Key(k).Milliseconds(KeyTTL.Milliseconds()).Build(),
				c.B().Pttl().Key(k).Build())
		}
		res := c.DoMulti(ctx, cmds...)
		for i, k := range keys {
			for j := range 2 {
				if err := res[3*i+j].Error(); err != nil {
					return err
				}
			}
			ttl, err := res[3*i+2].AsInt64()
			if err != nil {
				return err
			}
			if ttl == pttlNoKey {
				return e.goneErr(ctx, k) // evicted between PEXPIRE and PTTL
			}
			if ttl <= SessionTTL.Milliseconds() {
				return fmt.Errorf("session %s: PTTL %d ms after refresh, want > %d: %w", k, ttl, SessionTTL.Milliseconds(), errMismatch)
			}
		}
		return nil
	}); err != nil {
		return fail(err, "refresh session TTLs")
	}

	// 4. delete (own keys only) and 5. verify gone
	if err := phase("delete", func(ctx context.Context) error {
		_, err := valkeyclient.DeleteKeysEach(ctx, c, keys, e.deleted)
		return err
	}); err != nil {
		return fail(err, "delete sessions")
	}
	if err := phase("verify-gone", func(ctx context.Context) error {
		cmds := make(valkey.Commands, 0, n)
		for _, k := range keys {
			cmds = append(cmds, c.B().Exists().Key(k).Build())
		}
		for i, r := range c.DoMulti(ctx, cmds...) {
			v, err := r.AsInt64()
			if err != nil {
				return err
			}
			if v != 0 {
				return fmt.Errorf("session %s still exists after DEL: %w", keys[i], errMismatch)
			}
		}
		return nil
	}); err != nil {
		return fail(err, "verify sessions are gone")
	}
	r := pass(fmt.Sprintf("%d sessions over %d slots: created (TTL %v), read back, refreshed (TTL %v), deleted, gone",
		n, len(slots), SessionTTL, KeyTTL), ev)
	r.Attempts = attempts
	return r
}

// createSession creates the hash only if the key does not exist: WATCH, EXISTS, then
// MULTI/HSET/PEXPIRE/EXEC. EXEC aborts if anyone touched the key in between, so the validator
// never writes into a key it did not create.
func createSession(ctx context.Context, e *Env, key string, fields map[string]string) error {
	return e.Client.Dedicated(func(c valkey.DedicatedClient) error {
		if err := c.Do(ctx, c.B().Watch().Key(key).Build()).Error(); err != nil {
			return err
		}
		n, err := c.Do(ctx, c.B().Exists().Key(key).Build()).AsInt64()
		if err != nil {
			return err
		}
		if n != 0 {
			_ = c.Do(ctx, c.B().Unwatch().Build()).Error()
			if isOurSession(ctx, c, key, fields) {
				e.created(key)
				return nil // an earlier, ambiguous attempt created it
			}
			return errKeyExists
		}
		if e.BeforeExec != nil {
			e.BeforeExec(key)
		}
		fv := c.B().Hset().Key(key).FieldValue()
		for f, v := range fields {
			fv = fv.FieldValue(f, v)
		}
		res := c.DoMulti(ctx, c.B().Multi().Build(), fv.Build(),
			c.B().Pexpire().Key(key).Milliseconds(SessionTTL.Milliseconds()).Build(), c.B().Exec().Build())
		for _, r := range res[:3] {
			if err := r.Error(); err != nil {
				return err
			}
		}
		if err := res[3].Error(); err != nil {
			if valkey.IsValkeyNil(err) {
				// EXEC aborted. Either someone created the key under WATCH (it exists now:
				// never touch it), or the service aborted it while "unsure" (ElastiCache
				// Serverless during a slot migration, ServerlessWatch.html): retry that.
				n, err := c.Do(ctx, c.B().Exists().Key(key).Build()).AsInt64()
				switch {
				case err != nil:
					return err
				case n != 0:
					e.foreignKey(key)
					return errKeyExists
				}
				return valkeyclient.ErrExecAborted
			}
			return err
		}
		// EXEC's reply holds each command's reply; a failed HSET inside it (OOM) shows here.
		arr, err := res[3].ToArray()
		if err != nil {
			return err
		}
		for _, m := range arr {
			if err := m.Error(); err != nil {
				return err
			}
		}
		e.created(key)
		return nil
	})
}

func isOurSession(ctx context.Context, c valkey.DedicatedClient, key string, fields map[string]string) bool {
	got, err := c.Do(ctx, c.B().Hget().Key(key).Field("token").Build()).ToString()
	return err == nil && got == fields["token"]
}
