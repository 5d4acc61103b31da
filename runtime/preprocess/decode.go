package preprocess

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"io"
	"os"

	// Decoders registered with image.Decode.
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/webp"
)

// ErrFormat is returned (wrapped) for files that are not a supported image.
var ErrFormat = errors.New("not a JPEG, PNG, BMP or WebP image")

// LoadImage decodes a JPEG, PNG, BMP or WebP file. Images over 2^27 pixels
// are refused before decoding. EXIF orientation and color profiles are
// ignored, as PIL and torchvision do. JPEGs are decoded like libjpeg (see
// decodeJPEG) into an *image.Gray, *image.YCbCr or *image.RGBA, except the
// layouts it leaves to image/jpeg (doc.go); lossy WebP images are returned
// as *image.NRGBA converted like libwebp (see webpToNRGBA); other formats
// as their decoder returns them.
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

// maxJPEGFile bounds the size of a JPEG file, which decodeJPEG reads whole.
const maxJPEGFile = 1 << 30

func decode(r io.ReadSeeker) (image.Image, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0xff && magic[1] == 0xd8 {
		data, err := io.ReadAll(io.LimitReader(br, maxJPEGFile+1))
		if err != nil {
			return nil, err
		}
		if len(data) > maxJPEGFile {
			return nil, fmt.Errorf("JPEG file exceeds %d bytes", maxJPEGFile)
		}
		img, err := decodeJPEG(data)
		if !errors.Is(err, errJPEGFallback) {
			return img, err
		}
		// Layouts decodeJPEG leaves to image/jpeg (CMYK, unusual sampling
		// factors): decoded with Go's IDCT and color conversion.
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		br.Reset(r)
	}
	cfg, _, err := image.DecodeConfig(br)
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
