package preprocess

import (
	"errors"
	"fmt"
	"image"
)

// decodeJPEG decodes a baseline, extended-sequential or progressive
// Huffman-coded 8-bit JPEG the way libjpeg(-turbo) does with its default
// settings (which Pillow uses): the same entropy decoding, quantization
// table latching and ISLOW integer IDCT (jpeg_idct.go), so that the sample
// planes are libjpeg's bit for bit. It returns an *image.Gray for
// grayscale, an *image.YCbCr (Rect at the origin, planes padded to whole
// blocks) for YCbCr, which ycbcrToRGB converts with libjpeg's upsampling
// and color tables, and an *image.RGBA for RGB JPEGs. Layouts it does not
// reproduce (subsampled CMYK, YCCK or RGB, sampling factors outside the
// ratios of image.YCbCr) give errJPEGFallback; CMYK and YCCK JPEGs are
// returned as an *image.RGBA converted like Pillow (cmykToRGB); unsupported codings
// (arithmetic, lossless, hierarchical, 12-bit) and corrupt files give an
// error.
func decodeJPEG(data []byte) (image.Image, error) {
	return decodeJPEGBudget(data, imageBudget)
}

// decodeJPEGBudget is decodeJPEG refusing images over the budget's pixels
// (and whose block-padded planes exceed 4 samples a pixel of it) at the
// frame header, and at the first scan, before allocating the planes,
// images whose decoding takes more than its memory (see need), also when
// it returns errJPEGFallback (counting what image/jpeg will take).
func decodeJPEGBudget(data []byte, bud budget) (image.Image, error) {
	d := &jpegDecoder{data: data, bud: bud}
	if err := d.decode(); err != nil {
		return nil, err
	}
	return d.image()
}

// errJPEGFallback marks JPEG files that decodeJPEG leaves to image/jpeg.
var errJPEGFallback = errors.New("JPEG layout not decoded like libjpeg")

// maxJPEGScans bounds the number of scans (libjpeg's standard progressive
// script has 10; a hostile file could repeat passes over a large image).
const maxJPEGScans = 1000

type jpegComponent struct {
	id      uint8
	h, v    int // sampling factors
	tq      uint8
	q       *idctQuant // latched at the component's first scan
	bw, bh  int        // blocks holding image samples
	stride  int        // of plane: 8*bw
	plane   []uint8    // sequential: decoded samples, 8*bw x 8*bh
	coefs   []int16    // progressive: 64 coefficients per block
	pred    int32      // DC predictor
	td, ta  uint8      // Huffman table selectors of the current scan
	scanned bool
}

type jpegDecoder struct {
	data []byte
	pos  int
	bud  budget

	frame       bool
	allocated   bool  // the planes or coefficients (allocate)
	samples     int64 // of the block-padded planes
	progressive bool
	w, h        int
	hmax, vmax  int
	mcusX       int
	mcusY       int
	comps       []jpegComponent

	quant    [4][64]uint16
	quantDef [4]bool
	dc, ac   [4]huffTable
	restart  int

	jfif           bool
	adobe          bool
	adobeTransform uint8
	colorChecked   bool

	scans int
	br    bitReader
	blk   [64]int16 // scratch block
}

func (d *jpegDecoder) errorf(format string, args ...any) error {
	return fmt.Errorf("jpeg: offset %d: %s", d.pos, fmt.Sprintf(format, args...))
}

func (d *jpegDecoder) u16(p int) int { return int(d.data[p])<<8 | int(d.data[p+1]) }

func (d *jpegDecoder) decode() error {
	if len(d.data) < 2 || d.data[0] != 0xff || d.data[1] != 0xd8 {
		return ErrFormat
	}
	d.pos = 2
	for {
		marker, err := d.nextMarker()
		if err != nil {
			return err
		}
		if marker == 0xd9 { // EOI
			break
		}
		if marker == 0xd8 || marker >= 0xd0 && marker <= 0xd7 || marker == 0x01 {
			// SOI again, or a stray RST/TEM: no length (libjpeg skips
			// stray RSTs with a warning).
			if marker == 0xd8 {
				return d.errorf("second SOI marker")
			}
			continue
		}
		if d.pos+2 > len(d.data) {
			return d.errorf("truncated marker 0x%02x", marker)
		}
		n := d.u16(d.pos)
		if n < 2 || d.pos+n > len(d.data) {
			return d.errorf("marker 0x%02x: bad length %d (%d bytes left)", marker, n, len(d.data)-d.pos)
		}
		seg := d.data[d.pos+2 : d.pos+n]
		segStart := d.pos
		d.pos += n
		switch {
		case marker == 0xc0 || marker == 0xc1 || marker == 0xc2:
			err = d.parseSOF(seg, marker == 0xc2)
		case marker == 0xc3 || marker >= 0xc5 && marker <= 0xc7 || marker >= 0xc9 && marker <= 0xcb || marker >= 0xcd && marker <= 0xcf:
			err = fmt.Errorf("unsupported JPEG coding (SOF%d: lossless, hierarchical or arithmetic)", marker-0xc0)
		case marker == 0xc4:
			err = d.parseDHT(seg)
		case marker == 0xcc:
			err = errors.New("unsupported JPEG coding (arithmetic, DAC marker)")
		case marker == 0xdb:
			err = d.parseDQT(seg)
		case marker == 0xdd:
			if len(seg) != 2 {
				err = fmt.Errorf("DRI: bad length %d", len(seg))
			} else {
				d.restart = int(seg[0])<<8 | int(seg[1])
			}
		case marker == 0xe0:
			// libjpeg looks at the first 14 bytes only.
			if len(seg) >= 14 && string(seg[:5]) == "JFIF\x00" {
				d.jfif = true
			}
		case marker == 0xee:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				d.adobe, d.adobeTransform = true, seg[11]
			}
		case marker == 0xda:
			err = d.parseSOS(seg)
		case marker == 0xdc:
			err = errors.New("DNL marker not supported")
		}
		// APPn, COM and other markers with a length are skipped.
		if err != nil {
			if errors.Is(err, errJPEGFallback) || errors.Is(err, ErrFormat) {
				return err
			}
			return fmt.Errorf("jpeg: marker 0x%02x at offset %d: %w", marker, segStart-2, err)
		}
	}
	if !d.frame || d.scans == 0 {
		return d.errorf("no image data before EOI")
	}
	return nil
}

// nextMarker skips to the next marker (libjpeg's next_marker discards any
// other bytes before it, and fill bytes 0xFF) and returns its code, with
// d.pos after it.
func (d *jpegDecoder) nextMarker() (byte, error) {
	for {
		for d.pos < len(d.data) && d.data[d.pos] != 0xff {
			d.pos++
		}
		for d.pos < len(d.data) && d.data[d.pos] == 0xff {
			d.pos++
		}
		if d.pos >= len(d.data) {
			if d.frame && d.scans > 0 {
				// A missing EOI after complete scans: libjpeg
				// assumes one (with a warning).
				return 0xd9, nil
			}
			return 0, d.errorf("unexpected end of data (truncated file?)")
		}
		c := d.data[d.pos]
		d.pos++
		if c != 0 { // 0xFF 0x00 is stuffed data, not a marker
			return c, nil
		}
	}
}

func (d *jpegDecoder) parseSOF(seg []byte, progressive bool) error {
	if d.frame {
		return errors.New("more than one frame")
	}
	if len(seg) < 6 {
		return fmt.Errorf("SOF: bad length %d", len(seg))
	}
	if seg[0] != 8 {
		return fmt.Errorf("unsupported JPEG precision of %d bits", seg[0])
	}
	d.h = int(seg[1])<<8 | int(seg[2])
	d.w = int(seg[3])<<8 | int(seg[4])
	nc := int(seg[5])
	if d.w == 0 || d.h == 0 {
		return fmt.Errorf("empty image (%dx%d; DNL is not supported)", d.w, d.h)
	}
	if err := d.bud.checkPixels(d.w, d.h); err != nil {
		return err
	}
	if len(seg) != 6+3*nc {
		return fmt.Errorf("SOF: length %d does not fit %d components", len(seg), nc)
	}
	switch nc {
	case 1, 3, 4:
	default:
		return fmt.Errorf("unsupported number of components %d", nc)
	}
	d.progressive = progressive
	d.comps = make([]jpegComponent, nc)
	d.hmax, d.vmax = 1, 1
	for i := range d.comps {
		c := &d.comps[i]
		p := seg[6+3*i:]
		c.id = p[0]
		c.h, c.v = int(p[1]>>4), int(p[1]&15)
		c.tq = p[2]
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return fmt.Errorf("component %d: bad sampling factors %dx%d", i, c.h, c.v)
		}
		if c.tq > 3 {
			return fmt.Errorf("component %d: bad quantization table %d", i, c.tq)
		}
		for j := range i {
			if d.comps[j].id == c.id {
				return fmt.Errorf("duplicate component id %d", c.id)
			}
		}
		d.hmax, d.vmax = max(d.hmax, c.h), max(d.vmax, c.v)
	}
	d.mcusX = (d.w + 8*d.hmax - 1) / (8 * d.hmax)
	d.mcusY = (d.h + 8*d.vmax - 1) / (8 * d.vmax)
	samples := int64(0)
	for i := range d.comps {
		c := &d.comps[i]
		cw := (d.w*c.h + d.hmax - 1) / d.hmax
		ch := (d.h*c.v + d.vmax - 1) / d.vmax
		c.bw, c.bh = (cw+7)/8, (ch+7)/8
		c.stride = 8 * c.bw
		samples += 64 * int64(c.bw) * int64(c.bh)
	}
	// Blocks pad each plane to multiples of 8: bound that too, which
	// only refuses absurdly narrow images.
	if samples > 4*d.bud.pixels {
		return fmt.Errorf("image of %dx%d pixels: its %d block-padded samples exceed the limit of %d", d.w, d.h, samples, 4*d.bud.pixels)
	}
	d.samples = samples
	if nc == 1 {
		// A single component is coded in 8x8 MCUs whatever its factors.
		d.comps[0].h, d.comps[0].v, d.hmax, d.vmax = 1, 1, 1, 1
	}
	d.frame = true
	return nil
}

// need is the memory decoding the frame takes, for decodeJPEG or (fallback)
// for image/jpeg: the sample planes (block-padded), progressive files'
// coefficients (int16 here, int32 in image/jpeg) and the RGBA or CMYK
// image that RGB and four-component files are converted to.
func (d *jpegDecoder) need(fallback bool) int64 {
	need := d.samples
	if d.progressive {
		if fallback {
			need += 4 * d.samples
		} else {
			need += 2 * d.samples
		}
	}
	if len(d.comps) == 4 || len(d.comps) == 3 && d.isRGB() {
		need += 4 * int64(d.w) * int64(d.h)
	}
	return need
}

// allocate checks the frame's memory and allocates its planes (sequential)
// or coefficients (progressive), at the first scan: the markers before it
// decide the color space, and with it whether image/jpeg decodes instead.
func (d *jpegDecoder) allocate() error {
	if err := d.checkColor(); err != nil {
		if errors.Is(err, errJPEGFallback) {
			if err := d.bud.checkMemory("JPEG", d.w, d.h, d.need(true)); err != nil {
				return err
			}
		}
		return err
	}
	if d.allocated {
		return nil
	}
	if err := d.bud.checkMemory("JPEG", d.w, d.h, d.need(false)); err != nil {
		return err
	}
	for i := range d.comps {
		c := &d.comps[i]
		if d.progressive {
			c.coefs = make([]int16, 64*c.bw*c.bh)
		} else {
			c.plane = make([]uint8, 64*c.bw*c.bh)
		}
	}
	d.allocated = true
	return nil
}

func (d *jpegDecoder) parseDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, seg[0]&15
		if tq > 3 {
			return fmt.Errorf("DQT: bad table index %d", tq)
		}
		if pq > 1 {
			return fmt.Errorf("DQT: bad precision %d", pq)
		}
		n := 64 << pq
		if len(seg) < 1+n {
			return errors.New("DQT: truncated table")
		}
		t := &d.quant[tq]
		for k := range 64 {
			var v uint16
			if pq == 0 {
				v = uint16(seg[1+k])
			} else {
				v = uint16(seg[1+2*k])<<8 | uint16(seg[2+2*k])
			}
			t[zigzag[k]] = v
		}
		d.quantDef[tq] = true
		seg = seg[1+n:]
	}
	return nil
}

func (d *jpegDecoder) parseDHT(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return errors.New("DHT: truncated table")
		}
		tc, th := seg[0]>>4, seg[0]&15
		if tc > 1 || th > 3 {
			return fmt.Errorf("DHT: bad table class %d or index %d", tc, th)
		}
		var counts [16]uint8
		copy(counts[:], seg[1:17])
		total := 0
		for _, c := range counts {
			total += int(c)
		}
		if total > 256 || len(seg) < 17+total {
			return fmt.Errorf("DHT: truncated or oversized table (%d symbols)", total)
		}
		t := &d.dc[th]
		if tc == 1 {
			t = &d.ac[th]
		}
		if err := t.build(&counts, seg[17:17+total], tc == 0); err != nil {
			return fmt.Errorf("DHT class %d index %d: %w", tc, th, err)
		}
		seg = seg[17+total:]
	}
	return nil
}

// checkColor decides the color space at the first scan, as libjpeg's
// jpeg_read_header does, and falls back for layouts decodeJPEG does not
// reproduce.
func (d *jpegDecoder) checkColor() error {
	if d.colorChecked {
		return nil
	}
	d.colorChecked = true
	if len(d.comps) == 1 {
		return nil
	}
	c := d.comps
	if len(c) == 4 {
		// libjpeg takes four components as YCCK when an Adobe marker
		// says so (transform 2, or anything but 0), else as CMYK.
		for i := 1; i < 4; i++ {
			if c[i].h != c[0].h || c[i].v != c[0].v {
				return errJPEGFallback // subsampled CMYK/YCCK
			}
		}
		return nil
	}
	if d.isRGB() {
		for i := 1; i < 3; i++ {
			if c[i].h != c[0].h || c[i].v != c[0].v {
				return errJPEGFallback // subsampled RGB
			}
		}
		return nil
	}
	if c[0].h != d.hmax || c[0].v != d.vmax || c[1].h != c[2].h || c[1].v != c[2].v ||
		d.hmax%c[1].h != 0 || d.vmax%c[1].v != 0 {
		return errJPEGFallback
	}
	if _, ok := subsampleRatio(d.hmax/c[1].h, d.vmax/c[1].v); !ok {
		return errJPEGFallback
	}
	return nil
}

// isRGB reports whether libjpeg takes the three components as RGB rather
// than YCbCr (jdapimin.c default_decompress_parms).
func (d *jpegDecoder) isRGB() bool {
	switch {
	case d.jfif:
		return false
	case d.adobe:
		return d.adobeTransform == 0
	}
	c := d.comps
	return c[0].id == 'R' && c[1].id == 'G' && c[2].id == 'B'
}

func subsampleRatio(hf, vf int) (image.YCbCrSubsampleRatio, bool) {
	switch [2]int{hf, vf} {
	case [2]int{1, 1}:
		return image.YCbCrSubsampleRatio444, true
	case [2]int{2, 1}:
		return image.YCbCrSubsampleRatio422, true
	case [2]int{2, 2}:
		return image.YCbCrSubsampleRatio420, true
	case [2]int{1, 2}:
		return image.YCbCrSubsampleRatio440, true
	case [2]int{4, 1}:
		return image.YCbCrSubsampleRatio411, true
	case [2]int{4, 2}:
		return image.YCbCrSubsampleRatio410, true
	}
	return 0, false
}

func (d *jpegDecoder) parseSOS(seg []byte) error {
	if !d.frame {
		return errors.New("SOS before SOF")
	}
	if err := d.allocate(); err != nil {
		return err
	}
	if d.scans++; d.scans > maxJPEGScans {
		return fmt.Errorf("more than %d scans", maxJPEGScans)
	}
	if len(seg) < 1 {
		return errors.New("SOS: empty")
	}
	ns := int(seg[0])
	if ns < 1 || ns > 4 || len(seg) != 4+2*ns {
		return fmt.Errorf("SOS: %d components in %d bytes", ns, len(seg))
	}
	var scomps [4]*jpegComponent
	blocks := 0
	for i := range ns {
		id, sel := seg[1+2*i], seg[2+2*i]
		var c *jpegComponent
		for j := range d.comps {
			if d.comps[j].id == id {
				c = &d.comps[j]
			}
		}
		if c == nil {
			return fmt.Errorf("SOS: unknown component id %d", id)
		}
		for j := range i {
			if scomps[j] == c {
				return fmt.Errorf("SOS: component id %d twice", id)
			}
		}
		c.td, c.ta = sel>>4, sel&15
		if c.td > 3 || c.ta > 3 {
			return fmt.Errorf("SOS: bad Huffman table selectors 0x%02x", sel)
		}
		scomps[i] = c
		blocks += c.h * c.v
	}
	if ns > 1 && blocks > 10 {
		return fmt.Errorf("SOS: %d blocks per MCU exceed 10", blocks)
	}
	p := seg[1+2*ns:]
	ps := progScan{ss: int(p[0]), se: int(p[1]), ah: int(p[2] >> 4), al: int(p[2] & 15)}
	if d.progressive {
		// The checks of libjpeg's jdphuff.c start_pass_phuff_decoder.
		bad := ps.ss > ps.se || ps.se > 63 || ps.al > 13 || ps.ah > 13
		if ps.ss == 0 {
			bad = bad || ps.se != 0
		} else {
			bad = bad || ns != 1
		}
		if ps.ah != 0 {
			bad = bad || ps.al != ps.ah-1
		}
		if bad {
			return fmt.Errorf("bad progressive scan parameters Ss=%d Se=%d Ah=%d Al=%d", ps.ss, ps.se, ps.ah, ps.al)
		}
	}
	for _, c := range scomps[:ns] {
		if c.q == nil {
			if !d.quantDef[c.tq] {
				return fmt.Errorf("quantization table %d not defined", c.tq)
			}
			c.q = newIDCTQuant(&d.quant[c.tq])
		}
		// Tables the scan uses must be defined.
		needDC := !d.progressive || ps.ss == 0 && ps.ah == 0
		needAC := !d.progressive || ps.ss > 0
		if needDC && !d.dc[c.td].defined {
			return fmt.Errorf("DC Huffman table %d not defined", c.td)
		}
		if needAC && !d.ac[c.ta].defined {
			return fmt.Errorf("AC Huffman table %d not defined", c.ta)
		}
		c.scanned = true
	}
	if err := d.decodeScan(scomps[:ns], &ps); err != nil {
		return fmt.Errorf("scan %d: %w", d.scans, err)
	}
	return nil
}

// decodeScan decodes the entropy-coded segment starting at d.pos and
// leaves d.pos at the marker that ends it.
func (d *jpegDecoder) decodeScan(comps []*jpegComponent, ps *progScan) error {
	br := &d.br
	br.reset(d.data, d.pos)
	for _, c := range comps {
		c.pred = 0
	}
	mx, my := d.mcusX, d.mcusY
	if len(comps) == 1 {
		mx, my = comps[0].bw, comps[0].bh
	}
	nextRST := 0
	left := d.restart // MCUs before the next restart marker
	for y := range my {
		for x := range mx {
			if d.restart > 0 {
				if left == 0 {
					if err := d.readRestart(nextRST); err != nil {
						return err
					}
					nextRST = (nextRST + 1) & 7
					left = d.restart
					for _, c := range comps {
						c.pred = 0
					}
					ps.eobrun = 0
				}
				left--
			}
			if len(comps) == 1 {
				if err := d.decodeBlockAt(comps[0], x, y, ps); err != nil {
					return err
				}
				continue
			}
			for _, c := range comps {
				for by := range c.v {
					for bx := range c.h {
						if err := d.decodeBlockAt(c, x*c.h+bx, y*c.v+by, ps); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	if br.atEOF {
		return errors.New("unexpected end of data in entropy-coded segment (truncated file?)")
	}
	d.pos = br.pos
	return nil
}

// readRestart expects the restart marker RSTn after the bits read so far.
func (d *jpegDecoder) readRestart(n int) error {
	br := &d.br
	d.pos = br.pos
	m, err := d.nextMarker()
	if err != nil {
		return err
	}
	if m != 0xd0+byte(n) {
		return d.errorf("expected restart marker RST%d, found marker 0x%02x", n, m)
	}
	br.reset(d.data, d.pos)
	return nil
}

// decodeBlockAt decodes block (bx, by) of c; blocks beyond the image
// (MCU padding) are decoded into scratch space and dropped.
func (d *jpegDecoder) decodeBlockAt(c *jpegComponent, bx, by int, ps *progScan) error {
	br := &d.br
	inside := bx < c.bw && by < c.bh
	if !d.progressive {
		blk := &d.blk
		*blk = [64]int16{}
		nz, err := br.decodeBlock(blk, &c.pred, &d.dc[c.td], &d.ac[c.ta])
		if err != nil || !inside {
			return err
		}
		off := 8*by*c.stride + 8*bx
		if nz {
			idctISlow(blk, c.q, c.plane[off:], c.stride)
		} else {
			idctDCOnly(blk[0], c.q, c.plane[off:], c.stride)
		}
		return nil
	}
	blk := &d.blk
	if inside {
		i := 64 * (by*c.bw + bx)
		blk = (*[64]int16)(c.coefs[i : i+64])
	}
	switch {
	case ps.ss == 0 && ps.ah == 0:
		return br.decodeDCFirst(blk, &c.pred, &d.dc[c.td], ps.al)
	case ps.ss == 0:
		br.decodeDCRefine(blk, ps.al)
		return nil
	case ps.ah == 0:
		return br.decodeACFirst(blk, &d.ac[c.ta], ps)
	default:
		return br.decodeACRefine(blk, &d.ac[c.ta], ps)
	}
}

// image assembles the decoded planes, running the IDCT of progressive
// images first.
func (d *jpegDecoder) image() (image.Image, error) {
	for i := range d.comps {
		c := &d.comps[i]
		if !d.progressive {
			if !c.scanned {
				return nil, fmt.Errorf("jpeg: component %d has no scan", i)
			}
			continue
		}
		c.plane = make([]uint8, 64*c.bw*c.bh)
		q := c.q
		if q == nil {
			q = &idctQuant{} // never scanned: libjpeg outputs mid-gray
		}
		for by := range c.bh {
			for bx := range c.bw {
				i := 64 * (by*c.bw + bx)
				blk := (*[64]int16)(c.coefs[i : i+64])
				off := 8*by*c.stride + 8*bx
				if *(*[63]int16)(blk[1:]) == ([63]int16{}) {
					idctDCOnly(blk[0], q, c.plane[off:], c.stride)
				} else {
					idctISlow(blk, q, c.plane[off:], c.stride)
				}
			}
		}
		c.coefs = nil
	}
	r := image.Rect(0, 0, d.w, d.h)
	c := d.comps
	if len(c) == 1 {
		return &image.Gray{Pix: c[0].plane, Stride: c[0].stride, Rect: r}, nil
	}
	if len(c) == 4 {
		return d.cmykToRGB(), nil
	}
	if d.isRGB() {
		m := image.NewRGBA(r)
		for y := range d.h {
			row := m.Pix[y*m.Stride:]
			r0, r1, r2 := c[0].plane[y*c[0].stride:], c[1].plane[y*c[1].stride:], c[2].plane[y*c[2].stride:]
			for x := range d.w {
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = r0[x], r1[x], r2[x], 0xff
			}
		}
		return m, nil
	}
	ratio, _ := subsampleRatio(d.hmax/c[1].h, d.vmax/c[1].v)
	return &image.YCbCr{
		Y: c[0].plane, Cb: c[1].plane, Cr: c[2].plane,
		YStride: c[0].stride, CStride: c[1].stride,
		SubsampleRatio: ratio, Rect: r,
	}, nil
}

// cmykToRGB converts CMYK planes (YCCK ones first to CMYK like libjpeg)
// like Pillow: it reads Adobe-style inverted
// samples ("CMYK;I", which it assumes for every CMYK JPEG) and its
// convert("RGB") computes each channel as (255-K) - (255-K)*C/255 with its
// MULDIV255 rounding, where C and K are the un-inverted values.
func (d *jpegDecoder) cmykToRGB() *image.RGBA {
	c := d.comps
	m := image.NewRGBA(image.Rect(0, 0, d.w, d.h))
	conv := func(s, nk int32) uint8 {
		t := (255-s)*nk + 128
		return clamp8(nk - ((t>>8)+t)>>8)
	}
	ycck := d.adobe && d.adobeTransform != 0
	for y := range d.h {
		row := m.Pix[y*m.Stride:]
		p0, p1, p2, p3 := c[0].plane[y*c[0].stride:], c[1].plane[y*c[1].stride:], c[2].plane[y*c[2].stride:], c[3].plane[y*c[3].stride:]
		for x := range d.w {
			s0, s1, s2 := p0[x], p1[x], p2[x]
			if ycck {
				// libjpeg's ycck_cmyk_convert: CMY = 255 - RGB of the
				// YCbCr triple, with the same tables.
				r, g, b := jpegYCbCrToRGB(s0, s1, s2)
				s0, s1, s2 = 255-r, 255-g, 255-b
			}
			nk := int32(p3[x])
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = conv(int32(s0), nk), conv(int32(s1), nk), conv(int32(s2), nk), 0xff
		}
	}
	return m
}
