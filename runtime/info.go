package runtime

import (
	"fmt"
	"github.com/mncdev/mnc/runtime/detect"
	"strings"

	"github.com/mncdev/mnc/runtime/mncfb"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// Info describes a loaded model: what mnc inspect prints.
type Info struct {
	Name      string `json:"name"`
	Format    string `json:"format_version"`
	Precision string `json:"precision"` // "int8", "float32" or "mixed" (int8 with some operators in float32)
	// FloatOps names the operators of a mixed model that compute in
	// float32, in order.
	FloatOps []string `json:"float_ops,omitempty"`
	Target   string   `json:"target"`
	Kernels  string   `json:"kernels"` // the kernel set this runtime chose
	// KernelsNote is set when the kernels chosen are slower than those of
	// the target the model was compiled for because this CPU cannot run
	// them (e.g. a Raspberry Pi 5 model on a Pi 4): it says which and why.
	KernelsNote string     `json:"kernels_note,omitempty"`
	Producer    string     `json:"producer,omitempty"`
	FileBytes   int64      `json:"file_bytes"`
	Input       TensorInfo `json:"input"`
	Output      TensorInfo `json:"output"` // the first output
	// Outputs are every graph output, in order (Outputs[0] is Output):
	// format 1.4's models with several, such as SSDLite's cls_logits and
	// bbox_regression.
	Outputs     []TensorInfo     `json:"outputs"`
	Preprocess  *preprocess.Spec `json:"preprocess,omitempty"`
	Labels      []string         `json:"labels,omitempty"`
	Calibration *Calibration     `json:"calibration,omitempty"`
	// Detection is a detector's post-processing settings (format 1.5).
	Detection *detect.Config    `json:"detection,omitempty"`
	Extra     map[string]string `json:"extra,omitempty"`
	Arena     ArenaInfo         `json:"arena"`
	// Const sums the constant data by type: int8 weights and lookup
	// tables, int32 biases, float32 weights and biases.
	Const   ConstBytes   `json:"const_bytes"`
	MACs    int64        `json:"macs"`
	Ops     []OpInfo     `json:"ops"`
	Tensors []TensorInfo `json:"tensors"`
}

// ArenaInfo is the activation memory plan.
type ArenaInfo struct {
	Bytes      int64 `json:"bytes"`
	LowerBound int64 `json:"lower_bound"` // max over ops of the bytes live during the op
	Alignment  int   `json:"alignment"`
}

// ConstBytes counts constant bytes by element type.
type ConstBytes struct {
	Int8    int64 `json:"int8"`
	Int32   int64 `json:"int32"`
	Float32 int64 `json:"float32"`
}

// Calibration is the record of an int8 model's calibration.
type Calibration struct {
	Scheme          string   `json:"scheme,omitempty"`
	Method          string   `json:"method,omitempty"`
	Images          int      `json:"images"`
	ImageListSHA256 string   `json:"image_list_sha256,omitempty"`
	Calib           *Quality `json:"calib,omitempty"`
	Eval            *Quality `json:"eval,omitempty"`
}

// Quality holds the headline figures of the int8 quality report.
type Quality struct {
	Images     int     `json:"images"`
	LogitsSQNR float64 `json:"logits_sqnr_db"`
	Top1Agree  int     `json:"top1_agree"`
	Cosine     float64 `json:"cosine"`
	MinCosine  float64 `json:"min_cosine"`
	// MedianSQNR and WorstSQNR are the median and lowest per-image logits
	// SQNRs; nil in files written before they were recorded.
	MedianSQNR *float64 `json:"median_sqnr_db,omitempty"`
	WorstSQNR  *float64 `json:"worst_sqnr_db,omitempty"`
}

// TensorInfo describes one tensor.
type TensorInfo struct {
	Index       int       `json:"index"`
	Name        string    `json:"name"`
	DType       string    `json:"dtype"`
	Shape       []int     `json:"shape"`
	Bytes       int64     `json:"bytes"`
	Buffer      int       `json:"buffer,omitempty"`     // constant data's buffer, 0 for activations
	ArenaOffset int64     `json:"arena_offset"`         // -1 for constants
	Scale       []float32 `json:"scale,omitempty"`      // one (per tensor) or per channel
	ZeroPoint   []int32   `json:"zero_point,omitempty"` // absent: 0
	Axis        int       `json:"axis,omitempty"`       // channel axis of per-channel scales
	First, Last int       `json:"-"`                    // lifetime in op indices
}

// OpInfo describes one operator.
type OpInfo struct {
	Index         int    `json:"index"`
	Op            string `json:"op"`
	Version       int    `json:"version"`
	Name          string `json:"name"`
	Inputs        []int  `json:"inputs"`
	Outputs       []int  `json:"outputs"`
	Intermediates []int  `json:"intermediates,omitempty"`
	Attrs         string `json:"attrs,omitempty"`
	MACs          int64  `json:"macs"`
}

func dtypeName(d mncfb.DType) string {
	switch d {
	case mncfb.DTypeINT8:
		return "int8"
	case mncfb.DTypeINT32:
		return "int32"
	case mncfb.DTypeFLOAT32:
		return "float32"
	}
	return d.String()
}

func actString(a activation) string {
	switch a.kind {
	case mncfb.ActivationKindNONE:
		return ""
	case mncfb.ActivationKindCLIP:
		return fmt.Sprintf("clip(%g,%g)", a.min, a.max)
	case mncfb.ActivationKindHARD_SIGMOID:
		return fmt.Sprintf("hardsigmoid(%g,%g)", a.alpha, a.beta)
	}
	return strings.ToLower(a.kind.String())
}

// describe fills the parts of Info derived from the verified tables.
func (m *Model) describe() {
	in := &m.info
	in.Kernels = m.kern.Name
	in.Tensors = make([]TensorInfo, len(m.tensors))
	for i := range m.tensors {
		t := &m.tensors[i]
		ti := TensorInfo{Index: i, Name: t.name, DType: dtypeName(t.dtype), Shape: t.shape, Bytes: int64(t.bytes),
			Buffer: t.buffer, ArenaOffset: t.offset, Scale: t.scale, ZeroPoint: t.zero, First: t.first, Last: t.last}
		if len(t.scale) > 1 {
			ti.Axis = t.axis
		}
		in.Tensors[i] = ti
		if t.isConst() {
			switch t.dtype {
			case mncfb.DTypeINT8:
				in.Const.Int8 += int64(t.bytes)
			case mncfb.DTypeINT32:
				in.Const.Int32 += int64(t.bytes)
			case mncfb.DTypeFLOAT32:
				in.Const.Float32 += int64(t.bytes)
			}
		}
	}
	in.Input, in.Output = in.Tensors[m.input], in.Tensors[m.output]
	in.Outputs = make([]TensorInfo, len(m.outputs))
	for i, x := range m.outputs {
		in.Outputs[i] = in.Tensors[x]
	}
	in.Ops = make([]OpInfo, len(m.ops))
	for i := range m.ops {
		op := &m.ops[i]
		oi := OpInfo{Index: i, Op: op.code.String(), Version: op.version, Name: op.name, Inputs: op.in,
			Outputs: op.out, Intermediates: op.mid}
		if mc, ok := m.steps[i].(macCounter); ok {
			oi.MACs = mc.macs()
		}
		var attrs []string
		switch op.optType {
		case mncfb.OpOptionsConv2DOptions:
			c := op.conv
			attrs = append(attrs, fmt.Sprintf("stride=%d,%d pads=%d,%d,%d,%d", c.strideH, c.strideW, c.padT, c.padL, c.padB, c.padR))
			if c.groups > 1 {
				attrs = append(attrs, fmt.Sprintf("groups=%d", c.groups))
			}
			if c.dilH > 1 || c.dilW > 1 {
				attrs = append(attrs, fmt.Sprintf("dilation=%d,%d", c.dilH, c.dilW))
			}
			attrs = append(attrs, "weights="+c.layout.String())
		case mncfb.OpOptionsTransposeOptions:
			attrs = append(attrs, "perm="+strings.Trim(strings.ReplaceAll(fmt.Sprint(op.perm), " ", ","), "[]"))
		case mncfb.OpOptionsPool2DOptions:
			attrs = append(attrs, fmt.Sprintf("kernel=%d,%d stride=%d,%d", op.pool.kh, op.pool.kw, op.pool.strideH, op.pool.strideW))
		case mncfb.OpOptionsSoftmaxOptions, mncfb.OpOptionsArgMaxOptions, mncfb.OpOptionsConcatenationOptions:
			attrs = append(attrs, fmt.Sprintf("axis=%d", op.axis))
		case mncfb.OpOptionsResizeBilinearOptions:
			r := op.resize
			attrs = append(attrs, fmt.Sprintf("size=%d,%d align_corners=%v half_pixel_centers=%v", r.h, r.w, r.alignCorners, r.halfPixel))
		}
		if r := op.argResize; r != nil {
			attrs = append(attrs, fmt.Sprintf("resize=%d,%d align_corners=%v half_pixel_centers=%v", r.h, r.w, r.alignCorners, r.halfPixel))
		}
		if s := actString(op.act); s != "" {
			attrs = append(attrs, "act="+s)
		}
		if s := actString(op.gate); s != "" {
			attrs = append(attrs, "gate="+s)
		}
		oi.Attrs = strings.Join(attrs, " ")
		in.MACs += oi.MACs
		in.Ops[i] = oi
	}
}
