package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/mncdev/mnc/runtime"
)

// Comparison is a back-to-back measurement of one model at several thread
// counts: the interpreters take turns, Rounds times, so that a change in
// the machine's load (a shared VM) hits every count alike.
type Comparison struct {
	Model   string         `json:"model"`
	Kernels string         `json:"kernels"`
	Rounds  int            `json:"rounds"`
	PerTurn int            `json:"runs_per_turn"`
	Counts  []ThreadResult `json:"threads"`
}

// ThreadResult is one thread count's share of a Comparison.
type ThreadResult struct {
	Threads  int     `json:"threads"`
	MedianMS float64 `json:"median_ms"`
	P90MS    float64 `json:"p90_ms"`
	MinMS    float64 `json:"min_ms"`
	// Throughput is this count's timed runs over their summed time
	// (images/s of back-to-back single inferences).
	Throughput float64 `json:"throughput_ips"`
	// Speedup is the first count's median over this one's;
	// ThroughputSpeedup this count's throughput over the first one's.
	Speedup           float64 `json:"speedup"`
	ThroughputSpeedup float64 `json:"throughput_speedup"`
}

// CompareThreads measures m at each thread count: Warmup runs each, then
// Rounds rounds in which each interpreter in turn does Iters/Rounds timed
// runs (at least one).
func CompareThreads(m *runtime.Model, counts []int, o Options, rounds int) (*Comparison, error) {
	if len(counts) == 0 {
		return nil, fmt.Errorf("bench: no thread counts to compare")
	}
	if o.Iters < 1 {
		o.Iters = 50
	}
	rounds = max(1, min(rounds, o.Iters))
	per := max(1, o.Iters/rounds)
	in := input(m)
	its := make([]*runtime.Interpreter, len(counts))
	times := make([][]time.Duration, len(counts))
	for i, c := range counts {
		if c < 1 {
			return nil, fmt.Errorf("bench: thread count %d is not positive", c)
		}
		it, err := m.NewInterpreterThreads(c)
		if err != nil {
			return nil, err
		}
		defer it.Close()
		its[i] = it
		for range max(o.Warmup, 0) {
			if _, err := it.Run(in); err != nil {
				return nil, err
			}
		}
	}
	for range rounds {
		for i, it := range its {
			for range per {
				t0 := time.Now()
				if _, err := it.Run(in); err != nil {
					return nil, err
				}
				times[i] = append(times[i], time.Since(t0))
			}
		}
	}
	c := &Comparison{Kernels: m.Info().Kernels, Rounds: rounds, PerTurn: per}
	for i, ts := range times {
		var sum time.Duration
		for _, t := range ts {
			sum += t
		}
		slices.Sort(ts)
		r := ThreadResult{Threads: its[i].Threads(), MedianMS: ms(quantile(ts, 0.5)), P90MS: ms(quantile(ts, 0.9)), MinMS: ms(ts[0])}
		if sum > 0 {
			r.Throughput = float64(len(ts)) / sum.Seconds()
		}
		c.Counts = append(c.Counts, r)
	}
	for i := range c.Counts {
		if c.Counts[i].MedianMS > 0 {
			c.Counts[i].Speedup = c.Counts[0].MedianMS / c.Counts[i].MedianMS
		}
		if c.Counts[0].Throughput > 0 {
			c.Counts[i].ThroughputSpeedup = c.Counts[i].Throughput / c.Counts[0].Throughput
		}
	}
	return c, nil
}

// CompareFile opens the model at path (with o.Kernels) and compares the
// thread counts.
func CompareFile(path string, counts []int, o Options, rounds int) (*Comparison, error) {
	m, err := runtime.OpenWith(path, runtime.Options{Kernels: o.Kernels})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	c, err := CompareThreads(m, counts, o, rounds)
	if c != nil {
		c.Model = path
	}
	return c, err
}

// Write prints c as a table, or as JSON.
func (c *Comparison) Write(w io.Writer, asJSON bool) error {
	if asJSON {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(c)
	}
	fmt.Fprintf(w, "%s: kernels %s; thread counts back to back, %d rounds of %d runs each, batch 1\n", c.Model, c.Kernels, c.Rounds, c.PerTurn)
	fmt.Fprintf(w, "  %7s %10s %10s %10s %9s %12s %9s\n", "threads", "median ms", "p90 ms", "min ms", "speed-up", "images/s", "speed-up")
	for _, r := range c.Counts {
		fmt.Fprintf(w, "  %7d %10.3f %10.3f %10.3f %8.2fx %12.1f %8.2fx\n", r.Threads, r.MedianMS, r.P90MS, r.MinMS, r.Speedup, r.Throughput, r.ThroughputSpeedup)
	}
	fmt.Fprintf(w, "  (speed-ups: the first count's median / this count's; this count's throughput / the first's)\n")
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
