// Package progress draws the progress bars of long commands (calibration,
// evaluation) on a terminal, and nothing when the output is not one, so that
// logs and pipes stay clean.
package progress

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/mncdev/mnc/runtime/esc"
)

// Bar returns a bar of n steps described by what, drawn on w if w is a
// terminal (an *os.File), else nil. The bar clears itself when finished.
func Bar(w io.Writer, n int, what string) *progressbar.ProgressBar {
	f, ok := w.(*os.File)
	if !ok || f == nil || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions(n, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription(esc.String(what)),
		progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond))
}
