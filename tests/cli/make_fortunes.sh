#!/usr/bin/env bash
# make_fortunes.sh DIR: a tiny fortunes directory for train_classifier's tests, three classes that a model
# can tell apart: "gpl" (entries of 4 lines of the GPL v3), "apache" (the Apache license) and "mpl"
# (the Mozilla Public License 2.0), all from Debian's base-files. Entries end at lines holding only "%", as in fortune
# files; a strfile index (*.dat) is there too, which the reader must skip.
set -eu
dir=$1
mkdir -p "$dir"
L=/usr/share/common-licenses
for pair in gpl:GPL-3 apache:Apache-2.0 mpl:MPL-2.0; do
  awk 'NF { print; if (++n % 4 == 0) print "%" } NR > 480 { exit }' "$L/${pair#*:}" >"$dir/${pair%%:*}"
done
printf 'index' >"$dir/gpl.dat"
