// Package npy reads and writes NumPy .npy files holding float32 arrays, the
// format mnc uses to exchange reference inputs, logits and calibration data
// with Python. Reading delegates the header and element decoding to
// github.com/sbinet/npyio, but bounds every size first and validates what
// npyio returns, so hostile or truncated files yield errors, never panics or
// huge allocations; float64 arrays are converted to float32. Writing emits
// format version 1.0, '<f4', C order, byte-identical to numpy.save.
package npy
