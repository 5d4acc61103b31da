package segment

import (
	"cmp"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/internal/classify"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/esc"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// Is reports whether m is a segmentation model, by its output (IsOutput),
// and its class count when the model states it (the axis of a final
// ArgMax, the C of logits [N,C,H,W]; else 0).
func Is(m classify.Model) (seg bool, classes int) {
	o := classify.Output(m)
	if !IsOutput(o.Type.Shape, o.Type.DType) {
		return false, 0
	}
	if o.ArgMaxClasses > 0 {
		return true, o.ArgMaxClasses
	}
	return true, Classes(o.Type.Shape)
}

// Share is one class's part of a class map.
type Share struct {
	Index  int    `json:"index"`
	Label  string `json:"label,omitempty"`
	Pixels int    `json:"pixels"`
	// Share is Pixels over the map's pixels that have a class.
	Share float64 `json:"share"`
}

// Shares returns the classes present in m, the most pixels first (ties by
// index), named by labels where they name them.
func Shares(m Map, labels []string) (shares []Share, unseen int) {
	var n [256]int
	for _, c := range m.Pix {
		n[c]++
	}
	unseen = n[Unseen]
	seen := len(m.Pix) - unseen
	for c := range MaxClasses {
		if n[c] > 0 {
			s := Share{Index: c, Pixels: n[c], Share: float64(n[c]) / float64(seen)}
			if c < len(labels) {
				s.Label = labels[c]
			}
			shares = append(shares, s)
		}
	}
	slices.SortStableFunc(shares, func(a, b Share) int { return cmp.Compare(b.Pixels, a.Pixels) })
	return shares, unseen
}

// Result is the segmentation of one input.
type Result struct {
	Input string `json:"input"`
	// Width and Height are the photo's size (a tensor's input size), at
	// which the classes are counted.
	Width   int     `json:"width"`
	Height  int     `json:"height"`
	Classes []Share `json:"classes"`
	// Unseen counts the photo's pixels outside what the model saw (a
	// center crop's edges); 0 with the tf preprocessing.
	Unseen int `json:"unseen_pixels,omitempty"`
	// Saved is the PNG written for it, if any.
	Saved string `json:"saved_image,omitempty"`
}

// Save says what RunImages writes per image: Paths[i] (nil: nothing) gets
// image i's class map in the VOC colormap as a paletted PNG, or, with
// Overlay, blended over the photo.
type Save struct {
	Paths   []string
	Overlay bool
}

// RunImages preprocesses each photo with spec, runs m on it and returns its
// class map's classes at the photo's size (see the package comment), plus
// the model's outputs of all photos as one float32 tensor (logits, or class
// indices), batch by batch.
func RunImages(m classify.Model, paths []string, spec preprocess.Spec, labels []string, save Save) ([]Result, *ir.Tensor, error) {
	h, w, err := classify.InputSize(m)
	if err != nil {
		return nil, nil, err
	}
	in := ir.NewFloat32(ir.Shape{1, 3, h, w}, nil)
	var outs []*ir.Tensor
	results := make([]Result, 0, len(paths))
	for i, p := range paths {
		img, err := preprocess.LoadImage(p)
		if err != nil {
			return nil, nil, err
		}
		if err := spec.Tensor(img, in.F32); err != nil {
			return nil, nil, fmt.Errorf("preprocess %s: %w", p, err)
		}
		out, err := m.Run(in)
		if err != nil {
			return nil, nil, fmt.Errorf("run %s: %w", p, err)
		}
		maps, err := Maps(out)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		outs = append(outs, out)
		b := img.Bounds()
		iw, ih := b.Dx(), b.Dy()
		x0, y0, x1, y1, err := spec.Region(iw, ih)
		if err != nil {
			return nil, nil, err
		}
		full := maps[0].Project(Region{x0, y0, x1, y1}, iw, ih, iw, ih)
		r := Result{Input: p, Width: iw, Height: ih}
		r.Classes, r.Unseen = Shares(full, labels)
		if i < len(save.Paths) && save.Paths[i] != "" {
			if err := write(save.Paths[i], full, img, save.Overlay); err != nil {
				return nil, nil, err
			}
			r.Saved = save.Paths[i]
		}
		results = append(results, r)
	}
	all, err := Float32(outs)
	if err != nil {
		return nil, nil, err
	}
	return results, all, nil
}

// write saves m (over photo, with overlay) as a PNG at path.
func write(path string, m Map, photo image.Image, overlay bool) error {
	var img image.Image = Image(m)
	if overlay {
		o, err := Overlay(m, photo)
		if err != nil {
			return err
		}
		img = o
	}
	b, err := EncodePNG(img)
	if err != nil {
		return fmt.Errorf("save image %s: %w", path, err)
	}
	if err := codegen.WriteFile(path, b); err != nil {
		return fmt.Errorf("save image: %w", err)
	}
	return nil
}

// RunTensor runs a whole input batch [N,3,H,W] and returns one result per
// item at the input's size, plus the output as float32.
func RunTensor(m classify.Model, in *ir.Tensor, name string, labels []string) ([]Result, *ir.Tensor, error) {
	var outs []*ir.Tensor
	n := in.Shape[0]
	per := len(in.F32) / max(n, 1)
	var results []Result
	for i := range n { // item by item: a segmenter's batch is its largest tensor
		item := in.Shape.Clone()
		item[0] = 1
		out, err := m.Run(ir.NewFloat32(item, in.F32[i*per:(i+1)*per]))
		if err != nil {
			return nil, nil, fmt.Errorf("batch item %d: %w", i, err)
		}
		maps, err := Maps(out)
		if err != nil {
			return nil, nil, err
		}
		outs = append(outs, out)
		r := Result{Input: fmt.Sprintf("%s[%d]", name, i), Width: maps[0].W, Height: maps[0].H}
		r.Classes, r.Unseen = Shares(maps[0], labels)
		results = append(results, r)
	}
	all, err := Float32(outs)
	if err != nil {
		return nil, nil, err
	}
	return results, all, nil
}

// Float32 concatenates outputs of one shape but the batch along the batch
// dimension, as float32 (class indices converted: they are exact).
func Float32(outs []*ir.Tensor) (*ir.Tensor, error) {
	if len(outs) == 0 {
		return ir.NewFloat32(ir.Shape{0}, []float32{}), nil
	}
	s := outs[0].Shape.Clone()
	s[0] = 0
	var data []float32
	for _, o := range outs {
		if len(o.Shape) != len(s) || !o.Shape[1:].Equal(s[1:]) {
			return nil, fmt.Errorf("model outputs %v and %v differ in shape", outs[0].Shape, o.Shape)
		}
		s[0] += o.Shape[0]
		switch o.DType {
		case ir.Float32:
			data = append(data, o.F32...)
		case ir.Int32:
			for _, v := range o.I32 {
				data = append(data, float32(v))
			}
		case ir.Int64:
			for _, v := range o.I64 {
				data = append(data, float32(v))
			}
		default:
			return nil, fmt.Errorf("model output of type %v", o.DType)
		}
	}
	return ir.NewFloat32(s, data), nil
}

// SavePaths returns where --save-image FILE writes each photo's image:
// FILE itself for one photo; for several, FILE with "_" and the photo's
// base name (without extension) inserted before its extension (seg.png:
// seg_bird.png, seg_dog.png). FILE must end in .png; two photos of one
// base name are an error.
func SavePaths(file string, photos []string) ([]string, error) {
	ext := filepath.Ext(file)
	if !strings.EqualFold(ext, ".png") {
		return nil, fmt.Errorf("--save-image %s: the images are written as PNG: give a file name ending in .png", esc.String(file))
	}
	if len(photos) == 1 {
		return []string{file}, nil
	}
	stem := strings.TrimSuffix(file, ext)
	paths := make([]string, len(photos))
	by := map[string]string{}
	for i, p := range photos {
		base := filepath.Base(p)
		paths[i] = stem + "_" + strings.TrimSuffix(base, filepath.Ext(base)) + ext
		if other, ok := by[paths[i]]; ok {
			return nil, fmt.Errorf("--save-image: %s and %s would both be saved as %s (give them different base names, or run them apart)", esc.String(other), esc.String(p), esc.String(paths[i]))
		}
		by[paths[i]] = p
	}
	return paths, nil
}

// Print writes results as text (a line per class present: index, share,
// label; at most top classes when top > 0) or as JSON.
func Print(w io.Writer, results []Result, asJSON bool, top int) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	for _, r := range results {
		fmt.Fprintf(w, "%s (%dx%d, %d classes)\n", esc.String(filepath.Base(r.Input)), r.Width, r.Height, len(r.Classes))
		for i, c := range r.Classes {
			if top > 0 && i == top {
				fmt.Fprintf(w, "  ... %d more\n", len(r.Classes)-top)
				break
			}
			label := esc.String(c.Label)
			if label == "" {
				label = "-"
			}
			fmt.Fprintf(w, "  %5d  %6.2f%%  %s\n", c.Index, 100*c.Share, label)
		}
		if r.Unseen > 0 {
			fmt.Fprintf(w, "  %d pixels outside the model's input (cropped by the preprocessing)\n", r.Unseen)
		}
		if r.Saved != "" {
			fmt.Fprintf(w, "  saved %s\n", esc.String(r.Saved))
		}
	}
	return nil
}
