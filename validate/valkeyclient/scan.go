package valkeyclient

import (
	"context"
	"time"

	"github.com/valkey-io/valkey-go"
)

// scanReserve is left of the deadline when the prefix scan stops early.
const scanReserve = 200 * time.Millisecond

// ScanPrefix SCANs every primary node (Roles) with MATCH pattern until done or close to the
// deadline (it stops scanReserve before it, reporting complete=false). watch and probe clean
// up with it too. A replica holds copies of its master's keys, so skipping it misses nothing.
func ScanPrefix(ctx context.Context, c valkey.Client, pattern string) (found []string, complete bool, scanned int, err error) {
	primaries, _ := Roles(ctx, c, 0)
	return ScanPrefixOn(ctx, c, primaries, pattern)
}

// ScanPrefixOn is ScanPrefix over the given nodes.
func ScanPrefixOn(ctx context.Context, c valkey.Client, addrs []string, pattern string) (found []string, complete bool, scanned int, err error) {
	dl, hasDL := ctx.Deadline()
	nodes := c.Nodes()
	for _, addr := range addrs {
		n, ok := nodes[addr]
		if !ok {
			continue
		}
		var cursor uint64
		for {
			if hasDL && time.Until(dl) < scanReserve {
				return found, false, scanned, nil
			}
			e, err := n.Do(ctx, n.B().Scan().Cursor(cursor).Match(pattern).Count(1000).Build()).AsScanEntry()
			if err != nil {
				return found, false, scanned, err
			}
			scanned++
			found = append(found, e.Elements...)
			cursor = e.Cursor
			if cursor == 0 {
				break
			}
		}
	}
	return found, true, scanned, nil
}

// DeleteKeys deletes keys of this run, one DEL per key (they may sit in different slots), and
// returns how many existed.
func DeleteKeys(ctx context.Context, c valkey.Client, keys []string) (int, error) {
	return DeleteKeysEach(ctx, c, keys, nil)
}

// DeleteKeysEach is DeleteKeys that also calls gone (when not nil) with each key whose DEL was
// answered, in order, up to the first error: a caller that tracks which keys may still exist
// learns which ones a failed pipeline did delete.
func DeleteKeysEach(ctx context.Context, c valkey.Client, keys []string, gone func(key string)) (int, error) {
	cmds := make(valkey.Commands, 0, len(keys))
	for _, k := range keys {
		cmds = append(cmds, c.B().Del().Key(k).Build())
	}
	n := 0
	for i, r := range c.DoMulti(ctx, cmds...) {
		d, err := r.AsInt64()
		if err != nil {
			return n, err
		}
		n += int(d)
		if gone != nil {
			gone(keys[i])
		}
	}
	return n, nil
}
