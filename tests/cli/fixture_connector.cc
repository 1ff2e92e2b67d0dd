// "fixture": a small, deterministic source linked only into `lakeflow_testcli`, so the CLI tests
// exercise every command and error path against a connector that follows the protocol faithfully.
//
// Connector options:
//   greeting    required; copied into every `people` record (proves options reach the connector)
//   page_count  pages of `people`, 1..3 (default 3)
//   trace       when true, every read call is logged to stderr as
//               `fixture: read_table <table> start=<offset json>`
// Tables:
//   people    cdc, key id, cursor updated_at; nested struct + array; two records per page, paged
//             through the offset {"page": n}. Table options: max_records_per_batch (default 2),
//             cursor_field (overrides the declared cursor, to test metadata validation).
//   events    append; `count` events (table option, default 5) in batches of 1000, offset
//   {"seq":n}. accounts  cdc_with_deletes; read_table_deletes returns one deleted row. broken every
//   read fails with SourceError. messy     snapshot (null end offset); its second record does not
//   convert.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/connector.h"
#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"

namespace {

using lakeflow::DataType;
using lakeflow::IngestionType;
using lakeflow::JsonValue;
using lakeflow::Offset;
using lakeflow::Options;
using lakeflow::ReadResult;
using lakeflow::RecordBatch;
using lakeflow::RecordStream;
using lakeflow::StructField;
using lakeflow::StructType;
using lakeflow::TableMetadata;

constexpr std::int64_t kMaxPages = 3;
constexpr std::size_t kPeoplePerPage = 2;
constexpr std::int64_t kEventsPerBatch = 1000;

// `{greeting}` is replaced by the greeting option (as a JSON string). Record 4 is pretty-printed
// across lines, as some APIs return it.
constexpr std::string_view kPeople[] = {
    R"({"id":1,"name":{"given":["Ada"],"family":"Lovelace"},"tags":["math","poetry"],)"
    R"("greeting":{greeting},"updated_at":"2024-01-01T00:00:00Z"})",
    R"({"id":2,"name":{"given":["Alan","Mathison"],"family":"Turing"},"tags":[],)"
    R"("greeting":{greeting},"updated_at":"2024-01-02T00:00:00Z"})",
    R"({"id":3,"name":{"given":["Edsger"],"family":"Dijkstra"},"tags":null,)"
    R"("greeting":{greeting},"updated_at":"2024-01-03T00:00:00Z"})",
    "{\n  \"id\": 4,\n  \"name\": {\"given\": [\"Grace\"], \"family\": \"Hopper\"},\r\n"
    "  \"tags\": [\"navy\",\n           \"line\\nbreak\"],\n  \"greeting\": {greeting},\n"
    "  \"updated_at\": \"2024-01-04T00:00:00Z\"\n}\n",
    R"({"id":5,"name":{"given":["Barbara"],"family":"Liskov"},"tags":["types"],)"
    R"("greeting":{greeting},"updated_at":"2024-01-05T00:00:00Z"})",
    R"({"id":6,"name":{"given":["Donald"],"family":"Knuth"},"tags":["tex"],)"
    R"("greeting":{greeting},"updated_at":"2024-01-06T00:00:00Z"})",
};

std::string with_greeting(std::string_view record, const std::string& greeting) {
  std::string quoted;
  lakeflow::append_json_string(quoted, greeting);
  std::string out(record);
  const std::string_view placeholder = "{greeting}";
  out.replace(out.find(placeholder), placeholder.size(), quoted);
  return out;
}

std::int64_t offset_int(const Offset& offset, std::string_view key) {
  const JsonValue* value = offset.find(key);
  if (value == nullptr) return 0;
  if (!value->is_int()) {
    throw lakeflow::ConfigError(
        fmt::format("fixture: offset field '{}' must be an integer, got {}", key, value->dump()));
  }
  return value->as_int();
}

const lakeflow::ConnectorSpec& embedded_connector_spec() {
  static const lakeflow::ConnectorSpec spec(
      "fixture", {{"greeting", true, false}, {"page_count", false, false}, {"trace", false, false}},
      {"max_records_per_batch", "cursor_field", "count"});
  return spec;
}

class FixtureConnector : public lakeflow::LakeflowConnect {
 public:
  explicit FixtureConnector(const Options& options)
      : LakeflowConnect(embedded_connector_spec(), options),
        greeting_(options.get_string("greeting")),
        page_count_(options.get_int("page_count", kMaxPages, 1, kMaxPages)),
        trace_(options.get_bool("trace", false)) {}

  std::vector<std::string> do_list_tables() override {
    return {"people", "events", "accounts", "broken", "messy"};
  }

  StructType do_get_table_schema(const TableContext& context) override {
    if (context.table == "people") {
      return StructType{
          {"id", DataType::Long(), false},
          {"name", StructType{{"given", DataType::Array(DataType::String())},
                              {"family", DataType::String()}}},
          {"tags", DataType::Array(DataType::String())},
          {"greeting", DataType::String()},
          {"updated_at", DataType::Timestamp()},
      };
    }
    if (context.table == "events") {
      return StructType{{"seq", DataType::Long(), false}, {"kind", DataType::String()}};
    }
    if (context.table == "accounts") {
      return StructType{{"id", DataType::Long(), false},
                        {"owner", DataType::String()},
                        {"modified", DataType::Timestamp()}};
    }
    if (context.table == "broken") return StructType{{"id", DataType::Long(), false}};
    return StructType{{"id", DataType::Long(), false},
                      {"amount", DataType::Decimal(5, 2)},
                      {"label", DataType::String()}};
  }

  TableMetadata do_read_table_metadata(const TableContext& context) override {
    if (context.table == "people") {
      return {{"id"},
              context.table_options.get_string("cursor_field", "updated_at"),
              IngestionType::kCdc};
    }
    if (context.table == "events") return {{}, std::nullopt, IngestionType::kAppend};
    if (context.table == "accounts") return {{"id"}, "modified", IngestionType::kCdcWithDeletes};
    return {{"id"}, std::nullopt, IngestionType::kSnapshot};
  }

  ReadResult do_read_table(const ReadContext& context) override {
    trace("read_table", context.table, context.start);
    if (context.table == "people") return read_people(context);
    if (context.table == "events") return read_events(context.start, context.table_options);
    if (context.table == "accounts") {
      const Offset end(JsonValue::Object{{"cursor", "2024-02-02T00:00:00Z"}});
      if (context.start == end) return {RecordStream(), context.start};
      return {RecordStream::of(std::vector<std::string>{
                  R"({"id":1,"owner":"ada","modified":"2024-02-01T00:00:00Z"})",
                  R"({"id":2,"owner":"alan","modified":"2024-02-02T00:00:00Z"})"}),
              end};
    }
    if (context.table == "broken") {
      throw lakeflow::SourceError(
          "fixture: GET /broken answered HTTP 503 Service Unavailable; retry later");
    }
    return {RecordStream::of(
                std::vector<std::string>{R"({"id":1,"amount":"12.50","label":"ok"})",
                                         R"({"id":"two","amount":1,"label":"id is not a number"})",
                                         R"({"id":3,"amount":3.25,"label":"fine"})"}),
            Offset::null()};
  }

  ReadResult do_read_table_deletes(const ReadContext& context) override {
    if (context.table != "accounts") return LakeflowConnect::do_read_table_deletes(context);
    trace("read_table_deletes", context.table, context.start);
    const Offset end(JsonValue::Object{{"cursor", "2024-02-03T00:00:00Z"}});
    if (context.start == end) return {RecordStream(), context.start};
    return {
        RecordStream::of(std::vector<std::string>{R"({"id":3,"modified":"2024-02-03T00:00:00Z"})"}),
        end};
  }

 private:
  void trace(std::string_view method, std::string_view table, const Offset& start) const {
    if (trace_)
      std::cerr << "fixture: " << method << " " << table << " start=" << start.to_json() << "\n";
  }

  // Page n (1-based) follows offset {"page": n-1}; after the last page the offset repeats.
  ReadResult read_people(const ReadContext& context) {
    const Offset& start = context.start;
    const std::int64_t done = offset_int(start, "page");
    const auto per_batch =
        static_cast<std::size_t>(context.max_records_per_batch.value_or(kPeoplePerPage));
    if (done >= page_count_) return {RecordStream(), start};
    std::vector<std::string> records;
    for (std::size_t i = 0; i < kPeoplePerPage; ++i) {
      records.push_back(
          with_greeting(kPeople[static_cast<std::size_t>(done) * kPeoplePerPage + i], greeting_));
    }
    auto next = std::make_shared<std::size_t>(0);
    RecordStream stream([records = std::move(records), next, per_batch](RecordBatch& batch) {
      for (std::size_t n = 0; n < per_batch && *next < records.size(); ++n) {
        batch.append(records[(*next)++]);
      }
      return !batch.empty();
    });
    Offset end;
    end.set("page", JsonValue(done + 1));
    return {std::move(stream), std::move(end)};
  }

  ReadResult read_events(const Offset& start, const Options& table_options) {
    const std::int64_t count = table_options.get_int("count", 5, 0, 10'000'000);
    const std::int64_t from = offset_int(start, "seq");
    if (from >= count) return {RecordStream(), start};
    auto next = std::make_shared<std::int64_t>(from);
    RecordStream stream([next, count](RecordBatch& batch) {
      for (std::int64_t n = 0; n < kEventsPerBatch && *next < count; ++n, ++*next) {
        batch.append(
            fmt::format(R"({{"seq":{},"kind":"{}"}})", *next, *next % 2 == 0 ? "click" : "view"));
      }
      return !batch.empty();
    });
    Offset end;
    end.set("seq", JsonValue(count));
    return {std::move(stream), std::move(end)};
  }

  std::string greeting_;
  std::int64_t page_count_;
  bool trace_;
};

}  // namespace

LAKEFLOW_REGISTER_CONNECTOR("fixture", FixtureConnector, "Test-only source for the CLI tests");
