package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/classify"
	"github.com/mncdev/mnc/internal/eval"
	"github.com/mncdev/mnc/internal/segment"
	"github.com/mncdev/mnc/runtime/limits"
	"github.com/mncdev/mnc/runtime/preprocess"
)

func newEvalCmd() *cobra.Command {
	var (
		o       eval.Options
		opts    frontend.Options
		labels  string
		pre     preprocessFlags
		asJSON  bool
		asCSV   bool
		minTop1 string
		maskMap string
	)
	cmd := &cobra.Command{
		Use:   "eval MODEL... --images DIR|LIST [--masks DIR | --boxes DIR]",
		Short: "Measure top-1/top-5 accuracy of models on labelled images (mIoU of segmenters on masks, mAP of detectors on boxes)",
		Long: `Run one or more models over labelled images and report, per model, top-1 and
top-5 accuracy, per-class top-1 and the most confused classes (true ->
predicted), and the top-1 agreement of every pair of models (float vs int8).

MODEL is a .mnc file (int8 or float32) or a float model (.onnx, .tflite, .pth,
...; checkpoints need --arch etc.), several side by side. A .mnc file brings its
preprocessing and class names; float models use --preprocess (default
torchvision, tf for .tflite files) and --labels. --preprocess given explicitly
applies to all.

--images is either
  DIR        ImageFolder layout: DIR/<class>/<image>, one folder per class.
             A folder name matches the label of its class exactly, in any case
             ('_' for ' '), or by the label's first comma-separated synonym
             ("hotdog" for "hotdog, hot dog, red hot"); an unknown name is an
             error listing the closest labels.
  LIST.csv   rows "path,label" (.tsv: tab-separated), paths relative to the
             list; label is a class name or a class index. An optional first
             row "path,label" and lines starting with # are skipped.

Images are decoded and run in parallel (--workers), each worker with its own
single-threaded copy of every model; the results do not depend on it.
Output: aligned tables, --json (the whole report), or --csv (one row per
image: path, true class, each model's top-1 and whether it is right).

--min-top1 is a quality gate: a fraction (0.7) or a percentage (70%). When a
model's top-1 accuracy is below it, mnc eval prints the report as usual and
exits with status 3 (1 is an error, 2 a usage error).

Segmentation models (see mnc run --help) are scored on masks: --images is a
directory of photos (searched recursively) or one photo, and --masks the
directory of their masks. The mask of IMAGES/SUB/NAME.EXT is the first found
in MASKS/SUB of NAME_mask.png, NAME_mask.bmp, then, when NAME ends in
_NUMBER, with _mask before the number (dog_256.bmp: dog_mask_256.bmp), then
NAME.png, NAME.bmp (not the photo itself); photos and masks may share a
directory (the masks are not taken for photos), and photos without a mask
are left out, the report says how many. A mask is a PNG or BMP of class indices: the palette index of a
paletted image (as VOC's SegmentationClass PNGs, and the PNGs mnc run
--save-image writes) or the grey value of a greyscale one; 255 is ignore.
--mask-map FROM=TO,... changes values as they are read (0=12,1=0,2=255: an
Oxford-IIIT Pets trimap as VOC's dog, background and ignore; 1=255,2=255
ignores values 1 and 2). Each model's class map is mapped onto the mask by
nearest neighbour and scored, summed over all the photos: pixel accuracy
(over the pixels not ignored), the IoU of every class present in a mask or
predicted, and their mean (mIoU); and every pair of models is compared, the
second's class maps scored against the first's (pixel agreement and mIoU).
--json adds each photo's scores. --csv and --min-top1 are for classifiers.

Detectors (.mnc files compiled from one, see mnc run --help) are scored on
boxes: --images is a directory of photos (searched recursively) or one photo,
and --boxes the directory of their ground truth, one box file per photo,
BOXES/<photo name without extension>.txt (bird.jpg: BOXES/bird.txt); photos
without one are left out, the report says how many, and an empty file is a
photo with no object. A box file is UTF-8 text, one box a line:
  # a comment; blank lines are ignored too
  CLASS X0 Y0 X1 Y1
CLASS is a class as the models name it (their labels, or --labels; else the
class index, as mnc run prints it), the coordinates the photo's pixels,
x0 <= x1 and y0 <= y1, separated by spaces or tabs. Every box the model's
post-processing keeps is scored: per class present in the ground truth the
PASCAL VOC average precision at IoU 0.5 (all-points interpolation, as the
VOC2010+ devkit), and their mean, mAP@0.5. Every pair of models A, B is then
compared: B's mAP@0.5 taking A's boxes scoring at least --min-score (default
0.5) as the ground truth (how far an int8 file moves from the float one).`,
		Example: `  # the demo's models on the demo's test set (written by mnc demo --dir)
  mnc demo --dir demo-out
  mnc eval demo-out/demo_float32.mnc demo-out/demo_int8.mnc --images demo-out/test

  # a float ONNX model against its int8 compilation, as a CI gate
  mnc eval mobilenet_v2.onnx mobilenet_v2.mnc --preprocess tf --labels imagenet_labels.txt \
      --images val/ --min-top1 70%

  # a list of labelled images, per-image results as CSV
  mnc eval model.mnc --images labels.csv --csv > results.csv

  # segmentation: mIoU on VOC photos (2007_000032.jpg, its mask 2007_000032.png)
  mnc eval deeplabv3.tflite deeplabv3_int8.mnc --images VOC2012/JPEGImages --masks VOC2012/SegmentationClass \
      --labels pascal_voc_segmentation_labels.txt
  # Oxford-IIIT Pets trimaps (0 pet, 1 background, 2 outline) read as VOC classes
  mnc eval deeplabv3.tflite --images pets/images --masks pets/trimaps --mask-map 0=12,1=0,2=255 --json

  # detection: mAP@0.5 of a float and an int8 SSDLite on photos with box files (photo.jpg: boxes/photo.txt)
  mnc eval ssdlite.mnc ssdlite_int8.mnc --images photos/ --boxes boxes/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Images == "" {
				return usageError(errors.New("give the labelled images with --images DIR or --images LIST.csv"))
			}
			if asJSON && asCSV {
				return usageError(errors.New("give --json or --csv, not both"))
			}
			if o.Masks != "" && o.Boxes != "" {
				return usageError(errors.New("give --masks (segmentation) or --boxes (detection), not both"))
			}
			if o.Boxes != "" && (asCSV || minTop1 != "") {
				return usageError(errors.New("--csv and --min-top1 are for classifiers; with --boxes the report is text or --json"))
			}
			if o.Boxes == "" && cmd.Flags().Changed("min-score") {
				return usageError(errors.New("--min-score is for detectors: the agreement of their --boxes evaluation"))
			}
			if o.MinScore < 0 || o.MinScore > 1 || o.MinScore != o.MinScore {
				return usageError(fmt.Errorf("--min-score %v: want a score from 0 to 1", o.MinScore))
			}
			if o.Masks != "" && (asCSV || minTop1 != "") {
				return usageError(errors.New("--csv and --min-top1 are for classifiers; with --masks the report is text or --json"))
			}
			if o.Confusions == 0 {
				o.Confusions = -1 // none
			}
			gate := -1.0
			if minTop1 != "" {
				v, err := eval.ParseFraction(minTop1)
				if err != nil {
					return usageError(fmt.Errorf("--min-top1: %w", err))
				}
				gate = v
			}
			if pre.changed(cmd) {
				var err error
				if o.Preprocess, err = pre.spec(); err != nil {
					return err
				}
				o.PreprocessOver = func(rec preprocess.Spec) (preprocess.Spec, error) { return pre.forModel(cmd, rec) }
			}
			if labels != "" {
				names, err := classify.ReadLabels(labels)
				if err != nil {
					return err
				}
				o.Labels = names
			}
			o.Models, o.Frontend, o.Progress = args, opts, cmd.ErrOrStderr()
			if o.Masks != "" {
				return evalSegmentation(cmd, o, maskMap, asJSON)
			}
			if o.Boxes != "" {
				if maskMap != "" {
					return usageError(errors.New("--mask-map changes the values of masks: it is for --masks"))
				}
				rep, err := eval.RunDetection(o)
				if err != nil {
					return err
				}
				if asJSON {
					return rep.WriteJSON(cmd.OutOrStdout())
				}
				return rep.WriteText(cmd.OutOrStdout())
			}
			if maskMap != "" {
				return usageError(errors.New("--mask-map changes the values of the masks: give them with --masks DIR"))
			}
			rep, err := eval.Run(o)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case asJSON:
				err = rep.WriteJSON(out)
			case asCSV:
				err = rep.WriteCSV(out)
			default:
				err = rep.WriteText(out)
			}
			if err != nil {
				return err
			}
			if below := rep.Below(gate); len(below) > 0 {
				var s []string
				for _, m := range below {
					s = append(s, fmt.Sprintf("%s %.1f%%", m.Name, 100*m.Top1))
				}
				return &codeError{exitQuality, fmt.Errorf("top-1 below --min-top1 %s: %s", minTop1, strings.Join(s, ", "))}
			}
			return nil
		},
	}
	addModelFlags(cmd, &opts)
	f := cmd.Flags()
	f.StringVar(&o.Images, "images", "", "labelled images: an ImageFolder `DIR` or a .csv/.tsv list of path,label rows")
	f.StringVar(&labels, "labels", "", "class names, one per line (line i = class i); default: those the .mnc files record")
	addPreprocessFlags(cmd, &pre, "image preprocessing of float models: torchvision or tf (for .mnc files, the flags given change what the file records)")
	f.IntVar(&o.Workers, "workers", 0, "images decoded and run at once (0: one per core, GOMAXPROCS)")
	f.StringVar(&o.Kernels, "kernels", "", "force a kernel variant for .mnc files (default: $MNC_KERNELS, else the best this CPU runs)")
	f.IntVar(&o.Confusions, "confusions", 10, "most confused class pairs to list per model")
	limitFlag(cmd, "workers", 0, limits.Threads)
	limitFlag(cmd, "confusions", 0, limits.Confusions)
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVar(&asCSV, "csv", false, "print one CSV row per image instead of the report")
	f.StringVar(&o.Masks, "masks", "", "segmentation models: the `DIR` of the masks of the --images photos (IMAGE_mask.png or .bmp, see above)")
	f.StringVar(&maskMap, "mask-map", "", "with --masks: change mask values as they are read, `FROM=TO,...` (0=12,1=0,2=255 reads Oxford pets trimaps as VOC; 255 = ignore)")
	f.StringVar(&o.Boxes, "boxes", "", "detectors: the `DIR` of the --images photos' box files (PHOTO_NAME.txt, lines \"class x0 y0 x1 y1\", see above)")
	f.Float64Var(&o.MinScore, "min-score", 0.5, "with --boxes: a model's boxes scoring at least `S` are the ground truth of its agreement with the next models")
	f.StringVar(&minTop1, "min-top1", "", "quality gate: exit with status 3 when a model's top-1 is below this fraction (0.7) or percentage (70%)")
	return cmd
}

// evalSegmentation is mnc eval --masks: segmentation models scored
// against masks.
func evalSegmentation(cmd *cobra.Command, o eval.Options, maskMap string, asJSON bool) error {
	var err error
	if o.MaskMap, err = segment.ParseRemap(maskMap); err != nil {
		return usageError(fmt.Errorf("--mask-map: %w", err))
	}
	rep, err := eval.RunSegmentation(o)
	if err != nil {
		return err
	}
	if asJSON {
		return rep.WriteJSON(cmd.OutOrStdout())
	}
	return rep.WriteText(cmd.OutOrStdout())
}
