// The `hl7v2` connector: reads HL7 v2 messages (ER7, versions 2.3 to 2.8) from files: one
// message per file, several per file, FHS/BHS batch files, or MLLP-framed logs as interface engines
// write them (er7.h has the rules); or, with `source_type: gcp`, from a Google Cloud Healthcare API
// HL7v2 store (hl7v2_gcp_store.h has its options, offsets and reads). The tables are the same.
//
// Connection options (files):
//   path         a file, a directory or a glob pattern (`/data/hl7/*.hl7`). Matched when the
//                connector is created; a directory or glob matching nothing is an empty source.
//   volume_path  upstream's name for a directory of files; give it or `path`, not both.
//   file_glob    a shell pattern file names must match (default `*`); names starting with `.`
//                are always skipped, so a writer can write `.name` and rename it when complete.
//   recursive    `true` to read the subdirectories of a directory too (default `false`).
//   segments     more segment IDs to serve as tables, comma-separated (`ZPD,ZPV`): Z-segments and
//                segments without a definition, read as field_1 .. field_25.
//   source_type  `files` or upstream's `volume` (the default), or `gcp` (a Cloud Healthcare API
//                store: project_id, location, dataset_id, hl7v2_store_id, access_token or
//                service_account_json, base_url,
//                filter, max_arrival_delay; the file options above are refused with it).
// Table options:
//   segment_type           the segment a table reads (default: its name, upper-cased).
//   max_records_per_batch  records per read call (the SDK's rule, lakeflow/connector.h).
//   read_buffer_bytes      bytes of a file read at a time (1 .. 1 GiB, default 4 MiB); a longer
//                          message grows the buffer.
//   page_size              (gcp) messages per page of the store's listing (1 .. 1000, default
//                          1000).
//
// Tables: `messages` (one row per message), `malformed_messages` (text that is not a readable
// message, with the reason), and one table per segment type named by its ID in lower case (`msh`,
// `pid`, `obx`, ... hl7v2_model.h), every row keyed by (message_control_id, segment_index). All are
// append tables.
//
// Offsets (files): files are read in the order of their names (relative to the connection's path):
// `{"file": "<name>", "position": <byte offset of the next message>}`, with `"segment": k` when a
// read call ended inside a message (its segments before index k are read). Files sorting before
// the offset's file are done, so new files must sort after the ones already read (names with a
// timestamp or sequence number, as interface engines write them); a file may grow by whole
// messages. `{}` reads from the start.
//
// Records are JSON built from the parsed messages; the framework converts them to the schema.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hl7v2_gcp_store.h"
#include "lakeflow/connector.h"

namespace lakeflow::hl7v2 {

class Hl7v2Connector : public LakeflowConnect {
 public:
  // Throws ConfigError for a missing or contradictory path, a path that does not exist, a bad
  // `recursive`, `segments` or `source_type`, an option of the other source type, or a missing or
  // bad option of the gcp source.
  explicit Hl7v2Connector(const Options& options);

 protected:
  std::vector<std::string> do_list_tables() override;
  // Throws ConfigError for a bad `segment_type`.
  StructType do_get_table_schema(const TableContext& context) override;
  TableMetadata do_read_table_metadata(const TableContext& context) override;
  // Throws ConfigError for an offset of another shape, SourceError when a file cannot be read.
  ReadResult do_read_table(const ReadContext& context) override;

 private:
  struct SourceFile {
    std::string name;  // relative to base_, with '/' separators; the order of reading
    std::filesystem::path path;
  };

  // The files `path` names (a file, a directory, a glob) whose names match `file_glob`, without
  // dot files, sorted by name. Throws ConfigError when `path` is neither a glob nor an existing
  // file or directory.
  static std::vector<SourceFile> list_files(const std::string& path, const std::string& file_glob,
                                            bool recursive);

  std::vector<SourceFile> files_;  // source_type files
  std::unique_ptr<GcpStore> gcp_;  // source_type gcp
  std::vector<std::string> tables_;
};

}  // namespace lakeflow::hl7v2
