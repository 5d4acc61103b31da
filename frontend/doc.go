// Package frontend turns a user's float model file into an ir graph: ONNX
// files through frontend/onnx, TensorFlow Lite files (float or quantized,
// loaded as float) through frontend/tflite, PyTorch checkpoints (.pth, .pt) and
// .safetensors files through frontend/torch bound to a MobileNet definition
// from frontend/mobilenet, which Options name or the checkpoint's tensor
// shapes tell (mobilenet.Infer). Load picks the reader from the
// file's identifier (TFLite) or name.
package frontend
