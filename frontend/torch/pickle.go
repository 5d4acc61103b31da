package torch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// storageClass stands for one of the torch.*Storage globals.
type storageClass struct{ dtype dtype }

// allowedGlobals are the only globals a checkpoint pickle may name. Each
// maps to an inert Go value; nothing from the file is ever executed.
var allowedGlobals = map[string]func() any{
	"collections.OrderedDict":                    func() any { return &types.OrderedDictClass{} },
	"torch._utils._rebuild_tensor":               func() any { return rebuildTensor{} },
	"torch._utils._rebuild_tensor_v2":            func() any { return rebuildTensorV2{} },
	"torch._utils._rebuild_parameter":            func() any { return rebuildParameter{} },
	"torch._utils._rebuild_parameter_with_state": func() any { return rebuildParameter{withState: true} },
	"torch.FloatStorage":                         func() any { return &storageClass{dtF32} },
	"torch.DoubleStorage":                        func() any { return &storageClass{dtF64} },
	"torch.HalfStorage":                          func() any { return &storageClass{dtF16} },
	"torch.BFloat16Storage":                      func() any { return &storageClass{dtBF16} },
	"torch.LongStorage":                          func() any { return &storageClass{dtI64} },
	"torch.IntStorage":                           func() any { return &storageClass{dtI32} },
	"torch.ShortStorage":                         func() any { return &storageClass{dtI16} },
	"torch.CharStorage":                          func() any { return &storageClass{dtI8} },
	"torch.ByteStorage":                          func() any { return &storageClass{dtU8} },
	"torch.BoolStorage":                          func() any { return &storageClass{dtBool} },
}

func refused(global string) error {
	return fmt.Errorf("checkpoint asks for global %s: refused (only state_dict tensors are allowed)", quote(global))
}

func findClass(module, name string) (any, error) {
	g := module + "." + name
	if mk, ok := allowedGlobals[g]; ok {
		return mk(), nil
	}
	return nil, refused(g)
}

// unpickle decodes the single pickle in b (as delimited by scanPickle) with
// the restricted class lookup. persistentLoad may be nil.
func unpickle(b []byte, persistentLoad func(any) (any, error)) (obj any, err error) {
	u := pickle.NewUnpickler(bytes.NewReader(b))
	u.FindClass = findClass
	if persistentLoad != nil {
		u.PersistentLoad = persistentLoad
	} else {
		u.PersistentLoad = func(any) (any, error) { return nil, errors.New("unexpected persistent id") }
	}
	u.GetExtension = func(int) (any, error) { return nil, errors.New("pickle extension registry is not supported") }
	obj, err = u.Load()
	if err != nil {
		// gopickle formats offending values with %#v; keep the message to
		// one short line whatever the pickle holds.
		if msg := err.Error(); len(msg) > 240 || strings.ContainsAny(msg, "\r\n") {
			msg = strings.NewReplacer("\r", " ", "\n", " ").Replace(msg)
			if len(msg) > 240 {
				msg = msg[:240] + "..."
			}
			err = errors.New(msg)
		}
		return nil, err
	}
	return obj, nil
}

// Pickle opcodes (see CPython's pickletools).
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opDup            = '2'
	opFloat          = 'F'
	opInt            = 'I'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opLong           = 'L'
	opBinInt2        = 'M'
	opNone           = 'N'
	opPersID         = 'P'
	opBinPersID      = 'Q'
	opReduce         = 'R'
	opString         = 'S'
	opBinString      = 'T'
	opShortBinString = 'U'
	opUnicode        = 'V'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opDict           = 'd'
	opEmptyDict      = '}'
	opAppends        = 'e'
	opGet            = 'g'
	opBinGet         = 'h'
	opInst           = 'i'
	opLongBinGet     = 'j'
	opList           = 'l'
	opEmptyList      = ']'
	opObj            = 'o'
	opPut            = 'p'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opBinFloat       = 'G'
	opProto          = 0x80
	opNewObj         = 0x81
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opLong4          = 0x8b
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'
	opShortBinUni    = 0x8c
	opBinUnicode8    = 0x8d
	opBinBytes8      = 0x8e
	opEmptySet       = 0x8f
	opAddItems       = 0x90
	opFrozenSet      = 0x91
	opNewObjEx       = 0x92
	opStackGlobal    = 0x93
	opMemoize        = 0x94
	opFrame          = 0x95
	opByteArray8     = 0x96
	opReadOnlyBuffer = 0x98
)

const (
	maxNumberLine = 1024 // decimal INT/LONG/FLOAT text (big.Int parsing is superlinear)
	maxLong4      = 1024 // bytes of a LONG4 (gopickle decodes it in quadratic time)
	// Bytes gopickle allocates per opcode (measured upper bounds, including
	// stack growth), used to bound memory for hostile pickles made of
	// cheap-to-encode, expensive-to-build opcodes such as MARK or EMPTY_DICT.
	costOp        = 112
	costMark      = 400
	costContainer = 256
	// Budget: fixed allowance plus a multiple of the pickle size. Real
	// state_dict pickles cost 40-80 units per byte.
	costFixed   = 32 << 20
	costPerByte = 160
	// CPU: gopickle hashes dict keys, and memo lookups can push the same long
	// str many times. maxWork bounds the bytes that may be hashed or copied
	// (about a second's worth) by charging every memo lookup the longest str
	// seen so far; real state_dict pickles (short keys) use a tiny fraction.
	maxWork = min(16<<30, math.MaxInt) // capped by int on 32-bit builds
)

// scanPickle walks the opcodes of the pickle at the start of b without
// building anything and returns its length (up to and including STOP). It
// checks that every length-prefixed argument lies within b, rejects opcodes
// the loader never needs, refuses disallowed GLOBAL/INST names up front, and
// bounds the memory the real unpickler can allocate. It is the guard that
// makes it safe to hand untrusted bytes to gopickle, whose reader allocates
// whatever length a pickle claims before reading it.
func scanPickle(b []byte) (int, error) {
	n, _, err := scanPickleCost(b)
	return n, err
}

// scanPickleCost is scanPickle also returning the estimated allocation cost.
func scanPickleCost(b []byte) (int, int, error) {
	s := &pickleScan{b: b}
	budget := costFixed + costPerByte*len(b)
	for {
		if s.pos >= len(b) {
			return 0, 0, errors.New("pickle truncated: no STOP opcode")
		}
		start := s.pos
		op := b[s.pos]
		s.pos++
		if op == opStop {
			return s.pos, s.cost, nil
		}
		c, n, err := s.operand(op, start)
		if err != nil {
			return 0, 0, err
		}
		// Arguments are read into a fresh buffer and usually copied again
		// into a string.
		s.cost += c + 2*int(n)
		s.work += int(n)
		switch op {
		case opString, opUnicode, opBinString, opShortBinString, opBinUnicode, opShortBinUni, opBinUnicode8:
			// A str (hashable, unlike bytes) that memo lookups can push again.
			s.maxStr = max(s.maxStr, int(n))
		}
		if s.cost > budget || s.work > maxWork {
			return 0, 0, errors.New("pickle too large or too complex for a state_dict")
		}
	}
}

// pickleScan is the state of scanPickleCost: the pickle, the offset of the
// next byte to read and what the opcodes so far cost.
type pickleScan struct {
	b      []byte
	pos    int
	cost   int // estimated bytes gopickle allocates
	work   int // bytes gopickle may hash or copy (see maxWork)
	maxStr int // longest str argument so far
}

// need fails unless n more bytes follow the current offset.
func (s *pickleScan) need(n uint64) error {
	if n > uint64(len(s.b)-s.pos) {
		return fmt.Errorf("pickle truncated: opcode at offset %d needs %d bytes, %d left", s.pos, n, len(s.b)-s.pos)
	}
	return nil
}

// line reads a newline-terminated argument of at most limit bytes.
func (s *pickleScan) line(limit int) ([]byte, error) {
	i := bytes.IndexByte(s.b[s.pos:], '\n')
	if i < 0 {
		return nil, fmt.Errorf("pickle truncated: unterminated line at offset %d", s.pos)
	}
	if i > limit {
		return nil, fmt.Errorf("pickle text argument at offset %d too long (%d bytes)", s.pos, i)
	}
	l := s.b[s.pos : s.pos+i]
	s.pos += i + 1
	return l, nil
}

// counted reads an n-byte little-endian length and skips that many bytes.
func (s *pickleScan) counted(n int, signed bool) (uint64, error) {
	if err := s.need(uint64(n)); err != nil {
		return 0, err
	}
	var l uint64
	switch n {
	case 1:
		l = uint64(s.b[s.pos])
	case 4:
		l = uint64(binary.LittleEndian.Uint32(s.b[s.pos:]))
		if signed && l >= 1<<31 {
			return 0, fmt.Errorf("negative length in pickle at offset %d", s.pos)
		}
	case 8:
		l = binary.LittleEndian.Uint64(s.b[s.pos:])
	}
	s.pos += n
	if err := s.need(l); err != nil {
		return 0, err
	}
	s.pos += int(l)
	return l, nil
}

// operand checks and skips the arguments of op, the opcode at offset start
// (other than STOP), and returns the cost of building its value and the
// length of its variable-length argument, if it has one.
func (s *pickleScan) operand(op byte, start int) (int, uint64, error) {
	c := costOp
	var err error
	var n uint64
	switch op {
	case opMark:
		c = costMark
	case opDup, opGet, opBinGet, opLongBinGet:
		// May push the longest string seen so far once more.
		s.work += s.maxStr
		switch op {
		case opGet:
			_, err = s.line(maxNumberLine)
		case opBinGet:
			err = s.need(1)
			s.pos++
		case opLongBinGet:
			err = s.need(4)
			s.pos += 4
		}
	case opPop, opPopMark, opNone, opBinPersID, opAppend, opSetItem,
		opNewTrue, opNewFalse, opStackGlobal, opMemoize, opReadOnlyBuffer:
	case opReduce, opBuild, opDict, opEmptyDict, opAppends, opList, opEmptyList,
		opObj, opTuple, opEmptyTuple, opSetItems, opNewObj, opNewObjEx,
		opTuple1, opTuple2, opTuple3, opEmptySet, opAddItems, opFrozenSet:
		c = costContainer
	case opFloat, opInt, opLong:
		_, err = s.line(maxNumberLine)
	case opString, opUnicode, opPersID, opPut:
		var l []byte
		l, err = s.line(len(s.b))
		n = uint64(len(l))
	case opGlobal, opInst:
		var mod, name []byte
		if mod, err = s.line(len(s.b)); err == nil {
			if name, err = s.line(len(s.b)); err == nil {
				g := string(mod) + "." + string(name)
				if _, ok := allowedGlobals[g]; !ok {
					return 0, 0, refused(g)
				}
			}
		}
		if op == opInst {
			c = costContainer
		}
	case opBinInt:
		err = s.need(4)
		s.pos += 4
	case opBinInt1, opBinPut, opProto:
		err = s.need(1)
		if err == nil && op == opProto && s.b[s.pos] > pickle.HighestProtocol {
			return 0, 0, fmt.Errorf("unsupported pickle protocol %d", s.b[s.pos])
		}
		s.pos++
	case opBinInt2:
		err = s.need(2)
		s.pos += 2
	case opLongBinPut:
		err = s.need(4)
		s.pos += 4
	case opBinFloat:
		err = s.need(8)
		s.pos += 8
	case opFrame:
		// The frame's contents are ordinary opcodes that follow; only
		// check that the declared frame fits, since gopickle allocates
		// it up front.
		if err = s.need(8); err == nil {
			l := binary.LittleEndian.Uint64(s.b[s.pos:])
			s.pos += 8
			if err = s.need(l); err == nil {
				s.cost += int(l)
			}
		}
	case opLong1:
		n, err = s.counted(1, false)
		if err == nil && n == 0 {
			err = fmt.Errorf("empty LONG1 at offset %d", start)
		}
	case opLong4:
		n, err = s.counted(4, true)
		if err == nil && (n == 0 || n > maxLong4) {
			err = fmt.Errorf("LONG4 of %d bytes at offset %d not supported", n, start)
		}
	case opShortBinString, opShortBinBytes, opShortBinUni:
		n, err = s.counted(1, false)
	case opBinString:
		n, err = s.counted(4, true)
	case opBinUnicode, opBinBytes:
		n, err = s.counted(4, false)
	case opBinUnicode8, opBinBytes8, opByteArray8:
		n, err = s.counted(8, false)
	default:
		return 0, 0, fmt.Errorf("unsupported pickle opcode 0x%02x at offset %d", op, start)
	}
	return c, n, err
}

// asInt accepts a pickled Python int that fits in an int.
func asInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case *big.Int:
		if x.IsInt64() && int64(int(x.Int64())) == x.Int64() {
			return int(x.Int64()), true
		}
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func asInts(v any, what string) ([]int, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("tensor %s is %s, want a tuple of ints", what, describe(v))
	}
	if t.Len() > 64 {
		return nil, fmt.Errorf("tensor %s has %d entries, more than any real tensor's rank", what, t.Len())
	}
	out := make([]int, t.Len())
	for i := range out {
		x, ok := asInt(t.Get(i))
		if !ok {
			return nil, fmt.Errorf("tensor %s %s holds %s, want ints", what, describe(v), describe(t.Get(i)))
		}
		out[i] = x
	}
	return out, nil
}

// storageFields reads the storage type, key and element count of a
// ('storage', storage_type, key, location, numel, ...) persistent id of at
// least 5 fields.
func storageFields(t *types.Tuple) (*storageClass, string, int, error) {
	cls, ok := t.Get(1).(*storageClass)
	if !ok {
		return nil, "", 0, fmt.Errorf("storage type is %s, not a torch storage class", describe(t.Get(1)))
	}
	key, ok := t.Get(2).(string)
	if !ok {
		return nil, "", 0, fmt.Errorf("storage key is %s, want a str", describe(t.Get(2)))
	}
	n, ok := asInt(t.Get(4))
	if !ok || n < 0 {
		return nil, "", 0, fmt.Errorf("storage %s: bad element count", quote(key))
	}
	return cls, key, n, nil
}

// rebuildTensorV2 is torch._utils._rebuild_tensor_v2(storage, storage_offset,
// size, stride, requires_grad, backward_hooks[, metadata]).
type rebuildTensorV2 struct{}

func (rebuildTensorV2) Call(args ...any) (any, error) {
	if len(args) < 4 || len(args) > 7 {
		return nil, fmt.Errorf("_rebuild_tensor_v2 called with %d arguments", len(args))
	}
	return newTensorRef(args[0], args[1], args[2], args[3])
}

// rebuildTensor is the older torch._utils._rebuild_tensor(storage,
// storage_offset, size, stride).
type rebuildTensor struct{}

func (rebuildTensor) Call(args ...any) (any, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("_rebuild_tensor called with %d arguments", len(args))
	}
	return newTensorRef(args[0], args[1], args[2], args[3])
}

func newTensorRef(st, off, size, stride any) (*tensorRef, error) {
	s, ok := st.(*storageRef)
	if !ok {
		return nil, fmt.Errorf("tensor storage is %s, not a storage", describe(st))
	}
	o, ok := asInt(off)
	if !ok {
		return nil, fmt.Errorf("tensor storage offset is %s, want an int", describe(off))
	}
	sz, err := asInts(size, "size")
	if err != nil {
		return nil, err
	}
	sd, err := asInts(stride, "stride")
	if err != nil {
		return nil, err
	}
	if len(sz) != len(sd) {
		return nil, fmt.Errorf("tensor size %v and stride %v differ in rank", sz, sd)
	}
	return &tensorRef{st: s, offset: o, size: sz, stride: sd}, nil
}

// rebuildParameter is torch._utils._rebuild_parameter(data, requires_grad,
// backward_hooks) and _rebuild_parameter_with_state(..., state): the
// parameter is just its data tensor.
type rebuildParameter struct{ withState bool }

func (r rebuildParameter) Call(args ...any) (any, error) {
	want := 3
	if r.withState {
		want = 4
	}
	if len(args) != want {
		return nil, fmt.Errorf("_rebuild_parameter called with %d arguments", len(args))
	}
	t, ok := args[0].(*tensorRef)
	if !ok {
		return nil, fmt.Errorf("parameter data is %s, not a tensor", describe(args[0]))
	}
	return t, nil
}

// describe names the Python-ish type of a decoded pickle value for errors.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		return "a bool"
	case int, *big.Int:
		return "an int"
	case float64:
		return "a float"
	case string:
		return "a str"
	case []byte:
		return "bytes"
	case *types.Tuple:
		return "a tuple"
	case *types.List:
		return "a list"
	case *types.Dict, *types.OrderedDict:
		return "a dict"
	case *tensorRef:
		return "a tensor"
	case *storageRef:
		return "a storage"
	case *storageClass:
		return "a storage class"
	default:
		return fmt.Sprintf("a %T", x)
	}
}
