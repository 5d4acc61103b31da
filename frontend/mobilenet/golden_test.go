package mobilenet

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mncdev/mnc/frontend/torch"
	"github.com/mncdev/mnc/internal/npy"
	"github.com/mncdev/mnc/ir"
)

const goldenDir = "../../testdata/golden"

type goldenEntry struct {
	Name        string            `json:"name"`
	Arch        string            `json:"arch"`
	Width       float64           `json:"width"`
	Resolution  int               `json:"resolution"`
	Classes     int               `json:"classes"`
	ReducedTail bool              `json:"reduced_tail"`
	Dropout     float64           `json:"dropout"`
	BNEps       float64           `json:"bn_eps"`
	Files       map[string]string `json:"files"`
}

// TestGolden builds every model of testdata/golden/manifest.json, binds its
// PyTorch checkpoint (.pth, and .safetensors where present) and checks the
// graph's logits on the stored images against PyTorch's, with a small float64
// reference evaluator.
func TestGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(goldenDir, "manifest.json"))
	if err != nil {
		t.Skipf("no golden manifest: %v", err)
	}
	var entries []goldenEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Run(e.Name, func(t *testing.T) {
			cfg := Config{Arch: e.Arch, Width: e.Width, Classes: e.Classes, Resolution: e.Resolution,
				ReducedTail: e.ReducedTail, Dropout: e.Dropout}
			g, err := Build(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range g.Nodes {
				if a, ok := n.Attrs.(*ir.BatchNormAttrs); ok && e.BNEps != 0 && a.Epsilon != float32(e.BNEps) {
					t.Fatalf("%s: eps %g, manifest %g", n.Name, a.Epsilon, e.BNEps)
				}
			}
			bound := 0
			for _, kind := range []string{"pth", "safetensors"} {
				file, ok := e.Files[kind]
				if !ok {
					continue
				}
				path := filepath.Join(goldenDir, file)
				if _, err := os.Stat(path); err != nil {
					t.Logf("skipping %s: %v", file, err)
					continue
				}
				sd, err := torch.Load(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := Bind(g, cfg, sd); err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				bound++
				checkLogits(t, g, e, file)
			}
			if bound == 0 {
				t.Skip("no checkpoint file present")
			}
		})
	}
}

func checkLogits(t *testing.T, g *ir.Graph, e goldenEntry, file string) {
	t.Helper()
	in, err1 := npy.ReadFile(filepath.Join(goldenDir, e.Files["input"]))
	want, err2 := npy.ReadFile(filepath.Join(goldenDir, e.Files["logits"]))
	if err1 != nil || err2 != nil {
		t.Logf("%s: no input/logits to compare (%v, %v)", e.Name, err1, err2)
		return
	}
	got, err := evalGraph(g, in.Shape, in.Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.data) != len(want.Data) {
		t.Fatalf("logits %v, PyTorch %v", got.shape, want.Shape)
	}
	maxDiff, maxAbs := 0.0, 0.0
	for i, w := range want.Data {
		maxDiff = max(maxDiff, math.Abs(got.data[i]-float64(w)))
		maxAbs = max(maxAbs, math.Abs(float64(w)))
	}
	t.Logf("%s: max |logit| %.3f, max diff to PyTorch %.2e", file, maxAbs, maxDiff)
	if maxDiff > 1e-4*max(1, maxAbs) {
		t.Errorf("%s: logits differ from PyTorch by %g", file, maxDiff)
	}
}

// ---------------------------------------------------------------------------
// A minimal float64 reference evaluator for the ops Build emits.

type tensor struct {
	shape []int
	data  []float64
}

func newTensor(shape ...int) *tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &tensor{shape: shape, data: make([]float64, n)}
}

func evalGraph(g *ir.Graph, shape []int, input []float32) (*tensor, error) {
	vals := map[*ir.Value]*tensor{}
	in := &tensor{shape: shape, data: make([]float64, len(input))}
	for i, v := range input {
		in.data[i] = float64(v)
	}
	vals[g.Inputs[0]] = in
	for _, c := range g.Consts {
		t := &tensor{shape: c.Type.Shape, data: make([]float64, len(c.Const.F32))}
		for i, v := range c.Const.F32 {
			t.data[i] = float64(v)
		}
		vals[c] = t
	}
	for _, n := range g.Nodes {
		args := make([]*tensor, len(n.Inputs))
		for i, v := range n.Inputs {
			args[i] = vals[v]
		}
		out, err := evalNode(n, args)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.Name, err)
		}
		vals[n.Output()] = out
	}
	return vals[g.Outputs[0]], nil
}

func unary(x *tensor, f func(float64) float64) *tensor {
	out := newTensor(x.shape...)
	for i, v := range x.data {
		out.data[i] = f(v)
	}
	return out
}

func evalNode(n *ir.Node, a []*tensor) (*tensor, error) {
	x := a[0]
	switch n.Op {
	case ir.Relu:
		return unary(x, func(v float64) float64 { return max(v, 0) }), nil
	case ir.Relu6:
		return unary(x, func(v float64) float64 { return min(max(v, 0), 6) }), nil
	case ir.HardSwish:
		return unary(x, func(v float64) float64 { return v * min(max(v+3, 0), 6) / 6 }), nil
	case ir.HardSigmoid:
		at := n.Attrs.(*ir.HardSigmoidAttrs)
		return unary(x, func(v float64) float64 { return max(0, min(1, float64(at.Alpha)*v+float64(at.Beta))) }), nil
	case ir.Dropout, ir.Identity:
		return x, nil
	case ir.Add, ir.Mul:
		y := a[1]
		s, err := ir.Broadcast(x.shape, y.shape)
		if err != nil || len(x.shape) != len(s) || len(y.shape) != len(s) {
			return nil, fmt.Errorf("unsupported broadcast %v %v", x.shape, y.shape)
		}
		out := newTensor(s...)
		idx := make([]int, len(s))
		for i := range out.data {
			r := i
			for d := len(s) - 1; d >= 0; d-- {
				idx[d] = r % s[d]
				r /= s[d]
			}
			xv, yv := x.data[offset(x.shape, idx)], y.data[offset(y.shape, idx)]
			if n.Op == ir.Add {
				out.data[i] = xv + yv
			} else {
				out.data[i] = xv * yv
			}
		}
		return out, nil
	case ir.BatchNorm:
		eps := float64(n.Attrs.(*ir.BatchNormAttrs).Epsilon)
		out := newTensor(x.shape...)
		c, hw := x.shape[1], x.shape[2]*x.shape[3]
		for i := range out.data {
			ch := i / hw % c
			out.data[i] = (x.data[i]-a[3].data[ch])/math.Sqrt(a[4].data[ch]+eps)*a[1].data[ch] + a[2].data[ch]
		}
		return out, nil
	case ir.GlobalAveragePool:
		nn, c, hw := x.shape[0], x.shape[1], x.shape[2]*x.shape[3]
		out := newTensor(nn, c, 1, 1)
		for i := range out.data {
			s := 0.0
			for _, v := range x.data[i*hw : (i+1)*hw] {
				s += v
			}
			out.data[i] = s / float64(hw)
		}
		return out, nil
	case ir.Flatten:
		return &tensor{shape: []int{x.shape[0], len(x.data) / x.shape[0]}, data: x.data}, nil
	case ir.Gemm:
		at := n.Attrs.(*ir.GemmAttrs)
		if !at.TransB || at.TransA || at.Alpha != 1 || at.Beta != 1 {
			return nil, fmt.Errorf("unsupported Gemm %v", at)
		}
		w, b := a[1], a[2]
		m, k, o := x.shape[0], x.shape[1], w.shape[0]
		out := newTensor(m, o)
		for i := range m {
			for j := range o {
				s := b.data[j]
				for l := range k {
					s += x.data[i*k+l] * w.data[j*k+l]
				}
				out.data[i*o+j] = s
			}
		}
		return out, nil
	case ir.Conv:
		return conv(n.Attrs.(*ir.ConvAttrs), x, a[1], a[2:]...), nil
	}
	return nil, fmt.Errorf("op %v not supported by the test evaluator", n.Op)
}

func offset(shape, idx []int) int {
	off := 0
	for d, s := range shape {
		i := idx[d]
		if s == 1 {
			i = 0
		}
		off = off*s + i
	}
	return off
}

func conv(at *ir.ConvAttrs, x, w *tensor, bias ...*tensor) *tensor {
	nb, c, h, wd := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	o, cg, kh, kw := w.shape[0], w.shape[1], w.shape[2], w.shape[3]
	groups := at.Groups()
	sh, sw := at.Stride[0], at.Stride[1]
	oh := (h+at.Pads[0]+at.Pads[2]-kh)/sh + 1
	ow := (wd+at.Pads[1]+at.Pads[3]-kw)/sw + 1
	out := newTensor(nb, o, oh, ow)
	og := o / groups
	for b := range nb {
		for oc := range o {
			g := oc / og
			for y := range oh {
				for xx := range ow {
					s := 0.0
					if len(bias) > 0 {
						s = bias[0].data[oc]
					}
					for ic := range cg {
						cin := g*cg + ic
						for i := range kh {
							iy := y*sh - at.Pads[0] + i
							if iy < 0 || iy >= h {
								continue
							}
							for j := range kw {
								ix := xx*sw - at.Pads[1] + j
								if ix < 0 || ix >= wd {
									continue
								}
								s += x.data[((b*c+cin)*h+iy)*wd+ix] * w.data[((oc*cg+ic)*kh+i)*kw+j]
							}
						}
					}
					out.data[((b*o+oc)*oh+y)*ow+xx] = s
				}
			}
		}
	}
	return out
}
