package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print mnc's version, module, VCS revision and Go version",
		Long: `Print the version recorded in compiled models (the "producer"), the module
path and version, the VCS revision and time the binary was built from (with
"+modified" when the tree had uncommitted changes) and the Go toolchain.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), versionLine())
			return err
		},
	}
}

// versionLine describes this binary from its build information.
func versionLine() string {
	s := "mnc " + version
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return s
	}
	s += fmt.Sprintf(" (module %s %s", bi.Main.Path, bi.Main.Version)
	var rev, at, modified string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.time":
			at = kv.Value
		case "vcs.modified":
			if kv.Value == "true" {
				modified = "+modified"
			}
		}
	}
	if rev != "" {
		s += fmt.Sprintf(", revision %.12s%s %s", rev, modified, at)
	}
	return s + ", " + bi.GoVersion + ")"
}
