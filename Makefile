# SPDX-License-Identifier: MIT
# zcrx — plain Makefile.  `make` builds into build/, `make check` runs every
# test tier this machine can run, `make demo` shows the main job.
#
#   make V=1               full command lines
#   make CC=clang          any C11 compiler that takes gcc flags
#   make SANITIZE=1        ASan+UBSan build in build/asan/
#   make install PREFIX=/usr DESTDIR=/tmp/pkg

VERSION    := 0.1.0
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
RUNDIR     ?= /run/zcrx
STATEDIR   ?= /var/lib/zcrx

CC         ?= cc
PKG_CONFIG ?= pkg-config
PKGS       := libsystemd json-c libmnl libvirt libxml-2.0 inih
TEST_PKGS  := cmocka

ifeq ($(FUZZ),1)
# libFuzzer build (clang): the daemon's code instrumented, each target linked
# with the fuzzer runtime.  `make fuzz` drives it.
B          ?= build/fuzz
SAN_FLAGS  := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
else ifeq ($(SANITIZE),1)
B          ?= build/asan
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
B          ?= build
SAN_FLAGS  :=
endif

WARN       := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wno-unused-parameter -Wformat=2 -Wvla
CFLAGS     ?= -O2 -g
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# zcrxd loads libvirt with dlopen() only when it is configured (virt-lib.c).
DAEMON_LIBS := $(shell $(PKG_CONFIG) --libs $(filter-out libvirt,$(PKGS)) 2>/dev/null) -ldl
ifneq ($(SAN_FLAGS),)
# ASan resolves the functions it intercepts (libvirt's XDR calls into
# libtirpc) when the program starts: a library dlopen()ed later would call
# through a null pointer.  Have libtirpc there from the start.
DAEMON_LIBS += -Wl,--no-as-needed -ltirpc -Wl,--as-needed
endif
TEST_LIBS  := $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) $(SAN_FLAGS) -D_GNU_SOURCE \
              -DZCRX_VERSION='"$(VERSION)"' -DZCRX_SYSCONFDIR='"$(SYSCONFDIR)"' \
              -DZCRX_RUNDIR='"$(RUNDIR)"' -DZCRX_STATEDIR='"$(STATEDIR)"' \
              -Ilib -Izcrxd $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS := $(LDFLAGS) $(SAN_FLAGS)

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2);
endif

LIB_SRC    := $(sort $(wildcard lib/*.c))
ZCRXD_SRC  := $(sort $(filter-out zcrxd/main.c,$(wildcard zcrxd/*.c)))
CTL_SRC    := $(sort $(wildcard zcrxctl/*.c))
TLIB_SRC   := $(sort $(wildcard tests/lib/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test-*.c))
TOOL_SRC   := $(sort $(wildcard tests/tools/*.c))
BENCH_SRC  := $(sort $(wildcard bench/*.c))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz-*.c))

LIB_OBJ    := $(LIB_SRC:%.c=$(B)/obj/%.o)
ZCRXD_OBJ  := $(ZCRXD_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/interface.o
CTL_OBJ    := $(CTL_SRC:%.c=$(B)/obj/%.o)
TLIB_OBJ   := $(TLIB_SRC:%.c=$(B)/obj/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_BIN   := $(TOOL_SRC:tests/tools/%.c=$(B)/tests/%)
BENCH_BIN  := $(BENCH_SRC:bench/%.c=$(B)/bench/%)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)

MAN_IN     := $(wildcard man/*.in)
MAN_OUT    := $(MAN_IN:man/%.in=$(B)/man/%)

.PHONY: all deps check check-run demo demo-transcript bench install uninstall clean fuzz fuzzers lint tests

all: $(B)/zcrxd $(B)/zcrxctl $(B)/libzcrx.a $(MAN_OUT) $(B)/zcrxd.service

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The Varlink interface description (a committed IDL file) compiled in.
$(B)/gen/interface.c: lib/io.zcrx.Manager.varlink tools/embed.sh
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)tools/embed.sh manager_interface_description < $< > $@

$(B)/obj/gen/interface.o: $(B)/gen/interface.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -Wno-missing-variable-declarations -c -o $@ $<

$(B)/libzcrx.a: $(LIB_OBJ)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

# The daemon's modules as an archive, so tests and benchmarks link the same code.
$(B)/libzcrxd.a: $(ZCRXD_OBJ)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(B)/zcrxd: $(B)/obj/zcrxd/main.o $(B)/libzcrxd.a $(B)/libzcrx.a
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DAEMON_LIBS) -lpthread

# zcrxctl needs only libzcrx and json-c: it starts fast (hooks, scripts).
CTL_LIBS   := $(shell $(PKG_CONFIG) --libs json-c 2>/dev/null)

$(B)/zcrxctl: $(CTL_OBJ) $(B)/libzcrx.a
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CTL_LIBS)

# zcrxctl's modules minus main, for its option-parsing tests.
$(B)/libzcrxctl.a: $(filter-out $(B)/obj/zcrxctl/main.o,$(CTL_OBJ))
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(B)/tests/%: tests/unit/%.c $(TLIB_OBJ) $(B)/libzcrxd.a $(B)/libzcrxctl.a $(B)/libzcrx.a
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(ALL_CFLAGS) -Itests/lib -Izcrxctl $(ALL_LDFLAGS) -o $@ $< $(TLIB_OBJ) \
		$(B)/libzcrxd.a $(B)/libzcrxctl.a $(B)/libzcrx.a $(PKG_LIBS) $(TEST_LIBS) -lpthread

$(B)/tests/%: tests/tools/%.c $(TLIB_OBJ) $(B)/libzcrxd.a $(B)/libzcrx.a
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(ALL_CFLAGS) -Itests/lib $(ALL_LDFLAGS) -o $@ $< $(TLIB_OBJ) \
		$(B)/libzcrxd.a $(B)/libzcrx.a $(DAEMON_LIBS) -lpthread

# zcrxd-seams hides operations of the kernel's ethtool family from zcrxd's
# own code by wrapping genl_resolve() at link time (tests/tools/zcrxd-seams.c).
$(B)/tests/zcrxd-seams: ALL_LDFLAGS += -Wl,--wrap=genl_resolve
# zcrxd-fake --fake-plan-fails NIC: the planner fails for that NIC
# (tests/tools/zcrxd-fake.c wraps plan_nic()).
$(B)/tests/zcrxd-fake: ALL_LDFLAGS += -Wl,--wrap=plan_nic
# "hang fdatasync": the state's commit sync held (zcrxd-fake wraps fdatasync()).
$(B)/tests/zcrxd-fake: ALL_LDFLAGS += -Wl,--wrap=fdatasync -Wl,--wrap=fsync

$(B)/bench/%: bench/%.c $(TLIB_OBJ) $(B)/libzcrxd.a $(B)/libzcrx.a
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(ALL_CFLAGS) -Itests/lib $(ALL_LDFLAGS) -o $@ $< $(TLIB_OBJ) \
		$(B)/libzcrxd.a $(B)/libzcrx.a $(PKG_LIBS) -lpthread

$(B)/fuzz/%: tests/fuzz/%.c $(B)/libzcrxd.a $(B)/libzcrx.a
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(ALL_LDFLAGS) -o $@ $< \
		$(B)/libzcrxd.a $(B)/libzcrx.a $(PKG_LIBS) -lpthread

fuzzers: $(FUZZ_BIN)

SUBST = sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' \
	-e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	-e 's|@RUNDIR@|$(RUNDIR)|g' -e 's|@STATEDIR@|$(STATEDIR)|g'

$(B)/man/%: man/%.in Makefile
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)$(SUBST) $< > $@

$(B)/zcrxd.service: systemd/zcrxd.service.in Makefile
	$(call say,GEN,$@)$(SUBST) $< > $@

tests: all $(UNIT_BIN) $(TOOL_BIN) $(BENCH_BIN)

# --- the two commands --------------------------------------------------------

deps:
	@tools/deps.sh

check: deps
	@$(MAKE) --no-print-directory check-run

check-run:
	@tests/check.sh

# tools/demo.sh builds (make -j2 all) while part two's guest is prepared
demo: deps
	@tools/demo.sh

# docs/demo.txt anew: kept only when the demo passed and check-demo.py finds
# what the transcript claims in it
demo-transcript: deps
	@mkdir -p $(B)
	@tools/demo.sh > $(B)/demo.txt.new
	@python3 tests/sim-nic/check-demo.py $(B)/demo.txt.new
	@mv $(B)/demo.txt.new docs/demo.txt

bench: deps
	@$(MAKE) --no-print-directory tests
	@bench/run.sh

fuzz:
	@tests/fuzz/run.sh

lint: all
	@tests/lint.sh

# --- install -------------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/zcrx/zcrxd.conf.d \
		$(DESTDIR)$(SYSCONFDIR)/libvirt/hooks/qemu.d
	install -m 0755 $(B)/zcrxd $(DESTDIR)$(SBINDIR)/zcrxd
	install -m 0755 $(B)/zcrxctl $(DESTDIR)$(BINDIR)/zcrxctl
	install -m 0644 $(B)/man/zcrxd.8 $(B)/man/zcrxctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(B)/man/zcrxd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(B)/zcrxd.service $(DESTDIR)$(UNITDIR)/zcrxd.service
	test -e $(DESTDIR)$(SYSCONFDIR)/zcrx/zcrxd.conf || \
		install -m 0644 conf/zcrxd.conf $(DESTDIR)$(SYSCONFDIR)/zcrx/zcrxd.conf
	$(SUBST) conf/libvirt/qemu.d/zcrx > $(DESTDIR)$(SYSCONFDIR)/libvirt/hooks/qemu.d/zcrx
	chmod 0755 $(DESTDIR)$(SYSCONFDIR)/libvirt/hooks/qemu.d/zcrx

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/zcrxd $(DESTDIR)$(BINDIR)/zcrxctl \
		$(DESTDIR)$(MANDIR)/man8/zcrxd.8 $(DESTDIR)$(MANDIR)/man8/zcrxctl.8 \
		$(DESTDIR)$(MANDIR)/man5/zcrxd.conf.5 $(DESTDIR)$(UNITDIR)/zcrxd.service \
		$(DESTDIR)$(SYSCONFDIR)/libvirt/hooks/qemu.d/zcrx

clean:
	rm -rf build

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
