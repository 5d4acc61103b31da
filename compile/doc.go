// Package compile is mnc's one compile pipeline, behind both `mnc compile`
// and `mnc demo`: load a float model (a file, a built-in architecture or a
// graph), run the passes pipeline, with Quant "int8" calibrate and quantize
// it, build the .mnc file with codegen and write it atomically (a failed
// compile leaves no file behind, and an existing file is replaced only by a
// complete one).
//
// The caller parses its flags into Options and prints the Result: the pass
// report, the quality report and the written model's info. Hooks
// (Options.AfterPasses, AfterQuant) let it print each report as soon as it
// exists, before the slower steps that follow. The errors about
// combinations of options name the flags of `mnc compile`.
package compile
