package frontend

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/mncdev/mnc/frontend/mobilenet"
	"github.com/mncdev/mnc/frontend/onnx"
	"github.com/mncdev/mnc/frontend/tflite"
	"github.com/mncdev/mnc/frontend/torch"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/limits"
)

// Options describes the architecture of a checkpoint, which (unlike an ONNX
// or TFLite file) holds weights but not the network. ONNX and TFLite files
// ignore it. Load infers
// what is left zero from the checkpoint's tensor names and shapes (see
// mobilenet.Infer); what is given must agree with the checkpoint.
type Options struct {
	Arch        string  // a mobilenet.Arches name, e.g. mobilenet_v2 or lraspp_mobilenet_v3_large ("": inferred)
	Width       float64 // width multiplier (0: inferred; without a checkpoint 1.0)
	Classes     int     // number of classes (0: inferred; without a checkpoint 1000, 21 for segmentation, 91 for detection)
	Resolution  int     // input height and width (0: 224, 320 for ssdlite320_mobilenet_v3_large; weights do not tell)
	ReducedTail bool    // MobileNetV3 reduced_tail (false: inferred unless ReducedTailSet)
	// ReducedTailSet says that ReducedTail was given, also when false
	// (--reduced-tail=false): a checkpoint must then agree.
	ReducedTailSet bool
	ArchSpec       string // a JSON architecture table replacing Arch's built-in one
	// Note, when set, receives one line saying what Load inferred, e.g.
	// "inferred --arch mobilenet_v2 --width 0.75 --classes 1000
	// (alpha-scaled last conv)", when it inferred anything.
	Note func(string)
}

// Format is a model file format.
type Format string

const (
	ONNX        Format = "onnx"
	Checkpoint  Format = "pytorch"
	SafeTensors Format = "safetensors"
	TFLite      Format = "tflite"
)

// FormatOf names the format of path: TFLite when the file starts with
// TFLite's identifier (whatever its name), else from its extension.
func FormatOf(path string) (Format, error) {
	if IsTFLite(path) {
		return TFLite, nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".tflite":
		return TFLite, nil // not a TFLite file inside: its reader says why
	case ".onnx":
		return ONNX, nil
	case ".pth", ".pt", ".ckpt", ".bin", ".tar":
		return Checkpoint, nil
	case ".safetensors":
		return SafeTensors, nil
	}
	return "", fmt.Errorf("%s: unknown model format (want .onnx, .tflite, .pth, .pt or .safetensors)", path)
}

// IsTFLite reports whether path names a regular file that starts like a
// TFLite file (a FlatBuffer with the identifier "TFL3").
func IsTFLite(path string) bool {
	head, ok := limits.Head(path, 8)
	return ok && tflite.IsTFLite(head)
}

// ErrNoArch reports an architecture asked for without naming one.
var ErrNoArch = errors.New("no architecture: name one with --arch (" +
	strings.Join(mobilenet.Arches(), ", ") + ") or --arch-spec FILE")

// Load reads the float model at path into a verified ir graph.
func Load(path string, opts Options) (*ir.Graph, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	switch format {
	case ONNX:
		g, err := onnx.Load(path)
		if err != nil {
			return nil, err
		}
		// An SSDLite export holds no anchors: they are torchvision's.
		if _, err := mobilenet.RecognizeSSDLite(g); err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		return g, nil
	case TFLite:
		return tflite.Load(path)
	}
	known := mobilenet.Known{Arch: opts.Arch, Width: opts.Width, Classes: opts.Classes}
	if opts.ReducedTail || opts.ReducedTailSet {
		rt := opts.ReducedTail
		known.ReducedTail = &rt
	}
	if opts.ArchSpec != "" {
		if known.Spec, err = mobilenet.LoadSpec(opts.ArchSpec); err != nil {
			return nil, err
		}
	}
	sd, err := torch.Load(path)
	if err != nil {
		return nil, err
	}
	inf, err := mobilenet.Infer(sd, known)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	cfg := inf.Config
	cfg.Resolution = opts.Resolution
	g, err := mobilenet.Build(cfg)
	if err != nil {
		return nil, err
	}
	if err := mobilenet.Bind(g, cfg, sd); err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if err := ir.Verify(g); err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if inf.Guessed && opts.Note != nil {
		opts.Note("inferred " + inf.Flags(opts.ArchSpec != ""))
	}
	return g, nil
}

// Definition builds the architecture that opts names, with zero weights: what
// a checkpoint's tensors bind to, and what `mnc compile --arch` compiles.
func Definition(opts Options) (*ir.Graph, error) {
	return definition(opts, mobilenet.Build)
}

// Describe is Definition without the weights' data (constants have shapes
// and no elements): what `mnc inspect --arch` describes, allocating no
// weights.
func Describe(opts Options) (*ir.Graph, error) {
	return definition(opts, mobilenet.Shapes)
}

func definition(opts Options, build func(mobilenet.Config) (*ir.Graph, error)) (*ir.Graph, error) {
	if opts.Arch == "" && opts.ArchSpec == "" {
		return nil, ErrNoArch
	}
	cfg := mobilenet.Config{
		Arch: opts.Arch, Width: opts.Width, Classes: opts.Classes,
		Resolution: opts.Resolution, ReducedTail: opts.ReducedTail,
	}
	if opts.ArchSpec != "" {
		spec, err := mobilenet.LoadSpec(opts.ArchSpec)
		if err != nil {
			return nil, err
		}
		cfg.Spec = spec
	}
	return build(cfg)
}
