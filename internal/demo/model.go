package demo

import (
	_ "embed"
	"fmt"

	"github.com/mncdev/mnc/frontend/mobilenet"
	"github.com/mncdev/mnc/frontend/torch"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// Model is the embedded checkpoint: the state_dict of torchvision's
// mobilenet_v3_small described by ModelConfig, trained on demo images by
// testdata/gen/train_demo.py.
//
//go:embed model/demo_v3s.pth
var Model []byte

// Config describes the embedded model and how to feed it.
type Config struct {
	// Net is the architecture, for mobilenet.Build and mobilenet.Bind.
	Net mobilenet.Config
	// Preset is the preprocessing the model was trained with, at
	// Net.Resolution x Net.Resolution.
	Preset preprocess.Preset
	// ImageSize is the side of the images to generate for the model:
	// Resolution*256/224, the size the torchvision preset resizes to, so
	// that its resize is the identity and its center crop keeps the
	// central 7/8, where Image puts everything class-defining.
	ImageSize int
}

// ModelConfig is the configuration of Model.
var ModelConfig = Config{
	Net: mobilenet.Config{
		Arch:       "mobilenet_v3_small",
		Width:      0.35,
		Classes:    len(Classes),
		Resolution: 96,
	},
	Preset:    preprocess.Torchvision,
	ImageSize: 96 * 256 / 224,
}

// Preprocess returns the preprocessing spec of the model's input.
func (c Config) Preprocess() (preprocess.Spec, error) {
	return preprocess.Default(c.Preset, c.Net.Resolution, c.Net.Resolution)
}

// Graph returns the embedded model as a float graph: mobilenet.Build of
// ModelConfig.Net bound to the weights of Model. Each call returns a new
// graph.
func Graph() (*ir.Graph, error) {
	cfg := ModelConfig.Net
	g, err := mobilenet.Build(cfg)
	if err != nil {
		return nil, fmt.Errorf("demo model: %w", err)
	}
	sd, err := torch.LoadBytes("demo_v3s.pth", Model)
	if err != nil {
		return nil, fmt.Errorf("demo model: %w", err)
	}
	if err := mobilenet.Bind(g, cfg, sd); err != nil {
		return nil, fmt.Errorf("demo model: %w", err)
	}
	return g, nil
}

// Batch generates samples first..first+n-1 of the dataset seed at
// ModelConfig.ImageSize and returns them preprocessed for the model as one
// float32 tensor [n, 3, R, R], with their classes.
func Batch(first, n int, seed uint64) (*ir.Tensor, []int, error) {
	if first < 0 || n < 0 {
		return nil, nil, fmt.Errorf("demo: invalid sample range [%d, %d+%d)", first, first, n)
	}
	spec, err := ModelConfig.Preprocess()
	if err != nil {
		return nil, nil, err
	}
	R := ModelConfig.Net.Resolution
	t := ir.NewFloat32(ir.Shape{n, 3, R, R}, nil)
	classes := make([]int, n)
	per := 3 * R * R
	for i := range n {
		img, class := Sample(first+i, seed, ModelConfig.ImageSize)
		if err := spec.Tensor(img, t.F32[i*per:(i+1)*per]); err != nil {
			return nil, nil, err
		}
		classes[i] = class
	}
	return t, classes, nil
}
