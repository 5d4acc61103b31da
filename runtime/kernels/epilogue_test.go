package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestEpilogueRewrite checks the 32-bit rewrite of the requantization rule
// that every SIMD kernel uses (epiBlock) against Requantize, over every
// shift, extreme multipliers, accumulators at and around the clamp bounds,
// ties, and extreme zero points and output ranges.
// TestEpiBlockLayout: the field offsets the assembly reads (the comments
// of epiBlock and epiOut) and the block size are the struct's.
func TestEpiBlockLayout(t *testing.T) {
	var e epiBlock
	offs := []struct {
		name      string
		got, want uintptr
	}{
		{"corr", unsafe.Offsetof(e.corr), 0}, {"negB", unsafe.Offsetof(e.negB), 64}, {"b", unsafe.Offsetof(e.b), 128},
		{"l", unsafe.Offsetof(e.l), 192}, {"m", unsafe.Offsetof(e.m), 256}, {"modd", unsafe.Offsetof(e.modd), 320},
		{"round", unsafe.Offsetof(e.round), 384}, {"sh", unsafe.Offsetof(e.sh), 448}, {"out", unsafe.Offsetof(e.out), 512},
		{"out.lo", unsafe.Offsetof(e.out) + unsafe.Offsetof(e.out.lo), 512}, {"out.hi", unsafe.Offsetof(e.out) + unsafe.Offsetof(e.out.hi), 544},
		{"out.zw", unsafe.Offsetof(e.out) + unsafe.Offsetof(e.out.zw), 576}, {"size", unsafe.Sizeof(e), epiBlockSize},
	}
	for _, o := range offs {
		if o.got != o.want {
			t.Errorf("epiBlock %s at %d, want %d", o.name, o.got, o.want)
		}
	}
}

func TestEpilogueRewrite(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	accs := func(b int32) []int32 {
		s := []int32{0, 1, -1, 2, -2, math.MaxInt32, -math.MaxInt32, 1 << 30, -(1 << 30), 12345, -12345}
		for _, d := range []int32{-2, -1, 0, 1, 2} {
			if int64(b)+int64(d) <= math.MaxInt32 && int64(b)+int64(d) >= -math.MaxInt32 {
				s = append(s, b+d, -(b + d))
			}
		}
		for range 40 {
			s = append(s, int32(r.Int64N(1<<32-1)-(1<<31-1)))
			s = append(s, int32(r.IntN(1<<16)-1<<15))
			s = append(s, int32(r.IntN(1<<10)-1<<9))
		}
		return s
	}
	zs := []int32{-128, -127, -1, 0, 1, 126, 127}
	outs := []Range{Full, {0, 127}, {-128, -128}, {127, 127}, {-5, 17}, {-128, 0}}
	n := 0
	for s := int32(MinShift); s <= MaxShift; s++ {
		ms := []int32{1 << 30, 1<<31 - 1, 1<<30 + 1, int32(1<<30 + r.IntN(1<<30))}
		if s == MaxShift {
			ms = append(ms, 0, 1, 1<<29, 12345)
		}
		for _, m := range ms {
			mult := Multiplier{M: m, S: s}
			if err := mult.Validate(); err != nil {
				t.Fatal(err)
			}
			b, _, _, _ := epiChannel(mult)
			cands := accs(b)
			if m == 1<<30 && s >= 31 && s <= 60 {
				// Exact ties: acc 2^30 = (2k+1) 2^(S-1).
				for _, k := range []int32{0, 1, 2, 3, 100, 255, 256} {
					if v := int64(2*k+1) << (s - 31); v <= math.MaxInt32 {
						cands = append(cands, int32(v), -int32(v))
					}
				}
			}
			for _, z := range zs {
				for _, out := range outs {
					var e epiBlock
					flags := e.fill([]Multiplier{mult}, nil, nil, -1, 0, z, out, 0, 1)
					for _, a := range cands {
						want := Requantize(a, mult, z, out.Lo, out.Hi)
						if got := e.epiEmulate(0, a, flags); got != want {
							t.Fatalf("S=%d M=%d z=%d out=%v acc=%d: got %d, want %d", s, m, z, out, a, got, want)
						}
						n++
					}
				}
			}
		}
	}
	// Real multipliers through NewMultiplier, ties included: acc M + 2^(S-1) = k 2^S.
	for range 20000 {
		real := math.Ldexp(0.5+r.Float64()/2, -r.IntN(70))
		mult, err := NewMultiplier(real)
		if err != nil {
			t.Fatal(err)
		}
		z := int32(r.IntN(256) - 128)
		var e epiBlock
		flags := e.fill([]Multiplier{mult}, nil, nil, -1, 0, z, Full, 0, 1)
		for range 20 {
			a := int32(r.Int64N(1<<32-1) - (1<<31 - 1))
			if r.IntN(2) == 0 {
				a >>= r.IntN(31)
			}
			if got, want := e.epiEmulate(0, a, flags), Requantize(a, mult, z, -128, 127); got != want {
				t.Fatalf("M=%d S=%d z=%d acc=%d: got %d, want %d", mult.M, mult.S, z, a, got, want)
			}
		}
	}
	t.Logf("%d cases", n)
}

// TestEpilogueCorrection checks that the offset accumulator (raw sum plus
// corr = bias - zc x wsum, wrapping) gives the true one.
func TestEpilogueCorrection(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for range 10000 {
		k := 1 + r.IntN(4000)
		w := randI8(r, k, -128, 127)
		x := randI8(r, k, -128, 127)
		zx := int32(r.IntN(256) - 128)
		bias := []int32{int32(r.IntN(2000001) - 1000000)}
		var wsum, raw, want int32
		for i := range k {
			wsum += int32(w[i])
			raw += (int32(x[i]) + 128) * int32(w[i]) // VPDPBUSD: unsigned x + 128
			want += (int32(x[i]) - zx) * int32(w[i])
		}
		want += bias[0]
		mult := Multiplier{M: 1 << 30, S: 30} // r = 1: y = clamp(acc)
		var e epiBlock
		ws := make([]int8, 4)
		putInt32(ws, wsum)
		flags := e.fill([]Multiplier{mult}, bias, ws, 0, zx+128, 0, Full, 0, 1)
		if got, w := e.epiEmulate(0, raw, flags), Requantize(want, mult, 0, -128, 127); got != w {
			t.Fatalf("got %d want %d", got, w)
		}
		if raw+e.corr[0] != want {
			t.Fatalf("corrected accumulator %d, want %d", raw+e.corr[0], want)
		}
	}
}
