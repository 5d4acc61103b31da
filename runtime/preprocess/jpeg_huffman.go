package preprocess

import (
	"errors"
	"fmt"
)

// Entropy decoding of Huffman-coded JPEG scans, following libjpeg's
// jdhuff.c (sequential) and jdphuff.c (progressive) semantics: coefficients
// are stored as 16-bit values, a marker met inside entropy-coded data ends
// the data and the decoder reads zero bits from there on (libjpeg warns and
// does the same), and run lengths past the end of a block land on its last
// coefficient.

const huffLookBits = 9

// huffTable is a decoding table built from a DHT segment.
type huffTable struct {
	defined bool
	// lut maps the next huffLookBits bits to length<<8 | symbol for codes
	// of at most huffLookBits bits, or to 0.
	lut [1 << huffLookBits]uint16
	// maxcode[l] is the largest code of length l (-1 if none), valptr[l]
	// the index in vals of the first code of length l, mincode[l] that
	// code.
	maxcode [17]int32
	mincode [17]int32
	valptr  [17]int32
	vals    [256]uint8
}

// build fills t from the code counts per length (counts[i] codes of length
// i+1) and the symbols, checking them like libjpeg's
// jpeg_make_d_derived_tbl.
func (t *huffTable) build(counts *[16]uint8, vals []uint8, isDC bool) error {
	*t = huffTable{}
	total := 0
	for _, c := range counts {
		total += int(c)
	}
	if total > 256 || total != len(vals) {
		return fmt.Errorf("bad Huffman table: %d symbols", total)
	}
	copy(t.vals[:], vals)
	if isDC {
		for _, v := range vals {
			if v > 15 {
				return fmt.Errorf("bad Huffman table: DC symbol %d", v)
			}
		}
	}
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l-1])
		t.maxcode[l] = -1
		if n > 0 {
			t.valptr[l] = k
			t.mincode[l] = code
			code += n
			k += n
			t.maxcode[l] = code - 1
			// Codes of length l must fit in l bits, and none may be
			// all ones.
			if code >= 1<<l {
				return errors.New("bad Huffman table: code lengths overflow")
			}
			if l <= huffLookBits {
				for c := t.mincode[l]; c <= t.maxcode[l]; c++ {
					sym := uint16(t.vals[uint8(t.valptr[l]+c-t.mincode[l])])
					lo := c << (huffLookBits - l)
					for j := int32(0); j < 1<<(huffLookBits-l); j++ {
						t.lut[lo+j] = uint16(l)<<8 | sym
					}
				}
			}
		}
		code <<= 1
	}
	t.defined = true
	return nil
}

// bitReader reads the entropy-coded bits of a scan from data, MSB first,
// removing stuffed zero bytes.
type bitReader struct {
	data  []byte
	pos   int    // next byte to read
	acc   uint64 // bits, left-aligned
	n     uint   // number of valid bits in acc
	stop  bool   // met a marker or the end of data: read zeros from now on
	atEOF bool   // the data ended without a marker
}

// fill tops acc up to at least 57 bits.
func (br *bitReader) fill() {
	// Fast path: 8 bytes without 0xFF.
	if !br.stop && br.n <= 56 && br.pos+8 <= len(br.data) {
		b := br.data[br.pos : br.pos+8 : br.pos+8]
		for br.n <= 56 {
			c := b[0]
			if c == 0xff {
				break
			}
			br.acc |= uint64(c) << (56 - br.n)
			br.n += 8
			br.pos++
			b = b[1:]
		}
	}
	for br.n <= 56 {
		var c byte
		if !br.stop {
			if br.pos >= len(br.data) {
				br.stop, br.atEOF = true, true
			} else if c = br.data[br.pos]; c != 0xff {
				br.pos++
			} else {
				// 0xFF: fill bytes 0xFF may repeat; 0xFF 0x00 is a
				// data byte 0xFF, anything else a marker.
				p := br.pos + 1
				for p < len(br.data) && br.data[p] == 0xff {
					p++
				}
				switch {
				case p >= len(br.data):
					br.stop, br.atEOF = true, true
					c = 0
				case br.data[p] == 0:
					br.pos = p + 1
				default:
					br.stop = true // leave pos on the marker
					c = 0
				}
			}
		}
		br.acc |= uint64(c) << (56 - br.n)
		br.n += 8
	}
}

func (br *bitReader) reset(data []byte, pos int) {
	*br = bitReader{data: data, pos: pos}
}

// bits reads n <= 16 bits.
func (br *bitReader) bits(n uint) int32 {
	if n == 0 {
		return 0
	}
	if br.n < n {
		br.fill()
	}
	v := int32(br.acc >> (64 - n))
	br.acc <<= n
	br.n -= n
	return v
}

func (br *bitReader) bit() bool {
	if br.n == 0 {
		br.fill()
	}
	v := br.acc>>63 != 0
	br.acc <<= 1
	br.n--
	return v
}

var errBadHuffCode = errors.New("corrupt entropy-coded data: bad Huffman code")

// decode reads one Huffman-coded symbol.
func (br *bitReader) decode(t *huffTable) (uint8, error) {
	if br.n < 16 {
		br.fill()
	}
	if e := t.lut[br.acc>>(64-huffLookBits)]; e != 0 {
		l := uint(e >> 8)
		br.acc <<= l
		br.n -= l
		return uint8(e), nil
	}
	for l := uint(huffLookBits + 1); l <= 16; l++ {
		code := int32(br.acc >> (64 - l))
		if code <= t.maxcode[l] {
			br.acc <<= l
			br.n -= l
			return t.vals[uint8(t.valptr[l]+code-t.mincode[l])], nil
		}
	}
	return 0, errBadHuffCode
}

// extend turns the s-bit magnitude category value v into a signed value
// (HUFF_EXTEND).
func extend(v int32, s uint8) int32 {
	if s == 0 {
		return 0
	}
	if v < 1<<(s-1) {
		return v + (-1 << s) + 1
	}
	return v
}

// zigzag maps the coding order to natural order; the 16 entries past 63
// catch runs beyond the end of a block like libjpeg's jpeg_natural_order.
var zigzag = [80]uint8{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
}

// decodeBlock decodes a sequential block into blk (which must be zero),
// updating the DC predictor; it reports whether any AC coefficient is
// nonzero. Like libjpeg it decodes all 63 AC coefficients whatever the
// scan's spectral selection says.
func (br *bitReader) decodeBlock(blk *[64]int16, pred *int32, dc, ac *huffTable) (bool, error) {
	s, err := br.decode(dc)
	if err != nil {
		return false, err
	}
	*pred += extend(br.bits(uint(s)), s)
	blk[0] = int16(*pred)
	nz := false
	for k := 1; k < 64; k++ {
		rs, err := br.decode(ac)
		if err != nil {
			return false, err
		}
		r, s := int(rs>>4), rs&15
		if s == 0 {
			if r != 15 {
				break
			}
			k += 15
			continue
		}
		k += r
		if br.n < 16 {
			br.fill()
		}
		v := int32(br.acc >> (64 - uint(s)))
		br.acc <<= s
		br.n -= uint(s)
		if c := extend(v, s); c != 0 {
			blk[zigzag[k]] = int16(c)
			nz = true
		}
	}
	return nz, nil
}

// progressive scan state shared by the block decoders.
type progScan struct {
	ss, se, ah, al int
	eobrun         int
}

func (br *bitReader) decodeDCFirst(blk *[64]int16, pred *int32, dc *huffTable, al int) error {
	s, err := br.decode(dc)
	if err != nil {
		return err
	}
	*pred += extend(br.bits(uint(s)), s)
	blk[0] = int16(*pred << al)
	return nil
}

func (br *bitReader) decodeDCRefine(blk *[64]int16, al int) {
	if br.bit() {
		blk[0] |= int16(1 << al)
	}
}

func (br *bitReader) decodeACFirst(blk *[64]int16, ac *huffTable, p *progScan) error {
	if p.eobrun > 0 {
		p.eobrun--
		return nil
	}
	for k := p.ss; k <= p.se; k++ {
		rs, err := br.decode(ac)
		if err != nil {
			return err
		}
		r, s := int(rs>>4), rs&15
		if s != 0 {
			k += r
			v := extend(br.bits(uint(s)), s)
			blk[zigzag[k]] = int16(v << p.al)
			continue
		}
		if r != 15 {
			p.eobrun = 1<<r - 1
			if r > 0 {
				p.eobrun += int(br.bits(uint(r)))
			}
			break
		}
		k += 15
	}
	return nil
}

func (br *bitReader) decodeACRefine(blk *[64]int16, ac *huffTable, p *progScan) error {
	p1 := int16(1 << p.al)
	m1 := int16(-1 << p.al)
	refine := func(c *int16) {
		if br.bit() && *c&p1 == 0 {
			if *c >= 0 {
				*c += p1
			} else {
				*c += m1
			}
		}
	}
	k := p.ss
	if p.eobrun == 0 {
		for ; k <= p.se; k++ {
			rs, err := br.decode(ac)
			if err != nil {
				return err
			}
			r, s := int(rs>>4), int16(rs&15)
			if s != 0 {
				// libjpeg accepts any size here as 1.
				if br.bit() {
					s = p1
				} else {
					s = m1
				}
			} else if r != 15 {
				p.eobrun = 1 << r
				if r > 0 {
					p.eobrun += int(br.bits(uint(r)))
				}
				break
			}
			// Skip r zero coefficients, refining the nonzero ones met.
			for ; k <= p.se; k++ {
				c := &blk[zigzag[k]]
				if *c != 0 {
					refine(c)
				} else {
					if r == 0 {
						break
					}
					r--
				}
			}
			if s != 0 {
				blk[zigzag[k]] = s
			}
		}
	}
	if p.eobrun > 0 {
		for ; k <= p.se; k++ {
			if c := &blk[zigzag[k]]; *c != 0 {
				refine(c)
			}
		}
		p.eobrun--
	}
	return nil
}
