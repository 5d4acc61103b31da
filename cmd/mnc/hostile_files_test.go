package main

import (
	"path/filepath"
	"syscall"
	"testing"
)

// Cases: paths that are not what they claim (directories, FIFOs, devices,
// empty paths).
func init() {
	hostileCases = append(hostileCases,
		hostileCase{
			name: "image-is-fifo",
			setup: func(t *testing.T, dir string) []string {
				fifo := filepath.Join(dir, "photo.jpg")
				if err := syscall.Mkfifo(fifo, 0o600); err != nil {
					t.Skip(err)
				}
				return []string{"run", goldenFile(t, "mobilenet_v3_small", "onnx_opset17"), "--preprocess", "tf", fifo}
			},
			want: "is a named pipe (FIFO), not a regular file",
		},
	)
}
