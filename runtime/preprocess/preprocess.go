package preprocess

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"os"
	"strings"

	// Decoders registered with image.Decode.
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/webp"
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
	Preset        Preset
	Height, Width int // network input size
	// Mean and Std are per RGB channel; the Torchvision preset computes
	// (x/255 - Mean)/Std in float32, operation by operation, exactly like
	// torchvision's ToTensor + Normalize. The TF preset ignores them and
	// computes x/127.5 - 1, which is the same map as Mean = Std = 0.5;
	// Default fills them in with 0.5 for information.
	Mean, Std [3]float32
}

// ImageNet statistics used by torchvision.
var (
	ImageNetMean = [3]float32{0.485, 0.456, 0.406}
	ImageNetStd  = [3]float32{0.229, 0.224, 0.225}
)

const (
	// maxSide bounds the network input size.
	maxSide = 1 << 14
	// maxPixels bounds the decoded image size (checked from the header
	// before decoding) and the intermediate resized image.
	maxPixels = 1 << 27
)

// ErrFormat is returned (wrapped) for files that are not a supported image.
var ErrFormat = errors.New("not a JPEG, PNG, BMP or WebP image")

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

// LoadImage decodes a JPEG, PNG, BMP or WebP file. Images over 2^27 pixels
// are refused before decoding. EXIF orientation and color profiles are
// ignored, as PIL and torchvision do. Lossy WebP images are returned as
// *image.NRGBA converted like libwebp (see webpToNRGBA); other formats as
// their decoder returns them.
func LoadImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("decode image %s: %w", path, err)
	}
	defer f.Close()
	img, err := decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode image %s: %w", path, err)
	}
	return img, nil
}

func decode(r io.ReadSeeker) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(bufio.NewReader(r))
	if errors.Is(err, image.ErrFormat) {
		return nil, ErrFormat
	}
	if err != nil {
		return nil, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("empty image (%dx%d)", cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return nil, fmt.Errorf("image of %dx%d pixels exceeds the limit of %d pixels", cfg.Width, cfg.Height, maxPixels)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, format, err := image.Decode(bufio.NewReader(r))
	if err != nil {
		return nil, err
	}
	if format == "webp" {
		// x/image/webp returns lossy (VP8) images as YCbCr planes that
		// image/color would interpret as full-range JPEG YCbCr
		// (golang/go#40173); convert them like libwebp does instead.
		switch m := img.(type) {
		case *image.YCbCr:
			if m.SubsampleRatio == image.YCbCrSubsampleRatio420 && m.Rect.Min == (image.Point{}) {
				img = webpToNRGBA(m, nil, 0)
			}
		case *image.NYCbCrA:
			if m.SubsampleRatio == image.YCbCrSubsampleRatio420 && m.Rect.Min == (image.Point{}) {
				img = webpToNRGBA(&m.YCbCr, m.A, m.AStride)
			}
		}
	}
	return img, nil
}

// webpToNRGBA converts the 4:2:0 planes of a lossy WebP (which x/image/webp
// decodes bit-exactly like libwebp) to RGB exactly like libwebp's default
// output path, which PIL uses: the "fancy" upsampler of src/dsp/upsampling.c
// (9-3-3-1 chroma interpolation with libwebp's rounding) and the
// limited-range BT.601 conversion of src/dsp/yuv.h. alpha, if not nil, is
// copied to the result.
func webpToNRGBA(m *image.YCbCr, alpha []uint8, aStride int) *image.NRGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	cw, ch := (w+1)/2, (h+1)/2
	row := func(p []uint8, k int) []uint8 { return p[k*m.CStride : k*m.CStride+cw] }
	u := make([]int32, w)
	v := make([]int32, w)
	// emit writes output row y, whose nearest chroma row is near (top
	// output row of the pair when near is the upper chroma row tk).
	emit := func(y, tk, ck int, top bool) {
		webpUpsampleRow(u, row(m.Cb, tk), row(m.Cb, ck), top)
		webpUpsampleRow(v, row(m.Cr, tk), row(m.Cr, ck), top)
		yrow := m.Y[y*m.YStride:]
		d := dst.Pix[y*dst.Stride:]
		for x := range w {
			r, g, b := webpYUVToRGB(int32(yrow[x]), u[x], v[x])
			a := uint8(0xff)
			if alpha != nil {
				a = alpha[y*aStride+x]
			}
			d[4*x], d[4*x+1], d[4*x+2], d[4*x+3] = r, g, b, a
		}
	}
	// libwebp's EmitFancyRGB: the first row uses chroma row 0 only, then
	// rows 2k-1 and 2k blend chroma rows k-1 and k, and the last row of an
	// even-height image uses the last chroma row only.
	emit(0, 0, 0, true)
	for k := 1; k < ch; k++ {
		emit(2*k-1, k-1, k, true)
		if 2*k < h {
			emit(2*k, k-1, k, false)
		}
	}
	if h%2 == 0 && h > 1 {
		emit(h-1, ch-1, ch-1, true)
	}
	return dst
}

// webpUpsampleRow is one output row of libwebp's UpsampleRgbLinePair for a
// single chroma plane: t is the upper chroma row, c the lower one, and top
// selects the output row nearer to t.
func webpUpsampleRow(out []int32, t, c []uint8, top bool) {
	w := len(out)
	tl, l := int32(t[0]), int32(c[0])
	if top {
		out[0] = (3*tl + l + 2) >> 2
	} else {
		out[0] = (3*l + tl + 2) >> 2
	}
	for x := 1; x <= (w-1)>>1; x++ {
		tt, uv := int32(t[x]), int32(c[x])
		avg := tl + tt + l + uv + 8
		diag12 := (avg + 2*(tt+l)) >> 3
		diag03 := (avg + 2*(tl+uv)) >> 3
		if top {
			out[2*x-1] = (diag12 + tl) >> 1
			out[2*x] = (diag03 + tt) >> 1
		} else {
			out[2*x-1] = (diag03 + l) >> 1
			out[2*x] = (diag12 + uv) >> 1
		}
		tl, l = tt, uv
	}
	if w%2 == 0 {
		if top {
			out[w-1] = (3*tl + l + 2) >> 2
		} else {
			out[w-1] = (3*l + tl + 2) >> 2
		}
	}
}

// webpYUVToRGB is libwebp's VP8YuvToRgb (14-bit fixed point, limited range).
func webpYUVToRGB(y, u, v int32) (r, g, b uint8) {
	mulHi := func(a, c int32) int32 { return (a * c) >> 8 }
	clip := func(x int32) uint8 {
		if x&^(256<<6-1) == 0 {
			return uint8(x >> 6)
		}
		if x < 0 {
			return 0
		}
		return 255
	}
	yy := mulHi(y, 19077)
	return clip(yy + mulHi(v, 26149) - 14234),
		clip(yy - mulHi(u, 6419) - mulHi(v, 13320) + 8708),
		clip(yy + mulHi(u, 33050) - 17685)
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

// toRGB converts img to an opaque 8-bit *image.RGBA with origin (0, 0),
// following PIL's convert("RGB") (see Tensor).
func toRGB(img image.Image) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	set := func(x, y int, r, g, bl uint8) {
		i := y*dst.Stride + 4*x
		dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = r, g, bl, 0xff
	}
	switch m := img.(type) {
	case *image.NYCbCrA:
		return toRGB(&m.YCbCr) // drop alpha
	case *image.YCbCr:
		ycbcrToRGB(dst, m)
	case *image.Gray:
		for y := range h {
			row := m.Pix[(y)*m.Stride:]
			for x := range w {
				v := row[x]
				set(x, y, v, v, v)
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[y*m.Stride:]
			for x := range w {
				set(x, y, row[4*x], row[4*x+1], row[4*x+2])
			}
		}
	case *image.Paletted:
		var lut [256][3]uint8
		for i, c := range m.Palette {
			lut[i] = straightRGB(c)
		}
		for y := range h {
			row := m.Pix[y*m.Stride:]
			for x := range w {
				p := lut[row[x]]
				set(x, y, p[0], p[1], p[2])
			}
		}
	default:
		// Generic path, covering RGBA (un-premultiplied), RGBA64, NRGBA64,
		// Gray16, CMYK.
		for y := range h {
			for x := range w {
				p := straightRGB(img.At(b.Min.X+x, b.Min.Y+y))
				set(x, y, p[0], p[1], p[2])
			}
		}
	}
	return dst
}

// straightRGB returns the non-premultiplied 8-bit RGB of c, keeping the high
// byte of 16-bit samples. Colors that are already non-premultiplied are read
// directly, so that their RGB survives even at alpha 0 (PIL keeps it too).
func straightRGB(c color.Color) [3]uint8 {
	switch c := c.(type) {
	case color.NRGBA:
		return [3]uint8{c.R, c.G, c.B}
	case color.NRGBA64:
		return [3]uint8{uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8)}
	}
	n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
	return [3]uint8{uint8(n.R >> 8), uint8(n.G >> 8), uint8(n.B >> 8)}
}

// ycbcrToRGB converts a YCbCr image (a decoded JPEG or lossy WebP) to RGB
// the way libjpeg(-turbo), and hence PIL, does by default: chroma planes
// subsampled 2x horizontally and/or vertically are upsampled with libjpeg's
// "fancy" triangle filter (jdsample.c), and the color conversion uses
// libjpeg's fixed-point tables (jdcolor.c). Other subsampling ratios, and
// sub-images not anchored at (0, 0), replicate chroma samples.
func ycbcrToRGB(dst *image.RGBA, m *image.YCbCr) {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	hf, vf := 1, 1 // chroma subsampling factors
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hf = 2
	case image.YCbCrSubsampleRatio420:
		hf, vf = 2, 2
	case image.YCbCrSubsampleRatio440:
		vf = 2
	}
	cw, ch := (w+hf-1)/hf, (h+vf-1)/vf
	fancy := b.Min == image.Point{} && (hf > 1 || vf > 1)
	if hf > 1 && cw <= 2 {
		// libjpeg falls back to replication for narrow planes, except in
		// the vertical-only (4:4:0) case.
		fancy = false
	}
	if !fancy {
		for y := range h {
			for x := range w {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := jpegYCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				i := y*dst.Stride + 4*x
				dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = r, g, bl, 0xff
			}
		}
		return
	}
	// Upsampled chroma rows and the vertical blend (column sums) buffers.
	cb := make([]uint8, hf*cw)
	cr := make([]uint8, hf*cw)
	sumB := make([]int32, cw)
	sumR := make([]int32, cw)
	for y := range h {
		inrow := y / vf
		src := func(p []uint8, row int) []uint8 { return p[row*m.CStride : row*m.CStride+cw] }
		if vf == 2 {
			// Blend the nearest chroma row (weight 3) with the next nearest
			// (weight 1); rows beyond the edges replicate the edge row.
			nb := inrow - 1
			if y%2 == 1 {
				nb = inrow + 1
			}
			nb = min(max(nb, 0), ch-1)
			b0, b1 := src(m.Cb, inrow), src(m.Cb, nb)
			r0, r1 := src(m.Cr, inrow), src(m.Cr, nb)
			for c := range cw {
				sumB[c] = 3*int32(b0[c]) + int32(b1[c])
				sumR[c] = 3*int32(r0[c]) + int32(r1[c])
			}
		} else {
			b0, r0 := src(m.Cb, inrow), src(m.Cr, inrow)
			for c := range cw {
				sumB[c], sumR[c] = int32(b0[c]), int32(r0[c])
			}
		}
		switch {
		case hf == 2 && vf == 2: // h2v2_fancy_upsample
			h2Fancy(cb, sumB, 4, 8, 7)
			h2Fancy(cr, sumR, 4, 8, 7)
		case hf == 2: // h2v1_fancy_upsample
			h2Fancy(cb, sumB, 2, 1, 2)
			h2Fancy(cr, sumR, 2, 1, 2)
		default: // h1v2_fancy_upsample
			bias := int32(1)
			if y%2 == 1 {
				bias = 2
			}
			for c := range cw {
				cb[c] = uint8((sumB[c] + bias) >> 2)
				cr[c] = uint8((sumR[c] + bias) >> 2)
			}
		}
		yrow := m.Y[y*m.YStride:]
		drow := dst.Pix[y*dst.Stride:]
		for x := range w {
			r, g, bl := jpegYCbCrToRGB(yrow[x], cb[x], cr[x])
			drow[4*x], drow[4*x+1], drow[4*x+2], drow[4*x+3] = r, g, bl, 0xff
		}
	}
}

// h2Fancy doubles a row of chroma (column sums scaled by 2^(shift-2)... see
// libjpeg's h2v1/h2v2_fancy_upsample): each output sample is 3/4 of the
// nearest input plus 1/4 of the next nearest, with libjpeg's alternating
// rounding biases; the first and last outputs copy the edge input.
func h2Fancy(out []uint8, sum []int32, shift uint, biasL, biasR int32) {
	n := len(sum)
	// Edges: libjpeg writes in*4 (h2v2: colsum*4) with the bias of that side,
	// which equals the edge value for h2v1 (shift 2, in*4 >> 2).
	out[0] = uint8((sum[0]*4 + biasL) >> shift)
	for c := range n {
		if c > 0 {
			out[2*c] = uint8((3*sum[c] + sum[c-1] + biasL) >> shift)
		}
		if c < n-1 {
			out[2*c+1] = uint8((3*sum[c] + sum[c+1] + biasR) >> shift)
		}
	}
	out[2*n-1] = uint8((sum[n-1]*4 + biasR) >> shift)
}

// libjpeg's YCbCr -> RGB tables (jdcolor.c build_ycc_rgb_table).
var jpegCrR, jpegCbB, jpegCrG, jpegCbG [256]int32

func init() {
	const scaleBits = 16
	const oneHalf = 1 << (scaleBits - 1)
	fix := func(x float64) int32 { return int32(x*(1<<scaleBits) + 0.5) }
	for i := range 256 {
		x := int32(i - 128)
		jpegCrR[i] = (fix(1.40200)*x + oneHalf) >> scaleBits
		jpegCbB[i] = (fix(1.77200)*x + oneHalf) >> scaleBits
		jpegCrG[i] = -fix(0.71414) * x
		jpegCbG[i] = -fix(0.34414)*x + oneHalf
	}
}

func jpegYCbCrToRGB(y, cb, cr uint8) (r, g, b uint8) {
	yy := int32(y)
	return clamp8(yy + jpegCrR[cr]), clamp8(yy + (jpegCbG[cb]+jpegCrG[cr])>>16), clamp8(yy + jpegCbB[cb])
}

func clamp8(v int32) uint8 {
	return uint8(min(max(v, 0), 255))
}

// resize scales an opaque 8-bit RGBA image to w x h exactly like Pillow's
// Image.resize((w, h), Image.BILINEAR) on an RGB image (Pillow's
// Resample.c): a separable triangle filter whose support grows with the
// downscale factor (antialiasing), horizontal pass first, coefficients
// normalized in float64 then quantized to 22-bit fixed point, each pass
// rounded and clipped to 8 bits. An axis whose size does not change is not
// resampled.
//
// golang.org/x/image/draw's BiLinear.Scale computes the same filter weights
// but in float64 throughout; it agrees within one 8-bit level, yet Pillow's
// fixed-point coefficients break the frequent exact .5 ties of the first pass
// either way, so it disagrees on about 0.6% of the values of a typical
// 512x600 -> 224x224 resize. Replicating the fixed-point arithmetic (a few
// dozen lines) makes the output bit-identical, which the tests check against
// Pillow; TestResizeMatchesXImage keeps draw.BiLinear as an independent
// cross-check.
func resize(src *image.RGBA, w, h int) *image.RGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	if sw != w {
		src = resamplePass(src, w, sh, true)
	}
	if sh != h {
		src = resamplePass(src, w, h, false)
	}
	return src
}

// precisionBits is Pillow's PRECISION_BITS for 8-bit resampling.
const precisionBits = 32 - 8 - 2

// filterCoeffs is Pillow's precompute_coeffs + normalize_coeffs_8bpc for
// the bilinear filter: output pixel i reads n[i] input pixels starting at
// start[i] with weights k[i*ksize:][:n[i]].
type filterCoeffs struct {
	ksize    int
	start, n []int
	k        []int32
}

func bilinearCoeffs(inSize, outSize int) filterCoeffs {
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1)
	support := 1.0 * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c := filterCoeffs{
		ksize: ksize,
		start: make([]int, outSize),
		n:     make([]int, outSize),
		k:     make([]int32, outSize*ksize),
	}
	w := make([]float64, ksize)
	ss := 1.0 / filterscale
	for xx := range outSize {
		// Explicit float64 conversions keep each operation separately
		// rounded, as in C (Go could otherwise fuse a multiply-add).
		center := float64((float64(xx) + 0.5) * scale)
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		ww := 0.0
		for x := range xmax {
			t := math.Abs(float64((float64(x+xmin) - center + 0.5) * ss))
			w[x] = 0
			if t < 1 {
				w[x] = 1 - t
			}
			ww += w[x]
		}
		for x := range xmax {
			if ww != 0 {
				w[x] /= ww
			}
			// All weights are >= 0: Pillow's (int)(0.5 + w * 2^22).
			c.k[xx*ksize+x] = int32(0.5 + float64(w[x]*(1<<precisionBits)))
		}
		c.start[xx], c.n[xx] = xmin, xmax
	}
	return c
}

// resamplePass resamples src to w x h along one axis (horizontal: width
// changes, else height changes) with Pillow's 8-bit fixed-point arithmetic.
func resamplePass(src *image.RGBA, w, h int, horizontal bool) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	var c filterCoeffs
	step := 4 // distance between consecutive taps in src.Pix
	if horizontal {
		c = bilinearCoeffs(src.Rect.Dx(), w)
	} else {
		c = bilinearCoeffs(src.Rect.Dy(), h)
		step = src.Stride
	}
	for y := range h {
		for x := range w {
			var base, o int
			if horizontal {
				o = x
				base = y*src.Stride + 4*c.start[o]
			} else {
				o = y
				base = c.start[o]*src.Stride + 4*x
			}
			k := c.k[o*c.ksize : o*c.ksize+c.n[o]]
			var s0, s1, s2 int32 = 1 << (precisionBits - 1), 1 << (precisionBits - 1), 1 << (precisionBits - 1)
			for i, kv := range k {
				p := src.Pix[base+i*step : base+i*step+3]
				s0 += int32(p[0]) * kv
				s1 += int32(p[1]) * kv
				s2 += int32(p[2]) * kv
			}
			d := dst.Pix[y*dst.Stride+4*x : y*dst.Stride+4*x+4]
			d[0], d[1], d[2], d[3] = clip8(s0), clip8(s1), clip8(s2), 0xff
		}
	}
	return dst
}

func clip8(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}
