# Thin wrapper over meson: `make demo`, `make test`, `make bench`.
# Every target installs missing Debian packages first (scripts/install-deps.sh).
BUILD ?= build

.PHONY: all deps build demo demo-sandbox test bench clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

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
	{ [ -f $(BUILD)-sanitize/build.ninja ] || meson setup $(BUILD)-sanitize -Dsanitize=true -Dbench=false >/dev/null; } && \
	ninja -C $(BUILD)-sanitize && meson test -C $(BUILD)-sanitize --print-errorlogs || rc=$$?; \
	python3 scripts/test-summary.py $(BUILD) $(BUILD)-sanitize; exit $$rc

bench: build
	bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD)-sanitize
