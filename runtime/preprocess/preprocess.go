package preprocess

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"strconv"
	"strings"
)

// Preset names a preprocessing convention.
type Preset string

const (
	// Torchvision is the ImageNet evaluation transform of torchvision:
	// Resize(int(size*256/224)) of the shorter side, CenterCrop(H, W),
	// ToTensor, Normalize(Mean, Std).
	Torchvision Preset = "torchvision"
	// TF resizes the whole image to H x W (aspect ratio not kept, no crop)
	// and scales pixels to [-1, 1] as x/127.5 - 1, the convention of the
	// TensorFlow/Keras MobileNets.
	TF Preset = "tf"
)

// Presets lists the valid presets.
var Presets = []Preset{Torchvision, TF}

// Spec describes how to turn an image into a network input.
type Spec struct {
	Preset Preset `json:"preset"`
	// Height and Width are the network input size.
	Height int `json:"height"`
	Width  int `json:"width"`
	// Mean and Std are per RGB channel; the Torchvision preset computes
	// (x/255 - Mean)/Std in float32, operation by operation, exactly like
	// torchvision's ToTensor + Normalize. The TF preset ignores them and
	// computes x/127.5 - 1, which is the same map as Mean = Std = 0.5;
	// Default fills them in with 0.5 for information.
	Mean [3]float32 `json:"mean"`
	Std  [3]float32 `json:"std"`

	// The custom preprocessing below (format 1.2) changes a preset's
	// steps; the zero value of each field is the preset's own choice, so a
	// preset's Spec has them all zero (Canonical makes sure of it).

	// Scale divides the 8-bit pixel values before Mean and Std:
	// x = (p/Scale - Mean)/Std, each operation rounded to float32. Zero
	// means 255 (torchvision's ToTensor). Torchvision preset only.
	Scale float32 `json:"scale,omitempty"`
	// Resize is how the image is brought to the input size: Shorter
	// resizes its shorter side to ResizeTo (aspect ratio kept) and center
	// crops the input from it, Stretch resizes the whole image to the
	// input size (aspect ratio not kept). Empty is the preset's: Shorter
	// for Torchvision, Stretch for TF.
	Resize ResizeMode `json:"resize,omitempty"`
	// ResizeTo is Shorter's target for the shorter side; zero means
	// int(min(Height, Width)*256/224), torchvision's evaluation ratio.
	ResizeTo int `json:"resize_to,omitempty"`
	// Crop is the central fraction of the image kept before resizing, as
	// TensorFlow's central_crop computes it (0 < Crop <= 1; zero means 1,
	// the whole image).
	Crop float64 `json:"crop,omitempty"`
	// Channels is the order of the input channels: RGB (empty) or BGR
	// (models trained on OpenCV or Caffe images). Mean and Std are given
	// in this order.
	Channels ChannelOrder `json:"channels,omitempty"`
}

// ResizeMode says how an image is brought to the input size (Spec.Resize).
type ResizeMode string

const (
	// Shorter resizes the shorter side (torchvision's Resize(N)), then
	// center crops.
	Shorter ResizeMode = "shorter"
	// Stretch resizes the whole image to the input size.
	Stretch ResizeMode = "stretch"
	// Interpolate converts and normalizes the whole image first, then
	// resizes the float tensor to the input size as
	// torch.nn.functional.interpolate(mode="bilinear",
	// align_corners=False) does (no antialiasing): torchvision's detection
	// transform (GeneralizedRCNNTransform with a fixed size, as SSDLite's).
	// Format 1.5.
	Interpolate ResizeMode = "interpolate"
)

// ChannelOrder is the order of the input channels (Spec.Channels).
type ChannelOrder string

const (
	RGB ChannelOrder = "rgb"
	BGR ChannelOrder = "bgr"
)

// String describes s for people: "tf 224x224 (mean [0.5 0.5 0.5], std
// [0.5 0.5 0.5])".
func (s Spec) String() string {
	str := fmt.Sprintf("%s %dx%d (mean %v, std %v", s.Preset, s.Height, s.Width, s.Mean, s.Std)
	if s.Scale != 0 {
		str += fmt.Sprintf(", scale %v", s.Scale)
	}
	if s.Crop != 0 {
		str += fmt.Sprintf(", central crop %v", s.Crop)
	}
	switch {
	case s.Resize == Stretch:
		str += ", stretched to the input size"
	case s.Resize == Interpolate:
		str += ", normalized then interpolated to the input size"
	case s.Resize == Shorter || s.ResizeTo != 0:
		str += fmt.Sprintf(", shorter side resized to %d, center crop", s.resizeTo())
	}
	if s.Channels != "" {
		str += ", " + strings.ToUpper(string(s.Channels))
	}
	return str + ")"
}

// Custom reports whether s changes its preset's steps: its own Mean and Std
// (Std set), or any of the custom preprocessing fields.
func (s Spec) Custom() bool {
	d, _ := Default(s.Preset, 1, 1)
	stats := s.Std != [3]float32{} && (s.Mean != d.Mean || s.Std != d.Std)
	return stats || s.Scale != 0 || s.Resize != "" || s.ResizeTo != 0 || s.Crop != 0 || s.Channels != ""
}

// Canonical returns s with every custom field that equals its preset's
// choice cleared (scale 255, the preset's resize mode and size, crop 1,
// RGB), so that two Specs that compute the same tensors compare equal.
func (s Spec) Canonical() Spec {
	if s.Scale == 255 {
		s.Scale = 0
	}
	if s.Crop == 1 {
		s.Crop = 0
	}
	if s.Channels == RGB {
		s.Channels = ""
	}
	if s.Height > 0 && s.ResizeTo == defaultResizeTo(s.Height, s.Width) {
		s.ResizeTo = 0
	}
	if s.Resize == s.Preset.resize() && s.ResizeTo == 0 {
		s.Resize = ""
	}
	return s
}

// resize is the preset's resize mode.
func (p Preset) resize() ResizeMode {
	if p == TF {
		return Stretch
	}
	return Shorter
}

func (s Spec) resizeMode() ResizeMode {
	if s.Resize != "" {
		return s.Resize
	}
	if s.ResizeTo != 0 {
		return Shorter
	}
	return s.Preset.resize()
}

func (s Spec) resizeTo() int {
	if s.ResizeTo != 0 {
		return s.ResizeTo
	}
	return defaultResizeTo(s.Height, s.Width)
}

// defaultResizeTo is torchvision's evaluation resize for an h x w input:
// int(size*256/224) of the shorter input side.
func defaultResizeTo(h, w int) int { return min(h, w) * 256 / 224 }

// Describe says in a few words what a preset does.
func Describe(p Preset) string {
	switch p {
	case Torchvision:
		return "shorter side resized to size*256/224, center crop, ImageNet mean and std"
	case TF:
		return "whole image resized to the input size, x/127.5 - 1"
	}
	return "unknown preset"
}

// ImageNet statistics used by torchvision.
var (
	ImageNetMean = [3]float32{0.485, 0.456, 0.406}
	ImageNetStd  = [3]float32{0.229, 0.224, 0.225}
)

const (
	// maxSide bounds the network input size.
	maxSide = 1 << 14
)

// Default returns the Spec of a preset for an h x w network input.
func Default(preset Preset, h, w int) (Spec, error) {
	s := Spec{Preset: preset, Height: h, Width: w}
	switch preset {
	case Torchvision:
		s.Mean, s.Std = ImageNetMean, ImageNetStd
	case TF:
		s.Mean, s.Std = [3]float32{0.5, 0.5, 0.5}, [3]float32{0.5, 0.5, 0.5}
	}
	if err := s.validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// AtSize returns s's preset at an h x w network input: Default's Spec,
// keeping s's custom preprocessing (Mean and Std when Std is set, and the
// custom fields), canonical.
func (s Spec) AtSize(h, w int) (Spec, error) {
	d, err := Default(s.Preset, h, w)
	if err != nil || !s.Custom() {
		return d, err
	}
	if s.Std != ([3]float32{}) {
		d.Mean, d.Std = s.Mean, s.Std
	}
	d.Scale, d.Resize, d.ResizeTo, d.Crop, d.Channels = s.Scale, s.Resize, s.ResizeTo, s.Crop, s.Channels
	d = d.Canonical()
	return d, d.validate()
}

// Detection is the preprocessing of torchvision's detectors (SSDLite's
// GeneralizedRCNNTransform: ToTensor, Normalize(0.5, 0.5), the whole image
// resized as a float tensor to a fixed size by bilinear interpolation):
// the torchvision preset with mean and std 0.5 and Interpolate, at no size
// yet (see AtSize).
func Detection() Spec {
	half := [3]float32{0.5, 0.5, 0.5}
	return Spec{Preset: Torchvision, Mean: half, Std: half, Resize: Interpolate}
}

// ParseStats parses "r,g,b" (three numbers) for --mean and --std.
func ParseStats(s string) ([3]float32, error) {
	var v [3]float32
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return v, fmt.Errorf("%q: want three comma-separated numbers r,g,b", s)
	}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return v, fmt.Errorf("%q: %q is not a finite number", s, p)
		}
		v[i] = float32(f)
	}
	return v, nil
}

// ParseSpec reads a Spec from its JSON encoding (encoding/json's of Spec,
// as graph metadata and the compiler record it), checking its preset and
// size.
func ParseSpec(data []byte) (Spec, error) {
	var s Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return Spec{}, err
	}
	if err := s.Check(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// Check returns an error describing the first unusable field of s.
func (s Spec) Check() error { return s.validate() }

func (s Spec) validate() error {
	switch s.Preset {
	case TF:
		if s.Scale != 0 || s.Std != ([3]float32{}) && (s.Mean != [3]float32{0.5, 0.5, 0.5} || s.Std != [3]float32{0.5, 0.5, 0.5}) {
			return fmt.Errorf("preprocess: the tf preset computes x/127.5 - 1: a custom scale, mean or std needs the torchvision preset (--scale 127.5 --mean 1,1,1 --std 1,1,1 is tf's map)")
		}
	case Torchvision:
		for c, v := range s.Std {
			if v == 0 || math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("preprocess: std[%d] = %v is not a usable divisor", c, v)
			}
		}
	default:
		names := make([]string, len(Presets))
		for i, p := range Presets {
			names[i] = string(p)
		}
		return fmt.Errorf("preprocess: unknown preset %q (valid: %s)", s.Preset, strings.Join(names, ", "))
	}
	if s.Height <= 0 || s.Width <= 0 || s.Height > maxSide || s.Width > maxSide {
		return fmt.Errorf("preprocess: invalid input size %dx%d (height x width, each 1..%d)", s.Height, s.Width, maxSide)
	}
	if s.Scale != 0 && !(s.Scale > 0 && !math.IsInf(float64(s.Scale), 0)) {
		return fmt.Errorf("preprocess: scale %v is not a positive finite divisor", s.Scale)
	}
	switch s.Resize {
	case "", Shorter, Stretch, Interpolate:
	default:
		return fmt.Errorf("preprocess: unknown resize mode %q (valid: %s, %s, %s)", s.Resize, Shorter, Stretch, Interpolate)
	}
	if s.ResizeTo < 0 || s.ResizeTo > maxSide || s.ResizeTo != 0 && (s.Resize == Stretch || s.Resize == Interpolate) {
		return fmt.Errorf("preprocess: invalid resize of the shorter side to %d (1..%d, not with %s or %s)", s.ResizeTo, maxSide, Stretch, Interpolate)
	}
	if s.Crop != 0 && !(s.Crop > 0 && s.Crop <= 1) {
		return fmt.Errorf("preprocess: central crop fraction %v is not in (0, 1]", s.Crop)
	}
	switch s.Channels {
	case "", RGB, BGR:
	default:
		return fmt.Errorf("preprocess: unknown channel order %q (valid: %s, %s)", s.Channels, RGB, BGR)
	}
	return nil
}

// File loads the image at path and writes its tensor to dst (see Tensor).
func (s Spec) File(path string, dst []float32) error {
	img, err := LoadImage(path)
	if err != nil {
		return err
	}
	if err := s.Tensor(img, dst); err != nil {
		return fmt.Errorf("preprocess %s: %w", path, err)
	}
	return nil
}

// Tensor writes the network input for img into dst, which must hold exactly
// 3*Height*Width values: channel-major (CHW), i.e. one NCHW batch item.
//
// The image is first converted to 8-bit RGB like PIL's convert("RGB"):
// gray is replicated, alpha is dropped without compositing, YCbCr (JPEG) is
// converted like libjpeg (see ycbcrToRGB), palettes and CMYK go through the
// image/color conversions, and 16-bit samples keep their high byte. (PIL
// also keeps the high byte of 16-bit RGB(A) PNGs, but opens 16-bit gray as
// mode "I" and clips it to 255 when converting; that is deliberately not
// copied.) Then, in this order: the central fraction Crop is cut out
// (TensorFlow's central_crop); the image is resized with PIL's
// antialiasing bilinear filter semantics (see resize), either whole to the
// input size (Stretch) or by its shorter side (Shorter), in which case the
// input is center cropped from it (zero padded where the crop exceeds the
// resized image, as torchvision's CenterCrop does); each 8-bit value p
// becomes float32 (p/Scale - Mean)/Std (torchvision: ToTensor and
// Normalize, Scale 255) or p/127.5 - 1 (TF), every operation rounded to
// float32; channels are written in Channels order.
func (s Spec) Tensor(img image.Image, dst []float32) error {
	if err := s.validate(); err != nil {
		return err
	}
	H, W := s.Height, s.Width
	if len(dst) != 3*H*W {
		return fmt.Errorf("preprocess: destination holds %d values, want 3*%d*%d = %d", len(dst), H, W, 3*H*W)
	}
	if img == nil || img.Bounds().Empty() {
		return errors.New("preprocess: empty image")
	}
	src := toRGB(img)
	if s.Crop != 0 && s.Crop != 1 {
		var err error
		if src, err = centralCrop(src, s.Crop); err != nil {
			return err
		}
	}
	sw, sh := src.Rect.Dx(), src.Rect.Dy()

	lut := s.lut()
	var r *image.RGBA
	nw, nh := W, H
	var top, left, padT, padL int
	switch s.resizeMode() {
	case Interpolate:
		return interpolate(src, &lut, s.Channels == BGR, H, W, dst)
	case Stretch:
		r = resize(src, W, H)
	case Shorter:
		nw, nh = shorterSideSize(sw, sh, s.resizeTo())
		if int64(nw)*int64(nh) > maxPixels {
			return fmt.Errorf("preprocess: resizing %dx%d to %dx%d exceeds the limit of %d pixels", sw, sh, nw, nh, maxPixels)
		}
		r = resize(src, nw, nh)
		top, left, padT, padL = centerCrop(nw, nh, W, H)
	}

	// srcChan[c] is the RGB channel that network channel c reads.
	srcChan := [3]int{0, 1, 2}
	if s.Channels == BGR {
		srcChan = [3]int{2, 1, 0}
	}
	plane := H * W
	for y := range H {
		sy := top + y - padT
		for x := range W {
			sx := left + x - padL
			var p [3]uint8 // padding is black, like torchvision's fill=0
			if sy >= 0 && sy < nh && sx >= 0 && sx < nw {
				i := sy*r.Stride + 4*sx
				p = [3]uint8{r.Pix[i], r.Pix[i+1], r.Pix[i+2]}
			}
			for c := range 3 {
				dst[c*plane+y*W+x] = lut[c][p[srcChan[c]]]
			}
		}
	}
	return nil
}

// lut maps each channel's 8-bit values (RGB order) to the network's.
func (s Spec) lut() [3][256]float32 {
	var lut [3][256]float32
	for c := range 3 {
		for v := range 256 {
			if s.Preset == TF {
				// float32 throughout, like numpy's
				// np.asarray(img, np.float32) / 127.5 - 1.
				lut[c][v] = float32(float32(v)/127.5) - 1
				continue
			}
			// ToTensor then Normalize, rounded to float32 after each
			// operation (explicit conversions forbid fused operations).
			scale := s.Scale
			if scale == 0 {
				scale = 255
			}
			x := float32(float32(v) / scale)
			lut[c][v] = float32(x-s.Mean[c]) / s.Std[c]
		}
	}
	return lut
}

// shorterSideSize is torchvision's Resize(size) output size for a w x h
// image: the shorter side becomes size and the longer one
// int(size*long/short) (a float division in Python, truncated).
func shorterSideSize(w, h, size int) (nw, nh int) {
	if w <= h {
		return size, int(float64(size*h) / float64(w))
	}
	return int(float64(size*w) / float64(h)), size
}

// centralCrop is TensorFlow's tf.image.central_crop(img, fraction) for
// 0 < fraction < 1: with offset = int(1/((1 - fraction)/2)), it keeps the
// rows from h//offset to h - h//offset and the columns likewise.
func centralCrop(src *image.RGBA, fraction float64) (*image.RGBA, error) {
	offset := int(1 / ((1 - fraction) / 2))
	w, h := src.Rect.Dx(), src.Rect.Dy()
	x0, y0 := w/offset, h/offset
	if w-2*x0 <= 0 || h-2*y0 <= 0 {
		return nil, fmt.Errorf("preprocess: the central %v of a %dx%d image is empty", fraction, w, h)
	}
	r := image.Rect(x0, y0, w-x0, h-y0).Add(src.Rect.Min)
	return src.SubImage(r).(*image.RGBA), nil
}

// centerCrop returns torchvision's CenterCrop placement of a cw x ch crop in
// a w x h image: if the crop is larger than the image along an axis the image
// is first padded by (c-i)//2 before and (c-i+1)//2 after; the crop offset in
// the (padded) image is int(round((i - c) / 2.0)) with Python's round half to
// even. Pixel (y, x) of the crop is image pixel (top+y-padT, left+x-padL).
func centerCrop(w, h, cw, ch int) (top, left, padT, padL int) {
	if cw > w {
		padL = (cw - w) / 2
		w = cw
	}
	if ch > h {
		padT = (ch - h) / 2
		h = ch
	}
	top = int(math.RoundToEven(float64(h-ch) / 2))
	left = int(math.RoundToEven(float64(w-cw) / 2))
	return top, left, padT, padL
}
