package detect

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"testing"
)

type goldenFile struct {
	Torch   string `json:"torch"`
	Anchors struct {
		FeatureMaps [][2]int `json:"feature_maps"`
		Image       [2]int   `json:"image"`
		Boxes       string   `json:"boxes"`
	} `json:"anchors"`
	Exp struct {
		X   string `json:"x"`
		Exp string `json:"exp"`
	} `json:"exp"`
	Softmax []struct {
		Classes int    `json:"classes"`
		Logits  string `json:"logits"`
		Softmax string `json:"softmax"`
	} `json:"softmax"`
	Cases []struct {
		Name        string     `json:"name"`
		Kind        string     `json:"kind"`
		Seed        uint64     `json:"seed"`
		FeatureMaps [][2]int   `json:"feature_maps"`
		Classes     int        `json:"classes"`
		Params      [4]float64 `json:"params"`
		Candidates  int        `json:"candidates"`
		LogitsCheck string     `json:"logits_check"`
		Boxes       string     `json:"boxes"`
		Rescaled    string     `json:"rescaled_480x641"`
		Scores      string     `json:"scores"`
		Labels      []int      `json:"labels"`
	} `json:"cases"`
}

func f32s(t *testing.T, s string) []float32 {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b)%4 != 0 {
		t.Fatalf("bad base64 float32 array: %v", err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func asBoxes(f []float32) []Box {
	out := make([]Box, len(f)/4)
	for i := range out {
		copy(out[i][:], f[4*i:])
	}
	return out
}

func loadGolden(t *testing.T) goldenFile {
	b, err := os.ReadFile("testdata/ssd_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGoldenAnchors: ssdlite320's 3234 default boxes, bit for bit.
func TestGoldenAnchors(t *testing.T) {
	g := loadGolden(t)
	want := asBoxes(f32s(t, g.Anchors.Boxes))
	got, err := Anchors(SSDLite320(), g.Anchors.FeatureMaps, g.Anchors.Image[0], g.Anchors.Image[1])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) != 3234 {
		t.Fatalf("%d anchors, torchvision %d (want 3234)", len(got), len(want))
	}
	for i := range want {
		for c := 0; c < 4; c++ {
			if math.Float32bits(got[i][c]) != math.Float32bits(want[i][c]) {
				t.Fatalf("anchor %d: %v, torchvision %v", i, got[i], want[i])
			}
		}
	}
}

// TestGoldenPostprocess: torchvision's detections (count, order, labels,
// score and box bits) from the same logits and regressions.
//
// The inputs are make_ssd_golden.py's rand_inputs, repeated here.
func TestGoldenPostprocess(t *testing.T) {
	g := loadGolden(t)
	if len(g.Cases) == 0 {
		t.Fatal("no cases")
	}
	nRescaled := 0
	defer func() {
		if nRescaled < 6 {
			t.Errorf("only %d cases check Rescale; want 6", nRescaled)
		}
	}()
	for _, c := range g.Cases {
		anchors, err := Anchors(SSDLite320(), c.FeatureMaps, 320, 320)
		if err != nil {
			t.Fatal(err)
		}
		logits, rel := randInputs(c.Kind, len(anchors), c.Classes, c.Seed)
		check := f32s(t, c.LogitsCheck)
		for i, v := range check {
			if math.Float32bits(v) != math.Float32bits(logits[len(logits)-c.Classes+i]) {
				t.Fatalf("%s: the generated inputs are not the script's (last row of logits %v, script %v)", c.Name, logits[len(logits)-c.Classes:], check)
			}
		}
		p := Params{ScoreThresh: c.Params[0], NMSThresh: c.Params[1], DetectionsPerImg: int(c.Params[2]), TopKCandidates: int(c.Params[3])}
		wantB := asBoxes(f32s(t, c.Boxes))
		wantS := f32s(t, c.Scores)
		got, err := Postprocess(logits, c.Classes, rel, anchors, 320, 320, p)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if len(got) != len(c.Labels) {
			t.Errorf("%s: %d detections, torchvision %d", c.Name, len(got), len(c.Labels))
			continue
		}
		bad := 0
		for i, d := range got {
			same := d.Label == c.Labels[i] && math.Float32bits(d.Score) == math.Float32bits(wantS[i])
			for k := 0; k < 4; k++ {
				same = same && math.Float32bits(d.Box[k]) == math.Float32bits(wantB[i][k])
			}
			if !same {
				if bad < 3 {
					t.Errorf("%s: detection %d: label %d score %.9g box %v; torchvision %d %.9g %v",
						c.Name, i, d.Label, d.Score, d.Box, c.Labels[i], wantS[i], wantB[i])
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d detections differ", c.Name, bad, len(got))
		}
		if err := Rescale(got, 320, 320, 480, 641); err != nil {
			t.Fatal(err)
		}
		rescaled := asBoxes(f32s(t, c.Rescaled))
		if len(rescaled) > 0 {
			nRescaled++
		}
		for i, w := range rescaled {
			if bits(got[i].Box) != bits(w) {
				t.Errorf("%s: detection %d rescaled to %v; torchvision %v", c.Name, i, got[i].Box, w)
				break
			}
		}
	}
}

// TestGoldenSoftmax: F.softmax's bits for rows shorter than, equal to and
// longer than PyTorch's 8 lanes (91 is COCO's class count).
func TestGoldenSoftmax(t *testing.T) {
	g := loadGolden(t)
	if len(g.Softmax) == 0 {
		t.Fatal("no softmax cases")
	}
	for _, c := range g.Softmax {
		want := f32s(t, c.Softmax)
		got, err := Softmax(f32s(t, c.Logits), c.Classes)
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				bad++
			}
		}
		if bad > 0 || len(got) != len(want) {
			t.Errorf("%d classes: %d of %d probabilities differ", c.Classes, bad, len(want))
		}
	}
}

type splitMix uint64

func (s *splitMix) next() uint64 {
	*s += 0x9E3779B97F4A7C15
	z := uint64(*s)
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

func (s *splitMix) uniform() float64 { return float64(s.next()>>40) / 16777216.0 }

func (s *splitMix) normal() float64 {
	return (s.uniform() + s.uniform() + s.uniform() + s.uniform() - 2.0) * 1.7320508075688772
}

func randInputs(kind string, n, classes int, seed uint64) ([]float32, []Box) {
	r := splitMix(seed)
	logits := make([]float32, n*classes)
	rel := make([]Box, n)
	scale, rscale := 2.0, 1.0
	if kind == "wide" {
		scale, rscale = 3.0, 30.0
	}
	for i := 0; i < n; i++ {
		for c := 0; c < classes; c++ {
			if kind == "ties" {
				logits[i*classes+c] = float32(float64(r.next()%7) - 3.0)
			} else {
				logits[i*classes+c] = float32(r.normal() * scale)
			}
		}
		for k := 0; k < 4; k++ {
			v := r.normal() * rscale
			if kind == "ties" && i%2 == 0 {
				v = 0
			}
			rel[i][k] = float32(v)
		}
	}
	return logits, rel
}

// TestGoldenExp: expf is torch.exp's bits; float32(math.Exp) is not (the
// test says how often it differs, to show the case is not vacuous).
func TestGoldenExp(t *testing.T) {
	g := loadGolden(t)
	x, want := f32s(t, g.Exp.X), f32s(t, g.Exp.Exp)
	if len(x) != len(want) || len(x) < 4000 {
		t.Fatalf("%d inputs, %d outputs", len(x), len(want))
	}
	bad, libm := 0, 0
	for i, v := range x {
		if math.Float32bits(expf(v)) != math.Float32bits(want[i]) {
			if bad < 3 {
				t.Errorf("expf(%v) = %v, torch %v", v, expf(v), want[i])
			}
			bad++
		}
		if float32(math.Exp(float64(v))) != want[i] {
			libm++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d differ", bad, len(x))
	}
	t.Logf("float32(math.Exp) differs from torch.exp on %d of %d", libm, len(x))
}

func bits(b Box) [4]uint32 {
	return [4]uint32{math.Float32bits(b[0]), math.Float32bits(b[1]), math.Float32bits(b[2]), math.Float32bits(b[3])}
}
