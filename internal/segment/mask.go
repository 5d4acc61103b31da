package segment

import (
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// Remap maps the values of a mask file to classes as ReadMask reads them:
// value v becomes Remap[v]. The zero Remap is not the identity: use
// Identity or ParseRemap.
type Remap [256]uint8

// Identity is the Remap that keeps every value.
func Identity() *Remap {
	var r Remap
	for i := range r {
		r[i] = uint8(i)
	}
	return &r
}

// ParseRemap reads comma-separated FROM=TO pairs of values 0 to 255, e.g.
// "0=12,1=0,2=255"; values not named stay as they are. "" is the identity.
func ParseRemap(s string) (*Remap, error) {
	r := Identity()
	if strings.TrimSpace(s) == "" {
		return r, nil
	}
	seen := map[int]bool{}
	for _, pair := range strings.Split(s, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return nil, fmt.Errorf("mask map %q: %q is not FROM=TO (e.g. 0=12,1=0,2=255)", s, pair)
		}
		f, err1 := value(from)
		t, err2 := value(to)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("mask map %q: %w", s, err)
		}
		if seen[f] {
			return nil, fmt.Errorf("mask map %q: value %d is mapped twice", s, f)
		}
		seen[f] = true
		r[f] = uint8(t)
	}
	return r, nil
}

func value(s string) (int, error) {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < 0 || v > 255 {
		return 0, fmt.Errorf("%q is not a mask value 0 to 255", s)
	}
	return v, nil
}

// ReadMask reads a mask file (PNG or BMP; see the package comment) and
// maps its values through r (nil: as they are).
func ReadMask(path string, r *Remap) (Map, error) {
	img, err := preprocess.LoadImage(path)
	if err != nil {
		return Map{}, fmt.Errorf("mask: %w", err)
	}
	if r == nil {
		r = Identity()
	}
	b := img.Bounds()
	m := NewMap(b.Dx(), b.Dy())
	for y := range m.H {
		for x := range m.W {
			var v uint8
			switch img := img.(type) {
			case *image.Paletted:
				v = img.ColorIndexAt(b.Min.X+x, b.Min.Y+y)
			case *image.Gray:
				v = img.GrayAt(b.Min.X+x, b.Min.Y+y).Y
			default:
				cr, cg, cb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				if cr != cg || cg != cb {
					return Map{}, fmt.Errorf("mask %s is a colour image (pixel (%d,%d) is not grey): a mask holds one class index per pixel, as a paletted or greyscale PNG or BMP", path, x, y)
				}
				v = uint8(cr >> 8)
			}
			m.Pix[y*m.W+x] = r[v]
		}
	}
	return m, nil
}

// Pair is a photo and its ground-truth mask.
type Pair struct{ Image, Mask string }

// trailingNumber matches a base name ending in _DIGITS.
var trailingNumber = regexp.MustCompile(`^(.*)(_[0-9]+)$`)

// MaskNames returns the file names, in the order tried, that the mask of
// the photo named base (a file name, any extension) may have: NAME_mask
// then, when NAME ends in _NUMBER, NAME with _mask inserted before it
// (dog_256 -> dog_mask_256), then NAME itself, each with the extension
// .png, then .bmp, then the photo's own if it is neither.
func MaskNames(base string) []string {
	ext := filepath.Ext(base)
	name := strings.TrimSuffix(base, ext)
	stems := []string{name + "_mask"}
	if m := trailingNumber.FindStringSubmatch(name); m != nil {
		stems = append(stems, m[1]+"_mask"+m[2])
	}
	stems = append(stems, name)
	exts := []string{".png", ".bmp"}
	if l := strings.ToLower(ext); l != ".png" && l != ".bmp" || ext != l {
		exts = append(exts, ext)
	}
	var names []string
	for _, s := range stems {
		for _, e := range exts {
			names = append(names, s+e)
		}
	}
	return names
}

// Pairs lists the photos of images (a directory, searched recursively for
// JPEG, PNG, BMP and WebP files, or one image file) with their masks in
// masks: the mask of images/SUB/NAME.EXT is the first of MaskNames(NAME.EXT)
// found in masks/SUB, the photo itself excepted. Files that are another
// photo's mask are not photos (the masks may lie among the photos). Photos
// without a mask are returned apart (VOC's JPEGImages holds more photos
// than SegmentationClass masks); none with a mask is an error. Both lists
// are sorted by photo path.
func Pairs(images, masks string) (pairs []Pair, unmasked []string, err error) {
	st, err := os.Stat(images)
	if err != nil {
		return nil, nil, fmt.Errorf("images: %w", err)
	}
	var files []string
	root := images
	if st.IsDir() {
		if files, err = quant.ListImages(images); err != nil {
			return nil, nil, fmt.Errorf("images: %w", err)
		}
	} else {
		files, root = []string{images}, filepath.Dir(images)
	}
	if mst, err := os.Stat(masks); err != nil {
		return nil, nil, fmt.Errorf("masks: %w", err)
	} else if !mst.IsDir() {
		return nil, nil, fmt.Errorf("masks: %s is not a directory", masks)
	}
	found := make([]string, len(files))
	isMask := map[string]bool{}
	for i, f := range files {
		rel, err := filepath.Rel(root, filepath.Dir(f))
		if err != nil {
			return nil, nil, fmt.Errorf("images: %w", err)
		}
		dir := filepath.Join(masks, rel)
		for _, n := range MaskNames(filepath.Base(f)) {
			p := filepath.Join(dir, n)
			if same(p, f) {
				continue
			}
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				found[i] = p
				isMask[key(p)] = true
				break
			}
		}
	}
	for i, f := range files {
		switch {
		case isMask[key(f)]:
		case found[i] == "":
			unmasked = append(unmasked, f)
		default:
			pairs = append(pairs, Pair{Image: f, Mask: found[i]})
		}
	}
	switch {
	case len(pairs) > 0:
		return pairs, unmasked, nil
	case len(unmasked) > 0:
		f := unmasked[0]
		rel, _ := filepath.Rel(root, filepath.Dir(f))
		return nil, nil, fmt.Errorf("no photo of %s has a mask in %s: for %s, looked for %s", images, masks, f, strings.Join(MaskNames(filepath.Base(f)), ", ")+" in "+filepath.Join(masks, rel))
	}
	return nil, nil, fmt.Errorf("images %s: no JPEG, PNG, BMP or WebP photos", images)
}

// key identifies a file by its cleaned absolute path.
func key(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// same reports whether a and b name the same file.
func same(a, b string) bool {
	if key(a) == key(b) {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
