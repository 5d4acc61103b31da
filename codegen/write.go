package codegen

import (
	"fmt"
	"os"
	"path/filepath"

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

// CalibrationRecord is the calibration record of an int8 model from its
// quality report: the method, the image count, the hash of the image list
// that calibration used (quant.Report.ImageListSHA256, see the schema) and
// the report's headline figures.
func CalibrationRecord(rep *quant.Report) *runtime.Calibration {
	c := &runtime.Calibration{Scheme: rep.Scheme, Method: rep.Method, Images: rep.CalibImages,
		ImageListSHA256: rep.ImageListSHA256}
	figures := func(m *quant.Metrics) *runtime.Quality {
		if m == nil {
			return nil
		}
		return &runtime.Quality{Images: m.Images, LogitsSQNR: finite(m.LogitsSQNR), Top1Agree: m.Top1Agree,
			Cosine: m.Cosine, MinCosine: m.MinCosine}
	}
	c.Calib, c.Eval = figures(rep.Calib), figures(rep.Eval)
	return c
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
