# Thin wrapper over CMake. Every target installs missing dependencies first (scripts/install-deps).
#   make            release build            make test        build + full test suite (ctest)
#   make test SAN=1 ASan+UBSan build+suite   make bench       conversion benchmark vs Python json
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each (clang)
#   make format     clang-format the tree    make clean
#   make demo       example connector -> local Delta tables in ./demo-data, summary, rows read back
SAN ?= 0
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=

ifeq ($(SAN),1)
  BUILD_DIR ?= build-san
  CMAKE_FLAGS += -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLAKEFLOW_SANITIZE=ON -DLAKEFLOW_BENCH=OFF
else
  BUILD_DIR ?= build
  CMAKE_FLAGS += -DCMAKE_BUILD_TYPE=Release
endif

.PHONY: all build deps configure test bench fuzz format clean demo

all: build

deps:
	@scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench:
	@scripts/install-deps --bench
	@cmake -S . -B build $(CMAKE_FLAGS) -DLAKEFLOW_BENCH=ON >/dev/null
	@cmake --build build -j $(JOBS) --target bench_convert
	@bench/run-convert build/bench/bench_convert

fuzz:
	@scripts/install-deps --fuzz
	@CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLAKEFLOW_FUZZ=ON \
	  -DLAKEFLOW_TESTS=OFF -DLAKEFLOW_BENCH=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	@fuzz/run build-fuzz/fuzz $(FUZZ_SECONDS)

# The example connector's demo shop (in-process, no network; any non-empty credentials) through
# examples/example_pipeline.yaml into ./demo-data/lakeflow-data/main/shop/<table>; then a rerun,
# which finds nothing new (offsets are stored with the data), and a few rows of each table.
DEMO_TABLES = users orders events products
demo: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target lakeflow
	@rm -rf demo-data && mkdir -p demo-data
	@echo "== lakeflow run examples/example_pipeline.yaml"
	@cd demo-data && EXAMPLE_USERNAME=demo EXAMPLE_PASSWORD=demo \
	  ../$(BUILD_DIR)/lakeflow run ../examples/example_pipeline.yaml
	@echo "== rerun: nothing new to read"
	@cd demo-data && EXAMPLE_USERNAME=demo EXAMPLE_PASSWORD=demo \
	  ../$(BUILD_DIR)/lakeflow run ../examples/example_pipeline.yaml 2>/dev/null
	@for t in $(DEMO_TABLES); do \
	  echo "== lakeflow show demo-data/lakeflow-data/main/shop/$$t --limit 3"; \
	  $(BUILD_DIR)/lakeflow show demo-data/lakeflow-data/main/shop/$$t --limit 3 || exit 1; \
	done

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	@rm -rf build build-san build-fuzz
