package kernels

import (
	"errors"
	"fmt"
)

// ArgMax and concatenation (DeepLabV3's head): generic Go kernels, the same
// on every Set (there is no assembly twin), shared by the runtime and
// quant's int8 reference interpreter.

// ArgMax writes, for each of the outer*inner slices of x viewed as
// [outer][dim][inner], the index along dim of its largest element into
// y[o*inner+i]: the first largest wins ties, a float NaN never wins, and
// a slice that is all NaN gives 0 (ir.ArgMax's rule). On int8 codes of a
// positive scale the argmax of the codes is that of the values. The
// caller checks len(x) = outer*dim*inner, len(y) = outer*inner, dim >= 1.
func ArgMax[T int8 | float32](x []T, outer, dim, inner int, y []int32) {
	for o := range outer {
		for i := range inner {
			src := x[o*dim*inner+i:]
			best := -1
			var top T
			for d := range dim {
				v := src[d*inner]
				if v != v { // NaN
					continue
				}
				if best < 0 || v > top {
					best, top = d, v
				}
			}
			y[o*inner+i] = int32(max(best, 0))
		}
	}
}

// ArgMaxLastI8 is ArgMax of int8 codes over the last axis (inner = 1, the
// channels of an NHWC tensor), the same indices without the NaN test.
func ArgMaxLastI8(x []int8, outer, dim int, y []int32) {
	y = y[:outer]
	for o := range y {
		src := x[o*dim : o*dim+dim]
		best, top := 0, src[0]
		for d := 1; d < len(src); d++ {
			v := src[d]
			if v > top { // conditional moves, no branch to mispredict
				best = d
			}
			top = max(top, v)
		}
		y[o] = int32(best)
	}
}

// ArgMaxLastF32 is ArgMax of float32 values over the last axis (inner =
// 1), the same indices: the scan starts at the first value that is not
// NaN (0 if there is none), and a later value replaces the best only when
// larger (a NaN never is).
func ArgMaxLastF32(x []float32, outer, dim int, y []int32) {
	y = y[:outer]
	for o := range y {
		src := x[o*dim : o*dim+dim]
		first := 0
		for first < len(src)-1 && src[first] != src[first] {
			first++
		}
		best, top := first, src[first]
		for d := first + 1; d < len(src); d++ {
			v := src[d]
			gt := v > top
			if gt { // conditional moves, no branch to mispredict
				best = d
			}
			if gt {
				top = v
			}
		}
		if top != top { // all NaN
			best = 0
		}
		y[o] = int32(best)
	}
}

// Requant re-expresses int8 codes of one quantization in another: the
// identity (a copy) when both are the same, else y = clamp(z_y +
// RoundShift((x - z_x) M, S)) with M x 2^-S = s_x/s_y (NewMultiplier),
// the package's one requantization rule.
type Requant struct {
	M      Multiplier
	Zx, Zy int32
	Copy   bool
	// lut, made by NewRequant, holds the rule's result for each of the 256
	// codes, so that Apply looks codes up instead of multiplying.
	lut *[256]int8
}

// NewRequant returns the requantization from x to y.
func NewRequant(x, y Quant) (Requant, error) {
	if x.Scale == y.Scale && x.Zero == y.Zero {
		return Requant{Zx: x.Zero, Zy: y.Zero, Copy: true}, nil
	}
	if !(x.Scale > 0) || !(y.Scale > 0) {
		return Requant{}, fmt.Errorf("kernels: requantization from scale %g to %g", x.Scale, y.Scale)
	}
	m, err := NewMultiplier(x.Scale / y.Scale)
	if err != nil {
		return Requant{}, err
	}
	r := Requant{M: m, Zx: x.Zero, Zy: y.Zero, lut: new([256]int8)}
	for v := -128; v < 128; v++ {
		r.lut[uint8(v)] = Requantize(int32(v)-r.Zx, r.M, r.Zy, -128, 127)
	}
	return r, nil
}

// Apply requantizes x into y (of one length).
func (r *Requant) Apply(x, y []int8) {
	if r.Copy {
		copy(y, x)
		return
	}
	if r.lut != nil {
		y = y[:len(x)]
		for i, v := range x {
			y[i] = r.lut[uint8(v)]
		}
		return
	}
	for i, v := range x {
		y[i] = Requantize(int32(v)-r.Zx, r.M, r.Zy, -128, 127)
	}
}

// ConcatParams describes the concatenation of inputs viewed as
// [Outer][Chunks[k]] into y [Outer][Σ Chunks]: Chunks[k] is input k's
// extent along the axis times the elements after it.
type ConcatParams struct {
	Outer  int
	Chunks []int
	// Requant holds, for int8, each input's requantization to the
	// output's quantization (nil for float32: a copy).
	Requant []Requant
}

// Validate checks the inputs' and the output's lengths.
func (p *ConcatParams) Validate(lens []int, ny int) error {
	if len(lens) != len(p.Chunks) || (p.Requant != nil && len(p.Requant) != len(p.Chunks)) || p.Outer < 1 {
		return errors.New("kernels: concatenation parameters do not match its inputs")
	}
	total := 0
	for k, c := range p.Chunks {
		if c < 0 || lens[k] != p.Outer*c {
			return fmt.Errorf("kernels: concatenation input %d holds %d elements, want %d x %d", k, lens[k], p.Outer, c)
		}
		total += c
	}
	if ny != p.Outer*total {
		return fmt.Errorf("kernels: concatenation output holds %d elements, want %d x %d", ny, p.Outer, total)
	}
	return nil
}

// Offset returns where input k's chunk starts in each output row, and
// the row's length.
func (p *ConcatParams) Offset(k int) (off, total int) {
	for j, c := range p.Chunks {
		if j < k {
			off += c
		}
		total += c
	}
	return off, total
}

// ConcatF32 writes float32 input k of the concatenation into y.
func ConcatF32(p *ConcatParams, k int, x, y []float32) {
	c := p.Chunks[k]
	off, total := p.Offset(k)
	for o := range p.Outer {
		copy(y[o*total+off:o*total+off+c], x[o*c:(o+1)*c])
	}
}

// ConcatI8 writes int8 input k of the concatenation into y, requantized
// by p.Requant[k].
func ConcatI8(p *ConcatParams, k int, x, y []int8) {
	c := p.Chunks[k]
	off, total := p.Offset(k)
	r := &p.Requant[k]
	for o := range p.Outer {
		r.Apply(x[o*c:(o+1)*c], y[o*total+off:o*total+off+c])
	}
}
