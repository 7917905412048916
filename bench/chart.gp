# The chart of bench/results.json: one bar per row from 1 to uvmm's median
# over its reference's, log scale (below 1: faster or smaller than the
# reference; the limits are at 1 at best).
# gnuplot -e "data='FILE'; out='FILE.svg'; heading='TEXT'" bench/chart.gp
# data: "id ratio colour label" a row, ratio 0 where not measured.
set terminal svg size 960,560 dynamic enhanced font "sans,11" background "white"
set output out
set title heading noenhanced
set style fill solid 0.8 border -1
set logscale y 10
set format y "%gx"
set ylabel "uvmm / reference (medians), log scale"
set grid ytics
set xtics rotate by -35 noenhanced
set xrange [-0.7:*]
set offsets 0, 0.7, graph 0.08, graph 0.04
set key off
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc "black"
ok(r) = r > 0 ? r : 1/0
plot data using 0:(ok($2)):($0 - 0.35):($0 + 0.35):(1):(ok($2)):3:xticlabels(4) \
		with boxxyerror lc rgb variable, \
	'' using 0:($2 >= 1 ? $2 : 1/0):(sprintf("%.2fx", $2)) \
		with labels offset 0,0.8 font "sans,9", \
	'' using 0:($2 > 0 && $2 < 1 ? $2 : 1/0):(sprintf("%.2fx", $2)) \
		with labels offset 0,-0.8 font "sans,9", \
	'' using 0:($2 > 0 ? 1/0 : 1):("n/a") with labels offset 0,0.8 \
		font "sans,9" tc "gray40"
