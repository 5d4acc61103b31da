package runtime

import (
	"bytes"
	"math/rand"
	"testing"
	"unsafe"

	"github.com/mncdev/mnc/runtime/kernels"
)

// TestIdentityTable checks that the lookup of an identity table, a copy,
// gives the bytes of every kernel set's LUT, and that a table differing
// in one entry is not taken for the identity.
func TestIdentityTable(t *testing.T) {
	var tb kernels.Table
	for i := range tb {
		tb[i] = int8(i)
	}
	if !identityTable(&tb) {
		t.Fatal("the identity is not an identity table")
	}
	r := rand.New(rand.NewSource(1))
	x := make([]int8, 1000)
	for i := range x {
		x[i] = int8(r.Intn(256))
	}
	got := make([]int8, len(x))
	copyLUT(&tb, x, got)
	for _, name := range kernels.Available() {
		s, err := kernels.Select(name)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]int8, len(x))
		s.LUT(&tb, x, want)
		if !bytes.Equal(i8b(got), i8b(want)) {
			t.Fatalf("%s: the copy differs from LUT", s.Name)
		}
	}
	for i := range tb {
		u := tb
		u[i]++
		if identityTable(&u) {
			t.Fatalf("entry %d changed: still an identity table", i)
		}
	}
}

func i8b(x []int8) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), len(x)) }
