// Package passes rewrites ir graphs: a pass manager and the compiler's
// passes.
//
// Passes are data, in the manner of the Go compiler's SSA pass list: Pipeline
// is an ordered table of Pass values (name, function, required flag, short
// doc), and Constraints is a second table of "A must run before B" rules that
// CheckOrder enforces (a test fails if the table breaks them). Run executes a
// table on a graph: after every pass it can run ir.Verify (Options.Check; the
// tests always do), print the graph (Options.DumpAfter), and it records the
// pass's duration, rewrite counts and notes in a Report, whose Summary (final
// op counts, fused activations by kind, squeeze-excite units, BatchNorms left
// unfolded) describes the result independently of how it was reached. A panic
// inside a pass becomes an error naming the pass.
//
// The target-independent pipeline takes a float NCHW graph from a frontend
// and returns an equivalent float graph in the runtime's form: canonical ops
// (no Identity or Dropout, Clip as Relu/Relu6, exporter spellings of
// HardSwish and HardSigmoid recognised, MatMul+Add as Gemm, every Gemm as
// B [N,K] with alpha and beta folded, zero Pad folded into Conv), BatchNorm folded into the preceding Conv or Gemm, activations
// fused into their producers, squeeze-excite blocks as single SqueezeExcite
// nodes, dead values removed and activations in NHWC. The float reference
// interpreter gives the same logits before and after (to float32 rounding).
//
// HardSigmoidTable and HardSwishTable build the exact 256-entry int8 tables of
// the hard activations, and LowerHardActivations (not in Pipeline: the
// quantization stage runs it) replaces quantized hard activations by Lookup
// nodes.
package passes
