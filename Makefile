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
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -Wall -Wextra -D_GNU_SOURCE -fPIC -fvisibility=hidden
DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags sqlite3 libbsd-overlay 2>/dev/null)
DEPS_LIBS := $(shell $(PKG_CONFIG) --libs sqlite3 libbsd-overlay 2>/dev/null)
ALL_CFLAGS = $(CFLAGS) $(DEPS_CFLAGS) -Ilib
LDLIBS += $(DEPS_LIBS) -lm

SONAME = libskm.so.$(VERSION_MAJOR)
SOLIB = libskm.so.$(VERSION)

LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(LIB_SRC:.c=.o)
RUN_OBJ = runner/skm-run.o runner/spawn.o
CLI_OBJ = runner/skm.o runner/fmt.o
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:.c=)

PROGS = skm-run skm
all: $(SOLIB) libskm.a skm.pc $(PROGS) examples/inprocess

%.o: %.c $(wildcard lib/*.h runner/*.h)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

libskm.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(SOLIB): $(LIB_OBJ) lib/libskm.map
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libskm.map \
	    -o $@ $(LIB_OBJ) $(LDFLAGS) $(LDLIBS)
	ln -sf $(SOLIB) $(SONAME)
	ln -sf $(SONAME) libskm.so

skm.pc: skm.pc.in Makefile
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

skm-run: $(RUN_OBJ) libskm.a
	$(CC) $(CFLAGS) -o $@ $(RUN_OBJ) libskm.a $(LDFLAGS) $(LDLIBS)

skm: $(CLI_OBJ) libskm.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) libskm.a $(LDFLAGS) $(LDLIBS)

examples/inprocess: examples/inprocess.o libskm.a
	$(CC) $(CFLAGS) -o $@ $< libskm.a $(LDFLAGS) $(LDLIBS)

tests/unit/%: tests/unit/%.c tests/unit/unit.h libskm.a
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< libskm.a $(LDFLAGS) $(LDLIBS) -lpthread

tests/helpers/%: tests/helpers/%.c libskm.a
	$(CC) $(ALL_CFLAGS) -o $@ $< libskm.a $(LDFLAGS) $(LDLIBS) -lpthread

TEST_HELPERS = tests/helpers/skm-load

deps:
	@sh tests/deps.sh

# The benchmark suite (bench/): `make bench` at full sizes (a few minutes),
# `make bench-quick` the same code at small sizes (seconds, run by CI).
# Both build with optimisation and print one table; numbers never fail the
# build, only a harness that cannot run does.
BENCH_CFLAGS = -O2 -g -DNDEBUG
bench/bench: bench/bench.c lib/skm.h libskm.a
	$(CC) $(ALL_CFLAGS) -o $@ bench/bench.c libskm.a $(LDFLAGS) $(LDLIBS) -lpthread

bench: deps
	@$(MAKE) --no-print-directory CFLAGS="$(BENCH_CFLAGS)" all bench/bench
	@sh bench/run.sh

bench-quick: deps
	@$(MAKE) --no-print-directory CFLAGS="$(BENCH_CFLAGS)" all bench/bench
	@sh bench/run.sh -q

# check and demo first install what a fresh machine lacks, then re-enter make
# so that pkg-config sees the newly installed packages.
check: deps
	@$(MAKE) --no-print-directory check-run

check-run: all $(UNIT_BIN) $(TEST_HELPERS)
	@sh tests/run.sh $(UNIT_BIN)

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
	install -m 644 skm.pc $(DESTDIR)$(PKGCONFIGDIR)/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(PROGS))
	rm -f $(DESTDIR)$(LIBDIR)/libskm.a $(DESTDIR)$(LIBDIR)/$(SOLIB) \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libskm.so
	rm -f $(DESTDIR)$(INCLUDEDIR)/skm.h $(DESTDIR)$(PKGCONFIGDIR)/skm.pc

clean:
	rm -f lib/*.o runner/*.o examples/*.o examples/inprocess $(UNIT_BIN) $(TEST_HELPERS)
	rm -f bench/bench
	rm -f libskm.a libskm.so libskm.so.* skm.pc $(PROGS)

.PHONY: all bench bench-quick check check-run demo deps install uninstall clean
