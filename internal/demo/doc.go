// Package demo is mnc's self-contained example: a procedurally generated
// image set and a small MobileNetV3-Small trained on it, so that `mnc demo`
// can compile a float model to int8 and compare the two on fresh images
// without downloading anything. Image, Sample and WriteDataset draw the
// images (ten classes of shapes and textures on random colours, gradients,
// noise and distractor blobs) with integer arithmetic only, so a (class,
// seed, size) triple gives the same pixels on every platform and Go
// version; Graph builds the embedded checkpoint (model/demo_v3s.pth, made by
// testdata/gen/train_demo.py from images written by ./internal/demo/gendata)
// as a float graph, described by ModelConfig. Run measures accuracy with
// internal/eval on a test set written by WriteImageFolder, exactly as
// `mnc eval` does.
package demo
