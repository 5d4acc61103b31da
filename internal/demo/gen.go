package demo

import (
	"fmt"
	"image"
	"math/rand/v2"
)

// Classes names the demo classes; class k of Image and Sample is Classes[k].
var Classes = []string{
	"circle",       // filled disk
	"square",       // filled square, any rotation
	"triangle",     // filled equilateral triangle, any rotation
	"star",         // filled five-pointed star, any rotation
	"ring",         // annulus (inner radius 45-70% of the outer one)
	"cross",        // plus sign, any rotation
	"hstripes",     // horizontal stripes (tilted up to 20 degrees)
	"vstripes",     // vertical stripes (tilted up to 20 degrees)
	"checkerboard", // checkerboard, rotated up to 45 degrees
	"dots",         // regular grid of dots, any rotation
}

const (
	clsCircle = iota
	clsSquare
	clsTriangle
	clsStar
	clsRing
	clsCross
	clsHStripes
	clsVStripes
	clsChecker
	clsDots
)

// MinSize and MaxSize bound the image side accepted by Image.
const (
	MinSize = 32
	MaxSize = 4096
)

// Image draws an image of class (an index into Classes) as a size x size
// opaque RGBA image. The same (class, seed, size) gives the same pixels on
// every platform and Go version: the random numbers come from a PCG-DXSM
// generator seeded with (seed, class), and all drawing is integer arithmetic
// (sines come from a table). It panics if class is out of range or size is
// outside [MinSize, MaxSize].
//
// The image is a background (a linear gradient between two colours of
// random direction, plus a smooth low-frequency brightness field), 0-2 small
// distractor blobs of random colour, the object in a foreground colour whose
// luma differs from the background's by at least 70 levels, and additive
// per-channel noise (standard deviation 0-14 levels). Shapes have a random
// size (circumradius 18-34% of the side), position and rotation; textures
// fill the whole image or a large rectangle with a random period, phase and
// tilt. Everything class-defining lies inside the central 7/8 of the image
// (less a pixel), the part that torchvision's Resize(R*256/224) +
// CenterCrop(R) keeps of a square image. Edges are anti-aliased with 4x4
// supersampling.
func Image(class int, seed uint64, size int) *image.RGBA {
	if class < 0 || class >= len(Classes) {
		panic(fmt.Sprintf("demo: class %d out of range [0, %d)", class, len(Classes)))
	}
	if size < MinSize || size > MaxSize {
		panic(fmt.Sprintf("demo: image size %d out of range [%d, %d]", size, MinSize, MaxSize))
	}
	r := &rng{}
	r.p.Seed(seed, 0x6d6e6364656d6f00|uint64(class))
	c := &canvas{size: size, img: image.NewRGBA(image.Rect(0, 0, size, size))}

	bg := c.background(r)
	c.distractors(r)
	fg := foreground(r, bg)
	c.object(r, class, fg)
	c.noise(r)
	return c.img
}

// Sample returns the i-th image of the dataset identified by seed (i >= 0):
// its class is i % len(Classes), so any len(Classes) consecutive samples hold
// one image per class, and its pixels are Image(class, s, size) with s a
// hash (SplitMix64) of seed and i.
func Sample(i int, seed uint64, size int) (img *image.RGBA, class int) {
	if i < 0 {
		panic(fmt.Sprintf("demo: negative sample index %d", i))
	}
	class = i % len(Classes)
	return Image(class, sampleSeed(seed, i), size), class
}

// sampleSeed is the SplitMix64 output for state seed + (i+1)*golden.
func sampleSeed(seed uint64, i int) uint64 {
	z := seed + 0x9e3779b97f4a7c15*(uint64(i)+1)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// rng draws from a PCG-DXSM source through integer-only helpers (not
// rand.Rand's methods, whose algorithms a Go release may change; the PCG
// output itself is fixed by its definition).
type rng struct{ p rand.PCG }

// intn returns a value in [0, n) for 0 < n <= 1<<31 (multiply-shift of 32
// random bits; the bias is below 2^-32*n, irrelevant here).
func (r *rng) intn(n int) int {
	return int((r.p.Uint64() >> 32) * uint64(n) >> 32)
}

// between returns a value in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// chance reports true with probability pct/100.
func (r *rng) chance(pct int) bool { return r.intn(100) < pct }

type rgb [3]int

// luma is the Rec. 601 luma in 8-bit levels.
func (c rgb) luma() int { return (77*c[0] + 150*c[1] + 29*c[2]) >> 8 }

func randomColor(r *rng) rgb { return rgb{r.intn(256), r.intn(256), r.intn(256)} }

func clamp255(v int) int { return min(max(v, 0), 255) }

// sub is the fixed-point position unit: 1/8 pixel. Subsample (sx, sy) of
// pixel (x, y) is at (8x+2sx+1, 8y+2sy+1), sx, sy in 0..3.
const sub = 8

type canvas struct {
	size int
	img  *image.RGBA
}

// bgInfo is what the foreground colour must contrast with.
type bgInfo struct {
	c0, c1 rgb // gradient end colours
	amp    int // amplitude of the low-frequency field
}

// background fills the image with a gradient from c0 to c1 along a random
// direction plus a bilinearly interpolated 5x5 grid of brightness offsets.
func (c *canvas) background(r *rng) bgInfo {
	c0 := randomColor(r)
	var c1 rgb
	for k := range c1 {
		c1[k] = clamp255(c0[k] + r.between(-48, 48))
	}
	ang := r.intn(360)
	amp := r.intn(25)
	const G = 5
	var field [G][G]int
	for i := range field {
		for j := range field[i] {
			field[i][j] = r.between(-amp, amp)
		}
	}
	n := c.size
	cs, sn := cosDeg(ang), sinDeg(ang)
	// d = ((2x+1-n)*cos + (2y+1-n)*sin) spans at most +-n*sqrt(2)*2^14;
	// t = (d + span) * 256 / (2*span) is in [0, 256].
	span := int64(n) * 23171
	for y := range n {
		fy := (y * (G - 1) * 256) / (n - 1)
		iy := min(fy>>8, G-2)
		wy := fy - iy*256
		row := c.img.Pix[y*c.img.Stride:]
		for x := range n {
			d := int64(2*x+1-n)*cs + int64(2*y+1-n)*sn
			t := int((d + span) * 256 / (2 * span))
			fx := (x * (G - 1) * 256) / (n - 1)
			ix := min(fx>>8, G-2)
			wx := fx - ix*256
			top := field[iy][ix]*(256-wx) + field[iy][ix+1]*wx
			bot := field[iy+1][ix]*(256-wx) + field[iy+1][ix+1]*wx
			off := (top*(256-wy) + bot*wy) >> 16
			for k := range 3 {
				v := c0[k] + ((c1[k]-c0[k])*t)>>8 + off
				row[4*x+k] = uint8(clamp255(v))
			}
			row[4*x+3] = 255
		}
	}
	return bgInfo{c0, c1, amp}
}

// foreground draws a colour whose luma differs by at least 70 + amp from
// both gradient ends; after 64 failed draws it takes black or white,
// whichever contrasts more.
func foreground(r *rng, bg bgInfo) rgb {
	need := 70 + bg.amp
	l0, l1 := bg.c0.luma(), bg.c1.luma()
	for range 64 {
		f := randomColor(r)
		l := f.luma()
		if abs(l-l0) >= need && abs(l-l1) >= need {
			return f
		}
	}
	if l0+l1 > 255 {
		return rgb{0, 0, 0}
	}
	return rgb{255, 255, 255}
}

// distractors draws, in 35% of images, one or two small axis-aligned
// ellipses (radii 3-7% of the side) of random colour anywhere in the image,
// behind the object.
func (c *canvas) distractors(r *rng) {
	if !r.chance(35) {
		return
	}
	for range r.between(1, 2) {
		col := randomColor(r)
		rx := int64(c.size * sub * r.between(30, 70) / 1000)
		ry := int64(c.size * sub * r.between(30, 70) / 1000)
		cx := int64(r.intn(c.size * sub))
		cy := int64(r.intn(c.size * sub))
		rr := rx * rx * ry * ry
		box := bbox{cx - rx - sub, cy - ry - sub, cx + rx + sub, cy + ry + sub}
		c.fill(box, col, func(X, Y int64) bool {
			dx, dy := X-cx, Y-cy
			return dx*dx*ry*ry+dy*dy*rx*rx <= rr
		})
	}
}

// bbox is a box in sub-pixel units (inclusive).
type bbox struct{ x0, y0, x1, y1 int64 }

// fill blends col over the pixels of box by the fraction of their 16
// subsamples for which inside holds.
func (c *canvas) fill(box bbox, col rgb, inside func(X, Y int64) bool) {
	n := c.size
	px0 := max(0, int(box.x0/sub)-1)
	py0 := max(0, int(box.y0/sub)-1)
	px1 := min(n-1, int(box.x1/sub)+1)
	py1 := min(n-1, int(box.y1/sub)+1)
	for y := py0; y <= py1; y++ {
		row := c.img.Pix[y*c.img.Stride:]
		for x := px0; x <= px1; x++ {
			cov := 0
			for sy := range int64(4) {
				Y := int64(sub*y) + 2*sy + 1
				for sx := range int64(4) {
					if inside(int64(sub*x)+2*sx+1, Y) {
						cov++
					}
				}
			}
			if cov == 0 {
				continue
			}
			for k := range 3 {
				b := int(row[4*x+k])
				row[4*x+k] = uint8((b*(16-cov) + col[k]*cov + 8) >> 4)
			}
		}
	}
}

// object draws the class-defining content in colour fg.
func (c *canvas) object(r *rng, class int, fg rgb) {
	S := int64(c.size * sub)
	// The safe area: the central 7/8 of the image, less one pixel.
	lo := S/16 + sub
	hi := S - lo
	switch class {
	case clsHStripes, clsVStripes, clsChecker, clsDots:
		c.texture(r, class, fg, lo, hi)
		return
	}
	R := min(S*int64(r.between(180, 340))/1000, (hi-lo)/2)
	cx := int64(r.between(int(lo+R), int(hi-R)))
	cy := int64(r.between(int(lo+R), int(hi-R)))
	ang := r.intn(360)
	cs, sn := cosDeg(ang), sinDeg(ang)
	// rot maps an image position to the object's frame (sub-pixel units).
	rot := func(X, Y int64) (u, v int64) {
		dx, dy := X-cx, Y-cy
		return (dx*cs + dy*sn) >> 14, (dy*cs - dx*sn) >> 14
	}
	var inside func(u, v int64) bool
	switch class {
	case clsCircle:
		inside = func(u, v int64) bool { return u*u+v*v <= R*R }
	case clsRing:
		ri := R * int64(r.between(45, 70)) / 100
		inside = func(u, v int64) bool { d := u*u + v*v; return d <= R*R && d >= ri*ri }
	case clsSquare:
		h := R * 70 / 100
		inside = func(u, v int64) bool { return abs64(u) <= h && abs64(v) <= h }
	case clsCross:
		l, w := R*90/100, R*28/100
		inside = func(u, v int64) bool {
			au, av := abs64(u), abs64(v)
			return (au <= w && av <= l) || (au <= l && av <= w)
		}
	case clsTriangle:
		// Three half-planes with inward normals at 90, 210, 330 degrees
		// and inradius R/2: circumradius R.
		d := (R / 2) << 14
		inside = func(u, v int64) bool {
			for k := range 3 {
				a := 90 + 120*k
				if u*cosDeg(a)+v*sinDeg(a) > d {
					return false
				}
			}
			return true
		}
	case clsStar:
		// The five lines through the tips of a pentagram with
		// circumradius R have normals at the tip directions (90+72k
		// degrees) and distance R*cos(72); the filled star is the set of
		// points on the inner side of at least four of them.
		d := R * sinDeg(18)
		inside = func(u, v int64) bool {
			in := 0
			for k := range 5 {
				a := 90 + 72*k
				if u*cosDeg(a)+v*sinDeg(a) <= d {
					in++
				}
			}
			return in >= 4
		}
	}
	box := bbox{cx - R - sub, cy - R - sub, cx + R + sub, cy + R + sub}
	c.fill(box, fg, func(X, Y int64) bool { return inside(rot(X, Y)) })
}

// texture fills the whole image (40%) or a rectangle of half-sides 28-43%
// of the side inside the safe area [lo, hi] with a pattern in fg.
func (c *canvas) texture(r *rng, class int, fg rgb, lo, hi int64) {
	S := int64(c.size * sub)
	box := bbox{0, 0, S - 1, S - 1}
	if !r.chance(40) {
		hw := S * int64(r.between(280, 430)) / 1000
		hh := S * int64(r.between(280, 430)) / 1000
		hw, hh = min(hw, (hi-lo)/2), min(hh, (hi-lo)/2)
		cx := int64(r.between(int(lo+hw), int(hi-hw)))
		cy := int64(r.between(int(lo+hh), int(hi-hh)))
		box = bbox{cx - hw, cy - hh, cx + hw, cy + hh}
	}
	var ang int
	switch class {
	case clsHStripes, clsVStripes:
		ang = r.between(-20, 20)
	case clsChecker:
		ang = r.between(-45, 45)
	default:
		ang = r.intn(360)
	}
	cs, sn := cosDeg(ang), sinDeg(ang)
	ox, oy := S/2, S/2
	var pattern func(u, v int64) bool
	switch class {
	case clsHStripes, clsVStripes:
		period := S * int64(r.between(70, 140)) / 1000
		on := period * int64(r.between(35, 65)) / 100
		phase := int64(r.intn(int(period)))
		vertical := class == clsVStripes
		pattern = func(u, v int64) bool {
			if vertical {
				v = u
			}
			return mod64(v+phase, period) < on
		}
	case clsChecker:
		cell := S * int64(r.between(60, 120)) / 1000
		pu, pv := int64(r.intn(int(cell))), int64(r.intn(int(cell)))
		pattern = func(u, v int64) bool {
			return (floorDiv64(u+pu, cell)+floorDiv64(v+pv, cell))&1 == 0
		}
	case clsDots:
		pitch := S * int64(r.between(100, 160)) / 1000
		rad := pitch * int64(r.between(25, 38)) / 100
		pu, pv := int64(r.intn(int(pitch))), int64(r.intn(int(pitch)))
		pattern = func(u, v int64) bool {
			du := mod64(u+pu, pitch) - pitch/2
			dv := mod64(v+pv, pitch) - pitch/2
			return du*du+dv*dv <= rad*rad
		}
	}
	c.fill(box, fg, func(X, Y int64) bool {
		if X < box.x0 || X > box.x1 || Y < box.y0 || Y > box.y1 {
			return false
		}
		dx, dy := X-ox, Y-oy
		return pattern((dx*cs+dy*sn)>>14, (dy*cs-dx*sn)>>14)
	})
}

// noise adds to every channel of every pixel an approximately Gaussian
// value (a scaled sum of four uniform bytes) with a standard deviation of
// sigma levels, sigma drawn in [0, 14].
func (c *canvas) noise(r *rng) {
	sigma := r.intn(15)
	if sigma == 0 {
		return
	}
	n := c.size
	for y := range n {
		row := c.img.Pix[y*c.img.Stride:]
		for x := range n {
			a, b := r.p.Uint64(), r.p.Uint64()
			words := [3]uint64{a, a >> 32, b}
			for k := range 3 {
				w := words[k]
				s := int(w&255) + int(w>>8&255) + int(w>>16&255) + int(w>>24&255) - 510
				// The sum of four uniform bytes has standard
				// deviation 147.8.
				row[4*x+k] = uint8(clamp255(int(row[4*x+k]) + s*sigma/148))
			}
		}
	}
}

// sinTable[k] is round(sin(k degrees) * 2^14) for k = 0..90.
var sinTable = [91]int64{
	0, 286, 572, 857, 1143, 1428, 1713, 1997, 2280, 2563,
	2845, 3126, 3406, 3686, 3964, 4240, 4516, 4790, 5063, 5334,
	5604, 5872, 6138, 6402, 6664, 6924, 7182, 7438, 7692, 7943,
	8192, 8438, 8682, 8923, 9162, 9397, 9630, 9860, 10087, 10311,
	10531, 10749, 10963, 11174, 11381, 11585, 11786, 11982, 12176, 12365,
	12551, 12733, 12911, 13085, 13255, 13421, 13583, 13741, 13894, 14044,
	14189, 14330, 14466, 14598, 14726, 14849, 14968, 15082, 15191, 15296,
	15396, 15491, 15582, 15668, 15749, 15826, 15897, 15964, 16026, 16083,
	16135, 16182, 16225, 16262, 16294, 16322, 16344, 16362, 16374, 16382,
	16384,
}

// sinDeg returns sin(a degrees) * 2^14, rounded, for any integer a.
func sinDeg(a int) int64 {
	a %= 360
	if a < 0 {
		a += 360
	}
	switch {
	case a <= 90:
		return sinTable[a]
	case a <= 180:
		return sinTable[180-a]
	case a <= 270:
		return -sinTable[a-180]
	default:
		return -sinTable[360-a]
	}
}

// cosDeg returns cos(a degrees) * 2^14, rounded.
func cosDeg(a int) int64 { return sinDeg(a + 90) }

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// floorDiv64 is a/b rounded toward minus infinity (b > 0).
func floorDiv64(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// mod64 is a mod b in [0, b) (b > 0).
func mod64(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
