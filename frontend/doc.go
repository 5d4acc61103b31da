// Package frontend turns a user's float model file into an ir graph: ONNX
// files through frontend/onnx, PyTorch checkpoints (.pth, .pt) and
// .safetensors files through frontend/torch bound to a MobileNet definition
// from frontend/mobilenet, which Options name or the checkpoint's tensor
// shapes tell (mobilenet.Infer). Load picks the reader from the file name.
package frontend
