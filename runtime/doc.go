// Package runtime runs compiled .mnc model files: the small, dependency-free
// part of mnc that a board runner links (it imports the standard library,
// runtime/kernels, runtime/preprocess, runtime/mncfb, the FlatBuffers
// library and golang.org/x/sys, and nothing of the compiler).
//
// # Use
//
//	m, err := runtime.Open("mobilenet_v2.mnc") // mmap, verify, plan
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer m.Close()
//	it, err := m.NewInterpreter() // one per goroutine; cheap
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer it.Close() // stops its worker goroutines
//	out, err := it.RunFile("parrot.jpg") // the model's own preprocessing
//	if err != nil {
//		log.Fatal(err)
//	}
//	best := 0
//	for i, v := range out.Data {
//		if v > out.Data[best] {
//			best = i
//		}
//	}
//	fmt.Println(best, m.Labels()[best])
//
// Run takes a preprocessed float32 tensor ([3,H,W] or a batch [N,3,H,W],
// NCHW as PyTorch and ONNX have it) and returns the float32 logits; the
// result is the interpreter's and valid until its next Run, which allocates
// nothing. A segmentation model (format 1.4: DeepLabV3, whose output is an
// ARG_MAX's class map) returns int32 indices in Tensor.I32 instead of
// Data. RunImage and RunFile apply the preprocessing recorded in the
// file (the one the int8 model was calibrated with).
//
// A model may have several outputs (format 1.4: SSDLite's cls_logits
// [N,anchors,classes] and bbox_regression [N,anchors,4], which
// runtime/detect decodes). Run returns the first; RunAll returns them all,
// in the order of Model.OutputNames and Model.OutputShapes, and likewise
// allocates nothing once sized. The verifier checks that the outputs are
// distinct float32 (or int32) activations that operators write, and the
// arena plan keeps every one of them live until the last operator.
//
// A detector's file (format 1.5) records its post-processing in
// Metadata.detection (Model.Detection: runtime/detect.Config, the anchor
// generator, feature maps, which output is which, torchvision's
// thresholds). The loader checks every value against runtime/detect's
// limits, the outputs' shapes against the anchors' count and the anchors'
// image against the input, and makes the anchors once (Model.Anchors).
// Detect runs a batch and post-processes it as torchvision's SSD does,
// rescaling the boxes to each image's original size when given;
// DetectImage and DetectFile preprocess a photo as the file records
// (torchvision's detection transform, preprocess.Interpolate) and return
// its boxes in the photo's pixels.
//
// # Loading: the verifier
//
// Open memory-maps the file (read-only, where the platform has mmap) and
// Load takes bytes; both verify the whole file before anything runs, so
// that a truncated, corrupt or hostile file is an error and never a panic,
// an out-of-bounds read or an unbounded allocation:
//
//   - structure: the identifier, the format version (a newer major is
//     refused), then every table, vtable, field, string and vector
//     reachable from the root lies inside the file (fbverify.go; the
//     FlatBuffers Go library does not check);
//   - contents: every index (buffers, tensors, operator codes), dtype,
//     shape (rank <= 8, at most 2^30 elements, activations within
//     MaxArenaBytes), quantization parameter (positive finite scales, int8
//     zero points), operator code and version, option and activation;
//     constant buffers are 16-byte aligned and exactly as long as their
//     tensors;
//   - precision: the model's (int8, float32 or mixed) agrees with its
//     tensors, and in a mixed model every operator states its own, that of
//     its activation tensors (precision.go); a float32 layer's weights are
//     float32 or (format 1.6) int8 codes with one positive scale per output
//     channel and zero points 0, dequantized at load (float32(q)*s), the
//     floats the compiler computed;
//   - dataflow: each activation is written once, by one operator, before
//     it is read; constants are never written;
//   - the arena plan: every activation fits the arena, tensors whose
//     lifetimes overlap never share bytes, and the recorded lower bound is
//     the real one;
//   - every operator: shapes consistent with its options (convolution
//     output sizes, weight and bias shapes, per-channel scales of the
//     weights), fixed-point multipliers in range, accumulators that cannot
//     overflow.
//
// Copies made while reading (names, labels, multipliers, repacked weights)
// are charged to a budget proportional to the file size.

// # Replacing a model file
//
// A mapped file is read in place for as long as the model is open. To
// replace a model under a running service, write the new file next to the
// old one and rename it over it (os.Rename, atomic): the service keeps
// reading the old, now unlinked, file until it opens the new one. Never
// rewrite the file in place (cp new.mnc model.mnc truncates it first):
// the pages the service had mapped are gone, and Run returns an error
// saying so ("the model file ... changed while mapped") instead of the
// process dying of SIGBUS, on every call until the model is opened again
// (faults.go); a file rewritten in place without shrinking would be read
// with its new weights against the old plan. The limits every file is
// checked against are named in runtime/limits.
//
// # The execution plan
//
// Loading turns the operators into a list of steps with every kernel
// parameter resolved (kernels.ConvParams with their fixed-point
// multipliers and clamps, lookup tables, weight slices into the mapped
// file, positions in the arena), built once and shared read-only by all of
// a model's Interpreters. The parameters are derived from the file's scales
// by the functions of runtime/kernels that quant's int8 reference
// interpreter calls too (scheme.go there), so the results equal the
// reference's bit for bit. Each Interpreter owns one arena (the compiler's
// plan: one buffer for all activations) and walks the steps. Int8 steps
// call the kernels of the kernels.Set chosen once at load (the best this
// CPU runs, or the one Options.Kernels or MNC_KERNELS names), with weights
// packed by that Set. Float32 steps compute in float64 and store float32,
// as ir/interp does, with the same results on every CPU (activation.go
// states the rule).
//
// Each operator family has a file holding its step types for both
// precisions, their planning and their thread splitting (plan.go lists
// them): adding or changing an operator touches its family's file and the
// operator table in plan.go.
//
// # Threads
//
// An Interpreter runs on Options.Threads threads (NewInterpreterThreads
// overrides it; 0 means runtime.GOMAXPROCS(0), 1 keeps everything on the
// caller's goroutine). With more than one, NewInterpreter starts
// threads-1 worker goroutines owned by the interpreter; Run is the first
// thread and splits each large int8 step (convolutions over output rows,
// pointwise convolutions over pixels, fully connected layers over rows,
// batch-1 classifiers over blocks of channels, adds and lookups over
// elements, channel multiplies over positions) into one contiguous range
// per thread; steps under about 128K MACs run whole on the caller. Every
// output element is computed by the same kernel code whatever the split, so
// the results are identical, bit for bit, for every thread count, and Run
// still allocates nothing (the hand-off is an atomic task number that
// workers poll briefly before parking on a channel). Interpreter.Close
// stops the workers; an interpreter dropped without Close has them stopped
// by a cleanup (runtime.AddCleanup) once it is unreachable, since the
// workers reference only the pool, never the interpreter. Details in
// threads.go.
//
// # Profiling
//
// Interpreter.SetProfile(true) times every step of the following Runs
// (Interpreter.Profile returns the sums); when off it costs one nil test
// per step. internal/bench (mnc bench) builds its latency and per-layer
// reports on it.
package runtime
