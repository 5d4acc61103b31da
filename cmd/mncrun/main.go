// Command mncrun is the tiny board runner: it runs and benchmarks .mnc
// files and links only the runtime (no model readers, passes, calibration
// or command-line framework), so that it cross-compiles to a small static
// binary for a Raspberry Pi (see mnc deploy).
//
//	mncrun [-top K] [-threads N] [-kernels NAME] [-json] [-save OUT.bin] [-raw] MODEL.mnc IMAGE...
//	mncrun -model MODEL.mnc [flags] IMAGE...
//	mncrun -bench [-runs N] MODEL.mnc
//	mncrun -version
//
// With images it prints, for each, the top K classes with the model's
// labels (-json: one JSON array of {"input", "top": [{"index", "label",
// "logit", "prob"}]}, as mnc run --json); -save writes every image's logits
// as little-endian float32 (one image after another), -raw prints them as
// the hexadecimal bits of each float32 (to compare runs on different
// machines byte for byte). -bench times single runs on a constant input and
// prints the median latency. -model names the model so that flags may
// follow it (run.sh of mnc deploy passes its arguments this way). Exit
// status: 0 success, 1 error, 2 usage error.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/esc"
	"github.com/mncdev/mnc/runtime/limits"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "mncrun: %v\n", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

// versionLine names the runner's build.
func versionLine() string {
	s := "mncrun"
	if bi, ok := debug.ReadBuildInfo(); ok {
		s += fmt.Sprintf(" (module %s %s", bi.Main.Path, bi.Main.Version)
		for _, kv := range bi.Settings {
			if kv.Key == "vcs.revision" {
				s += fmt.Sprintf(", revision %.12s", kv.Value)
			}
		}
		s += ", " + bi.GoVersion + ")"
	}
	return s + fmt.Sprintf(" %s/%s", goruntime.GOOS, goruntime.GOARCH)
}

func run(args []string, stdout io.Writer) (err error) {
	fs := flag.NewFlagSet("mncrun", flag.ContinueOnError)
	top := fs.Int("top", 5, "classes to print per image")
	kern := fs.String("kernels", "", "force a kernel variant (generic, avx2, vnni, neon, dotprod, neon32); default: $MNC_KERNELS, else the best this CPU runs")
	save := fs.String("save", "", "write the logits of every image to `FILE` as little-endian float32")
	raw := fs.Bool("raw", false, "print the logits as the hexadecimal bits of each float32")
	bench := fs.Bool("bench", false, "benchmark: print the median latency of single runs")
	runs := fs.Int("runs", 50, "timed runs for -bench")
	threads := fs.Int("threads", 1, "threads per run (1 to the number of cores)")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	model := fs.String("model", "", "the model `FILE` (then every argument is an image, and flags may follow)")
	showVersion := fs.Bool("version", false, "print the runner's version and exit")
	minScore := fs.Float64("min-score", 0.5, "detectors: print the boxes scoring at least `S` (0 to 1)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: mncrun [flags] MODEL.mnc IMAGE...\n       mncrun -model MODEL.mnc [flags] IMAGE...\n       mncrun -bench [-runs N] MODEL.mnc\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if *showVersion {
		_, err := fmt.Fprintln(stdout, versionLine())
		return err
	}
	rest := fs.Args()
	modelSet := false
	fs.Visit(func(f *flag.Flag) { modelSet = modelSet || f.Name == "model" })
	if modelSet && *model == "" {
		return usageError{errors.New("-model: empty path")}
	}
	if *model == "" && len(rest) > 0 {
		*model, rest = rest[0], rest[1:]
	} else if *model != "" {
		// Flags may follow the images too: parse what remains.
		var imgs []string
		for len(rest) > 0 {
			if err := fs.Parse(rest); err != nil {
				return usageError{err}
			}
			rest = fs.Args()
			if len(rest) > 0 {
				imgs, rest = append(imgs, rest[0]), rest[1:]
			}
		}
		rest = imgs
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case set["save"] && *save == "":
		return usageError{errors.New("-save: empty path")}
	case *model == "" || (!*bench && len(rest) == 0):
		fs.Usage()
		return usageError{errors.New("need a model file and, without -bench, at least one image")}
	case *top < 1:
		return usageError{fmt.Errorf("-top %d: want at least 1", *top)}
	case *threads < 1 || *threads > 4*goruntime.NumCPU():
		return usageError{fmt.Errorf("-threads %d: want 1 to %d", *threads, 4*goruntime.NumCPU())}
	case *runs < 1 || *runs > limits.BenchRuns:
		return usageError{fmt.Errorf("-runs %d: want 1 to %d", *runs, limits.BenchRuns)}
	}
	for _, img := range rest {
		if img == "" {
			return usageError{errors.New("an image path is empty")}
		}
	}
	m, err := runtime.OpenWith(*model, runtime.Options{Kernels: *kern, Threads: *threads})
	if err != nil {
		return err
	}
	defer m.Close()
	if note := m.Info().KernelsNote; note != "" {
		fmt.Fprintf(os.Stderr, "mncrun: note: %s\n", note)
	}
	it, err := m.NewInterpreter()
	if err != nil {
		return err
	}
	defer it.Close()
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	if *bench {
		return benchmark(w, m, it, *runs)
	}
	var out *bufio.Writer
	if *save != "" {
		af, cerr := createAtomic(*save)
		if cerr != nil {
			return cerr
		}
		defer af.discard()
		out = bufio.NewWriter(af.f)
		defer func() {
			if err == nil { // run's result
				err = af.commit()
			}
		}()
	}
	labels := m.Labels()
	if _, ok := m.Detection(); ok {
		switch {
		case *save != "" || *raw:
			return usageError{errors.New("-save and -raw write a classifier's logits; a detector prints boxes")}
		case !(*minScore >= 0 && *minScore <= 1):
			return usageError{fmt.Errorf("-min-score %v: want 0 to 1", *minScore)}
		}
		n := 0 // boxes per image: all above -min-score unless -top
		if set["top"] {
			n = *top
		}
		return detect(w, it, rest, labels, *minScore, n, *asJSON)
	}
	type result struct {
		Input string          `json:"input"`
		Top   []runtime.Class `json:"top"`
	}
	var results []result
	for _, img := range rest {
		res, err := it.RunFile(img)
		if err != nil {
			return fmt.Errorf("%s: %w", esc.String(img), err)
		}
		if *asJSON {
			results = append(results, result{img, runtime.TopK(res.Data, *top, labels)})
		} else {
			fmt.Fprintln(w, esc.String(img))
			printTop(w, res.Data, labels, *top)
		}
		if *raw {
			for i, v := range res.Data {
				if i > 0 {
					w.WriteByte(' ')
				}
				fmt.Fprintf(w, "%08x", math.Float32bits(v))
			}
			w.WriteByte('\n')
		}
		if out != nil {
			if err := binary.Write(out, binary.LittleEndian, res.Data); err != nil {
				return err
			}
		}
	}
	if out != nil {
		if err := out.Flush(); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	return nil
}

// detect prints, per image, the detector's boxes scoring at least
// minScore (at most top when top > 0), best first: label (its name, or its
// index), score, x0 y0 x1 y1 in the photo's pixels.
func detect(w io.Writer, it *runtime.Interpreter, images []string, labels []string, minScore float64, top int, asJSON bool) error {
	type box struct {
		Label int        `json:"label"`
		Name  string     `json:"name,omitempty"`
		Score float32    `json:"score"`
		Box   [4]float32 `json:"box"`
	}
	type result struct {
		Input string `json:"input"`
		Boxes []box  `json:"boxes"`
	}
	var results []result
	for _, img := range images {
		d, err := it.DetectFile(img)
		if err != nil {
			return err
		}
		r := result{Input: img, Boxes: []box{}}
		for _, x := range d {
			if top > 0 && len(r.Boxes) == top {
				break
			}
			if float64(x.Score) >= minScore {
				b := box{Label: x.Label, Score: x.Score, Box: x.Box}
				if x.Label < len(labels) {
					b.Name = labels[x.Label]
				}
				r.Boxes = append(r.Boxes, b)
			}
		}
		if asJSON {
			results = append(results, r)
			continue
		}
		fmt.Fprintln(w, esc.String(img))
		for _, b := range r.Boxes {
			name := esc.String(b.Name)
			if b.Name == "" {
				name = fmt.Sprint(b.Label)
			}
			fmt.Fprintf(w, "  %-14s %.3f  %7.1f %7.1f %7.1f %7.1f\n", name, b.Score, b.Box[0], b.Box[1], b.Box[2], b.Box[3])
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	return nil
}

// printTop prints the k largest logits with their softmax probabilities.
func printTop(w io.Writer, logits []float32, labels []string, k int) {
	for _, c := range runtime.TopK(logits, k, labels) {
		fmt.Fprintf(w, "  %5d  %6.2f%%  logit %8.4f  %s\n", c.Index, 100*c.Prob, c.Logit, esc.String(c.Label))
	}
}

// benchmark runs the model on a constant input: a few warm-up runs, then
// runs timed one by one; it prints the median and the spread.
func benchmark(w io.Writer, m *runtime.Model, it *runtime.Interpreter, runs int) error {
	runs = max(runs, 1)
	shape := m.InputShape()
	n := 1
	for _, d := range shape {
		n *= d
	}
	in := runtime.Tensor{Shape: shape, Data: make([]float32, n)}
	for i := range in.Data {
		in.Data[i] = float32(i%251)/125 - 1
	}
	for range 3 {
		if _, err := it.Run(in); err != nil {
			return err
		}
	}
	ts := make([]time.Duration, runs)
	for i := range ts {
		t0 := time.Now()
		if _, err := it.Run(in); err != nil {
			return err
		}
		ts[i] = time.Since(t0)
	}
	slices.Sort(ts)
	info := m.Info()
	fmt.Fprintf(w, "%s: %s, target %s, kernels %s, %s/%s\n", esc.String(info.Name), info.Precision, esc.String(info.Target), info.Kernels, goruntime.GOOS, goruntime.GOARCH)
	fmt.Fprintf(w, "median %.3f ms over %d runs (min %.3f ms, max %.3f ms)\n",
		ms(ts[len(ts)/2]), runs, ms(ts[0]), ms(ts[len(ts)-1]))
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// atomicFile is an output written to a temporary file next to its path
// and renamed over it by commit, so that a failed run leaves nothing
// behind and a reader never sees half a file. The path must be new or a
// regular file: a device, a FIFO or a directory is refused; a symbolic
// link is followed (the file it names is replaced).
type atomicFile struct {
	f    *os.File
	path string // the final path (a symbolic link resolved)
	done bool
}

func createAtomic(path string) (*atomicFile, error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("-save %s: not a regular file", esc.String(path))
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("-save: %w", err)
	}
	if err := f.Chmod(0o644); err != nil { // as os.Create would (CreateTemp: 0600)
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("-save: %w", err)
	}
	return &atomicFile{f: f, path: path}, nil
}

// commit closes the file and renames it to its path.
func (a *atomicFile) commit() error {
	if err := a.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(a.f.Name(), a.path); err != nil {
		return err
	}
	a.done = true
	return nil
}

// discard removes the temporary file unless it was committed.
func (a *atomicFile) discard() {
	if !a.done {
		a.f.Close()
		os.Remove(a.f.Name())
	}
}
