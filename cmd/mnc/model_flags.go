package main

import (
	"github.com/spf13/cobra"

	"github.com/mncdev/mnc/frontend"
)

// addModelFlags registers the flags that describe a checkpoint's architecture.
func addModelFlags(cmd *cobra.Command, o *frontend.Options) {
	f := cmd.Flags()
	f.StringVar(&o.Arch, "arch", "", "architecture of a .pth/.safetensors checkpoint: mobilenet_v1, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small")
	f.Float64Var(&o.Width, "width", 1.0, "width multiplier of the architecture")
	f.IntVar(&o.Classes, "classes", 1000, "number of classes of the checkpoint's classifier")
	f.IntVar(&o.Resolution, "resolution", 224, "input height and width of a checkpoint's network")
	f.BoolVar(&o.ReducedTail, "reduced-tail", false, "MobileNetV3 with torchvision's reduced_tail")
	f.StringVar(&o.ArchSpec, "arch-spec", "", "JSON `FILE` with a custom architecture table (see frontend/mobilenet)")
}
