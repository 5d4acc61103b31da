package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/mncdev/mnc/frontend"
)

// addModelFlags registers the flags that describe a checkpoint's
// architecture. Those left out are inferred from the checkpoint's tensor
// names and shapes (a line on stderr says what was inferred); those given
// must agree with it.
func addModelFlags(cmd *cobra.Command, o *frontend.Options) {
	f := cmd.Flags()
	f.StringVar(&o.Arch, "arch", "", "architecture of a .pth/.safetensors checkpoint: mobilenet_v1, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small\n(default: inferred from the checkpoint)")
	f.Float64Var(&o.Width, "width", 0, "width multiplier of the architecture (default: inferred from a checkpoint, else 1.0)")
	f.IntVar(&o.Classes, "classes", 0, "number of classes of the checkpoint's classifier (default: inferred from a checkpoint, else 1000)")
	f.IntVar(&o.Resolution, "resolution", 224, "input height and width of a checkpoint's network (weights do not tell it)")
	rt := f.VarPF(&reducedTailFlag{o}, "reduced-tail", "", "MobileNetV3 with torchvision's reduced_tail (default: inferred from a checkpoint, else false)")
	rt.NoOptDefVal = "true"
	f.StringVar(&o.ArchSpec, "arch-spec", "", "JSON `FILE` with a custom architecture table (see frontend/mobilenet)")
	o.Note = func(s string) { fmt.Fprintf(cmd.ErrOrStderr(), "mnc: %s\n", s) }
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
