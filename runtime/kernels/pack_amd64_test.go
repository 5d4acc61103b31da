//go:build !purego

package kernels

import "testing"

func TestDwSlots(t *testing.T) {
	for _, g := range []int{2, 4} {
		for kh := 1; kh <= 7; kh++ {
			for kw := 1; kw <= 7; kw++ {
				if n, want := dwSlots(g, kh, kw), len(dwTapOrder(g, kh, kw)); n != want {
					t.Errorf("dwSlots(%d, %d, %d) = %d, want %d", g, kh, kw, n, want)
				}
			}
		}
	}
}
