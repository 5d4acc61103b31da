package codegen_test

import (
	"testing"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// TestPreprocessRoundTrip: the preprocessing written into a model file is
// read back as the same Spec, presets and custom fields alike; a preset's
// record carries none of the format 1.2 fields.
func TestPreprocessRoundTrip(t *testing.T) {
	g, err := quant.Prepare(loadGolden(t, golden.Manifest(t)[0]))
	if err != nil {
		t.Fatal(err)
	}
	h, w := g.Inputs[0].Type.Shape[2], g.Inputs[0].Type.Shape[3]
	tf, _ := preprocess.Default(preprocess.TF, h, w)
	tv, _ := preprocess.Default(preprocess.Torchvision, h, w)
	custom, err := preprocess.Spec{Preset: preprocess.Torchvision, Mean: [3]float32{103.94, 116.78, 123.68},
		Std: [3]float32{1, 1, 1}, Scale: 1, ResizeTo: h + 9, Crop: 0.875, Channels: preprocess.BGR}.AtSize(h, w)
	if err != nil {
		t.Fatal(err)
	}
	stretch, err := preprocess.Spec{Preset: preprocess.Torchvision, Resize: preprocess.Stretch}.AtSize(h, w)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, spec := range []preprocess.Spec{tf, tv, custom, stretch} {
		blob, err := codegen.Build(g, codegen.Options{Producer: "test", Preprocess: &spec})
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(blob))
		m, _ := load(t, blob)
		got, ok := m.Preprocess()
		if !ok || got != spec {
			t.Errorf("wrote %+v, read %+v (%v)", spec, got, ok)
		}
	}
	if sizes[0] != sizes[1] || sizes[2] <= sizes[1] {
		t.Errorf("file sizes %v: a preset's record should not grow, a custom one should", sizes)
	}
}
