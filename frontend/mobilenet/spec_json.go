package mobilenet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/mncdev/mnc/runtime/limits"
)

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
	Seg          *segJSON `json:"segmentation,omitempty"`
	Det          *detJSON `json:"detection,omitempty"`
	Comment      any      `json:"comment,omitempty"` // free text, ignored
}

type segJSON struct {
	Head          string `json:"head"`
	InterChannels int    `json:"inter_channels,omitempty"`
	ASPPChannels  int    `json:"aspp_channels,omitempty"`
	AtrousRates   []int  `json:"atrous_rates,omitempty"`
}

// detJSON's lists stay raw so that IndentedJSON writes each on one line
// and errors name the list.
type detJSON struct {
	Head          string            `json:"head"`
	ExtraChannels json.RawMessage   `json:"extra_channels,omitempty"`
	AspectRatios  []json.RawMessage `json:"aspect_ratios,omitempty"`
	MinRatio      float64           `json:"min_ratio,omitempty"`
	MaxRatio      float64           `json:"max_ratio,omitempty"`
}

type v1JSON struct {
	StemChannels int               `json:"stem_channels"`
	Blocks       []json.RawMessage `json:"blocks"`
}

type v2JSON struct {
	InputChannel      int               `json:"input_channel"`
	LastChannel       int               `json:"last_channel"`
	LastChannelScales bool              `json:"last_channel_scales,omitempty"`
	Setting           []json.RawMessage `json:"inverted_residual_setting"`
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
		w.V2 = &v2JSON{InputChannel: v.InputChannel, LastChannel: v.LastChannel,
			LastChannelScales: v.LastChannelScales, Setting: []json.RawMessage{}}
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
	if v := s.Seg; v != nil {
		w.Seg = &segJSON{Head: v.Head, InterChannels: v.InterChannels, ASPPChannels: v.ASPPChannels,
			AtrousRates: v.AtrousRates}
	}
	if v := s.Det; v != nil {
		ints := func(v []int) []any {
			a := make([]any, len(v))
			for i, x := range v {
				a[i] = x
			}
			return a
		}
		w.Det = &detJSON{Head: v.Head, MinRatio: v.MinRatio, MaxRatio: v.MaxRatio}
		if len(v.ExtraChannels) > 0 {
			w.Det.ExtraChannels = raw(ints(v.ExtraChannels)...)
		}
		for _, r := range v.AspectRatios {
			w.Det.AspectRatios = append(w.Det.AspectRatios, raw(ints(r)...))
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
	// encoding/json keeps the last of duplicate keys; refuse them.
	if err := checkDuplicates(data); err != nil {
		return err
	}
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
		out.V2 = &V2Spec{InputChannel: v.InputChannel, LastChannel: v.LastChannel, LastChannelScales: v.LastChannelScales}
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
	if v := w.Seg; v != nil {
		out.Seg = &SegSpec{Head: v.Head, InterChannels: v.InterChannels, ASPPChannels: v.ASPPChannels}
		if len(v.AtrousRates) > 0 {
			out.Seg.AtrousRates = v.AtrousRates
		}
	}
	if v := w.Det; v != nil {
		out.Det = &DetSpec{Head: v.Head, MinRatio: v.MinRatio, MaxRatio: v.MaxRatio}
		if len(v.ExtraChannels) > 0 {
			if err := intList(v.ExtraChannels, "detection.extra_channels", &out.Det.ExtraChannels); err != nil {
				return err
			}
			if len(out.Det.ExtraChannels) == 0 {
				out.Det.ExtraChannels = nil
			}
		}
		for i, r := range v.AspectRatios {
			var ar []int
			if err := intList(r, fmt.Sprintf("detection.aspect_ratios[%d]", i), &ar); err != nil {
				return err
			}
			if ar == nil {
				ar = []int{}
			}
			out.Det.AspectRatios = append(out.Det.AspectRatios, ar)
		}
	}
	*s = out
	return nil
}

// intList decodes a JSON array of integers at path into dst.
func intList(raw json.RawMessage, path string, dst *[]int) error {
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%s: want an array of integers, got %s", path, abbrev(raw))
	}
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
	"":             {"name", "family", "bn_eps", "round_nearest", "comment", "v1", "v2", "v3", "segmentation", "detection"},
	"v1":           {"stem_channels", "blocks"},
	"v2":           {"input_channel", "last_channel", "last_channel_scales", "inverted_residual_setting"},
	"v3":           {"last_channel", "reduced_tail_from", "lastconv_expansion", "se_divisor", "inverted_residual_setting"},
	"segmentation": {"head", "inter_channels", "aspp_channels", "atrous_rates"},
	"detection":    {"head", "extra_channels", "aspect_ratios", "min_ratio", "max_ratio"},
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
	for _, sec := range []string{"v1", "v2", "v3", "segmentation", "detection"} {
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

// checkDuplicates reports the first key given twice in one object, with
// the object's path ("v3: duplicate key \"last_channel\""), if the JSON
// parses at all (the decoder reports syntax errors later). It walks the
// tokens with an explicit stack, so deep nesting costs no recursion.
func checkDuplicates(data []byte) error {
	type frame struct {
		path      string
		obj       bool
		keys      map[string]bool // obj: the keys so far
		expectKey bool            // obj: the next token is a key or '}'
		cur       string          // obj: the path of the current key's value
		idx       int             // array: index of the next element
	}
	var stack []*frame
	top := func() *frame {
		if len(stack) == 0 {
			return nil
		}
		return stack[len(stack)-1]
	}
	valueDone := func() {
		if f := top(); f != nil {
			if f.obj {
				f.expectKey = true
			} else {
				f.idx++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		f := top()
		if f != nil && f.obj && f.expectKey {
			if tok == json.Delim('}') {
				stack = stack[:len(stack)-1]
				valueDone()
				continue
			}
			k, _ := tok.(string)
			if f.keys[k] {
				where := ""
				if f.path != "" {
					where = f.path + ": "
				}
				return fmt.Errorf("%sduplicate key %s", where, strconv.Quote(k))
			}
			f.keys[k], f.expectKey, f.cur = true, false, k
			if f.path != "" {
				f.cur = f.path + "." + k
			}
			continue
		}
		if tok == json.Delim(']') {
			stack = stack[:len(stack)-1]
			valueDone()
			continue
		}
		path := ""
		if f != nil {
			path = f.cur
			if !f.obj {
				path = f.path + "[" + strconv.Itoa(f.idx) + "]"
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{path: path, obj: true, keys: map[string]bool{}, expectKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{path: path})
		default:
			valueDone()
		}
	}
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
	data, err := limits.ReadFile(path, limits.ArchSpecFile, "arch spec")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("arch spec: %w", err)
		}
		return nil, err // names the path and what is wrong with it
	}
	s, err := ParseSpec(data)
	if err != nil {
		return nil, fmt.Errorf("arch spec %s: %w", path, err)
	}
	return s, nil
}
