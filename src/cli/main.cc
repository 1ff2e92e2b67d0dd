// Entry point of the `lakeflow` command; everything else lives in lakeflow_cli_lib.
#include <malloc.h>

#include "cli.h"  // beside this file: lakeflow_cli_lib keeps src/ private

int main(int argc, char** argv) {
  // A run allocates and frees buffers of megabytes per batch and per partition (read chunks,
  // converted columns, Parquet pages). glibc's defaults return freed ones to the kernel, so the
  // next batch faults them in again, a zero-filled page at a time; kept in the heap, they are
  // reused. Measured on `make bench`'s ingest (200 MiB of NDJSON): about 40% fewer page faults,
  // the same peak RSS. 32 MiB is the largest mmap threshold glibc adapts to by itself; fixing it
  // stops that adaptation, which is what ties the trim threshold to it.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
  return lakeflow::cli::run(argc, argv);
}
