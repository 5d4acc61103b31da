package codegen

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime"
)

// WriteFile writes data to path atomically: into a temporary file in the
// same directory, synced, then renamed over path. On any error the
// temporary file is removed and path is left as it was.
func WriteFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// CalibrationRecord is the calibration record of an int8 model compiled
// by quant.Compile or CompilePrepared from the images of calibDir with at
// most maxImages of them (0: all): the method, the image count, a hash of
// the image list (see the schema) and the report's headline figures.
func CalibrationRecord(rep *quant.Report, calibDir string, maxImages int) (*runtime.Calibration, error) {
	files, err := quant.ListImages(calibDir)
	if err != nil {
		return nil, err
	}
	if maxImages > 0 && len(files) > maxImages {
		files = files[:maxImages]
	}
	skipped := func(f string) bool {
		for _, s := range rep.Skipped {
			if strings.HasPrefix(s, f+": ") {
				return true
			}
		}
		return false
	}
	h := sha256.New()
	for _, f := range files {
		if skipped(f) {
			continue
		}
		rel, err := filepath.Rel(calibDir, f)
		if err != nil {
			rel = f
		}
		fh, err := fileSHA256(f)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%s\x00%s\n", filepath.ToSlash(rel), fh)
	}
	c := &runtime.Calibration{Scheme: rep.Scheme, Method: rep.Method, Images: rep.CalibImages,
		ImageListSHA256: hex.EncodeToString(h.Sum(nil))}
	figures := func(m *quant.Metrics) *runtime.Quality {
		if m == nil {
			return nil
		}
		return &runtime.Quality{Images: m.Images, LogitsSQNR: finite(m.LogitsSQNR), Top1Agree: m.Top1Agree,
			Cosine: m.Cosine, MinCosine: m.MinCosine}
	}
	c.Calib, c.Eval = figures(rep.Calib), figures(rep.Eval)
	return c, nil
}

func finite(v float64) float64 {
	switch {
	case v > 999:
		return 999
	case v < -999 || v != v:
		return -999
	}
	return v
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
