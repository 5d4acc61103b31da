// Package onnx reads ONNX model files into ir graphs. It decodes the protobuf
// wire format directly (no cgo, no generated code), treats the file as
// untrusted (sizes are checked before anything is allocated, malformed input
// is an error, never a panic) and returns a graph that has passed ir.Verify:
// node outputs keep their ONNX names, initializers and Constant nodes become
// ir constants (float types converted to float32), graph inputs that are also
// initializers are constants, and unknown dimensions (dim_param or missing)
// are -1.
//
// Opsets 7 to 21 of the default domain are accepted, with each op read by the
// rules of its version (attribute or input forms of Clip and Pad, Softmax's
// axis default and pre-13 flattening, Dropout and BatchNormalization training
// inputs). Imported ops: Conv, Relu, Clip, HardSigmoid, HardSwish, Sigmoid,
// Add, Sub, Mul, Div, GlobalAveragePool, AveragePool, Flatten, Reshape, Gemm,
// MatMul, Identity, Dropout, Softmax, Pad, Concat, Transpose,
// BatchNormalization, Constant, Resize (mode linear with half_pixel, pytorch_half_pixel,
// align_corners or asymmetric coordinates, as ir.ResizeBilinear where that
// computes the same samples; resize.go), and in pre-quantized (QDQ) files QuantizeLinear and
// DequantizeLinear: an activation's pair becomes the Clip it computes, its
// range recorded as ir.Value.FileRange, and dequantized constant codes
// become float constants (qdq.go). Shape, Gather, Slice, Unsqueeze, Squeeze, Cast and Concat chains that
// compute a Reshape target or Resize sizes are folded (a target may copy a
// run-time dimension of the reshaped value or of the value it comes from
// through Transposes and copying Reshapes, as in torchvision's SSD heads;
// shape.go). Everything else is refused with an
// error naming the op, the node and the opset; so are external data, training
// modes, Dropout masks and forms the ir cannot express (3-D convolution,
// dilated pooling, negative pads, allowzero with zeros).
package onnx
