#!/usr/bin/env bats
# make install / uninstall (PREFIX, DESTDIR): the installed tools find the installed data (not the
# checkout's), the main job runs as svge-search from any directory and writes only there, the man
# pages are valid; make deps installs only the missing Debian packages (mocked: no real apt-get).

load helpers

REPO="$BATS_TEST_DIRNAME/.."

setup_file() {
    # staged (DESTDIR) into a prefix that is not where it runs: the installed tree is relocatable
    make -s -C "$REPO" install DESTDIR="$BATS_FILE_TMPDIR/stage" PREFIX=/opt/svge > "$BATS_FILE_TMPDIR/install.log" 2>&1
}

setup() {
    setup_scratch
    P="$BATS_FILE_TMPDIR/stage/opt/svge"
    cd "$T"
}

# run CMD... from $T with only the installed bin/ and the system's on PATH, SVGE_DATA unset
installed() { run env -u SVGE_DATA PATH="$P/bin:/usr/bin:/bin" bash -c "$@"; }

@test "install: tools, data, svge-search, the helpers of the main job and man pages under PREFIX" {
    [ -x "$P/bin/graph-parse" ] && [ -x "$P/bin/svge-train" ] && [ -x "$P/bin/svge-search" ]
    [ -s "$P/share/svge/data/nb201/svge.model" ] && [ -s "$P/share/svge/data/SOURCES.md" ]
    [ -x "$P/libexec/svge/search-main" ] && [ -x "$P/libexec/svge/search-run" ]
    cmp "$REPO/README.md" "$P/share/doc/svge/README.md" && [ -s "$P/share/doc/svge/formats/records.md" ]
    local t
    for t in "$REPO"/bin/*.c; do
        t=${t##*/}; t=${t%.c}
        [ -x "$P/bin/$t" ] || { echo "not installed: $t"; false; }
        [ -s "$P/share/man/man1/$t.1" ] || { echo "no man page: $t"; false; }
    done
    # nothing under the staging directory but PREFIX
    [ "$(ls "$BATS_FILE_TMPDIR/stage")" = opt ] && [ "$(ls "$BATS_FILE_TMPDIR/stage/opt")" = svge ]
}

@test "an installed tool runs on the installed data, from elsewhere, without the checkout's bin/ or SVGE_DATA" {
    installed 'command -v graph-parse; graph-parse nb201 | graph-hash | stream-to-jsonl | head -2 | jq -r .hash'
    assert_status 0
    [ "${lines[0]}" = "$P/bin/graph-parse" ]
    [ "${lines[1]}" = dd7bcb5dc050bb1f29cf8178405ee5ba ]
    # the installed data, not the checkout's: a 2-line ENAS-6 file in its place gives 2 records
    cp "$P/share/svge/data/enas6/final_structures6.txt.zst" "$T/enas6.zst"
    zstd -dc "$T/enas6.zst" | head -2 | zstd -q > "$P/share/svge/data/enas6/final_structures6.txt.zst"
    installed 'graph-parse enas6 | stream-to-jsonl | wc -l'
    cp "$T/enas6.zst" "$P/share/svge/data/enas6/final_structures6.txt.zst"
    assert_status 0
    [ "$output" = 2 ]
    # SVGE_DATA still overrides
    run env SVGE_DATA="$T/none" "$P/bin/graph-parse" enas6
    assert_status 3
    assert_output_has "$T/none/enas6/final_structures6.txt.zst"
}

@test "a man page of an installed tool is valid troff with the help's sections" {
    run grep -c '^\.TH GRAPH-PARSE "1"' "$P/share/man/man1/graph-parse.1"
    [ "$output" = 1 ]
    run bash -c "MANWIDTH=80 man -l '$P/share/man/man1/graph-parse.1' 2> '$T/warnings' | tr -s ' '"
    assert_status 0
    assert_output_has "graph-parse - Read a benchmark's native file and write graph records"
    assert_output_has "SYNOPSIS"
    assert_output_has "Exit status: 0 ok"
    assert_output_has $'ENVIRONMENT\n SVGE_DATA'
    [ ! -s "$T/warnings" ] || { cat "$T/warnings"; false; }
}

@test "svge-search, the installed main job, at a tiny size from another directory: its outputs there" {
    touch "$T/start"
    installed 'svge-search --budget 12 --init 8 --tries 5 --out res'
    assert_status 0
    assert_output_has "== bo-pool"
    assert_output_has "| random"
    [ -s res/report.md ] && [ -s res/bo.zst ] && [ -s res/random.zst ]
    # the default output directory is out/search-main in the current directory
    installed 'svge-search --budget 9 --init 8 --tries 5 > /dev/null 2>&1 && ls out/search-main/report.md'
    assert_status 0
    # nothing written into the install tree
    [ -z "$(find "$P" -newer "$T/start" -type f)" ]
    installed 'svge-search --bogus'
    assert_status 2
    assert_output_has "svge-search: unknown option '--bogus'"
}

@test "uninstall removes everything install wrote (a direct PREFIX, no DESTDIR)" {
    make -s -C "$REPO" install PREFIX="$T/usr" > /dev/null 2>&1
    [ -x "$T/usr/bin/svge-search" ]
    make -s -C "$REPO" uninstall PREFIX="$T/usr"
    [ -z "$(find "$T/usr" -type f)" ]
}

# mock_deps MISSING...: a dpkg-query that reports the given packages missing and all others
# installed, an apt-get and a sudo that only log their arguments, in $T/mock
mock_deps() {
    mkdir -p "$T/mock"
    cat > "$T/mock/dpkg-query" <<MOCK
#!/bin/sh
for p in $*; do [ "\$3" = "\$p" ] && { echo "dpkg-query: no packages found matching \$p" >&2; exit 1; }; done
printf 'install ok installed'
MOCK
    printf '#!/bin/sh\necho "apt-get $*" >> "%s/log"\n' "$T" > "$T/mock/apt-get"
    printf '#!/bin/sh\necho "sudo $1" >> "%s/log"\nexec "$@"\n' "$T" > "$T/mock/sudo"
    printf '#!/bin/sh\necho 1000\n' > "$T/mock/id"
    chmod +x "$T/mock/"*
}
deps() { run env DPKG_QUERY="$T/mock/dpkg-query" APT_GET="$T/mock/apt-get" SUDO="$T/mock/sudo" "$@" make -s -C "$REPO" deps; }

@test "make deps: installs only the missing packages (apt-get update, then install -y)" {
    mock_deps help2man jq
    deps
    assert_status 0
    assert_output_has "make deps: missing: jq help2man"
    [ "$(cat "$T/log")" = "$(printf '%s\n' "apt-get update -qq" "apt-get install -y jq help2man")" ]
}

@test "make deps: nothing to do when all are installed; through sudo when not root; dry run" {
    mock_deps
    deps
    assert_status 0
    assert_output_has "make deps: all 12 packages are installed"
    [ ! -e "$T/log" ]
    mock_deps bats
    deps PATH="$T/mock:$PATH"
    assert_status 0
    [ "$(cat "$T/log")" = "$(printf '%s\n' "sudo $T/mock/apt-get" "apt-get update -qq" "sudo $T/mock/apt-get" "apt-get install -y bats")" ]
    rm "$T/log"
    deps DEPS_DRY_RUN=1
    assert_status 0
    assert_output_has "make deps: would run: $T/mock/apt-get update -qq && $T/mock/apt-get install -y bats"
    [ ! -e "$T/log" ]
}

@test "make deps: a clear message without apt-get or dpkg-query (exit non-zero)" {
    mock_deps parallel
    run env DPKG_QUERY="$T/mock/dpkg-query" APT_GET=no-such-apt-get make -s -C "$REPO" deps
    [ "$status" -ne 0 ]
    assert_output_has "make deps: no-such-apt-get: not found: install these packages with your package manager: parallel"
    run env DPKG_QUERY=no-such-dpkg-query make -s -C "$REPO" deps
    [ "$status" -ne 0 ]
    assert_output_has "make deps: no-such-dpkg-query: not found: this is not a Debian system"
}

@test "README's set-up is two commands, make deps search and make check; its package list is make deps's; CI runs the same" {
    local pkgs readme
    pkgs=$(make -s -C "$REPO" -p -n deps 2>/dev/null | sed -n 's/^DEB_PKGS := //p')
    [ "$(wc -w <<< "$pkgs")" -eq 12 ]
    # the first code block after "## Set-up"
    readme=$(awk '/^## Set-up/ { s = 1 } s && /^```sh$/ { b = 1; next } b && /^```$/ { exit } b' "$REPO/README.md" | sed 's/ *#.*//')
    [ "$readme" = "$(printf '%s\n' "make deps search" "make check")" ]
    grep -qxF "prints the command): $pkgs" "$REPO/README.md"
    # .ci/run installs at least those packages and runs README's test command, last
    local p
    for p in $pkgs; do grep -q "apt-get install .*\\b$p\\b" <(tr -d '\\\n' < "$REPO/.ci/run") || { echo "not in .ci/run: $p"; false; }; done
    [ "$(tail -1 "$REPO/.ci/run")" = "make check" ]
}
