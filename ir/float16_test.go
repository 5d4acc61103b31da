package ir

import (
	"math"
	"testing"
)

func TestFloat16ToFloat32(t *testing.T) {
	for h, want := range map[uint16]float32{
		0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x3555: 0.333251953125, 0x7bff: 65504,
		0x0001: 1.0 / (1 << 24), 0x03ff: 1023.0 / (1 << 24), 0x0400: 1.0 / (1 << 14), 0x8001: -1.0 / (1 << 24),
		0x7c00: float32(math.Inf(1)), 0xfc00: float32(math.Inf(-1)),
	} {
		if got := Float16ToFloat32(h); got != want {
			t.Errorf("half %#04x = %v, want %v", h, got, want)
		}
	}
	if got := Float16ToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("-0 = %v", got)
	}
	if got := Float16ToFloat32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("NaN = %v", got)
	}
}
