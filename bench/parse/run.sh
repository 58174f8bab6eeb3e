#!/bin/sh
# bench/parse/run.sh [MILLIONS] - sockit's HTTP response-head parser
# (src/tools/bench/resp.c) against nodejs http_parser 2.9 (libhttp-parser-dev):
# builds bench/parse/resp_bench.c with both, runs it RUNS times pinned to
# one CPU, and prints the median ns per head of each parser and input.
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
bin=$out/resp_bench

if [ ! -f /usr/include/http_parser.h ]; then
	echo "parse: http_parser.h missing: make deps (libhttp-parser-dev)" >&2
	exit 1
fi
mkdir -p "$out"
# resp.c compiled in, with the same -O2 as Debian builds http_parser:
# no dependence on the state of a libsockit build.
${CC:-cc} -std=c11 -O2 -Wall -Wextra -Iinclude -Isrc -o "$bin" \
	bench/parse/resp_bench.c src/tools/bench/resp.c -lhttp_parser

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

# median INPUT PARSER: the middle of the runs' ns for that pair.
median() {
	awk -v want="$1" -v p="$2" '$1 == want && $4 == p { print $5 }' "$raw" |
		sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

echo "HTTP/1.1 response head, ns per head (median of $runs runs x ${millions}M, ${pin:-unpinned})"
printf '%-6s %6s %7s %10s %15s %16s\n' input bytes fields sockit http_parser "http_parser/sockit"
for input in small large; do
	line=$(awk -v want="$input" '$1 == want { print $2, $3; exit }' "$raw")
	a=$(median "$input" sockit)
	b=$(median "$input" http_parser)
	printf '%-6s %6s %7s %10s %15s %15.2fx\n' "$input" ${line% *} ${line#* } \
		"$a" "$b" "$(echo "$a $b" | awk '{ print $2 / $1 }')"
done
