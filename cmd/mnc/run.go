package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/classify"
	"github.com/mncdev/mnc/internal/detection"
	"github.com/mncdev/mnc/internal/segment"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/esc"
	"github.com/mncdev/mnc/runtime/limits"
	"github.com/mncdev/mnc/runtime/preprocess"
)

func newRunCmd() *cobra.Command {
	var (
		opts       frontend.Options
		tensor     string
		saveOutput string
		labels     string
		top        int
		asJSON     bool
		pre        preprocessFlags
		forcePre   bool
		ropts      runtime.Options
		saveImage  string
		overlay    bool
		minScore   float64
	)
	cmd := &cobra.Command{
		Use:   "run MODEL [IMAGE...]",
		Short: "Classify, segment or detect objects in images (or a tensor file) with a model",
		Long: `Run a model on images or on a preprocessed tensor and print the top classes
(for a segmentation model, the classes present by pixel share: see below).

MODEL is a compiled .mnc file (int8 or float32, run by the runtime) or a float
model (.onnx, .tflite, .pth, .safetensors; run by the reference interpreter;
a TFLite file, float or quantized, runs as float and defaults to --preprocess
tf, the preprocessing of TensorFlow's models). A .mnc
file brings its own preprocessing (the one it was calibrated with) and, when
compiled with --labels, its class names; --labels overrides them (it must
name every class: one line per class), and a --preprocess other than the
recorded one is an error unless --force-preprocess.

Images (JPEG, PNG, BMP, WebP) are preprocessed with --preprocess:
  torchvision  resize the shorter side to size*256/224, center crop, ImageNet mean/std
  tf           resize the whole image to the input size, x/127.5 - 1
--tensor takes an N x 3 x H x W float32 NumPy array instead; --save-output
writes the N x classes logits as a float32 .npy file.

Segmentation models are told by their output: a class map [N,H,W] (as the
ArgMax that ends DeepLab gives) or float logits [N,C,H,W] with H and W above
1, whose argmax over C is taken (the first class wins ties). For each image
mnc run prints the classes present, the most pixels first: class index,
share of the pixels, label (every class present unless --top). The class
map has the model's input size; it is mapped back onto the photo's own size
by nearest neighbour (each photo pixel takes the class under its centre),
and the shares are counted there. --json gives, per image, the photo's
width and height and each class's index, label, pixels and share.
--save-image FILE.png writes the class map at the photo's size as a
paletted PNG in the PASCAL VOC colours (palette index = class, so it reads
back as a mask); with several images each gets its own file, FILE with the
photo's base name inserted (seg.png: seg_bird.png, seg_dog.png). --overlay
blends the colours over the photo at 50% instead. --save-output writes the
model's output as float32 (logits, or the class indices). Classifiers refuse
--save-image.

Detectors are .mnc files compiled from one (SSDLite320-MobileNetV3: the file
records the anchors and torchvision's post-processing; run a .pth or .onnx
detector by compiling it first). For each image mnc run prints one line per
box, best first: label (its name from the file or --labels, else its index),
score, and x0 y0 x1 y1 in the photo's pixels (for --tensor, the input's).
The post-processing keeps what torchvision's does (scores above the file's
0.001, NMS, 300 boxes); --min-score (default 0.5) only chooses which of them
to show, --top N shows at most N. --json gives the same boxes with every field
and the count kept. --save-image FILE.png writes the photo with the boxes
shown drawn over it, one colour per class, each with its label and score
(several photos: FILE_<photo name>.png, as for segmentation).`,
		Example: `  mnc run mobilenet_v2.mnc cat.jpg dog.png
  mnc run mobilenet_v2.onnx --preprocess tf --labels labels.txt cat.jpg dog.png
  mnc run model.pth --arch mobilenet_v3_small --classes 10 --tensor in.npy --save-output out.npy

  # segmentation: the classes of each photo, and its class map as a PNG
  mnc run deeplabv3_mnv2_pascal_quant.tflite bird.jpg --labels pascal_voc_segmentation_labels.txt \
      --save-image bird_classes.png
  # the colours over the photos, one file per photo (seg_bird.png, seg_dog.png)
  mnc run deeplabv3_mnv2_pascal_quant.tflite bird.jpg dog.jpg --save-image seg.png --overlay

  # detection: the boxes scoring 0.3 or more, and the photo with them drawn
  mnc compile ssdlite320_mobilenet_v3_large.pth -o ssdlite.mnc
  mnc run ssdlite.mnc street.jpg --min-score 0.3 --save-image street_boxes.png`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if overlay && saveImage == "" {
				return usageError(errors.New("--overlay blends the image --save-image writes: give --save-image FILE.png"))
			}
			if saveOutput != "" { // before the work, as compile's -o
				if err := codegen.CheckOutput(saveOutput); err != nil {
					return fmt.Errorf("--save-output: %w", err)
				}
			}
			images := args[1:]
			if (tensor == "") == (len(images) == 0) {
				return errors.New("give either images or --tensor FILE (not both)")
			}
			var names []string
			if labels != "" {
				var err error
				if names, err = classify.ReadLabels(labels); err != nil {
					return err
				}
			}
			var inShape ir.Shape // read from the header: the data is read once it fits the model
			if tensor != "" {
				var err error
				if inShape, err = classify.TensorShape(tensor); err != nil {
					return err
				}
				s := inShape
				if ext := strings.ToLower(filepath.Ext(args[0])); !cmd.Flags().Changed("resolution") && len(s) == 4 && s[2] == s[3] && s[2] >= 1 &&
					(ext == ".pth" || ext == ".pt" || ext == ".safetensors") {
					opts.Resolution = s[2] // a checkpoint is built at the tensor's size
				}
			}
			if runtime.IsModelFile(args[0]) {
				dm, err := runtime.OpenWith(args[0], ropts)
				if err != nil {
					return err
				}
				if detection.Is(dm) {
					defer dm.Close()
					if overlay {
						return usageError(errors.New("--overlay is for segmentation: a detector's --save-image draws its boxes over the photo"))
					}
					if saveOutput != "" {
						return errors.New("--save-output writes one output; a detector has two (run them with --tensor and the runtime's RunAll)")
					}
					if minScore < 0 || minScore > 1 || minScore != minScore {
						return usageError(fmt.Errorf("--min-score %v: want a score from 0 to 1", minScore))
					}
					show := detection.Show{MinScore: minScore}
					if cmd.Flags().Changed("top") {
						show.Top = top
					}
					return runDetector(cmd, dm, args[0], images, tensor, inShape, names, labels, saveImage, show, asJSON, &pre, forcePre)
				}
				dm.Close()
			}
			if cmd.Flags().Changed("min-score") {
				return usageError(errors.New("--min-score is for detectors (a .mnc file compiled from one)"))
			}
			m, rec, err := classify.OpenWith(args[0], opts, ropts)
			if err != nil {
				return err
			}
			if c, ok := m.(io.Closer); ok {
				defer c.Close()
			}
			seg, segClasses := segment.Is(m)
			if !seg && saveImage != "" {
				return fmt.Errorf("--save-image is for segmentation models: %s is a classifier (output %v)", args[0], classify.Output(m).Type.Shape)
			}
			if seg && tensor != "" && saveImage != "" {
				return errors.New("--save-image needs images (it draws over the photo's size), not --tensor")
			}
			classes := m.Classes()
			if seg {
				classes = segClasses
			}
			if names == nil {
				names = rec.Labels
			} else {
				names = classify.FitLabels(names, classes)
				if err := classify.CheckLabels(names, classes, labels); err != nil {
					return err
				}
			}
			if rec.KernelsNote != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "mnc: note: %s\n", rec.KernelsNote)
			}
			var results []classify.Result
			var segResults []segment.Result
			var logits *ir.Tensor
			if tensor != "" {
				if err := classify.CheckInput(inShape, tensor, m.InputShape()); err != nil {
					return err
				}
				in, err := classify.ReadTensor(tensor)
				if err != nil {
					return err
				}
				if seg {
					segResults, logits, err = segment.RunTensor(m, in, tensor, names)
				} else {
					results, logits, err = classify.RunTensor(m, in, tensor, top, names)
				}
				if err != nil {
					return err
				}
			} else {
				h, w, err := classify.InputSize(m)
				if err != nil {
					return err
				}
				var spec preprocess.Spec
				if rec.Spec != nil {
					if spec, err = pre.forModel(cmd, *rec.Spec); err != nil {
						return err
					}
					if spec != *rec.Spec && !forcePre {
						return preprocessDiffers(spec, *rec.Spec, args[0])
					}
				} else {
					want, err := pre.specFor(cmd, args[0])
					if err != nil {
						return err
					}
					if spec, err = want.AtSize(h, w); err != nil {
						return err
					}
				}
				if seg {
					save := segment.Save{Overlay: overlay}
					if saveImage != "" {
						if save.Paths, err = segment.SavePaths(saveImage, images); err != nil {
							return err
						}
						for _, p := range save.Paths { // before the work
							if err := codegen.CheckOutput(p); err != nil {
								return fmt.Errorf("--save-image: %w", err)
							}
						}
					}
					segResults, logits, err = segment.RunImages(m, images, spec, names, save)
				} else {
					results, logits, err = classify.RunImages(m, images, spec, top, names)
				}
				if err != nil {
					return err
				}
			}
			if saveOutput != "" {
				if err := classify.SaveOutput(saveOutput, logits); err != nil {
					return fmt.Errorf("--save-output: %w", err)
				}
			}
			if seg {
				n := 0 // every class present, unless --top says
				if cmd.Flags().Changed("top") {
					n = top
				}
				return segment.Print(cmd.OutOrStdout(), segResults, asJSON, n)
			}
			return classify.Print(cmd.OutOrStdout(), results, asJSON)
		},
	}
	addModelFlags(cmd, &opts)
	f := cmd.Flags()
	f.StringVar(&tensor, "tensor", "", "run this N x 3 x H x W float32 .npy `FILE` instead of images")
	f.StringVar(&saveOutput, "save-output", "", "write the logits to this .npy `FILE` (atomically; an existing FILE must be a regular file, not a symbolic link)")
	f.StringVar(&labels, "labels", "", "class names, one per line (line i = class i)")
	f.IntVar(&top, "top", 5, "how many classes to print per input (a detector: at most N boxes; default all above --min-score)")
	f.Float64Var(&minScore, "min-score", 0.5, "detectors: show the boxes scoring at least `S` (0 to 1; the post-processing's own threshold is the file's)")
	limitFlag(cmd, "top", 1, limits.Classes)
	f.BoolVar(&asJSON, "json", false, "print results as JSON")
	addPreprocessFlags(cmd, &pre, "image preprocessing: torchvision or tf (a .mnc file brings its own; a .tflite model defaults to tf)")
	f.BoolVar(&forcePre, "force-preprocess", false, "use --preprocess even where the .mnc file records another")
	f.StringVar(&saveImage, "save-image", "", "segmentation models: write each photo's class map as a PNG `FILE` in the PASCAL VOC colours, at the photo's size; detectors: the photo with its boxes drawn (several photos: FILE_<photo name>.png)")
	f.BoolVar(&overlay, "overlay", false, "with --save-image: blend the class colours over the photo at 50% instead")
	addRuntimeFlags(cmd, &ropts)
	return cmd
}

// runDetector is mnc run on a detector's model file m.
func runDetector(cmd *cobra.Command, m *runtime.Model, path string, images []string, tensor string, inShape ir.Shape,
	names []string, labelsFile, saveImage string, show detection.Show, asJSON bool, pre *preprocessFlags, forcePre bool) error {
	cfg, _ := m.Detection()
	if names == nil {
		names = m.Labels()
	} else {
		names = classify.FitLabels(names, cfg.Classes)
		if err := classify.CheckLabels(names, cfg.Classes, labelsFile); err != nil {
			return err
		}
	}
	if note := m.Info().KernelsNote; note != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "mnc: note: %s\n", note)
	}
	var results []detection.Result
	if tensor != "" {
		if saveImage != "" {
			return errors.New("--save-image needs images (it draws over the photo), not --tensor")
		}
		if err := classify.CheckInput(inShape, tensor, ir.Shape(m.InputShape())); err != nil {
			return err
		}
		in, err := classify.ReadTensor(tensor)
		if err != nil {
			return err
		}
		if results, err = detection.RunTensor(m, in.Shape, in.F32, tensor, names, show); err != nil {
			return err
		}
		return detection.Print(cmd.OutOrStdout(), results, asJSON)
	}
	rec, ok := m.Preprocess()
	if !ok {
		return fmt.Errorf("%s records no image preprocessing: run a preprocessed --tensor", esc.String(path))
	}
	spec, err := pre.forModel(cmd, rec)
	if err != nil {
		return err
	}
	if spec != rec && !forcePre {
		return preprocessDiffers(spec, rec, path)
	}
	var saves []string
	if saveImage != "" {
		if saves, err = segment.SavePaths(saveImage, images); err != nil {
			return err
		}
		for _, p := range saves { // before the work
			if err := codegen.CheckOutput(p); err != nil {
				return fmt.Errorf("--save-image: %w", err)
			}
		}
	}
	if results, err = detection.RunImages(m, images, spec, names, show, saves, nil); err != nil {
		return err
	}
	return detection.Print(cmd.OutOrStdout(), results, asJSON)
}

// preprocessDiffers is the error of a run whose preprocessing flags change
// the one the model file records.
func preprocessDiffers(asked, recorded preprocess.Spec, model string) error {
	return fmt.Errorf("the preprocessing asked for (%s) differs from the one %q was compiled with (%s), and would give wrong results (add --force-preprocess to run it anyway)",
		asked, model, recorded)
}
