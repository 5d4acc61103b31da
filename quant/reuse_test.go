package quant

import (
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/ir"
)

// TestViewIsReference: the report reuses calibration's compiled view and
// its outputs as the float reference (instead of building the float model
// and running it again); its figures must be exactly those of a report that
// builds and runs the float graph itself, on every golden model, for
// inputs below and beyond the LayerImages that capture every activation,
// with and without an evaluation set.
func TestViewIsReference(t *testing.T) {
	for _, e := range golden.Manifest(t) {
		file, ok := e.Files["onnx_opset17"]
		if !ok {
			file = e.Files["pth"]
		}
		t.Run(e.Name, func(t *testing.T) {
			g, err := frontend.Load(filepath.Join(golden.Dir(t), file), frontend.Options{Arch: e.Arch, Width: e.Width,
				Classes: e.Classes, Resolution: e.Resolution, ReducedTail: e.ReducedTail})
			if err != nil {
				t.Fatal(err)
			}
			f, err := Prepare(g)
			if err != nil {
				t.Fatal(err)
			}
			in := golden.Tensor(t, filepath.Join(golden.Dir(t), e.Files["input"]))
			// LayerImages+4 inputs: the golden input perturbed (seeded).
			rng := rand.New(rand.NewPCG(1, uint64(len(e.Name))))
			var inputs []*ir.Tensor
			for range LayerImages + 4 {
				x := ir.NewFloat32(in.Shape.Clone(), append([]float32(nil), in.F32...))
				for j := range x.F32 {
					x.F32[j] += float32(rng.NormFloat64() * 0.3)
				}
				inputs = append(inputs, x)
			}
			o, err := Options{}.normalize()
			if err != nil {
				t.Fatal(err)
			}
			st, err := CalibrateTensors(f, inputs, o)
			if err != nil {
				t.Fatal(err)
			}
			if st.view == nil || st.viewOf != f || len(st.floatOut) != len(inputs) {
				t.Fatalf("calibration kept view %v of %p (want %p) and %d outputs", st.view != nil, st.viewOf, f, len(st.floatOut))
			}
			q, err := Quantize(f, st, o)
			if err != nil {
				t.Fatal(err)
			}
			eval := inputs[:3]
			reused, err := Assess(f, q, st, eval, nil, o)
			if err != nil {
				t.Fatal(err)
			}
			plain := *st
			plain.view, plain.floatOut = nil, nil
			built, err := Assess(f, q, &plain, eval, nil, o)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []*Metrics{reused.Calib, reused.Eval, built.Calib, built.Eval} {
				m.Elapsed = 0
			}
			if !reflect.DeepEqual(reused.Calib, built.Calib) || !reflect.DeepEqual(reused.Eval, built.Eval) {
				t.Errorf("reusing the calibration view changes the report:\nreused %+v\nbuilt  %+v", reused.Calib, built.Calib)
			}
			if len(reused.Calib.Layers) < 10 || reused.Calib.Images != len(inputs)*max(1, in.Shape[0]) {
				t.Errorf("report of %d images, %d layers", reused.Calib.Images, len(reused.Calib.Layers))
			}
		})
	}
}
