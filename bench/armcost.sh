#!/bin/bash
# bench/armcost.sh: the mnc rows of ../shared/tools/armcost in about a minute and a half on 2 cores (its run.sh, ~8
# minutes, also builds and runs XNNPACK): per-inference instruction counts of `mnc bench --threads 1` under
# qemu-aarch64 7.2 with armcost's counting plugin, QEMU_CPU=cortex-a72 with --kernels neon (Pi 4) and QEMU_CPU=max
# with --kernels dotprod (Pi 5), priced by armcost's costmodel.py (OUT/report.md, OUT/results.json).
#
#   PLUGIN=/path/libcount.so bash bench/armcost.sh [OUT]      # from the repository root; OUT default /tmp/mnc-armcost
#
# PLUGIN: armcost's plugin/count.c built against QEMU 7.2's qemu-plugin.h (run.sh's steps 2 and 3; with the header
# from `apt-get source --download-only qemu`: gcc -O2 -shared -fPIC -I$QEMU/include/qemu $(pkg-config --cflags
# glib-2.0) plugin/count.c -o libcount.so $(pkg-config --libs glib-2.0)). MODELS (default "v2 v3l v3s"): v2 is
# ../shared's MobileNetV2 calibrated on ../shared/images/calib; v3l and v3s torchvision's mobilenet_v3_large and
# mobilenet_v3_small, random init (speed only: not zero weights, whose layers nearly all share one requantization
# shift and take paths real weights never do), calibrated like v2; deeplab and deeplab05 (not in the default list) ../shared's Coral DeepLabV3-MobileNetV2 513x513 1.0 and
# 0.5-depth, int8 by the files' own ranges; ssdlite, lraspp and deeplabv3l (not in the default list either)
# torchvision's ssdlite320_mobilenet_v3_large (320x320), lraspp_mobilenet_v3_large and deeplabv3_mobilenet_v3_large
# (520x520), full width, random init (speed only); the torchvision models are the ONNX files of bench/export_tv.py in TV (default OUT/tv; written
# there by /usr/bin/python3 with torch and torchvision when missing), calibrated like v2 (SSDLite --preprocess tf, the
# segmenters --preprocess torchvision --resize stretch); v3s_t and v3l_t (not in the default list) testdata/trained's
# distilled MobileNetV3-Small 1.0 and -Large 0.5 at 160x160, trained-like weights (their hard-swish tables are not
# the identity, as most of the random-init exports' are), calibrated like v2. Per inference: the counts of N2 (default 3) minus N1 (1) inferences, divided by N2-N1; the SIMD
# counts repeat exactly run to run. JOBS: parallel emulations (default 2).
set -euo pipefail
OUT=$(readlink -m "${1:-/tmp/mnc-armcost}")
SHARED=$(readlink -f "${SHARED:-../shared}")
ARMCOST=$SHARED/tools/armcost
PLUGIN=$(readlink -f "${PLUGIN:?set PLUGIN to the armcost plugin libcount.so, see the comment at the top}")
MODELS=${MODELS:-"v2 v3l v3s"}
TV=$(readlink -m "${TV:-$OUT/tv}")
N1=${N1:-1}; N2=${N2:-3}; JOBS=${JOBS:-2}
QEMU=/usr/bin/qemu-aarch64 # Debian's qemu-user 7.2: dynamic, has -plugin
rm -rf "$OUT/counts" "$OUT/logs"
mkdir -p "$OUT"/{build,models,counts,logs}
B=$OUT/build
CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -o "$B/mnc-arm64" ./cmd/mnc
go build -o "$B/mnc" ./cmd/mnc
q="--quant int8 --calib $SHARED/images/calib --preprocess tf"
for m in $MODELS; do
	case $m in
	v2) src="$SHARED/models/mobilenet_v2_1.0_224.onnx" ;;
	v3l) src="$TV/mobilenet_v3_large.onnx" ;;
	v3s) src="$TV/mobilenet_v3_small.onnx" ;;
	v3s_t) src="testdata/trained/v3s_1.0_160.pth" ;;
	v3l_t) src="testdata/trained/v3l_0.5_160.pth" ;;
	deeplab) src="$SHARED/models/tflite/deeplabv3_mnv2_pascal_quant.tflite" ;;
	deeplab05) src="$SHARED/models/tflite/deeplabv3_mnv2_dm05_pascal_quant.tflite" ;;
	ssdlite) src="$TV/ssdlite320_mobilenet_v3_large.onnx" ;;
	lraspp) src="$TV/lraspp_mobilenet_v3_large.onnx" ;;
	deeplabv3l) src="$TV/deeplabv3_mobilenet_v3_large.onnx" ;;
	*) echo "unknown model $m" >&2; exit 2 ;;
	esac
	mq=$q
	case $m in
	deeplab | deeplab05) mq="--quant int8" ;; # the file's own ranges
	v3s_t | v3l_t) mq="$q --resolution 160" ;;
	lraspp | deeplabv3l) mq="--quant int8 --calib $SHARED/images/calib --preprocess torchvision --resize stretch" ;;
	esac
	case $m in v3l | v3s | ssdlite | lraspp | deeplabv3l)
		mkdir -p "$TV"
		[ -f "$src" ] || /usr/bin/python3 bench/export_tv.py "$TV" "$(basename "$src" .onnx)" >"$OUT/logs/export_$m.log" 2>&1 ;;
	esac
	[ -f "$OUT/models/$m.mnc" ] || "$B/mnc" compile $src $mq -o "$OUT/models/$m.mnc" >"$OUT/logs/compile_$m.log" 2>&1
done
: >"$OUT/runs.tsv"
: >"$OUT/jobs.txt"
for m in $MODELS; do
	macs=$("$B/mnc" bench "$OUT/models/$m.mnc" --iters 1 --warmup 0 --threads 1 | sed -n '1s/.* \([0-9.]*\)M MACs.*/\1/p')
	macs=$(python3 -c "print(int(float('$macs')*1e6))")
	for cpu in cortex-a72 max; do
		k=neon
		[ $cpu = max ] && k=dotprod
		for n in $N1 $N2; do
			cf=mnc.${m}_${cpu}_n${n}_r1.txt
			printf 'mnc.%s.%s\tmnc\t%s\t%s\t%s\t1\t%s\t%s\t%s\n' $m $cpu $m $cpu $n $cf $macs $k >>"$OUT/runs.tsv"
			echo "QEMU_CPU=$cpu $QEMU -plugin $PLUGIN,out=$OUT/counts/$cf $B/mnc-arm64 bench $OUT/models/$m.mnc" \
				"--threads 1 --iters $n --warmup 0 --kernels $k >$OUT/logs/${cf%.txt}.log 2>&1" >>"$OUT/jobs.txt"
		done
	done
done
xargs -P "$JOBS" -I{} -d '\n' bash -c {} <"$OUT/jobs.txt"
python3 "$ARMCOST/costmodel.py" "$OUT" >"$OUT/logs/costmodel.log"
python3 - "$OUT/results.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1])):
    e = r['pi5'] if r['qemu_cpu'] == 'max' else r['pi4']
    print('%-10s %-10s %-8s %7.2fM instructions  %6.2f ms (%s bound)' % (r['model'], r['qemu_cpu'], r['kernels'],
          r['insns'] / 1e6, e['ms'], e['bound']))
PY
