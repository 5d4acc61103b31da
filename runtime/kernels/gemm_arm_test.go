//go:build !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestNeon32GemmTiles sweeps the tile boundaries of the neon32 GEMM kernels:
// rows below, at and above the 2-row tile, channel counts around the
// 4-channel block and the 256-channel epilogue group, K around the 8- and
// 16-byte steps, row strides above K (and rows at the end of x, which the
// driver copies), weights with and without -128 (the two kernels), extreme
// inputs and multipliers, and the bytes past the output untouched.
func TestNeon32GemmTiles(t *testing.T) {
	r := rand.New(rand.NewPCG(73, 74))
	ks := []int{1, 2, 3, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 40, 48, 49, 64, 65, 100}
	outs := []int{1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 31, 32, 33, 255, 256, 257, 300}
	ps := []int{1, 2, 3, 4, 5, 6, 7, 13}
	n := 0
	for _, k := range ks {
		for _, o := range outs {
			if o > 33 && r.IntN(3) != 0 {
				continue
			}
			p := ps[r.IntN(len(ps))]
			stride := k + []int{0, 0, 1, 5, 16}[r.IntN(5)]
			mode := r.IntN(4) // 0, 1: random in [-127, 127]; 2: with -128; 3: extremes
			x := randI8(r, p*stride, -128, 127)
			w := randI8(r, o*k, -127, 127)
			switch mode {
			case 2:
				w = randI8(r, o*k, -128, 127)
				w[r.IntN(len(w))] = -128
			case 3:
				for i := range x {
					x[i] = []int8{-128, 127}[r.IntN(2)]
				}
				for i := range w {
					w[i] = []int8{-128, -127, 127}[r.IntN(3)]
				}
			}
			zs := []int32{-128, 127, 0, int32(r.IntN(256) - 128)}
			zx, zy := zs[r.IntN(4)], zs[r.IntN(4)]
			mult := extremeMults(r, o, r.IntN(3)/2, k)
			bias := randBias(r, o, k)
			out := []Range{Full, {int8(zy), 127}, {-128, -128}, {int8(-100 + r.IntN(90)), int8(10 + r.IntN(100))}}[r.IntN(4)]
			xc := make([]int8, p*k)
			for i := range p {
				copy(xc[i*k:][:k], x[i*stride:][:k])
			}
			want := make([]int8, p*o)
			gemmRows(xc, w, bias, want, k, o, zx, mult, zy, out, 0, p)
			packed := packNeon32(w, o, k)
			got := make([]int8, p*o+7)
			for i := range got {
				got[i] = 99
			}
			lo := r.IntN(p)
			gemmRows(xc, w, bias, got, k, o, zx, mult, zy, out, 0, lo) // rows the kernel does not compute
			runNeon32(x[:(p-1)*stride+k], stride, k, packed, bias, got, o, zx, mult, zy, out, lo, p)
			name := fmt.Sprintf("neon32 K=%d O=%d P=%d stride=%d mode=%d lo=%d", k, o, p, stride, mode, lo)
			if !slices.Equal(got[:p*o], want) {
				reportDiff(t, name, got[:p*o], want, o)
			}
			for _, v := range got[p*o:] {
				if v != 99 {
					t.Fatalf("%s: wrote past the output", name)
				}
			}
			n++
		}
	}
	t.Logf("%d cases", n)
}

// TestNeon32GemmPackFlag checks that the packer flags exactly the weight
// matrices holding -128.
func TestNeon32GemmPackFlag(t *testing.T) {
	l := newArmLayout(5, 19, false)
	w := make([]int8, 5*19)
	if readInt32(packNeon32(w, 5, 19), l.flagOff()) != 0 {
		t.Error("flag set without -128")
	}
	w[77] = -128
	if readInt32(packNeon32(w, 5, 19), l.flagOff()) != 1 {
		t.Error("flag not set with -128")
	}
}
