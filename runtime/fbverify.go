package runtime

import (
	"encoding/binary"
	"fmt"

	"github.com/mncdev/mnc/runtime/limits"
)

// The structural verifier: before any generated accessor of runtime/mncfb
// touches a file, every table, vtable, field, string and vector reachable
// from the root is checked to lie inside the file (the FlatBuffers Go
// library has no verifier, and its accessors index the bytes unchecked).
// The schema is restated here as data, in the field order of
// runtime/mncfb/mnc.fbs; TestSchemaSpecMatchesFBS checks the two agree.

type fieldKind uint8

const (
	kScalar    fieldKind = iota // size bytes inline
	kString                     // offset to a string
	kVector                     // offset to a vector of size-byte scalars
	kVecString                  // offset to a vector of offsets to strings
	kVecTable                   // offset to a vector of offsets to tables
	kTable                      // offset to a table
	kUnionType                  // the ubyte type field of a union
	kUnion                      // offset to the table of the union member given by the previous field
)

type fieldSpec struct {
	name  string
	kind  fieldKind
	size  int          // kScalar, kVector: element size
	table *tableSpec   // kTable, kVecTable
	union []*tableSpec // kUnion: member tables, type 1 first
}

type tableSpec struct {
	name   string
	fields []fieldSpec
}

func scalar(name string, size int) fieldSpec { return fieldSpec{name: name, kind: kScalar, size: size} }
func str(name string) fieldSpec              { return fieldSpec{name: name, kind: kString} }
func vec(name string, size int) fieldSpec    { return fieldSpec{name: name, kind: kVector, size: size} }
func tab(name string, t *tableSpec) fieldSpec {
	return fieldSpec{name: name, kind: kTable, table: t}
}
func vecTab(name string, t *tableSpec) fieldSpec {
	return fieldSpec{name: name, kind: kVecTable, table: t}
}

var (
	specQuantization = &tableSpec{"Quantization", []fieldSpec{vec("scale", 4), vec("zero_point", 4), scalar("axis", 4)}}
	specTensor       = &tableSpec{"Tensor", []fieldSpec{str("name"), scalar("dtype", 1), vec("shape", 4),
		scalar("buffer", 4), tab("quantization", specQuantization)}}
	specBuffer       = &tableSpec{"Buffer", []fieldSpec{vec("data", 1)}}
	specOperatorCode = &tableSpec{"OperatorCode", []fieldSpec{scalar("builtin_code", 4), scalar("version", 4)}}
	specActivation   = &tableSpec{"Activation", []fieldSpec{scalar("kind", 1), scalar("min", 4), scalar("max", 4),
		scalar("alpha", 4), scalar("beta", 4)}}
	specConv2D = &tableSpec{"Conv2DOptions", []fieldSpec{scalar("stride_h", 4), scalar("stride_w", 4),
		scalar("dilation_h", 4), scalar("dilation_w", 4), scalar("pad_top", 4), scalar("pad_left", 4),
		scalar("pad_bottom", 4), scalar("pad_right", 4), scalar("groups", 4), tab("activation", specActivation),
		scalar("weight_layout", 1)}}
	specFullyConnected = &tableSpec{"FullyConnectedOptions", []fieldSpec{tab("activation", specActivation)}}
	specEltwise        = &tableSpec{"EltwiseOptions", []fieldSpec{tab("activation", specActivation)}}
	specSqueezeExcite  = &tableSpec{"SqueezeExciteOptions", []fieldSpec{tab("activation", specActivation), tab("gate", specActivation)}}
	specPool2D         = &tableSpec{"Pool2DOptions", []fieldSpec{scalar("kernel_h", 4), scalar("kernel_w", 4),
		scalar("stride_h", 4), scalar("stride_w", 4), scalar("pad_top", 4), scalar("pad_left", 4),
		scalar("pad_bottom", 4), scalar("pad_right", 4), scalar("count_include_pad", 1)}}
	specTranspose  = &tableSpec{"TransposeOptions", []fieldSpec{vec("perm", 4)}}
	specReshape    = &tableSpec{"ReshapeOptions", []fieldSpec{vec("new_shape", 4)}}
	specActOptions = &tableSpec{"ActivationOptions", []fieldSpec{tab("activation", specActivation)}}
	specSoftmax    = &tableSpec{"SoftmaxOptions", []fieldSpec{scalar("axis", 4)}}
	specResize     = &tableSpec{"ResizeBilinearOptions", []fieldSpec{scalar("height", 4), scalar("width", 4),
		scalar("align_corners", 1), scalar("half_pixel_centers", 1)}}
	specArgMax = &tableSpec{"ArgMaxOptions", []fieldSpec{scalar("axis", 4), tab("resize", specResize)}}
	specConcat = &tableSpec{"ConcatenationOptions", []fieldSpec{scalar("axis", 4)}}
	// specOptions lists the members of union OpOptions in order (type 1 first).
	specOptions = []*tableSpec{specConv2D, specFullyConnected, specEltwise, specSqueezeExcite, specPool2D, specTranspose,
		specReshape, specActOptions, specSoftmax, specResize, specArgMax, specConcat}
	specOperator = &tableSpec{"Operator", []fieldSpec{scalar("opcode_index", 4), vec("inputs", 4), vec("outputs", 4),
		vec("intermediates", 4), {name: "options_type", kind: kUnionType, size: 1},
		{name: "options", kind: kUnion, union: specOptions}, str("name"), scalar("precision", 1)}}
	specArena = &tableSpec{"ArenaPlan", []fieldSpec{scalar("size", 8), scalar("lower_bound", 8), scalar("alignment", 4),
		vec("offsets", 8)}}
	specPreprocess = &tableSpec{"Preprocess", []fieldSpec{str("preset"), scalar("height", 4), scalar("width", 4),
		vec("mean", 4), vec("std", 4), scalar("scale", 4), str("resize"), scalar("resize_to", 4), scalar("crop", 8),
		str("channels")}}
	specQuality = &tableSpec{"QualityFigures", []fieldSpec{scalar("images", 4), scalar("logits_sqnr_db", 8),
		scalar("top1_agree", 4), scalar("cosine", 8), scalar("min_cosine", 8),
		scalar("median_sqnr_db", 8), scalar("worst_sqnr_db", 8)}}
	specCalibration = &tableSpec{"Calibration", []fieldSpec{str("scheme"), str("method"), scalar("images", 4),
		str("image_list_sha256"), tab("calib", specQuality), tab("eval", specQuality)}}
	specKeyValue  = &tableSpec{"KeyValue", []fieldSpec{str("key"), str("value")}}
	specAnchorMap = &tableSpec{"AnchorMap", []fieldSpec{scalar("height", 4), scalar("width", 4), vec("aspect_ratios", 4)}}
	specDetection = &tableSpec{"Detection", []fieldSpec{scalar("cls_logits", 4), scalar("bbox_regression", 4),
		scalar("classes", 4), scalar("image_height", 4), scalar("image_width", 4), scalar("min_ratio", 8),
		scalar("max_ratio", 8), scalar("clip", 1), vecTab("feature_maps", specAnchorMap), scalar("score_thresh", 8),
		scalar("nms_thresh", 8), scalar("topk_candidates", 4), scalar("detections_per_img", 4)}}
	specMetadata = &tableSpec{"Metadata", []fieldSpec{str("producer"), tab("preprocess", specPreprocess),
		{name: "labels", kind: kVecString}, tab("calibration", specCalibration), vecTab("extra", specKeyValue),
		tab("detection", specDetection)}}
	specModel = &tableSpec{"Model", []fieldSpec{scalar("format_major", 4), scalar("format_minor", 4), str("name"),
		scalar("precision", 1), str("target"), vecTab("operator_codes", specOperatorCode), vecTab("tensors", specTensor),
		vecTab("operators", specOperator), vec("inputs", 4), vec("outputs", 4), vecTab("buffers", specBuffer),
		tab("arena", specArena), tab("metadata", specMetadata)}}
)

// maxTableVisits bounds the verifier's work (tables may be shared, so a
// small file can reference one table many times).
const maxTableVisits = 1 << 20

type verifier struct {
	b      []byte
	visits int
	end    int64 // the end of the furthest object reached
}

// reach records that [pos, pos+n) belongs to an object of the buffer.
func (v *verifier) reach(pos, n int64) { v.end = max(v.end, pos+n) }

func (v *verifier) u32(pos int64) uint32 { return binary.LittleEndian.Uint32(v.b[pos:]) }
func (v *verifier) u16(pos int64) uint16 { return binary.LittleEndian.Uint16(v.b[pos:]) }

// in reports whether [pos, pos+n) lies inside the file.
func (v *verifier) in(pos, n int64) bool {
	return pos >= 0 && n >= 0 && pos <= int64(len(v.b)) && n <= int64(len(v.b))-pos
}

// tableAt checks the table header and vtable at pos and returns the vtable
// position, its length and the table's inline size.
func (v *verifier) tableAt(pos int64, what string) (vt int64, vlen, olen int64, err error) {
	if v.visits++; v.visits > maxTableVisits {
		return 0, 0, 0, fmt.Errorf("more than %d table references", maxTableVisits)
	}
	if pos%4 != 0 || !v.in(pos, 4) {
		return 0, 0, 0, fmt.Errorf("%s table at %d is outside the file or misaligned", what, pos)
	}
	vt = pos - int64(int32(v.u32(pos)))
	if vt%2 != 0 || !v.in(vt, 4) {
		return 0, 0, 0, fmt.Errorf("%s vtable at %d is outside the file", what, vt)
	}
	vlen, olen = int64(v.u16(vt)), int64(v.u16(vt+2))
	if vlen < 4 || vlen%2 != 0 || !v.in(vt, vlen) {
		return 0, 0, 0, fmt.Errorf("%s vtable at %d has bad length %d", what, vt, vlen)
	}
	if olen < 4 || !v.in(pos, olen) {
		return 0, 0, 0, fmt.Errorf("%s table at %d has bad size %d", what, pos, olen)
	}
	v.reach(vt, vlen)
	v.reach(pos, olen)
	return vt, vlen, olen, nil
}

// fieldPos returns the absolute position of field slot of the table at pos,
// or -1 when the field is absent; the field's size bytes must lie in the
// table's inline data.
func (v *verifier) fieldPos(pos, vt, vlen, olen int64, slot int, size int64) (int64, error) {
	e := 4 + 2*int64(slot)
	if e+2 > vlen {
		return -1, nil
	}
	off := int64(v.u16(vt + e))
	if off == 0 {
		return -1, nil
	}
	if off < 4 || off+size > olen {
		return 0, fmt.Errorf("field at offset %d (size %d) overruns its table of %d bytes", off, size, olen)
	}
	return pos + off, nil
}

// deref follows the uoffset stored at pos.
func (v *verifier) deref(pos int64) (int64, error) {
	t := pos + int64(v.u32(pos))
	if !v.in(t, 4) {
		return 0, fmt.Errorf("offset at %d points outside the file", pos)
	}
	return t, nil
}

// vector checks the vector at pos (its length word) with elements of size
// bytes and returns the number of elements.
func (v *verifier) vector(pos, size int64) (int64, error) {
	if pos%4 != 0 {
		return 0, fmt.Errorf("vector at %d is misaligned", pos)
	}
	n := int64(v.u32(pos))
	if !v.in(pos+4, n*size) {
		return 0, fmt.Errorf("vector at %d of %d elements overruns the file", pos, n)
	}
	v.reach(pos, 4+n*size)
	return n, nil
}

// str checks the string at pos (length, bytes and the terminating NUL).
func (v *verifier) str(pos int64) error {
	n, err := v.vector(pos, 1)
	if err != nil {
		return err
	}
	if !v.in(pos+4+n, 1) || v.b[pos+4+n] != 0 {
		return fmt.Errorf("string at %d is not terminated", pos)
	}
	v.reach(pos+4+n, 1)
	return nil
}

// table verifies the table at pos against its spec, recursively.
func (v *verifier) table(pos int64, s *tableSpec) error {
	vt, vlen, olen, err := v.tableAt(pos, s.name)
	if err != nil {
		return err
	}
	unionType := -1
	for slot, f := range s.fields {
		size := int64(4)
		if f.kind == kScalar || f.kind == kUnionType {
			size = int64(f.size)
		}
		fp, err := v.fieldPos(pos, vt, vlen, olen, slot, size)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", s.name, f.name, err)
		}
		if f.kind == kUnionType {
			unionType = 0
			if fp >= 0 {
				unionType = int(v.b[fp])
			}
		}
		if fp < 0 || f.kind == kScalar || f.kind == kUnionType {
			continue
		}
		t, err := v.deref(fp)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", s.name, f.name, err)
		}
		if err := v.field(t, f, unionType); err != nil {
			return fmt.Errorf("%s.%s: %w", s.name, f.name, err)
		}
	}
	return nil
}

func (v *verifier) field(t int64, f fieldSpec, unionType int) error {
	switch f.kind {
	case kString:
		return v.str(t)
	case kVector:
		_, err := v.vector(t, int64(f.size))
		return err
	case kTable:
		return v.table(t, f.table)
	case kUnion:
		if unionType < 1 || unionType > len(f.union) {
			return fmt.Errorf("unknown union type %d", unionType)
		}
		return v.table(t, f.union[unionType-1])
	case kVecString, kVecTable:
		n, err := v.vector(t, 4)
		if err != nil {
			return err
		}
		for i := range n {
			e := t + 4 + 4*i
			p, err := v.deref(e)
			if err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
			if f.kind == kVecString {
				err = v.str(p)
			} else {
				err = v.table(p, f.table)
			}
			if err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
	}
	return nil
}

// verifyStructure checks the identifier, the root table's format version
// and then the whole buffer.
func verifyStructure(b []byte) error {
	if len(b) < 8 {
		return fmt.Errorf("%d bytes is too short for a model file", len(b))
	}
	if int64(len(b)) > maxFileBytes {
		return fmt.Errorf("the model is %s; the limit is %s", limits.Bytes(int64(len(b))), limits.Bytes(maxFileBytes))
	}
	if string(b[4:8]) != FileIdentifier {
		return fmt.Errorf("not an mnc model file (identifier %q, want %q)", b[4:8], FileIdentifier)
	}
	v := &verifier{b: b}
	root, err := v.deref(0)
	if err != nil {
		return fmt.Errorf("root: %w", err)
	}
	vt, vlen, olen, err := v.tableAt(root, "Model")
	if err != nil {
		return err
	}
	fp, err := v.fieldPos(root, vt, vlen, olen, 0, 4)
	if err != nil {
		return fmt.Errorf("field format_major of the Model table: %w", err)
	}
	major := uint32(0)
	if fp >= 0 {
		major = v.u32(fp)
	}
	if major != FormatMajor {
		if major > FormatMajor {
			return fmt.Errorf("format version %d is newer than this mnc reads (%d.%d): update mnc", major, FormatMajor, FormatMinor)
		}
		return fmt.Errorf("format version %d is not supported (this mnc reads %d.x)", major, FormatMajor)
	}
	v.visits = 0
	v.reach(0, 8) // the root offset and the identifier
	if err := v.table(root, specModel); err != nil {
		return err
	}
	return v.checkTail(root, vt, vlen, olen)
}

// checkTail refuses bytes after the buffer: a FlatBuffers builder writes
// back to front, so the buffer ends with the first object it wrote, at
// most followed by the zero padding that aligned it (less than
// BufferAlignment, the largest alignment of the schema's data). A file of
// a newer minor version may hold objects of fields this runtime does not
// know, which the verifier does not reach: its tail is not checked.
func (v *verifier) checkTail(root, vt, vlen, olen int64) error {
	minor := uint32(0)
	if fp, err := v.fieldPos(root, vt, vlen, olen, 1, 4); err == nil && fp >= 0 {
		minor = v.u32(fp)
	}
	if minor > FormatMinor {
		return nil
	}
	tail := v.b[v.end:]
	zero := true
	for _, c := range tail {
		zero = zero && c == 0
	}
	if len(tail) >= BufferAlignment || !zero {
		return fmt.Errorf("%d bytes follow the model's FlatBuffer, which ends at byte %d of %d (a file with something appended)", len(tail), v.end, len(v.b))
	}
	return nil
}
