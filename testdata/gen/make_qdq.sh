#!/bin/sh
# Writes testdata/golden/v2.qdq.onnx, a pre-quantized (QDQ) version of the golden MobileNetV2 as ONNX Runtime's
# own static quantizer builds it (../shared/peers/ort_qdq.py: per-channel symmetric int8 weights, int32 biases,
# min/max-calibrated per-tensor uint8 activations, Relu/Clip after a Conv folded into its output range), calibrated
# on the golden inputs, and testdata/golden/v2.qdq.ort_logits.npy, ONNX Runtime's int8 logits for those inputs
# (float32, 3 x classes). The frontend/onnx and cmd/mnc tests compare mnc's compile of the file with them; CI runs no
# Python and no ORT.
# Run from the repository root; needs /usr/bin/python3 with numpy and onnx (Debian python3-onnx), node and
# onnxruntime-node in /tmp/ortnode (see ../shared/peers/README.md). PEERS overrides ../shared/peers.
set -eu
PEERS=${PEERS:-../shared/peers}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
G=testdata/golden
/usr/bin/python3 -c "import numpy as np; np.load('$G/v2.input.npy').astype(np.float32).tofile('$T/in.f32')"
/usr/bin/python3 "$PEERS/ort_qdq.py" expose "$G/v2.opset17.onnx" "$T/dbg.onnx"
node "$PEERS/ort_minmax.js" "$T/dbg.onnx" "$T/in.f32" 3 72 72 > "$T/mm.json"
/usr/bin/python3 "$PEERS/ort_qdq.py" build "$G/v2.opset17.onnx" "$T/mm.json" "$G/v2.qdq.onnx"
node testdata/gen/ort_run.js "$G/v2.qdq.onnx" "$T/in.f32" 3 72 72 "$T/out.f32"
/usr/bin/python3 -c "import numpy as np; np.save('$G/v2.qdq.ort_logits.npy', np.fromfile('$T/out.f32', np.float32).reshape(3, -1))"
