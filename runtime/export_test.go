package runtime

// SetMinParallelMACs sets the smallest step split over threads (0: every
// splittable step) for interpreters made afterwards, and returns a func
// restoring the old value.
func SetMinParallelMACs(n int64) (restore func()) {
	old := minParallelMACs
	minParallelMACs = n
	return func() { minParallelMACs = old }
}
