# Thin wrapper over meson: `make demo`, `make test`, `make bench`,
# `make install`, `make deb`.
# Every target installs missing Debian packages first (scripts/install-deps.sh).
BUILD ?= build
# The development build: tests, benchmarks and -Werror on (a plain
# `meson setup` has them off, for packagers).
DEV_OPTIONS = -Dwerror=true -Dtests=true -Dbench=true
# make install [PREFIX=/usr/local] [DESTDIR=/staging]: a release build of its own.
PREFIX ?= /usr/local
INSTALL_BUILD ?= $(BUILD)-install

.PHONY: all deps build demo demo-sandbox test test-deb bench install deb clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(DEV_OPTIONS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	@echo '$$ ward run -- /usr/bin/python3 -c "import json, pathlib; ..."' >&2
	@$(BUILD)/ward run -- /usr/bin/python3 -c 'import json, pathlib; \
	hs = sorted(p.name for p in pathlib.Path("/usr/include").glob("*.h")); \
	print(json.dumps({"headers": len(hs), "first": hs[:3]}))'

demo-sandbox: build
	@examples/demo.sh $(BUILD)/ward

# Every suite, then core/ and policy/ again under ASan and UBSan.
test: build
	@rc=0; meson test -C $(BUILD) --print-errorlogs || rc=$$?; \
	{ [ -f $(BUILD)-sanitize/build.ninja ] || meson setup $(BUILD)-sanitize -Dsanitize=true -Dtests=true -Dwerror=true >/dev/null; } && \
	ninja -C $(BUILD)-sanitize && meson test -C $(BUILD)-sanitize --print-errorlogs || rc=$$?; \
	python3 scripts/test-summary.py $(BUILD) $(BUILD)-sanitize; \
	scripts/test-deb.sh $(BUILD)-deb || rc=$$?; exit $$rc

# Build the .deb, install it, run it from /usr, remove it (root with dpkg
# only; make test runs it, and says why when it skips).
test-deb: deps
	scripts/test-deb.sh $(BUILD)-deb

bench: build
	bench/run.sh $(BUILD)

# The prefix is compiled in only as the last place to look: the launcher
# finds libward.so relative to itself, so a DESTDIR tree can be moved.
install: deps
	@{ [ -f $(INSTALL_BUILD)/build.ninja ] || meson setup $(INSTALL_BUILD) --buildtype=release >/dev/null; } && \
	meson configure $(INSTALL_BUILD) --prefix=$(PREFIX) && \
	ninja -C $(INSTALL_BUILD) && \
	meson install -C $(INSTALL_BUILD) --no-rebuild $(if $(DESTDIR),--destdir "$(DESTDIR)")

# build-deb/ward_VERSION_ARCH.deb: dpkg-buildpackage -b -us -uc on a copy of
# the tree (debian/), then lintian, failing on errors (scripts/make-deb.sh).
deb: deps
	scripts/make-deb.sh $(BUILD)-deb

clean:
	rm -rf $(BUILD) $(BUILD)-sanitize $(INSTALL_BUILD) $(BUILD)-deb
