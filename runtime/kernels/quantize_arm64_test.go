//go:build !purego

package kernels

import (
	"reflect"
	"testing"
)

// The ARM64 Sets run quantizeARM and interleave3ARM (quantize_arm64.go).
func TestBoundaryARMInstalled(t *testing.T) {
	for _, set := range accelSets(t) {
		if reflect.ValueOf(set.QuantizeCodes).Pointer() != reflect.ValueOf(quantizeARM).Pointer() {
			t.Errorf("%s: QuantizeCodes is not quantizeARM", set.Name)
		}
		if reflect.ValueOf(set.Interleave3).Pointer() != reflect.ValueOf(interleave3ARM).Pointer() {
			t.Errorf("%s: Interleave3 is not interleave3ARM", set.Name)
		}
	}
}

// The wrappers check their slices before the assembly runs.
func TestBoundaryARMShortPanics(t *testing.T) {
	mustPanic := func(what string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", what)
			}
		}()
		f()
	}
	mustPanic("quantizeARM short y", func() { quantizeARM(make([]float32, 32), 1, 0, make([]int8, 31)) })
	mustPanic("quantizeARM short y (16)", func() { quantizeARM(make([]float32, 32), 1, 0, make([]int8, 15)) })
	mustPanic("interleave3ARM short g", func() {
		interleave3ARM(make([]int8, 32), make([]int8, 31), make([]int8, 32), make([]int8, 96))
	})
	mustPanic("interleave3ARM short y", func() {
		interleave3ARM(make([]int8, 32), make([]int8, 32), make([]int8, 32), make([]int8, 95))
	})
	mustPanic("interleave3ARM short y (block)", func() {
		interleave3ARM(make([]int8, 32), make([]int8, 32), make([]int8, 32), make([]int8, 60))
	})
}
