package runtime

import "time"

// StepTime is the time spent in one step (operator) of the plan while
// profiling was on.
type StepTime struct {
	Index int           // operator index
	Op    string        // operator type
	Name  string        // operator name
	MACs  int64         // multiply-accumulates per item
	Total time.Duration // summed over Runs items
	Runs  int           // items run (a batch counts each item)
}

// SetProfile turns per-step timing on (and clears the times collected so
// far) or off. When off, Run measures nothing: one nil test per step.
func (it *Interpreter) SetProfile(on bool) {
	if !on {
		it.prof = nil
		return
	}
	it.prof = make([]time.Duration, len(it.m.steps))
	it.profRuns = 0
}

// Profile returns the per-step times collected since SetProfile(true), in
// plan order (nil if profiling is off).
func (it *Interpreter) Profile() []StepTime {
	if it.prof == nil {
		return nil
	}
	ops := it.m.info.Ops
	out := make([]StepTime, len(it.prof))
	for i, d := range it.prof {
		out[i] = StepTime{Index: i, Total: d, Runs: it.profRuns}
		if i < len(ops) {
			out[i].Op, out[i].Name, out[i].MACs = ops[i].Op, ops[i].Name, ops[i].MACs
		}
	}
	return out
}
