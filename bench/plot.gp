# bench/plot.gp - the figure of `make bench`, from the data bench/suite.sh
# leaves in its OUT directory (echo.dat, http.dat, scan.dat):
#
#   gnuplot -e "dir='/tmp/sockit-bench-suite'; runs='3'; rev='abc123'; ns=5" bench/plot.gp
#
# Top: echo throughput and p99 latency per server in every load cell.
# Bottom: HTTP requests/s and p99 per server under each load generator,
# and the wall time of each port scanner. Log scales: the cells span three
# orders of magnitude. A panel whose data is missing is left out.

if (!exists("dir")) dir = "/tmp/sockit-bench-suite"
if (!exists("runs")) runs = "?"
if (!exists("rev")) rev = "?"
if (!exists("ns")) ns = 5
have(f) = system("test -s '" . dir . "/" . f . "' && echo 1 || echo 0") + 0

set terminal pngcairo size 1600,1300 font "sans,10"
set output dir . "/bench.png"
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border rgb "#404040"
set boxwidth 0.9
set grid ytics mytics lc rgb "#d0d0d0"
set key outside top center horizontal
set xtics nomirror
set ytics nomirror
# sockit first and red, so it reads the same in every panel.
set linetype 1 lc rgb "#d62728"
set linetype 2 lc rgb "#1f77b4"
set linetype 3 lc rgb "#2ca02c"
set linetype 4 lc rgb "#ff7f0e"
set linetype 5 lc rgb "#9467bd"
set linetype 6 lc rgb "#8c564b"

set multiplot title sprintf("sockit beside its peers (make bench, %s): medians of %s runs, server and load pinned to separate CPUs", rev, runs) font "sans,12"

# ---- echo ----
set xtics rotate by -25 offset -1,0
set logscale y
set format y "%g"
if (have("echo.dat")) {
	set origin 0, 0.66
	set size 1, 0.31
	set title sprintf("echo: thousands of messages per second (higher is better); cells: connections (c), message size, ping-pong (pp) or %s in flight (pipe)", exists("depth") ? depth : "16")
	set ylabel "k msg/s"
	plot for [i=2:ns+1] dir . "/echo.dat" index 0 using i:xtic(1) title columnheader(i) lt i-1
	set origin 0, 0.34
	set size 1, 0.31
	set title "echo: p99 latency (lower is better)"
	set ylabel "p99 us"
	plot for [i=2:ns+1] dir . "/echo.dat" index 1 using i:xtic(1) title columnheader(i) lt i-1
}

# ---- http ----
set xtics norotate offset 0,0
if (have("http.dat")) {
	set origin 0, 0
	set size 0.36, 0.33
	set title "HTTP GET: thousands of requests per second"
	set ylabel "k req/s"
	unset logscale y
	# Room above the tallest bar for the key.
	stats dir . "/http.dat" index 0 using 2 nooutput
	top = STATS_max
	stats dir . "/http.dat" index 0 using 3 nooutput
	top = STATS_max > top ? STATS_max : top
	set yrange [0:top * 1.15]
	plot for [i=2:3] dir . "/http.dat" index 0 using i:xtic(1) title columnheader(i) lt (i == 2 ? 1 : 6)
	set origin 0.36, 0
	set size 0.36, 0.33
	set title "HTTP GET: p99 latency (ab: whole ms)"
	set ylabel "p99 us"
	set logscale y
	set yrange [*:*]
	plot for [i=2:3] dir . "/http.dat" index 1 using i:xtic(1) title columnheader(i) lt (i == 2 ? 1 : 6)
}

# ---- scan ----
if (have("scan.dat")) {
	set origin 0.72, 0
	set size 0.28, 0.33
	set title "scan all 65535 ports of 127.0.0.1 (lower is better)"
	set ylabel "seconds"
	unset logscale y
	set yrange [0:*]
	set style fill solid 0.9 border rgb "#404040"
	set boxwidth 0.6
	plot dir . "/scan.dat" using 0:2:($0 + 1):xtic(1) with boxes lc variable notitle
}
unset multiplot
