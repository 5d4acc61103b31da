package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/targets"
)

func newTargetsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "targets",
		Short: "List the machines mnc compiles for (mnc compile --target, mnc deploy --target)",
		Long: `List the named targets: their GOOS/GOARCH (and GOARM), the CPU features they
have, and the kernels the runtime runs on them today. A model compiled for
any target runs on any machine: the runtime chooses its kernels from the CPU
it runs on, never executing an instruction the CPU lacks (MNC_KERNELS or
--kernels force a variant; one the CPU lacks is an error).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			all := targets.All()
			if asJSON {
				type row struct {
					Name        string   `json:"name"`
					Description string   `json:"description"`
					Platform    string   `json:"platform"`
					GOOS        string   `json:"goos"`
					GOARCH      string   `json:"goarch"`
					GOARM       string   `json:"goarm,omitempty"`
					Features    []string `json:"features"`
					Kernels     string   `json:"kernels"`
					Boards      string   `json:"boards,omitempty"`
					Aliases     []string `json:"aliases,omitempty"`
				}
				var rows []row
				for _, t := range all {
					rows = append(rows, row{Name: t.Name, Description: t.Description, Platform: t.Platform(), GOOS: t.GOOS, GOARCH: t.GOARCH,
						GOARM: t.GOARM, Features: append([]string{}, t.Features...), Kernels: t.Kernels, Boards: t.Boards, Aliases: aliasesOf(t.Name)})
				}
				e := json.NewEncoder(w)
				e.SetIndent("", "  ")
				return e.Encode(rows)
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "target\tplatform\tCPU features\tkernels\tboards")
			for _, t := range all {
				name := t.Name
				if a := aliasesOf(t.Name); len(a) > 0 {
					name += " (" + strings.Join(a, ", ") + ")"
				}
				feat := strings.Join(t.Features, ",")
				if feat == "" {
					feat = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, t.Platform(), feat, t.Kernels, t.Boards)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(w, "\nthis machine runs: %s (MNC_KERNELS or --kernels force one)\n", strings.Join(kernels.Available(), ", "))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func aliasesOf(name string) []string {
	var s []string
	for a, t := range targets.Aliases {
		if t == name {
			s = append(s, a)
		}
	}
	sort.Strings(s)
	return s
}
