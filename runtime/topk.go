package runtime

import (
	"sort"

	"github.com/mncdev/mnc/runtime/kernels"
)

// Class is one entry of a top-k list.
type Class struct {
	Index int     `json:"index"`
	Label string  `json:"label,omitempty"`
	Logit float32 `json:"logit"`
	Prob  float64 `json:"prob"` // softmax over all classes
}

// TopK returns the k highest-scoring classes of one logits row, best first
// (ties by lower index), with their softmax probabilities over the whole
// row (kernels.SoftmaxProbs) and labels[index] where there is one.
func TopK(logits []float32, k int, labels []string) []Class {
	probs := make([]float64, len(logits))
	kernels.SoftmaxProbs(logits, probs)
	idx := make([]int, len(logits))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return logits[idx[a]] > logits[idx[b]] })
	k = max(0, min(k, len(idx)))
	top := make([]Class, k)
	for i, j := range idx[:k] {
		top[i] = Class{Index: j, Logit: logits[j], Prob: probs[j]}
		if j < len(labels) {
			top[i].Label = labels[j]
		}
	}
	return top
}
