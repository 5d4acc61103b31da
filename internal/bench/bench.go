// Package bench measures a compiled .mnc model's latency on the runtime:
// what `mnc bench` prints. It lives outside cmd so that other runners (and
// tests) can use it.
package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/mncdev/mnc/runtime"
)

// Options configures a measurement.
type Options struct {
	Kernels string // kernel variant ("" : MNC_KERNELS, else the best here)
	Threads int    // interpreter threads (< 1: GOMAXPROCS)
	Iters   int    // timed runs (default 50)
	Warmup  int    // untimed runs first (default 5)
	Profile bool   // also time every layer (in separate runs)
}

// Layer is one operator's time in the profile.
type Layer struct {
	Index   int     `json:"index"`
	Op      string  `json:"op"`
	Name    string  `json:"name"`
	MACs    int64   `json:"macs"`
	MS      float64 `json:"ms"`      // mean per run
	Percent float64 `json:"percent"` // of the summed layer times
	GMACs   float64 `json:"gmacs"`   // MACs / time, 0 for ops without MACs
}

// Result is a measurement (batch 1).
type Result struct {
	Model       string  `json:"model"`
	Precision   string  `json:"precision"`
	Kernels     string  `json:"kernels"`
	KernelsNote string  `json:"kernels_note,omitempty"` // why the kernels are slower than the target's
	Threads     int     `json:"threads"`
	Iters       int     `json:"iters"`
	Warmup      int     `json:"warmup"`
	Input       []int   `json:"input_shape"`
	MACs        int64   `json:"macs"`
	MedianMS    float64 `json:"median_ms"`
	P90MS       float64 `json:"p90_ms"`
	MinMS       float64 `json:"min_ms"`
	MeanMS      float64 `json:"mean_ms"`
	Throughput  float64 `json:"throughput_ips"` // timed runs / their wall time
	GMACs       float64 `json:"gmacs"`          // MACs / median
	Layers      []Layer `json:"layers,omitempty"`
}

// File opens the model at path with the options and measures it.
func File(path string, o Options) (*Result, error) {
	m, err := runtime.OpenWith(path, runtime.Options{Kernels: o.Kernels, Threads: o.Threads})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	r, err := Model(m, o)
	if r != nil {
		r.Model = path
	}
	return r, err
}

// Model measures m: Warmup runs, then Iters timed runs of batch 1 on a
// fixed pseudo-random input in [-1, 1], then (Profile) Iters more runs
// with per-layer timing.
func Model(m *runtime.Model, o Options) (*Result, error) {
	if o.Iters < 1 {
		o.Iters = 50
	}
	if o.Warmup < 0 {
		o.Warmup = 0
	}
	it, err := m.NewInterpreterThreads(o.Threads)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	info := m.Info()
	in := input(m)
	shape := in.Shape
	for range o.Warmup {
		if _, err := it.Run(in); err != nil {
			return nil, err
		}
	}
	times := make([]time.Duration, o.Iters)
	start := time.Now()
	for i := range times {
		t0 := time.Now()
		if _, err := it.Run(in); err != nil {
			return nil, err
		}
		times[i] = time.Since(t0)
	}
	wall := time.Since(start)
	r := &Result{Precision: info.Precision, Kernels: info.Kernels, KernelsNote: info.KernelsNote, Threads: it.Threads(), Iters: o.Iters,
		Warmup: o.Warmup, Input: shape, MACs: info.MACs}
	slices.Sort(times)
	var sum time.Duration
	for _, t := range times {
		sum += t
	}
	r.MedianMS = ms(quantile(times, 0.5))
	r.P90MS = ms(quantile(times, 0.9))
	r.MinMS = ms(times[0])
	r.MeanMS = ms(sum) / float64(len(times))
	r.Throughput = float64(o.Iters) / wall.Seconds()
	if r.MedianMS > 0 {
		r.GMACs = float64(r.MACs) / (r.MedianMS * 1e6)
	}
	if o.Profile {
		it.SetProfile(true)
		for range o.Iters {
			if _, err := it.Run(in); err != nil {
				return nil, err
			}
		}
		var total time.Duration
		steps := it.Profile()
		for _, s := range steps {
			total += s.Total
		}
		for _, s := range steps {
			l := Layer{Index: s.Index, Op: s.Op, Name: s.Name, MACs: s.MACs}
			if s.Runs > 0 {
				l.MS = ms(s.Total) / float64(s.Runs)
			}
			if total > 0 {
				l.Percent = 100 * float64(s.Total) / float64(total)
			}
			if l.MS > 0 && s.MACs > 0 {
				l.GMACs = float64(s.MACs) / (l.MS * 1e6)
			}
			r.Layers = append(r.Layers, l)
		}
		slices.SortStableFunc(r.Layers, func(a, b Layer) int {
			switch {
			case a.MS > b.MS:
				return -1
			case a.MS < b.MS:
				return 1
			}
			return 0
		})
	}
	return r, nil
}

// input is the fixed pseudo-random batch-1 input in [-1, 1] of a
// measurement.
func input(m *runtime.Model) runtime.Tensor {
	shape := m.InputShape()
	n := 1
	for _, d := range shape {
		n *= d
	}
	rng := rand.New(rand.NewPCG(1, 2))
	in := runtime.Tensor{Shape: shape, Data: make([]float32, n)}
	for i := range in.Data {
		in.Data[i] = rng.Float32()*2 - 1
	}
	return in
}

// quantile of sorted times, nearest rank.
func quantile(t []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(t))+0.5) - 1
	return t[max(0, min(len(t)-1, i))]
}

// Write prints r as text, or as JSON.
func (r *Result) Write(w io.Writer, asJSON bool) error {
	if asJSON {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(r)
	}
	fmt.Fprintf(w, "%s: %s, input %v, %.1fM MACs\n", r.Model, r.Precision, r.Input, float64(r.MACs)/1e6)
	fmt.Fprintf(w, "kernels %s, %d thread(s), batch 1, %d runs after %d warm-up\n", r.Kernels, r.Threads, r.Iters, r.Warmup)
	if r.KernelsNote != "" {
		fmt.Fprintf(w, "note: %s\n", r.KernelsNote)
	}
	fmt.Fprintf(w, "  median %.3f ms   p90 %.3f ms   min %.3f ms   mean %.3f ms\n", r.MedianMS, r.P90MS, r.MinMS, r.MeanMS)
	fmt.Fprintf(w, "  throughput %.1f images/s   %.2f GMAC/s (MACs / median)\n", r.Throughput, r.GMACs)
	if len(r.Layers) > 0 {
		fmt.Fprintf(w, "\nper-layer time (mean of %d profiled runs), slowest first:\n", r.Iters)
		fmt.Fprintf(w, "  %4s  %-18s %9s %6s %9s %8s  %s\n", "op", "type", "ms", "%", "MMACs", "GMAC/s", "name")
		for _, l := range r.Layers {
			g := ""
			if l.GMACs > 0 {
				g = fmt.Sprintf("%.2f", l.GMACs)
			}
			fmt.Fprintf(w, "  %4d  %-18s %9.4f %6.2f %9.2f %8s  %s\n", l.Index, l.Op, l.MS, l.Percent, float64(l.MACs)/1e6, g, l.Name)
		}
	}
	_, err := io.WriteString(w, "")
	return err
}
