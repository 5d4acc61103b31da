// Package torch reads PyTorch checkpoints (torch.save zip and legacy formats)
// and .safetensors files into named float32 tensors, never executing pickled
// code.
//
// Its one job is to turn a trained model's weights file into a StateDict: an
// ordered list of names, each with a shape and C-ordered float32 data. Every
// input is treated as untrusted: pickles are decoded by a restricted
// unpickler that only accepts the handful of globals a state_dict needs
// (collections.OrderedDict, torch._utils._rebuild_tensor_v2 and friends, and
// the torch *Storage types) and refuses anything else, e.g.
//
//	checkpoint asks for global "os.system": refused (only state_dict tensors are allowed)
//
// All sizes, offsets and strides are checked against the bytes actually
// present, so truncated or hostile files give an error, never a panic, and
// never an allocation much larger than the input.
//
// Supported inputs:
//   - torch.save zip archives (<folder>/data.pkl plus <folder>/data/<key>),
//     little-endian only;
//   - the legacy non-zip torch.save format
//     (_use_new_zipfile_serialization=False); the pre-0.1.10 tar format is
//     refused;
//   - .safetensors files (F32, F16, BF16, F64 and integer/bool dtypes).
//
// Integer, bool, float16, bfloat16 and float64 tensors are converted to
// float32. A checkpoint may hold the state_dict itself or a dict wrapping it
// under "state_dict", "model_state_dict" or "model"; other entries are
// ignored (but still decoded, so refused globals anywhere in the pickle are
// still refused). A "module." prefix shared by every key (DataParallel) is
// stripped. Non-tensor values inside the state_dict are skipped.
package torch
