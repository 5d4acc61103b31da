package codegen_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// deepLabInput is the bird of ../shared/images/seg prepared as
// TestSharedDeepLab (frontend/tflite) prepares it: the tf preset at
// 513x513.
func deepLabInput(t *testing.T) *ir.Tensor {
	t.Helper()
	images := golden.Shared(t, "images", "seg")
	spec, err := preprocess.Default(preprocess.TF, 513, 513)
	if err != nil {
		t.Fatal(err)
	}
	in := ir.NewFloat32(ir.Shape{1, 3, 513, 513}, nil)
	if err := spec.File(filepath.Join(images, "bird_segmentation.bmp"), in.F32); err != nil {
		t.Fatal(err)
	}
	return in
}

// argMaxInput returns the value an ArgMax of g reads.
func argMaxInput(t *testing.T, g *ir.Graph) *ir.Value {
	t.Helper()
	for _, n := range g.Nodes {
		if n.Op == ir.ArgMax {
			return n.Inputs[0]
		}
	}
	t.Fatal("no ArgMax in the graph")
	return nil
}

// TestSharedDeepLabFloat: both ../shared DeepLabV3-MobileNetV2 files
// compile to float32 model files (RESIZE_BILINEAR, CONCATENATION, ARG_MAX
// over NHWC's channels, an INT32 class map as the output) whose class map
// of the bird agrees with ir/interp's on at least 99.99% of the pixels and
// whose logits before the ARG_MAX are within 1e-4 of the largest logit
// (the float convolutions sum in another order than the interpreter; the
// resize computes as ir/interp's, by the same coordinates).
func TestSharedDeepLabFloat(t *testing.T) {
	models := golden.Shared(t, "models", "tflite")
	in := deepLabInput(t)
	for _, name := range []string{"deeplabv3_mnv2_pascal_quant", "deeplabv3_mnv2_dm05_pascal_quant"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(models, name+".tflite")
			g, err := frontend.Load(path, frontend.Options{})
			if err != nil {
				t.Fatal(err)
			}
			logitsV := argMaxInput(t, g)
			var want []float32 // NCHW [1,21,513,513]
			outs, err := interp.Run(g, []*ir.Tensor{in}, &interp.Options{Observe: func(v *ir.Value, x *ir.Tensor) {
				if v == logitsV {
					want = append([]float32(nil), x.F32...)
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			ref := outs[0]
			if ref.DType != ir.Int64 || !ref.Shape.Equal(ir.Shape{1, 513, 513}) || len(want) != 21*513*513 {
				t.Fatalf("interpreter output %v%v, logits %d", ref.DType, ref.Shape, len(want))
			}

			g2, err := frontend.Load(path, frontend.Options{})
			if err != nil {
				t.Fatal(err)
			}
			f, err := quant.Prepare(g2)
			if err != nil {
				t.Fatal(err)
			}
			logitsName := argMaxInput(t, f).Name
			data, err := codegen.Build(f, codegen.Options{})
			if err != nil {
				t.Fatal(err)
			}
			m, err := runtime.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			it, err := m.NewInterpreter()
			if err != nil {
				t.Fatal(err)
			}
			defer it.Close()
			var have []float32 // NHWC [1,513,513,21]
			it.SetObserver(func(o *runtime.Observation) {
				if o.Name == logitsName {
					have = append([]float32(nil), o.F32...)
				}
			})
			out, err := it.Run(runtime.Tensor{Shape: in.Shape, Data: in.F32})
			if err != nil {
				t.Fatal(err)
			}
			if out.Data != nil || len(out.I32) != 513*513 || len(out.Shape) != 3 || out.Shape[1] != 513 || out.Shape[2] != 513 {
				t.Fatalf("runtime output %v: %d float32, %d int32 values; want an int32 [1 513 513]", out.Shape, len(out.Data), len(out.I32))
			}
			if len(have) != len(want) {
				t.Fatalf("observed %d logits of %q, want %d", len(have), logitsName, len(want))
			}
			agree := 0
			for i, c := range out.I32 {
				if int64(c) == ref.I64[i] {
					agree++
				}
			}
			var big, diff float64
			const hw, c = 513 * 513, 21
			for p := range hw {
				for ch := range c {
					a, b := float64(want[ch*hw+p]), float64(have[p*c+ch])
					big = max(big, math.Abs(a))
					diff = max(diff, math.Abs(a-b))
				}
			}
			frac := float64(agree) / float64(len(out.I32))
			t.Logf("class maps agree on %d of %d pixels (%.6f); logits differ by at most %.3g, %.3g of the largest |logit| %.3g", agree, len(out.I32), frac, diff, diff/big, big)
			if frac < 0.9999 {
				t.Errorf("class maps agree on %.6f of the pixels, want at least 0.9999", frac)
			}
			if diff > 1e-4*big {
				t.Errorf("logits differ by %.3g, more than 1e-4 of the largest %.3g", diff, big)
			}
		})
	}
}
