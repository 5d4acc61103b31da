//go:build !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"golang.org/x/sys/cpu"
)

// armImpls returns the GEMM families this CPU runs.
func armImpls(t *testing.T) []*armImpl {
	ims := []*armImpl{armNeon}
	if cpu.ARM64.HasASIMDDP {
		ims = append(ims, armDot)
	} else {
		t.Log("no ASIMDDP: dotprod kernels not tested")
	}
	return ims
}

func armName(im *armImpl) string {
	if im.dot {
		return "dotprod"
	}
	return "neon"
}

// TestArmGemmTiles sweeps the tile boundaries of the ARM64 GEMM kernels:
// rows below, at and above the 4-row tile, channel counts around the 4- and
// 16-channel blocks and the 256-channel epilogue group, K around the 4-,
// 8- and 16-byte steps, row strides above K, weights with and without -128
// (the neon kernel's two paths), extreme inputs and multipliers.
func TestArmGemmTiles(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	ks := []int{1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 15, 16, 17, 20, 23, 24, 25, 31, 32, 33, 40, 47, 48, 49, 63, 64, 65, 72, 100}
	outs := []int{1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 20, 31, 32, 33, 48, 255, 256, 257, 300}
	ps := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 13}
	n := 0
	for _, im := range armImpls(t) {
		for _, k := range ks {
			for _, o := range outs {
				if o > 48 && r.IntN(4) != 0 {
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
						w[i] = []int8{-127, 127}[r.IntN(2)]
					}
				}
				zs := []int32{-128, 127, 0, int32(r.IntN(256) - 128)}
				zx, zy := zs[r.IntN(4)], zs[r.IntN(4)]
				mult := extremeMults(r, o, r.IntN(3)/2, k)
				bias := randBias(r, o, k)
				out := []Range{Full, {int8(zy), 127}, {-128, -128}, {int8(-100 + r.IntN(90)), int8(10 + r.IntN(100))}}[r.IntN(4)]
				// The reference on compact rows.
				xc := make([]int8, p*k)
				for i := range p {
					copy(xc[i*k:][:k], x[i*stride:][:k])
				}
				want := make([]int8, p*o)
				gemmRows(xc, w, bias, want, k, o, zx, mult, zy, out, 0, p)
				packed := im.pack(w, o, k)
				got := make([]int8, p*o+7)
				for i := range got {
					got[i] = 99
				}
				lo := r.IntN(p)
				gemmRows(xc, w, bias, got, k, o, zx, mult, zy, out, 0, lo) // rows the kernel does not compute
				im.run(x[:(p-1)*stride+k], stride, k, packed, bias, got, o, zx, mult, zy, out, lo, p)
				name := fmt.Sprintf("%s K=%d O=%d P=%d stride=%d mode=%d lo=%d", armName(im), k, o, p, stride, mode, lo)
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
	}
	t.Logf("%d cases", n)
}

// TestArmGemmPackFlag checks that the packer flags exactly the weight
// matrices holding -128.
func TestArmGemmPackFlag(t *testing.T) {
	for _, im := range []*armImpl{armNeon, armDot} {
		l := im.layout(5, 19)
		w := make([]int8, 5*19)
		if readInt32(im.pack(w, 5, 19), l.flagOff()) != 0 {
			t.Errorf("%s: flag set without -128", armName(im))
		}
		w[77] = -128
		if readInt32(im.pack(w, 5, 19), l.flagOff()) != 1 {
			t.Errorf("%s: flag not set with -128", armName(im))
		}
	}
}
