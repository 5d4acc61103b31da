package kernels

import (
	"slices"
	"testing"
)

// TestOHWI checks the index mapping on a tensor whose values are their
// own OIHW coordinates.
func TestOHWI(t *testing.T) {
	o, i, kh, kw := 3, 2, 2, 3
	w := make([]int, o*i*kh*kw)
	for oc := range o {
		for c := range i {
			for y := range kh {
				for x := range kw {
					w[((oc*i+c)*kh+y)*kw+x] = oc*1000 + c*100 + y*10 + x
				}
			}
		}
	}
	got := OHWI(w, o, i, kh, kw)
	n := 0
	for oc := range o {
		for y := range kh {
			for x := range kw {
				for c := range i {
					if want := oc*1000 + c*100 + y*10 + x; got[n] != want {
						t.Fatalf("out[%d] = %d, want %d", n, got[n], want)
					}
					n++
				}
			}
		}
	}
	// One input channel (depthwise): OHWI keeps the order.
	dw := []int8{1, 2, 3, 4, 5, 6}
	if got := OHWI(dw, 2, 1, 1, 3); !slices.Equal(got, dw) {
		t.Errorf("depthwise OHWI = %v", got)
	}
}

func TestTranspose2D(t *testing.T) {
	w := []float32{1, 2, 3, 4, 5, 6} // [2][3]
	got := Transpose2D(w, 2, 3)
	if want := []float32{1, 4, 2, 5, 3, 6}; !slices.Equal(got, want) {
		t.Fatalf("Transpose2D = %v, want %v", got, want)
	}
	if back := Transpose2D(got, 3, 2); !slices.Equal(back, w) {
		t.Errorf("transposed back: %v", back)
	}
	defer func() {
		if recover() == nil {
			t.Error("a wrong length did not panic")
		}
	}()
	Transpose2D(w, 4, 2)
}
