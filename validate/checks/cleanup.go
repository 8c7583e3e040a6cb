package checks

import (
	"context"
	"fmt"
	"strings"

	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// checkCleanup deletes the keys this run created that may still exist (only those), proves
// every key it ever created is gone, and scans each node for keys under the run prefix.
func checkCleanup(ctx context.Context, e *Env) report.Result {
	ev := map[string]any{"prefix": e.Prefix(), "created": e.createdCount()}
	if e.Client == nil {
		var err error
		if e.Client, err = e.NewClient(ctx, e.Target.Addr()); err != nil {
			if e.createdCount() == 0 {
				return skip("nothing to clean: the run created no keys")
			}
			return failErr(err, "reconnect for cleanup", ev)
		}
	}
	c := e.Client
	own := e.ownKeys()
	deleted := 0
	attempts, err := valkeyclient.Retry(ctx, func(ctx context.Context) error {
		if len(own) == 0 {
			return nil
		}
		n, err := valkeyclient.DeleteKeysEach(ctx, c, own, e.deleted)
		deleted += n
		if err != nil {
			return err
		}
		own = nil
		return nil
	})
	ev["deleted"] = deleted
	if err != nil {
		r := failCmd(err, "delete the run's keys", ev)
		r.Detail += fmt.Sprintf(" (they expire by themselves within %v)", KeyTTL)
		r.Attempts = attempts
		return r
	}
	// Scan every node for the run prefix: proves nothing was left behind, including a key
	// written by an attempt whose reply was lost.
	pattern := e.Prefix() + "*"
	found, complete, scanned, err := valkeyclient.ScanPrefixOn(ctx, c, e.primaries(ctx), pattern)
	if all := found; len(all) > 0 {
		// A key that existed before the run wrote it is someone else's: never deleted.
		found = e.notForeign(all)
		if len(found) < len(all) {
			ev["foreignUnderPrefix"] = len(all) - len(found)
		}
	}
	ev["scanComplete"], ev["scanCalls"], ev["remaining"] = complete, scanned, found
	if err != nil {
		return failCmd(err, "SCAN MATCH "+pattern, ev)
	}
	if len(found) > 0 {
		// The run id is 64 random bits made for this run, so a key under the run prefix was
		// written by this run: a write whose reply never came (timeout) but that landed. (A
		// write refused with an error reply, CLUSTERDOWN or OOM, never lands.)
		n, err := valkeyclient.DeleteKeys(ctx, c, found)
		ev["deletedUnacknowledged"] = n
		deleted += n
		if err != nil {
			return failCmd(err, fmt.Sprintf("delete %d key(s) left by unacknowledged writes (%s)", len(found), strings.Join(found, ", ")), ev)
		}
		if again, _, _, err := valkeyclient.ScanPrefixOn(ctx, c, e.primaries(ctx), pattern); err != nil || len(e.notForeign(again)) > 0 {
			return failProblem(valkeyclient.Problem{Class: valkeyclient.ClassData,
				Msg: fmt.Sprintf("key(s) under the run prefix remain: %s", strings.Join(again, ", ")),
				Fix: fmt.Sprintf("they expire within %v; delete them with DEL if needed", KeyTTL)}, ev)
		}
	}
	scan := "scan of every primary node found none"
	if !complete {
		scan = fmt.Sprintf("scan stopped at the deadline after %d SCAN calls, none found", scanned)
	}
	return e.evictionResult(ctx, pass(fmt.Sprintf("deleted %d remaining key(s) (%d created and acknowledged); no key under %s* remains (%s)",
		deleted, e.createdCount(), e.Prefix(), scan), ev))
}
