//go:build !purego

package kernels

// The ARM64 float32 elementwise kernels (elementwise_f32_arm64.s, written by
// asmgen_f32_arm64.go), the same for "neon" and "dotprod": one IEEE
// operation per element (FADD, FMUL; the pool's FADD chain position by
// position and FDIV), then actF32ARM's selects. The last elements that do
// not fill a vector run the twins.

// addF32NEON sets, for n (a multiple of 16) elements,
//
//	y[i] = act(a[i] + b[i])   // FADD
//
// The generic twin is AddF32.
//
//go:noescape
func addF32NEON(a, b, y *float32, n int, act *actF32ARM)

// mulF32NEON sets, for n (a multiple of 16) elements,
//
//	y[i] = act(a[i] * b[i])   // FMUL
//
// The generic twin is MulF32.
//
//go:noescape
func mulF32NEON(a, b, y *float32, n int, act *actF32ARM)

// actF32NEON sets y[i] = act(x[i]) for n (a multiple of 16) elements (y
// may be x). The generic twin is ActivateF32.
//
//go:noescape
func actF32NEON(x, y *float32, n int, act *actF32ARM)

// chanMulF32NEON computes, for npix pixels stride bytes apart (the same
// stride in x and y) and their first c4 (a multiple of 4) channels,
//
//	y[p][c] = act(x[p][c] * gate[c])   // FMUL
//
// The generic twin is ChannelMulF32.
//
//go:noescape
func chanMulF32NEON(x, gate, y *float32, npix, c4, stride int, act *actF32ARM)

// gapF32NEON sums x[hw][.] (positions stride bytes apart) over its hw
// positions for n16 blocks of 16 channels, then n4 blocks of 4:
//
//	for c in the blocks:
//		s := +0
//		for i := range hw:
//			s += x[i][c]              // FADD, position by position
//		y[c] = s / d[0]               // FDIV
//
// The generic twin is GlobalAveragePoolF32.
//
//go:noescape
func gapF32NEON(x *float32, hw, stride, n16, n4 int, y, d *float32)

func addF32ARM(act Activation, a, b, y []float32) {
	a, b = a[:len(y)], b[:len(y)]
	n := len(y) &^ 15
	if n > 0 {
		k := newActF32ARM(act)
		addF32NEON(&a[0], &b[0], &y[0], n, &k)
	}
	AddF32(act, a[n:], b[n:], y[n:])
}

func mulF32ARM(act Activation, a, b, y []float32) {
	a, b = a[:len(y)], b[:len(y)]
	n := len(y) &^ 15
	if n > 0 {
		k := newActF32ARM(act)
		mulF32NEON(&a[0], &b[0], &y[0], n, &k)
	}
	MulF32(act, a[n:], b[n:], y[n:])
}

func activateF32ARM(act Activation, x, y []float32) {
	y = y[:len(x)]
	n := len(x) &^ 15
	if n > 0 && act.Kind != ActNone {
		k := newActF32ARM(act)
		actF32NEON(&x[0], &y[0], n, &k)
	} else if n > 0 {
		copy(y[:n], x[:n])
	}
	ActivateF32(act, x[n:], y[n:])
}

func chanMulF32ARM(p *ChannelMulF32Params, x, g, y []float32, lo, hi int) {
	if lo >= hi {
		return
	}
	C := p.C
	if lo < 0 || hi > p.N*p.HW || len(x) < p.N*p.HW*C || len(g) < p.N*C || len(y) < p.N*p.HW*C {
		panic("kernels: float32 channel-mul slices too short for their parameters")
	}
	c4 := C &^ 3
	k := newActF32ARM(p.Act)
	for n := lo / p.HW; n < p.N && n*p.HW < hi; n++ {
		a, b := max(lo-n*p.HW, 0), min(hi-n*p.HW, p.HW)
		gs := g[n*C:][:C]
		off := (n*p.HW + a) * C
		if c4 > 0 {
			chanMulF32NEON(&x[off], &gs[0], &y[off], b-a, c4, 4*C, &k)
		}
		if c4 == C {
			continue
		}
		for i := a; i < b; i++ {
			o := (n*p.HW + i) * C
			for c := c4; c < C; c++ {
				y[o+c] = p.Act.apply(float32(x[o+c] * gs[c]))
			}
		}
	}
}

func gapF32ARM(n, hw, c int, x, y []float32) {
	if hw < 1 {
		GlobalAveragePoolF32(n, hw, c, x, y)
		return
	}
	if len(x) < n*hw*c || len(y) < n*c {
		panic("kernels: float32 pool slices too short for their parameters")
	}
	c4 := c &^ 3
	d := [1]float32{float32(hw)}
	for b := range n {
		xs, ys := x[b*hw*c:][:hw*c], y[b*c:][:c]
		if c4 > 0 {
			gapF32NEON(&xs[0], hw, 4*c, c4/16, c4%16/4, &ys[0], &d[0])
		}
		for ch := c4; ch < c; ch++ {
			var s float32
			for i := range hw {
				s += xs[i*c+ch]
			}
			ys[ch] = s / d[0]
		}
	}
}

// armElementwiseF32 installs the float32 kernels of this file into s.
func armElementwiseF32(s *Set) {
	s.AddF32 = addF32ARM
	s.MulF32 = mulF32ARM
	s.ActivateF32 = activateF32ARM
	s.ChannelMulF32 = chanMulF32ARM
	s.GlobalAveragePoolF32 = gapF32ARM
}
