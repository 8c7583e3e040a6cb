package watch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/valkey-io/valkey-go"
)

// DefaultReaderShare is the share of reads sent through the read port when watch is given
// one (--reader-port): enough to measure it, few enough that the primary path stays the run.
const DefaultReaderShare = 0.25

// ReaderTotals are the reads sent through the read port (READONLY on every connection),
// reported apart from the primary's totals: the read port is eventually consistent and is
// never part of the primary's SLA verdict.
type ReaderTotals struct {
	// Address is the read port's host:port.
	Address string `json:"address"`
	// Share is the share of reads sent there.
	Share float64 `json:"share"`
	// Reads counts GETs through the read port; Errors the failed ones (timeout, refused ...).
	Reads  int64 `json:"reads"`
	Errors int64 `json:"errors"`
	// Stale counts reads that found no value yet or an older one (replication lag).
	Stale int64 `json:"stale"`
	// Latency is over the successful reads.
	Latency
	ErrorClasses map[string]int64 `json:"errorClasses,omitempty"`
}

// Line is the text summary of the reader totals.
func (r *ReaderTotals) Line() string {
	return fmt.Sprintf("read port %s (%.0f%% of reads, READONLY): %d reads, %d errors, %d stale (replication lag); p50 %.3fms p99 %.3fms",
		r.Address, r.Share*100, r.Reads, r.Errors, r.Stale, r.P50Ms, r.P99Ms)
}

// readerStats accumulates the read-port reads.
type readerStats struct {
	mu      sync.Mutex
	hist    Hist
	reads   int64
	errs    int64
	stale   int64
	classes map[string]int64
}

// readThroughReader sends one GET through the read port and records it there.
func (e *engine) readThroughReader(ctx context.Context, key, want string) {
	rc := e.cfg.Reader
	start := time.Now()
	v, err := rc.Do(ctx, rc.B().Get().Key(key).Build()).ToString()
	took := time.Since(start)
	st := e.reader
	st.mu.Lock()
	defer st.mu.Unlock()
	st.reads++
	switch {
	case valkey.IsValkeyNil(err) || (err == nil && v != want):
		st.stale++
	case err != nil:
		st.errs++
		st.classes[classOf(err)]++
	default:
		st.hist.Record(took)
	}
}

// useReader decides whether this read goes through the read port.
func (e *engine) useReader(rng *rand.Rand) bool {
	return e.cfg.Reader != nil && rng.Float64() < e.cfg.ReaderShare
}

func (e *engine) readerTotals() *ReaderTotals {
	if e.cfg.Reader == nil {
		return nil
	}
	st := e.reader
	st.mu.Lock()
	defer st.mu.Unlock()
	return &ReaderTotals{Address: e.cfg.ReaderAddr, Share: e.cfg.ReaderShare, Reads: st.reads, Errors: st.errs, Stale: st.stale,
		Latency: latencyOf(&st.hist), ErrorClasses: st.classes}
}
