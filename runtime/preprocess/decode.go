package preprocess

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"strings"

	// Decoders registered with image.Decode.
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/webp"

	"github.com/mncdev/mnc/runtime/esc"
	"github.com/mncdev/mnc/runtime/limits"
)

// ErrFormat is returned (wrapped) for files that are not a supported image.
var ErrFormat = errors.New("not a JPEG, PNG, BMP or WebP image")

// LoadImage decodes a JPEG, PNG, BMP or WebP file. The path must name a
// regular file of at most limits.ImageFile bytes (limits.Open: a FIFO or a
// device is refused before it is opened for reading). Images over
// limits.ImagePixels pixels, or whose decoding and preprocessing would take
// more than limits.ImageMemory bytes (computed from the header, see
// checkMemory), are refused before anything is allocated for them. EXIF
// orientation and color profiles are ignored, as PIL and torchvision do.
// JPEGs are decoded like libjpeg (see decodeJPEG) into an *image.Gray,
// *image.YCbCr or *image.RGBA, except the layouts it leaves to image/jpeg
// (doc.go); lossy WebP images are returned as *image.NRGBA converted like
// libwebp (see webpToNRGBA); other formats as their decoder returns them.
func LoadImage(path string) (image.Image, error) {
	f, st, err := limits.Open(path)
	if err != nil {
		return nil, fmt.Errorf("decode image %s: %w", esc.String(path), err)
	}
	defer f.Close()
	if st.Size() > limits.ImageFile {
		return nil, fmt.Errorf("the image file %s is %s; the limit is %s", esc.String(path), limits.Bytes(st.Size()), limits.Bytes(limits.ImageFile))
	}
	img, err := decode(f, imageBudget)
	if err != nil {
		return nil, fmt.Errorf("decode image %s: %w", esc.String(path), err)
	}
	return img, nil
}

// maxPixels is limits.ImagePixels, which the preprocessing's resize
// checks too.
const maxPixels = limits.ImagePixels

// budget is what decode may let an image take: pixels (width x height)
// and bytes of memory (see checkMemory). The fuzz targets use small ones.
type budget struct {
	pixels int64
	memory int64
}

// imageBudget is LoadImage's budget.
var imageBudget = budget{pixels: limits.ImagePixels, memory: limits.ImageMemory}

// checkPixels refuses a w x h image over the budget's pixels.
func (b budget) checkPixels(w, h int) error {
	if int64(w)*int64(h) > b.pixels {
		return fmt.Errorf("image of %dx%d pixels exceeds the limit of %d pixels", w, h, b.pixels)
	}
	return nil
}

// checkMemory refuses a w x h image of the named format whose decoder
// needs decoder bytes (its buffers and its result, as computed from the
// header by the caller) when that plus mnc's own copies exceeds the
// budget's memory: the 8-bit RGBA copy of toRGB (4 bytes a pixel) and the
// first resize pass, which is at most as large when the image is
// downscaled (the resized image itself is bounded by the pixel limit in
// Tensor). Every term is counted as if alive at once (the garbage
// collector may not have freed the earlier ones).
func (b budget) checkMemory(format string, w, h int, decoder int64) error {
	need := decoder + 2*4*int64(w)*int64(h)
	if need > b.memory {
		return fmt.Errorf("the %dx%d %s image needs %s to decode and preprocess; the limit is %s",
			w, h, format, limits.Bytes(need), limits.Bytes(b.memory))
	}
	return nil
}

func decode(r io.ReadSeeker, bud budget) (image.Image, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0xff && magic[1] == 0xd8 {
		data, err := io.ReadAll(io.LimitReader(br, limits.ImageFile+1))
		if err != nil {
			return nil, err
		}
		if len(data) > limits.ImageFile {
			return nil, fmt.Errorf("the JPEG file is larger than the limit of %s", limits.Bytes(limits.ImageFile))
		}
		img, err := decodeJPEGBudget(data, bud)
		if !errors.Is(err, errJPEGFallback) {
			return img, err
		}
		// Layouts decodeJPEG leaves to image/jpeg (CMYK, unusual sampling
		// factors), whose memory decodeJPEGBudget checked: decoded with
		// Go's IDCT and color conversion.
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		br.Reset(r)
		img, _, err = image.Decode(br)
		return img, err
	}
	head, _ := br.Peek(64)
	cfg, format, err := image.DecodeConfig(br)
	if errors.Is(err, image.ErrFormat) {
		return nil, ErrFormat
	}
	if err != nil {
		return nil, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("empty image (%dx%d)", cfg.Width, cfg.Height)
	}
	if err := bud.checkPixels(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	if err := bud.checkMemory(strings.ToUpper(format), cfg.Width, cfg.Height, decoderBytes(format, cfg, head)); err != nil {
		return nil, err
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

// decoderBytes is the memory the decoder of a PNG, BMP or WebP image
// (cfg, from its header; head holds the file's first bytes) takes: its
// result, the buffers it holds while decoding, and for WebP the NRGBA
// conversion of decode. It errs on the large side where the header does
// not tell (a later tRNS chunk, a VP8X file's coding).
func decoderBytes(format string, cfg image.Config, head []byte) int64 {
	n := int64(cfg.Width) * int64(cfg.Height)
	switch format {
	case "png":
		// image/png: 8 bytes a pixel for 16-bit samples (RGBA64,
		// NRGBA64), 1 for a palette, else at most 4 (a tRNS chunk makes
		// gray NRGBA); an interlaced image decodes each of the 7 passes
		// into an image of its own before merging them.
		bpp := int64(4)
		switch cfg.ColorModel {
		case color.RGBA64Model, color.NRGBA64Model, color.Gray16Model:
			bpp = 8
		default:
			if _, ok := cfg.ColorModel.(color.Palette); ok {
				bpp = 1
			}
		}
		need := bpp * n
		if len(head) > 28 && head[28] != 0 { // IHDR's interlace method
			need *= 2
		}
		return need
	case "bmp":
		if _, ok := cfg.ColorModel.(color.Palette); ok {
			return n
		}
		return 4 * n // RGBA
	case "webp":
		// Lossless (VP8L): 4 bytes a pixel, and 4 more for the color
		// indexing transform's output. Lossy (VP8): 4:2:0 planes of the
		// size padded to macroblocks (1.5 bytes a pixel), converted to
		// NRGBA (4); its alpha plane (1) is decoded as a lossless image
		// (8) and copied (1). A VP8X header does not say which coding
		// follows: count the larger.
		w16, h16 := (int64(cfg.Width)+15)/16*16, (int64(cfg.Height)+15)/16*16
		lossy := w16*h16*3/2 + 4*n
		lossless := 8 * n
		if cfg.ColorModel == color.NYCbCrAModel {
			lossy += 10 * n
		}
		return max(lossy, lossless)
	}
	return 8 * n // no other format is registered
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
