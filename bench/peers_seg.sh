#!/bin/sh
# bench/peers_seg.sh: bench/peers.sh for the segmentation and detection models: mnc int8 and float32 against ONNX
# Runtime int8 QDQ and float32 on the same ONNX exports, same machine, same run: single thread, batch 1, rounds
# A B A B ... (absolute times on shared machines are noisy; the ratios taken back to back are the figures to quote).
# Large files go to $OUT (default /tmp/mnc-bench-seg), never into the repository.
#
#   sh bench/peers_seg.sh [ROUNDS]        # from the repository root; ROUNDS defaults to 3
#
# MODELS (default "ssdlite lraspp deeplabv3l deeplab deeplab05"):
#   ssdlite     torchvision's ssdlite320_mobilenet_v3_large, 320x320, its raw head outputs (cls_logits [1,3234,91],
#               bbox_regression [1,3234,4]), int8 calibrated with --preprocess tf
#   lraspp      lraspp_mobilenet_v3_large, 520x520, out [1,21,520,520], int8 with --preprocess torchvision --resize stretch
#   deeplabv3l  deeplabv3_mobilenet_v3_large, 520x520, the same
#   deeplab     ../shared's Coral DeepLabV3-MobileNetV2 513x513 (real VOC weights; mnc only: there is no ONNX file),
#   deeplab05   and its 0.5-depth twin: int8 by the file's own ranges, float32 from the same file
# The torchvision models are full width with random init and BatchNorm statistics recomputed on the calibration
# images (speed only), exported by bench/export_tv.py to ONNX (opset 17) and .pth. ONNX Runtime's int8 model is
# ../shared/peers/ort_qdq.py's QDQ of the same ONNX file, min/max-calibrated on the same images preprocessed the same
# way (bench/calib_f32.py); its float32 runs the ONNX file itself. ITERS (default 30) timed runs per measurement
# (ORT's ort_bench.js: 50 after 10). Prints per round the medians and peer/mnc (> 1: mnc is faster), the median
# ratio over the rounds, then the file sizes.
#
# Needs: Go; ../shared (models, images, peers); /usr/bin/python3 with torch and torchvision (for the exports); for
# ORT: node + (cd /tmp/ortnode && npm install --ignore-scripts onnxruntime-node@1.20.1) and python3-onnx. A missing
# peer is skipped with a message; mnc is always measured.
set -eu
ROUNDS=${1:-3}
OUT=${OUT:-/tmp/mnc-bench-seg}
SHARED=${SHARED:-../shared}
MODELS=${MODELS:-"ssdlite lraspp deeplabv3l deeplab deeplab05"}
ITERS=${ITERS:-30}
PEERS=$SHARED/peers
PY=/usr/bin/python3
CALIB=$SHARED/images/calib
mkdir -p "$OUT"
go build -o "$OUT/mnc" ./cmd/mnc
MNC=$OUT/mnc

# model short name -> source file, input size, preprocessing of the calibration images
info() {
	case $1 in
	ssdlite) echo "$OUT/ssdlite320_mobilenet_v3_large.onnx 320 tf" ;;
	lraspp) echo "$OUT/lraspp_mobilenet_v3_large.onnx 520 torchvision" ;;
	deeplabv3l) echo "$OUT/deeplabv3_mobilenet_v3_large.onnx 520 torchvision" ;;
	deeplab) echo "$SHARED/models/tflite/deeplabv3_mnv2_pascal_quant.tflite 513 -" ;;
	deeplab05) echo "$SHARED/models/tflite/deeplabv3_mnv2_dm05_pascal_quant.tflite 513 -" ;;
	*) echo "peers_seg.sh: unknown model $1" >&2; exit 2 ;;
	esac
}

have_ort=0
if [ -d /tmp/ortnode/node_modules/onnxruntime-node ] && $PY -c 'import onnx' 2>/dev/null; then
	have_ort=1
else
	echo "peers_seg.sh: ONNX Runtime (node onnxruntime-node in /tmp/ortnode, python3-onnx) missing: skipped" >&2
fi
for m in $MODELS; do
	set -- $(info "$m")
	src=$1 size=$2 pre=$3
	case $pre in
	-) q="--quant int8" f="--quant float32" ;; # .tflite: its own ranges and tf preprocessing
	tf) q="--quant int8 --calib $CALIB --preprocess tf" f="--quant float32 --preprocess tf" ;;
	*) q="--quant int8 --calib $CALIB --preprocess torchvision --resize stretch"
		f="--quant float32 --preprocess torchvision --resize stretch" ;;
	esac
	if [ "$pre" != - ] && [ ! -f "$src" ]; then
		$PY bench/export_tv.py "$OUT" "$(basename "$src" .onnx)" >/dev/null 2>&1
	fi
	[ -f "$OUT/$m.mnc" ] || $MNC compile "$src" -o "$OUT/$m.mnc" $q >"$OUT/compile_$m.log"
	[ -f "$OUT/${m}f.mnc" ] || $MNC compile "$src" -o "$OUT/${m}f.mnc" $f >"$OUT/compile_${m}f.log"
	# ORT's int8 QDQ version of the same ONNX file (min/max calibration on the same images, same preprocessing).
	b=$(basename "$src" .onnx)
	if [ $have_ort = 0 ] || [ "$pre" = - ] || [ -f "$OUT/${b}_qdq.onnx" ]; then
		continue
	fi
	[ -f "$OUT/calib${size}_$pre.f32" ] || $PY bench/calib_f32.py "$CALIB" "$OUT/calib${size}_$pre.f32" "$size" "$pre" >/dev/null
	$PY "$PEERS/ort_qdq.py" expose "$src" "$OUT/${b}_dbg.onnx"
	# expose declares every node output float; the segmenters' Resize sizes (Shape, Gather, Concat) are int64,
	# which ORT refuses: keep only the outputs that shape inference finds float.
	$PY - "$src" "$OUT/${b}_dbg.onnx" <<'PY'
import sys, onnx
inf = onnx.shape_inference.infer_shapes(onnx.load(sys.argv[1])); m = onnx.load(sys.argv[2])
types = {v.name: v.type.tensor_type.elem_type for v in list(inf.graph.value_info) + list(inf.graph.output)}
keep = [o for o in m.graph.output if types.get(o.name, onnx.TensorProto.FLOAT) == onnx.TensorProto.FLOAT]
del m.graph.output[:]; m.graph.output.extend(keep); onnx.save(m, sys.argv[2])
PY
	node "$PEERS/ort_minmax.js" "$OUT/${b}_dbg.onnx" "$OUT/calib${size}_$pre.f32" 3 "$size" "$size" >"$OUT/${b}_mm.json"
	$PY "$PEERS/ort_qdq.py" build "$src" "$OUT/${b}_mm.json" "$OUT/${b}_qdq.onnx"
	rm -f "$OUT/${b}_dbg.onnx"
done

mnc_ms() { $MNC bench "$1" --threads 1 --iters "$ITERS" --warmup 5 --json | sed -n 's/.*"median_ms": \([0-9.]*\).*/\1/p'; }
ort_ms() { SIZE=$2 node "$PEERS/ort_bench.js" 1 "$1" | sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p'; }

: >"$OUT/results.txt"
for r in $(seq "$ROUNDS"); do
	for m in $MODELS; do
		set -- $(info "$m")
		src=$1 size=$2 b=$(basename "$1" .onnx)
		# int8: mnc, then ORT's QDQ model; float32: mnc's float32 file, then ORT on the ONNX file itself.
		echo "$r $m mnc $(mnc_ms "$OUT/$m.mnc")" >>"$OUT/results.txt"
		if [ $have_ort = 1 ] && [ -f "$OUT/${b}_qdq.onnx" ]; then
			echo "$r $m ort $(ort_ms "$OUT/${b}_qdq.onnx" "$size")" >>"$OUT/results.txt"
		fi
		echo "$r ${m}f mnc $(mnc_ms "$OUT/${m}f.mnc")" >>"$OUT/results.txt"
		if [ $have_ort = 1 ] && [ "$3" != - ]; then
			echo "$r ${m}f ort $(ort_ms "$src" "$size")" >>"$OUT/results.txt"
		fi
	done
done
# Per round, peer / mnc (> 1: mnc is faster); then the medians over the rounds.
sh bench/ratios.sh "$OUT/results.txt" 11
# File sizes: mnc int8 and float32, the ONNX file (float32) and ORT's QDQ model (or the .tflite source).
printf '%-11s %12s %12s %12s %12s\n' model "mnc int8" "mnc float32" "source" "ORT QDQ"
for m in $MODELS; do
	set -- $(info "$m")
	b=$(basename "$1" .onnx)
	qdq=-
	if [ -f "$OUT/${b}_qdq.onnx" ]; then qdq=$(wc -c <"$OUT/${b}_qdq.onnx"); fi
	printf '%-11s %12d %12d %12d %12s\n' "$m" "$(wc -c <"$OUT/$m.mnc")" "$(wc -c <"$OUT/${m}f.mnc")" "$(wc -c <"$1")" "$qdq"
done
