package runtime

import (
	"fmt"
	"sort"
)

// verifyGraph checks the dataflow (every activation written once, before
// it is read; constants never written), derives each activation's
// lifetime, and checks the arena plan against the lifetimes: tensors that
// are live at the same time never share bytes, and the recorded lower
// bound is the real one.
func (m *Model) verifyGraph() error {
	written := make([]bool, len(m.tensors))
	for i := range m.tensors {
		m.tensors[i].first, m.tensors[i].last = -1, -1
	}
	in := &m.tensors[m.input]
	written[m.input] = true
	in.first, in.last = 0, 0
	for i := range m.ops {
		op := &m.ops[i]
		seen := map[int]bool{}
		for _, x := range op.in {
			if x < 0 {
				continue
			}
			seen[x] = true
			t := &m.tensors[x]
			if t.isConst() {
				continue
			}
			if !written[x] {
				return fmt.Errorf("operator %d (%v) reads tensor %d (%q) before anything writes it", i, op.code, x, t.name)
			}
			t.last = i
		}
		for _, x := range append(append([]int(nil), op.out...), op.mid...) {
			t := &m.tensors[x]
			switch {
			case seen[x]:
				return fmt.Errorf("operator %d (%v) uses tensor %d (%q) twice (in-place operators are not supported)", i, op.code, x, t.name)
			case t.isConst():
				return fmt.Errorf("operator %d (%v) writes constant tensor %d (%q)", i, op.code, x, t.name)
			case written[x]:
				return fmt.Errorf("operator %d (%v) writes tensor %d (%q), which is already written", i, op.code, x, t.name)
			}
			seen[x] = true
			written[x] = true
			t.first, t.last = i, i
		}
	}
	// Every graph output is live until the end.
	for _, x := range m.outputs {
		if !written[x] || x == m.input {
			return fmt.Errorf("no operator writes the graph output %q", m.tensors[x].name)
		}
		m.tensors[x].last = len(m.ops) - 1
	}

	// No two tensors live at the same time share bytes.
	var live []int
	for i := range m.tensors {
		if t := &m.tensors[i]; !t.isConst() && t.first >= 0 {
			live = append(live, i)
		}
	}
	sort.Slice(live, func(a, b int) bool { return m.tensors[live[a]].offset < m.tensors[live[b]].offset })
	for a, i := range live {
		ti := &m.tensors[i]
		end := ti.offset + int64(ti.bytes)
		for _, j := range live[a+1:] {
			tj := &m.tensors[j]
			if tj.offset >= end {
				break
			}
			if ti.first <= tj.last && tj.first <= ti.last {
				return fmt.Errorf("arena plan: tensors %q and %q are live together (ops %d-%d and %d-%d) but overlap in memory",
					ti.name, tj.name, ti.first, ti.last, tj.first, tj.last)
			}
		}
	}
	// The lower bound: the largest number of bytes live during one op.
	delta := make([]int64, len(m.ops)+1)
	for _, i := range live {
		t := &m.tensors[i]
		delta[t.first] += int64(t.bytes)
		delta[t.last+1] -= int64(t.bytes)
	}
	var cur, lb int64
	for _, d := range delta {
		cur += d
		lb = max(lb, cur)
	}
	if lb != m.info.Arena.LowerBound {
		return fmt.Errorf("arena plan records a lower bound of %d bytes; the tensors' lifetimes give %d", m.info.Arena.LowerBound, lb)
	}
	return nil
}
