#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Draws the huddle/Node ratios of two bench/pinned.sh results (before, after) as a bar chart with
# gnuplot (Debian: gnuplot-nox). Takes the .tsv files (or the .txt next to them); the after file
# may be left out.
#
#   bench/chart.sh bench/results-before.tsv bench/results-after.tsv [bench/ratios.png]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -ge 1 ] || { echo "usage: bench/chart.sh BEFORE.tsv [AFTER.tsv [OUT.png]]" >&2; exit 2; }
before="${1%.txt}"; before="${before%.tsv}.tsv"
after="${2:-}"
[ -n "$after" ] && { after="${after%.txt}"; after="${after%.tsv}.tsv"; }
png="${3:-$here/ratios.png}"
command -v gnuplot >/dev/null || { echo "chart.sh: needs gnuplot (apt-get install gnuplot-nox)" >&2; exit 1; }

data="$(mktemp /tmp/huddle-chart.XXXXXX)"
trap 'rm -f "$data"' EXIT

# One line per row that has a ratio: "label" before after ("?" when a file lacks the row).
awk -F'\t' -v after="$after" '
    BEGIN { if (after != "") while ((getline l < after) > 0) { split(l, f, "\t"); a[f[1] " " f[2]] = f[5] } }
    NR > 1 && $5 != "-" {
        k = $1 " " $2; m = $2; gsub("_", " ", m)
        av = (k in a && a[k] != "-") ? a[k] : "?"
        printf "\"%s: %s (%s)\"\t%s\t%s\n", $1, m, ($6 == "higher" ? ">1 better" : "<1 better"), $5, av
    }' "$before" >"$data"

series="'$data' using 2:xtic(1) title 'before' lc rgb '#c0504d'"
[ -n "$after" ] && series="$series, '' using 3 title 'after' lc rgb '#4f81bd'"

gnuplot <<EOF
set terminal pngcairo size 1400,800 font ",10"
set output "$png"
set title "huddle / Node.js peer (bench/pinned.sh); label says which side of 1 is better for huddle"
set datafile separator "\t"
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y 2
set ylabel "ratio huddle / Node (log scale)"
set xtics rotate by -50 left font ",9"
set grid ytics
set key top left
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb "black"
set bmargin 16
set rmargin 12
plot $series
EOF
echo "chart.sh: wrote $png" >&2
