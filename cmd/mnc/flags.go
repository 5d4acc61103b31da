package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Every explicit flag value is checked before a command runs
// (checkFlagValues, the root's PersistentPreRunE): an explicit empty
// string or empty list, a float that is NaN or infinite, and an integer
// outside the range its flag registered (limitFlag) are usage errors
// naming the flag. Defaults are valid by construction and not checked.

// rangeAnnotation is the pflag annotation holding an integer flag's range.
const rangeAnnotation = "mnc-range"

// limitFlag gives the integer (or integer list) flag name of cmd its valid
// range [min, max]: max is one of the named limits of runtime/limits when
// the value sizes an allocation or a loop.
func limitFlag(cmd *cobra.Command, name string, min, max int) {
	f := cmd.Flags().Lookup(name)
	if f == nil {
		panic("limitFlag: no flag --" + name)
	}
	if f.Annotations == nil {
		f.Annotations = map[string][]string{}
	}
	f.Annotations[rangeAnnotation] = []string{strconv.Itoa(min), strconv.Itoa(max)}
}

// checkFlagValues returns a usage error naming the first flag given an
// invalid value, or the first argument that is empty (an unset shell
// variable: "" names no file).
func checkFlagValues(cmd *cobra.Command, args []string) error {
	for i, a := range args {
		if a == "" {
			return usageError(fmt.Errorf("%s: argument %d is empty", cmd.CommandPath(), i+1))
		}
	}
	var err error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if err == nil {
			if e := checkFlag(f); e != nil {
				err = usageError(e)
			}
		}
	})
	return err
}

func checkFlag(f *pflag.Flag) error {
	v := f.Value.String()
	switch t := f.Value.Type(); {
	case t == "string" && v == "":
		return fmt.Errorf("--%s: the value is empty (leave the flag out for its default)", f.Name)
	case strings.HasSuffix(t, "Slice") && v == "[]":
		return fmt.Errorf("--%s: the list is empty", f.Name)
	case t == "float64" || t == "float32":
		if x, err := strconv.ParseFloat(v, 64); err == nil && (math.IsNaN(x) || math.IsInf(x, 0)) {
			return fmt.Errorf("--%s %s: want a finite number", f.Name, v)
		}
	}
	r, ok := f.Annotations[rangeAnnotation]
	if !ok {
		return nil
	}
	lo, _ := strconv.Atoi(r[0])
	hi, _ := strconv.Atoi(r[1])
	for _, s := range strings.Split(strings.Trim(v, "[]"), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			continue // not an integer: pflag refused it already
		}
		switch {
		case n > hi:
			return fmt.Errorf("--%s %d: the limit is %d", f.Name, n, hi)
		case n < lo:
			return fmt.Errorf("--%s %d: want %d to %d", f.Name, n, lo, hi)
		}
	}
	return nil
}
