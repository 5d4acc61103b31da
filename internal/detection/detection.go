// Package detection is the object-detection side of `mnc run` and `mnc
// eval`: it runs a detector's model file (one with detection settings,
// format 1.5) on photos or tensors through the runtime's Detect, keeps the
// boxes to show, prints them, draws them over the photo, writes and reads
// them as box files, and scores them against ground-truth box files
// (runtime/detect's VOC AP@0.5).
//
// # Boxes
//
// The runtime's post-processing is torchvision's SSD.postprocess_detections
// with the file's settings (SSDLite320: scores above 0.001, 300 per image);
// its boxes are in the photo's pixels (GeneralizedRCNNTransform's
// postprocess), best first. What a user is shown is a subset: the boxes
// scoring at least Show.MinScore (0.5 by default in `mnc run`), at most
// Show.Top. Evaluation takes every box the post-processing keeps.
package detection

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/internal/segment"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/detect"
	"github.com/mncdev/mnc/runtime/esc"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// Box is one detection as shown.
type Box struct {
	Label int     `json:"label"`
	Name  string  `json:"name,omitempty"` // the label's name, when the model or --labels has one
	Score float32 `json:"score"`
	// Box is [x0, y0, x1, y1] in the photo's pixels (the input's, for a
	// tensor).
	Box [4]float32 `json:"box"`
}

// Result is the detections of one input.
type Result struct {
	Input  string `json:"input"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	// Boxes are those shown: score >= Show.MinScore, at most Show.Top,
	// best first.
	Boxes []Box `json:"boxes"`
	// Total counts every box the post-processing kept.
	Total int `json:"detections"`
	// Saved is the image written for it, if any.
	Saved string `json:"saved_image,omitempty"`
}

// Show says which boxes a Result keeps.
type Show struct {
	MinScore float64 // keep scores >= MinScore
	Top      int     // at most Top boxes (0: all)
}

// Is reports whether m is a detector: a model file with detection settings.
func Is(m *runtime.Model) bool {
	_, ok := m.Detection()
	return ok
}

// Name is label's name in labels, or its index.
func Name(label int, labels []string) string {
	if label >= 0 && label < len(labels) && labels[label] != "" {
		return labels[label]
	}
	return strconv.Itoa(label)
}

// boxes converts detections to Boxes, keeping those show selects.
func boxes(d []detect.Detection, labels []string, show Show) []Box {
	out := []Box{}
	for _, x := range d {
		if show.Top > 0 && len(out) == show.Top {
			break
		}
		if !(float64(x.Score) >= show.MinScore) {
			continue
		}
		b := Box{Label: x.Label, Score: x.Score, Box: x.Box}
		if x.Label < len(labels) {
			b.Name = labels[x.Label]
		}
		out = append(out, b)
	}
	return out
}

// RunImages detects objects in each photo (preprocessed with spec, which
// must be the model's: see runtime.Interpreter.DetectImage) and returns
// the boxes show selects, in the photo's pixels; saves[i], when not "",
// gets photo i with those boxes drawn (a PNG). all, when not nil, receives
// every detection of each photo, in order.
func RunImages(m *runtime.Model, paths []string, spec preprocess.Spec, labels []string, show Show, saves []string, all func(i int, d []detect.Detection)) ([]Result, error) {
	it, err := m.NewInterpreter()
	if err != nil {
		return nil, err
	}
	defer it.Close()
	h, w := spec.Height, spec.Width
	in := make([]float32, 3*h*w)
	results := make([]Result, 0, len(paths))
	for i, p := range paths {
		img, err := preprocess.LoadImage(p)
		if err != nil {
			return nil, err
		}
		if err := spec.Tensor(img, in); err != nil {
			return nil, fmt.Errorf("preprocess %s: %w", esc.String(p), err)
		}
		b := img.Bounds()
		d, err := it.Detect(runtime.Tensor{Shape: []int{1, 3, h, w}, Data: in}, [][2]int{{b.Dy(), b.Dx()}})
		if err != nil {
			return nil, fmt.Errorf("detect %s: %w", esc.String(p), err)
		}
		if all != nil {
			all(i, d[0])
		}
		r := Result{Input: p, Width: b.Dx(), Height: b.Dy(), Boxes: boxes(d[0], labels, show), Total: len(d[0])}
		if i < len(saves) && saves[i] != "" {
			if err := save(saves[i], img, r.Boxes); err != nil {
				return nil, err
			}
			r.Saved = saves[i]
		}
		results = append(results, r)
	}
	return results, nil
}

// RunTensor detects objects in each item of a preprocessed batch
// [N,3,H,W]; the boxes are in the input's pixels.
func RunTensor(m *runtime.Model, shape []int, data []float32, name string, labels []string, show Show) ([]Result, error) {
	it, err := m.NewInterpreter()
	if err != nil {
		return nil, err
	}
	defer it.Close()
	d, err := it.Detect(runtime.Tensor{Shape: shape, Data: data}, nil)
	if err != nil {
		return nil, err
	}
	cfg, _ := m.Detection()
	results := make([]Result, len(d))
	for i, x := range d {
		results[i] = Result{Input: fmt.Sprintf("%s[%d]", name, i), Width: cfg.ImageWidth, Height: cfg.ImageHeight,
			Boxes: boxes(x, labels, show), Total: len(x)}
	}
	return results, nil
}

// Print writes results as text, a line per box shown (label, score, x0 y0
// x1 y1), or as JSON.
func Print(w io.Writer, results []Result, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	for _, r := range results {
		fmt.Fprintf(w, "%s (%dx%d): %d of %d boxes\n", esc.String(filepath.Base(r.Input)), r.Width, r.Height, len(r.Boxes), r.Total)
		for _, b := range r.Boxes {
			label := esc.String(b.Name)
			if label == "" {
				label = strconv.Itoa(b.Label)
			}
			fmt.Fprintf(w, "  %-14s %.3f  %7.1f %7.1f %7.1f %7.1f\n", label, b.Score, b.Box[0], b.Box[1], b.Box[2], b.Box[3])
		}
		if r.Saved != "" {
			fmt.Fprintf(w, "  saved %s\n", esc.String(r.Saved))
		}
	}
	return nil
}

// Color is label's colour in drawings: hues spread by the golden angle,
// so that neighbouring labels differ.
func Color(label int) color.RGBA {
	h := math.Mod(float64(label)*0.6180339887498949, 1) * 6
	s, v := 0.85, 1.0
	i := math.Floor(h)
	f := h - i
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	var r, g, b float64
	switch int(i) % 6 {
	case 0:
		r, g, b = v, t, p
	case 1:
		r, g, b = q, v, p
	case 2:
		r, g, b = p, v, t
	case 3:
		r, g, b = p, q, v
	case 4:
		r, g, b = t, p, v
	default:
		r, g, b = v, p, q
	}
	return color.RGBA{uint8(255 * r), uint8(255 * g), uint8(255 * b), 255}
}

// Draw returns photo with each box's outline drawn in its label's colour
// (the worst box first, so the best is on top), lines about 1/200 of the
// photo's smaller side thick (at least 2 pixels), and its label and score
// written in black on that colour above the box (inside it at the photo's
// top edge), in x/image's 7x13 bitmap font.
func Draw(photo image.Image, boxes []Box) *image.RGBA {
	b := photo.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.Set(x, y, photo.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	th := max(2, min(b.Dx(), b.Dy())/200)
	for i := len(boxes) - 1; i >= 0; i-- {
		bx := boxes[i]
		c := Color(bx.Label)
		x0, y0, x1, y1 := pix(bx.Box[0], b.Dx()), pix(bx.Box[1], b.Dy()), pix(bx.Box[2], b.Dx()), pix(bx.Box[3], b.Dy())
		fill := func(r image.Rectangle) {
			r = r.Intersect(out.Rect)
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					out.SetRGBA(x, y, c)
				}
			}
		}
		fill(image.Rect(x0, y0, x1+1, y0+th))     // top
		fill(image.Rect(x0, y1-th+1, x1+1, y1+1)) // bottom
		fill(image.Rect(x0, y0, x0+th, y1+1))     // left
		fill(image.Rect(x1-th+1, y0, x1+1, y1+1)) // right
		label := bx.Name
		if label == "" {
			label = strconv.Itoa(bx.Label)
		}
		text := []rune(fmt.Sprintf("%s %.2f", label, bx.Score))
		for i, r := range text {
			if r < 0x20 || r > 0x7e { // the font's ASCII; control characters never reach the image
				text[i] = '?'
			}
		}
		if len(text) > 64 {
			text = append(text[:63], '~')
		}
		face := basicfont.Face7x13
		tw, tty := 7*len(text)+4, y0-face.Height
		if tty < 0 {
			tty = y0 + th
		}
		fill(image.Rect(x0, tty, x0+tw, tty+face.Height))
		d := font.Drawer{Dst: out, Src: image.NewUniform(color.Black), Face: face,
			Dot: fixed.P(x0+2, tty+face.Ascent)}
		d.DrawString(string(text))
	}
	return out
}

// pix is coordinate v clamped to a pixel index 0..n-1 (NaN: 0).
func pix(v float32, n int) int {
	if !(v > 0) {
		return 0
	}
	if v >= float32(n-1) {
		return n - 1
	}
	return int(v)
}

func save(path string, photo image.Image, boxes []Box) error {
	data, err := segment.EncodePNG(Draw(photo, boxes))
	if err != nil {
		return fmt.Errorf("save image %s: %w", esc.String(path), err)
	}
	if err := codegen.WriteFile(path, data); err != nil {
		return fmt.Errorf("save image: %w", err)
	}
	return nil
}
