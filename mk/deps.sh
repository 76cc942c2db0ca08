#!/bin/sh
# mk/deps.sh PACKAGE...: `make deps`. Installs the Debian packages among PACKAGE that are missing
# (dpkg-query), with apt-get install -y (through sudo when not root); says so and does nothing when
# all are installed. DEPS_DRY_RUN=1: only print the apt-get command. DPKG_QUERY, APT_GET and SUDO
# name the programs (default dpkg-query, apt-get, sudo).
# Exit status: 0 ok, 1 apt-get or sudo missing or failed.
DPKG_QUERY=${DPKG_QUERY:-dpkg-query} APT_GET=${APT_GET:-apt-get} SUDO=${SUDO:-sudo}
if ! command -v "$DPKG_QUERY" > /dev/null 2>&1; then
    echo "make deps: $DPKG_QUERY: not found: this is not a Debian system; install the equivalents of: $*" >&2
    exit 1
fi
missing=
for p in "$@"; do
    case $("$DPKG_QUERY" -W -f='${Status}' "$p" 2>/dev/null) in
    *" installed") ;;
    *) missing="$missing $p" ;;
    esac
done
if [ -z "$missing" ]; then
    echo "make deps: all $# packages are installed"
    exit 0
fi
echo "make deps: missing:$missing"
if ! command -v "$APT_GET" > /dev/null 2>&1; then
    echo "make deps: $APT_GET: not found: install these packages with your package manager:$missing" >&2
    exit 1
fi
run=
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v "$SUDO" > /dev/null 2>&1; then
        echo "make deps: not root and $SUDO not found: as root, run: $APT_GET install -y$missing" >&2
        exit 1
    fi
    run=$SUDO
fi
if [ -n "${DEPS_DRY_RUN:-}" ]; then
    echo "make deps: would run: ${run:+$run }$APT_GET update -qq && ${run:+$run }$APT_GET install -y$missing"
    exit 0
fi
# shellcheck disable=SC2086 # the package names are words
${run:+"$run"} "$APT_GET" update -qq && ${run:+"$run"} "$APT_GET" install -y $missing || {
    echo "make deps: $APT_GET install failed" >&2; exit 1; }
