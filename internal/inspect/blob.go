package inspect

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/esc"
	"github.com/mncdev/mnc/runtime/kernels"
)

// SizeBound is the size an int8 model file may reach: 1.02 x (int8
// weights + int32 biases) + 64 KiB (the rest: scales, names, tables,
// metadata and alignment).
func SizeBound(info *runtime.Info) int64 {
	return int64(1.02*float64(info.Const.Int8+info.Const.Int32)) + 64<<10
}

// BlobSummary is what mnc inspect prints for a compiled model file: the
// runtime's description plus the size and arena figures.
type BlobSummary struct {
	*runtime.Info
	// SizeBound applies to int8 files (see SizeBound).
	SizeBound  int64   `json:"size_bound"`
	ArenaRatio float64 `json:"arena_over_lower_bound"`
}

// Blob summarises a loaded model file.
func Blob(info *runtime.Info) *BlobSummary {
	s := &BlobSummary{Info: info, SizeBound: SizeBound(info)}
	if info.Arena.LowerBound > 0 {
		s.ArenaRatio = float64(info.Arena.Bytes) / float64(info.Arena.LowerBound)
	}
	return s
}

// WrittenLine is the line mnc compile prints after writing a model file.
func WrittenLine(path string, info *runtime.Info) string {
	return fmt.Sprintf("wrote %s: %s, %s bytes (weights %s), arena %s bytes (lower bound %s), %d ops",
		esc.String(path), info.Precision, num(info.FileBytes), num(info.Const.Int8+info.Const.Int32+info.Const.Float32),
		num(info.Arena.Bytes), num(info.Arena.LowerBound), len(info.Ops))
}

// num renders n with thousands separators.
func num(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// Write prints the summary: header, calibration record, sizes and arena,
// then the op table and the tensor table; or JSON.
func (s *BlobSummary) Write(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	in := s.Info
	var b strings.Builder
	// Every string of the file is printed escaped (see package esc).
	e := esc.String
	fmt.Fprintf(&b, "model %s: %s, format %s, target %s", e(in.Name), e(in.Precision), e(in.Format), e(in.Target))
	if in.Producer != "" {
		fmt.Fprintf(&b, ", made by %s", e(in.Producer))
	}
	fmt.Fprintf(&b, "\nkernels here: %s (this CPU runs %s; --kernels or MNC_KERNELS forces one)",
		in.Kernels, strings.Join(kernels.Available(), ", "))
	if in.KernelsNote != "" {
		fmt.Fprintf(&b, "\nnote: %s", esc.Line(in.KernelsNote))
	}
	fmt.Fprintf(&b, "\ninput  %s %s %s\n", e(in.Input.Name), e(in.Input.DType), shapeString(in.Input.Shape))
	outs := in.Outputs
	if len(outs) == 0 {
		outs = []runtime.TensorInfo{in.Output}
	}
	for _, o := range outs { // every graph output, in order (Run returns the first)
		fmt.Fprintf(&b, "output %s %s %s\n", e(o.Name), e(o.DType), shapeString(o.Shape))
	}
	if p := in.Preprocess; p != nil {
		fmt.Fprintf(&b, "preprocessing %s\n", p)
	}
	if len(in.Labels) > 0 {
		fmt.Fprintf(&b, "labels %d (%s, ...)\n", len(in.Labels), e(in.Labels[0]))
	}
	if d := in.Detection; d != nil {
		anchors := 0
		for k, f := range d.FeatureMaps {
			anchors += f[0] * f[1] * (2 + 2*len(d.Anchors.AspectRatios[k]))
		}
		maps := make([]string, len(d.FeatureMaps))
		for k, f := range d.FeatureMaps {
			maps[k] = fmt.Sprintf("%dx%d", f[0], f[1])
		}
		p := d.Params
		fmt.Fprintf(&b, "detection: SSD, %d classes, %d anchors on %s (scales %g to %g) for %dx%d; scores > %g, NMS IoU %g, %d per class, %d per image\n",
			d.Classes, anchors, strings.Join(maps, " "), d.Anchors.MinRatio, d.Anchors.MaxRatio, d.ImageHeight, d.ImageWidth,
			p.ScoreThresh, p.NMSThresh, p.TopKCandidates, p.DetectionsPerImg)
	}
	if len(in.FloatOps) > 0 {
		fmt.Fprintf(&b, "mixed precision: %d of %d ops in float32: %s\n", len(in.FloatOps), len(in.Ops), strings.Join(esc.Strings(in.FloatOps), ", "))
	}
	if c := in.Calibration; c != nil {
		if c.Images == 0 {
			fmt.Fprintf(&b, "calibration: %s, method %s, no images (the activation ranges are the source model file's)\n", e(c.Scheme), e(c.Method))
		} else {
			fmt.Fprintf(&b, "calibration: %s, method %s, %d images, image list sha256 %s\n", e(c.Scheme), e(c.Method), c.Images, e(c.ImageListSHA256))
		}
		for _, q := range []struct {
			what string
			q    *runtime.Quality
		}{{"calibration images", c.Calib}, {"eval images", c.Eval}} {
			switch {
			case q.q != nil && q.q.MedianSQNR != nil && q.q.WorstSQNR != nil:
				fmt.Fprintf(&b, "  %s (%d): logits SQNR %.2f dB median, %.2f worst (%.2f pooled), top-1 agreement %d/%d, cosine %.4f (min %.4f)\n",
					q.what, q.q.Images, *q.q.MedianSQNR, *q.q.WorstSQNR, q.q.LogitsSQNR, q.q.Top1Agree, q.q.Images, q.q.Cosine, q.q.MinCosine)
			case q.q != nil:
				fmt.Fprintf(&b, "  %s (%d): logits SQNR %.2f dB pooled, top-1 agreement %d/%d, cosine %.4f (min %.4f)\n",
					q.what, q.q.Images, q.q.LogitsSQNR, q.q.Top1Agree, q.q.Images, q.q.Cosine, q.q.MinCosine)
			}
		}
	}
	weights := in.Const.Int8 + in.Const.Int32 + in.Const.Float32
	fmt.Fprintf(&b, "size: %s bytes = int8 %s + int32 %s + float32 %s + %s of tables, names and metadata\n",
		num(in.FileBytes), num(in.Const.Int8), num(in.Const.Int32), num(in.Const.Float32), num(in.FileBytes-weights))
	if in.Precision == "int8" {
		fmt.Fprintf(&b, "size bound: 1.02 x (int8 + int32) + 64 KiB = %s bytes; the file is %.1f%% of it\n",
			num(s.SizeBound), 100*float64(in.FileBytes)/float64(s.SizeBound))
	}
	fmt.Fprintf(&b, "arena: %s bytes, lower bound %s (max over ops of the live bytes): %.3fx, alignment %d\n",
		num(in.Arena.Bytes), num(in.Arena.LowerBound), s.ArenaRatio, in.Arena.Alignment)
	fmt.Fprintf(&b, "%d ops, %d tensors, %s MACs\n\n", len(in.Ops), len(in.Tensors), human(in.MACs))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "op\tcode\tv\tname\tinputs\toutputs\tattrs\tMACs\t")
	ints := func(v []int) string {
		p := make([]string, len(v))
		for i, x := range v {
			p[i] = fmt.Sprint(x)
			if x < 0 {
				p[i] = "-"
			}
		}
		return strings.Join(p, ",")
	}
	for _, o := range in.Ops {
		outs := ints(o.Outputs)
		if len(o.Intermediates) > 0 {
			outs += " (+" + ints(o.Intermediates) + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\t%d\t\n", o.Index, e(o.Op), o.Version, e(o.Name), ints(o.Inputs), outs, e(o.Attrs), o.MACs)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "tensor\tname\ttype\tshape\tbytes\twhere\tquantization\t")
	for _, t := range in.Tensors {
		where := fmt.Sprintf("arena@%d", t.ArenaOffset)
		if t.Buffer != 0 {
			where = fmt.Sprintf("buffer %d", t.Buffer)
		}
		q := ""
		switch {
		case len(t.Scale) == 1:
			z := int32(0)
			if len(t.ZeroPoint) > 0 {
				z = t.ZeroPoint[0]
			}
			q = fmt.Sprintf("s=%.6g z=%d", t.Scale[0], z)
		case len(t.Scale) > 1:
			q = fmt.Sprintf("%d scales, axis %d", len(t.Scale), t.Axis)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t\n", t.Index, e(t.Name), e(t.DType), shapeString(t.Shape), t.Bytes, where, q)
	}
	return tw.Flush()
}
