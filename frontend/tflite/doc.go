// Package tflite reads TensorFlow Lite model files (.tflite, FlatBuffers
// with the identifier "TFL3", schema version 3) into float ir graphs.
//
// The reader is mnc's own code on the flatbuffers Go runtime, with the field
// slots and enum values of TFLite's published schema (schema.go). The file is
// untrusted: every table, vtable, field, vector and string is checked to lie
// inside it before it is read, tensor, buffer and operator-code indices are
// checked, shapes must be static with positive dimensions and bounded
// element counts (limits.ModelTensorElements), a constant's buffer must hold
// exactly its shape times its element size, and what is allocated is charged
// to the budgets of runtime/limits first. Malformed input is an error of one
// line, never a panic. Only the first subgraph is read.
//
// Mapped operators: CONV_2D, DEPTHWISE_CONV_2D, ADD, SUB, MUL, DIV,
// AVERAGE_POOL_2D, MEAN (over height and width), RESHAPE, SQUEEZE, SOFTMAX,
// FULLY_CONNECTED, HARD_SWISH, LOGISTIC, RELU, RELU6, PAD, PADV2,
// CONCATENATION, RESIZE_BILINEAR (size from its constant input 1;
// align_corners and half_pixel_centers as ir.ResizeAttrs), ARG_MAX (as
// ir.ArgMax, over inputs of rank 1 to 4; the axis is its constant input 1,
// one INT32 or INT64 value; output_type INT32 or INT64, as its output
// tensor: the graph's only integer values, which no other operator may
// read), and QUANTIZE and DEQUANTIZE, which pass their input through (the
// graph is float); fused activations NONE, RELU, RELU_N1_TO_1 and RELU6.
// Every other operator is refused with an error naming it and its index.
//
// Layout: TFLite is NHWC, the ir NCHW. The graph input [N,H,W,C] becomes
// [N,C,H,W] like the ONNX files', every 4-D tensor is held NCHW, filters
// OHWI become OIHW and depthwise filters [1,KH,KW,O] become [O,1,KH,KW].
// Axes of MEAN, SOFTMAX, PAD, CONCATENATION and ARG_MAX are mapped (an
// ARG_MAX over the channels of a 4-D tensor, DeepLab's, reads the NCHW
// value; over another axis, its NHWC transpose, so that the 3-D indices
// keep TFLite's order); RESHAPE and SQUEEZE keep TFLite's row-major
// semantics, through transposes where the two layouts order the elements
// differently. TF's SAME padding becomes the exact asymmetric pads (the odd
// one after).
//
// Quantized files (uint8 and int8, per tensor or per axis) load as float:
// constants are dequantized, (q - zero) * scale, and integer biases with
// input scale x filter scale as TFLite's kernels do; FLOAT16 constants are
// widened. A quantized graph input becomes a float input of the real values
// it stands for (for the ImageNet MobileNets, real = (q - 128) / 128: the tf
// preprocessing). Every activation with one scale records the range it can
// represent on its ir value, FileRange = [(qmin - zero) * scale,
// (qmax - zero) * scale].
//
// Values keep their tensors' names, up to the first ';' (the converter names
// a fused tensor after all its parts). A final SOFTMAX over [N, classes] that is a graph output and feeds nothing
// else is left out: mnc's classifiers output logits and the runtime takes
// the softmax, as for the ONNX files converted from the same models.
package tflite
