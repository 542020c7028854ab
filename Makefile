# procured: top-level build. GNU make; parallel builds are safe.
#
#   make            build build/procured and build/procurectl
#   make run        build, then start procured on 127.0.0.1:8480 (data in ./var)
#   make test       build and run every unit, fuzz-corpus and integration test
#   make test SAN=1 the same under AddressSanitizer + UBSan (build/san/)
#   make test VALGRIND=1  unit tests, fuzz corpora and the daemon under memcheck
#   make fuzz       libFuzzer binaries (clang) in build/fuzz/
#   make fuzz-ci    each of them for FUZZ_SECONDS (default 15) on its corpus
#   make install    PREFIX=/usr/local DESTDIR=
#   make format     clang-format every source file

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR  ?= $(PREFIX)/lib/systemd/system
DESTDIR  ?=

SAN ?= 0
ifeq ($(SAN),1)
BUILD    ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer
else
BUILD    ?= build
SANFLAGS :=
endif

# Install missing Debian packages (mk/packages) before anything else, once.
NODEPS_GOALS := clean format help
ifeq ($(filter $(NODEPS_GOALS),$(MAKECMDGOALS)),)
DEPS_STATUS := $(shell { test build/.deps -nt mk/packages || \
	{ sh mk/deps.sh >&2 && mkdir -p build && touch build/.deps; }; } && echo ok)
ifneq ($(DEPS_STATUS),ok)
$(error required Debian packages are missing: see the line above)
endif
endif

PKGS     := libevent_core libevent_extra libevent_openssl libevent_pthreads \
	    lmdb libcrypto libssl libsodium jansson zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -lpthread
CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka)
CMOCKA_LIBS   := $(shell pkg-config --libs cmocka)

CC       ?= cc
OPT      ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	    -Wmissing-prototypes -Wmissing-declarations -Wformat=2 \
	    -Wpointer-arith -Wundef -Wvla -Wold-style-definition \
	    -Wnested-externs -Wredundant-decls
CPPFLAGS += -I. -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
CFLAGS   += -std=c11 $(OPT) $(WARN) $(SANFLAGS) -MMD -MP $(PKG_CFLAGS)
LDFLAGS  += $(SANFLAGS)

PROTO_SRC  := $(wildcard proto/*.c)
STORE_SRC  := $(wildcard store/*.c)
DAEMON_SRC := $(wildcard daemon/*.c)
CLI_SRC    := $(wildcard cli/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
TOOL_SRC   := $(wildcard tests/tools/*.c)

OBJ        := $(BUILD)/obj
PROTO_OBJ  := $(PROTO_SRC:%.c=$(OBJ)/%.o)
STORE_OBJ  := $(STORE_SRC:%.c=$(OBJ)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(OBJ)/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(OBJ)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/tests/replay_%)
TOOL_BIN   := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
BENCH_SRC  := $(wildcard bench/*.c)
BENCH_BIN  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

LIBPROTO := $(BUILD)/libproto.a
LIBSTORE := $(BUILD)/libstore.a
# Everything of the daemon but main(), for tests and fuzz harnesses.
LIBDAEMON := $(BUILD)/libdaemon.a
PROCURED := $(BUILD)/procured
PROCURECTL := $(BUILD)/procurectl

.PHONY: all run test unit fuzz-replay integration fuzz fuzz-ci bench \
	install clean format help
.DEFAULT_GOAL := all
.SECONDARY:

all: $(PROCURED) $(PROCURECTL)

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBPROTO): $(PROTO_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(LIBSTORE): $(STORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(LIBDAEMON): $(filter-out $(OBJ)/daemon/procured.o,$(DAEMON_OBJ))
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(PROCURED): $(DAEMON_OBJ) $(LIBSTORE) $(LIBPROTO)
	$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJ) $(LIBSTORE) $(LIBPROTO) $(PKG_LIBS)

$(PROCURECTL): $(CLI_OBJ) $(LIBSTORE) $(LIBPROTO)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIBSTORE) $(LIBPROTO) $(PKG_LIBS)

# Unit tests: one cmocka binary a module; archives pull in only what it uses.
$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(LIBDAEMON) $(LIBSTORE) $(LIBPROTO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBDAEMON) $(LIBSTORE) $(LIBPROTO) \
		$(PKG_LIBS) $(CMOCKA_LIBS)

$(OBJ)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CMOCKA_CFLAGS) -c -o $@ $<

# Fuzz harnesses, linked with a replay main that runs the committed corpus.
$(BUILD)/tests/replay_%: $(OBJ)/tests/fuzz/fuzz_%.o $(OBJ)/tests/fuzz/replay.o \
		$(LIBDAEMON) $(LIBSTORE) $(LIBPROTO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(OBJ)/tests/fuzz/replay.o $(LIBDAEMON) \
		$(LIBSTORE) $(LIBPROTO) $(PKG_LIBS)

# Helper programs that integration tests drive (fixtures, interop dumps).
$(BUILD)/tests/tools/%: $(OBJ)/tests/tools/%.o $(LIBSTORE) $(LIBPROTO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBSTORE) $(LIBPROTO) $(PKG_LIBS)

$(BUILD)/bench/%: $(OBJ)/bench/%.o $(LIBSTORE) $(LIBPROTO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBSTORE) $(LIBPROTO) $(PKG_LIBS)

VALGRIND ?= 0
test: all $(UNIT_BIN) $(REPLAY_BIN) $(TOOL_BIN) $(BENCH_BIN)
	@BUILD=$(BUILD) SAN=$(SAN) VALGRIND=$(VALGRIND) sh tests/run.sh

bench: all $(BENCH_BIN)

# libFuzzer builds (clang): build/fuzz/fuzz_<name>; the libraries are
# compiled once, instrumented, into build/fuzz/libfuzz.a.
FUZZ_CC    ?= clang
FUZZ_SAN   := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_OBJ   := build/fuzz/obj
FUZZ_LIB   := build/fuzz/libfuzz.a
FUZZ_LIB_SRC := $(PROTO_SRC) $(STORE_SRC) \
	$(filter-out daemon/procured.c,$(DAEMON_SRC))
fuzz: $(FUZZ_BIN)
$(FUZZ_OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) -std=c11 $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
		$(PKG_CFLAGS) -MMD -MP -c -o $@ $<
$(FUZZ_LIB): $(FUZZ_LIB_SRC:%.c=$(FUZZ_OBJ)/%.o)
	rm -f $@ && $(AR) rcs $@ $^
build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) -std=c11 $(FUZZ_SAN) -fsanitize=fuzzer \
		$(PKG_CFLAGS) -o $@ $< $(FUZZ_LIB) $(PKG_LIBS)
# Bounded run of every harness (CI): FUZZ_SECONDS each, FUZZ_JOBS at once.
fuzz-ci: fuzz
	sh tests/fuzz/run.sh

run: all
	sh mk/run.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(PROCURED) $(DESTDIR)$(SBINDIR)/procured
	install -m 0755 $(PROCURECTL) $(DESTDIR)$(BINDIR)/procurectl
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8
	install -m 0644 docs/procurectl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/procured.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 docs/procured.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/procured
	sed 's|/usr/sbin/procured|$(SBINDIR)/procured|g' \
		systemd/procured.service >$(DESTDIR)$(UNITDIR)/procured.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/procured.service
	install -m 0644 systemd/procured.socket $(DESTDIR)$(UNITDIR)/
	test -e $(DESTDIR)$(SYSCONFDIR)/procured/procured.conf || \
		install -m 0644 systemd/procured.conf \
		$(DESTDIR)$(SYSCONFDIR)/procured/procured.conf

format:
	clang-format -i $(PROTO_SRC) $(STORE_SRC) $(DAEMON_SRC) $(CLI_SRC) \
		$(UNIT_SRC) $(FUZZ_SRC) $(TOOL_SRC) $(BENCH_SRC) \
		$(wildcard */*.h) \
		tests/fuzz/replay.c

clean:
	rm -rf build

help:
	@sed -n '2,12s/^# \{0,1\}//p' Makefile

-include $(shell find $(OBJ) $(FUZZ_OBJ) -name '*.d' 2>/dev/null)
