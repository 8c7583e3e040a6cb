// Package watch is the validator's traffic engine for `validate watch` (runbook section 7:
// monitor error rates, connections and latency after the DR activation) and `validate probe`
// (section 5: is the primary unreachable or degraded beyond SLA tolerance?): paced, session-like
// traffic from a fixed number of workers, per-interval latency percentiles, error rate and
// reconnects, an SLA verdict, cleanup of every key it wrote, and the evidence files (CSV, JSON
// and an SVG latency plot).
//
// The command mix is what a web session store sends (connect-redis, the express-session store,
// is the model): create a session with SET NX PX, read it with GET, refresh its expiry with
// PEXPIRE, destroy it with DEL. Every session lives through the same lifecycle of ten
// commands (Lifecycle), so the mix is 10% create, 60% read, 20% refresh, 10% delete.
//
// Data safety is the validator's: every key is under the run's random prefix with its own hash
// tag; a session is created only with SET NX (a key that exists is never written: the run counts
// a data error and leaves it alone); GET, PEXPIRE and DEL touch only keys the run created; at the
// end the live sessions and the keys of unacknowledged creates are deleted and every node is
// scanned for the run prefix.
package watch
