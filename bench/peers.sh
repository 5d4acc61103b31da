#!/bin/sh
# bench/peers.sh: mnc against ONNX Runtime (int8 QDQ, and float32) and PyTorch (int8 FX, onednn) on the same models, same
# machine, same run: single thread, batch 1, 224x224 (MobileNetV1 0.25: 128x128), rounds A B A B ... (absolute times on shared machines are
# noisy; the ratios taken back to back are the figures to quote). Large files go to $OUT (default /tmp/mnc-bench),
# never into the repository.
#
#   sh bench/peers.sh [ROUNDS]        # from the repository root; ROUNDS defaults to 3
#
# Needs: Go; ../shared (models, images, peers); for ORT: node + (cd /tmp/ortnode && npm install --ignore-scripts
# onnxruntime-node@1.20.1) and python3-onnx; for PyTorch and V3-Large/-Small: /usr/bin/python3 with torch and torchvision.
# A peer that is missing is skipped with a message; mnc is always measured.
set -eu
ROUNDS=${1:-3}
OUT=${OUT:-/tmp/mnc-bench}
SHARED=${SHARED:-../shared}
PEERS=$SHARED/peers
PY=/usr/bin/python3
mkdir -p "$OUT"
go build -o "$OUT/mnc" ./cmd/mnc
MNC=$OUT/mnc

# Models: MobileNetV2 1.0 and MobileNetV1 0.25 at 128 (../shared, real weights), torchvision MobileNetV3-Large
# and -Small (random init: speed only).
[ -f "$OUT/v2.mnc" ] || $MNC compile "$SHARED/models/mobilenet_v2_1.0_224.onnx" -o "$OUT/v2.mnc" --quant int8 \
	--calib "$SHARED/images/calib" --preprocess tf >/dev/null
[ -f "$OUT/v1q.mnc" ] || $MNC compile "$SHARED/models/mobilenet_v1_0.25_128.onnx" -o "$OUT/v1q.mnc" --quant int8 \
	--calib "$SHARED/images/calib" --preprocess tf >/dev/null
# Float32 files of the same ONNX models, against ONNX Runtime's float32 on the ONNX files themselves.
[ -f "$OUT/v2f.mnc" ] || $MNC compile "$SHARED/models/mobilenet_v2_1.0_224.onnx" -o "$OUT/v2f.mnc" --quant float32 --preprocess tf >/dev/null
[ -f "$OUT/v1f.mnc" ] || $MNC compile "$SHARED/models/mobilenet_v1_0.25_128.onnx" -o "$OUT/v1f.mnc" --quant float32 --preprocess tf >/dev/null
have_torch=0
$PY -c 'import torch, torchvision' 2>/dev/null && have_torch=1
if [ $have_torch = 1 ]; then
	for m in v3l:mobilenet_v3_large v3s:mobilenet_v3_small; do
		short=${m%%:*} name=${m#*:}
		[ -f "$OUT/$name.onnx" ] || $PY bench/export_tv.py "$OUT" "$name" >/dev/null
		[ -f "$OUT/$short.mnc" ] || $MNC compile "$OUT/$name.onnx" -o "$OUT/$short.mnc" --quant int8 \
			--calib "$SHARED/images/calib" --preprocess tf >/dev/null
		[ -f "$OUT/${short}f.mnc" ] || $MNC compile "$OUT/$name.onnx" -o "$OUT/${short}f.mnc" --quant float32 --preprocess tf >/dev/null
	done
fi

# ORT's int8 QDQ versions of the same ONNX files (min/max calibration on the same images).
have_ort=0
if [ -d /tmp/ortnode/node_modules/onnxruntime-node ] && $PY -c 'import onnx' 2>/dev/null; then
	have_ort=1
	for m in "$SHARED/models/mobilenet_v2_1.0_224.onnx:224" "$SHARED/models/mobilenet_v1_0.25_128.onnx:128" \
		"$OUT/mobilenet_v3_large.onnx:224" "$OUT/mobilenet_v3_small.onnx:224"; do
		size=${m##*:} m=${m%:*}
		[ -f "$m" ] || continue
		[ -f "$OUT/calib$size.f32" ] || $PY bench/calib_f32.py "$SHARED/images/calib" "$OUT/calib$size.f32" "$size" >/dev/null
		b=$(basename "$m" .onnx)
		[ -f "$OUT/${b}_qdq.onnx" ] && continue
		$PY "$PEERS/ort_qdq.py" expose "$m" "$OUT/${b}_dbg.onnx"
		node "$PEERS/ort_minmax.js" "$OUT/${b}_dbg.onnx" "$OUT/calib$size.f32" 3 "$size" "$size" >"$OUT/${b}_mm.json"
		$PY "$PEERS/ort_qdq.py" build "$m" "$OUT/${b}_mm.json" "$OUT/${b}_qdq.onnx"
	done
else
	echo "peers.sh: ONNX Runtime (node onnxruntime-node in /tmp/ortnode, python3-onnx) missing: skipped" >&2
fi

mnc_ms() { $MNC bench "$1" --threads 1 --iters 50 --warmup 10 --json | sed -n 's/.*"median_ms": \([0-9.]*\).*/\1/p'; }
ort_ms() { SIZE=$2 node "$PEERS/ort_bench.js" 1 "$1" | sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p'; }
torch_ms() { $PY "$PEERS/torch_peer.py" bench --threads 1 --models "$1" --engines onednn | sed -n 's/.*int8-onednn.*median_ms=\([0-9.]*\).*/\1/p'; }

: >"$OUT/results.txt"
for r in $(seq "$ROUNDS"); do
	for pair in "v2 mobilenet_v2_1.0_224 mobilenet_v2 224" "v3l mobilenet_v3_large mobilenet_v3_large 224" \
		"v3s mobilenet_v3_small mobilenet_v3_small 224" "v1q mobilenet_v1_0.25_128 - 128"; do
		set -- $pair
		[ -f "$OUT/$1.mnc" ] || continue
		a=$(mnc_ms "$OUT/$1.mnc")
		echo "$r $1 mnc $a" >>"$OUT/results.txt"
		if [ $have_ort = 1 ] && [ -f "$OUT/$2_qdq.onnx" ]; then
			echo "$r $1 ort $(ort_ms "$OUT/$2_qdq.onnx" "$4")" >>"$OUT/results.txt"
		fi
		if [ $have_torch = 1 ] && [ "$3" != - ]; then
			echo "$r $1 torch $(torch_ms "$3")" >>"$OUT/results.txt"
		fi
	done
	# Float32: mnc's float32 file against ORT on the float ONNX file.
	for pair in "v2f $SHARED/models/mobilenet_v2_1.0_224.onnx 224" "v3lf $OUT/mobilenet_v3_large.onnx 224" \
		"v3sf $OUT/mobilenet_v3_small.onnx 224" "v1f $SHARED/models/mobilenet_v1_0.25_128.onnx 128"; do
		set -- $pair
		[ -f "$OUT/$1.mnc" ] || continue
		echo "$r $1 mnc $(mnc_ms "$OUT/$1.mnc")" >>"$OUT/results.txt"
		if [ -d /tmp/ortnode/node_modules/onnxruntime-node ] && [ -f "$2" ]; then
			echo "$r $1 ort $(ort_ms "$2" "$3")" >>"$OUT/results.txt"
		fi
	done
done
# Per round, peer / mnc (> 1: mnc is faster); then the medians over the rounds.
sh bench/ratios.sh "$OUT/results.txt" 4
