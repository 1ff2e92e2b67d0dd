// The "broken_fixture" connector and its write-back helper (see broken_fixture.h).
#include "broken_fixture.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/connector.h"
#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"

namespace lakeflow::conformance_fixture {
namespace {

constexpr std::int64_t kPageSize = 2;

// The source's mutable state, shared by every connector instance of the process (fresh connectors
// must see what the write-back helper wrote).
struct Account {
  std::int64_t id;
  std::string email;
  std::int64_t tick;  // the logical time of its last change
};
struct Tombstone {
  std::int64_t id;
  std::int64_t tick;
};
struct Store {
  std::int64_t clock = 10;
  std::int64_t next_id = 4;
  int next_sku = 3;
  std::int64_t inventory_reads = 0;
  std::vector<Account> accounts = {
      {1, "ada@example.org", 1}, {2, "alan@example.org", 2}, {3, "grace@example.org", 3}};
  std::vector<Tombstone> tombstones = {{100, 4}};
  std::vector<std::pair<std::string, std::int64_t>> inventory = {{"sku-1", 5}, {"sku-2", 0}};
};

Store& store() {
  static Store instance;
  return instance;
}

// A UTC timestamp `tick` seconds after 2024-01-01T00:00:00Z (ticks stay below a day).
std::string timestamp(std::int64_t tick) {
  return fmt::format("2024-01-01T{:02}:{:02}:{:02}Z", tick / 3600, tick / 60 % 60, tick % 60);
}

std::string json_quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

// The table option max_records_per_batch, which every read honours: records per read call.
std::int64_t batch_limit(const Options& options) {
  return options.get_int("max_records_per_batch", kPageSize, 1, 1000);
}

std::int64_t page_of(const Offset& offset) {
  const JsonValue* page = offset.find("page");
  return page != nullptr && page->is_int() ? page->as_int() : 0;
}

// Page n of `records` (`page_size` each) follows {"page": n}; {} is page 0. After the last page the
// start offset comes back. `first_extra` adds that many records before the page (a planted
// defect); `never_converge` moves the offset on even past the end (another).
ReadResult read_pages(const std::vector<std::string>& records, const Offset& start,
                      std::int64_t page_size, std::int64_t first_extra = 0,
                      bool never_converge = false) {
  const std::int64_t page = page_of(start);
  const auto size = static_cast<std::int64_t>(records.size());
  const std::int64_t begin = std::max<std::int64_t>(0, page * page_size - first_extra);
  const std::int64_t end = std::min(size, page * page_size + page_size);
  if (begin >= end && !never_converge) return {RecordStream(), start};
  std::vector<std::string> slice;
  for (std::int64_t i = begin; i < end; ++i) slice.push_back(records[static_cast<std::size_t>(i)]);
  return {RecordStream::of(std::move(slice)), Offset(JsonValue::Object{{"page", page + 1}})};
}

const ConnectorSpec& embedded_connector_spec() {
  static const ConnectorSpec spec("broken_fixture", {{"defects", true, false}},
                                  {"max_records_per_batch"});
  return spec;
}

class BrokenFixture : public LakeflowConnect, public PartitionedReads {
 public:
  explicit BrokenFixture(const Options& options)
      : LakeflowConnect(embedded_connector_spec(), options),
        defects_(options.get_enum("defects", {"none", "all"}) == "all") {}

  std::vector<std::string> do_list_tables() override {
    std::vector<std::string> tables = {"customers", "orders",  "events",    "ledger",
                                       "people",    "audit",   "inventory", "empty_feed",
                                       "accounts",  "archive", "shipments"};
    if (defects_) tables.insert(tables.begin() + 1, "customers");
    return tables;
  }

  StructType do_get_table_schema(const TableContext& context) override {
    const std::string_view table = context.table;
    if (table == "customers") {
      std::vector<StructField> fields = {{"id", DataType::Long(), false},
                                         {"name", DataType::String()},
                                         {"score", DataType::Integer()}};
      if (defects_) fields.emplace_back("age", DataType::Integer());
      fields.emplace_back("updated_at", DataType::Timestamp());
      return StructType(std::move(fields));
    }
    if (table == "orders") {
      return StructType{{"order_id", DataType::Long(), false},
                        {"items", DataType::Array(StructType{{"sku", DataType::String()},
                                                             {"qty", DataType::Long()}})},
                        {"updated_at", DataType::Timestamp()}};
    }
    if (table == "events")
      return StructType{{"seq", DataType::Long()}, {"kind", DataType::String()}};
    if (table == "ledger") {
      return StructType{{"entry_id", DataType::Long(), false},
                        {"amount", DataType::Double()},
                        {"posted_at", DataType::Timestamp()}};
    }
    if (table == "people") {
      return StructType{{"id", DataType::Long()},
                        {"name", DataType::String()},
                        {"nickname", DataType::String()},
                        {"updated_at", DataType::Timestamp()}};
    }
    if (table == "audit") {
      return StructType{{"at", DataType::Timestamp()}, {"action", DataType::String()}};
    }
    if (table == "inventory") {
      return StructType{{"sku", DataType::String(), false},
                        {"qty", DataType::Long()},
                        {"read_no", DataType::Long()}};
    }
    if (table == "empty_feed") {
      return StructType{{"id", DataType::Long()}, {"ts", DataType::Timestamp()}};
    }
    if (table == "accounts") {
      return StructType{{"id", DataType::Long(), false},
                        {"email", DataType::String()},
                        {"updated_at", DataType::Timestamp()}};
    }
    if (table == "shipments") {
      return StructType{{"id", DataType::Long(), false}, {"shipped_at", DataType::Timestamp()}};
    }
    return StructType{{"id", DataType::Long(), false},
                      {"note", DataType::String()},
                      {"updated_at", DataType::Timestamp()}};
  }

  TableMetadata do_read_table_metadata(const TableContext& context) override {
    const std::string_view table = context.table;
    if (table == "customers" || table == "people") {
      return {{"id"}, "updated_at", IngestionType::kCdc};
    }
    if (table == "orders") {
      if (defects_) return {{"order_id"}, std::nullopt, IngestionType::kCdc};
      return {{"order_id"}, "updated_at", IngestionType::kCdc};
    }
    if (table == "events") return {{}, std::nullopt, IngestionType::kAppend};
    if (table == "ledger") return {{"entry_id"}, "posted_at", IngestionType::kAppend};
    if (table == "audit") return {{}, "at", IngestionType::kAppend};
    if (table == "inventory") return {{"sku"}, std::nullopt, IngestionType::kSnapshot};
    if (table == "empty_feed") return {{"id"}, "ts", IngestionType::kCdc};
    if (table == "shipments") return {{"id"}, "shipped_at", IngestionType::kCdc};
    return {{"id"}, "updated_at", IngestionType::kCdcWithDeletes};  // accounts, archive
  }

  ReadResult do_read_table(const ReadContext& context) override {
    const std::string_view table = context.table;
    const Offset& start = context.start;
    const Options& options = context.table_options;
    const std::int64_t limit = batch_limit(options);
    const bool first_call = first_call_;
    first_call_ = false;
    if (table == "customers") {
      // A defect: the batch limit is ignored.
      return read_pages(customers(), start, defects_ ? kPageSize : limit);
    }
    if (table == "orders") return read_pages(orders(), start, limit);
    if (table == "events") {
      return read_pages({R"({"seq":1,"kind":"open"})", R"({"seq":2,"kind":"click"})",
                         R"({"seq":3,"kind":"click"})", R"({"seq":4,"kind":"close"})"},
                        start, limit, 0, /*never_converge=*/defects_);
    }
    if (table == "ledger") {
      std::vector<std::string> records;
      for (int i = 1; i <= 5; ++i) {
        records.push_back(
            fmt::format(R"({{"entry_id":{},"amount":{}.5,"posted_at":"{}"}})", i, i, timestamp(i)));
      }
      // The defect: a "lookback" of one record on the first call of every connector instance.
      return read_pages(records, start, limit, defects_ && first_call && !start.empty() ? 1 : 0);
    }
    if (table == "people") return read_pages(people(), start, limit);
    if (table == "audit") return read_audit(start, limit);
    if (table == "inventory") return read_inventory();
    if (table == "empty_feed") {
      if (defects_) return {RecordStream(), Offset::null()};
      return read_pages({fmt::format(R"({{"id":1,"ts":"{}"}})", timestamp(1))}, start, limit);
    }
    if (table == "accounts") return read_accounts(start, limit);
    if (table == "shipments") return read_shipments(start, options);
    std::vector<std::string> records;
    for (int i = 1; i <= 2; ++i) {
      records.push_back(
          fmt::format(R"({{"id":{},"note":"note {}","updated_at":"{}"}})", i, i, timestamp(i)));
    }
    return read_pages(records, start, limit);
  }

  // Partitions: `orders` and `customers` plan their first read as ranges of record numbers
  // ({"from": i, "to": j}), ending at {"page": <record count>} (past the last page at any batch
  // limit). With defects the ranges of `orders` overlap, and `customers` plans its whole table
  // again from every offset.
  std::optional<PartitionPlan> do_plan_partitions(const ReadContext& context) override {
    const std::string_view table = context.table;
    if (table != "orders" && table != "customers") return std::nullopt;
    const std::int64_t count = table == "orders" ? 3 : 4;
    if (!context.start.empty() && !(defects_ && table == "customers")) return std::nullopt;
    const auto range = [](std::int64_t from, std::int64_t to) {
      return Offset(JsonValue::Object{{"from", from}, {"to", to}});
    };
    PartitionPlan plan;
    plan.partitions = {range(0, 2), range(defects_ && table == "orders" ? 1 : 2, count)};
    plan.end = Offset(JsonValue::Object{{"page", count}});
    return plan;
  }

  RecordStream do_read_partition(const PartitionContext& context) override {
    const std::vector<std::string> records = context.table == "orders" ? orders() : customers();
    const std::int64_t from = context.partition.find("from")->as_int();
    const std::int64_t to = context.partition.find("to")->as_int();
    std::vector<std::string> slice(records.begin() + from, records.begin() + to);
    return RecordStream::of(std::move(slice));
  }

  ReadResult do_read_table_deletes(const ReadContext& context) override {
    const std::string_view table = context.table;
    const Offset& start = context.start;
    const Options& options = context.table_options;
    if (table == "accounts") return read_tombstones(start);
    if (table == "archive" && !defects_) {
      return read_pages({fmt::format(R"({{"id":9,"updated_at":"{}"}})", timestamp(9))}, start,
                        batch_limit(options));
    }
    return LakeflowConnect::do_read_table_deletes(context);
  }

 private:
  std::vector<std::string> people() const {
    if (!defects_) {
      return {fmt::format(R"({{"id":1,"name":"Ada","nickname":"ada","updated_at":"{}"}})",
                          timestamp(1)),
              fmt::format(R"({{"id":2,"name":"Alan","nickname":null,"updated_at":"{}"}})",
                          timestamp(2)),
              fmt::format(R"({{"id":3,"name":"Grace","updated_at":"{}"}})", timestamp(3))};
    }
    return {
        fmt::format(R"({{"id":1,"name":"Ada","nickname":null,"updated_at":"{}"}})", timestamp(1)),
        fmt::format(R"({{"id":null,"name":"Nobody","updated_at":"{}"}})", timestamp(2)),
        R"({"id":null,"name":null,"nickname":null,"updated_at":null})",
        R"({"id":4,"name":"Edsger","updated_at":"not a time"})"};
  }

  // After {"since": <timestamp>}, `limit` records a call.
  std::vector<std::string> customers() const {
    std::vector<std::string> records;
    for (int i = 1; i <= 4; ++i) {
      records.push_back(
          fmt::format(R"({{"id":{},"name":"customer {}","score":{},{}"updated_at":"{}"}})", i, i,
                      i * 10, defects_ ? fmt::format(R"("age":{},)", 20 + i) : "", timestamp(i)));
    }
    return records;
  }

  static std::vector<std::string> orders() {
    std::vector<std::string> records;
    for (int i = 1; i <= 3; ++i) {
      records.push_back(fmt::format(
          R"({{"order_id":{},"items":[{{"sku":"sku-{}","qty":{}}}],"updated_at":"{}"}})", i, i, i,
          timestamp(i)));
    }
    return records;
  }

  ReadResult read_audit(const Offset& start, std::int64_t limit) const {
    const std::vector<std::pair<std::string, std::string>> rows = {
        {timestamp(1), "login"}, {timestamp(2), "export"}, {timestamp(3), "logout"}};
    const JsonValue* since_value = start.find("since");
    std::string since =
        since_value != nullptr && since_value->is_string() ? since_value->as_string() : "";
    if (defects_ && since > rows.back().first) since.clear();  // the defect: "wraps around"
    std::vector<std::string> records;
    std::string newest;
    for (const auto& [at, action] : rows) {
      if (at <= since) continue;
      if (records.size() == static_cast<std::size_t>(limit)) break;
      records.push_back(fmt::format(R"({{"at":"{}","action":"{}"}})", at, action));
      newest = at;
    }
    if (records.empty()) return {RecordStream(), start};
    return {RecordStream::of(std::move(records)), Offset(JsonValue::Object{{"since", newest}})};
  }

  ReadResult read_inventory() const {
    Store& s = store();
    const std::int64_t read_no = defects_ ? ++s.inventory_reads : 1;
    std::vector<std::string> records;
    for (const auto& [sku, qty] : s.inventory) {
      records.push_back(
          fmt::format(R"({{"sku":{},"qty":{},"read_no":{}}})", json_quoted(sku), qty, read_no));
    }
    return {RecordStream::of(std::move(records)), Offset::null()};
  }

  // `limit` changes per call after {"cursor": <timestamp>}, in cursor order.
  ReadResult read_accounts(const Offset& start, std::int64_t limit) const {
    std::vector<Account> rows = store().accounts;
    std::sort(rows.begin(), rows.end(),
              [](const Account& a, const Account& b) { return a.tick < b.tick; });
    const JsonValue* cursor = start.find("cursor");
    const std::string since = cursor != nullptr && cursor->is_string() ? cursor->as_string() : "";
    std::vector<std::string> records;
    std::string last;
    for (const Account& row : rows) {
      if (timestamp(row.tick) <= since) continue;
      if (records.size() == static_cast<std::size_t>(limit)) break;
      last = timestamp(row.tick);
      records.push_back(fmt::format(R"({{"id":{},"email":{},"updated_at":"{}"}})", row.id,
                                    json_quoted(row.email), last));
    }
    if (records.empty()) return {RecordStream(), start};
    return {RecordStream::of(std::move(records)), Offset(JsonValue::Object{{"cursor", last}})};
  }

  // Shipments in (shipped_at, id) order, several shipped at the same time; the whole table in one
  // call unless max_records_per_batch is set. The offset holds the last record's shipped_at and
  // id, and the next read starts after that pair; with defects it holds only shipped_at and the
  // next read starts after that time, skipping the rest of the records that share it.
  ReadResult read_shipments(const Offset& start, const Options& options) const {
    const std::int64_t limit = options.get_int("max_records_per_batch", 1000, 1, 1000);
    const std::vector<std::pair<std::int64_t, std::int64_t>> rows = {
        {1, 1}, {2, 2}, {3, 2}, {4, 2}, {5, 3}, {6, 3}, {7, 4}};  // {id, tick}
    const JsonValue* at = start.find("shipped_at");
    const JsonValue* id = start.find("id");
    const std::string since = at != nullptr && at->is_string() ? at->as_string() : "";
    const std::int64_t since_id = id != nullptr && id->is_int() ? id->as_int() : 0;
    std::vector<std::string> records;
    std::pair<std::string, std::int64_t> last;
    for (const auto& [row_id, tick] : rows) {
      const std::string shipped = timestamp(tick);
      const bool after = defects_
                             ? shipped > since
                             : std::make_pair(shipped, row_id) > std::make_pair(since, since_id);
      if (!after) continue;
      if (records.size() == static_cast<std::size_t>(limit)) break;
      records.push_back(fmt::format(R"({{"id":{},"shipped_at":"{}"}})", row_id, shipped));
      last = {shipped, row_id};
    }
    if (records.empty()) return {RecordStream(), start};
    JsonValue::Object end{{"shipped_at", last.first}};
    if (!defects_) end.emplace("id", last.second);
    return {RecordStream::of(std::move(records)), Offset(std::move(end))};
  }

  ReadResult read_tombstones(const Offset& start) const {
    const JsonValue* cursor = start.find("cursor");
    const std::string since = cursor != nullptr && cursor->is_string() ? cursor->as_string() : "";
    std::vector<std::string> records;
    std::string last;
    for (const Tombstone& row : store().tombstones) {
      if (timestamp(row.tick) <= since) continue;
      last = timestamp(row.tick);
      records.push_back(defects_ ? fmt::format(R"({{"id":{}}})", row.id)
                                 : fmt::format(R"({{"id":{},"updated_at":"{}"}})", row.id, last));
    }
    if (records.empty()) return {RecordStream(), start};
    return {RecordStream::of(std::move(records)), Offset(JsonValue::Object{{"cursor", last}})};
  }

  bool defects_;
  bool first_call_ = true;
};

LAKEFLOW_REGISTER_CONNECTOR("broken_fixture", BrokenFixture,
                            "Test-only connector with planted protocol defects");

class FixtureWriteBack : public testing::WriteBackUtils {
 public:
  explicit FixtureWriteBack(bool defects) : defects_(defects) {}

  std::vector<std::string> insertable_tables() override { return {"accounts", "inventory"}; }
  std::vector<std::string> updatable_tables() override { return {"accounts"}; }
  std::vector<std::string> deletable_tables() override {
    if (defects_) return {"accounts", "customers"};
    return {"accounts"};
  }

  std::vector<JsonValue> insert_rows(std::string_view table, int n) override {
    Store& s = store();
    std::vector<JsonValue> rows;
    for (int i = 0; i < n; ++i) {
      if (table == "inventory") {
        const std::string sku = fmt::format("sku-{}", s.next_sku++);
        s.inventory.emplace_back(sku, 7);
        rows.push_back(JsonValue::Object{{"sku", sku}, {"qty", 7}});
      } else {
        const std::int64_t id = s.next_id++;
        const std::string email = fmt::format("user{}@example.org", id);
        s.accounts.push_back({id, email, ++s.clock});
        rows.push_back(JsonValue::Object{{"id", id}, {"email", email}});
      }
    }
    return rows;
  }

  std::vector<JsonValue> update_rows(std::string_view /*table*/, int n) override {
    Store& s = store();
    std::vector<JsonValue> rows;
    for (int i = 0; i < n && i < static_cast<int>(s.accounts.size()); ++i) {
      Account& account = s.accounts[static_cast<std::size_t>(i)];
      account.email = fmt::format("changed{}@example.org", ++s.clock);
      if (!defects_) account.tick = s.clock;  // the defect: the change does not move the cursor
      rows.push_back(JsonValue::Object{{"id", account.id}, {"email", account.email}});
    }
    return rows;
  }

  std::vector<JsonValue> delete_rows(std::string_view table, int n) override {
    if (table != "accounts") {
      throw std::invalid_argument(fmt::format("broken_fixture: cannot delete from {}", table));
    }
    Store& s = store();
    std::vector<JsonValue> rows;
    for (int i = 0; i < n && !s.accounts.empty(); ++i) {
      const Account account = s.accounts.back();
      s.accounts.pop_back();
      s.tombstones.push_back({account.id, ++s.clock});
      rows.push_back(JsonValue::Object{{"id", account.id}});
    }
    return rows;
  }

 private:
  bool defects_;
};

}  // namespace

std::unique_ptr<testing::WriteBackUtils> make_write_back(const Options& options) {
  return std::make_unique<FixtureWriteBack>(options.get_enum("defects", {"none", "all"}) == "all");
}

}  // namespace lakeflow::conformance_fixture
