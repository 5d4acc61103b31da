package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	npyio "github.com/sbinet/npyio/npy"

	"github.com/mncdev/mnc/runtime/limits"
)

// Array is a float32 array in C order.
type Array struct {
	Shape []int
	Data  []float32
}

const (
	// maxHeaderLen bounds the header dictionary. numpy itself refuses headers
	// over 10000 bytes by default; real float arrays need about 120.
	maxHeaderLen = 1 << 16
	// maxDims matches numpy 2's NPY_MAXDIMS.
	maxDims = 64
	// maxBytes bounds the data size the header may announce; it only guards
	// integer overflow, as the data is read incrementally and a short file is
	// detected before anything of the announced size is allocated.
	maxBytes = math.MaxInt / 8
)

var (
	float32Type = reflect.TypeOf(float32(0))
	float64Type = reflect.TypeOf(float64(0))
)

const recoveredPanic = "malformed header (decoder panic)"

// Header is what a .npy file's header says about its array.
type Header struct {
	Shape []int
	DType string // "float32" or "float64" (converted to float32 when read)
	// Size is the file's size the header implies: preamble, header and
	// data.
	Size int64

	elemSize  int64
	bigEndian bool
	n         int // elements
}

// Read reads one .npy array from r. It accepts float32 and float64 data in
// either byte order (float64 is converted to float32), format versions 1.0
// and 2.0, and C order (Fortran order only when it is the same layout, i.e.
// at most one dimension exceeds 1). It reads exactly the array's bytes from
// r, so several arrays saved back to back can be read in turn. Memory grows
// with the data actually read, whatever the header announces.
func Read(r io.Reader) (*Array, error) {
	h, err := readHeaderOf(r)
	if err != nil {
		return nil, err
	}
	return readData(r, h, false)
}

// readHeaderOf reads and validates the preamble and header of the array at
// the start of r.
func readHeaderOf(r io.Reader) (h *Header, err error) {
	// npyio slices the header dictionary without bounds checks; the header is
	// pre-validated below, and this is the last line of defence.
	defer func() {
		if p := recover(); p != nil {
			h, err = nil, fmt.Errorf("npy: %s: %v", recoveredPanic, p)
		}
	}()

	pre, hdr, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	rr, err := npyio.NewReader(io.MultiReader(bytes.NewReader(pre), bytes.NewReader(hdr)))
	if err != nil {
		return nil, fmt.Errorf("npy: bad header: %w", err)
	}
	d := rr.Header.Descr

	// Validate what npyio parsed.
	rt := npyio.TypeFrom(d.Type)
	out := &Header{bigEndian: strings.HasPrefix(d.Type, ">")}
	switch rt {
	case float32Type:
		out.elemSize, out.DType = 4, "float32"
	case float64Type:
		out.elemSize, out.DType = 8, "float64"
	default:
		return nil, unsupportedDtype(d.Type, rt)
	}
	shape := d.Shape
	if err := checkShapeText(hdr, shape); err != nil {
		return nil, err
	}
	n, err := numElems(shape)
	if err != nil {
		return nil, err
	}
	if d.Fortran && !fortranIsC(shape) {
		return nil, fmt.Errorf("npy: array of shape %s is stored in Fortran order, which is not supported; save it with np.save(path, np.ascontiguousarray(a))", shapeString(shape))
	}
	if int64(n) > maxBytes/out.elemSize {
		return nil, fmt.Errorf("npy: shape %s is too large", shapeString(shape))
	}
	out.Shape = append([]int{}, shape...)
	out.n = n
	out.Size = int64(len(pre)+len(hdr)) + int64(n)*out.elemSize
	return out, nil
}

// readData reads the data of the array h describes from r (positioned
// after the header), converting it to float32 in chunks: nothing of the
// announced size is allocated up front unless present says the data is
// known to be there (a file of the right size).
func readData(r io.Reader, h *Header, present bool) (*Array, error) {
	const chunk = 64 << 10
	out := &Array{Shape: h.Shape}
	if present {
		out.Data = make([]float32, 0, h.n)
	} else {
		out.Data = make([]float32, 0, min(h.n, chunk))
	}
	buf := make([]byte, chunk)
	order := binary.ByteOrder(binary.LittleEndian)
	if h.bigEndian {
		order = binary.BigEndian
	}
	nbytes := int64(h.n) * h.elemSize
	for done := int64(0); done < nbytes; {
		b := buf[:min(int64(len(buf)), nbytes-done)]
		if _, err := io.ReadFull(r, b); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("npy: truncated data: the header announces %d bytes for shape %s %s, the input ends before", nbytes, shapeString(h.Shape), h.DType)
			}
			return nil, fmt.Errorf("npy: reading data: %w", err)
		}
		done += int64(len(b))
		if h.elemSize == 4 {
			for i := 0; i < len(b); i += 4 {
				out.Data = append(out.Data, math.Float32frombits(order.Uint32(b[i:])))
			}
		} else {
			for i := 0; i < len(b); i += 8 {
				out.Data = append(out.Data, float32(math.Float64frombits(order.Uint64(b[i:]))))
			}
		}
	}
	return out, nil
}

// readHeader reads the preamble (magic, version, header length) and the
// header dictionary, returning both as raw bytes after checking that the
// header is bounded, ASCII and newline terminated.
func readHeader(r io.Reader) (pre, hdr []byte, err error) {
	pre = make([]byte, 8, 12)
	if _, err := io.ReadFull(r, pre); err != nil {
		if err == io.EOF {
			return nil, nil, errors.New("npy: empty input, not a .npy file")
		}
		return nil, nil, fmt.Errorf("npy: truncated preamble: %w", err)
	}
	if !bytes.Equal(pre[:6], npyio.Magic[:]) {
		if bytes.HasPrefix(pre, []byte("PK\x03\x04")) {
			return nil, nil, errors.New("npy: this is a zip archive (.npz?), not a .npy file")
		}
		return nil, nil, fmt.Errorf("npy: not a .npy file (bad magic %q)", pre[:6])
	}
	var hlen int
	switch major := pre[6]; major {
	case 1:
		pre = pre[:10]
		if _, err := io.ReadFull(r, pre[8:]); err != nil {
			return nil, nil, fmt.Errorf("npy: truncated preamble: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint16(pre[8:]))
	case 2:
		pre = pre[:12]
		if _, err := io.ReadFull(r, pre[8:]); err != nil {
			return nil, nil, fmt.Errorf("npy: truncated preamble: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint32(pre[8:]))
	default:
		return nil, nil, fmt.Errorf("npy: unsupported format version %d.%d (want 1.0 or 2.0)", major, pre[7])
	}
	if hlen > maxHeaderLen {
		return nil, nil, fmt.Errorf("npy: header length %d exceeds the limit of %d bytes", hlen, maxHeaderLen)
	}
	hdr = make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, nil, fmt.Errorf("npy: truncated header (%d bytes announced): %w", hlen, noEOF(err))
	}
	if hlen == 0 || hdr[hlen-1] != '\n' {
		return nil, nil, errors.New("npy: malformed header: not newline terminated")
	}
	for _, c := range hdr[:hlen-1] {
		if c < 0x20 || c > 0x7e {
			return nil, nil, fmt.Errorf("npy: malformed header: unexpected byte %#02x", c)
		}
	}
	// Check the layout npyio's parser relies on (numpy writes the keys in
	// this order): the dictionary is {'descr': ..., 'fortran_order': ...,
	// 'shape': (...), }.
	s := string(hdr)
	iDescr := strings.Index(s, "'descr': '")
	iOrder := strings.Index(s, "'fortran_order': ")
	iShape := strings.Index(s, "'shape': (")
	iEnd := strings.Index(s, "}")
	if !(strings.HasPrefix(strings.TrimLeft(s, " "), "{") && iDescr >= 0 && iDescr+12 < iOrder && iOrder+19 < iShape && iShape+12 < iEnd) {
		return nil, nil, fmt.Errorf("npy: malformed or unsupported header %q", strings.TrimRight(s, " \n"))
	}
	return pre, hdr, nil
}

// checkShapeText cross-checks the shape npyio parsed against the header text,
// which npyio parses leniently (it would read "(,)" as a 0-d shape).
func checkShapeText(hdr []byte, shape []int) error {
	s := string(hdr)
	i := strings.Index(s, "'shape': (") + len("'shape': ")
	j := strings.IndexByte(s[i:], ')')
	if j < 0 {
		return fmt.Errorf("npy: malformed shape in header %q", strings.TrimRight(s, " \n"))
	}
	text := strings.Join(strings.Fields(s[i:i+j+1]), "")
	want := shapeString(shape)
	want = strings.ReplaceAll(want, " ", "")
	if text != want && text != strings.TrimSuffix(want, ")")+",)" {
		return fmt.Errorf("npy: malformed shape %s in header", s[i:i+j+1])
	}
	if len(shape) > maxDims {
		return fmt.Errorf("npy: %d dimensions exceed the limit of %d", len(shape), maxDims)
	}
	return nil
}

// numElems returns the product of shape, refusing negative dimensions and
// overflow.
func numElems(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("npy: negative dimension in shape %s", shapeString(shape))
		}
	}
	for _, d := range shape {
		if d == 0 {
			return 0, nil
		}
	}
	for _, d := range shape {
		if n > maxBytes/d {
			return 0, fmt.Errorf("npy: shape %s is too large", shapeString(shape))
		}
		n *= d
	}
	return n, nil
}

// fortranIsC reports whether Fortran and C order describe the same layout.
func fortranIsC(shape []int) bool {
	big := 0
	for _, d := range shape {
		if d > 1 {
			big++
		}
	}
	return big <= 1
}

func unsupportedDtype(descr string, rt reflect.Type) error {
	name := ""
	switch {
	case rt != nil:
		name = " (" + rt.String() + ")"
	case strings.TrimLeft(descr, "<>|=") == "f2":
		name = " (float16, which npyio cannot decode; convert with a.astype(np.float32))"
	}
	return fmt.Errorf("npy: unsupported dtype %q%s: only float32 and float64 arrays can be read", descr, name)
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadHeader reads the header of the .npy file at path, without its data,
// and checks it against the file: the size the header implies must be the
// file's (no truncated or trailing data) and the array, as float32, must
// fit in limits.TensorFile. It is what to compare with a model's input
// before reading the data.
func ReadHeader(path string) (*Header, error) {
	f, h, err := openChecked(path)
	if err != nil {
		return nil, err
	}
	f.Close()
	return h, nil
}

// openChecked opens path, reads its header and checks it (see ReadHeader),
// returning the file positioned at the data.
func openChecked(path string) (io.ReadCloser, *Header, error) {
	f, st, err := limits.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, fmt.Errorf("read npy %s: %w", path, err)
	}
	br := bufio.NewReaderSize(f, 1<<16)
	h, err := readHeaderOf(br)
	if err == nil {
		switch size := st.Size(); {
		case size < h.Size:
			err = fmt.Errorf("npy: truncated data: shape %s %s needs a file of %d bytes, the file has %d", shapeString(h.Shape), h.DType, h.Size, size)
		case size > h.Size:
			err = fmt.Errorf("npy: %d bytes of trailing data after the %s array", size-h.Size, shapeString(h.Shape))
		case int64(h.n) > limits.TensorFile/4:
			err = fmt.Errorf("npy: the %s array needs %s as float32; the limit is %s", shapeString(h.Shape), limits.Bytes(4*int64(h.n)), limits.Bytes(limits.TensorFile))
		}
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("read npy %s: %w", path, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{br, f}, h, nil
}

// ReadFile reads a .npy file holding a single array, checked as ReadHeader
// does before any data is read: unlike Read it refuses trailing bytes after
// the array, which indicate a corrupt file or several concatenated arrays.
func ReadFile(path string) (*Array, error) {
	f, h, err := openChecked(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := readData(f, h, true)
	if err != nil {
		return nil, fmt.Errorf("read npy %s: %w", path, err)
	}
	return a, nil
}

// shapeString formats shape like Python's tuple repr: (), (3,), (2, 3).
func shapeString(shape []int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

// header returns the complete version 1.0 preamble and header for a '<f4'
// C-order array of the given shape, padded exactly like numpy >= 1.24 does
// (including the spare room it reserves for growing the first axis), so that
// the output is byte-identical to numpy.save.
func header(shape []int) ([]byte, error) {
	const growthAxisMaxDigits = 21
	d := "{'descr': '<f4', 'fortran_order': False, 'shape': " + shapeString(shape) + ", }"
	if len(shape) > 0 {
		if pad := growthAxisMaxDigits - len(strconv.Itoa(shape[0])); pad > 0 {
			d += strings.Repeat(" ", pad)
		}
	}
	hlen := len(d) + 1
	pad := 64 - (10+hlen)%64
	hlen += pad
	if hlen > math.MaxUint16 {
		return nil, fmt.Errorf("npy: header for shape %s too long for format 1.0", shapeString(shape))
	}
	b := make([]byte, 0, 10+hlen)
	b = append(b, npyio.Magic[:]...)
	b = append(b, 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(hlen))
	b = append(b, d...)
	b = append(b, bytes.Repeat([]byte{' '}, pad)...)
	b = append(b, '\n')
	return b, nil
}

// Write writes a as a NumPy .npy file: format version 1.0, dtype '<f4', C
// order. The header is written here because npyio can only write 1-d
// arrays, in format 2.0.
func Write(w io.Writer, a *Array) error {
	if a == nil {
		return errors.New("npy: nil array")
	}
	if len(a.Shape) > maxDims {
		return fmt.Errorf("npy: %d dimensions exceed the limit of %d", len(a.Shape), maxDims)
	}
	n, err := numElems(a.Shape)
	if err != nil {
		return err
	}
	if n != len(a.Data) {
		return fmt.Errorf("npy: shape %s needs %d elements, data has %d", shapeString(a.Shape), n, len(a.Data))
	}
	hdr, err := header(a.Shape)
	if err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	const chunk = 4096
	buf := make([]byte, 0, 4*chunk)
	for i := 0; i < len(a.Data); i += chunk {
		buf = buf[:0]
		for _, v := range a.Data[i:min(i+chunk, len(a.Data))] {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes a to path atomically: it writes a temporary file in the
// same directory, syncs it and renames it over path. On failure path is left
// untouched and the temporary file is removed.
func WriteFile(path string, a *Array) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("write npy %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("write npy %s: %w", path, err)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err = Write(bw, a); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
