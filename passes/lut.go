package passes

import (
	"fmt"
	"math"
	"math/big"

	"github.com/mncdev/mnc/ir"
)

// QParams is a per-tensor affine quantization: real = Scale * (q - Zero).
type QParams struct {
	Scale float32
	Zero  int32
}

func (q QParams) valid() error {
	if !(q.Scale > 0) || math.IsInf(float64(q.Scale), 0) {
		return fmt.Errorf("scale %g is not positive and finite", q.Scale)
	}
	if q.Zero < -128 || q.Zero > 127 {
		return fmt.Errorf("zero point %d is outside [-128, 127]", q.Zero)
	}
	return nil
}

// Table rule. HardSigmoidTable and HardSwishTable return T with, for every
// int8 code q, T[uint8(q)] (the index is the code's two's-complement byte)
// equal to
//
//	clamp(roundHalfAway(f(in.Scale*(q - in.Zero)) / out.Scale) + out.Zero, -128, 127)
//
// evaluated exactly, in rational arithmetic on the float32 scales (no
// intermediate rounding), where f is the exact piecewise-linear function
//
//	hardsigmoid(x) = 0 for x <= -3, x/6 + 1/2 for -3 < x < 3, 1 for x >= 3
//	hardswish(x)   = x * hardsigmoid(x)
//
// and roundHalfAway rounds to the nearest integer, halves away from zero. So
// each entry is the correctly rounded int8 result of the float function for
// its input code. Both panic if a scale is not positive and finite or a zero
// point is outside [-128, 127].
func HardSigmoidTable(in, out QParams) [256]int8 { return table(in, out, false) }

// HardSwishTable: see HardSigmoidTable.
func HardSwishTable(in, out QParams) [256]int8 { return table(in, out, true) }

// SigmoidTable returns the table of sigmoid(x) = 1/(1+exp(-x)) by the same
// rule: each entry the correctly rounded int8 result for its input code.
// exp has no rational form, so it is evaluated in 256-bit binary floating
// point (sigmoidBig), far past the precision that could move a rounding:
// the exact value is irrational for every code but x = 0 (exactly 1/2 there,
// as here), so it never sits on a rounding boundary. The table does not
// depend on the CPU or on Go's math package. Panics as HardSigmoidTable.
func SigmoidTable(in, out QParams) [256]int8 {
	mustValid(in, out)
	var t [256]int8
	sIn := new(big.Rat).SetFloat64(float64(in.Scale))
	sOut := new(big.Rat).SetFloat64(float64(out.Scale))
	for c := -128; c <= 127; c++ {
		x := new(big.Rat).Mul(sIn, big.NewRat(int64(c)-int64(in.Zero), 1))
		y, _ := new(big.Float).SetPrec(sigmoidPrec).Quo(sigmoidBig(x), new(big.Float).SetPrec(sigmoidPrec).SetRat(sOut)).Rat(nil)
		q := roundHalfAway(y) + int64(out.Zero)
		t[uint8(int8(c))] = int8(min(max(q, -128), 127))
	}
	return t
}

// sigmoidPrec is the binary precision of sigmoidBig.
const sigmoidPrec = 256

// sigmoidBig is 1/(1+exp(-x)) to about sigmoidPrec bits: exp(-|x|) by its
// Taylor series at |x|/2^k (k making the argument below 1/2), squared k
// times; sigmoid(x) = 1 - sigmoid(-x) for x < 0.
func sigmoidBig(x *big.Rat) *big.Float {
	prec := uint(sigmoidPrec + 64)
	a := new(big.Float).SetPrec(prec).SetRat(x)
	neg := a.Sign() < 0
	a.Abs(a)
	k := 0
	half := big.NewFloat(0.5)
	for a.Cmp(half) > 0 {
		a.Quo(a, big.NewFloat(2))
		k++
	}
	// e = exp(-a) = sum (-a)^n / n!
	e := new(big.Float).SetPrec(prec).SetInt64(1)
	term := new(big.Float).SetPrec(prec).SetInt64(1)
	eps := new(big.Float).SetPrec(prec).SetMantExp(big.NewFloat(1), -int(prec))
	for n := int64(1); ; n++ {
		term.Mul(term, a)
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(-n))
		e.Add(e, term)
		if new(big.Float).Abs(term).Cmp(eps) < 0 {
			break
		}
	}
	for range k {
		e.Mul(e, e)
	}
	one := new(big.Float).SetPrec(prec).SetInt64(1)
	s := new(big.Float).SetPrec(prec).Quo(one, new(big.Float).SetPrec(prec).Add(one, e)) // sigmoid(|x|)
	if neg {
		s.Sub(one, s)
	}
	return s
}

// LookupIndex is the table index of int8 code q.
func LookupIndex(q int8) uint8 { return uint8(q) }

// mustValid panics unless both quantizations are valid (the tables' rule).
func mustValid(in, out QParams) {
	if err := in.valid(); err != nil {
		panic("input quantization: " + err.Error())
	}
	if err := out.valid(); err != nil {
		panic("output quantization: " + err.Error())
	}
}

func table(in, out QParams, swish bool) [256]int8 {
	mustValid(in, out)
	var t [256]int8
	sIn := new(big.Rat).SetFloat64(float64(in.Scale))
	sOut := new(big.Rat).SetFloat64(float64(out.Scale))
	three, sixth, half := big.NewRat(3, 1), big.NewRat(1, 6), big.NewRat(1, 2)
	minusThree := big.NewRat(-3, 1)
	for c := -128; c <= 127; c++ {
		x := new(big.Rat).Mul(sIn, big.NewRat(int64(c)-int64(in.Zero), 1))
		var h *big.Rat
		switch {
		case x.Cmp(minusThree) <= 0:
			h = new(big.Rat)
		case x.Cmp(three) >= 0:
			h = big.NewRat(1, 1)
		default:
			h = new(big.Rat).Mul(x, sixth)
			h.Add(h, half)
		}
		y := h
		if swish {
			y = new(big.Rat).Mul(x, h)
		}
		y.Quo(y, sOut)
		q := roundHalfAway(y) + int64(out.Zero)
		t[uint8(int8(c))] = int8(min(max(q, -128), 127))
	}
	return t
}

// roundHalfAway rounds r to the nearest integer, halves away from zero. The
// result saturates far beyond the int8 range.
func roundHalfAway(r *big.Rat) int64 {
	// floor((2|a| + b) / 2b) for r = a/b, b > 0, then the sign.
	a := new(big.Int).Abs(r.Num())
	b := r.Denom()
	num := new(big.Int).Add(new(big.Int).Lsh(a, 1), b)
	q := new(big.Int).Quo(num, new(big.Int).Lsh(b, 1))
	if !q.IsInt64() || q.Int64() > 1<<40 {
		q.SetInt64(1 << 40)
	}
	v := q.Int64()
	if r.Sign() < 0 {
		v = -v
	}
	return v
}

// LowerHardActivations is the pass that replaces quantized hard activations
// by table lookups. It is not part of Pipeline: the quantization stage runs
// it once every value carries its quantization.
var LowerHardActivations = Pass{
	Name: "lower-hard-activations", Fn: lowerHardActivations, Required: true,
	Doc: "replace int8 HardSigmoid/HardSwish (standalone or fused) and Sigmoid by 256-entry Lookup tables",
}

// lowerHardActivations turns every HardSigmoid(alpha=1/6, beta=1/2),
// HardSwish and Sigmoid on int8 values with per-tensor quantization into a Lookup node
// with the table of HardSigmoidTable or HardSwishTable. A hard activation
// fused into a Conv, Gemm or elementwise op whose result is int8 is split
// off: the op's result becomes a new int8 value quantized as the
// activation's InQuant (required), which a Lookup maps to the original
// result. Float hard activations are left alone.
func lowerHardActivations(s *State) error {
	g := s.Graph
	for _, n := range append([]*ir.Node(nil), g.Nodes...) {
		switch n.Op {
		case ir.Sigmoid:
			x, y := n.Inputs[0], n.Output()
			if x.Type.DType != ir.Int8 || y.Type.DType != ir.Int8 {
				continue
			}
			qi, err := perTensor(x.Quant)
			if err == nil {
				var qo QParams
				if qo, err = perTensor(y.Quant); err == nil {
					s.Count("Sigmoid -> Lookup")
					n.Op, n.Attrs = ir.Lookup, &ir.LookupAttrs{Fn: "sigmoid", Table: SigmoidTable(qi, qo)}
					continue
				}
			}
			return fmt.Errorf("%s %q: %w", n.Op, n.Name, err)
		case ir.HardSigmoid, ir.HardSwish:
			x, y := n.Inputs[0], n.Output()
			if x.Type.DType != ir.Int8 || y.Type.DType != ir.Int8 {
				continue
			}
			swish := n.Op == ir.HardSwish
			if !swish && !isStdHardSigmoid(n) {
				a := n.Attrs.(*ir.HardSigmoidAttrs)
				return fmt.Errorf("%s %q: alpha=%g beta=%g: only alpha=1/6, beta=1/2 has a table", n.Op, n.Name, a.Alpha, a.Beta)
			}
			attrs, err := lookupAttrs(swish, x.Quant, y.Quant)
			if err != nil {
				return fmt.Errorf("%s %q: %w", n.Op, n.Name, err)
			}
			s.Count(n.Op.String() + " -> Lookup")
			n.Op, n.Attrs = ir.Lookup, attrs
		default:
			act, ok := fusedAct(n)
			if !ok || (act.Kind != ir.ActHardSigmoid && act.Kind != ir.ActHardSwish) || n.Output().Type.DType != ir.Int8 {
				continue
			}
			swish := act.Kind == ir.ActHardSwish
			if !swish && (math.Abs(float64(act.Alpha)-1.0/6) > 1e-6 || act.Beta != 0.5) {
				return fmt.Errorf("%s %q: fused hardsigmoid alpha=%g beta=%g: only alpha=1/6, beta=1/2 has a table", n.Op, n.Name, act.Alpha, act.Beta)
			}
			if act.InQuant == nil {
				return fmt.Errorf("%s %q: fused %v has no input quantization (Activation.InQuant)", n.Op, n.Name, act.Kind)
			}
			y := n.Output()
			attrs, err := lookupAttrs(swish, act.InQuant, y.Quant)
			if err != nil {
				return fmt.Errorf("%s %q: fused %v: %w", n.Op, n.Name, act.Kind, err)
			}
			pre := g.NewValue(y.Name+".pre", y.Type)
			pre.Quant = act.InQuant
			setAct(n, ir.Activation{})
			n.Outputs[0] = pre
			insertAfter(g, n, &ir.Node{Name: n.Name + "." + act.Kind.String(), Op: ir.Lookup, Attrs: attrs,
				Inputs: []*ir.Value{pre}, Outputs: []*ir.Value{y}})
			s.Count("fused " + act.Kind.String() + " -> Lookup")
		}
	}
	return nil
}

func lookupAttrs(swish bool, in, out *ir.QuantParams) (*ir.LookupAttrs, error) {
	qi, err := perTensor(in)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	qo, err := perTensor(out)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	if swish {
		return &ir.LookupAttrs{Fn: "hardswish", Table: HardSwishTable(qi, qo)}, nil
	}
	return &ir.LookupAttrs{Fn: "hardsigmoid", Table: HardSigmoidTable(qi, qo)}, nil
}

func perTensor(q *ir.QuantParams) (QParams, error) {
	if q == nil {
		return QParams{}, fmt.Errorf("no quantization parameters")
	}
	if len(q.Scale) != 1 || len(q.ZeroPoint) != 1 {
		return QParams{}, fmt.Errorf("per-axis quantization (%d scales) has no single table", len(q.Scale))
	}
	p := QParams{Scale: q.Scale[0], Zero: q.ZeroPoint[0]}
	return p, p.valid()
}
