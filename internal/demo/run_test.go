package demo

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRun is `mnc demo` at a smaller scale: the int8 model stays within one
// point of the float one and above 90% on fresh test images, and Dir keeps
// the images and both model files.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	res, err := Run(RunOptions{CalibImages: 32, TestImages: 200, Dir: dir, Producer: "test", Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	acc := func(m ModelResult) float64 { return 100 * float64(m.Correct) / float64(res.Images) }
	if f, q := acc(res.Float), acc(res.Int8); q < 90 || f-q > 1 {
		t.Errorf("float %.1f%%, int8 %.1f%%: want int8 above 90%% and within 1 point of float", f, q)
	}
	if res.Int8.Bytes*3 > res.Float.Bytes {
		t.Errorf("int8 file %d bytes, float32 %d: want about 4x smaller", res.Int8.Bytes, res.Float.Bytes)
	}
	for _, name := range []string{"demo_float32.mnc", "demo_int8.mnc", "calib/labels.txt"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(out.String(), "int8 agrees with float32") {
		t.Errorf("output:\n%s", out.String())
	}
}
