# SVGe in C: a plain GNU Makefile.
#   make            build the library and every tool into bin/
#   make check      build and run the whole test suite (bats)
#   make check SAN=1  the same with AddressSanitizer + UndefinedBehaviorSanitizer (build/san/)
#   make check SAN=thread FILTER=threads  ThreadSanitizer (build/tsan/) on the tests whose names
#                   contain FILTER (any make check: FILTER is bats's --filter, a regex)
#   make search     the main job: search NAS-Bench-201 for the best cell (pipelines/search-main)
#   make bench      benchmarks (throughput and peak memory; not part of check); SVGE_REF=DIR (a
#                   checkout of automl/SVGe) adds the timings of the reference beside ours
#   make data SRC=DIR  regenerate data/ from the source files of data/SOURCES.md in DIR
#   make deps       install the Debian packages that are missing (DEB_PKGS; apt-get, sudo if not root)
#   make install    tools, data, the main job (svge-search) and man pages under PREFIX (DESTDIR too)
#   make uninstall  remove what make install installed

CC      ?= cc
PKGS    := msgpack libzstd
OPT     ?= -O3
CFLAGS  ?= $(OPT) -g
WARN    := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
CPPFLAGS += -Ilib -D_GNU_SOURCE -DSVGE_DATADIR='"$(CURDIR)/data"' $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lopenblas -ljpeg -lm -pthread

ifeq ($(SAN),thread)
  BUILD   := build/tsan
  BINDIR  := build/tsan/bin
  CFLAGS  := -O1 -g -fsanitize=thread
  LDFLAGS += -fsanitize=thread
else ifeq ($(SAN),1)
  BUILD   := build/san
  BINDIR  := build/san/bin
  CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
else
  BUILD   := build/release
  BINDIR  := bin
endif

LIB_SRC   := $(wildcard lib/*.c)
LIB_OBJ   := $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
LIB_A     := $(BUILD)/libsvge.a
TOOL_SRC  := $(wildcard bin/*.c)
TOOLS     := $(TOOL_SRC:bin/%.c=$(BINDIR)/%)
UNIT_SRC  := $(wildcard tests/unit/*.c)
UNITS     := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard bench/*.c)
BENCHES   := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
SHIM      := $(BUILD)/tests/libfailio.so

.PHONY: all check bench data clean fuzz fuzz-build search deps install uninstall man
.SECONDARY:
all: $(TOOLS) $(UNITS) $(BENCHES) $(SHIM)

$(BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BINDIR)/%: $(BUILD)/obj/bin/%.o $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $< $(LIB_A) $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $< $(LIB_A) $(LDLIBS) -o $@

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $< $(LIB_A) $(LDLIBS) -o $@

# LD_PRELOAD shim that makes read/write fail on cue (tests of the I/O error paths); no sanitizers.
$(SHIM): tests/shim/failio.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -shared -fPIC $< -o $@ -ldl

# The suite runs the real binaries on the real data in data/.
# The main job: a search of NAS-Bench-201 with the shipped model (pipelines/search-main; a few
# minutes): SEARCH_ARGS, e.g. SEARCH_ARGS='--seed 2 --budget 500'.
search: all
	bash pipelines/search-main $(SEARCH_ARGS)

check: all
	SVGE_BIN=$(CURDIR)/$(BINDIR) SVGE_UNIT=$(CURDIR)/$(BUILD)/tests SVGE_DATA=$(CURDIR)/data \
	  SVGE_TEST_FILTER='$(FILTER)' bash tests/run.sh

bench: all
	SVGE_BIN=$(CURDIR)/$(BINDIR) SVGE_BUILD=$(CURDIR)/$(BUILD) bash bench/run.sh

data:
	@test -n "$(SRC)" || { echo "make data SRC=DIR: DIR holds the source files of data/SOURCES.md" >&2; exit 2; }
	bash data/regenerate.sh "$(SRC)"

# Fuzzing with libFuzzer (needs clang): make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS=build/fuzz/fuzz_json].
# Each target runs FUZZ_SECONDS on build/fuzz/corpus-<target> seeded from tests/fuzz/corpus/<target>;
# crashes are written to build/fuzz/. tests/fuzz.bats builds them and runs each for a few seconds.
FUZZ_SECONDS ?= 30
FUZZ_CC      ?= clang
FUZZ_CFLAGS  := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_TARGETS ?= $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/*.c))
FUZZ_LIB     := build/fuzz/libsvge.a
build/fuzz/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(CPPFLAGS) -MMD -MP -c $< -o $@
$(FUZZ_LIB): $(LIB_SRC:lib/%.c=build/fuzz/lib/%.o)
	@rm -f $@
	$(AR) rcs $@ $^
build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(CPPFLAGS) $< $(FUZZ_LIB) $(LDLIBS) -o $@
fuzz-build: $(FUZZ_TARGETS)
fuzz: $(FUZZ_TARGETS)
	@cd build/fuzz && for t in $(FUZZ_TARGETS:build/fuzz/%=%); do mkdir -p corpus-$$t; echo "$$t:"; \
	  ./$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 corpus-$$t ../../tests/fuzz/corpus/$$t \
	    > $$t.log 2>&1 || { tail -40 $$t.log; exit 1; }; grep -E '^(Done|stat::number_of_executed_units)' $$t.log; \
	  grep -E '^#[0-9]+' $$t.log | tail -1; done

clean:
	rm -rf build $(TOOLS)

# The Debian 12 packages of the build, the tests, the pipelines (GNU parallel: pipelines/fanout;
# gnuplot: the pictures) and make install (help2man). make deps installs those that are missing.
DEB_PKGS := build-essential pkg-config libmsgpack-dev libzstd-dev zstd libopenblas-dev \
            libjpeg62-turbo-dev bats jq parallel gnuplot-nox help2man
deps:
	@sh mk/deps.sh $(DEB_PKGS)
# with deps among the goals (make deps search), nothing is built before it has run
ifneq ($(filter deps,$(MAKECMDGOALS)),)
.NOTPARALLEL:
endif

# make install [PREFIX=/usr/local] [DESTDIR=staging]: the tools in PREFIX/bin, the data in
# PREFIX/share/svge/data (where an installed tool looks first: lib/util.c data_dir), the main job
# as PREFIX/bin/svge-search (a wrapper of PREFIX/libexec/svge/search-main), man pages in
# PREFIX/share/man/man1 (help2man, from each --help and mk/man.h2m), README.md and formats/ in
# PREFIX/share/doc/svge.
PREFIX   ?= /usr/local
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
INST_BIN := $(DESTDIR)$(PREFIX)/bin
INST_DAT := $(DESTDIR)$(PREFIX)/share/svge/data
INST_LIB := $(DESTDIR)$(PREFIX)/libexec/svge
INST_MAN := $(DESTDIR)$(PREFIX)/share/man/man1
INST_DOC := $(DESTDIR)$(PREFIX)/share/doc/svge
PIPE_INST := search-main search-run search-plot.sh png-terminal.sh
MANS     := $(TOOLS:$(BINDIR)/%=build/man/%.1)
man: $(MANS)
# the NAME line: the first sentence of the help's second line
build/man/%.1: $(BINDIR)/% mk/man.h2m
	@mkdir -p $(@D)
	help2man -N -i mk/man.h2m --version-string='$(VERSION)' \
	  --name="$$($< --help | sed -n 2p | sed 's/ (.*//; s/[.;:] .*//; s/[.;:]$$//')" -o $@ ./$<
install: $(TOOLS) $(MANS)
	install -d $(INST_BIN) $(INST_DAT) $(INST_LIB) $(INST_MAN) $(INST_DOC)/formats
	install -m 755 $(TOOLS) $(INST_BIN)
	cd data && find . -type d -exec install -d '$(INST_DAT)/{}' ';' \
	  && find . -type f -exec install -m 644 '{}' '$(INST_DAT)/{}' ';'
	install -m 755 $(PIPE_INST:%=pipelines/%) $(INST_LIB)
	install -m 755 pipelines/svge-search $(INST_BIN)
	install -m 644 $(MANS) $(INST_MAN)
	install -m 644 README.md $(INST_DOC)
	install -m 644 formats/*.md $(INST_DOC)/formats
	help2man -N -i mk/man.h2m --version-string='$(VERSION)' --name='search NAS-Bench-201 for its best cell (the main job)' \
	  -o $(INST_MAN)/svge-search.1 $(INST_BIN)/svge-search
uninstall:
	rm -f $(TOOLS:$(BINDIR)/%=$(INST_BIN)/%) $(INST_BIN)/svge-search $(MANS:build/man/%=$(INST_MAN)/%) \
	  $(INST_MAN)/svge-search.1
	rm -rf $(DESTDIR)$(PREFIX)/share/svge $(INST_LIB) $(INST_DOC)

-include $(shell find build -name '*.d' 2>/dev/null)
