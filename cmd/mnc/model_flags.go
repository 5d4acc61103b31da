package main

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/frontend/mobilenet"
	"github.com/mncdev/mnc/runtime/esc"
	"github.com/mncdev/mnc/runtime/limits"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// addModelFlags registers the flags that describe a checkpoint's
// architecture. Those left out are inferred from the checkpoint's tensor
// names and shapes (a line on stderr says what was inferred); those given
// must agree with it.
func addModelFlags(cmd *cobra.Command, o *frontend.Options) {
	f := cmd.Flags()
	f.StringVar(&o.Arch, "arch", "", "architecture of a .pth/.safetensors checkpoint: mobilenet_v1, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small,\n"+
		"the segmentation models lraspp_mobilenet_v3_large, deeplabv3_mobilenet_v3_large, or the detector ssdlite320_mobilenet_v3_large\n"+
		"(default: inferred from the checkpoint)")
	f.Float64Var(&o.Width, "width", 0, "width multiplier of the architecture (default: inferred from a checkpoint, else 1.0)")
	f.IntVar(&o.Classes, "classes", 0, "number of classes of the checkpoint's classifier (default: inferred from a checkpoint, else 1000)")
	f.IntVar(&o.Resolution, "resolution", 0, "input height and width of a checkpoint's network, which weights do not tell (default 224, 320 for ssdlite320_mobilenet_v3_large)")
	rt := f.VarPF(&reducedTailFlag{o}, "reduced-tail", "", "MobileNetV3 with torchvision's reduced_tail (default: inferred from a checkpoint, else false)")
	rt.NoOptDefVal = "true"
	f.StringVar(&o.ArchSpec, "arch-spec", "", "JSON `FILE` with a custom architecture table (see frontend/mobilenet)")
	limitFlag(cmd, "classes", 1, limits.Classes)
	limitFlag(cmd, "resolution", minResolution, limits.Resolution)
	o.Note = func(s string) { fmt.Fprintf(cmd.ErrOrStderr(), "mnc: %s\n", esc.Line(s)) }
	cmd.PreRunE = checkModelFlags
}

// reducedTailFlag is --reduced-tail, a boolean flag that records whether it
// was given (--reduced-tail=false too), since a checkpoint's tail is
// otherwise inferred.
type reducedTailFlag struct{ o *frontend.Options }

func (r *reducedTailFlag) String() string {
	if r.o == nil {
		return "false"
	}
	return strconv.FormatBool(r.o.ReducedTail)
}

func (r *reducedTailFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	r.o.ReducedTail, r.o.ReducedTailSet = v, true
	return nil
}

func (r *reducedTailFlag) Type() string     { return "bool" }
func (r *reducedTailFlag) IsBoolFlag() bool { return true }

// minResolution is the smallest --resolution: MobileNets downsample by
// 32, below 8 pixels no layer keeps a spatial extent worth the name.
const minResolution = 8

// checkModelFlags refuses explicit architecture values that cannot be
// meant (--width 0; --classes 0 and --resolution 0 are refused by their
// ranges, see limitFlag) and --resolution for an ONNX file, whose input
// size is its own.
func checkModelFlags(cmd *cobra.Command, args []string) error {
	f := cmd.Flags()
	if f.Changed("arch") { // also where it is not used (an ONNX or .mnc file): a wrong name is a mistake
		a, _ := f.GetString("arch")
		if _, err := mobilenet.CanonicalArch(a); err != nil {
			return fmt.Errorf("--arch: %w", err) // exit 1, as before this check (mnc inspect --arch resnet50)
		}
	}
	if f.Changed("width") {
		if w, _ := f.GetFloat64("width"); !(w > 0 && w <= 8) {
			return usageError(fmt.Errorf("--width %g: want a multiplier in (0, 8]", w))
		}
	}
	if f.Changed("resolution") {
		for _, a := range args {
			if strings.EqualFold(filepath.Ext(a), ".onnx") {
				return usageError(fmt.Errorf("--resolution is for checkpoints and --arch: the ONNX file %q fixes its own input size", a))
			}
			if frontend.IsTFLite(a) {
				return usageError(fmt.Errorf("--resolution is for checkpoints and --arch: the TFLite file %q fixes its own input size", a))
			}
		}
	}
	return nil
}

// preprocessFlags are --preprocess and the custom preprocessing that
// changes a preset's steps: --mean, --std and --scale (torchvision preset),
// --resize, --crop and --channels (either preset).
type preprocessFlags struct{ preset, mean, std, scale, resize, crop, channels string }

// preprocessFlagNames are the flags of preprocessFlags.
var preprocessFlagNames = []string{"preprocess", "mean", "std", "scale", "resize", "crop", "channels"}

func addPreprocessFlags(cmd *cobra.Command, p *preprocessFlags, usage string) {
	f := cmd.Flags()
	f.StringVar(&p.preset, "preprocess", "torchvision", usage)
	f.StringVar(&p.mean, "mean", "", "with --preprocess torchvision: the per-channel mean `R,G,B` of x/scale, in --channels order (default ImageNet's 0.485,0.456,0.406)")
	f.StringVar(&p.std, "std", "", "with --preprocess torchvision: the per-channel std `R,G,B`, in --channels order (default ImageNet's 0.229,0.224,0.225)")
	f.StringVar(&p.scale, "scale", "", "with --preprocess torchvision: pixels (0..255) are divided by `N` before --mean and --std (default 255; 1 keeps 0..255, as Caffe models want)")
	f.StringVar(&p.resize, "resize", "", "how the image reaches the input size: `N` resizes its shorter side to N pixels then center crops, \"stretch\" resizes it whole, \"interpolate\" normalizes it whole then resizes the tensor as torch's F.interpolate (torchvision's detection transform; a detector's default) (default: torchvision int(size*256/224), tf stretch)")
	f.StringVar(&p.crop, "crop", "", "keep the central `FRACTION` of the image before resizing (TensorFlow's central_crop, e.g. 0.875; default 1)")
	f.StringVar(&p.channels, "channels", "", "channel `ORDER` of the model's input: rgb or bgr (OpenCV/Caffe-trained models; default rgb)")
}

// changed reports whether any of the preprocessing flags was given.
func (p *preprocessFlags) changed(cmd *cobra.Command) bool {
	for _, name := range preprocessFlagNames {
		if cmd.Flags().Changed(name) {
			return true
		}
	}
	return false
}

// spec is the preprocessing the flags ask for, at no size yet (see
// preprocess.Spec.AtSize); a bad value is a usage error naming the flag.
func (p *preprocessFlags) spec() (preprocess.Spec, error) {
	return p.over(preprocess.Spec{Preset: preprocess.Preset(p.preset)})
}

// specFor is spec for the float model at path, whose format may imply the
// preset when --preprocess is not given: tf for TFLite files (TensorFlow's
// models), torchvision for the others.
func (p *preprocessFlags) specFor(cmd *cobra.Command, path string) (preprocess.Spec, error) {
	if !cmd.Flags().Changed("preprocess") && frontend.IsTFLite(path) {
		return p.over(preprocess.Spec{Preset: preprocess.TF})
	}
	return p.spec()
}

// forModel is the preprocessing to run a .mnc file that records rec with:
// rec itself when no flag is given, else rec with the given flags applied
// over it (a --preprocess naming another preset starts from that preset's
// own steps), at rec's size.
func (p *preprocessFlags) forModel(cmd *cobra.Command, rec preprocess.Spec) (preprocess.Spec, error) {
	if !p.changed(cmd) {
		return rec, nil
	}
	base := rec
	if cmd.Flags().Changed("preprocess") && preprocess.Preset(p.preset) != rec.Preset {
		base = preprocess.Spec{Preset: preprocess.Preset(p.preset)}
	}
	s, err := p.over(base)
	if err != nil {
		return s, err
	}
	return s.AtSize(rec.Height, rec.Width)
}

// over is base with the custom preprocessing flags that were given applied
// over it.
func (p *preprocessFlags) over(base preprocess.Spec) (preprocess.Spec, error) {
	s := base
	if _, err := preprocess.Default(s.Preset, 1, 1); err != nil {
		return s, usageError(fmt.Errorf("--preprocess: %w", err))
	}
	if s.Preset != preprocess.Torchvision && (p.mean != "" || p.std != "" || p.scale != "") {
		return s, usageError(fmt.Errorf("--mean, --std and --scale are for --preprocess torchvision (%s computes x/127.5 - 1; --preprocess torchvision --scale 127.5 --mean 1,1,1 --std 1,1,1 --resize stretch is the same map)", s.Preset))
	}
	if (p.mean != "" || p.std != "") && s.Std == ([3]float32{}) {
		s.Mean, s.Std = preprocess.ImageNetMean, preprocess.ImageNetStd
	}
	for _, v := range []struct {
		flag, text string
		dst        *[3]float32
	}{{"mean", p.mean, &s.Mean}, {"std", p.std, &s.Std}} {
		if v.text == "" {
			continue
		}
		x, err := preprocess.ParseStats(v.text)
		if err != nil {
			return s, usageError(fmt.Errorf("--%s %w", v.flag, err))
		}
		*v.dst = x
	}
	if p.scale != "" {
		f, err := strconv.ParseFloat(p.scale, 32)
		if err != nil || !(f > 0) || math.IsInf(f, 0) {
			return s, usageError(fmt.Errorf("--scale %q: want a positive number (pixels are divided by it)", p.scale))
		}
		s.Scale = float32(f)
	}
	switch r := p.resize; {
	case r == "":
	case r == string(preprocess.Stretch):
		s.Resize = preprocess.Stretch
	case r == string(preprocess.Interpolate):
		s.Resize = preprocess.Interpolate
	default:
		n, err := strconv.Atoi(r)
		if err != nil || n < 1 {
			return s, usageError(fmt.Errorf("--resize %q: want the shorter side's size in pixels (a positive integer), \"stretch\" or \"interpolate\"", r))
		}
		s.Resize, s.ResizeTo = preprocess.Shorter, n
	}
	if p.resize == string(preprocess.Stretch) || p.resize == string(preprocess.Interpolate) {
		s.ResizeTo = 0
	}
	if p.crop != "" {
		f, err := strconv.ParseFloat(p.crop, 64)
		switch {
		case err == nil && f > 1:
			return s, usageError(fmt.Errorf("--crop %q: want a central fraction in (0, 1] such as 0.875 (the crop to the input size follows from --resize)", p.crop))
		case err != nil || !(f > 0):
			return s, usageError(fmt.Errorf("--crop %q: want a central fraction in (0, 1] such as 0.875", p.crop))
		}
		s.Crop = f
	}
	if p.channels != "" {
		switch c := preprocess.ChannelOrder(strings.ToLower(p.channels)); c {
		case preprocess.RGB, preprocess.BGR:
			s.Channels = c
		default:
			return s, usageError(fmt.Errorf("--channels %q: want rgb or bgr", p.channels))
		}
	}
	if _, err := s.AtSize(1, 1); err != nil {
		return s, usageError(err)
	}
	return s, nil
}
