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
}

// String describes s for people: "tf 224x224 (mean [0.5 0.5 0.5], std
// [0.5 0.5 0.5])".
func (s Spec) String() string {
	return fmt.Sprintf("%s %dx%d (mean %v, std %v)", s.Preset, s.Height, s.Width, s.Mean, s.Std)
}

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
// keeping s's Mean and Std when they are set (Std not all zero; the
// Torchvision preset only: TF's map is fixed).
func (s Spec) AtSize(h, w int) (Spec, error) {
	d, err := Default(s.Preset, h, w)
	if err != nil || s.Std == ([3]float32{}) {
		return d, err
	}
	if s.Preset != Torchvision {
		return Spec{}, fmt.Errorf("preprocess: custom mean and std need the torchvision preset (%s computes x/127.5 - 1)", s.Preset)
	}
	d.Mean, d.Std = s.Mean, s.Std
	return d, d.validate()
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
	if _, err := Default(s.Preset, s.Height, s.Width); err != nil {
		return Spec{}, err
	}
	return s, nil
}

func (s Spec) validate() error {
	switch s.Preset {
	case Torchvision:
		for c, v := range s.Std {
			if v == 0 || math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("preprocess: std[%d] = %v is not a usable divisor", c, v)
			}
		}
	case TF:
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
// 3*Height*Width values: channel-major (CHW) RGB, i.e. one NCHW batch item.
//
// The image is first converted to 8-bit RGB like PIL's convert("RGB"):
// gray is replicated, alpha is dropped without compositing, YCbCr (JPEG) is
// converted like libjpeg (see ycbcrToRGB), palettes and CMYK go through the
// image/color conversions, and 16-bit samples keep their high byte. (PIL
// also keeps the high byte of 16-bit RGB(A) PNGs, but opens 16-bit gray as
// mode "I" and clips it to 255 when converting; that is deliberately not
// copied.) It is then resized with PIL's antialiasing
// bilinear filter semantics (see resize) and, for the Torchvision preset,
// center cropped (zero padded where the crop exceeds the resized image, as
// torchvision's CenterCrop does).
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
	sw, sh := src.Rect.Dx(), src.Rect.Dy()

	switch s.Preset {
	case TF:
		r := resize(src, W, H)
		plane := H * W
		for y := range H {
			row := r.Pix[y*r.Stride:]
			for x := range W {
				for c := range 3 {
					// float32 throughout, like numpy's
					// np.asarray(img, np.float32) / 127.5 - 1.
					v := float32(row[4*x+c])
					dst[c*plane+y*W+x] = float32(v/127.5) - 1
				}
			}
		}
		return nil

	case Torchvision:
		nw, nh := torchvisionResizeSize(sw, sh, min(H, W))
		if int64(nw)*int64(nh) > maxPixels {
			return fmt.Errorf("preprocess: resizing %dx%d to %dx%d exceeds the limit of %d pixels", sw, sh, nw, nh, maxPixels)
		}
		r := resize(src, nw, nh)
		top, left, padT, padL := centerCrop(nw, nh, W, H)
		var lut [3][256]float32
		for c := range 3 {
			for v := range 256 {
				// ToTensor then Normalize, rounded to float32 after each
				// operation (explicit conversions forbid fused operations).
				x := float32(float32(v) / 255)
				lut[c][v] = float32(x-s.Mean[c]) / s.Std[c]
			}
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
					dst[c*plane+y*W+x] = lut[c][p[c]]
				}
			}
		}
		return nil
	}
	panic("unreachable")
}

// torchvisionResizeSize is torchvision's Resize(int(size*256/224)) output
// size for a w x h image: the shorter side becomes s and the longer one
// int(s*long/short) (a float division in Python, truncated).
func torchvisionResizeSize(w, h, size int) (nw, nh int) {
	s := size * 256 / 224 // == int(size*256/224) for positive sizes
	if w <= h {
		return s, int(float64(s*h) / float64(w))
	}
	return int(float64(s*w) / float64(h)), s
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
