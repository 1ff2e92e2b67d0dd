// The `ndjson` connector: reads local newline-delimited JSON files (one JSON object per line), one
// table per file.
//
// Connection options:
//   path    (required) a file, a directory (its `*.ndjson`, `*.jsonl` and `*.json` files, not
//           recursive) or a glob pattern (`/data/*.ndjson`). Matched once, when the connector is
//           created. Each file is one table, named after the file without its extension;
//           two files with the same table name are an error.
//   schema  the tables' Spark schema: PySpark's StructType JSON, inline (starts with `{`) or the
//           path of a file holding it. The table option `schema` overrides it per table; one of
//           the two is required.
// Table options:
//   max_bytes_per_batch    bytes of the file per read call (1 .. 2^40, default 128 MiB); a call
//                          always ends at a line end, and reads at least one line.
//   max_records_per_batch  records per read call (the SDK's batch rule, lakeflow/connector.h, but
//                          with no limit by default: max_bytes_per_batch bounds a read call).
//   read_buffer_bytes      bytes read into one buffer, cut at the last line end in it (1 .. 1 GiB,
//                          default 2 MiB); a longer line gets a larger buffer.
//   partition_bytes        the size of the byte ranges a large file is read in, in parallel
//                          (PartitionedReads; 1 .. 2^40, default 64 MiB): a read with more than
//                          this many bytes to go is planned as ranges of about this size, each
//                          cut at a line end, ending at the file's size then.
// connector_spec.yaml lists every option; the framework rejects any other.
//
// Every table is `append` (no primary keys, no cursor). Offsets are positions in the file:
// `{"file": "<file name>", "position": <byte offset of the next line>}`, so a read resumes
// exactly where the last one ended; `{}` reads from the start. A read with nothing new returns
// its start offset. Files are expected to grow only by whole lines: a last line without a newline
// is read as a complete record, and a file rewritten in place needs a full refresh.
//
// Records are views into the buffers the file is read into (one RecordBatch per buffer); blank
// lines are skipped, surrounding whitespace (a `\r` before the newline) is trimmed; nothing is
// parsed or converted here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/connector.h"

namespace lakeflow::ndjson {

class NdjsonConnector : public LakeflowConnect, public PartitionedReads {
 public:
  // Throws ConfigError when `path` is missing, matches no file, or gives two files one table
  // name.
  explicit NdjsonConnector(const Options& options);

 protected:
  std::vector<std::string> do_list_tables() override;
  // Throws ConfigError when no `schema` option is set or it cannot be read; SchemaError when it
  // is not a Spark struct schema.
  StructType do_get_table_schema(const TableContext& context) override;
  TableMetadata do_read_table_metadata(const TableContext& context) override;
  // Throws ConfigError for an offset of another file or shape, SourceError when the file cannot
  // be read.
  ReadResult do_read_table(const ReadContext& context) override;
  // From `start`, when more than partition_bytes remain: ranges
  // {"file": name, "from": byte, "to": byte} covering the rest of the file, each starting at a
  // line start; nullopt otherwise (read_table reads it). At the file's end: no partitions, the
  // end equal to `start`.
  std::optional<PartitionPlan> do_plan_partitions(const ReadContext& context) override;
  RecordStream do_read_partition(const PartitionContext& context) override;

 private:
  struct TableFile {
    std::string table;
    std::filesystem::path path;
  };
  // `table` is one of list_tables() (the framework checked it).
  const TableFile& file_of(std::string_view table) const;
  // The byte position `start` (an offset of the table's file, or `{}`) stands at; throws
  // ConfigError for an offset of another file or shape.
  std::uint64_t start_position(std::string_view table, const Offset& start) const;

  std::vector<TableFile> files_;
};

}  // namespace lakeflow::ndjson
