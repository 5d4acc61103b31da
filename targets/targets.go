// Package targets names the machines mnc compiles for: their GOOS/GOARCH
// (and GOARM), the CPU features they have and the kernel variant the
// runtime runs on them today. It is the one registry of targets: codegen
// resolves Options.Target (and aliases such as rpi4) through Lookup, and
// every target uses the generic weight layout.
//
// A target is a promise about the board, not a switch in the runtime: the
// runtime always chooses its kernels from the CPU it actually runs on
// (kernels.Choose), so a model compiled for one target loads and runs, bit
// for bit the same, on any machine; the target only records where it is
// meant to run and which kernels suit it.
//
// The package is a leaf (standard library only): the compiler, the CLI and
// the deploy command share it.
package targets

import (
	"fmt"
	"sort"
	"strings"
)

// Target is one named kind of machine.
type Target struct {
	Name        string
	Description string
	GOOS        string
	GOARCH      string
	GOARM       string // "7" for armv7, "" otherwise
	// Features are the CPU features every machine of the target has (the
	// names of golang.org/x/sys/cpu, upper case).
	Features []string
	// Kernels is the kernel variant (kernels.Set name) the runtime picks on
	// this target today, with the best CPU of the target.
	Kernels string
	// Boards lists example machines.
	Boards string
}

// Platform is GOOS/GOARCH, with GOARM appended as "/v7" when set.
func (t Target) Platform() string {
	s := t.GOOS + "/" + t.GOARCH
	if t.GOARM != "" {
		s += "/v" + t.GOARM
	}
	return s
}

// Env returns the environment entries (GOOS=..., GOARCH=..., GOARM=...,
// CGO_ENABLED=0) that cross-compile a Go program for the target.
func (t Target) Env() []string {
	env := []string{"CGO_ENABLED=0", "GOOS=" + t.GOOS, "GOARCH=" + t.GOARCH}
	if t.GOARM != "" {
		env = append(env, "GOARM="+t.GOARM)
	}
	return env
}

var all = []Target{
	{
		Name: "generic", Description: "any machine: the pure-Go reference kernels, the layout every runtime reads",
		GOOS: "linux", GOARCH: "amd64", Kernels: "generic",
		Boards: "anything Go runs on",
	},
	{
		Name: "amd64-avx2", Description: "x86-64 with AVX2 (Haswell and later, Zen)",
		GOOS: "linux", GOARCH: "amd64", Features: []string{"AVX2"}, Kernels: "avx2",
		Boards: "most laptops and servers since 2013",
	},
	{
		Name: "amd64-vnni", Description: "x86-64 with AVX-512 VNNI (Ice Lake, Sapphire Rapids, Zen 4)",
		GOOS: "linux", GOARCH: "amd64",
		Features: []string{"AVX2", "AVX512F", "AVX512BW", "AVX512VL", "AVX512VNNI"}, Kernels: "vnni",
		Boards: "Ice Lake and later Xeons/Cores, Zen 4",
	},
	{
		Name: "arm64", Description: "64-bit ARMv8-A (Cortex-A53, Cortex-A72): NEON, no dot product",
		GOOS: "linux", GOARCH: "arm64", Features: []string{"ASIMD"}, Kernels: "neon",
		Boards: "Raspberry Pi 3 (A53), Raspberry Pi 4 (A72), 64-bit Pi OS",
	},
	{
		Name: "arm64-dotprod", Description: "64-bit ARMv8.2-A with the dot product extension (Cortex-A76): SDOT",
		GOOS: "linux", GOARCH: "arm64", Features: []string{"ASIMD", "ASIMDDP", "ASIMDRDM"}, Kernels: "dotprod",
		Boards: "Raspberry Pi 5 (A76), 64-bit Pi OS",
	},
	{
		Name: "armv7", Description: "32-bit ARMv7-A with VFPv3 (32-bit Raspberry Pi OS on any Pi)",
		GOOS: "linux", GOARCH: "arm", GOARM: "7", Features: []string{"VFPV3", "NEON"}, Kernels: "neon32",
		Boards: "Raspberry Pi 2/3/4/5 under 32-bit Pi OS",
	},
}

// Aliases maps board names to targets.
var Aliases = map[string]string{
	"rpi3": "arm64",
	"rpi4": "arm64",
	"rpi5": "arm64-dotprod",
}

// All returns every target, in a fixed order (generic first).
func All() []Target {
	out := make([]Target, len(all))
	copy(out, all)
	for i := range out {
		out[i].Features = append([]string(nil), all[i].Features...)
	}
	return out
}

// Names returns the target names followed by the aliases, sorted.
func Names() []string {
	var s []string
	for _, t := range all {
		s = append(s, t.Name)
	}
	var a []string
	for k := range Aliases {
		a = append(a, k)
	}
	sort.Strings(a)
	return append(s, a...)
}

// Lookup returns the target called name (a target or an alias, any case).
func Lookup(name string) (Target, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		n = "generic"
	}
	if a, ok := Aliases[n]; ok {
		n = a
	}
	for _, t := range All() {
		if t.Name == n {
			return t, nil
		}
	}
	return Target{}, fmt.Errorf("unknown target %q (known: %s)", name, strings.Join(Names(), ", "))
}
