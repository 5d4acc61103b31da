// Package eval measures models against ground truth: `mnc eval` runs one or
// more classifiers (float .onnx/.pth models on the reference interpreter,
// int8 and float32 .mnc files on the runtime) over a labelled image set (an
// ImageFolder directory or a path,label list, see LoadDataset) and reports
// top-1 and top-5 accuracy per model, the top-1 agreement of every pair of
// models, per-class accuracy and the most confused classes, as text, JSON
// or per-image CSV. Images are decoded and run in parallel, each worker on
// its own single-threaded replica of every model; the results and their
// order do not depend on the number of workers. `mnc demo` computes its
// accuracy line with Run too.
package eval
