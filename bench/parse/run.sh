#!/bin/sh
# bench/parse/run.sh [MILLIONS] - sockit's HTTP/1.1 codec (src/http/,
# request and response heads) against nodejs http_parser 2.9
# (libhttp-parser-dev): builds bench/parse/http_bench.c with both, runs it
# RUNS times pinned to one CPU, and prints the median ns per head of each
# parser, kind and input.
#
#   MILLIONS  heads parsed per parser, input and run (default 2)
#   RUNS      runs (default 5; odd, so that the median is a run)
#   CPU       the CPU to pin to (default 1; taskset)
#   BUILD     where the binary goes (default build)
#   CC        compiler (default cc); both parsers' flags: -O2
set -eu
cd "$(dirname "$0")/../.."
millions=${1:-2}
runs=${RUNS:-5}
cpu=${CPU:-1}
out=${BUILD:-build}/bench/parse
bin=$out/http_bench

if [ ! -f /usr/include/http_parser.h ]; then
	echo "parse: http_parser.h missing: make deps (libhttp-parser-dev)" >&2
	exit 1
fi
mkdir -p "$out"
# The codec compiled in, with the same -O2 as Debian builds http_parser:
# no dependence on the state of a libsockit build. The codec is pure, so
# its four files and the tokens table are all it needs.
${CC:-cc} -std=c11 -O2 -Wall -Wextra -Iinclude -Isrc -o "$bin" \
	bench/parse/http_bench.c src/http/*.c -lhttp_parser

pin=""
if command -v taskset >/dev/null 2>&1 && taskset -c "$cpu" true 2>/dev/null; then
	pin="taskset -c $cpu"
else
	echo "parse: not pinned (no taskset or no CPU $cpu)" >&2
fi

raw=$out/runs.txt
: >"$raw"
i=0
while [ $i -lt "$runs" ]; do
	$pin "$bin" "$millions" >>"$raw"
	i=$((i + 1))
done

# median KIND INPUT PARSER: the middle of the runs' ns for that triple.
median() {
	awk -v k="$1" -v want="$2" -v p="$3" \
		'$1 == k && $2 == want && $5 == p { print $6 }' "$raw" |
		sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

echo "HTTP/1.1 heads, ns per head (median of $runs runs x ${millions}M, ${pin:-unpinned})"
printf '%-8s %-6s %6s %7s %10s %12s %19s\n' kind input bytes fields sockit \
	http_parser "http_parser/sockit"
for kind in request response; do
	for input in small large; do
		line=$(awk -v k="$kind" -v want="$input" \
			'$1 == k && $2 == want { print $3, $4; exit }' "$raw")
		a=$(median "$kind" "$input" sockit)
		b=$(median "$kind" "$input" http_parser)
		printf '%-8s %-6s %6s %7s %10s %12s %18.2fx\n' "$kind" "$input" \
			${line% *} ${line#* } "$a" "$b" \
			"$(echo "$a $b" | awk '{ print $2 / $1 }')"
	done
done
