package mobilenet

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
)

// tvFixture is testdata/torchvision_keys.json, made by testdata/gen_keys.py
// from PyTorch/torchvision.
type tvFixture struct {
	Torch       string `json:"torch"`
	Torchvision string `json:"torchvision"`
	Models      []struct {
		Config struct {
			Arch        string  `json:"arch"`
			Width       float64 `json:"width"`
			Classes     int     `json:"classes"`
			ReducedTail bool    `json:"reduced_tail"`
			Resolution  int     `json:"resolution"`
		} `json:"config"`
		Params    int64             `json:"params"`
		MACs      int64             `json:"macs"`
		StateDict []json.RawMessage `json:"state_dict"` // [key, shape]
		Modules   []json.RawMessage `json:"modules"`    // [path, type, shape, attrs]
	} `json:"models"`
}

type tvModule struct {
	Path  string
	Type  string
	Shape []int // output shape without batch; nil if the module did not run
	Attrs struct {
		Stride   []int    `json:"stride"`
		Padding  []int    `json:"padding"`
		Dilation []int    `json:"dilation"`
		Groups   int      `json:"groups"`
		Bias     bool     `json:"bias"`
		Eps      float64  `json:"eps"`
		P        *float64 `json:"p"`
	}
}

func loadFixture(t *testing.T) *tvFixture {
	t.Helper()
	data, err := os.ReadFile("testdata/torchvision_keys.json")
	if err != nil {
		t.Fatalf("%v (regenerate with /usr/bin/python3 testdata/gen_keys.py)", err)
	}
	var f tvFixture
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Models) == 0 {
		t.Fatal("fixture has no models")
	}
	return &f
}

// leafOps maps PyTorch leaf module types to the op of the node of the same
// path.
var leafOps = map[string]ir.Op{
	"Conv2d": ir.Conv, "BatchNorm2d": ir.BatchNorm, "ReLU": ir.Relu, "ReLU6": ir.Relu6,
	"Hardswish": ir.HardSwish, "Hardsigmoid": ir.HardSigmoid, "Dropout": ir.Dropout,
	"Linear": ir.Gemm, "AdaptiveAvgPool2d": ir.GlobalAveragePool, "Sigmoid": ir.Sigmoid,
}

// segFunctional are the nodes of a segmentation graph that are no PyTorch
// module (functional calls in the forward methods).
var segFunctional = map[string]bool{
	"classifier.mul": true, "classifier.interpolate": true, "classifier.0.cat": true, "out": true,
}

// TestTorchvisionCrossCheck compares built graphs with the PyTorch modules:
// state_dict keys, shapes and order; node per module with its type,
// attributes and output shape; parameter and MAC counts.
func TestTorchvisionCrossCheck(t *testing.T) {
	f := loadFixture(t)
	t.Logf("fixture from torch %s, torchvision %s", f.Torch, f.Torchvision)
	for _, m := range f.Models {
		c := m.Config
		name := fmt.Sprintf("%s_w%g_c%d_r%d_rt%v", c.Arch, c.Width, c.Classes, c.Resolution, c.ReducedTail)
		t.Run(name, func(t *testing.T) {
			g, err := Build(Config{Arch: c.Arch, Width: c.Width, Classes: c.Classes, Resolution: c.Resolution, ReducedTail: c.ReducedTail})
			if err != nil {
				t.Fatal(err)
			}
			seg := builtin[c.Arch].Seg != nil
			det := builtin[c.Arch].Det != nil
			// State dict: constants are exactly the keys less num_batches_tracked, in order.
			var keys []string
			shapes := map[string]ir.Shape{}
			for _, raw := range m.StateDict {
				var kv [2]json.RawMessage
				var k string
				var s []int
				if json.Unmarshal(raw, &kv) != nil || json.Unmarshal(kv[0], &k) != nil || json.Unmarshal(kv[1], &s) != nil {
					t.Fatalf("bad state_dict entry %s", raw)
				}
				if p, ok := strings.CutSuffix(k, ".num_batches_tracked"); ok {
					if g.Const(p+".running_var") == nil {
						t.Errorf("%s: no BatchNorm %s in the graph", k, p)
					}
					continue
				}
				keys = append(keys, k)
				shapes[k] = ir.Shape(s)
			}
			if len(keys) != len(g.Consts) {
				t.Errorf("graph has %d constants, torchvision %d parameters and buffers", len(g.Consts), len(keys))
			}
			for i, k := range keys {
				if i >= len(g.Consts) {
					break
				}
				cv := g.Consts[i]
				if cv.Name != k {
					t.Fatalf("constant %d is %s, torchvision key %d is %s", i, cv.Name, i, k)
				}
				if !cv.Type.Shape.Equal(shapes[k]) {
					t.Errorf("%s: graph %v, torchvision %v", k, cv.Type.Shape, shapes[k])
				}
			}
			// Counts.
			st := ir.ComputeStats(g)
			if st.Params != m.Params || st.MACs != m.MACs {
				t.Errorf("params %d MACs %d, torchvision %d and %d", st.Params, st.MACs, m.Params, m.MACs)
			}
			// Modules.
			nodes := map[string]*ir.Node{}
			for _, n := range g.Nodes {
				nodes[n.Name] = n
			}
			paths := map[string]bool{}
			lastLinear := ""
			for _, raw := range m.Modules {
				mod := parseModule(t, raw)
				paths[mod.Path] = true
				n := nodes[mod.Path]
				op, leaf := leafOps[mod.Type]
				switch {
				case leaf:
					if n == nil {
						t.Errorf("module %s (%s) has no node", mod.Path, mod.Type)
						continue
					}
					if n.Op != op {
						t.Errorf("module %s (%s) is a %v node", mod.Path, mod.Type, n.Op)
					}
					checkAttrs(t, n, mod, seg)
					if mod.Type == "Linear" {
						lastLinear = mod.Path
					}
				case mod.Type == "SqueezeExcitation":
					if n == nil || n.Op != ir.Mul {
						t.Errorf("module %s (SqueezeExcitation) has no Mul node", mod.Path)
						continue
					}
				case mod.Type == "InvertedResidual" && n != nil && n.Op != ir.Add:
					t.Errorf("module %s (InvertedResidual) is a %v node", mod.Path, n.Op)
				}
				if n != nil && mod.Shape != nil {
					if got := n.Output().Type.Shape; got[0] != -1 || !got[1:].Equal(ir.Shape(mod.Shape)) {
						t.Errorf("module %s output: graph %v, torchvision [N,%v]", mod.Path, got, mod.Shape)
					}
				}
			}
			for _, n := range g.Nodes {
				if !paths[n.Name] && n.Name != "flatten" && !(n.Name == "avgpool" && c.Arch == "mobilenet_v2") &&
					!(seg && segFunctional[n.Name]) && !(det && detFunctional(n.Name)) {
					t.Errorf("node %s (%v) matches no PyTorch module", n.Name, n.Op)
				}
			}
			out := g.Outputs[0]
			switch {
			case det:
				checkDetOutputs(t, g, m.Modules, c.Classes)
			case seg:
				if want := (ir.Shape{-1, c.Classes, c.Resolution, c.Resolution}); out.Name != "out" || !out.Type.Shape.Equal(want) {
					t.Errorf("output %s %v, want out %v", out.Name, out.Type.Shape, want)
				}
			case out.Name != "logits" || nodes[lastLinear] == nil || nodes[lastLinear].Output() != out:
				t.Errorf("output %s is not the last Linear %s", out.Name, lastLinear)
			}
		})
	}
}

// detFunctional reports whether a detection graph's node is no PyTorch
// module: SSDScoringHead's view/permute/reshape and torch.cat.
func detFunctional(name string) bool {
	for _, h := range []string{"head.classification_head.", "head.regression_head."} {
		if rest, ok := strings.CutPrefix(name, h); ok && (strings.HasPrefix(rest, "permute.") || strings.HasPrefix(rest, "reshape.")) {
			return true
		}
	}
	return name == OutputClsLogits || name == OutputBBoxRegression
}

// checkDetOutputs checks a detector's two outputs against the recorded
// outputs of torchvision's scoring heads ([A, classes] and [A, 4] for one
// image).
func checkDetOutputs(t *testing.T, g *ir.Graph, modules []json.RawMessage, classes int) {
	t.Helper()
	want := map[string][]int{}
	for _, raw := range modules {
		mod := parseModule(t, raw)
		switch mod.Path {
		case "head.classification_head":
			want[OutputClsLogits] = mod.Shape
		case "head.regression_head":
			want[OutputBBoxRegression] = mod.Shape
		}
	}
	if len(g.Outputs) != 2 {
		t.Fatalf("%d outputs, want cls_logits and bbox_regression", len(g.Outputs))
	}
	for i, name := range []string{OutputClsLogits, OutputBBoxRegression} {
		out := g.Outputs[i]
		w := want[name]
		if out.Name != name || len(w) != 2 || !out.Type.Shape.Equal(ir.Shape{-1, w[0], w[1]}) {
			t.Errorf("output %d: %s %v, want %s [N,%v]", i, out.Name, out.Type.Shape, name, w)
		}
	}
	if w := want[OutputClsLogits]; len(w) == 2 && w[1] != classes {
		t.Errorf("torchvision's cls_logits %v for %d classes", w, classes)
	}
}

func parseModule(t *testing.T, raw json.RawMessage) tvModule {
	t.Helper()
	var cols [4]json.RawMessage
	var m tvModule
	if json.Unmarshal(raw, &cols) != nil || json.Unmarshal(cols[0], &m.Path) != nil ||
		json.Unmarshal(cols[1], &m.Type) != nil || json.Unmarshal(cols[2], &m.Shape) != nil ||
		json.Unmarshal(cols[3], &m.Attrs) != nil {
		t.Fatalf("bad module entry %s", raw)
	}
	return m
}

func checkAttrs(t *testing.T, n *ir.Node, m tvModule, seg bool) {
	t.Helper()
	a := m.Attrs
	switch m.Type {
	case "Conv2d":
		ca := n.Attrs.(*ir.ConvAttrs)
		want := ir.ConvAttrs{Stride: [2]int{a.Stride[0], a.Stride[1]}, Dilation: [2]int{a.Dilation[0], a.Dilation[1]},
			Pads: [4]int{a.Padding[0], a.Padding[1], a.Padding[0], a.Padding[1]}, Group: a.Groups}
		if *ca != want {
			t.Errorf("%s: attrs %v, torchvision %v", m.Path, ca, &want)
		}
		if hasBias := len(n.Inputs) == 3; hasBias != a.Bias {
			t.Errorf("%s: bias %v, torchvision %v", m.Path, hasBias, a.Bias)
		}
	case "BatchNorm2d":
		if eps := n.Attrs.(*ir.BatchNormAttrs).Epsilon; eps != float32(a.Eps) {
			t.Errorf("%s: eps %g, torchvision %g", m.Path, eps, a.Eps)
		}
	case "Hardsigmoid":
		if ha := n.Attrs.(*ir.HardSigmoidAttrs); ha.Alpha != float32(1.0/6) || ha.Beta != 0.5 {
			t.Errorf("%s: %v, want torch's alpha 1/6 beta 0.5", m.Path, ha)
		}
	case "Linear":
		ga := n.Attrs.(*ir.GemmAttrs)
		if *ga != (ir.GemmAttrs{Alpha: 1, Beta: 1, TransB: true}) || len(n.Inputs) != 3 {
			t.Errorf("%s: Gemm %v with %d inputs, want nn.Linear as alpha 1 beta 1 transB and a bias", m.Path, ga, len(n.Inputs))
		}
	case "Dropout":
		want := 0.2 // the classifiers' default
		if seg {
			want = 0.5 // DeepLabV3's ASPP project
		}
		if a.P == nil || *a.P != want {
			t.Errorf("%s: torchvision dropout %v, want %g", m.Path, a.P, want)
		}
	}
}
