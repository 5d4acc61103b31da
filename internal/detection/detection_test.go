package detection

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"strings"
	"testing"

	"github.com/mncdev/mnc/runtime/detect"
)

func TestBoxesShown(t *testing.T) {
	nan := float32(math.NaN())
	d := []detect.Detection{
		{Box: detect.Box{1, 2, 3, 4}, Score: 0.9, Label: 1},
		{Box: detect.Box{1, 2, 3, 4}, Score: 0.5, Label: 2},
		{Box: detect.Box{1, 2, 3, 4}, Score: nan, Label: 3},
		{Box: detect.Box{1, 2, 3, 4}, Score: 0.2, Label: 7},
	}
	labels := []string{"bg", "cat", "dog\x1b[31m"}
	got := boxes(d, labels, Show{MinScore: 0.5})
	if len(got) != 2 || got[0].Name != "cat" || got[1].Name != "dog\x1b[31m" {
		t.Fatalf("min 0.5: %+v", got)
	}
	got = boxes(d, labels, Show{Top: 3})
	if len(got) != 3 || got[2].Label != 7 || got[2].Name != "" {
		t.Fatalf("top 3: %+v", got) // the NaN score is never shown
	}
	var b bytes.Buffer
	if err := Print(&b, []Result{{Input: "dir/p\x07.png", Width: 9, Height: 8, Boxes: got, Total: 4}}, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x07\x1b") || !strings.Contains(out, "(9x8): 3 of 4 boxes\n  cat ") || !strings.Contains(out, "\n  7 ") {
		t.Errorf("print:\n%q", out)
	}
	if Name(5, labels) != "5" || Name(1, labels) != "cat" || Name(-1, nil) != "-1" {
		t.Error("Name")
	}
}

// TestDraw: outlines in the label's colour at the photo's size; boxes
// outside the photo, inverted or NaN are clamped, never a panic.
func TestDraw(t *testing.T) {
	photo := image.NewRGBA(image.Rect(10, 10, 110, 60)) // not at the origin
	nan := float32(math.NaN())
	out := Draw(photo, []Box{
		{Label: 1, Box: [4]float32{10, 10, 50, 40}},
		{Label: 2, Box: [4]float32{-1e30, nan, 1e30, float32(math.Inf(1))}},
		{Label: 3, Box: [4]float32{80, 40, 20, 5}}, // inverted
		{Label: 4, Name: "x\x1b[2J" + strings.Repeat("y", 200), Score: 0.5, Box: [4]float32{60, 30, 90, 45}},
	})
	if c := out.RGBAAt(61, 30-13+1); c != Color(4) && c != (color.RGBA{0, 0, 0, 255}) {
		t.Errorf("box 4's label background is %v, want %v or the text's black", c, Color(4))
	}
	if out.Bounds() != image.Rect(0, 0, 100, 50) {
		t.Fatalf("bounds %v", out.Bounds())
	}
	if c := out.RGBAAt(30, 10); c != Color(1) {
		t.Errorf("top edge of box 1 is %v, want %v", c, Color(1))
	}
	if c := out.RGBAAt(30, 25); c != (color.RGBA{}) {
		t.Errorf("inside box 1 is %v", c)
	}
	if Color(1) == Color(2) || Color(2) == Color(3) {
		t.Error("neighbouring labels share a colour")
	}
}
