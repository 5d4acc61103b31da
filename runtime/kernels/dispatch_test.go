package kernels

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	avail := Available()
	if len(avail) == 0 || avail[len(avail)-1] != "generic" {
		t.Fatalf("Available() = %v, want generic last", avail)
	}
	best, err := Select("")
	if err != nil || best.Name != avail[0] {
		t.Fatalf(`Select("") = %v, %v; want %s`, best, err, avail[0])
	}
	if s, err := Select(" AUTO "); err != nil || s != best {
		t.Errorf(`Select("auto") = %v, %v`, s, err)
	}
	for _, name := range Names() {
		s, err := Select(name)
		switch {
		case slices.Contains(avail, name):
			if err != nil || s.Name != name {
				t.Errorf("Select(%q) = %v, %v", name, s, err)
			}
			if s.Description == "" || s.PackPointwise == nil || s.Pointwise == nil || s.Depthwise == nil || s.Conv == nil ||
				s.Gemm == nil || s.Add == nil || s.GlobalAveragePool == nil || s.ChannelMul == nil || s.LUT == nil ||
				s.QuantizeCodes == nil || s.Interleave3 == nil || s.PackGemm == nil || s.PackDepthwise == nil || s.PackConv == nil {
				t.Errorf("Set %q is incomplete", name)
			}
		default:
			// Known but unavailable: an error naming why, never a fallback.
			if err == nil || !(strings.Contains(err.Error(), "needs CPU features") || strings.Contains(err.Error(), "not compiled")) {
				t.Errorf("Select(%q) = %v, %v; want an error naming what is missing", name, s, err)
			}
			t.Logf("%s unavailable: %v", name, err)
		}
	}
	if _, err := Select("sse9"); err == nil || !strings.Contains(err.Error(), "unknown") {
		t.Errorf("Select of an unknown name: %v", err)
	}
	if s, err := Select("generic"); err != nil || s != Generic {
		t.Errorf(`Select("generic") = %v, %v`, s, err)
	}
}

func TestChoose(t *testing.T) {
	t.Setenv(EnvVar, "generic")
	if s, err := Choose(""); err != nil || s.Name != "generic" {
		t.Errorf("Choose with %s=generic: %v, %v", EnvVar, s, err)
	}
	best, _ := Select("")
	if s, err := Choose("auto"); err != nil || s != best {
		t.Errorf("the flag overrides the environment: %v, %v", s, err)
	}
	t.Setenv(EnvVar, "nonsense")
	if _, err := Choose(""); err == nil {
		t.Error("a bad environment value is accepted")
	}
	t.Setenv(EnvVar, "")
	if s, err := Choose(""); err != nil || s != best {
		t.Errorf("Choose with nothing set: %v, %v", s, err)
	}
}

// TestNoAllocs checks that whole MobileNetV2- and V3-Large-shaped inferences
// allocate nothing, with every Set.
func TestNoAllocs(t *testing.T) {
	sets := append(accelSets(t), Generic)
	if testing.Short() {
		t.Skip("short")
	}
	for name, net := range map[string]*v2Net{"V2": newV2Net(rand.New(rand.NewPCG(9, 10))), "V3-Large": newV3LNet(rand.New(rand.NewPCG(9, 10)))} {
		for _, s := range sets {
			net.pack(s)
			runs := 3
			if s == Generic {
				runs = 1
			}
			if n := testing.AllocsPerRun(runs, func() { net.run(s) }); n != 0 {
				t.Errorf("%s %s: %v allocations per inference", name, s.Name, n)
			}
		}
	}
}
