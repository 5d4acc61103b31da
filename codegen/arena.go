package codegen

import (
	"math"
	"sort"

	"github.com/mncdev/mnc/runtime/mncfb"
)

// planArena gives every activation its lifetime and an offset: greedy by
// size (as TFLite's arena planner): the largest tensors first, each into
// the smallest gap left by the tensors already placed whose lifetimes
// overlap its own, or above them.
func (b *builder) planArena() {
	for _, t := range b.tensors {
		t.first, t.last, t.offset = -1, -1, -1
		es := int64(4)
		if t.dtype == mncfb.DTypeINT8 {
			es = 1
		}
		n := int64(1)
		for _, d := range t.shape {
			n *= int64(d)
		}
		t.bytes = n * es
	}
	in := b.tensors[b.input]
	in.first, in.last = 0, 0
	for i, o := range b.ops {
		for _, x := range o.in {
			if x >= 0 && b.tensors[x].data == nil {
				b.tensors[x].last = i
			}
		}
		for _, x := range append(append([]int(nil), o.out...), o.mid...) {
			b.tensors[x].first, b.tensors[x].last = i, i
		}
	}
	for _, x := range b.outputs {
		b.tensors[x].last = len(b.ops) - 1
	}
	var live []*tensorDef
	for _, t := range b.tensors {
		if t.data == nil && t.first >= 0 {
			live = append(live, t)
		}
	}
	sort.SliceStable(live, func(i, j int) bool {
		if live[i].bytes != live[j].bytes {
			return live[i].bytes > live[j].bytes
		}
		return live[i].first < live[j].first
	})
	align := func(v int64) int64 { return (v + ArenaAlignment - 1) / ArenaAlignment * ArenaAlignment }
	var placed []*tensorDef
	for _, t := range live {
		var conflicts []*tensorDef
		for _, p := range placed {
			if p.first <= t.last && t.first <= p.last {
				conflicts = append(conflicts, p)
			}
		}
		sort.Slice(conflicts, func(i, j int) bool { return conflicts[i].offset < conflicts[j].offset })
		best, bestGap := int64(-1), int64(math.MaxInt64)
		var end int64
		for _, p := range conflicts {
			if gap := p.offset - end; gap >= t.bytes && gap < bestGap {
				best, bestGap = end, gap
			}
			end = max(end, align(p.offset+p.bytes))
		}
		if best < 0 {
			best = end
		}
		t.offset = best
		placed = append(placed, t)
		b.arena = max(b.arena, t.offset+t.bytes)
	}
	delta := make([]int64, len(b.ops)+1)
	for _, t := range live {
		delta[t.first] += t.bytes
		delta[t.last+1] -= t.bytes
	}
	var cur int64
	for _, d := range delta {
		cur += d
		b.lower = max(b.lower, cur)
	}
}
