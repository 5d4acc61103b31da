#!/bin/sh
# bench/ratios.sh: the report of bench/peers.sh and bench/peers_seg.sh from their RESULTS file (lines "round model
# engine median_ms"): per round each peer's median and its ratio peer / mnc (> 1: mnc is faster), then the median
# over the rounds of each ratio.
#
#   sh bench/ratios.sh RESULTS [WIDTH]        # WIDTH: of the model column (default 4)
set -eu
RESULTS=$1
W=${2:-4}
awk -v w="$W" '{ t[$1" "$2" "$3] = $4; rs[$1] = 1; ms[$2] = 1; ps[$3] = 1 }
END {
	printf "%-" w "s %-6s %s\n", "model", "round", "median ms (ratio peer/mnc)"
	for (mo in ms) for (r in rs) {
		line = sprintf("%-" w "s %-6s mnc %.2f", mo, r, t[r" "mo" mnc"])
		for (p in ps) if (p != "mnc" && (r" "mo" "p) in t && t[r" "mo" mnc"] > 0)
			line = line sprintf("   %s %.2f (%.2fx)", p, t[r" "mo" "p], t[r" "mo" "p] / t[r" "mo" mnc"])
		print line
	}
}' "$RESULTS" | sort
awk '$3 == "mnc" { m[$1" "$2] = $4 } $3 != "mnc" { p[NR] = $0 }
END { for (i in p) { split(p[i], f, " "); if (m[f[1]" "f[2]] > 0) print f[2], f[3], f[4] / m[f[1]" "f[2]] } }' "$RESULTS" |
	sort -k1,1 -k2,2 -k3,3g | awk '{ k = $1" "$2; v[k, ++n[k]] = $3 } END {
	for (k in n) { c = n[k]; med = (c % 2) ? v[k, (c + 1) / 2] : (v[k, c / 2] + v[k, c / 2 + 1]) / 2
		printf "median over %d rounds: %s/mnc = %.2fx\n", c, k, med } }' | sort
