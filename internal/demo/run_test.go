package demo

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/kernels"
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
	for _, name := range []string{"demo_float32.mnc", "demo_int8.mnc", "calib/labels.txt", "test/circle", "test/dots"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(out.String(), "int8 agrees with float32") {
		t.Errorf("output:\n%s", out.String())
	}

	// The accuracies and the agreement are those of the model files on
	// the generated images themselves, without the PNG files.
	x, classes, err := Batch(0, res.Images, TestSeed)
	if err != nil {
		t.Fatal(err)
	}
	var top1 [2][]int
	for k, m := range []ModelResult{res.Float, res.Int8} {
		model, err := runtime.Open(m.Path)
		if err != nil {
			t.Fatal(err)
		}
		defer model.Close()
		it, err := model.NewInterpreterThreads(1)
		if err != nil {
			t.Fatal(err)
		}
		per := x.Shape.NumElements() / res.Images
		correct := 0
		for i, c := range classes {
			y, err := it.Run(runtime.Tensor{Shape: []int{1, 3, x.Shape[2], x.Shape[3]}, Data: x.F32[i*per : (i+1)*per]})
			if err != nil {
				t.Fatal(err)
			}
			top1[k] = append(top1[k], kernels.Argmax(y.Data))
			if top1[k][i] == c {
				correct++
			}
		}
		if correct != m.Correct {
			t.Errorf("%s: %d/%d right on the in-memory images, the demo says %d", m.Name, correct, res.Images, m.Correct)
		}
	}
	agree := 0
	for i := range classes {
		if top1[0][i] == top1[1][i] {
			agree++
		}
	}
	if agree != res.Agree || res.Eval == nil || res.Eval.ImageCount != res.Images {
		t.Errorf("agreement %d on the in-memory images, the demo says %d", agree, res.Agree)
	}
}
