// Package ir is mnc's graph intermediate representation: tensors (Value),
// operations (Node, with one typed attribute struct per op kind) and the Graph
// that holds them in topological order.
//
// Every stage of the compiler speaks ir: frontends build graphs, passes rewrite
// them, quantization annotates them and codegen serialises them. The package
// provides shape inference (InferNode, the one rule used by builders, Verify
// and interpreters alike), Verify (types, shapes, dangling or duplicate values,
// cycles) and a readable text dump (Graph.String).
//
// Conventions: the float graph a frontend produces is NCHW with weights in
// OIHW (PyTorch and ONNX layout). A dimension < 0 is unknown until run time
// (the batch dimension of an exported model, typically); shape inference
// carries it through.
package ir
