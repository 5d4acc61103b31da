#!/bin/sh
# bench/peers.sh: mnc against ONNX Runtime (int8 QDQ) and PyTorch (int8 FX, onednn) on the same models, same
# machine, same run: single thread, batch 1, 224x224, rounds A B A B ... (absolute times on shared machines are
# noisy; the ratios taken back to back are the figures to quote). Large files go to $OUT (default /tmp/mnc-bench),
# never into the repository.
#
#   sh bench/peers.sh [ROUNDS]        # from the repository root; ROUNDS defaults to 3
#
# Needs: Go; ../shared (models, images, peers); for ORT: node + (cd /tmp/ortnode && npm install --ignore-scripts
# onnxruntime-node@1.20.1) and python3-onnx; for PyTorch and V3-Large: /usr/bin/python3 with torch and torchvision.
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

# Models: MobileNetV2 1.0 (real weights) and a torchvision MobileNetV3-Large (random init: speed only).
[ -f "$OUT/v2.mnc" ] || $MNC compile "$SHARED/models/mobilenet_v2_1.0_224.onnx" -o "$OUT/v2.mnc" --quant int8 \
	--calib "$SHARED/images/calib" --preprocess tf >/dev/null
have_torch=0
$PY -c 'import torch, torchvision' 2>/dev/null && have_torch=1
if [ $have_torch = 1 ]; then
	[ -f "$OUT/mobilenet_v3_large.onnx" ] || $PY bench/export_v3l.py "$OUT" >/dev/null
	[ -f "$OUT/v3l.mnc" ] || $MNC compile "$OUT/mobilenet_v3_large.onnx" -o "$OUT/v3l.mnc" --quant int8 \
		--calib "$SHARED/images/calib" --preprocess tf >/dev/null
fi

# ORT's int8 QDQ versions of the same ONNX files (min/max calibration on the same images).
have_ort=0
if [ -d /tmp/ortnode/node_modules/onnxruntime-node ] && $PY -c 'import onnx' 2>/dev/null; then
	have_ort=1
	[ -f "$OUT/calib.f32" ] || $PY bench/calib_f32.py "$SHARED/images/calib" "$OUT/calib.f32" >/dev/null
	for m in "$SHARED/models/mobilenet_v2_1.0_224.onnx" "$OUT/mobilenet_v3_large.onnx"; do
		[ -f "$m" ] || continue
		b=$(basename "$m" .onnx)
		[ -f "$OUT/${b}_qdq.onnx" ] && continue
		$PY "$PEERS/ort_qdq.py" expose "$m" "$OUT/${b}_dbg.onnx"
		node "$PEERS/ort_minmax.js" "$OUT/${b}_dbg.onnx" "$OUT/calib.f32" 3 224 224 >"$OUT/${b}_mm.json"
		$PY "$PEERS/ort_qdq.py" build "$m" "$OUT/${b}_mm.json" "$OUT/${b}_qdq.onnx"
	done
else
	echo "peers.sh: ONNX Runtime (node onnxruntime-node in /tmp/ortnode, python3-onnx) missing: skipped" >&2
fi

mnc_ms() { $MNC bench "$1" --threads 1 --iters 50 --warmup 10 --json | sed -n 's/.*"median_ms": \([0-9.]*\).*/\1/p'; }
ort_ms() { node "$PEERS/ort_bench.js" 1 "$1" | sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p'; }
torch_ms() { $PY "$PEERS/torch_peer.py" bench --threads 1 --models "$1" --engines onednn | sed -n 's/.*int8-onednn.*median_ms=\([0-9.]*\).*/\1/p'; }

: >"$OUT/results.txt"
for r in $(seq "$ROUNDS"); do
	for pair in "v2 mobilenet_v2_1.0_224 mobilenet_v2" "v3l mobilenet_v3_large mobilenet_v3_large"; do
		set -- $pair
		[ -f "$OUT/$1.mnc" ] || continue
		a=$(mnc_ms "$OUT/$1.mnc")
		echo "$r $1 mnc $a" >>"$OUT/results.txt"
		if [ $have_ort = 1 ] && [ -f "$OUT/$2_qdq.onnx" ]; then
			echo "$r $1 ort $(ort_ms "$OUT/$2_qdq.onnx")" >>"$OUT/results.txt"
		fi
		if [ $have_torch = 1 ]; then
			echo "$r $1 torch $(torch_ms "$3")" >>"$OUT/results.txt"
		fi
	done
done
# Per round, peer / mnc (> 1: mnc is faster); then the medians over the rounds.
awk '{ t[$1" "$2" "$3] = $4; m[$2" "$3] = m[$2" "$3] " " $4; rs[$1] = 1; ms[$2] = 1; ps[$3] = 1 }
END {
	printf "%-4s %-6s %s\n", "model", "round", "median ms (ratio peer/mnc)"
	for (mo in ms) for (r in rs) {
		line = sprintf("%-4s %-6s mnc %.2f", mo, r, t[r" "mo" mnc"])
		for (p in ps) if (p != "mnc" && (r" "mo" "p) in t && t[r" "mo" mnc"] > 0)
			line = line sprintf("   %s %.2f (%.2fx)", p, t[r" "mo" "p], t[r" "mo" "p] / t[r" "mo" mnc"])
		print line
	}
}' "$OUT/results.txt" | sort
# The median over the rounds of each peer/mnc ratio.
awk '$3 == "mnc" { m[$1" "$2] = $4 } $3 != "mnc" { p[NR] = $0 }
END { for (i in p) { split(p[i], f, " "); if (m[f[1]" "f[2]] > 0) print f[2], f[3], f[4] / m[f[1]" "f[2]] } }' "$OUT/results.txt" |
	sort -k1,1 -k2,2 -k3,3g | awk '{ k = $1" "$2; v[k, ++n[k]] = $3 } END {
	for (k in n) { c = n[k]; med = (c % 2) ? v[k, (c + 1) / 2] : (v[k, c / 2] + v[k, c / 2 + 1]) / 2
		printf "median over %d rounds: %s/mnc = %.2fx\n", c, k, med } }' | sort
