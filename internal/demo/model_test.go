package demo

import (
	"math"
	"testing"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
)

// testSeed is the dataset seed of the accuracy test; train_demo.py trains
// on seed 1 and validates on seeds 2 and 3.
const testSeed = 4

func TestModelConfig(t *testing.T) {
	c := ModelConfig
	if c.Net.Classes != len(Classes) {
		t.Errorf("Net.Classes = %d, want %d", c.Net.Classes, len(Classes))
	}
	if want := c.Net.Resolution * 256 / 224; c.ImageSize != want {
		t.Errorf("ImageSize = %d, want Resolution*256/224 = %d", c.ImageSize, want)
	}
	if _, err := c.Preprocess(); err != nil {
		t.Error(err)
	}
}

// TestPreprocessIsCrop checks that at ModelConfig.ImageSize the preset's
// resize is the identity, so the network sees the generated pixels, center
// cropped, as in training.
func TestPreprocessIsCrop(t *testing.T) {
	spec, err := ModelConfig.Preprocess()
	if err != nil {
		t.Fatal(err)
	}
	R, S := ModelConfig.Net.Resolution, ModelConfig.ImageSize
	// torchvision's CenterCrop offset: round((S-R)/2), half to even.
	top := int(math.RoundToEven(float64(S-R) / 2))
	for i := range 5 {
		img, _ := Sample(i, testSeed, S)
		got := make([]float32, 3*R*R)
		if err := spec.Tensor(img, got); err != nil {
			t.Fatal(err)
		}
		for c := range 3 {
			for y := range R {
				for x := range R {
					v := float32(float32(img.Pix[(top+y)*img.Stride+4*(top+x)+c]) / 255)
					want := float32(v-spec.Mean[c]) / spec.Std[c]
					if g := got[(c*R+y)*R+x]; g != want {
						t.Fatalf("sample %d: input[%d,%d,%d] = %v, want %v (crop at %d)", i, c, y, x, g, want, top)
					}
				}
			}
		}
	}
}

// TestAccuracy runs the embedded model with the float reference interpreter
// on images of a seed never used in training.
func TestAccuracy(t *testing.T) {
	g, err := Graph()
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	in, classes, err := Batch(0, n, testSeed)
	if err != nil {
		t.Fatal(err)
	}
	out, err := interp.Run(g, []*ir.Tensor{in}, nil)
	if err != nil {
		t.Fatal(err)
	}
	logits := out[0]
	k := len(Classes)
	if want := (ir.Shape{n, k}); !logits.Shape.Equal(want) {
		t.Fatalf("logits shape %v, want %v", logits.Shape, want)
	}
	correct := 0
	perClass := make([]int, k)
	var maxAbs float32
	for i := range n {
		row := logits.F32[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
			maxAbs = max(maxAbs, v, -v)
		}
		if best == classes[i] {
			correct++
			perClass[best]++
		}
	}
	acc := 100 * float64(correct) / n
	t.Logf("float accuracy on %d fresh images (seed %d): %.1f%%; per class (of %d): %v; max |logit| %.2f", n, testSeed, acc, n/k, perClass, maxAbs)
	if acc < 95 {
		t.Errorf("accuracy %.1f%% < 95%%", acc)
	}
}
