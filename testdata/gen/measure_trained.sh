#!/bin/sh
# Measure the testdata/trained models: mnc's default int8 (minmax + bias correction) and ONNX Runtime's int8 QDQ,
# each against its own float model, on ../shared/images/calib and (held out) ../shared/images/eval.
# Run from the repository root; needs Go, /usr/bin/python3 with torch/torchvision/onnx, node and
# onnxruntime-node in /tmp/ortnode (see ../shared/peers/README.md). Writes /tmp/trained_measure/*.json.
set -eu
IMG=${IMAGES:-/work/shared/images}
OUT=${OUT:-/tmp/trained_measure}
mkdir -p "$OUT"
go build -o "$OUT/mnc" ./cmd/mnc
for spec in v3s_1.0_160:mobilenet_v3_small:1.0:160 v3l_0.5_160:mobilenet_v3_large:0.5:160; do
  IFS=: read name arch width res <<E
$spec
E
  "$OUT/mnc" compile testdata/trained/$name.pth --arch $arch --width $width --classes 1001 --resolution $res \
    --preprocess tf --quant int8 --calib "$IMG/calib" --eval "$IMG/eval" --threads 1 \
    -o "$OUT/$name.mnc" --report-json "$OUT/$name.mnc.json" > "$OUT/$name.mnc.txt"
  /usr/bin/python3 testdata/gen/ort_compare.py testdata/trained/$name.pth --arch $arch --width $width --res $res \
    --calib "$IMG/calib" --eval "$IMG/eval" --work "$OUT/ort_$name" --json "$OUT/$name.ort.json" > /dev/null
  /usr/bin/python3 - "$OUT/$name.mnc.json" "$OUT/$name.ort.json" "$name" <<'E'
import json, sys
m, o = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for s in ('calib', 'eval'):
    r, p = m[s], o[s]
    print(f"{sys.argv[3]} {s:5s}: mnc int8 {r['logits_sqnr_db']:.2f} dB pooled, {r['median_sqnr_db']:.2f} median, "
          f"{r['top1_agree']}/{r['images']} | ORT int8 QDQ {p['ort_int8_sqnr_pooled_db']:.2f} dB pooled, "
          f"{p['ort_int8_sqnr_median_db']:.2f} median, {p['ort_int8_agree']}")
E
done
