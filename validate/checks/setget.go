package checks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// errKeyExists means a key the run wanted to create already existed: the validator never
// overwrites a key it did not create, so it stops.
var errKeyExists = errors.New("key already exists")

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// checkSetGet writes one key with SET NX PX and reads it back.
func checkSetGet(ctx context.Context, e *Env) report.Result {
	c := e.Client
	key, val := e.key("", "set-get"), randomHex(16)
	ev := map[string]any{"key": key}
	var setRTT, getRTT time.Duration
	attempts, err := valkeyclient.Retry(ctx, func(ctx context.Context) error {
		start := time.Now()
		err := c.Do(ctx, c.B().Set().Key(key).Value(val).Nx().PxMilliseconds(KeyTTL.Milliseconds()).Build()).Error()
		setRTT = time.Since(start)
		if valkey.IsValkeyNil(err) {
			// NX refused: ours only if an earlier, ambiguous attempt wrote our random value.
			if got, gerr := c.Do(ctx, c.B().Get().Key(key).Build()).ToString(); gerr == nil && got == val {
				return nil
			}
			e.foreignKey(key)
			return errKeyExists
		}
		return err
	})
	if err != nil {
		r := setFail(err, "SET "+key+" NX", ev)
		r.Attempts = attempts
		return r
	}
	e.created(key)
	var got string
	a2, err := valkeyclient.Retry(ctx, func(ctx context.Context) error {
		start := time.Now()
		var err error
		got, err = c.Do(ctx, c.B().Get().Key(key).Build()).ToString()
		getRTT = time.Since(start)
		if valkey.IsValkeyNil(err) {
			return e.goneErr(ctx, key)
		}
		return err
	})
	ev["setMs"], ev["getMs"] = report.Ms(setRTT), report.Ms(getRTT)
	if err != nil {
		r := setFail(err, "GET "+key, ev)
		r.Attempts = attempts + a2
		return r
	}
	if got != val {
		return failProblem(valkeyclient.Problem{Class: valkeyclient.ClassData, Msg: fmt.Sprintf("GET %s returned a different value than SET wrote", key)}, ev)
	}
	e.SetGetKey, e.SetGetValue, e.SetGetAt = key, val, time.Now()
	r := pass(fmt.Sprintf("SET NX (TTL %v) %s, GET %s: value matches", KeyTTL, setRTT.Round(time.Microsecond), getRTT.Round(time.Microsecond)), ev)
	r.Attempts = attempts + a2
	return r
}

func setFail(err error, what string, ev map[string]any) report.Result {
	if errors.Is(err, errEvicted) || errors.Is(err, errVanished) {
		return failProblem(valkeyclient.Problem{Class: valkeyclient.ClassData, Msg: what + ": " + err.Error(),
			Fix: "raise the cache's data storage limit (CacheUsageLimits): a session cache that evicts loses sessions"}, ev)
	}
	if errors.Is(err, valkeyclient.ErrExecAborted) {
		return failProblem(valkeyclient.Problem{Class: valkeyclient.ClassServer, Msg: what + ": " + err.Error(),
			Fix: "ElastiCache Serverless aborts a WATCHed EXEC while it is unsure (e.g. scaling, slot migration): re-run when the cache is stable"}, ev)
	}
	if errors.Is(err, errKeyExists) {
		return failProblem(valkeyclient.Problem{Class: valkeyclient.ClassData,
			Msg: what + ": the key already exists: the validator never overwrites a key it did not create",
			Fix: "re-run (a new run id gives new keys); if it repeats, someone writes keys under " + KeyNamespace}, ev)
	}
	return failCmd(err, what, ev)
}
