package eval

import (
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/classify"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/internal/segment"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// fileGrid runs a float graph on the reference interpreter with every
// value whose range the model file states (ir.Value.FileRange) rounded to
// that range's 256-code grid as it is computed: the file's own 8-bit
// activations, with its weights exactly as stored (the frontend dequantizes
// them), and none of mnc's re-expression.
type fileGrid struct{ g *ir.Graph }

func (m fileGrid) InputShape() ir.Shape { return m.g.Inputs[0].Type.Shape }
func (m fileGrid) Classes() int         { return classify.OutputClasses(m.g) }
func (m fileGrid) Run(in *ir.Tensor) (*ir.Tensor, error) {
	in = in.Clone()
	round := func(v *ir.Value, t *ir.Tensor) {
		if v.FileRange == nil || t.DType != ir.Float32 {
			return
		}
		lo, hi := float64(v.FileRange[0]), float64(v.FileRange[1])
		s := (hi - lo) / 255
		z := math.Round(-lo / s)
		for i, x := range t.F32 {
			q := math.Max(0, math.Min(255, math.Round(float64(x)/s)+z))
			t.F32[i] = float32(float64(s * (q - z)))
		}
	}
	round(m.g.Inputs[0], in)
	// Observe may not modify what it is given, but a node's output is a
	// tensor the interpreter made for it alone, and nothing has read it yet.
	out, err := interp.Run(m.g, []*ir.Tensor{in}, &interp.Options{Workers: 1, Observe: func(v *ir.Value, t *ir.Tensor) {
		if v != m.g.Inputs[0] {
			round(v, t)
		}
	}})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// TestMeasureFileArithmetic scores a quantized TFLite segmenter on
// ../shared/images/seg three ways: float (the weights dequantized, the
// activations not), the file's own 8-bit grid (fileGrid) and, given, an
// mnc int8 compile of it; with the agreement of each pair. It tells
// whether an int8 loss against float is mnc's or the file's own (the
// Coral DeepLab's 128-pixel dog). A measurement, not a check:
//
//	mnc compile ../shared/models/tflite/deeplabv3_mnv2_pascal_quant.tflite --quant int8 -o /tmp/dl.mnc
//	MNC_FILE_ARITH=../shared/models/tflite/deeplabv3_mnv2_pascal_quant.tflite MNC_FILE_ARITH_MNC=/tmp/dl.mnc \
//	    go test ./internal/eval -run TestMeasureFileArithmetic -v
func TestMeasureFileArithmetic(t *testing.T) {
	path := os.Getenv("MNC_FILE_ARITH")
	if path == "" {
		t.Skip("set MNC_FILE_ARITH to a quantized .tflite segmenter (and MNC_FILE_ARITH_MNC to its int8 .mnc) to measure")
	}
	dir := golden.Shared(t, "images", "seg")
	g, err := frontend.Load(path, frontend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sh := g.Inputs[0].Type.Shape
	spec, err := preprocess.Default(preprocess.TF, sh[2], sh[3])
	if err != nil {
		t.Fatal(err)
	}
	ms := []classify.Model{mustGraph(t, g), fileGrid{g}}
	names := []string{"float", "file grid"}
	if q := os.Getenv("MNC_FILE_ARITH_MNC"); q != "" {
		m, _, err := classify.OpenWith(q, frontend.Options{}, runtime.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		ms, names = append(ms, m), append(names, "mnc int8")
	}
	var models []*model
	for i, m := range ms {
		models = append(models, &model{name: names[i], path: names[i], spec: spec, main: m, replicas: []classify.Model{m}})
	}
	// The masks' values (see README's Segmentation section): the bird's
	// outline is 1 and 2, the dogs' are Oxford pets trimaps.
	for _, c := range []struct{ img, mask, remap string }{
		{"bird_segmentation.bmp", "bird_segmentation_mask.bmp", "1=255,2=255"},
		{"dog_segmentation.bmp", "dog_segmentation_mask.bmp", "0=12,1=0,2=255"},
		{"dog_segmentation_256.bmp", "dog_segmentation_mask_256.bmp", "0=12,1=0,2=255"},
	} {
		remap, err := segment.ParseRemap(c.remap)
		if err != nil {
			t.Fatal(err)
		}
		s, err := scorePairs(models, []segment.Pair{{Image: dir + "/" + c.img, Mask: dir + "/" + c.mask}}, 21, remap, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range models {
			_, miou := s.models[i].IoU()
			line := ""
			for j := range i {
				_, a := s.agree[j][i].IoU()
				line += "; vs " + names[j] + " " + fmtF(a, 4) + " mIoU, " + fmtF(100*s.agree[j][i].PixelAccuracy(), 2) + "% of pixels"
			}
			t.Logf("%s %s: mIoU %s%s", c.img, names[i], fmtF(miou, 4), line)
		}
	}
}

func mustGraph(t *testing.T, g *ir.Graph) classify.Model {
	m, err := classify.Graph(g)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fmtF(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
