//go:build !purego

package kernels

// The float32 elementwise kernels (elementwise_f32_amd64.s, written by
// asmgen_f32.go), in AVX2 (8 lanes; n or c a multiple of 8, the caller
// runs the twin on the rest) and AVX-512 (16 lanes, the last partial
// vector under an opmask) versions. One IEEE operation per element, then
// the activation act (actF32) by the selects of Activation:
//
//	actF32*(x, y, n, act):              y[i] = act(x[i])             twin ActivateF32
//	addF32*(a, b, y, n, act):           y[i] = act(a[i] + b[i])      twin AddF32
//	mulF32*(a, b, y, n, act):           y[i] = act(a[i] * b[i])      twin MulF32
//	chanMulF32*(x, g, y, npos, c, act): y[p*c+ch] = act(x[p*c+ch] * g[ch]) for p < npos   twin ChannelMulF32
//	gapF32*(x, y, hw, c, d):            y[ch] = (Σ_{i<hw} x[i*c+ch]) / *d, the sum in float32
//	                                    from +0, position by position   twin GlobalAveragePoolF32

//go:noescape
func actF32AVX2(x, y *float32, n int, act *actF32)

//go:noescape
func addF32AVX2(a, b, y *float32, n int, act *actF32)

//go:noescape
func mulF32AVX2(a, b, y *float32, n int, act *actF32)

//go:noescape
func chanMulF32AVX2(x, gate, y *float32, npos, c int, act *actF32)

//go:noescape
func gapF32AVX2(x, y *float32, hw, c int, d *float32)

//go:noescape
func actF32Z(x, y *float32, n int, act *actF32)

//go:noescape
func addF32Z(a, b, y *float32, n int, act *actF32)

//go:noescape
func mulF32Z(a, b, y *float32, n int, act *actF32)

//go:noescape
func chanMulF32Z(x, gate, y *float32, npos, c int, act *actF32)

//go:noescape
func gapF32Z(x, y *float32, hw, c int, d *float32)

// ewF32Impl is one family of float32 elementwise kernels.
type ewF32Impl struct{ evex bool }

var (
	ewF32AVX2 = &ewF32Impl{evex: false}
	ewF32Z    = &ewF32Impl{evex: true}
)

// vec returns how many of n elements the assembly handles.
func (e *ewF32Impl) vec(n int) int {
	if e.evex {
		return n
	}
	return n &^ 7
}

func (e *ewF32Impl) activate(act Activation, x, y []float32) {
	y = y[:len(x)]
	if n := e.vec(len(x)); n > 0 {
		var av actF32
		av.set(act)
		if e.evex {
			actF32Z(&x[0], &y[0], n, &av)
		} else {
			actF32AVX2(&x[0], &y[0], n, &av)
		}
		x, y = x[n:], y[n:]
	}
	ActivateF32(act, x, y)
}

func (e *ewF32Impl) add(act Activation, a, b, y []float32) {
	a, b = a[:len(y)], b[:len(y)]
	if n := e.vec(len(y)); n > 0 {
		var av actF32
		av.set(act)
		if e.evex {
			addF32Z(&a[0], &b[0], &y[0], n, &av)
		} else {
			addF32AVX2(&a[0], &b[0], &y[0], n, &av)
		}
		a, b, y = a[n:], b[n:], y[n:]
	}
	AddF32(act, a, b, y)
}

func (e *ewF32Impl) mul(act Activation, a, b, y []float32) {
	a, b = a[:len(y)], b[:len(y)]
	if n := e.vec(len(y)); n > 0 {
		var av actF32
		av.set(act)
		if e.evex {
			mulF32Z(&a[0], &b[0], &y[0], n, &av)
		} else {
			mulF32AVX2(&a[0], &b[0], &y[0], n, &av)
		}
		a, b, y = a[n:], b[n:], y[n:]
	}
	MulF32(act, a, b, y)
}

func (e *ewF32Impl) channelMul(p *ChannelMulF32Params, x, g, y []float32, lo, hi int) {
	if e.vec(p.C) != p.C {
		ChannelMulF32(p, x, g, y, lo, hi)
		return
	}
	if lo >= hi {
		return
	}
	// The assembly trusts its arguments: check every access here.
	if lo < 0 || hi > p.N*p.HW || len(x) < p.N*p.HW*p.C || len(g) < p.N*p.C || len(y) < p.N*p.HW*p.C {
		panic("kernels: channel-mul slices too short for their parameters")
	}
	var av actF32
	av.set(p.Act)
	for n := lo / p.HW; n < p.N && n*p.HW < hi; n++ {
		a, b := max(lo-n*p.HW, 0), min(hi-n*p.HW, p.HW)
		off := (n*p.HW + a) * p.C
		if e.evex {
			chanMulF32Z(&x[off], &g[n*p.C], &y[off], b-a, p.C, &av)
		} else {
			chanMulF32AVX2(&x[off], &g[n*p.C], &y[off], b-a, p.C, &av)
		}
	}
}

func (e *ewF32Impl) globalAveragePool(n, hw, c int, x, y []float32) {
	if len(x) < n*hw*c || len(y) < n*c {
		panic("kernels: pool slices too short for their parameters")
	}
	if hw < 1 {
		GlobalAveragePoolF32(n, hw, c, x, y)
		return
	}
	d := float32(hw)
	cv := e.vec(c)
	for b := range n {
		xs, ys := x[b*hw*c:][:hw*c], y[b*c:][:c]
		if cv > 0 {
			if e.evex {
				gapF32Z(&xs[0], &ys[0], hw, c, &d)
			} else {
				gapF32AVX2(&xs[0], &ys[0], hw, c, &d)
			}
		}
		// The channels past the vectors: the twin's sum and division.
		for ch := cv; ch < c; ch++ {
			var s float32
			for i := range hw {
				s += xs[i*c+ch]
			}
			ys[ch] = s / d
		}
	}
}
