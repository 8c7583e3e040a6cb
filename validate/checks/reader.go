package checks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/valkey-dr/valkey-dr/validate/report"
)

var errNotYet = errors.New("value not replicated yet")

// checkReader reads the set-get key through the reader (read-from-replica) port. Replicas are
// eventually consistent, so a missing value is retried until the deadline.
func checkReader(ctx context.Context, e *Env) report.Result {
	addr := e.Target.ReaderAddr()
	if addr == "" {
		return skip("no reader port known: pass --reader-port (ElastiCache Serverless: 6380) or use --outputs")
	}
	ev := map[string]any{"address": addr}
	var rc valkey.Client
	attempts, err := retry(ctx, func(ctx context.Context) error {
		var err error
		rc, err = e.NewClient(ctx, addr)
		return err
	})
	if err != nil {
		r := failErr(err, "connect to reader "+addr, ev)
		r.Attempts = attempts
		return r
	}
	defer rc.Close()
	ev["clientMode"], ev["nodes"] = string(rc.Mode()), nodeAddrs(rc)
	if e.ServerCluster && rc.Mode() != valkey.ClientModeCluster {
		return failProblem(Problem{Class: ClassMode,
			Msg: "reader port: the client fell back to a single node (cluster mode not engaged)",
			Fix: "the user lacks +cluster|shards and +cluster|slots: add them to the access string"}, ev)
	}
	start := time.Now()
	a, err := retryNotYet(ctx, func(ctx context.Context) error {
		got, err := rc.Do(ctx, rc.B().Get().Key(e.SetGetKey).Build()).ToString()
		switch {
		case valkey.IsValkeyNil(err):
			return errNotYet
		case err != nil:
			return err
		case got != e.SetGetValue:
			return fmt.Errorf("reader returned a different value: %w", errMismatch)
		}
		return nil
	})
	attempts += a
	took := time.Since(start)
	ev["readMs"] = report.Ms(took)
	if err != nil {
		if errors.Is(err, errNotYet) {
			r := failProblem(Problem{Class: ClassData,
				Msg: fmt.Sprintf("reader %s never returned the key written through the primary port", addr)}, ev)
			r.Attempts = attempts
			return r
		}
		r := failErr(err, "GET via reader "+addr, ev)
		r.Attempts = attempts
		return r
	}
	r := pass(fmt.Sprintf("GET via %s returned the value written through the primary (%s, %d attempt(s))", addr, took.Round(time.Microsecond), a), ev)
	r.Attempts = attempts
	return r
}

// retryNotYet is retry that also retries errNotYet (replication lag).
func retryNotYet(ctx context.Context, fn func(ctx context.Context) error) (int, error) {
	attempts := 0
	for {
		a, err := retry(ctx, fn)
		attempts += a
		if !errors.Is(err, errNotYet) {
			return attempts, err
		}
		select {
		case <-ctx.Done():
			return attempts, err
		case <-time.After(20 * time.Millisecond):
		}
	}
}
