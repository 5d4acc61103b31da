// Package interp is mnc's float reference interpreter: it executes an ir.Graph
// on float32 tensors (ArgMax alone has integer results: the indices) with
// plain, obviously correct Go, and is the oracle every
// later stage (passes, quantization, generated code) is checked against. Ops
// follow ONNX semantics (Softmax as in opset 13); AveragePool follows PyTorch
// where ONNX is vague (the part of a ceil-mode window hanging past the end pad
// never counts). Layout-sensitive nodes in NHWC run as their NCHW form between
// two transpositions, so both layouts give the same values.
//
// Precision rule: tensors are stored as float32, but every dot product (Conv,
// Gemm, MatMul) and every pooling sum is accumulated in float64, and every
// activation, normalisation and elementwise result is computed in float64 from
// the float32 operands; each output element is rounded to float32 exactly once,
// at the end of its op. Work inside an op may be split across goroutines
// (Options.Workers), but each output element is always computed by the same
// sequence of operations, so results are bit for bit independent of the worker
// count and of the batch size. They are also the same on every CPU: every
// product in a sum is of two float32 values, exact in float64, so a CPU that
// fuses it with the addition (Go permits that, and arm64 does it) computes
// the same sum; a product of values that are not both float32 (the hard
// sigmoid's slope, Gemm's alpha and beta) is rounded explicitly, which
// prevents the fusion. The runtime's float32 kernels follow the same rule,
// and the cross-architecture tests (cmd/mnc TestARMRunBitExact) check both.
package interp
