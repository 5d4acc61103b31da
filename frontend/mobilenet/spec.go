package mobilenet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"sort"
	"strings"
)

// Families of MobileNet. A Spec's Family selects which of its sections (V1,
// V2, V3) describes the network and how the rows of that section's table are
// turned into layers.
const (
	FamilyV1 = "mobilenet_v1"
	FamilyV2 = "mobilenet_v2"
	FamilyV3 = "mobilenet_v3"
)

// Activation names of a V3 row (torchvision's spelling).
const (
	ActRE = "RE" // nn.ReLU
	ActHS = "HS" // nn.Hardswish
)

// Spec describes a MobileNet architecture as data. Exactly one of V1, V2 and
// V3 is set, the one matching Family. Zero BNEps, RoundNearest and V3's
// LastConvExpansion and SEDivisor mean the family's defaults.
type Spec struct {
	Name         string  // graph name; defaults to Family
	Family       string  // FamilyV1, FamilyV2 or FamilyV3
	BNEps        float64 // BatchNorm epsilon; 0: 1e-5 (V1, V2) or 1e-3 (V3)
	RoundNearest int     // channel rounding divisor of _make_divisible; 0: 8
	V1           *V1Spec
	V2           *V2Spec
	V3           *V3Spec
}

// V1Spec is the depthwise-separable stack of MobileNet V1.
type V1Spec struct {
	StemChannels int       // output channels of the 3x3/2 stem conv, before width scaling (32)
	Blocks       []V1Block // one depthwise-separable block per row
}

// V1Block is one row of the V1 table: JSON [out, stride].
type V1Block struct {
	Out    int // pointwise output channels, before width scaling
	Stride int // depthwise stride, 1 or 2
}

// V2Spec is torchvision's MobileNetV2 configuration.
type V2Spec struct {
	InputChannel int       // stem channels before width scaling (32)
	LastChannel  int       // last 1x1 conv channels, scaled by max(1, width) (1280)
	Setting      []V2Stage // inverted_residual_setting
}

// V2Stage is one row of torchvision's inverted_residual_setting: JSON
// [t, c, n, s].
type V2Stage struct {
	Expand   int // t: expansion ratio (1 means no expand conv)
	Channels int // c: output channels, before width scaling
	Repeats  int // n: number of blocks
	Stride   int // s: stride of the first block (the others use 1)
}

// V3Spec is torchvision's _mobilenet_v3_conf table.
type V3Spec struct {
	// Blocks are the bneck rows. The stem conv has Blocks[0].In channels.
	Blocks []V3Block
	// LastChannel is the hidden width of the classifier before reduced_tail
	// division and width scaling (1280 large, 1024 small).
	LastChannel int
	// ReducedTailFrom is the index of the first tail row (torchvision's C4
	// stage): with reduced_tail, that row's Out and every later row's In,
	// Expanded and Out are halved (integer division, before width scaling),
	// and so is LastChannel. 0: the table has no reducible tail.
	ReducedTailFrom int
	// LastConvExpansion multiplies the last row's Out to give the last
	// 1x1 conv's channels; 0: 6.
	LastConvExpansion int
	// SEDivisor: squeeze channels are _make_divisible(expanded // SEDivisor, 8); 0: 4.
	SEDivisor int
}

// V3Block is one bneck row: JSON [input_c, kernel, expanded_c, out_c, use_se,
// activation, stride], channels before width scaling, dilation 1.
type V3Block struct {
	In       int
	Kernel   int
	Expanded int
	Out      int
	SE       bool
	Act      string // ActRE or ActHS
	Stride   int    // 1 or 2
}

// builtin holds the built-in architectures by canonical name.
var builtin = map[string]*Spec{
	"mobilenet_v1": {
		Name: "mobilenet_v1", Family: FamilyV1, BNEps: 1e-5, RoundNearest: 8,
		V1: &V1Spec{StemChannels: 32, Blocks: []V1Block{
			{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2}, {512, 1},
			{512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1},
		}},
	},
	"mobilenet_v2": {
		Name: "mobilenet_v2", Family: FamilyV2, BNEps: 1e-5, RoundNearest: 8,
		V2: &V2Spec{InputChannel: 32, LastChannel: 1280, Setting: []V2Stage{
			// t, c, n, s
			{1, 16, 1, 1},
			{6, 24, 2, 2},
			{6, 32, 3, 2},
			{6, 64, 4, 2},
			{6, 96, 3, 1},
			{6, 160, 3, 2},
			{6, 320, 1, 1},
		}},
	},
	"mobilenet_v3_large": {
		Name: "mobilenet_v3_large", Family: FamilyV3, BNEps: 1e-3, RoundNearest: 8,
		V3: &V3Spec{LastChannel: 1280, ReducedTailFrom: 12, LastConvExpansion: 6, SEDivisor: 4, Blocks: []V3Block{
			// input_c, kernel, expanded_c, out_c, use_se, activation, stride
			{16, 3, 16, 16, false, ActRE, 1},
			{16, 3, 64, 24, false, ActRE, 2}, // C1
			{24, 3, 72, 24, false, ActRE, 1},
			{24, 5, 72, 40, true, ActRE, 2}, // C2
			{40, 5, 120, 40, true, ActRE, 1},
			{40, 5, 120, 40, true, ActRE, 1},
			{40, 3, 240, 80, false, ActHS, 2}, // C3
			{80, 3, 200, 80, false, ActHS, 1},
			{80, 3, 184, 80, false, ActHS, 1},
			{80, 3, 184, 80, false, ActHS, 1},
			{80, 3, 480, 112, true, ActHS, 1},
			{112, 3, 672, 112, true, ActHS, 1},
			{112, 5, 672, 160, true, ActHS, 2}, // C4
			{160, 5, 960, 160, true, ActHS, 1},
			{160, 5, 960, 160, true, ActHS, 1},
		}},
	},
	"mobilenet_v3_small": {
		Name: "mobilenet_v3_small", Family: FamilyV3, BNEps: 1e-3, RoundNearest: 8,
		V3: &V3Spec{LastChannel: 1024, ReducedTailFrom: 8, LastConvExpansion: 6, SEDivisor: 4, Blocks: []V3Block{
			{16, 3, 16, 16, true, ActRE, 2},  // C1
			{16, 3, 72, 24, false, ActRE, 2}, // C2
			{24, 3, 88, 24, false, ActRE, 1},
			{24, 5, 96, 40, true, ActHS, 2}, // C3
			{40, 5, 240, 40, true, ActHS, 1},
			{40, 5, 240, 40, true, ActHS, 1},
			{40, 5, 120, 48, true, ActHS, 1},
			{48, 5, 144, 48, true, ActHS, 1},
			{48, 5, 288, 96, true, ActHS, 2}, // C4
			{96, 5, 576, 96, true, ActHS, 1},
			{96, 5, 576, 96, true, ActHS, 1},
		}},
	},
}

var aliases = map[string]string{
	"v1":                "mobilenet_v1",
	"mobilenetv1":       "mobilenet_v1",
	"v2":                "mobilenet_v2",
	"mobilenetv2":       "mobilenet_v2",
	"v3l":               "mobilenet_v3_large",
	"v3_large":          "mobilenet_v3_large",
	"v3large":           "mobilenet_v3_large",
	"mobilenetv3_large": "mobilenet_v3_large",
	"v3s":               "mobilenet_v3_small",
	"v3_small":          "mobilenet_v3_small",
	"v3small":           "mobilenet_v3_small",
	"mobilenetv3_small": "mobilenet_v3_small",
}

// Arches lists the canonical names of the built-in architectures.
func Arches() []string {
	return []string{"mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"}
}

// CanonicalArch maps an architecture name or alias (case-insensitive, '-'
// and '_' alike: "v2", "v3l", "v3-small", "mobilenet_v3_large" ...) to its
// canonical name.
func CanonicalArch(arch string) (string, error) {
	a := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(arch)), "-", "_")
	if _, ok := builtin[a]; ok {
		return a, nil
	}
	if c, ok := aliases[a]; ok {
		return c, nil
	}
	return "", fmt.Errorf("unknown architecture %q (want one of %s, or aliases v1, v2, v3l, v3s)",
		arch, strings.Join(Arches(), ", "))
}

// SpecFor returns a copy of the built-in table of arch (a name or alias),
// e.g. as a starting point for a custom spec.
func SpecFor(arch string) (*Spec, error) {
	a, err := CanonicalArch(arch)
	if err != nil {
		return nil, err
	}
	return builtin[a].Clone(), nil
}

// Clone returns a deep copy of s.
func (s *Spec) Clone() *Spec {
	c := *s
	if s.V1 != nil {
		v := *s.V1
		v.Blocks = append([]V1Block(nil), v.Blocks...)
		c.V1 = &v
	}
	if s.V2 != nil {
		v := *s.V2
		v.Setting = append([]V2Stage(nil), v.Setting...)
		c.V2 = &v
	}
	if s.V3 != nil {
		v := *s.V3
		v.Blocks = append([]V3Block(nil), v.Blocks...)
		c.V3 = &v
	}
	return &c
}

// withDefaults returns a copy of s with zero defaults filled in.
func (s *Spec) withDefaults() *Spec {
	c := s.Clone()
	if c.Name == "" {
		c.Name = c.Family
	}
	if c.BNEps == 0 {
		c.BNEps = 1e-5
		if c.Family == FamilyV3 {
			c.BNEps = 1e-3
		}
	}
	if c.RoundNearest == 0 {
		c.RoundNearest = 8
	}
	if c.V3 != nil {
		if c.V3.LastConvExpansion == 0 {
			c.V3.LastConvExpansion = 6
		}
		if c.V3.SEDivisor == 0 {
			c.V3.SEDivisor = 4
		}
	}
	return c
}

// Validate checks that the spec describes a buildable network. Errors name
// the offending field with its JSON path, e.g.
// "v3.inverted_residual_setting[4].activation".
func (s *Spec) Validate() error {
	if s == nil {
		return errors.New("nil spec")
	}
	switch s.Family {
	case FamilyV1, FamilyV2, FamilyV3:
	case "":
		return errors.New("family: missing (want mobilenet_v1, mobilenet_v2 or mobilenet_v3)")
	default:
		return fmt.Errorf("family: unknown family %q (want mobilenet_v1, mobilenet_v2 or mobilenet_v3)", s.Family)
	}
	sections := []struct {
		family string
		set    bool
	}{{FamilyV1, s.V1 != nil}, {FamilyV2, s.V2 != nil}, {FamilyV3, s.V3 != nil}}
	for _, sec := range sections {
		key := "v" + sec.family[len(sec.family)-1:]
		if sec.family == s.Family && !sec.set {
			return fmt.Errorf("%s: missing (family %s needs its table)", key, s.Family)
		}
		if sec.family != s.Family && sec.set {
			return fmt.Errorf("%s: given for family %s (only the %s section may be set)", key, s.Family,
				"v"+s.Family[len(s.Family)-1:])
		}
	}
	if s.BNEps < 0 || s.BNEps >= 1 || math.IsNaN(s.BNEps) {
		return fmt.Errorf("bn_eps: %g is not in (0, 1)", s.BNEps)
	}
	if s.RoundNearest < 0 || s.RoundNearest > 1024 {
		return fmt.Errorf("round_nearest: %d is not in [1, 1024]", s.RoundNearest)
	}
	const maxC = 1 << 16 // generous bound that keeps sizes far from overflow
	chk := func(field string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fmt.Errorf("%s: %d is not in [%d, %d]", field, v, lo, hi)
		}
		return nil
	}
	var errs []error
	switch s.Family {
	case FamilyV1:
		v := s.V1
		errs = append(errs, chk("v1.stem_channels", v.StemChannels, 1, maxC))
		if len(v.Blocks) == 0 {
			return errors.New("v1.blocks: empty table")
		}
		for i, b := range v.Blocks {
			p := fmt.Sprintf("v1.blocks[%d]", i)
			errs = append(errs, chk(p+".out", b.Out, 1, maxC), chk(p+".stride", b.Stride, 1, 2))
		}
	case FamilyV2:
		v := s.V2
		errs = append(errs, chk("v2.input_channel", v.InputChannel, 1, maxC), chk("v2.last_channel", v.LastChannel, 1, maxC))
		if len(v.Setting) == 0 {
			return errors.New("v2.inverted_residual_setting: empty table")
		}
		for i, r := range v.Setting {
			p := fmt.Sprintf("v2.inverted_residual_setting[%d]", i)
			errs = append(errs, chk(p+".t", r.Expand, 1, 64), chk(p+".c", r.Channels, 1, maxC),
				chk(p+".n", r.Repeats, 1, 64), chk(p+".s", r.Stride, 1, 2))
		}
	case FamilyV3:
		v := s.V3
		errs = append(errs, chk("v3.last_channel", v.LastChannel, 1, maxC),
			chk("v3.lastconv_expansion", v.LastConvExpansion, 0, 64), chk("v3.se_divisor", v.SEDivisor, 0, 1024))
		if len(v.Blocks) == 0 {
			return errors.New("v3.inverted_residual_setting: empty table")
		}
		if v.ReducedTailFrom < 0 || v.ReducedTailFrom >= len(v.Blocks) {
			errs = append(errs, fmt.Errorf("v3.reduced_tail_from: %d is not a row index in [0, %d) (0: no reducible tail)",
				v.ReducedTailFrom, len(v.Blocks)))
		}
		for i, b := range v.Blocks {
			p := fmt.Sprintf("v3.inverted_residual_setting[%d]", i)
			errs = append(errs, chk(p+".input_c", b.In, 1, maxC), chk(p+".kernel", b.Kernel, 1, 15),
				chk(p+".expanded_c", b.Expanded, 1, maxC), chk(p+".out_c", b.Out, 1, maxC), chk(p+".stride", b.Stride, 1, 2))
			if b.Act != ActRE && b.Act != ActHS {
				errs = append(errs, fmt.Errorf("%s.activation: unknown activation %q (want %q for ReLU or %q for Hardswish)",
					p, b.Act, ActRE, ActHS))
			}
			if i > 0 && b.In != v.Blocks[i-1].Out {
				errs = append(errs, fmt.Errorf("%s.input_c: %d does not match the previous row's out_c %d",
					p, b.In, v.Blocks[i-1].Out))
			}
		}
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// JSON

// specJSON is the wire form of a Spec. Rows stay raw so that their errors can
// name the row and column.
type specJSON struct {
	Name         string   `json:"name,omitempty"`
	Family       string   `json:"family"`
	BNEps        *float64 `json:"bn_eps,omitempty"`
	RoundNearest *int     `json:"round_nearest,omitempty"`
	V1           *v1JSON  `json:"v1,omitempty"`
	V2           *v2JSON  `json:"v2,omitempty"`
	V3           *v3JSON  `json:"v3,omitempty"`
	Comment      any      `json:"comment,omitempty"` // free text, ignored
}

type v1JSON struct {
	StemChannels int               `json:"stem_channels"`
	Blocks       []json.RawMessage `json:"blocks"`
}

type v2JSON struct {
	InputChannel int               `json:"input_channel"`
	LastChannel  int               `json:"last_channel"`
	Setting      []json.RawMessage `json:"inverted_residual_setting"`
}

type v3JSON struct {
	LastChannel       int               `json:"last_channel"`
	ReducedTailFrom   int               `json:"reduced_tail_from,omitempty"`
	LastConvExpansion int               `json:"lastconv_expansion,omitempty"`
	SEDivisor         int               `json:"se_divisor,omitempty"`
	Blocks            []json.RawMessage `json:"inverted_residual_setting"`
}

// MarshalJSON writes the spec in the format LoadSpec reads, rows as arrays
// in torchvision's column order.
func (s Spec) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.wire(func(row json.RawMessage) json.RawMessage { return row }))
}

// IndentedJSON is MarshalJSON indented for reading and editing, one table
// row per line.
func (s Spec) IndentedJSON() []byte {
	var rows []json.RawMessage
	w := s.wire(func(row json.RawMessage) json.RawMessage {
		rows = append(rows, row)
		return json.RawMessage(fmt.Sprintf(`"\u0000row%d\u0000"`, len(rows)-1))
	})
	out, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		panic(err) // cannot happen: every field is plain data
	}
	for i, r := range rows {
		out = bytes.Replace(out, []byte(fmt.Sprintf(`"\u0000row%d\u0000"`, i)), r, 1)
	}
	return append(out, '\n')
}

// wire converts s to its JSON form, passing each row through row.
func (s Spec) wire(row func(json.RawMessage) json.RawMessage) specJSON {
	w := specJSON{Name: s.Name, Family: s.Family}
	if s.BNEps != 0 {
		w.BNEps = &s.BNEps
	}
	if s.RoundNearest != 0 {
		w.RoundNearest = &s.RoundNearest
	}
	raw := func(cols ...any) json.RawMessage {
		parts := make([]string, len(cols))
		for i, c := range cols {
			b, _ := json.Marshal(c)
			parts[i] = string(b)
		}
		return row(json.RawMessage("[" + strings.Join(parts, ", ") + "]"))
	}
	if v := s.V1; v != nil {
		w.V1 = &v1JSON{StemChannels: v.StemChannels, Blocks: []json.RawMessage{}}
		for _, b := range v.Blocks {
			w.V1.Blocks = append(w.V1.Blocks, raw(b.Out, b.Stride))
		}
	}
	if v := s.V2; v != nil {
		w.V2 = &v2JSON{InputChannel: v.InputChannel, LastChannel: v.LastChannel, Setting: []json.RawMessage{}}
		for _, r := range v.Setting {
			w.V2.Setting = append(w.V2.Setting, raw(r.Expand, r.Channels, r.Repeats, r.Stride))
		}
	}
	if v := s.V3; v != nil {
		w.V3 = &v3JSON{LastChannel: v.LastChannel, ReducedTailFrom: v.ReducedTailFrom,
			LastConvExpansion: v.LastConvExpansion, SEDivisor: v.SEDivisor, Blocks: []json.RawMessage{}}
		for _, b := range v.Blocks {
			w.V3.Blocks = append(w.V3.Blocks, raw(b.In, b.Kernel, b.Expanded, b.Out, b.SE, b.Act, b.Stride))
		}
	}
	return w
}

// UnmarshalJSON reads the spec strictly (see ParseSpec) without validating
// the values; LoadSpec and ParseSpec also validate.
func (s *Spec) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w specJSON
	// encoding/json matches field names case-insensitively; be exact.
	if err := checkKeys(data); err != nil {
		return err
	}
	if err := dec.Decode(&w); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON object")
	}
	out := Spec{Name: w.Name, Family: w.Family}
	if w.BNEps != nil {
		if *w.BNEps <= 0 {
			return fmt.Errorf("bn_eps: %g is not in (0, 1)", *w.BNEps)
		}
		out.BNEps = *w.BNEps
	}
	if w.RoundNearest != nil {
		if *w.RoundNearest < 1 {
			return fmt.Errorf("round_nearest: %d is not in [1, 1024]", *w.RoundNearest)
		}
		out.RoundNearest = *w.RoundNearest
	}
	if v := w.V1; v != nil {
		out.V1 = &V1Spec{StemChannels: v.StemChannels}
		for i, r := range v.Blocks {
			var cols [2]int
			if err := decodeRow(r, fmt.Sprintf("v1.blocks[%d]", i), []string{"out", "stride"}, ptrs(cols[:])...); err != nil {
				return err
			}
			out.V1.Blocks = append(out.V1.Blocks, V1Block{cols[0], cols[1]})
		}
	}
	if v := w.V2; v != nil {
		out.V2 = &V2Spec{InputChannel: v.InputChannel, LastChannel: v.LastChannel}
		for i, r := range v.Setting {
			var c [4]int
			if err := decodeRow(r, fmt.Sprintf("v2.inverted_residual_setting[%d]", i),
				[]string{"t", "c", "n", "s"}, ptrs(c[:])...); err != nil {
				return err
			}
			out.V2.Setting = append(out.V2.Setting, V2Stage{c[0], c[1], c[2], c[3]})
		}
	}
	if v := w.V3; v != nil {
		out.V3 = &V3Spec{LastChannel: v.LastChannel, ReducedTailFrom: v.ReducedTailFrom,
			LastConvExpansion: v.LastConvExpansion, SEDivisor: v.SEDivisor}
		for i, r := range v.Blocks {
			var b V3Block
			if err := decodeRow(r, fmt.Sprintf("v3.inverted_residual_setting[%d]", i),
				[]string{"input_c", "kernel", "expanded_c", "out_c", "use_se", "activation", "stride"},
				&b.In, &b.Kernel, &b.Expanded, &b.Out, &b.SE, &b.Act, &b.Stride); err != nil {
				return err
			}
			out.V3.Blocks = append(out.V3.Blocks, b)
		}
	}
	*s = out
	return nil
}

func ptrs(v []int) []any {
	p := make([]any, len(v))
	for i := range v {
		p[i] = &v[i]
	}
	return p
}

// decodeRow decodes a JSON array row into dst, one column each.
func decodeRow(raw json.RawMessage, path string, cols []string, dst ...any) error {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		return fmt.Errorf("%s: want an array [%s], got %s", path, strings.Join(cols, ", "), abbrev(raw))
	}
	if len(items) != len(cols) {
		return fmt.Errorf("%s: has %d columns, want %d [%s]", path, len(items), len(cols), strings.Join(cols, ", "))
	}
	for i, it := range items {
		if err := json.Unmarshal(it, dst[i]); err != nil {
			want := "an integer"
			switch dst[i].(type) {
			case *bool:
				want = "true or false"
			case *string:
				want = "a string"
			}
			return fmt.Errorf("%s.%s: want %s, got %s", path, cols[i], want, abbrev(it))
		}
	}
	return nil
}

func abbrev(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}

// knownKeys lists the fields of each object of the format.
var knownKeys = map[string][]string{
	"":   {"name", "family", "bn_eps", "round_nearest", "comment", "v1", "v2", "v3"},
	"v1": {"stem_channels", "blocks"},
	"v2": {"input_channel", "last_channel", "inverted_residual_setting"},
	"v3": {"last_channel", "reduced_tail_from", "lastconv_expansion", "se_divisor", "inverted_residual_setting"},
}

// checkKeys reports the first unknown field with its path, if the objects
// parse at all.
func checkKeys(data []byte) error {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return nil
	}
	check := func(path string, obj map[string]json.RawMessage) error {
		for _, k := range sortedKeys(obj) {
			known := false
			for _, kk := range knownKeys[path] {
				known = known || k == kk
			}
			if !known {
				where := ""
				if path != "" {
					where = path + ": "
				}
				return fmt.Errorf("%sunknown field %q (known: %s)", where, k, strings.Join(knownKeys[path], ", "))
			}
		}
		return nil
	}
	if err := check("", top); err != nil {
		return err
	}
	for _, sec := range []string{"v1", "v2", "v3"} {
		var obj map[string]json.RawMessage
		if raw, ok := top[sec]; ok && json.Unmarshal(raw, &obj) == nil {
			if err := check(sec, obj); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonError rewords encoding/json errors to name the field.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		want := "an object"
		switch te.Type.Kind() {
		case reflect.Slice:
			want = "an array"
		case reflect.Int:
			want = "an integer"
		case reflect.Float64:
			want = "a number"
		case reflect.String:
			want = "a string"
		}
		if te.Field == "" {
			return fmt.Errorf("spec: want a JSON object, got %s", te.Value)
		}
		return fmt.Errorf("%s: want %s, got %s", te.Field, want, te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, err)
	case errors.Is(err, io.EOF):
		return errors.New("empty spec")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid JSON: unexpected end of input")
	}
	return err
}

// ParseSpec reads a spec from JSON, strictly (unknown fields, wrong types and
// trailing data are errors), and validates it.
func ParseSpec(data []byte) (*Spec, error) {
	var s Spec
	if err := s.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// LoadSpec reads and validates a JSON spec file (see the package doc for the
// format).
func LoadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("arch spec: %w", err)
	}
	s, err := ParseSpec(data)
	if err != nil {
		return nil, fmt.Errorf("arch spec %s: %w", path, err)
	}
	return s, nil
}
