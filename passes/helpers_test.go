package passes

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
)

// gb builds small graphs for the rewrite tests.
type gb struct {
	t *testing.T
	g *ir.Graph
	r *rand.Rand
}

func newGB(t *testing.T) *gb {
	return &gb{t: t, g: ir.NewGraph("t"), r: rand.New(rand.NewPCG(1, 2))}
}

func (b *gb) input(shape ...int) *ir.Value {
	return b.g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: shape})
}

// w adds a random constant.
func (b *gb) w(name string, shape ...int) *ir.Value {
	t := ir.NewFloat32(shape, nil)
	for i := range t.F32 {
		t.F32[i] = float32(b.r.NormFloat64())
	}
	return b.g.AddConst(name, t)
}

// pos adds a random positive constant (BatchNorm variances).
func (b *gb) pos(name string, shape ...int) *ir.Value {
	v := b.w(name, shape...)
	for i, x := range v.Const.F32 {
		v.Const.F32[i] = float32(math.Abs(float64(x))) + 0.1
	}
	return v
}

// k adds a one-element constant.
func (b *gb) k(x float32) *ir.Value {
	return b.g.AddConst("k", ir.NewFloat32(ir.Shape{1}, []float32{x}))
}

func (b *gb) add(op ir.Op, name string, attrs ir.Attrs, in ...*ir.Value) *ir.Value {
	b.t.Helper()
	v, err := b.g.Add(op, name, attrs, in...)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

func (b *gb) conv(name string, x *ir.Value, out, k int, bias bool) *ir.Value {
	b.t.Helper()
	in := []*ir.Value{x, b.w(name+".weight", out, x.Type.Shape[1], k, k)}
	if bias {
		in = append(in, b.w(name+".bias", out))
	}
	p := (k - 1) / 2
	return b.add(ir.Conv, name, &ir.ConvAttrs{Stride: [2]int{1, 1}, Pads: [4]int{p, p, p, p}}, in...)
}

func (b *gb) bn(name string, x *ir.Value) *ir.Value {
	b.t.Helper()
	c := x.Type.Shape[1]
	return b.add(ir.BatchNorm, name, &ir.BatchNormAttrs{Epsilon: 1e-3}, x,
		b.w(name+".weight", c), b.w(name+".bias", c), b.w(name+".mean", c), b.pos(name+".var", c))
}

func (b *gb) output(vs ...*ir.Value) *ir.Graph {
	b.g.Outputs = vs
	if err := ir.Verify(b.g); err != nil {
		b.t.Fatal(err)
	}
	return b.g
}

// randInput returns a random tensor for g's first input (unknown dims 2).
func randInput(g *ir.Graph, seed uint64) *ir.Tensor {
	s := g.Inputs[0].Type.Shape.Clone()
	for i, d := range s {
		if d < 0 {
			s[i] = 2
		}
	}
	r := rand.New(rand.NewPCG(seed, 7))
	t := ir.NewFloat32(s, nil)
	for i := range t.F32 {
		t.F32[i] = float32(r.NormFloat64() * 3)
	}
	return t
}

func runAll(t *testing.T, g *ir.Graph, in *ir.Tensor) []*ir.Tensor {
	t.Helper()
	outs, err := interp.Run(g, []*ir.Tensor{in}, nil)
	if err != nil {
		t.Fatalf("interp: %v\n%s", err, g)
	}
	return outs
}

// apply runs the named passes of Pipeline (or LowerHardActivations) on g,
// with ir.Verify after each, and checks that the interpreter's outputs on
// a random input are unchanged (to tol, relative to the largest output).
func apply(t *testing.T, g *ir.Graph, tol float64, names ...string) *Report {
	t.Helper()
	var list []Pass
	for _, n := range names {
		p, ok := FindPass(Pipeline, n)
		if !ok {
			t.Fatalf("no pass %q", n)
		}
		list = append(list, p)
	}
	in := randInput(g, 1)
	before := runAll(t, g, in)
	rep, err := RunPasses(g, list, Options{Check: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, g)
	}
	after := runAll(t, g, in)
	for i := range before {
		if !before[i].Shape.Equal(after[i].Shape) {
			t.Fatalf("output %d: shape %v, before %v", i, after[i].Shape, before[i].Shape)
		}
		maxAbs, maxDiff := 0.0, 0.0
		for j, v := range before[i].F32 {
			maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
			maxDiff = math.Max(maxDiff, math.Abs(float64(v)-float64(after[i].F32[j])))
		}
		if maxDiff > tol*math.Max(maxAbs, 1e-30) {
			t.Errorf("output %d changed: max |diff| %g, max |value| %g\n%s", i, maxDiff, maxAbs, g)
		}
	}
	return rep
}

// ops lists the graph's node ops in order, as "Conv Relu ...".
func ops(g *ir.Graph) string {
	s := make([]string, len(g.Nodes))
	for i, n := range g.Nodes {
		s[i] = n.Op.String()
	}
	return strings.Join(s, " ")
}

func wantOps(t *testing.T, g *ir.Graph, want string) {
	t.Helper()
	if got := ops(g); got != want {
		t.Errorf("ops %q, want %q\n%s", got, want, g)
	}
}

func node(g *ir.Graph, op ir.Op) *ir.Node {
	for _, n := range g.Nodes {
		if n.Op == op {
			return n
		}
	}
	return nil
}
