package route53model

import "time"

// Run of a publisher over a window, with the faults a scenario injects. Point n is the nth
// publish from From (0-based).
type Run struct {
	Publisher Publisher
	From, To  time.Time
	// Offset is how far into each interval the publisher fires (scheduler jitter is a
	// per-point Delay).
	Offset time.Duration
	// Miss drops points; Delay makes them arrive late (a stamped point keeps its timestamp, a
	// point CloudWatch stamps at receipt moves with its arrival: DocPutMetricData); Duplicate
	// sends them twice.
	Miss      map[int]bool
	Delay     func(n int) time.Duration
	Duplicate map[int]bool
	// Value overrides Publisher.Value for point n (a canary run that fails publishes 0).
	Value func(n int) float64
}

// Points are the data points of the run.
func (r Run) Points() []Point {
	var out []Point
	every := r.Publisher.Every
	for n, t := 0, r.From.Add(r.Offset); t.Before(r.To); n, t = n+1, t.Add(every) {
		if r.Miss[n] {
			continue
		}
		var d time.Duration
		if r.Delay != nil {
			d = r.Delay(n)
		}
		v := r.Publisher.Value
		if r.Value != nil {
			v = r.Value(n)
		}
		p := Point{Metric: r.Publisher.Metric, At: t, Arrives: t.Add(d), Value: v}
		if !r.Publisher.Stamped {
			p.At = p.Arrives
		}
		out = append(out, p)
		if r.Duplicate[n] {
			out = append(out, p)
		}
	}
	return out
}
