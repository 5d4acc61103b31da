package eval

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/mncdev/mnc/runtime/esc"
)

// Report is what Run measured.
type Report struct {
	Images     string        `json:"images"` // the directory or list evaluated
	Format     string        `json:"format"` // imagefolder, csv or tsv
	ImageCount int           `json:"image_count"`
	ClassCount int           `json:"class_count"` // classes with images
	Models     []ModelReport `json:"models"`
	// Agreement compares the top-1 classes of every pair of models.
	Agreement []Agreement `json:"agreement"`

	Labels  []string `json:"-"` // class names (may be nil)
	Samples []Sample `json:"-"`
	// Top1 is each image's top-1 class per model: [image][model].
	Top1 [][]int `json:"-"`
}

// ModelReport is one model's accuracy.
type ModelReport struct {
	Name        string  `json:"name"`
	Path        string  `json:"path"`
	Kind        string  `json:"kind"`       // int8, float32 (.mnc files) or float
	Preprocess  string  `json:"preprocess"` // preset and input size, e.g. "tf 224x224"
	Top1Correct int     `json:"top1_correct"`
	Top5Correct int     `json:"top5_correct"`
	Top1        float64 `json:"top1"` // fractions of the images
	Top5        float64 `json:"top5"`
	// PerClass is the accuracy on the images of each class present, by
	// class index.
	PerClass []ClassAccuracy `json:"per_class"`
	// Confusions are the most frequent wrong top-1 answers, most first.
	Confusions []Confusion `json:"confusions"`
}

// ClassAccuracy is a model's accuracy on one class's images.
type ClassAccuracy struct {
	Index       int     `json:"index"`
	Label       string  `json:"label"`
	Images      int     `json:"images"`
	Top1Correct int     `json:"top1_correct"`
	Top5Correct int     `json:"top5_correct"`
	Top1        float64 `json:"top1"`
	Top5        float64 `json:"top5"`
}

// Confusion counts images of class True that a model called Predicted.
type Confusion struct {
	True           int    `json:"true"`
	TrueLabel      string `json:"true_label"`
	Predicted      int    `json:"predicted"`
	PredictedLabel string `json:"predicted_label"`
	Count          int    `json:"count"`
}

// Agreement is how often two models give the same top-1 class.
type Agreement struct {
	A         string  `json:"a"`
	B         string  `json:"b"`
	Top1Agree int     `json:"top1_agree"`
	Images    int     `json:"images"`
	Fraction  float64 `json:"fraction"`
}

func frac(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

func label(labels []string, i int) string {
	if i >= 0 && i < len(labels) {
		return labels[i]
	}
	return strconv.Itoa(i)
}

// newReport aggregates the predictions ([image][model] top-5 classes).
func newReport(ds *Dataset, labels []string, models []*model, preds [][][]int, confusions int) *Report {
	n := len(ds.Samples)
	r := &Report{Images: ds.Source, Format: ds.Format, ImageCount: n, Labels: labels, Samples: ds.Samples, Top1: make([][]int, n)}
	perClass := map[int]int{}
	for i, s := range ds.Samples {
		perClass[s.Label]++
		r.Top1[i] = make([]int, len(models))
		for mi := range models {
			r.Top1[i][mi] = preds[i][mi][0]
		}
	}
	classes := slices.Sorted(func(yield func(int) bool) {
		for c := range perClass {
			if !yield(c) {
				return
			}
		}
	})
	r.ClassCount = len(classes)
	for mi, m := range models {
		mr := ModelReport{Name: m.name, Path: m.path, Kind: m.kind,
			Preprocess: fmt.Sprintf("%s %dx%d", m.spec.Preset, m.spec.Height, m.spec.Width)}
		t1, t5 := map[int]int{}, map[int]int{}
		conf := map[[2]int]int{}
		for i, s := range ds.Samples {
			p := preds[i][mi]
			if p[0] == s.Label {
				mr.Top1Correct++
				t1[s.Label]++
			} else {
				conf[[2]int{s.Label, p[0]}]++
			}
			if slices.Contains(p, s.Label) {
				mr.Top5Correct++
				t5[s.Label]++
			}
		}
		mr.Top1, mr.Top5 = frac(mr.Top1Correct, n), frac(mr.Top5Correct, n)
		mr.PerClass = []ClassAccuracy{}
		for _, c := range classes {
			k := perClass[c]
			mr.PerClass = append(mr.PerClass, ClassAccuracy{Index: c, Label: label(labels, c), Images: k,
				Top1Correct: t1[c], Top5Correct: t5[c], Top1: frac(t1[c], k), Top5: frac(t5[c], k)})
		}
		mr.Confusions = []Confusion{}
		for pair, k := range conf {
			mr.Confusions = append(mr.Confusions, Confusion{True: pair[0], TrueLabel: label(labels, pair[0]),
				Predicted: pair[1], PredictedLabel: label(labels, pair[1]), Count: k})
		}
		slices.SortFunc(mr.Confusions, func(a, b Confusion) int {
			return cmp.Or(b.Count-a.Count, a.True-b.True, a.Predicted-b.Predicted)
		})
		mr.Confusions = mr.Confusions[:min(len(mr.Confusions), confusions)]
		r.Models = append(r.Models, mr)
	}
	r.Agreement = []Agreement{}
	for a := range models {
		for b := a + 1; b < len(models); b++ {
			k := 0
			for i := range n {
				if r.Top1[i][a] == r.Top1[i][b] {
					k++
				}
			}
			r.Agreement = append(r.Agreement, Agreement{A: models[a].name, B: models[b].name, Top1Agree: k, Images: n, Fraction: frac(k, n)})
		}
	}
	return r
}

// Below returns the models whose top-1 accuracy is below min (a fraction).
func (r *Report) Below(min float64) []ModelReport {
	var out []ModelReport
	for _, m := range r.Models {
		if m.Top1 < min {
			out = append(out, m)
		}
	}
	return out
}

// ParseFraction reads a quality threshold: a fraction 0..1 ("0.7") or a
// percentage 0..100% ("70%").
func ParseFraction(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, "%")), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a fraction (0.7) or a percentage (70%%)", s)
	}
	if pct {
		v /= 100
	}
	if !(v >= 0 && v <= 1) {
		return 0, fmt.Errorf("%q is out of range: give a fraction 0-1 (0.7) or a percentage 0-100%% (70%%)", s)
	}
	return v, nil
}

// show is s as is when it is plain printable text, else quoted with Go
// escapes: names from files may hold control characters.
func show(s string) string {
	if s == "" {
		return `""`
	}
	return esc.String(s)
}

// short is a label for a table: its first synonym when it is long
// ("dragonfly, ..." for ImageNet's eight names of the dragonfly), shown.
func short(l string) string {
	if len([]rune(l)) > 32 && strings.Contains(l, ",") {
		l = firstSynonym(l) + ", ..."
	}
	return show(l)
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteCSV writes one row per image: its path, true class (index and
// label), and each model's top-1 class (index and label) and whether it is
// right.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"path", "true_index", "true_label"}
	for _, m := range r.Models {
		name := esc.String(m.Name)
		head = append(head, name+" top1_index", name+" top1_label", name+" correct")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for i, s := range r.Samples {
		row := []string{esc.String(s.Path), strconv.Itoa(s.Label), esc.String(label(r.Labels, s.Label))}
		for mi := range r.Models {
			p := r.Top1[i][mi]
			row = append(row, strconv.Itoa(p), esc.String(label(r.Labels, p)), strconv.FormatBool(p == s.Label))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// maxClassRows bounds the per-class table of the text report; with more
// classes it shows the worst ones of the first model (JSON has them all).
const maxClassRows = 30

// WriteText writes the report as aligned tables.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d images of %d classes (%s %s)\n\n", r.ImageCount, r.ClassCount, r.Format, show(r.Images))
	pct := func(k, n int) string { return fmt.Sprintf("%.1f%%", 100*frac(k, n)) }
	count := func(k, n int) string { return fmt.Sprintf("%d/%d", k, n) }

	t := [][]string{{"model", "kind", "preprocess", "top-1", "", "top-5", ""}}
	for _, m := range r.Models {
		t = append(t, []string{show(m.Name), m.Kind, m.Preprocess, pct(m.Top1Correct, r.ImageCount), count(m.Top1Correct, r.ImageCount),
			pct(m.Top5Correct, r.ImageCount), count(m.Top5Correct, r.ImageCount)})
	}
	table(&b, t, "lllrrrr")

	if len(r.Agreement) > 0 {
		b.WriteString("\ntop-1 agreement\n")
		t = [][]string{}
		for _, a := range r.Agreement {
			t = append(t, []string{show(a.A), show(a.B), pct(a.Top1Agree, a.Images), count(a.Top1Agree, a.Images)})
		}
		table(&b, t, "llrr")
	}

	rows := r.Models[0].PerClass
	title := "\nper-class top-1\n"
	if len(rows) > maxClassRows {
		rows = slices.Clone(rows)
		slices.SortStableFunc(rows, func(a, b ClassAccuracy) int { return cmp.Compare(a.Top1, b.Top1) })
		rows = rows[:maxClassRows]
		title = fmt.Sprintf("\nper-class top-1: the %d classes (of %d) where %s does worst; --json lists all\n", maxClassRows, r.ClassCount, show(r.Models[0].Name))
	}
	b.WriteString(title)
	head := []string{"class", "images"}
	align := "lr"
	for _, m := range r.Models {
		head = append(head, show(m.Name))
		align += "r"
	}
	t = [][]string{head}
	for _, c := range rows {
		row := []string{short(c.Label), strconv.Itoa(c.Images)}
		for _, m := range r.Models {
			i, _ := slices.BinarySearchFunc(m.PerClass, c.Index, func(a ClassAccuracy, idx int) int { return a.Index - idx })
			row = append(row, pct(m.PerClass[i].Top1Correct, c.Images))
		}
		t = append(t, row)
	}
	table(&b, t, align)

	for _, m := range r.Models {
		if len(m.Confusions) == 0 {
			if m.Top1Correct == r.ImageCount {
				fmt.Fprintf(&b, "\nmost confused, %s: none (every top-1 right)\n", show(m.Name))
			}
			continue
		}
		fmt.Fprintf(&b, "\nmost confused, %s (true -> predicted)\n", show(m.Name))
		t = [][]string{}
		for _, c := range m.Confusions {
			t = append(t, []string{short(c.TrueLabel), "->", short(c.PredictedLabel), strconv.Itoa(c.Count)})
		}
		table(&b, t, "lllr")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// table writes rows as columns two spaces apart, indented by two, each
// column left ('l') or right ('r') aligned as align says.
func table(b *strings.Builder, rows [][]string, align string) {
	width := make([]int, len(align))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for _, row := range rows {
		line := ""
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if align[i] == 'r' {
				line += "  " + pad + c
			} else {
				line += "  " + c + pad
			}
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
}
