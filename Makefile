# bitscale: the two set-up commands of the README are `make run` and `make test`.
# Both install the Debian packages they need (as root, from Debian's registry), configure,
# build and then run. Other targets: lint, format, bench, regress, eval (docs/RESULTS.md), clean,
# synth and activity (docs/SYNTHESIS.md), formal (docs/FORMAL.md) and test-slurm (docs/SCALE_OUT.md).

SHELL       := /bin/bash
BUILD       ?= build
JOBS        ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release
BITSCALE    := ./$(BUILD)/host/bitscale

# Debian 12 packages: toolchain, Verilator 5.006, fmt, CLI11, GoogleTest;
# FlatBuffers reads TFLite models, libjpeg-turbo decodes images, zlib backs FST waveforms.
DEB_PACKAGES := cmake g++ make pkg-config verilator libfmt-dev libcli11-dev libgtest-dev googletest \
                libflatbuffers-dev flatbuffers-compiler libjpeg62-turbo-dev zlib1g-dev clang-format \
                nlohmann-json3-dev libtbb-dev libmd4c-dev libmd4c-html0-dev \
                libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata

.PHONY: all deps configure build run test lint format format-check bench regress eval clean synth formal

all: build

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "== installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

configure: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) > /dev/null

build: configure
	cmake --build $(BUILD) -j$(JOBS)

# The main job on the embedded default (data/: 300 downscaled ImageNet sample images, data/README.md)
# with MobileNet v1 0.5/160 and the honest protocol of docs/CONTROLLER.md: the first 10 images of the
# even half calibrate the fixed-point formats (their float-correct ones) and choose the precision
# levels (characterization); the other even images choose the threshold T_h (sweep: a policy
# whose 95 % upper bound of the drop meets the target, 5-fold cross-validation, 2 images confirmed
# on the RTL); the policy is then applied with `bitscale apply` to the 150 odd images, which it has
# never seen, and says what happened (images escalated, saving and drop with 95 % intervals).
# Then a report page and the bit-exact regression. Each run starts afresh. Measured time after the
# build: data/README.md.
RUN_OUT   := $(BUILD)/run
RUN_MODEL := data/models/mobilenet_v1_0.5_160_quant.tflite
run: build
	@rm -rf $(RUN_OUT) && mkdir -p $(RUN_OUT)
	$(BITSCALE) characterize --model $(RUN_MODEL) --half even --limit 10 --no-progress --jobs $(JOBS) --out $(RUN_OUT)/char
	$(BITSCALE) sweep --model $(RUN_MODEL) --calib $(RUN_OUT)/char/calibration.json --half even --folds 5 --confirm-rtl 2 --no-progress --jobs $(JOBS) --out $(RUN_OUT)/sweep
	$(BITSCALE) apply --policy $(RUN_OUT)/sweep/policy.json --half odd --no-progress --jobs $(JOBS) --out $(RUN_OUT)/apply.csv --json $(RUN_OUT)/apply.json
	$(BITSCALE) report --in $(RUN_OUT) --out $(RUN_OUT)/report.html
	$(BITSCALE) regress --seed 1 --count 200 --mode all --no-progress
	@echo "results: $(RUN_OUT)/{char,sweep}/, $(RUN_OUT)/apply.{csv,json} and $(RUN_OUT)/report.html"

test: build
	@! grep -qx 'BITSCALE_RTL_BUILD:STRING=fast' $(BUILD)/CMakeCache.txt || \
	  { echo "test: $(BUILD) is a fast RTL build (no assertions); the tests need BITSCALE_RTL_BUILD=check"; exit 1; }
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) --no-tests=error

# Verilator lint of the RTL, zero warnings (waivers: rtl/lint/verilator_waiver.vlt).
lint: deps
	@mkdir -p $(BUILD)/lint
	@cmake -DDEF=rtl/bsa_regs.def -DSV_OUT=$(BUILD)/lint/bsa_reg_pkg.sv \
	       -DHPP_OUT=$(BUILD)/lint/regmap.hpp -P cmake/gen_regmap.cmake
	BSA_RTL=rtl verilator --lint-only -Wall --top-module bsa_top \
	  rtl/lint/verilator_waiver.vlt $(BUILD)/lint/bsa_reg_pkg.sv -f rtl/bsa.f
	@echo "lint: clean"

# Performance figures (docs/PERFORMANCE.md): the layer benchmark, then whole networks (the
# embedded default, and the shared models when ../shared is there).
SHARED_MODELS := $(wildcard ../shared/models/*.tflite)
bench: build bench-build
	$(BITSCALE) bench --seconds 3 --json $(BUILD)/bench.json
	$(BITSCALE) netbench --bits 8 --json $(BUILD)/netbench-default.json
	for m in $(SHARED_MODELS); do \
	  $(BITSCALE) netbench --model $$m --images ../shared/data/imagenet-sample --bits 8 \
	    --json $(BUILD)/netbench-$$(basename $$m .tflite).json || exit 1; \
	done
	WORKLOADS="layer net regress" scripts/simbench.sh $(BENCH_BUILD)/simbench 1 "check=$(BITSCALE)" "fast=$(BENCH_BITSCALE)"

# The figures of docs/RESULTS.md on ../shared (about 45 minutes on 2 cores): scripts/results.sh
# runs every command the document names into $(BUILD)/eval/ and collects their summaries.
# jq (Debian) tabulates the JSON summaries (scripts/dpred_widths.sh).
eval: DEB_PACKAGES += jq
eval: build
	scripts/results.sh $(BITSCALE) ../shared $(BUILD)/eval

# The full regression of the issue: 1000 random layers per mode, then on each extra geometry. 4x8
# (rows below the columns, two column groups) is not verilated by default (make test time): this
# target adds it to $(BUILD)'s cache, so that build keeps it (and its CTests) from then on.
REGRESS_GEOMETRIES := 2x4;8x4;4x8
regress: CMAKE_FLAGS += "-DBITSCALE_RTL_GEOMETRIES:STRING=$(REGRESS_GEOMETRIES)"
regress: build
	$(BITSCALE) regress --seed 1 --count 1000 --mode all --json $(BUILD)/regress.json
	BITSCALE_COSIM_TRANSACTIONS=50000 ./$(BUILD)/tests/test_rtl --gtest_filter='RtlCosim.*'
	for g in $(subst ;, ,$(REGRESS_GEOMETRIES)); do $(BITSCALE) regress --geometry $$g --seed 1 --count 1000 --no-progress || exit 1; done

clean:
	rm -rf $(BUILD)

# C++ formatting (.clang-format): `make format` rewrites, `make format-check` (CI) fails on any difference.
FORMAT_FILES = $(shell git ls-files '*.cpp' '*.hpp' '*.h')
format: deps
	clang-format -i $(FORMAT_FILES)
format-check: deps
	@clang-format --dry-run -Werror $(FORMAT_FILES)
	@echo "format: clean"

# yosys 0.23 (Debian 12) for synthesis and proofs; `make test` does not need it (the CTest
# yosys_elaborate is skipped without it).
YOSYS_PACKAGES := yosys
synth formal: DEB_PACKAGES += $(YOSYS_PACKAGES)

# Generic synthesis of bsa_top at the default geometry, cells per module (docs/SYNTHESIS.md):
# about 4 minutes on one core. Log, netlist statistics and the table in $(BUILD)/synth/.
synth: deps
	cmake -DROOT=$(CURDIR) -DOUT=$(CURDIR)/$(BUILD)/synth -DSCRIPT=$(CURDIR)/syn/synth.ys \
	  "-DSTAT=stat.json;ref.json" -DREQUIRE=ON -P cmake/yosys.cmake

# Proofs with yosys's SAT solver (docs/FORMAL.md): register-file write protection and scratchpad
# addresses in range while busy by induction, the output stage against the spec in each mode;
# the multiplier in each mode and under every Ax-BxP mask, compositionally (leaf, cut grid, blocks);
# the bus decode, the START refusal codes and the counters, by induction.
# Logs in $(BUILD)/formal/.
FORMAL_RUN = cmake -DROOT=$(CURDIR) -DOUT=$(CURDIR)/$(BUILD)/formal -DREQUIRE=ON
formal: deps
	$(FORMAL_RUN) -DSCRIPT=formal/csr.ys -P cmake/yosys.cmake
	$(FORMAL_RUN) -DSCRIPT=formal/ctrl.ys -P cmake/yosys.cmake
	for m in MODE_16 MODE_8 MODE_4; do \
	  $(FORMAL_RUN) -DSCRIPT=formal/outstage.ys -DMODE=$$m -P cmake/yosys.cmake || exit 1; \
	done
	$(FORMAL_RUN) -DSCRIPT=formal/blkmul.ys -P cmake/yosys.cmake
	$(FORMAL_RUN) -DSCRIPT=formal/blocks.ys -P cmake/yosys.cmake
	for m in MODE_4 MODE_8 MODE_16; do \
	  $(FORMAL_RUN) -DSCRIPT=formal/mul_cut.ys -DMODE=$$m -P cmake/yosys.cmake || exit 1; \
	done
	$(FORMAL_RUN) -DSCRIPT=formal/bus.ys -P cmake/yosys.cmake
	$(FORMAL_RUN) -DSCRIPT=formal/start.ys -P cmake/yosys.cmake

# A single-node Slurm cluster on this machine (scripts/slurm-local.sh: Debian's slurm-wlm and munge,
# as root; its daemons stopped by their PIDs) runs a characterization and a sweep with a 4-image RTL
# confirmation as 4-task job arrays written by `bitscale slurm`, merges them and compares every
# output byte for byte with the unsharded runs (scripts/test-slurm.sh). Time: docs/SCALE_OUT.md.
.PHONY: test-slurm
SLURM_PACKAGES := slurm-wlm munge
test-slurm: DEB_PACKAGES += $(SLURM_PACKAGES)
test-slurm: configure
	cmake --build $(BUILD) -j$(JOBS) --target bitscale
	scripts/test-slurm.sh $(BUILD)

# Switching activity per block product (docs/SYNTHESIS.md, "Switching activity per block product"):
# one PE synthesized by yosys as the RTL is and without the leaves' operand isolation, both netlists
# verilated with toggle coverage and driven in every mode and Ax-BxP family member; asserts the
# gating properties. Tables in $(BUILD)/activity/activity.md and cells.md.
.PHONY: activity
activity: DEB_PACKAGES += $(YOSYS_PACKAGES)
activity: deps
	cmake -DROOT=$(CURDIR) -DOUT=$(CURDIR)/$(BUILD)/activity -DCYCLES=2000 -DCHECK=ON -DREQUIRE=ON \
	  -P syn/activity/activity.cmake

# The fast benchmark build of the verilated model (BITSCALE_RTL_BUILD=fast, verilator/CMakeLists.txt:
# no assertions, --x-assign/--x-initial fast, no tracing) in a build directory of its own, without
# tests (it refuses them; `make test` refuses it) and without the extra geometries. `make bench`
# compares it with $(BUILD) (scripts/simbench.sh; docs/PERFORMANCE.md "Fast benchmark build").
BENCH_BUILD    ?= build-bench
BENCH_BITSCALE := ./$(BENCH_BUILD)/host/bitscale
.PHONY: bench-build
bench-build: deps
	@cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DBITSCALE_RTL_BUILD=fast -DBITSCALE_TESTS=OFF \
	  -DBITSCALE_TRACE=OFF -DBITSCALE_RTL_GEOMETRIES:STRING= > /dev/null
	cmake --build $(BENCH_BUILD) -j$(JOBS) --target bitscale test_rtl_fast
	./$(BENCH_BUILD)/verilator/test_rtl_fast --gtest_brief=1
