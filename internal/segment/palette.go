package segment

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
)

// Color is class c's colour in the PASCAL VOC colormap (the palette of
// VOC's SegmentationClass PNGs): bit j of c, for j = 0, 3, 6 (and 1, 4, 7;
// 2, 5), sets bit 7 - j/3 of red (green; blue). Class 0 is black, 1
// (128,0,0), 2 (0,128,0), 3 (128,128,0), 15 (192,128,128), and 255 (Unseen,
// VOC's void border) (224,224,192).
func Color(c uint8) color.RGBA {
	var r, g, b uint8
	for j := 0; c != 0; j++ {
		r |= (c & 1) << (7 - j)
		g |= (c >> 1 & 1) << (7 - j)
		b |= (c >> 2 & 1) << (7 - j)
		c >>= 3
	}
	return color.RGBA{r, g, b, 255}
}

// Palette returns the 256 colours of the VOC colormap, index i class i.
func Palette() color.Palette {
	p := make(color.Palette, 256)
	for i := range p {
		p[i] = Color(uint8(i))
	}
	return p
}

// Image returns m as a paletted image in the VOC colormap: each pixel's
// palette index is its class, so the PNG of it is also a mask (ReadMask
// reads the classes back).
func Image(m Map) *image.Paletted {
	img := image.NewPaletted(image.Rect(0, 0, m.W, m.H), Palette())
	copy(img.Pix, m.Pix) // stride = W
	return img
}

// Overlay returns photo with m's colours blended over it at 50%: each
// channel (photo + colour + 1) / 2; Unseen pixels keep the photo's colour.
// The photo must have m's size.
func Overlay(m Map, photo image.Image) (*image.NRGBA, error) {
	b := photo.Bounds()
	if b.Dx() != m.W || b.Dy() != m.H {
		return nil, fmt.Errorf("segment: a %dx%d class map over a %dx%d photo", m.W, m.H, b.Dx(), b.Dy())
	}
	out := image.NewNRGBA(image.Rect(0, 0, m.W, m.H))
	for y := range m.H {
		for x := range m.W {
			p := color.NRGBAModel.Convert(photo.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			p.A = 255 // alpha dropped, as the preprocessing does
			if c := m.At(x, y); c != Unseen {
				k := Color(c)
				p.R = uint8((int(p.R) + int(k.R) + 1) / 2)
				p.G = uint8((int(p.G) + int(k.G) + 1) / 2)
				p.B = uint8((int(p.B) + int(k.B) + 1) / 2)
			}
			out.SetNRGBA(x, y, p)
		}
	}
	return out, nil
}

// EncodePNG returns img as a PNG file (a paletted image as a paletted PNG).
func EncodePNG(img image.Image) ([]byte, error) {
	if img == nil || img.Bounds().Empty() {
		return nil, errors.New("segment: empty image")
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
