// `lakeflow read`: follows the offset protocol and prints every record as one NDJSON line.
#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "cli/commands.h"
#include "cli/ndjson.h"
#include "columnar/column_batch.h"
#include "columnar/record_converter.h"
#include "lakeflow/connector.h"
#include "lakeflow/error.h"
#include "lakeflow/offset.h"
#include "lakeflow/records.h"

namespace lakeflow::cli {
namespace {

Offset parse_start_offset(const std::optional<std::string>& text) {
  if (!text) return Offset();
  try {
    return Offset::parse(*text);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("--offset: {}", e.what()));
  }
}

// One `lakeflow read` invocation: the connector, the optional converter and the running counts.
class TableRead {
 public:
  TableRead(const ReadArgs& args, std::ostream& out, std::ostream& err)
      : args_(args),
        out_(out),
        err_(err),
        first_start_(parse_start_offset(args.offset)),
        table_(args.source.table),
        table_options_(args.source.merged_table_options()),
        connector_(make_connector(args.source)) {
    if (args_.typed) {
      ConversionOptions conversion;
      conversion.raw_record_column =
          connector_->read_table_metadata(table_, table_options_).raw_record_column;
      converter_.emplace(connector_->get_table_schema(table_, table_options_), table_,
                         args_.on_bad_record, conversion);
      columns_.emplace(converter_->make_batch());
    }
  }

  // Calls read_table (or read_table_deletes) from the start offset, passing each end offset back
  // as the next start, until the offset repeats, is null, --once or --limit says stop.
  void run() {
    Offset start = first_start_;
    Offset end;
    bool stopped_inside_read = false;
    for (;;) {
      ReadResult result = args_.deletes
                              ? connector_->read_table_deletes(table_, start, table_options_)
                              : connector_->read_table(table_, start, table_options_);
      if (!drain(result.records)) {
        // The limit stopped this read before its stream ended: its end offset would skip the
        // records not printed, so the offset to resume from is where this read started.
        stopped_inside_read = true;
        end = start;
        break;
      }
      end = std::move(result.end);
      if (args_.once || limit_reached() || end.is_null() || end == start) break;
      start = end;
    }
    err_ << "end offset: " << end.to_json() << "\n";
    if (stopped_inside_read) {
      err_ << "note: --limit stopped inside a read; the end offset is where that read started\n";
    }
    err_ << "records: " << written_ << "\n";
    if (args_.typed && args_.on_bad_record == BadRecordMode::kQuarantine) {
      err_ << "bad records: " << quarantined_ << "\n";
    }
    err_.flush();
  }

 private:
  bool limit_reached() const { return args_.limit && written_ >= *args_.limit; }

  // Prints the stream's records. Returns false if --limit stopped it before the stream ended.
  bool drain(RecordStream& records) {
    while (records.next(batch_)) {
      const std::uint64_t room =
          args_.limit ? *args_.limit - written_ : std::numeric_limits<std::uint64_t>::max();
      const std::size_t rows = print_batch(room);
      if (rows > room) return false;
      if (limit_reached()) return !records.next(batch_);
    }
    return true;
  }

  // Prints at most `room` rows of `batch_`; returns how many rows the batch held.
  std::size_t print_batch(std::uint64_t room) {
    lines_.clear();
    std::size_t rows = 0;
    if (converter_) {
      columns_->clear();
      converter_->convert(batch_, *columns_);
      report_bad_records();
      rows = columns_->num_rows();
      for (std::size_t i = 0; i < rows && i < room; ++i) {
        lines_ += columns_->row_json(i);
        lines_ += '\n';
      }
    } else {
      rows = batch_.size();
      for (std::size_t i = 0; i < rows && i < room; ++i) append_ndjson_line(lines_, batch_[i]);
    }
    written_ += std::min<std::uint64_t>(rows, room);
    write_out(out_, lines_);
    return rows;
  }

  void report_bad_records() {
    for (const BadRecord& bad : converter_->bad_records()) {
      err_ << "bad record: " << single_line(bad.reason) << "\n";
      ++quarantined_;
    }
    converter_->clear_bad_records();
  }

  const ReadArgs& args_;
  std::ostream& out_;
  std::ostream& err_;
  const Offset first_start_;  // parsed before the connector is created: a typo fails fast
  const std::string& table_;
  const Options table_options_;
  const std::unique_ptr<LakeflowConnect> connector_;
  std::optional<RecordConverter> converter_;
  std::optional<ColumnBatch> columns_;
  RecordBatch batch_;
  std::string lines_;
  std::uint64_t written_ = 0;
  std::uint64_t quarantined_ = 0;
};

}  // namespace

void read_records(const ReadArgs& args, std::ostream& out, std::ostream& err) {
  TableRead(args, out, err).run();
}

}  // namespace lakeflow::cli
