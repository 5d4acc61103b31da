//go:build !purego

package kernels

// The ARM64 float32 depthwise kernels (depthwise_f32_arm64.s, written by
// asmgen_f32_arm64.go), the same for "neon" and "dotprod": 3x3 and 5x5
// windows, multiplier 1, any stride, dilation and padding. Channels go four
// to a vector; C % 4 remaining channels run the twin's loop in Go.
//
// Arithmetic: each output channel is the FMA32 chain of the twin, from its
// bias over the taps kh, kw row-major, one FMLA (vector: lane c's x times
// lane c's weight, fused) per tap. A tap outside the input is an FMLA of the
// zero vector, not skipped (its product may be -0, and 0 x Inf is NaN).
//
// Driving (dwF32RunARM): per output row, the rows of its window inside the
// input are given by pointer (rowmask marks them; the others take the zero
// vector), then one call computes the pixels whose every tap column is
// inside the input (the interior), and one call each the pixels left and
// right of it, whose outside columns colmask marks. A kernel runs the
// pixels in tiles, for dilation 1 of 8, 4, 2 and 1 pixels, each input
// column loaded once for every pixel of the tile whose window holds it (a
// tile's chains still run their taps in order); otherwise (the border
// pixels, dilation > 1, strides other than the kernel's) one pixel at a
// time, testing each tap's row and column bit. Each tile runs every block
// of 4 channels in turn (so that its window is read in whole cache lines),
// loading the block's weights (3x3: all nine into registers; 5x5: a row
// of five at a time) and bias.
//
// Packed layout (packDwF32ARM), T = KH x KW taps, nb = C/4 blocks, rem = C%4:
// for block b and tap t, w[t][4b .. 4b+3] at (b*T + t)*4; then the
// remaining channels w[t][4nb + j] at nb*T*4 + t*rem + j; then one float
// (zero) that sets the length apart from the generic T x C.

// dwF32ArgsARM is what the depthwise kernels read (offsets in
// asmgen_f32_arm64.go; TestDwF32ArgsARMLayout checks them).
type dwF32ArgsARM struct {
	rows    [5]*float32 // input row iy(kh), column 0, channel 0; nil outside the input
	rowmask int         // bit kh: row kh inside the input
	colmask int         // bit kw: tap column kw inside the input, for every pixel of the call
	col0    int         // bytes from a row's start to the first pixel's tap-0 column (may be negative)
	pstep   int         // bytes between the windows of consecutive pixels: StrideW*C*4
	tstep   int         // bytes between taps kw: DilationW*C*4
	cstep   int         // bytes per pixel: C*4
	tiled   int         // 1: the register tiles (dilation 1, the kernel's stride, colmask full)
	npix    int         // output pixels
	nblk    int         // blocks of 4 channels
	w       *float32    // packed weights, block 0
	bias    *float32    // bias of block 0 (or 4 zeros)
	bstep   int         // bytes between blocks' biases: 16, or 0 for the zeros
	y       *float32    // output pixel 0 of the call, channel 0
	act     *actF32ARM
}

// dwF32K3S1 computes, for npix output pixels of one row and nblk blocks of
// 4 channels, a 3x3 depthwise convolution (tiles for stride 1):
//
//	for b := range nblk:
//		for i := range npix:
//			for c in block b:
//				acc := bias[c]
//				for kh, kw := range 3, 3:       // row-major
//					xv := 0
//					if rowmask>>kh&1 == 1 && colmask>>kw&1 == 1:
//						xv = rows[kh][(col0 + i*pstep + kw*tstep)/4 + c]
//					acc = FMA32(xv, w[kh][kw][c], acc)   // FMLA
//				y[i*C + c] = act(acc)
//
// The generic twin is DepthwiseF32.
//
//go:noescape
func dwF32K3S1(a *dwF32ArgsARM)

// dwF32K3S2 is dwF32K3S1 with its tiles for stride 2. The generic twin is
// DepthwiseF32.
//
//go:noescape
func dwF32K3S2(a *dwF32ArgsARM)

// dwF32K5S1 is dwF32K3S1 for a 5x5 window. The generic twin is
// DepthwiseF32.
//
//go:noescape
func dwF32K5S1(a *dwF32ArgsARM)

// dwF32K5S2 is dwF32K5S1 with its tiles for stride 2. The generic twin is
// DepthwiseF32.
//
//go:noescape
func dwF32K5S2(a *dwF32ArgsARM)

// dwF32FastARM reports whether p has a NEON kernel.
func dwF32FastARM(p *ConvF32Params) bool {
	return p.O == p.C && p.C >= 4 && p.KH == p.KW && (p.KH == 3 || p.KH == 5)
}

func dwF32PackedLenARM(p *ConvF32Params) int { return p.KH*p.KW*p.C + 1 }

// packDwF32ARM is the PackDepthwiseF32 of the ARM64 Sets.
func packDwF32ARM(p *ConvF32Params, w []float32) []float32 {
	if !dwF32FastARM(p) {
		return w
	}
	C, T := p.C, p.KH*p.KW
	nb, rem := C/4, C%4
	out := make([]float32, dwF32PackedLenARM(p))
	for b := range nb {
		for t := range T {
			copy(out[(b*T+t)*4:][:4], w[t*C+4*b:][:4])
		}
	}
	for t := range T {
		copy(out[nb*T*4+t*rem:][:rem], w[t*C+4*nb:][:rem])
	}
	return out
}

// dwF32RunARM is the DepthwiseF32 of the ARM64 Sets.
func dwF32RunARM(p *ConvF32Params, x, w, bias, y []float32, lo, hi int) {
	T := p.KH * p.KW
	if !dwF32FastARM(p) || len(w) == T*p.O {
		DepthwiseF32(p, x, w, bias, y, lo, hi)
		return
	}
	if lo >= hi {
		return
	}
	C := p.C
	if len(w) != dwF32PackedLenARM(p) || len(x) < p.N*p.H*p.W*C || len(y) < p.N*p.OH*p.OW*C || hi > p.Rows() || lo < 0 ||
		(bias != nil && len(bias) < C) {
		panic("kernels: float32 depthwise slices too short for their parameters")
	}
	nb, rem := C/4, C%4
	dh, dw := p.dil()
	s := p.StrideW
	ak := newActF32ARM(p.Act)
	var zero [4]float32
	a := dwF32ArgsARM{cstep: 4 * C, pstep: 4 * s * C, tstep: 4 * dw * C, nblk: nb, w: &w[0], bias: &zero[0], act: &ak}
	if bias != nil {
		a.bias, a.bstep = &bias[0], 16
	}
	kern := 0 // dwF32CallARM: 3x3 or 5x5 (+2), tiles for stride 1 or 2 (+1)
	if p.KH == 5 {
		kern += 2
	}
	if s == 2 {
		kern++
	}
	full := 1<<p.KW - 1
	// Interior pixels: ox*s - PadLeft >= 0 and ox*s - PadLeft + (KW-1)*dw < W.
	oxA := 0
	if p.PadLeft > 0 {
		oxA = (p.PadLeft + s - 1) / s
	}
	oxB := -1
	if last := p.W - 1 + p.PadLeft - (p.KW-1)*dw; last >= 0 {
		oxB = last / s
	}
	oxB = min(oxB+1, p.OW)
	oxA = min(oxA, oxB)
	call := func(ox, npix, mask int, yRow int) {
		a.col0 = 4 * (ox*s - p.PadLeft) * C
		a.colmask, a.npix, a.y = mask, npix, &y[yRow+ox*C]
		a.tiled = 0
		if mask == full && dw == 1 && (s == 1 || s == 2) {
			a.tiled = 1
		}
		dwF32CallARM(kern, &a)
	}
	for r := lo; r < hi; r++ {
		n, oy := r/p.OH, r%p.OH
		a.rowmask = 0
		for kh := range p.KH {
			a.rows[kh] = nil
			if iy := oy*p.StrideH - p.PadTop + kh*dh; iy >= 0 && iy < p.H {
				a.rows[kh] = &x[(n*p.H+iy)*p.W*C]
				a.rowmask |= 1 << kh
			}
		}
		yRow := (n*p.OH + oy) * p.OW * C
		if nb > 0 {
			for ox := range p.OW {
				if ox == oxA && oxA < oxB {
					call(oxA, oxB-oxA, full, yRow)
					continue
				}
				if ox > oxA && ox < oxB {
					continue
				}
				mask := 0
				for kw := range p.KW {
					if ix := ox*s - p.PadLeft + kw*dw; ix >= 0 && ix < p.W {
						mask |= 1 << kw
					}
				}
				call(ox, 1, mask, yRow)
			}
		}
		if rem > 0 {
			dwF32RemARM(p, x, w[nb*T*4:][:T*rem], bias, y, n, oy, 4*nb)
		}
	}
}

// dwF32RemARM computes channels [c0, C) of output row (n, oy) as the twin
// does, from their weights wr[t][c-c0].
func dwF32RemARM(p *ConvF32Params, x, wr, bias, y []float32, n, oy, c0 int) {
	C, rem := p.C, p.C-c0
	dh, dw := p.dil()
	for ox := range p.OW {
		yo := y[((n*p.OH+oy)*p.OW+ox)*C:][:C]
		for c := c0; c < C; c++ {
			acc := biasAt(bias, c)
			for kh := range p.KH {
				iy := oy*p.StrideH - p.PadTop + kh*dh
				for kw := range p.KW {
					ix := ox*p.StrideW - p.PadLeft + kw*dw
					wv := wr[(kh*p.KW+kw)*rem+c-c0]
					xv := float32(0)
					if iy >= 0 && iy < p.H && ix >= 0 && ix < p.W {
						xv = x[((n*p.H+iy)*p.W+ix)*C+c]
					}
					acc = FMA32(xv, wv, acc)
				}
			}
			yo[c] = p.Act.apply(acc)
		}
	}
}

// dwF32CallARM calls kernel kern (0: dwF32K3S1, 1: dwF32K3S2, 2: dwF32K5S1,
// 3: dwF32K5S2) directly, so that a does not escape.
func dwF32CallARM(kern int, a *dwF32ArgsARM) {
	switch kern {
	case 0:
		dwF32K3S1(a)
	case 1:
		dwF32K3S2(a)
	case 2:
		dwF32K5S1(a)
	default:
		dwF32K5S2(a)
	}
}

// armDepthwiseF32 installs the float32 depthwise kernels into s.
func armDepthwiseF32(s *Set) {
	s.PackDepthwiseF32 = packDwF32ARM
	s.DepthwiseF32 = dwF32RunARM
}
