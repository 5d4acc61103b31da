package limits

import "fmt"

// The budget, by who checks it. Sizes are in bytes unless named otherwise;
// README's "Untrusted input" section lists them all.

// Every model file read or mapped whole.
const (
	// ModelFile bounds every model file read or mapped whole: ONNX
	// (protobuf's own 2 GiB limit), .pth, .safetensors and .mnc.
	ModelFile = 1<<31 - 1
)

// The command line (cmd/mnc): the largest values of the flags that size
// an allocation or a loop, and the small files it reads besides models and
// images. A flag beyond its limit is a usage error naming both.
const (
	// Threads bounds --threads, --workers and each count of bench
	// --compare-threads: every thread or worker holds its own interpreter
	// (and arena of activations), so memory grows with the count.
	Threads = 1024
	// BenchIters bounds bench --iters and --warmup (the timed runs' times
	// are kept, 8 bytes each).
	BenchIters = 1 << 20
	// BenchRounds bounds bench --rounds (turns of --compare-threads).
	BenchRounds = 1 << 16
	// Classes bounds --classes, --top and the class names of a --labels
	// file (ImageNet-21k has 21841).
	Classes = 1 << 20
	// Resolution bounds --resolution, the input height and width of a
	// checkpoint's network (the activations budget of the readers bounds
	// what a resolution costs).
	Resolution = 4096
	// Images bounds the image counts of compile --calib-images and
	// --report-images (caps on the images of a folder).
	Images = 1 << 24
	// DemoImages bounds demo --calib-images and --test-images, which
	// generate that many images on disk (the default is 500).
	DemoImages = 20000
	// Confusions bounds eval --confusions (class pairs listed per model).
	Confusions = 1 << 20
	// LabelsFile bounds the size of a --labels file (ImageNet's 1000
	// names take 21 KiB).
	LabelsFile = 16 << 20
	// ImageList bounds the size of an eval --images LIST.csv/.tsv file.
	ImageList = 64 << 20
	// ImageListRows bounds its rows (images to evaluate).
	ImageListRows = 1 << 22
)

// Runtime: .mnc model files, images and the runner. The model limits are
// checked by the runtime's verifier and, with the same constants, by the
// compiler before it writes a file.
const (
	// ModelArena bounds the activation memory (the arena) of a .mnc model,
	// and so every activation tensor.
	ModelArena = 512 << 20
	// ModelTensorElements bounds the elements of any tensor of a .mnc
	// model.
	ModelTensorElements = 1 << 30
	// ModelTensors, ModelOps and ModelBuffers bound the tensors, operators
	// and constant buffers of a .mnc model.
	ModelTensors = 1 << 16
	ModelOps     = 1 << 16
	ModelBuffers = 1 << 16

	// ImageFile bounds the size of an image file (JPEGs are read whole).
	ImageFile = 512 << 20
	// ImagePixels bounds an image's width x height, read from its header
	// before decoding, and the resized image of the preprocessing.
	ImagePixels = 1 << 27
	// ImageMemory bounds the memory decoding and preprocessing one image
	// takes, computed from its header before anything is allocated: the
	// decoder's buffers and result (from 1 byte a pixel for gray to 8 for
	// 16-bit PNGs, plus the coefficients of progressive JPEGs and the
	// alpha planes of WebPs), mnc's RGBA copy (4 bytes a pixel) and the
	// first resize pass (at most as large when downscaling). 1 GiB admits
	// a 50-megapixel (8160x6120) photo as a JPEG (baseline or progressive
	// YCbCr), an 8- or 16-bit PNG, a BMP or a lossy or lossless WebP.
	ImageMemory = 1 << 30

	// BenchRuns bounds mncrun's -runs (its timings are preallocated).
	BenchRuns = 1_000_000
)

// The model readers' budget (frontend/torch, frontend/onnx,
// frontend/mobilenet, internal/npy and the graph check in ir).
const (
	// ArchSpecFile bounds an --arch-spec JSON file: the built-in tables
	// are under 2 KiB as JSON.
	ArchSpecFile = 1 << 20
	// ArchBlocks bounds the blocks of an architecture table (a V2 row
	// counts its repeats): the built-in tables have 13 to 17.
	ArchBlocks = 1024
	// Weights bounds the constants (weights) of a float graph, computed
	// from their shapes before anything is allocated: mobilenet_v2 needs
	// 14 MiB, the largest built-in configuration (mobilenet_v3_large at
	// --width 4, 1000 classes) 271 MiB.
	Weights = 1 << 30
	// Activations bounds the activation tensors of one inference of a
	// float graph at batch 1 (unknown dimensions count as 1), every graph
	// input and node output added up, computed from the shapes before
	// anything runs: mobilenet_v2 needs 76 MiB at 224x224, 395 MiB at
	// 512x512 and 1.5 GiB at --width 4 and 512x512.
	Activations = 4 << 30
	// Activation bounds one activation tensor (batch 1) the same way:
	// mobilenet_v2's largest is 4.6 MiB at 224x224, 96 MiB at --width 4
	// and 512x512.
	Activation = 512 << 20
	// CheckpointEntries bounds the entries of a torch.save zip archive and
	// the tensors of a .safetensors file (each costs a few hundred bytes
	// decoded, however few bytes encode it): mobilenet_v2's checkpoint has
	// 316 entries.
	CheckpointEntries = 1 << 16
	// GraphElements bounds the nodes, initializers, graph inputs and
	// outputs, and the inputs, outputs and attributes of every node of an
	// ONNX graph, added up: each costs a decoded struct or string however
	// few bytes encode it. The MobileNet graphs in testdata and ../shared
	// have 880 to 1700.
	GraphElements = 1 << 16
	// TensorFile bounds the float32 data of a --tensor .npy input (a
	// float64 file is converted, so it may be twice as large on disk):
	// 1 GiB is a batch of about 1700 images of 3x224x224.
	TensorFile = 1 << 30
)

// Bytes formats n bytes for people: "512 B", "3.5 KiB", "2 GiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	s := fmt.Sprintf("%.1f", v)
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		s = s[:len(s)-2]
	}
	return s + " " + "KMGTPE"[i:i+1] + "iB"
}
