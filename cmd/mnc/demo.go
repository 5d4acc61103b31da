package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mncdev/mnc/internal/demo"
	"github.com/mncdev/mnc/runtime/limits"
)

func newDemoCmd() *cobra.Command {
	var o demo.RunOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Compile the bundled model to int8 and compare it with float, with nothing to download",
		Long: `Run the whole product on its embedded default: a small MobileNetV3-Small
trained (offline, by testdata/gen/train_demo.py) on procedurally generated
images of shapes and textures. The demo generates fresh calibration and test
images, compiles the float model to a float32 and an int8 .mnc file (the int8
one calibrated on the generated images), runs both with the runtime, and
prints accuracy, agreement, file sizes and latency. The accuracy is what mnc
eval reports: --dir keeps DIR/calib, DIR/test (an ImageFolder, one folder per
class), DIR/demo_float32.mnc and DIR/demo_int8.mnc, so that
  mnc eval DIR/demo_float32.mnc DIR/demo_int8.mnc --images DIR/test
gives the same numbers with per-class accuracy and confusions.`,
		Example: `  mnc demo
  mnc demo --test-images 2000 --dir demo-out   # keep the images and .mnc files
  mnc eval demo-out/demo_float32.mnc demo-out/demo_int8.mnc --images demo-out/test`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Dir != "" { // a folder, or nothing yet: not a link, file or device
				if fi, err := os.Lstat(o.Dir); err == nil && !fi.IsDir() {
					return fmt.Errorf("--dir %q is %s, not a folder", o.Dir, limits.Kind(fi.Mode()))
				}
			}
			o.Out, o.Progress, o.Producer = cmd.OutOrStdout(), cmd.ErrOrStderr(), "mnc "+version
			_, err := demo.Run(o)
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.CalibImages, "calib-images", 64, "calibration images to generate")
	f.IntVar(&o.TestImages, "test-images", 500, "test images to generate")
	limitFlag(cmd, "calib-images", 1, limits.DemoImages)
	limitFlag(cmd, "test-images", 1, limits.DemoImages)
	f.StringVar(&o.Dir, "dir", "", "keep the generated images and .mnc files in this `DIR`, a folder or a new name, not a symbolic link (default: a temporary directory, removed)")
	return cmd
}
