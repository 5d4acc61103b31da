// Package codegen writes .mnc model files (the FlatBuffers schema is
// runtime/mncfb/mnc.fbs, next to its generated Go code): the conversion
// of a quantized (or float) ir graph into a file, the weight packing for a
// target and the activation memory plan.
//
// # The file
//
// A TFLite-like FlatBuffer with the file identifier "MNC1" and a format
// version (major.minor; fields are only ever appended): a table of buffers
// whose data is 16-byte aligned (buffer 0 empty), tensors (shape, dtype,
// buffer index, quantization with per-channel scales and their axis), 32-bit
// operator codes with per-op versions, operators with typed options (a
// union), the graph's input and output, the arena plan, and metadata: the
// preprocessing, the class labels, the calibration record (method, image
// count, a SHA-256 of the calibration image list, the quality report's
// headline figures) and the producer.
//
// Shapes are those of batch 1 (Build checks that the graph treats batch
// items independently; the runtime runs batches item by item).
// Activations are NHWC. A graph has one input and one or more outputs
// (format 1.4: several, e.g. SSDLite's cls_logits and bbox_regression,
// written to Model.outputs in the graph's order). Each graph output is
// float32, or the indices of an ArgMax (a segmentation's class map), which the file stores INT32 even
// when the graph's are i64 (TFLite's ARG_MAX): no axis of a model file
// reaches 2^31 elements. RESIZE_BILINEAR, CONCATENATION and ARG_MAX
// (format 1.4) take their options from ir.ResizeAttrs, ir.ConcatAttrs and
// ir.ArgMaxAttrs (with a fused resize, ArgMaxOptions.resize), axes
// normalized to [0, rank). Int8 files hold exactly the int8 graph of
// quant.Quantize: QUANTIZE, the int8 body (CONV_2D and FULLY_CONNECTED
// with fused clamps, LOOKUP tables, SQUEEZE_EXCITE with its four
// intermediate tensors and its gate table, ADD, MUL, GLOBAL_AVERAGE_POOL,
// TRANSPOSE, RESHAPE, RESIZE_BILINEAR, CONCATENATION) and DEQUANTIZE, or
// an ARG_MAX reading the int8 codes (one positive scale: the largest code
// is the largest value, the first of equal ones the same); a graph with ops kept in float32
// (quant.Options.KeepFloat) is written as a MIXED file whose every operator
// states its precision (runtime.OpPrecision), and the float32 weights of a
// kept convolution, Gemm or squeeze-excite unit that carry a quantization (quant's storedWeights:
// each value an int8 code times its channel's scale, checked here) are
// stored as those codes (format 1.6), which the runtime dequantizes at load
// to the same floats; the runtime derives the fixed-point
// multipliers from the stored scales by the scheme's own expressions, so
// its results equal the int8 reference interpreter's bit for bit. Bias
// scales are not stored (they are the input's scale times the weights').
//
// # Weights and targets
//
// Options.Target names a target of package targets (the one registry;
// aliases such as rpi4 resolve there): the file records it and its kernel
// variant. Every target stores the generic layout: every convolution
// [O][KH][KW][C/groups] (OHWI, the layout of kernels.Conv, kernels.OHWI
// of the ir's OIHW) and fully connected weights [N][K] (the canonical Gemm
// of the passes pipeline). The runtime repacks at load what another kernel
// reads differently (depthwise [KH][KW][O]), so any file runs with any
// kernel set; it also reads files whose depthwise weights are stored
// [KH][KW][O] (WeightLayoutHWO), as earlier versions could write them.
//
// # Activation memory
//
// Every activation (graph input and outputs included) lives in one arena.
// Its lifetime runs from the op that writes it (the start for the input)
// to the last op that reads it (the end for every output); tensors are placed
// greedy by size, as TFLite's arena planner does: the largest first, each
// into the smallest gap left by the already placed tensors whose lifetimes
// overlap its own, or above them, at 64-byte alignment. The lower bound
// recorded next to the arena size is the largest number of bytes live
// during one op; for MobileNets the plan meets it.
//
// # Writing files
//
// WriteFile writes a file atomically (a temporary file in the same
// directory, synced, renamed over the path), and only over nothing or a
// regular file: a directory, a device node, a FIFO, a socket or a symbolic
// link at the path is refused and left as it is, checked before writing
// and again just before the rename. A symbolic link is refused even when
// it points to a regular file (mnc does not write through links, which
// could point anywhere): the error names its target, to give instead.
// CheckOutput makes the same checks, and that the directory is writable,
// before a command does its work; mnc compile -o, --report-json,
// --report-html and mnc run --save-output use both.
package codegen
