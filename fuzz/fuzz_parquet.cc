// Fuzzes the Parquet reader: the input is a whole file, read the two ways lakeflow reads Parquet.
// As a data file (`lakeflow show` and merges: the file's own schema, every row rendered as JSON)
// and as a Delta checkpoint (read_checkpoint_file: the checkpoint schema, every row an action).
// A lakeflow::Error is the expected outcome of a bad file; anything else breaks the contract in
// fuzz_support.h.
//
// Invariants checked per input:
//   * The batch read is structurally sound (fuzz_support.h's check_column) and holds as many rows
//     as the file's row groups say.
//   * read() with the file's schema equals reading the row groups one by one.
//
// The input reaches the reader as a file: a memfd, opened by its /proc/self/fd path.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "columnar/column_batch.h"
#include "delta/delta_checkpoint.h"
#include "fuzz_support.h"
#include "lakeflow/error.h"
#include "parquet/parquet_reader.h"

namespace {

using lakeflow::fuzz::fail;
using lakeflow::fuzz::typed_errors_only;

// Rows rendered as JSON per input, at most: rendering is the slow part, the first rows find the
// rendering bugs.
constexpr std::size_t kRenderedRows = 64;

// The path of a memfd holding exactly `data`.
std::string file_of(const std::uint8_t* data, std::size_t size) {
  static const int fd = ::memfd_create("fuzz_parquet", MFD_CLOEXEC);
  if (fd < 0) fail("memfd_create failed", "");
  if (::ftruncate(fd, 0) != 0) fail("ftruncate failed", "");
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) fail("pwrite failed", "");
    done += static_cast<std::size_t>(n);
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = file_of(data, size);

  typed_errors_only([&] {
    const lakeflow::parquet::ParquetReader reader(path);
    const lakeflow::StructType schema = reader.schema();
    lakeflow::ColumnBatch batch = reader.read(schema);
    std::int64_t rows = 0;
    for (const auto& group : reader.metadata().row_groups) rows += group.num_rows;
    if (static_cast<std::int64_t>(batch.num_rows()) != rows) {
      fail("read() returned another row count than the row groups hold", schema.json());
    }
    batch.materialize();  // buffers cover every row, as for a reader of whole buffers
    lakeflow::fuzz::check_column(batch.root(), "file");
    std::size_t at = 0;
    for (std::size_t g = 0; g < reader.num_row_groups(); ++g) {
      const lakeflow::ColumnBatch group = reader.read_row_group(g, schema);
      for (std::size_t i = 0; i < group.num_rows() && at + i < kRenderedRows; ++i) {
        if (group.row_json(i) != batch.row_json(at + i)) {
          fail("a row group reads differently alone", group.row_json(i));
        }
      }
      at += group.num_rows();
    }
  });

  typed_errors_only([&] { (void)lakeflow::delta::read_checkpoint_file(path); });
  return 0;
}
