# skm - Makefile.  Version lives here and in lib/skm.h (checked by `make check`).
VERSION_MAJOR = 0
VERSION_MINOR = 1
VERSION_PATCH = 0
VERSION = $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR ?= $(DATADIR)/zsh/site-functions
# Where Python finds modules for this PREFIX: the entry of python3's own
# sys.path under PREFIX (Debian: /usr/local/lib/python3.N/dist-packages,
# /usr/lib/python3/dist-packages), else PREFIX's site-packages.
PYTHON ?= python3
PYTHONDIR ?= $(or $(shell $(PYTHON) -c 'import sys, sysconfig; \
    p = sys.argv[1].rstrip("/"); \
    m = [d for d in sys.path if d.startswith(p + "/lib/python") and d.endswith("-packages")]; \
    print(m[0] if m else sysconfig.get_path("purelib", "posix_prefix", {"base": p, "platbase": p}))' \
    '$(PREFIX)' 2>/dev/null),$(PREFIX)/lib/python3/dist-packages)
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
# What the code needs whatever CFLAGS a user gives on the command line.
BASE_CFLAGS = -std=c11 -Wall -Wextra -D_GNU_SOURCE -fPIC -fvisibility=hidden
# The libraries, through pkg-config: each module and the Debian package
# that provides it.  Without them nothing is built (a library linked
# without them would record nothing), except by the targets that install
# them first and then run make again.
DEPS_PKGS = sqlite3:libsqlite3-dev libbsd-overlay:libbsd-dev
DEPS_MISSING := $(shell command -v $(PKG_CONFIG) >/dev/null 2>&1 || echo pkg-config; \
    for p in $(DEPS_PKGS); do \
	$(PKG_CONFIG) --exists $$(echo $$p | cut -d: -f1) 2>/dev/null || \
	    echo $$p | cut -d: -f2; done)
NODEPS_GOALS = deps check check-asan check-valgrind bench bench-quick demo fuzz \
    clean uninstall
ifneq ($(DEPS_MISSING),)
ifneq ($(MAKECMDGOALS),)
ifeq ($(filter-out $(NODEPS_GOALS),$(MAKECMDGOALS)),)
DEPS_DEFER = 1
endif
endif
ifndef DEPS_DEFER
$(error missing development packages: $(strip $(DEPS_MISSING)); run `make deps` (as root) or install them)
endif
endif
DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(foreach p,$(DEPS_PKGS),$(firstword $(subst :, ,$(p)))) 2>/dev/null)
DEPS_LIBS := $(shell $(PKG_CONFIG) --libs $(foreach p,$(DEPS_PKGS),$(firstword $(subst :, ,$(p)))) 2>/dev/null)
BSD_LIBS := $(shell $(PKG_CONFIG) --libs libbsd-overlay 2>/dev/null)
# libpq (libpq-dev) for the PostgreSQL backend (lib/pg.c): optional;
# without it everything else builds and `skm sync` says it is missing.
PG_CFLAGS := $(shell $(PKG_CONFIG) --exists libpq 2>/dev/null && \
    echo "-DSKM_HAVE_PG $$($(PKG_CONFIG) --cflags libpq)")
PG_LIBS := $(shell $(PKG_CONFIG) --libs libpq 2>/dev/null)
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS) $(DEPS_CFLAGS) $(PG_CFLAGS) -Ilib
LDLIBS += $(DEPS_LIBS) $(PG_LIBS) -lm
# Each object's header dependencies, written by the compiler as it builds
# it (.d beside the object; for a program built from one source, beside
# the program).  A target whose .d is missing (built before its headers
# were tracked) is built again: see DEPFILES below.  The target is
# touched after so that its .d is never the newer.
DEPFLAGS = -MMD -MP
DEPFLAGS_PROG = -MMD -MP -MF $@.d -MT $@

SONAME = libskm.so.$(VERSION_MAJOR)
SOLIB = libskm.so.$(VERSION)

LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(LIB_SRC:.c=.o)
# What a recorder links from lib: the event, the journal, recording, and
# the recorders' shared code (redaction, quoting, SKM_* options).  No
# SQLite: skm-run and the shim never load it (see docs/ARCHITECTURE.md).
REC_OBJ = lib/event.o lib/journal.o lib/record.o lib/redact.o lib/recopt.o
RUN_OBJ = runner/skm-run.o runner/spawn.o
CLI_OBJ = runner/cli.o runner/cmds.o $(patsubst %.c,%.o,$(wildcard runner/cmd-*.c)) runner/fmt.o runner/safeout.o
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:.c=)

PROGS = skm-run skm
all: $(SOLIB) libskm.a skm.pc $(PROGS) examples/inprocess shim

%.o: %.c %.d
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<
	@touch $@

libskm.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(SOLIB): $(LIB_OBJ) lib/libskm.map
	$(CC) $(CFLAGS) -shared -Wl,--no-undefined -Wl,-soname,$(SONAME) \
	    -Wl,--version-script=lib/libskm.map -o $@ $(LIB_OBJ) $(LDFLAGS) $(LDLIBS)
	ln -sf $(SOLIB) $(SONAME)
	ln -sf $(SONAME) libskm.so

PC_SUBST = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|'
skm.pc: skm.pc.in Makefile
	$(PC_SUBST) skm.pc.in > $@

runner/skm-run.o: ALL_CFLAGS += -DSKM_BINDIR='"$(BINDIR)"'
# skm-run needs libc only (as the shim does): every library mapped at
# start is time added to the command it wraps.  It is linked statically
# where the compiler can (config.mk's RUN_STATIC): no dynamic loader, no
# libc.so to map and relocate before main, about 25 page faults and 20
# system calls fewer per run (see "Performance" in the README).  Not
# with a sanitizer, which needs the dynamic libc.
RUN_LDFLAGS = $(if $(findstring -fsanitize,$(CFLAGS) $(LDFLAGS)),,$(RUN_STATIC))
skm-run: $(RUN_OBJ) $(REC_OBJ) config.mk
	$(CC) $(CFLAGS) $(RUN_LDFLAGS) -o $@ $(RUN_OBJ) $(REC_OBJ) $(LDFLAGS)

skm: $(CLI_OBJ) libskm.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) libskm.a $(LDFLAGS) $(LDLIBS)

examples/inprocess: examples/inprocess.o libskm.a
	$(CC) $(CFLAGS) -o $@ $< libskm.a $(LDFLAGS) $(LDLIBS)

tests/unit/%: tests/unit/%.c tests/unit/%.d libskm.a
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS_PROG) -Itests/unit -o $@ $< libskm.a $(LDFLAGS) $(LDLIBS) -lpthread
	@touch $@

# The LD_PRELOAD shim.  Of lib it links only the recorders' objects
# (REC_OBJ: no SQLite, no libbsd, no heap on its paths, hidden names) and
# libc; a recorded process appends to the journal like skm-run.  See
# "The shim" in docs/ARCHITECTURE.md.  Only the names in shim/preload.map
# are exported.  glibc before 2.34 keeps dladdr in libdl: SHIM_LDLIBS,
# probed once per compiler into config.mk.
SHIM = shim/libskm-preload.so
SHIM_OBJ = shim/preload.o shim/rules.o $(REC_OBJ)
SHIM_TESTS = tests/shim/t_host tests/shim/t_sqlite tests/shim/t_host_static \
    tests/shim/t_malloc

shim: $(SHIM)

$(SHIM_OBJ): ALL_CFLAGS += -DSKM_BINDIR='"$(BINDIR)"'
# -z noseparate-code: the headers, symbols and code in one segment, so
# every process it is loaded into maps it with two mmap calls fewer.
$(SHIM): $(SHIM_OBJ) shim/preload.map
	$(CC) $(CFLAGS) -shared -Wl,--no-undefined -Wl,--version-script=shim/preload.map \
	    -Wl,-z,noseparate-code -o $@ $(SHIM_OBJ) $(LDFLAGS) $(SHIM_LDLIBS)

tests/shim/t_host: tests/shim/t_host.c
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS_PROG) -o $@ $< $(LDFLAGS) -lpthread

# -rdynamic: its malloc family must be the one every library calls.
tests/shim/t_malloc: tests/shim/t_malloc.c
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS_PROG) -rdynamic -o $@ $< $(LDFLAGS)

tests/shim/t_sqlite: tests/shim/t_sqlite.c
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS_PROG) -o $@ $< $(LDFLAGS) $(DEPS_LIBS)

# A static binary ignores LD_PRELOAD; the test needs a static libc and is
# skipped (saying so) without one.
tests/shim/t_host_static: tests/shim/t_host.c
	@$(CC) $(CFLAGS) -fno-PIC -static -o $@ $< $(LDFLAGS) -lpthread 2>/dev/null || \
	    { rm -f $@; echo "note: no static libc: the static-binary shim test will be skipped"; }

# The floor under the shim's start-up (bench/bench.c): a preloaded
# library that does nothing, linked as the shim is.
bench/empty-preload.so: bench/empty-preload.c
	$(CC) $(CFLAGS) -fPIC -shared -Wl,-z,noseparate-code -o $@ $<

bench/shim-startup: bench/shim-startup.c
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS_PROG) -o $@ $< $(LDFLAGS)

# The fleet alone (bench/fleet.sh: a PostgreSQL server of its own).
bench/fleet-query: bench/fleet-query.c libskm.a
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS_PROG) -o $@ bench/fleet-query.c libskm.a $(LDFLAGS) $(LDLIBS)

bench-fleet: all bench/fleet-query
	@bash bench/fleet.sh

bench-shim: all bench/shim-startup tests/shim/t_host
	@sh bench/shim-startup.sh

tests/helpers/%: tests/helpers/%.c tests/helpers/%.d libskm.a
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS_PROG) -o $@ $< libskm.a $(LDFLAGS) $(LDLIBS) -lpthread
	@touch $@

TEST_HELPERS = tests/helpers/skm-load tests/helpers/probe tests/helpers/sigcount
FUZZERS = rules journal redact import since
REPLAYS = $(addprefix tests/fuzz/replay-,$(FUZZERS))

deps:
	@sh tests/deps.sh

# The benchmark suite (bench/): `make bench` at full sizes (a few minutes),
# `make bench-quick` the same code at small sizes (seconds, run by CI).
# Both build with optimisation and print one table; numbers never fail the
# build, only a harness that cannot run does.
BENCH_CFLAGS = -O2 -g -DNDEBUG
bench/bench: bench/bench.c libskm.a
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS_PROG) -o $@ bench/bench.c libskm.a $(LDFLAGS) $(LDLIBS) -lpthread

bench: deps
	@$(MAKE) --no-print-directory CFLAGS="$(BENCH_CFLAGS)" all bench/bench bench/fleet-query bench/empty-preload.so
	@sh bench/run.sh
	@bash bench/fleet.sh

bench-quick: deps
	@$(MAKE) --no-print-directory CFLAGS="$(BENCH_CFLAGS)" all bench/bench bench/fleet-query bench/empty-preload.so
	@sh bench/run.sh -q
	@bash bench/fleet.sh -q

# check and demo first install what a fresh machine lacks, then re-enter make
# so that pkg-config sees the newly installed packages.
check: deps
	@$(MAKE) --no-print-directory check-run

check-run: all $(UNIT_BIN) $(TEST_HELPERS) $(SHIM_TESTS) $(REPLAYS)
	@sh tests/run.sh $(UNIT_BIN)

# The unit and bats suites again, built with AddressSanitizer and
# UndefinedBehaviorSanitizer, in a copy of the tree under build/asan.
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# skm-run dies of the command's signal by raising it on itself (the
# transparency tests send every one): ASan must leave SIGSEGV, SIGBUS,
# SIGFPE and SIGILL to the program, as without it.  Memory errors are
# still found by the instrumentation.
ASAN_SIGNALS = handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0
check-asan: deps
	rm -rf build/asan && mkdir -p build/asan
	tar --exclude=./build --exclude=./.git -cf - . | tar -C build/asan -xf -
	$(MAKE) -C build/asan clean >/dev/null
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:$(ASAN_SIGNALS) SKM_SANITIZED=1 \
	    $(MAKE) -C build/asan --no-print-directory check-run \
	    CFLAGS="-O1 -g $(SAN)" LDFLAGS="$(SAN)"

# Fuzzing (clang's libFuzzer).  Each target fuzz_NAME.c in tests/fuzz/ is
# built with ASan and UBSan and run for FUZZ_SECONDS, starting from the
# seeds in tests/fuzz/corpus/NAME; what it finds new goes to
# build/fuzz/NAME, crashes to build/fuzz/crash-NAME-*.  Inputs worth
# keeping (every crash, once fixed) go into tests/fuzz/regress/NAME, which
# `make check` replays with the ordinary compiler, linked with the
# objects in FUZZ_LINK_NAME.
FUZZ_SECONDS ?= 20
FUZZ_CC ?= clang
FUZZ_SRC_rules = shim/rules.c
FUZZ_SRC_journal = $(LIB_SRC)
FUZZ_SRC_redact = lib/redact.c
FUZZ_SRC_import = $(LIB_SRC)
FUZZ_SRC_since = lib/timeparse.c
FUZZ_LINK_rules = shim/rules.o
FUZZ_LINK_journal = libskm.a
FUZZ_LINK_redact = lib/redact.o
FUZZ_LINK_import = libskm.a
FUZZ_LINK_since = libskm.a
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined $(BASE_CFLAGS) $(DEPS_CFLAGS) -Ilib

# Built from all its sources in one go, so always built again: it only
# runs under `make fuzz`, where the build is a second beside the fuzzing.
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c FORCE
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_SRC_$*) $(DEPS_LIBS) -lm

tests/fuzz/%.o: ALL_CFLAGS += -DSKM_REPLAY
# Kept, not removed as intermediates (make would say so after the tests).
.SECONDARY: tests/fuzz/replay.o $(patsubst %,tests/fuzz/fuzz_%.o,$(FUZZERS))
.SECONDEXPANSION:
tests/fuzz/replay-%: tests/fuzz/replay.o tests/fuzz/fuzz_%.o $$(FUZZ_LINK_$$*)
	$(CC) $(CFLAGS) -o $@ tests/fuzz/replay.o tests/fuzz/fuzz_$*.o \
	    $(FUZZ_LINK_$*) $(LDFLAGS) $(LDLIBS)

fuzz:
	@sh tests/deps.sh fuzz
	@$(MAKE) --no-print-directory $(addprefix build/fuzz/fuzz_,$(FUZZERS))
	@for f in $(FUZZERS); do \
		mkdir -p build/fuzz/$$f tests/fuzz/regress/$$f; \
		echo "== fuzz_$$f for $(FUZZ_SECONDS) s"; \
		build/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		    -rss_limit_mb=2048 -print_final_stats=0 \
		    -artifact_prefix=build/fuzz/crash-$$f- \
		    build/fuzz/$$f tests/fuzz/corpus/$$f tests/fuzz/regress/$$f \
		    2>build/fuzz/$$f.log || { tail -40 build/fuzz/$$f.log; exit 1; }; \
		tail -1 build/fuzz/$$f.log; \
	done

# skm-run and skm under valgrind memcheck: no errors, no definite leaks.
# memcheck cannot follow a static libc's malloc (nor tell its start-up
# from errors): skm-run's objects are linked dynamically for it, into
# build/valgrind/skm-run.
check-valgrind:
	@sh tests/deps.sh valgrind
	@$(MAKE) --no-print-directory all
	@mkdir -p build/valgrind
	$(CC) $(CFLAGS) -o build/valgrind/skm-run $(RUN_OBJ) $(REC_OBJ) $(LDFLAGS)
	@SKM_RUN_VG=build/valgrind/skm-run sh tests/valgrind.sh

# Exactly once under 16 recorder loops, folds and SIGKILLed folds for
# STRESS_SECONDS (make check runs the same for 10 s).
STRESS_SECONDS = 60
check-stress: deps
	@$(MAKE) --no-print-directory all tests/helpers/skm-load
	@bash tests/stress.sh $(STRESS_SECONDS)

demo: deps
	@$(MAKE) --no-print-directory all
	@sh examples/demo.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)/
	install -m 644 libskm.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SOLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SOLIB) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libskm.so
	install -m 644 lib/skm.h $(DESTDIR)$(INCLUDEDIR)/
	$(PC_SUBST) skm.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/skm.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/skm.pc
	install -d $(DESTDIR)$(LIBDIR)/skm
	install -m 755 $(SHIM) $(DESTDIR)$(LIBDIR)/skm/
	install -d $(DESTDIR)$(DATADIR)/skm
	sed 's|^SKM_RUN ?= skm-run$$|SKM_RUN ?= $(BINDIR)/skm-run|' share/skm/skm.mk \
	    > $(DESTDIR)$(DATADIR)/skm/skm.mk
	chmod 644 $(DESTDIR)$(DATADIR)/skm/skm.mk
	install -m 755 share/skm/sh $(DESTDIR)$(DATADIR)/skm/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7
	install -m 644 man/skm.1 man/skm-run.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/libskm.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 man/skm-preload.7 $(DESTDIR)$(MANDIR)/man7/
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 644 share/bash-completion/completions/skm \
	    share/bash-completion/completions/skm-run $(DESTDIR)$(BASHCOMPDIR)/
	install -m 644 share/zsh/site-functions/_skm \
	    share/zsh/site-functions/_skm-run $(DESTDIR)$(ZSHCOMPDIR)/
	install -d $(DESTDIR)$(PYTHONDIR)
	sed 's|^_LIBDIR = None$$|_LIBDIR = "$(LIBDIR)"|' python/skm.py > $(DESTDIR)$(PYTHONDIR)/skm.py
	chmod 644 $(DESTDIR)$(PYTHONDIR)/skm.py

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(PROGS))
	rm -f $(DESTDIR)$(LIBDIR)/libskm.a $(DESTDIR)$(LIBDIR)/$(SOLIB) \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libskm.so
	rm -f $(DESTDIR)$(INCLUDEDIR)/skm.h $(DESTDIR)$(PKGCONFIGDIR)/skm.pc
	rm -f $(DESTDIR)$(LIBDIR)/skm/libskm-preload.so
	-rmdir $(DESTDIR)$(LIBDIR)/skm 2>/dev/null
	rm -f $(DESTDIR)$(DATADIR)/skm/skm.mk $(DESTDIR)$(DATADIR)/skm/sh
	-rmdir $(DESTDIR)$(DATADIR)/skm 2>/dev/null
	rm -f $(DESTDIR)$(MANDIR)/man1/skm.1 $(DESTDIR)$(MANDIR)/man1/skm-run.1 \
	    $(DESTDIR)$(MANDIR)/man3/libskm.3 $(DESTDIR)$(MANDIR)/man7/skm-preload.7
	rm -f $(DESTDIR)$(BASHCOMPDIR)/skm $(DESTDIR)$(BASHCOMPDIR)/skm-run \
	    $(DESTDIR)$(ZSHCOMPDIR)/_skm $(DESTDIR)$(ZSHCOMPDIR)/_skm-run
	rm -f $(DESTDIR)$(PYTHONDIR)/skm.py $(DESTDIR)$(PYTHONDIR)/__pycache__/skm.*.pyc
	-rmdir $(DESTDIR)$(PYTHONDIR)/__pycache__ 2>/dev/null

# Probes of the compiler, run once and kept in config.mk; made again when
# the Makefile or CC changes.
ifneq ($(MAKECMDGOALS),clean)
-include config.mk
endif
ifneq ($(CONFIG_CC),$(CC))
CONFIG_STALE = FORCE
endif
config.mk: Makefile $(CONFIG_STALE)
	@{ echo '# made by make: what $(CC) needs'; echo 'CONFIG_CC = $(CC)'; \
	  if printf '\043include <dlfcn.h>\nint main(void){return !dlopen;}\n' | \
	      $(CC) -x c -o /dev/null - >/dev/null 2>&1; then \
	    echo 'SHIM_LDLIBS ='; else echo 'SHIM_LDLIBS = -ldl'; fi; \
	  if printf 'int main(void){return 0;}\n' | \
	      $(CC) -static -x c -o /dev/null - >/dev/null 2>&1; then \
	    echo 'RUN_STATIC = -static'; else echo 'RUN_STATIC ='; fi; } >$@.tmp
	@mv $@.tmp $@

# The .d files, as targets without a recipe: one that is missing counts
# as new, so what depends on it is built again (and writes it).
DEPFILES = $(patsubst %.c,%.d,$(wildcard lib/*.c runner/*.c shim/*.c \
    examples/*.c tests/fuzz/*.c)) $(addsuffix .d,$(UNIT_BIN) $(TEST_HELPERS))
$(DEPFILES):
-include $(wildcard $(DEPFILES) bench/*.d tests/shim/*.d)

clean:
	rm -f lib/*.o runner/*.o examples/*.o examples/inprocess $(UNIT_BIN) $(TEST_HELPERS)
	rm -f bench/bench bench/fleet-query bench/empty-preload.so
	rm -f libskm.a libskm.so libskm.so.* skm.pc $(PROGS) config.mk
	rm -f shim/*.o $(SHIM) $(SHIM_TESTS) bench/shim-startup $(REPLAYS) tests/fuzz/*.o
	rm -f lib/*.d runner/*.d shim/*.d examples/*.d bench/*.d tests/*/*.d
	rm -rf build

FORCE:

.PHONY: all check check-run check-asan check-valgrind check-stress fuzz demo deps install uninstall clean shim bench bench-quick bench-fleet bench-shim FORCE
