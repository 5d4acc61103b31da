package codegen

// DepthwiseHWO returns o with int8 depthwise weights stored [KH][KW][O]
// (WeightLayoutHWO), as files written by earlier versions may hold them:
// the tests check that the runtime still reads such files.
func DepthwiseHWO(o Options) Options {
	o.depthwiseHWO = true
	return o
}
