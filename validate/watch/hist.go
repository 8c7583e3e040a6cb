package watch

import (
	"math"
	"math/bits"
	"time"
)

// Histogram geometry: log-linear buckets over nanoseconds, 64 linear sub-buckets per power of
// two (bucket width <= 1/64 of its value, so a percentile reported at the bucket midpoint is
// within 0.8% of the true value), from 0 to 2^41 ns (36 minutes: beyond any op timeout).
const (
	subBits    = 6
	subCount   = 1 << subBits
	maxExp     = 41
	numBuckets = (maxExp - subBits + 1) * subCount
)

// Hist is a latency histogram. The zero value is empty and ready; it is not safe for
// concurrent use (the engine gives every stripe of workers its own).
type Hist struct {
	counts [numBuckets]uint64
	n      uint64
	max    time.Duration
	sum    time.Duration
}

func bucket(ns uint64) int {
	if ns < subCount {
		return int(ns)
	}
	e := bits.Len64(ns) - subBits - 1 // >= 0: ns>>e is in [subCount, 2*subCount)
	i := (e+1)<<subBits + int(ns>>e) - subCount
	if i >= numBuckets {
		return numBuckets - 1
	}
	return i
}

// bounds returns the lowest value of bucket i and its width.
func bounds(i int) (lo, width uint64) {
	if i < subCount {
		return uint64(i), 1
	}
	e := i>>subBits - 1
	m := uint64(i&(subCount-1) + subCount)
	return m << e, 1 << e
}

// Record adds one latency.
func (h *Hist) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucket(uint64(d))]++
	h.n++
	h.sum += d
	if d > h.max {
		h.max = d
	}
}

// Merge adds every value of o.
func (h *Hist) Merge(o *Hist) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// Reset empties the histogram.
func (h *Hist) Reset() { *h = Hist{} }

// Count is the number of recorded values.
func (h *Hist) Count() uint64 { return h.n }

// Max is the largest recorded value, exact.
func (h *Hist) Max() time.Duration { return h.max }

// Mean is the average of the recorded values, exact; 0 when empty.
func (h *Hist) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Quantile returns the value at quantile q (0 < q <= 1): the midpoint of the bucket holding the
// ceil(q*n)-th smallest value, never above the exact maximum; 0 when empty.
func (h *Hist) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, w := bounds(i)
			return min(time.Duration(lo+w/2), h.max)
		}
	}
	return h.max
}
