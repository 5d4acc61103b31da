package codegen_test

import (
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/bmp"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/detect"
	"github.com/mncdev/mnc/runtime/kernels"
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

// logitsBeforeResize returns the value the ResizeBilinear before g's
// ArgMax reads: the 33x33 logits (the file's ARG_MAX reads them with the
// resize fused).
func logitsBeforeResize(t *testing.T, g *ir.Graph) *ir.Value {
	t.Helper()
	v := argMaxInput(t, g)
	for _, n := range g.Nodes {
		if n.Output() == v && n.Op == ir.ResizeBilinear {
			return n.Inputs[0]
		}
	}
	t.Fatal("the ArgMax does not read a ResizeBilinear")
	return nil
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
// over NHWC's channels with the final resize fused, an INT32 class map as
// the output) whose class map of the bird agrees with ir/interp's on at
// least 99.99% of the pixels and whose 33x33 logits before the fused
// resize are within 1e-4 of the largest logit
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
			logitsV := logitsBeforeResize(t, g)
			var want []float32 // NCHW [1,21,33,33]
			outs, err := interp.Run(g, []*ir.Tensor{in}, &interp.Options{Observe: func(v *ir.Value, x *ir.Tensor) {
				if v == logitsV {
					want = append([]float32(nil), x.F32...)
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			ref := outs[0]
			if ref.DType != ir.Int64 || !ref.Shape.Equal(ir.Shape{1, 513, 513}) || len(want) != 21*33*33 {
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
			logitsName := argMaxInput(t, f).Name // the ARG_MAX reads the 33x33 logits, the resize fused
			if n := f.Nodes[len(f.Nodes)-1]; n.Op != ir.ArgMax || n.Attrs.(*ir.ArgMaxAttrs).Resize == nil {
				t.Fatalf("the prepared graph ends in %v %v, want an ArgMax with the resize fused", n.Op, n.Attrs)
			}
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
			var have []float32 // NHWC [1,33,33,21]
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
			const hw, c = 33 * 33, 21
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

// TestSharedDeepLabInt8: both ../shared DeepLabV3 files quantized by their
// own ranges (no calibration images, as `mnc compile X.tflite --quant
// int8` does) run as int8 model files that equal quant's reference
// interpreter on every kernel set this CPU runs: the same int8 codes before
// the ARG_MAX (byte for byte) and the same class map. Against the float32
// model file on the bird the class maps agree on most pixels (the figures
// are logged: pixel agreement and the mIoU of the int8 map scored against
// the float one).
func TestSharedDeepLabInt8(t *testing.T) {
	models := golden.Shared(t, "models", "tflite")
	in := deepLabInput(t)
	// Lower bounds of the pixel agreement and of the mIoU of the int8
	// class map scored against the float one, a margin below those
	// measured (0.99861 and 0.9959; 0.99325 and 0.6862: the 0.5-depth
	// model's float map labels a few hundred pixels dog and horse, classes
	// of small IoU that int8 draws differently; against Coral's mask its
	// int8 mIoU, 0.4654, is the float's 0.4607).
	floor := map[string][2]float64{
		"deeplabv3_mnv2_pascal_quant":      {0.995, 0.98},
		"deeplabv3_mnv2_dm05_pascal_quant": {0.99, 0.62},
	}
	for _, name := range []string{"deeplabv3_mnv2_pascal_quant", "deeplabv3_mnv2_dm05_pascal_quant"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(models, name+".tflite")
			load := func() *ir.Graph {
				g, err := frontend.Load(path, frontend.Options{})
				if err != nil {
					t.Fatal(err)
				}
				f, err := quant.Prepare(g)
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
			// The float32 model file's class map.
			fdata, err := codegen.Build(load(), codegen.Options{})
			if err != nil {
				t.Fatal(err)
			}
			floatMap := runClassMap(t, fdata, "", "", nil)

			q, _, err := quant.CompilePrepared(load(), "", quant.Options{RangesFromModel: true})
			if err != nil {
				t.Fatal(err)
			}
			codesV := argMaxInput(t, q) // the int8 33x33 logits, the resize fused into the ArgMax
			if codesV.Type.DType != ir.Int8 {
				t.Fatalf("the int8 graph's ArgMax reads %v", codesV.Type)
			}
			r, err := quant.NewRunner(q, 0)
			if err != nil {
				t.Fatal(err)
			}
			var refCodes []int8
			outs, err := r.Run(in, func(v *ir.Value, x *ir.Tensor) {
				if v == codesV {
					refCodes = append([]int8(nil), x.I8...)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			refMap := make([]int32, len(outs[0].I64))
			for i, c := range outs[0].I64 {
				refMap[i] = int32(c)
			}
			data, err := codegen.Build(q, codegen.Options{})
			if err != nil {
				t.Fatal(err)
			}
			m, err := runtime.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			if p := m.Info().Precision; p != "int8" {
				t.Fatalf("precision %s, want int8 (no operator kept float)", p)
			}
			for _, set := range kernels.Available() {
				var codes []int8
				got := runClassMap(t, data, set, codesV.Name, &codes)
				if !slices.Equal(codes, refCodes) {
					t.Errorf("kernels %s: the int8 logits differ from the reference interpreter's", set)
				}
				if !slices.Equal(got, refMap) {
					t.Errorf("kernels %s: the class map differs from the reference interpreter's", set)
				}
			}
			agree := 0
			pred, truth := make([]uint8, len(refMap)), make([]uint8, len(refMap))
			for i := range refMap {
				if refMap[i] == floatMap[i] {
					agree++
				}
				pred[i], truth[i] = uint8(refMap[i]), uint8(floatMap[i])
			}
			c, err := detect.NewConfusion(21)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Add(pred, truth); err != nil {
				t.Fatal(err)
			}
			iou, miou := c.IoU()
			var classes []string
			for k, v := range iou {
				if !math.IsNaN(v) {
					classes = append(classes, fmt.Sprintf("%d:%.4f", k, v))
				}
			}
			frac := float64(agree) / float64(len(refMap))
			t.Logf("int8 vs float32 on the bird: %d of %d pixels agree (%.5f), mIoU %.4f (IoU of class %s)", agree, len(refMap), frac, miou, strings.Join(classes, " "))
			truthMask := birdMask(t)
			fm, im := maskIoU(t, floatMap, truthMask), maskIoU(t, refMap, truthMask)
			t.Logf("against Coral's mask: mIoU float32 %.4f, int8 %.4f", fm, im)
			if im < fm-0.02 {
				t.Errorf("against Coral's mask the int8 mIoU %.4f is more than 0.02 below the float's %.4f", im, fm)
			}
			if f := floor[name]; frac < f[0] || miou < f[1] {
				t.Errorf("agreement %.5f and mIoU %.4f, want at least %.2f and %.2f", frac, miou, f[0], f[1])
			}
		})
	}
}

// runClassMap runs a model file (on kernel set kern, "" the default) on the
// bird and returns its class map; with codes set it also copies the int8
// codes of the tensor named name.
func runClassMap(t *testing.T, data []byte, kern, name string, codes *[]int8) []int32 {
	t.Helper()
	m, err := runtime.LoadWith(data, runtime.Options{Kernels: kern})
	if err != nil {
		t.Fatal(err)
	}
	it, err := m.NewInterpreter()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if codes != nil {
		it.SetObserver(func(o *runtime.Observation) {
			if o.Name == name {
				*codes = append([]int8(nil), o.I8...)
			}
		})
	}
	in := deepLabInput(t)
	out, err := it.Run(runtime.Tensor{Shape: in.Shape, Data: in.F32})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.I32) != 513*513 {
		t.Fatalf("output %v with %d int32 values", out.Shape, len(out.I32))
	}
	return append([]int32(nil), out.I32...)
}

// birdMask reads Coral's bird mask (513x513, VOC labels: background 0,
// bird 3; its 1s and 2s lie on the outline and are ignored, as
// frontend/tflite's TestSharedDeepLab reads it).
func birdMask(t *testing.T) []uint8 {
	t.Helper()
	f, err := os.Open(filepath.Join(golden.Shared(t, "images", "seg"), "bird_segmentation_mask.bmp"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := bmp.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := img.(*image.Paletted)
	if !ok || p.Bounds().Dx() != 513 || p.Bounds().Dy() != 513 {
		t.Fatalf("the bird mask is a %T of %v, want 8-bit 513x513", img, img.Bounds())
	}
	labels := []uint8{0, detect.Ignore, detect.Ignore, 3}
	mask := make([]uint8, 0, 513*513)
	for y := range 513 {
		for x := range 513 {
			v := p.ColorIndexAt(x, y)
			if int(v) >= len(labels) {
				t.Fatalf("mask value %d", v)
			}
			mask = append(mask, labels[v])
		}
	}
	return mask
}

// maskIoU is the mIoU over the 21 VOC classes of a class map against a
// mask (runtime/detect.Confusion).
func maskIoU(t *testing.T, pred []int32, truth []uint8) float64 {
	t.Helper()
	c, err := detect.NewConfusion(21)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]uint8, len(pred))
	for i, v := range pred {
		p[i] = uint8(v)
	}
	if err := c.Add(p, truth); err != nil {
		t.Fatal(err)
	}
	_, miou := c.IoU()
	return miou
}
