#!/usr/bin/env bash
# png-terminal.sh NAME: print gnuplot's PNG terminal setting for the picture scripts (pngcairo, else
# png). Without gnuplot or a PNG terminal: a message "NAME: ..." and exit 3.
me=${1:-png-terminal.sh}
command -v gnuplot > /dev/null || { echo "$me: gnuplot is not installed: no picture (apt-get install gnuplot-nox)" >&2; exit 3; }
terms=$(gnuplot -e 'set terminal' 2>&1)
if grep -qw pngcairo <<< "$terms"; then echo 'pngcairo enhanced font ",10"'
elif grep -qw png <<< "$terms"; then echo 'png enhanced'
else echo "$me: gnuplot has no png terminal" >&2; exit 3
fi
