package mobilenet

import (
	"slices"
	"strings"
	"testing"

	"github.com/mncdev/mnc/frontend/torch"
	"github.com/mncdev/mnc/ir"
)

// stateDict makes a state dict matching cfg, in PyTorch's key order (with
// num_batches_tracked after each BatchNorm's running_var), each tensor
// filled with its key index + element index / 1e6.
func stateDict(t *testing.T, cfg Config) *torch.StateDict {
	t.Helper()
	g, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sd := &torch.StateDict{Tensors: map[string]*torch.Tensor{}}
	add := func(k string, shape []int, n int) {
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(len(sd.Keys)) + float32(i)/1e6
		}
		sd.Keys = append(sd.Keys, k)
		sd.Tensors[k] = &torch.Tensor{Shape: shape, Data: d}
	}
	for _, c := range g.Consts {
		add(c.Name, c.Type.Shape.Clone(), c.Type.Shape.NumElements())
		if p, ok := strings.CutSuffix(c.Name, ".running_var"); ok {
			add(p+".num_batches_tracked", []int{}, 1)
		}
	}
	return sd
}

func without(sd *torch.StateDict, key string) *torch.StateDict {
	out := &torch.StateDict{Tensors: map[string]*torch.Tensor{}}
	for _, k := range sd.Keys {
		if k != key {
			out.Keys = append(out.Keys, k)
			out.Tensors[k] = sd.Tensors[k]
		}
	}
	return out
}

func TestBind(t *testing.T) {
	for _, cfg := range []Config{
		{Arch: "v1", Width: 0.25, Classes: 10, Resolution: 64},
		{Arch: "v2", Width: 0.35, Classes: 10, Resolution: 64},
		{Arch: "v3l", Width: 0.5, Classes: 10, Resolution: 64, ReducedTail: true},
		{Arch: "v3s", Width: 0.75, Classes: 10, Resolution: 64},
	} {
		sd := stateDict(t, cfg)
		g, err := Build(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := Bind(g, cfg, sd); err != nil {
			t.Fatalf("%+v: %v", cfg, err)
		}
		for _, c := range g.Consts {
			if !slices.Equal(c.Const.F32, sd.Tensors[c.Name].Data) {
				t.Fatalf("%s not bound", c.Name)
			}
		}
		if err := ir.Verify(g); err != nil {
			t.Fatal(err)
		}
		// Bind copies: changing the state dict afterwards leaves g alone.
		c := g.Consts[0]
		sd.Tensors[c.Name].Data[0] = -1
		if c.Const.F32[0] == -1 {
			t.Error("Bind shares the checkpoint's memory")
		}
	}
}

func TestBindErrors(t *testing.T) {
	small := Config{Arch: "v2", Width: 0.35, Classes: 10, Resolution: 64}
	sd := stateDict(t, small)
	build := func(cfg Config) *ir.Graph {
		g, err := Build(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	check := func(name string, cfg Config, sd *torch.StateDict, want string) {
		t.Helper()
		g := build(cfg)
		err := Bind(g, cfg, sd)
		if err == nil || err.Error() != want {
			t.Errorf("%s:\n  error %v\n  want  %s", name, err, want)
		}
		for _, c := range g.Consts {
			if slices.ContainsFunc(c.Const.F32, func(v float32) bool { return v != 0 }) {
				t.Fatalf("%s: graph changed by a failed Bind (%s)", name, c.Name)
			}
		}
	}
	check("missing", small, without(sd, "features.5.conv.1.1.running_mean"),
		"bind: missing key features.5.conv.1.1.running_mean (mobilenet_v2 width 0.35 wants [96])")
	check("missing first in key order", small, without(without(sd, "classifier.1.bias"), "features.2.conv.3.weight"),
		"bind: missing key features.2.conv.3.weight (mobilenet_v2 width 0.35 wants [8])")

	extra := without(sd, "")
	extra.Keys = append(extra.Keys, "features.19.0.weight")
	extra.Tensors["features.19.0.weight"] = &torch.Tensor{Shape: []int{1}, Data: []float32{1}}
	check("unexpected", small, extra,
		"bind: unexpected key \"features.19.0.weight\" (not a parameter or buffer of mobilenet_v2 width 0.35)")

	nbt := without(sd, "")
	nbt.Keys = append(nbt.Keys, "features.2.conv.2.num_batches_tracked") // conv.2 is a Conv, not a BatchNorm
	nbt.Tensors["features.2.conv.2.num_batches_tracked"] = &torch.Tensor{Shape: []int{}, Data: []float32{0}}
	check("num_batches_tracked of a conv", small, nbt,
		"bind: unexpected key \"features.2.conv.2.num_batches_tracked\" (not a parameter or buffer of mobilenet_v2 width 0.35)")

	short := without(sd, "")
	short.Tensors["features.0.1.bias"] = &torch.Tensor{Shape: []int{16}, Data: make([]float32, 15)}
	check("short data", small, short,
		"bind: features.0.1.bias: checkpoint tensor of shape [16] holds 15 values, want 16")

	// Wrong width: the checkpoint's config is recognized.
	check("wrong width", Config{Arch: "v2", Width: 0.5, Classes: 10, Resolution: 64}, sd,
		"bind: features.2.conv.2.weight: checkpoint has [8,48,1,1], mobilenet_v2 width 0.5 wants [16,48,1,1]; "+
			"the checkpoint looks like mobilenet_v2 width 0.35 with 10 classes")
	check("the brief's example", Config{Arch: "v2"}, stateDict(t, Config{Arch: "v2", Width: 0.75}),
		"bind: features.0.0.weight: checkpoint has [24,3,3,3], mobilenet_v2 width 1.0 wants [32,3,3,3]; "+
			"the checkpoint looks like mobilenet_v2 width 0.75 with 1000 classes")
	// Wrong architecture.
	check("wrong arch", Config{Arch: "v3l", Width: 0.35, Classes: 10}, sd,
		"bind: features.0.0.weight: checkpoint has [16,3,3,3], mobilenet_v3_large width 0.35 wants [8,3,3,3]; "+
			"the checkpoint looks like mobilenet_v2 width 0.35 with 10 classes")
	check("reduced tail", Config{Arch: "v3s", Width: 0.75, Classes: 10},
		stateDict(t, Config{Arch: "v3s", Width: 0.75, Classes: 10, ReducedTail: true}),
		"bind: features.9.block.3.0.weight: checkpoint has [40,216,1,1], mobilenet_v3_small width 0.75 wants [72,216,1,1]; "+
			"the checkpoint looks like mobilenet_v3_small width 0.75 reduced_tail with 10 classes")
	// Wrong classes.
	check("classes", Config{Arch: "v2", Width: 0.35, Classes: 11, Resolution: 64}, sd,
		"bind: classifier.1.weight: checkpoint has [10,1280], mobilenet_v2 width 0.35 wants [11,1280]; "+
			"the checkpoint looks like mobilenet_v2 width 0.35 with 10 classes")
	// Not a MobileNet at all.
	other := &torch.StateDict{Keys: []string{"conv1.weight"}, Tensors: map[string]*torch.Tensor{"conv1.weight": {Shape: []int{64, 3, 7, 7}, Data: make([]float32, 64*3*7*7)}}}
	check("resnet", small, other,
		`bind: missing key features.0.0.weight (mobilenet_v2 width 0.35 wants [16,3,3,3]); the checkpoint has no features.0.0.weight (first key "conv1.weight"); is it a MobileNet state_dict?`)

	if err := Bind(nil, small, sd); err == nil {
		t.Error("nil graph accepted")
	}
	if err := Bind(build(small), small, nil); err == nil {
		t.Error("nil state dict accepted")
	}
}
