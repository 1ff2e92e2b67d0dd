// Where the pipeline lands tables: the interface between the runner (src/pipeline/), which reads
// connectors and decides what each batch changes, and a storage format that makes a batch and its
// end offset durable in one atomic step. Delta Lake is the implementation
// (delta/delta_destination.h); the CLI chooses it and hands it to run_pipeline.
//
// Header-only, below both the pipeline and the destinations that implement it, so neither depends
// on the other (docs/DESIGN.md, "Destinations").
//
// A table's life in one run:
//   open_table(target)          read the committed state: schema, offsets, batch number, files;
//   set_schema(...)             (existing tables) the evolved schema, carried by the next commit;
//   write_files() / remove_*()  stage the batch's new files and the files it replaces;
//   commit(Commit{...})         make the staged changes, the batch number and the end offset(s)
//                               durable together, or nothing of them.
// Exactly once: a commit records the offset the next read starts from and a batch number that
// grows by one per commit (Table::batch()), and a rerun resumes from what the last commit
// recorded. Copy-on-write merges read files (read_file), remove the ones they rewrite and add new
// ones in the same commit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "columnar/column_batch.h"
#include "columnar/column_sort.h"
#include "lakeflow/error.h"
#include "lakeflow/offset.h"
#include "lakeflow/types.h"

namespace lakeflow::destination {

// How a table's new data files are laid out.
struct FileLayout {
  // The clustering columns (cluster_by). Empty: rows are written in the order they come.
  std::vector<FieldPath> clustering;
  // Clustered tables: a write's sorted rows are cut into files of about this many bytes of column
  // data (held in memory, before encoding and compression; a file is smaller on disk).
  std::size_t target_file_bytes = std::size_t{128} << 20;
  // Clustered tables: the rows of a write are held in memory to be sorted. A write holding more
  // column data than this is sorted and written in parts of about this size (files of different
  // parts overlap in key range).
  std::size_t sort_buffer_bytes = std::size_t{512} << 20;
};

// A table as the runner opens it.
struct TableTarget {
  std::filesystem::path location;  // the table's directory
  StructType schema;               // the schema a table that does not exist yet is created with
  std::string app_id;              // whose batch numbers the table keeps (Table::batch)
  // How new files are laid out. Its clustering columns are recorded in the table by the next
  // commit when the table does not record them already (Table::layout_change_pending).
  FileLayout layout;
};

// Why a table cannot be written at a location (see Destination::check_location).
struct LocationProblem {
  ErrorCode code = ErrorCode::kConfig;
  std::string message;  // names the location and says what to do
};

// What a table knows of one column's values in one data file without reading it (its statistics),
// so that a merge can skip files that cannot hold a changed key. Bounds are JSON text of a value
// of the column's type, in ColumnBatch::row_json's forms, and hold for every non-null value v of
// the column in the file:
//   * `min <= v` when min is set;
//   * `v <= max` when max is set; when `max_cut`, strings whose bound was cut to a prefix (as
//     statistics of long strings are) may exceed it, but only by extending it: then v <= max, or v
//     begins with max without its last character.
// Strings compare by their UTF-8 bytes. Unset bounds say nothing; nothing is said about nulls.
struct ColumnRange {
  std::optional<std::string> min;
  std::optional<std::string> max;
  bool max_cut = false;
};

// One commit: what the commit history says about it, and the progress it records.
struct Commit {
  std::string operation;                          // WRITE, MERGE, CREATE TABLE, CLUSTER BY, ...
  std::map<std::string, std::string> parameters;  // e.g. {"table": "main.sales.orders"}
  std::map<std::string, std::string> metrics;     // e.g. {"numOutputRows": "10"}
  std::int64_t batch = 0;                         // the batch number it records (> Table::batch())
  Offset offset;                                  // where the next read starts
  std::optional<Offset> deletes_offset;           // cdc_with_deletes tables
};

// New data files of one write (a read call's rows, a merge's rewrite), laid out as the table's
// FileLayout says. Destroyed without close(), it removes what it wrote. Between write_files() and
// close() a writer uses nothing of its Table, so several writers of one table may write from
// different threads at once (write_files() and close() are calls on the Table: one at a time).
class FileWriter {
 public:
  virtual ~FileWriter() = default;
  // Appends the rows of `batch`, of the table's schema.
  virtual void write(const ColumnBatch& batch) = 0;
  // Finishes the files and stages them for the table's next commit; returns their names (as
  // Table::file_name names them once that commit is made; none when no row was written). The
  // files stay invisible to readers until that commit.
  virtual std::vector<std::string> close() = 0;
};

// One table, opened by one run. Not thread-safe: one thread uses it.
class Table {
 public:
  virtual ~Table() = default;

  // ---- The table as committed (as of open_table, then of each commit made through this object).
  virtual bool exists() const = 0;  // false until the first commit creates it
  // The table's schema: the committed one, the target's for a new table, or set_schema's.
  virtual StructType schema() const = 0;
  // The offsets the last commit recorded; nullopt when none did.
  virtual std::optional<Offset> offset() const = 0;
  virtual std::optional<Offset> deletes_offset() const = 0;
  // The batch number the last commit of the target's app_id recorded; 0 when none did.
  virtual std::int64_t batch() const = 0;
  // A property stored with the table (committed, or staged by set_property), or nullopt.
  virtual std::optional<std::string> property(std::string_view key) const = 0;
  // The table's data files, numbered 0..file_count()-1 until the next commit.
  virtual std::size_t file_count() const = 0;
  // The name of data file `index` (its path in the table): it names the same file, whose rows
  // never change, for as long as the file is part of the table, across commits.
  virtual std::string file_name(std::size_t index) const = 0;
  // The rows of data file `index`, read as `schema` (fields the file lacks read as null, narrower
  // stored types as the wider type).
  virtual ColumnBatch read_file(std::size_t index, const StructType& schema) const = 0;
  // What the table's statistics say of `column` (a field of schema(), through structs) in data
  // file `index`, whose type is the one schema() gives it now (a file written before a type was
  // widened has bounds of that type's values). Empty when nothing is known.
  virtual ColumnRange column_range(std::size_t index, const FieldPath& column) const = 0;

  // ---- Changes staged for the next commit.
  // The table's schema from now on; `widened` when a column's type was widened (now or before).
  virtual void set_schema(const StructType& schema, bool widened) = 0;
  // Sets (or with nullopt, removes) a property stored with the table.
  virtual void set_property(std::string_view key, std::optional<std::string> value) = 0;
  // Whether the next commit records a layout (clustering columns) the table did not record yet.
  virtual bool layout_change_pending() const = 0;
  virtual void remove_file(std::size_t index) = 0;
  virtual void remove_all_files() = 0;
  // A writer of new files for the next commit.
  virtual std::unique_ptr<FileWriter> write_files() = 0;

  // Commits what is staged, with `commit`'s batch number and offsets, atomically. Throws
  // lakeflow::Error when the commit cannot be made (ConcurrentCommitError when another writer
  // committed first); nothing of it is then visible. Clears what was staged.
  virtual void commit(const Commit& commit) = 0;
  // After commit() threw: removes the files written for it, unless it was made after all; returns
  // how many were removed. Best effort.
  virtual std::size_t discard_uncommitted() = 0;
  // Undoes the commits that recorded a batch number above `batch` (their files removed, the files
  // they removed restored) in one new commit that records `batch` and gives `reason` for it;
  // returns how many commits were undone (0 when none recorded more).
  virtual int undo_batches_after(std::int64_t batch, std::string_view reason) = 0;
};

// A kind of storage for tables. Thread-safe: tables are opened from several threads at once.
class Destination {
 public:
  virtual ~Destination() = default;

  // Why no table can be written at `location` (checked before any table of a run is written), or
  // nullopt.
  virtual std::optional<LocationProblem> check_location(
      const std::filesystem::path& location) const = 0;
  // Why `column` (a field of `schema`) cannot cluster a table, or nullopt. The text completes
  // "cluster_by column 'x' ...".
  virtual std::optional<std::string> clustering_problem(const StructType& schema,
                                                        const FieldPath& column) const = 0;

  // Whether a table was committed at `location`.
  virtual bool table_exists(const std::filesystem::path& location) const = 0;
  // Opens the table at `location` (which need not exist yet). Throws lakeflow::Error when it
  // cannot be read or written (a damaged log, a format or protocol this destination cannot write).
  virtual std::unique_ptr<Table> open_table(const TableTarget& target) const = 0;
  // Removes the data files at `location` that no commit will ever name (left by runs that stopped
  // between writing and committing them); returns their names (none when no table is there).
  // Throws lakeflow::Error when the table cannot be read.
  virtual std::vector<std::string> remove_orphans(const std::filesystem::path& location) const = 0;
  // The rows of the table at `location` as JSON text, at most `limit`. Throws lakeflow::Error when
  // there is no table there.
  virtual std::vector<std::string> read_rows(const std::filesystem::path& location,
                                             std::optional<std::size_t> limit) const = 0;
};

}  // namespace lakeflow::destination
