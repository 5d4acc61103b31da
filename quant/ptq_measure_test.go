package quant

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/ir"
)

// TestMeasurePTQ measures post-training quantization choices on ../shared
// MobileNetV2 the way doc.go's figures were chosen: statistics from all
// calibration images, the data-driven choices (auto's ranges, activation
// bias correction, weight rounding by output error) fitted on MNC_PTQ_FIT images and judged on the held-out
// rest of the calibration images (MNC_PTQ_SWAP: the first images held out,
// the last ones fitted), eval reported only as the check. It runs only with
// MNC_PTQ_MEASURE set (a minute or more):
//
//	MNC_PTQ_MEASURE=1 MNC_PTQ_FIT=16 go test ./quant -run TestMeasurePTQ -v
//
// MNC_PTQ_MODEL=FILE,RES measures another model of ../shared/models (default
// mobilenet_v2_1.0_224.onnx,224); MNC_PTQ_VARIANTS lists the variants, each
// a method followed by any of nobc (no bias correction), actbias, output
// (weight rounding by output error) and own (the file's own ranges).
func TestMeasurePTQ(t *testing.T) {
	if os.Getenv("MNC_PTQ_MEASURE") == "" {
		t.Skip("set MNC_PTQ_MEASURE=1 to measure")
	}
	file, res := v2ONNX.file, v2ONNX.res
	if v := os.Getenv("MNC_PTQ_MODEL"); v != "" { // FILE,RES under ../shared/models
		f, r, _ := strings.Cut(v, ",")
		file, res = f, 224
		if r != "" {
			res, _ = strconv.Atoi(r)
		}
	}
	m := loadShared(t, file, frontend.Options{Resolution: res}, res)
	st := m.st
	nFit := len(st.inputs)
	if v := os.Getenv("MNC_PTQ_FIT"); v != "" {
		nFit, _ = strconv.Atoi(v)
	}
	fit, hold := st.inputs[:nFit], st.inputs[nFit:]
	if os.Getenv("MNC_PTQ_SWAP") != "" {
		k := len(st.inputs) - nFit
		hold, fit = st.inputs[:k], st.inputs[k:]
	}
	saved := st.inputs
	defer func() { st.inputs = saved }()
	view, err := newCalibView(m.f)
	if err != nil {
		t.Fatal(err)
	}
	variants := []string{"minmax", "minmax actbias", "auto", "auto actbias"}
	if v := os.Getenv("MNC_PTQ_VARIANTS"); v != "" {
		variants = strings.Split(v, ",")
	}
	for _, variant := range variants {
		o := Options{Method: strings.Fields(variant)[0], NoBiasCorrect: strings.Contains(variant, "nobc"), RangesFromModel: strings.Contains(variant, "own")}
		st.inputs = fit // auto's second pass and the correction see only these
		t0 := time.Now()
		st.Grams = nil
		if strings.Contains(variant, "output") { // weight rounding by output error, its moments on fit only
			o.Rounding = RoundOutput
			fs, err := CalibrateTensors(m.f, fit, Options{Method: MinMax, Rounding: RoundOutput})
			if err != nil {
				t.Fatal(err)
			}
			st.Grams = fs.Grams
		}
		if o.Method == Auto {
			st.autoChoice = nil
			if err := chooseAuto(m.f, st, o); err != nil {
				t.Fatal(err)
			}
		}
		q, err := Quantize(m.f, st, o)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(variant, "actbias") {
			if _, err := correctActBias(view.g, nil, q, fit, 0); err != nil {
				t.Fatal(err)
			}
		}
		el := time.Since(t0)
		ev := func(in []*ir.Tensor) string {
			if len(in) == 0 {
				return "-"
			}
			mt, err := Evaluate(m.f, q, in, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			return strconv.FormatFloat(mt.LogitsSQNR, 'f', 2, 64) + " dB " + strconv.Itoa(mt.Top1Agree) + "/" + strconv.Itoa(mt.Images)
		}
		t.Logf("%-16s fit %-14s held out %-14s eval %-14s (%v)", variant, ev(fit), ev(hold), ev(m.eval), el.Round(time.Millisecond))
	}
}
