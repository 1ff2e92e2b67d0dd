// The conformance tests, one GoogleTest suite per check group of the connector development
// workflow (conformance.h). Every test checks every table and reports all problems in one failure.
//
// Reads are expensive against real sources, so the first pass over each table (from `{}` until the
// offset converges) is read once per test process and shared by every test that only looks at it;
// TestWriteBack, which changes the source, forgets them. ctest runs each test class in a process
// of its own (lakeflow_connector_tests() in cmake/LakeflowConnectorTests.cmake), so the tests of
// one class share their reads.
//
// A test that finds nothing to check (no incremental table, no records) says so with GTEST_SKIP and
// the reason, never passes silently.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "columnar/record_converter.h"
#include "lakeflow/error.h"
#include "lakeflow/testing/conformance.h"
#include "lakeflow/testing/conformance_checks.h"
#include "test_modes.h"

namespace lakeflow::testing {
namespace {

constexpr std::string_view kInvalidTable = "__nonexistent_table_9z9z9z__";

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n'; });
}

bool is_incremental(IngestionType type) { return type != IngestionType::kSnapshot; }

bool needs_non_null_keys(IngestionType type) {
  return type == IngestionType::kCdc || type == IngestionType::kCdcWithDeletes;
}

// A table's schema and metadata.
struct TableInfo {
  StructType schema;
  TableMetadata metadata;
};

// One record of a read: its raw JSON text and, when that parses, its value.
struct ReadRecord {
  std::size_t call = 0;
  const std::string* raw = nullptr;
  std::optional<JsonValue> json;
  std::string parse_error;
};

// The first pass over a table: from `{}` until the offset converges, with a fresh connector.
struct TableRead {
  std::optional<TableInfo> info;
  std::string error;  // why there is no info (the connector could not be made, schema threw, ...)
  ConvergedRead read;
  std::vector<ReadRecord> records;
};

std::vector<ReadRecord> parse_records(const ConvergedRead& read) {
  std::vector<ReadRecord> records;
  for (std::size_t c = 0; c < read.calls.size(); ++c) {
    for (const std::string& raw : read.calls[c].records) {
      ReadRecord record;
      record.call = c;
      record.raw = &raw;
      try {
        record.json = JsonValue::parse(raw, "record");
      } catch (const Error& error) {
        record.parse_error = error.what();
      }
      records.push_back(std::move(record));
    }
  }
  return records;
}

// The identity of a record for comparing reads (its raw text when it is not a JSON object).
std::string identity_of(const ReadRecord& record, const TableMetadata& metadata) {
  if (!record.json || !record.json->is_object()) return *record.raw;
  return record_identity(*record.json, metadata);
}

std::string describe_type(const TableInfo& info) {
  return std::string(to_string(info.metadata.ingestion_type));
}

// Identities of `records` counted, with one raw record each to show in problems.
struct IdentityCounts {
  std::map<std::string, std::size_t> counts;
  std::map<std::string, const std::string*> sample;

  void add(const std::string& identity, const std::string* raw) {
    ++counts[identity];
    sample.emplace(identity, raw);
  }
  std::size_t count(const std::string& identity) const {
    const auto it = counts.find(identity);
    return it == counts.end() ? 0 : it->second;
  }
};

// The records `of` holds beyond what `than` holds, identity by identity (only the identities
// `only` accepts, when given), and the first of them in identity order.
struct Excess {
  std::size_t records = 0;
  const std::string* sample = nullptr;
};
Excess excess(const IdentityCounts& of, const IdentityCounts& than,
              const std::function<bool(const std::string&)>& only = nullptr) {
  Excess found;
  for (const auto& [identity, count] : of.counts) {
    const std::size_t expected = than.count(identity);
    if (count <= expected || (only && !only(identity))) continue;
    found.records += count - expected;
    if (found.sample == nullptr) found.sample = of.sample.at(identity);
  }
  return found;
}

// Adds "<what> <n> <records>" with the sample record, unless `excess` holds no record.
void add_excess(ProblemList& problems, std::string_view table, const Excess& excess,
                std::string_view what, std::string_view records) {
  if (excess.records == 0) return;
  problems.add_record(table, fmt::format("{} {} {}", what, excess.records, records),
                      *excess.sample);
}

// Reports every problem of a test in one failure that names the connector.
void report(const ProblemList& problems) {
  if (!problems.empty()) {
    ADD_FAILURE() << "connector '" << suite_options().connector << "': " << problems.report();
  }
}

// Marks the running test skipped, with the reason (GTEST_SKIP returns from this function only).
void skip_test(std::string_view reason) { GTEST_SKIP() << reason; }

// What one test checked. A test that found nothing to check skips with the reason instead of
// passing; the tables it could not check are noted in the output, one line per reason.
class Coverage {
 public:
  void checked() { ++checked_; }
  // `table` was not checked, for `reason`.
  void not_checked(std::string_view table, const std::string& reason) {
    auto [it, added] = unchecked_.try_emplace(reason);
    if (added) reasons_.push_back(reason);
    it->second.emplace_back(table);
  }

  // Reports `problems`; then, when nothing was checked and nothing is wrong, skips the test with
  // `nothing_to_check` and the notes; otherwise prints the notes.
  void finish(const ProblemList& problems, std::string_view nothing_to_check) const {
    report(problems);
    std::vector<std::string> notes;
    for (const std::string& reason : reasons_) {
      const std::vector<std::string>& tables = unchecked_.at(reason);
      notes.push_back(fmt::format("{} {} not checked: {}", tables.size() == 1 ? "table" : "tables",
                                  fmt::join(tables, ", "), reason));
    }
    if (checked_ == 0 && problems.empty()) {
      skip_test(notes.empty() ? std::string(nothing_to_check)
                              : fmt::format("{}; {}", nothing_to_check, fmt::join(notes, "; ")));
      return;
    }
    for (const std::string& note : notes) std::cout << "[  NOTE    ] " << note << "\n";
  }

 private:
  std::size_t checked_ = 0;
  std::vector<std::string> reasons_;  // in the order first met
  std::map<std::string, std::vector<std::string>> unchecked_;
};

// The number of read calls the small-batch read of a table is planned for (plan_small_batches).
constexpr std::size_t kSmallBatchReadCalls = 16;

class ConformanceChecks : public ConformanceTest {
 protected:
  // The first passes read so far in this process, by kind and table.
  // Forgotten when a test class starts with a new recording or simulation (test_modes.h).
  static std::map<std::pair<ReadKind, std::string>, TableRead>& first_passes() {
    static std::map<std::pair<ReadKind, std::string>, TableRead> cache;
    static std::uint64_t generation = 0;
    if (generation != modes::generation()) {
      generation = modes::generation();
      cache.clear();
    }
    return cache;
  }
  // Forgets the first passes: the source is about to change.
  static void forget_reads() { first_passes().clear(); }

  // A fresh connector; nullptr (and a failure) when it cannot be made.
  std::unique_ptr<LakeflowConnect> connector_or_fail() const {
    try {
      return make_connector();
    } catch (...) {
      ADD_FAILURE() << "creating connector '" << suite_options().connector
                    << "' failed: " << describe_current_exception();
      return nullptr;
    }
  }

  // The distinct names of list_tables(), in order; nullopt (and a failure) when it throws, and
  // nullopt (skipping the test) when it lists no table, for there is nothing to check.
  static std::optional<std::vector<std::string>> tables_or_fail(LakeflowConnect& connector) {
    std::vector<std::string> listed;
    try {
      listed = connector.list_tables();
    } catch (...) {
      ADD_FAILURE() << "list_tables() threw " << describe_current_exception();
      return std::nullopt;
    }
    if (listed.empty()) {
      skip_test(
          "list_tables() returned no tables, so there is nothing to check "
          "(TestListTables.ReturnsNonEmptyUniqueNames fails for it)");
      return std::nullopt;
    }
    std::vector<std::string> tables;
    std::set<std::string_view> seen;
    for (const std::string& table : listed) {
      if (seen.insert(table).second) tables.push_back(table);
    }
    return tables;
  }

  std::optional<std::vector<std::string>> tables_or_fail() const {
    const auto connector = connector_or_fail();
    if (!connector) return std::nullopt;
    return tables_or_fail(*connector);
  }

  // Schema and metadata of `table`; nullopt with the reason in `error`.
  std::optional<TableInfo> table_info(LakeflowConnect& connector, const std::string& table,
                                      std::string& error) const {
    const Options options = table_options(table);
    TableInfo info;
    try {
      info.schema = connector.get_table_schema(table, options);
    } catch (...) {
      error = "get_table_schema threw " + describe_current_exception();
      return std::nullopt;
    }
    try {
      info.metadata = connector.read_table_metadata(table, options);
    } catch (...) {
      error = "read_table_metadata threw " + describe_current_exception();
      return std::nullopt;
    }
    return info;
  }

  std::optional<TableInfo> table_info(LakeflowConnect& connector, const std::string& table,
                                      ProblemList& problems) const {
    std::string error;
    std::optional<TableInfo> info = table_info(connector, table, error);
    if (!info) problems.add(table, error);
    return info;
  }

  // The first pass over `table` (read_table or read_table_deletes from `{}` until convergence,
  // with a fresh connector), read once per test suite.
  const TableRead& first_pass(const std::string& table, ReadKind kind = ReadKind::kTable) const {
    auto& cache = first_passes();
    const auto key = std::make_pair(kind, table);
    if (const auto it = cache.find(key); it != cache.end()) return it->second;
    TableRead& entry = cache[key];
    std::unique_ptr<LakeflowConnect> connector;
    try {
      connector = make_connector();
    } catch (...) {
      entry.error = "creating the connector failed: " + describe_current_exception();
      return entry;
    }
    entry.info = table_info(*connector, table, entry.error);
    if (!entry.info) return entry;
    entry.read = read_until_converged(*connector, table, Offset(), table_options(table),
                                      entry.info->metadata.ingestion_type,
                                      suite_options().max_read_calls, kind);
    entry.records = parse_records(entry.read);
    return entry;
  }

  // The first pass of `table`, or nullptr after adding why it has no schema or metadata. A read
  // that threw is added as a problem too; the records read before are still returned.
  const TableRead* readable_first_pass(const std::string& table, ProblemList& problems,
                                       ReadKind kind = ReadKind::kTable) const {
    const TableRead& read = first_pass(table, kind);
    if (!read.info) {
      problems.add(table, read.error);
      return nullptr;
    }
    if (read.read.outcome == ReadOutcome::kThrew) problems.add(table, read.read.problem);
    return &read;
  }

  // Runs `check(table)` for every table; an exception becomes the table's problem.
  static void for_each_table(const std::vector<std::string>& tables, ProblemList& problems,
                             const std::function<void(const std::string&)>& check) {
    for (const std::string& table : tables) {
      try {
        check(table);
      } catch (...) {
        problems.add(table, "threw " + describe_current_exception());
      }
    }
  }

  // The listed tables of ingestion type cdc_with_deletes; nullopt when listing failed, or (the test
  // skipped) when there is none.
  std::optional<std::vector<std::string>> deletes_tables_or_skip() const {
    const auto tables = tables_or_fail();
    if (!tables) return std::nullopt;
    std::vector<std::string> deletes_tables =
        tables_of_type(*tables, {IngestionType::kCdcWithDeletes});
    if (deletes_tables.empty()) {
      skip_test("no table has ingestion type cdc_with_deletes");
      return std::nullopt;
    }
    return deletes_tables;
  }

  // Runs `check(connector, table, problems)` for every listed table with one connector, then
  // reports the problems.
  void check_every_table(
      const std::function<void(LakeflowConnect&, const std::string&, ProblemList&)>& check) const {
    const auto connector = connector_or_fail();
    if (!connector) return;
    const auto tables = tables_or_fail(*connector);
    if (!tables) return;
    ProblemList problems;
    for_each_table(*tables, problems,
                   [&](const std::string& table) { check(*connector, table, problems); });
    report(problems);
  }

  enum class Tables { kAll, kIncremental };
  using FirstPassCheck =
      std::function<void(const std::string&, const TableRead&, ProblemList&, Coverage&)>;

  // Runs `check(table, first pass, problems, coverage)` for every listed table (`which`) whose
  // first pass has a schema and metadata (a table without is a problem), then finishes the
  // coverage: a test that checked nothing skips with `nothing_to_check`.
  void check_first_passes(Tables which, std::string_view nothing_to_check,
                          const FirstPassCheck& check) const {
    const auto tables = tables_or_fail();
    if (!tables) return;
    ProblemList problems;
    Coverage coverage;
    for_each_table(*tables, problems, [&](const std::string& table) {
      const TableRead* read = readable_first_pass(table, problems);
      if (read == nullptr) return;
      if (which == Tables::kIncremental && !is_incremental(read->info->metadata.ingestion_type)) {
        return;
      }
      check(table, *read, problems, coverage);
    });
    coverage.finish(problems, nothing_to_check);
  }

  // Tables of the given ingestion types (tables without metadata are left out).
  std::vector<std::string> tables_of_type(const std::vector<std::string>& tables,
                                          std::initializer_list<IngestionType> types) const {
    std::vector<std::string> out;
    const auto connector = connector_or_fail();
    if (!connector) return out;
    for (const std::string& table : tables) {
      try {
        const TableMetadata metadata = connector->read_table_metadata(table, table_options(table));
        if (std::find(types.begin(), types.end(), metadata.ingestion_type) != types.end()) {
          out.push_back(table);
        }
      } catch (...) {
        // TestReadTableMetadata reports it.
      }
    }
    return out;
  }
};

// Reports an allowance (allowed_null_columns, allowed_empty_tables...) without a reason, or naming
// a table the connector does not serve.
void check_allowance(std::string_view list, const std::string& key, const std::string& reason,
                     const std::string& table, const std::vector<std::string>& tables,
                     ProblemList& problems) {
  if (table == "*") {
    if (is_blank(reason)) {
      problems.add_general(
          fmt::format("SuiteOptions::{}[\"{}\"] gives no reason; write why", list, key));
    }
    return;
  }
  if (std::find(tables.begin(), tables.end(), table) == tables.end()) {
    problems.add_general(fmt::format(
        "SuiteOptions::{} lists \"{}\", but list_tables() has no table '{}'; remove the entry",
        list, key, table));
  } else if (is_blank(reason)) {
    problems.add(table,
                 fmt::format("SuiteOptions::{}[\"{}\"] gives no reason; write why", list, key));
  }
}

// ---- TestListTables -----------------------------------------------------------------------------

class TestListTables : public ConformanceChecks {};

TEST_F(TestListTables, ReturnsNonEmptyUniqueNames) {
  const auto connector = connector_or_fail();
  if (!connector) return;
  std::vector<std::string> tables;
  try {
    tables = connector->list_tables();
  } catch (...) {
    FAIL() << "list_tables() threw " << describe_current_exception();
  }
  ProblemList problems;
  if (tables.empty()) {
    problems.add_general("list_tables() returned no tables; a connector serves at least one");
  }
  std::map<std::string, std::size_t> counts;
  for (const std::string& table : tables) ++counts[table];
  std::set<std::string> reported;
  for (const std::string& table : tables) {
    if (table.empty() && reported.insert(table).second) {
      problems.add_general("list_tables() returned an empty table name");
    } else if (counts[table] > 1 && reported.insert(table).second) {
      problems.add(table, fmt::format("listed {} times by list_tables(); table names are unique",
                                      counts[table]));
    }
  }
  report(problems);
}

TEST_F(TestListTables, ReturnsTheSameTablesOnEveryCall) {
  const auto connector = connector_or_fail();
  if (!connector) return;
  try {
    std::vector<std::string> first = connector->list_tables();
    std::vector<std::string> second = connector->list_tables();
    std::sort(first.begin(), first.end());
    std::sort(second.begin(), second.end());
    EXPECT_EQ(first, second) << "two calls of list_tables() returned different tables";
  } catch (...) {
    FAIL() << "list_tables() threw " << describe_current_exception();
  }
}

// ---- TestGetTableSchema -------------------------------------------------------------------------

class TestGetTableSchema : public ConformanceChecks {};

TEST_F(TestGetTableSchema, IsANonEmptyStructWithUniqueFieldNames) {
  check_every_table(
      [&](LakeflowConnect& connector, const std::string& table, ProblemList& problems) {
        const StructType schema = connector.get_table_schema(table, table_options(table));
        if (schema.size() == 0) problems.add(table, "the schema has no fields");
        for (const std::string& duplicate : duplicate_field_names(schema)) {
          problems.add(table, "field name " + duplicate + "; field names in a struct are unique");
        }
      });
}

TEST_F(TestGetTableSchema, IsTheSameOnEveryCall) {
  check_every_table([&](LakeflowConnect& connector, const std::string& table,
                        ProblemList& problems) {
    const StructType first = connector.get_table_schema(table, table_options(table));
    const StructType second = connector.get_table_schema(table, table_options(table));
    if (!(first == second) || first.json() != second.json()) {
      problems.add(table, fmt::format("two calls of get_table_schema returned different schemas: "
                                      "{} then {}",
                                      excerpt(first.json(), 300), excerpt(second.json(), 300)));
    }
  });
}

TEST_F(TestGetTableSchema, HasNoIntegerOrMapTypeWithoutAReason) {
  const auto connector = connector_or_fail();
  if (!connector) return;
  const auto tables = tables_or_fail(*connector);
  if (!tables) return;
  const auto& allowed = suite_options().allowed_integer_or_map_fields;
  ProblemList problems;
  std::set<std::string> checked_tables;
  std::set<std::string> used;
  for_each_table(*tables, problems, [&](const std::string& table) {
    const StructType schema = connector->get_table_schema(table, table_options(table));
    checked_tables.insert(table);
    for (const DiscouragedType& field : integer_or_map_fields(schema)) {
      const std::string key = table + ":" + field.path;
      const auto it = allowed.find(key);
      if (it == allowed.end()) {
        const bool is_map = field.type.starts_with("map<");
        problems.add(table,
                     fmt::format("field `{}` is {}; use {}, or list \"{}\" in "
                                 "SuiteOptions::allowed_integer_or_map_fields with the reason",
                                 field.path, field.type,
                                 is_map ? "a StructType" : "LongType (bigint)", key));
        continue;
      }
      used.insert(key);
      if (is_blank(it->second)) {
        problems.add(table, fmt::format("SuiteOptions::allowed_integer_or_map_fields[\"{}\"] gives "
                                        "no reason; write why the field must be {}",
                                        key, field.type));
      }
    }
  });
  for (const auto& [key, reason] : allowed) {
    if (used.count(key) != 0) continue;
    const std::string table = key.substr(0, key.find(':'));
    if (checked_tables.count(table) != 0) {
      problems.add(table, fmt::format("SuiteOptions::allowed_integer_or_map_fields lists \"{}\", "
                                      "but that field is not IntegerType or MapType; remove the "
                                      "entry (keys are \"table:field.path\")",
                                      key));
    } else if (std::find(tables->begin(), tables->end(), table) == tables->end()) {
      check_allowance("allowed_integer_or_map_fields", key, reason, table, *tables, problems);
    }
  }
  report(problems);
}

TEST_F(TestGetTableSchema, JsonRoundTripsThroughParseStructType) {
  check_every_table(
      [&](LakeflowConnect& connector, const std::string& table, ProblemList& problems) {
        const StructType schema = connector.get_table_schema(table, table_options(table));
        const std::string json = schema.json();
        try {
          const StructType parsed = parse_struct_type(json);
          if (!(parsed == schema) || parsed.json() != json) {
            problems.add(table, fmt::format("the schema JSON reads back as a different schema: {} "
                                            "became {}",
                                            excerpt(json, 300), excerpt(parsed.json(), 300)));
          }
        } catch (...) {
          problems.add(table, fmt::format("parse_struct_type cannot read the schema's JSON {}: {}",
                                          excerpt(json, 300), describe_current_exception()));
        }
      });
}

// ---- TestReadTableMetadata ----------------------------------------------------------------------

class TestReadTableMetadata : public ConformanceChecks {};

TEST_F(TestReadTableMetadata, IsValidForTheSchema) {
  check_every_table(
      [&](LakeflowConnect& connector, const std::string& table, ProblemList& problems) {
        const std::optional<TableInfo> info = table_info(connector, table, problems);
        if (!info) return;
        try {
          validate_table_metadata(table, info->metadata, info->schema);
        } catch (const SchemaError& error) {
          std::string_view message = error.what();
          const std::string prefix = fmt::format("table '{}': ", table);
          if (message.starts_with(prefix)) message.remove_prefix(prefix.size());
          problems.add(table, message);
        }
      });
}

TEST_F(TestReadTableMetadata, IsTheSameOnEveryCall) {
  check_every_table(
      [&](LakeflowConnect& connector, const std::string& table, ProblemList& problems) {
        const TableMetadata first = connector.read_table_metadata(table, table_options(table));
        const TableMetadata second = connector.read_table_metadata(table, table_options(table));
        if (!(first == second)) {
          problems.add(table, "two calls of read_table_metadata returned different metadata");
        }
      });
}

TEST_F(TestReadTableMetadata, CdcWithDeletesTablesImplementReadTableDeletes) {
  const auto deletes_tables = deletes_tables_or_skip();
  if (!deletes_tables) return;
  ProblemList problems;
  for_each_table(*deletes_tables, problems, [&](const std::string& table) {
    const auto connector = make_connector();
    try {
      ReadResult result = connector->read_table_deletes(table, Offset(), table_options(table));
      drain(result.records);
    } catch (const NotImplementedError& error) {
      problems.add(table, fmt::format("is cdc_with_deletes but read_table_deletes throws "
                                      "NotImplementedError ({}); implement read_table_deletes, or "
                                      "declare the table cdc",
                                      error.what()));
    } catch (...) {
      problems.add(table, "read_table_deletes(start={}) threw " + describe_current_exception());
    }
  });
  report(problems);
}

// ---- TestReadTable ------------------------------------------------------------------------------

class TestReadTable : public ConformanceChecks {};

TEST_F(TestReadTable, RecordsAreJsonObjectsThatConvertToTheSchema) {
  check_first_passes(
      Tables::kAll, "no table returned records on its first read, so no record was checked",
      [&](const std::string& table, const TableRead& read, ProblemList& problems,
          Coverage& coverage) {
        RecordConverter converter(read.info->schema, table, BadRecordMode::kFail);
        ColumnBatch rows = converter.make_batch();
        RecordBatch one;
        for (const ReadRecord& record : read.records) {
          coverage.checked();
          if (!record.json) {
            problems.add_record(table, "the record is not valid JSON: " + record.parse_error,
                                *record.raw);
            continue;
          }
          if (!record.json->is_object()) {
            problems.add_record(table, "the record is not a JSON object", *record.raw);
            continue;
          }
          one.clear();
          one.append(*record.raw);
          try {
            converter.convert(one, rows);
          } catch (const ConversionError& error) {
            // The message starts "table 'x', record n, field ...": the table is named already.
            std::string_view message = error.what();
            const std::string prefix = fmt::format("table '{}', ", table);
            if (message.starts_with(prefix)) message.remove_prefix(prefix.size());
            problems.add_record(table, message, *record.raw);
          }
          if (rows.num_rows() >= 1024) rows.clear();
        }
      });
}

TEST_F(TestReadTable, PrimaryKeysAreNeverNullInCdcTables) {
  check_first_passes(
      Tables::kAll, "no cdc or cdc_with_deletes table returned records on its first read",
      [&](const std::string& table, const TableRead& read, ProblemList& problems,
          Coverage& coverage) {
        if (!needs_non_null_keys(read.info->metadata.ingestion_type)) return;
        for (const ReadRecord& record : read.records) {
          if (!record.json || !record.json->is_object()) continue;  // reported by the test above
          coverage.checked();
          for (const std::string& key : read.info->metadata.primary_keys) {
            const JsonValue* value = find_json_path(*record.json, key);
            if (value == nullptr || value->is_null()) {
              problems.add_record(
                  table,
                  fmt::format("primary key '{}' is {} in a {} table", key,
                              value == nullptr ? "missing" : "null", describe_type(*read.info)),
                  *record.raw);
            }
          }
        }
      });
}

TEST_F(TestReadTable, NoRecordIsEntirelyNull) {
  check_first_passes(
      Tables::kAll, "no table returned records on its first read, so no record was checked",
      [&](const std::string& table, const TableRead& read, ProblemList& problems,
          Coverage& coverage) {
        for (const ReadRecord& record : read.records) {
          coverage.checked();
          if (record.json && record.json->is_object() && is_null_like(*record.json)) {
            problems.add_record(table, "every field of the record is null (or an all-null object)",
                                *record.raw);
          }
        }
      });
}

TEST_F(TestReadTable, EveryColumnIsPopulatedBySomeRecord) {
  const auto tables = tables_or_fail();
  if (!tables) return;
  const auto& allowed = suite_options().allowed_null_columns;
  ProblemList problems;
  for (const auto& [key, reason] : allowed) {
    check_allowance("allowed_null_columns", key, reason, key.substr(0, key.find(':')), *tables,
                    problems);
  }
  Coverage coverage;
  for_each_table(*tables, problems, [&](const std::string& table) {
    const TableRead* read = readable_first_pass(table, problems);
    if (read == nullptr) return;
    if (read->records.empty()) {
      coverage.not_checked(table, "the first read returned no records to check columns of");
      return;
    }
    coverage.checked();
    for (const StructField& field : read->info->schema.fields()) {
      if (read->info->metadata.raw_record_column == field.name) continue;  // the framework's
      const std::string key = table + ":" + field.name;
      if (allowed.count(key) != 0 || allowed.count(table + ":*") != 0 ||
          allowed.count("*:*") != 0) {
        continue;
      }
      const bool populated =
          std::any_of(read->records.begin(), read->records.end(), [&](const ReadRecord& record) {
            if (!record.json || !record.json->is_object()) return false;
            const JsonValue* value = record.json->find(field.name);
            return value != nullptr && !is_null_like(*value);
          });
      if (!populated) {
        problems.add(table, fmt::format("column `{}` is null in all {} record(s) read; fill it, or "
                                        "list \"{}\" in SuiteOptions::allowed_null_columns with "
                                        "the reason",
                                        field.name, read->records.size(), key));
      }
    }
  });
  for (const auto& [key, reason] : allowed) {
    const std::string table = key.substr(0, key.find(':'));
    const std::size_t colon = key.find(':');
    if (colon == std::string::npos) {
      problems.add_general(
          fmt::format("SuiteOptions::allowed_null_columns key \"{}\" is not "
                      "\"table:column\"",
                      key));
      continue;
    }
    if (std::find(tables->begin(), tables->end(), table) == tables->end()) continue;
    const std::string column = key.substr(colon + 1);
    if (column == "*") continue;
    const TableRead& read = first_pass(table);
    if (read.info && !read.info->schema.index_of(column)) {
      problems.add(table, fmt::format("SuiteOptions::allowed_null_columns lists \"{}\", but the "
                                      "schema has no top-level column `{}`",
                                      key, column));
    }
  }
  coverage.finish(problems, "no table returned records on its first read");
}

TEST_F(TestReadTable, IncrementalTablesReturnRecordsOnTheFirstRead) {
  const auto tables = tables_or_fail();
  if (!tables) return;
  const auto& allowed = suite_options().allowed_empty_tables;
  ProblemList problems;
  for (const auto& [table, reason] : allowed) {
    check_allowance("allowed_empty_tables", table, reason, table, *tables, problems);
  }
  Coverage coverage;
  for_each_table(*tables, problems, [&](const std::string& table) {
    const TableRead* read = readable_first_pass(table, problems);
    if (read == nullptr || !is_incremental(read->info->metadata.ingestion_type)) return;
    if (read->read.calls.empty()) return;  // the first call threw: reported above
    if (!read->read.calls.front().records.empty()) {
      coverage.checked();
      return;
    }
    if (allowed.count(table) != 0 || allowed.count("*") != 0) {
      coverage.not_checked(table,
                           "the first read returned no records, which "
                           "SuiteOptions::allowed_empty_tables allows");
      return;
    }
    coverage.checked();
    problems.add(table, fmt::format("the first read_table(start={{}}) returned no records; a {} "
                                    "table's first read returns data (or list the table in "
                                    "SuiteOptions::allowed_empty_tables with the reason)",
                                    describe_type(*read->info)));
  });
  coverage.finish(problems, "no incremental (cdc, cdc_with_deletes or append) table");
}

TEST_F(TestReadTable, EndOffsetIsNullOnlyForSnapshotTables) {
  const auto tables = tables_or_fail();
  if (!tables) return;
  ProblemList problems;
  for_each_table(*tables, problems, [&](const std::string& table) {
    const TableRead* read = readable_first_pass(table, problems);
    if (read != nullptr && read->read.outcome == ReadOutcome::kNullEndOffset) {
      problems.add(table, read->read.problem);
    }
  });
  report(problems);
}

// ---- TestIncrementalRead ------------------------------------------------------------------------

class TestIncrementalRead : public ConformanceChecks {
 protected:
  // The 1-based numbers of the read calls whose end offsets a resume starts from: all of them
  // for short reads, else the first, second, middle, last-but-two and last-but-one.
  static std::vector<std::size_t> resume_points(std::size_t calls) {
    std::set<std::size_t> points;
    if (calls <= 6) {
      for (std::size_t k = 1; k < calls; ++k) points.insert(k);
    } else {
      points = {1, 2, calls / 2, calls - 2, calls - 1};
    }
    return {points.begin(), points.end()};
  }
};

TEST_F(TestIncrementalRead, ReadConvergesWithinMaxReadCalls) {
  const auto tables = tables_or_fail();
  if (!tables) return;
  ProblemList problems;
  for_each_table(*tables, problems, [&](const std::string& table) {
    const TableRead& read = first_pass(table);
    if (!read.info) {
      problems.add(table, read.error);
    } else if (!read.read.converged()) {
      problems.add(table, read.read.problem);
    }
  });
  report(problems);
}

TEST_F(TestIncrementalRead, UnchangedEndOffsetComesWithNoRecords) {
  check_first_passes(
      Tables::kIncremental, "no incremental (cdc, cdc_with_deletes or append) table",
      [&](const std::string& table, const TableRead& read, ProblemList& problems,
          Coverage& coverage) {
        coverage.checked();
        for (const ReadCall& call : read.read.calls) {
          if (call.end == call.start && !call.records.empty()) {
            problems.add_record(
                table,
                fmt::format("read_table(start={}) returned {} record(s) with the start offset "
                            "unchanged as its end offset; reading stops at an unchanged offset, so "
                            "these records come again on every later run: return a new end offset "
                            "with new records, and the start offset only when there is nothing new",
                            excerpt(call.start.to_json(), 120), call.records.size()),
                call.records.front());
          }
        }
      });
}

TEST_F(TestIncrementalRead, ResumingFromAReturnedOffsetDeliversExactlyTheRecordsAfterIt) {
  check_first_passes(
      Tables::kIncremental,
      "no incremental table took more than one read call, so there is no "
      "offset to resume from",
      [&](const std::string& table, const TableRead& read, ProblemList& problems,
          Coverage& coverage) {
        if (!read.read.converged()) {
          problems.add(table, "resuming not checked: the first read from {} did not converge");
          return;
        }
        const TableMetadata& metadata = read.info->metadata;
        const std::vector<ReadCall>& calls = read.read.calls;
        if (calls.size() < 2) {
          coverage.not_checked(table,
                               "the first read took one call, so there is no offset to resume "
                               "from (a small max_records_per_batch in "
                               "configs/dev_table_config.json makes it take more)");
          return;
        }
        std::vector<std::string> identities;
        identities.reserve(read.records.size());
        for (const ReadRecord& record : read.records)
          identities.push_back(identity_of(record, metadata));

        for (const std::size_t k : resume_points(calls.size())) {
          coverage.checked();
          const Offset& offset = calls[k - 1].end;
          IdentityCounts before;
          IdentityCounts after;
          for (std::size_t i = 0; i < read.records.size(); ++i) {
            (read.records[i].call < k ? before : after).add(identities[i], read.records[i].raw);
          }
          const auto connector = make_connector();
          const ConvergedRead resumed =
              read_until_converged(*connector, table, offset, table_options(table),
                                   metadata.ingestion_type, suite_options().max_read_calls);
          const std::string where = fmt::format(
              "a fresh connector resuming from offset {} (returned by read call {} of {})",
              excerpt(offset.to_json(), 200), k, calls.size());
          if (!resumed.converged()) {
            problems.add(table, fmt::format("{}: {}", where, resumed.problem));
            continue;
          }
          IdentityCounts got;
          const std::vector<ReadRecord> resumed_records = parse_records(resumed);
          for (const ReadRecord& record : resumed_records) {
            got.add(identity_of(record, metadata), record.raw);
          }
          const auto delivered_before = [&](const std::string& identity) {
            return before.count(identity) != 0;
          };
          add_excess(problems, table, excess(got, after, delivered_before), where + " delivered",
                     "record(s) already delivered before that offset");
          add_excess(
              problems, table,
              excess(got, after, [&](const std::string& id) { return !delivered_before(id); }),
              where + " delivered", "record(s) the first read from {} never delivered");
          add_excess(problems, table, excess(after, got), where + " skipped",
                     "record(s) the first read delivered after that offset");
        }
      });
}

// The batch limit must never skip or repeat a record. Records that share one cursor value (a bulk
// load stamps many alike) are where an offset holding only the cursor value loses rows when a batch
// ends among them. So every incremental table is read again with a small max_records_per_batch
// chosen from its records (plan_small_batches: batches that end inside such runs, within about
// kSmallBatchReadCalls calls), and what that read delivers is compared with a read at the
// connector's default batch limit. A max_records_per_batch set in configs/dev_table_config.json is
// compared the same way.
TEST_F(TestIncrementalRead, SmallBatchesDeliverTheSameRecordsAsTheDefaultBatchLimit) {
  check_first_passes(
      Tables::kIncremental, "no incremental table to read in small batches",
      [&](const std::string& table, const TableRead& read, ProblemList& problems,
          Coverage& coverage) {
        if (!read.read.converged()) {
          coverage.not_checked(table,
                               "the first read did not converge (see "
                               "ReadConvergesWithinMaxReadCalls)");
          return;
        }
        const TableMetadata& metadata = read.info->metadata;
        const int max_calls = suite_options().max_read_calls;

        // The reference: the first pass, unless that was read with a configured batch limit.
        const Options configured = table_options(table);
        const std::optional<std::string_view> configured_limit =
            configured.find("max_records_per_batch");
        Options defaults = configured;
        defaults.erase("max_records_per_batch");
        const std::vector<ReadRecord>* reference = &read.records;
        ConvergedRead default_read;
        std::vector<ReadRecord> default_records;
        if (configured_limit) {
          default_read = read_until_converged(*make_connector(), table, Offset(), defaults,
                                              metadata.ingestion_type, max_calls);
          if (!default_read.converged()) {
            problems.add(table,
                         "a read with the default max_records_per_batch: " + default_read.problem);
            return;
          }
          default_records = parse_records(default_read);
          reference = &default_records;
        }
        IdentityCounts whole;
        for (const ReadRecord& record : *reference)
          whole.add(identity_of(record, metadata), record.raw);

        // Adds what `records`, read in batches (`how`), skipped or repeated compared with `whole`.
        const auto compare = [&](const std::vector<ReadRecord>& records, const std::string& how) {
          IdentityCounts batched;
          for (const ReadRecord& record : records)
            batched.add(identity_of(record, metadata), record.raw);
          add_excess(problems, table, excess(whole, batched), how + " skipped",
                     "record(s) that a read with the default batch limit delivers");
          add_excess(problems, table, excess(batched, whole), how + " delivered",
                     "record(s) more often than a read with the default batch limit");
        };
        if (configured_limit) {
          compare(read.records, fmt::format("reading with the configured max_records_per_batch={}",
                                            *configured_limit));
        }

        std::vector<std::string> cursors;
        if (metadata.cursor_field) {
          for (const ReadRecord& record : *reference) {
            const JsonValue* value =
                record.json ? find_json_path(*record.json, *metadata.cursor_field) : nullptr;
            cursors.push_back(value != nullptr ? value->dump() : "null");
          }
        }
        const std::optional<SmallBatchPlan> plan =
            plan_small_batches(reference->size(), cursors, kSmallBatchReadCalls);
        if (!plan) {
          coverage.not_checked(table,
                               "a read at the default batch limit returned fewer than two "
                               "records, too few to split into batches");
          return;
        }
        coverage.checked();
        Options small = defaults;
        small.set("max_records_per_batch", std::to_string(plan->limit));
        const std::string how = fmt::format(
            "reading with max_records_per_batch={} (batches that cut {} of the {} runs of "
            "records sharing a cursor value)",
            plan->limit, plan->split_runs, plan->tied_runs);
        const std::size_t batches = (reference->size() + plan->limit - 1) / plan->limit;
        const ConvergedRead batched =
            read_until_converged(*make_connector(), table, Offset(), small, metadata.ingestion_type,
                                 max_calls + static_cast<int>(batches));
        if (!batched.converged()) {
          problems.add(table, fmt::format("{}: {}", how, batched.problem));
          return;
        }
        for (const ReadCall& call : batched.calls) {
          if (call.records.size() > plan->limit) {
            problems.add_record(
                table,
                fmt::format(
                    "read_table(start={}) with max_records_per_batch={} returned {} records; "
                    "a read call returns at most max_records_per_batch records",
                    excerpt(call.start.to_json(), 120), plan->limit, call.records.size()),
                call.records.front());
            break;
          }
        }
        compare(parse_records(batched), how);
      });
}

TEST_F(TestIncrementalRead, OffsetFromTheFutureReturnsNoRecords) {
  check_first_passes(
      Tables::kIncremental, "no incremental table",
      [&](const std::string& table, const TableRead& read, ProblemList& problems,
          Coverage& coverage) {
        if (!read.read.converged()) {
          problems.add(table, "not checked: the first read from {} did not converge");
          return;
        }
        const Offset converged = read.read.final_offset();
        const std::optional<Offset> future = future_offset(converged);
        if (!future) {
          coverage.not_checked(
              table,
              converged.empty()
                  ? std::string("the converged offset is {}, with no timestamp or integer to "
                                "move into the future")
                  : fmt::format("the converged offset {} holds no timestamp or integer to move "
                                "into the future",
                                excerpt(converged.to_json(), 120)));
          return;
        }
        coverage.checked();
        const auto connector = make_connector();
        std::vector<std::string> records;
        try {
          ReadResult result = connector->read_table(table, *future, table_options(table));
          records = drain(result.records);
        } catch (...) {
          problems.add(table,
                       fmt::format("read_table from an offset far in the future ({}) threw {}; "
                                   "such a read returns no records and its start offset",
                                   future->to_json(), describe_current_exception()));
          return;
        }
        if (!records.empty()) {
          problems.add_record(
              table,
              fmt::format("read_table from an offset far in the future ({}) returned "
                          "{} record(s); a read after the newest data returns none",
                          future->to_json(), records.size()),
              records.front());
        }
      });
}

TEST_F(TestIncrementalRead, SnapshotTablesReturnTheSameRecordsOnEveryFullRead) {
  check_first_passes(
      Tables::kAll, "no snapshot table",
      [&](const std::string& table, const TableRead& read, ProblemList& problems,
          Coverage& coverage) {
        if (read.info->metadata.ingestion_type != IngestionType::kSnapshot) return;
        coverage.checked();
        if (!read.read.converged()) {
          problems.add(table, "not checked: the first full read did not converge");
          return;
        }
        const auto connector = make_connector();
        const ConvergedRead second =
            read_until_converged(*connector, table, Offset(), table_options(table),
                                 IngestionType::kSnapshot, suite_options().max_read_calls);
        if (!second.converged()) {
          problems.add(table, "the second full read: " + second.problem);
          return;
        }
        // Records compare as canonical JSON (key order does not matter).
        const auto canonical = [](const ReadRecord& record) {
          return record.json ? record.json->dump() : *record.raw;
        };
        IdentityCounts first_counts;
        IdentityCounts second_counts;
        for (const ReadRecord& record : read.records)
          first_counts.add(canonical(record), record.raw);
        const std::vector<ReadRecord> second_records = parse_records(second);
        for (const ReadRecord& record : second_records) {
          second_counts.add(canonical(record), record.raw);
        }
        const Excess missing = excess(first_counts, second_counts);
        const Excess added = excess(second_counts, first_counts);
        const std::string* sample = missing.sample != nullptr ? missing.sample : added.sample;
        if (sample != nullptr) {
          problems.add_record(
              table,
              fmt::format("two full reads of the snapshot table differ: {} record(s) "
                          "of the first are not in the second, {} of the second are "
                          "not in the first",
                          missing.records, added.records),
              *sample);
        }
      });
}

// ---- TestReadTableDeletes -----------------------------------------------------------------------

class TestReadTableDeletes : public ConformanceChecks {};

TEST_F(TestReadTableDeletes, ReadConvergesWithinMaxReadCalls) {
  const auto deletes_tables = deletes_tables_or_skip();
  if (!deletes_tables) return;
  ProblemList problems;
  for_each_table(*deletes_tables, problems, [&](const std::string& table) {
    const TableRead& read = first_pass(table, ReadKind::kDeletes);
    if (!read.info) {
      problems.add(table, read.error);
      return;
    }
    if (!read.read.converged()) problems.add(table, read.read.problem);
    for (const ReadCall& call : read.read.calls) {
      if (call.end == call.start && !call.records.empty()) {
        problems.add_record(
            table,
            fmt::format("read_table_deletes(start={}) returned {} record(s) with the start "
                        "offset unchanged as its end offset; they come again on every later run",
                        excerpt(call.start.to_json(), 120), call.records.size()),
            call.records.front());
      }
    }
  });
  report(problems);
}

TEST_F(TestReadTableDeletes, RecordsCarryPrimaryKeysAndCursor) {
  const auto deletes_tables = deletes_tables_or_skip();
  if (!deletes_tables) return;
  ProblemList problems;
  Coverage coverage;
  for_each_table(*deletes_tables, problems, [&](const std::string& table) {
    const TableRead* read = readable_first_pass(table, problems, ReadKind::kDeletes);
    if (read == nullptr) return;
    const TableMetadata& metadata = read->info->metadata;
    std::vector<std::string> required = metadata.primary_keys;
    if (metadata.cursor_field) required.push_back(*metadata.cursor_field);
    if (read->records.empty()) {
      coverage.not_checked(table, "read_table_deletes from {} returned no deleted records");
    }
    for (const ReadRecord& record : read->records) {
      coverage.checked();
      if (!record.json || !record.json->is_object()) {
        problems.add_record(table, "the deleted record is not a JSON object", *record.raw);
        continue;
      }
      for (const std::string& path : required) {
        const JsonValue* value = find_json_path(*record.json, path);
        if (value == nullptr || value->is_null()) {
          const bool is_key = std::find(metadata.primary_keys.begin(), metadata.primary_keys.end(),
                                        path) != metadata.primary_keys.end();
          problems.add_record(table,
                              fmt::format("{} '{}' is {} in a deleted record",
                                          is_key ? "primary key" : "cursor field", path,
                                          value == nullptr ? "missing" : "null"),
                              *record.raw);
        }
      }
    }
  });
  coverage.finish(problems, "no cdc_with_deletes table returned deleted records");
}

// ---- TestInvalidTableName -----------------------------------------------------------------------

class TestInvalidTableName : public ConformanceChecks {};

TEST_F(TestInvalidTableName, EveryMethodThrowsUnknownTableError) {
  const auto connector = connector_or_fail();
  if (!connector) return;
  const std::string table(kInvalidTable);
  const Options options;
  const std::vector<std::pair<std::string_view, std::function<void()>>> calls = {
      {"get_table_schema", [&] { connector->get_table_schema(table, options); }},
      {"read_table_metadata", [&] { connector->read_table_metadata(table, options); }},
      {"read_table",
       [&] {
         ReadResult result = connector->read_table(table, Offset(), options);
         drain(result.records);
       }},
      {"read_table_deletes",
       [&] {
         ReadResult result = connector->read_table_deletes(table, Offset(), options);
         drain(result.records);
       }},
  };
  ProblemList problems;
  for (const auto& [method, call] : calls) {
    try {
      call();
      problems.add(table, fmt::format("{} returned normally instead of throwing "
                                      "lakeflow::UnknownTableError",
                                      method));
    } catch (const UnknownTableError& error) {
      if (error.table() != table) {
        problems.add(table, fmt::format("{} threw UnknownTableError naming table '{}'", method,
                                        error.table()));
      }
    } catch (...) {
      problems.add(table, fmt::format("{} threw {} instead of lakeflow::UnknownTableError; check "
                                      "the table name first (LakeflowConnect's public methods do)",
                                      method, describe_current_exception()));
    }
  }
  report(problems);
}

// ---- TestPartitions (connectors implementing PartitionedReads) ---------------------------------

class TestPartitions : public ConformanceChecks {
 protected:
  // Skips the test unless the connector implements PartitionedReads; nullptr when skipped or
  // failed.
  std::unique_ptr<LakeflowConnect> partitioned_connector_or_skip() const {
    auto connector = connector_or_fail();
    if (connector && !connector->reads_partitions()) {
      skip_test("the connector does not implement PartitionedReads (lakeflow/connector.h)");
      return nullptr;
    }
    return connector;
  }

  // The partitioned pass over `table` from `{}`: plans by one fresh connector, partitions read by
  // another (a partition is self-contained), once per process.
  const PartitionedPass& partitioned_pass(const std::string& table, IngestionType type) const {
    static std::map<std::string, PartitionedPass> cache;
    if (const auto it = cache.find(table); it != cache.end()) return it->second;
    PartitionedPass& pass = cache[table];
    try {
      const auto planner = make_connector();
      const auto reader = make_connector();
      pass =
          read_partitioned_until_converged(*planner, *reader, table, Offset(), table_options(table),
                                           type, suite_options().max_read_calls);
    } catch (...) {
      pass.outcome = ReadOutcome::kThrew;
      pass.problem = "creating the connector failed: " + describe_current_exception();
    }
    return pass;
  }

  // Runs `check(connector, table, problems, coverage)` for every listed table when the connector
  // reads partitions, then finishes the coverage (skipping with `nothing_to_check`).
  void check_partitioned_tables(std::string_view nothing_to_check,
                                const std::function<void(LakeflowConnect&, const std::string&,
                                                         ProblemList&, Coverage&)>& check) const {
    const auto connector = partitioned_connector_or_skip();
    if (!connector) return;
    const auto tables = tables_or_fail(*connector);
    if (!tables) return;
    ProblemList problems;
    Coverage coverage;
    for_each_table(*tables, problems,
                   [&](const std::string& table) { check(*connector, table, problems, coverage); });
    coverage.finish(problems, nothing_to_check);
  }

  // The canonical JSON of a record (its raw text when it does not parse).
  static std::string canonical(const std::string& raw) {
    try {
      return JsonValue::parse(raw, "record").dump();
    } catch (const Error&) {
      return raw;
    }
  }
};

TEST_F(TestPartitions, PartitionsCoverTheTableWithoutGapOrOverlap) {
  check_partitioned_tables(
      "no table's read was planned in partitions",
      [&](LakeflowConnect&, const std::string& table, ProblemList& problems, Coverage& coverage) {
        const TableRead* first = readable_first_pass(table, problems);
        if (first == nullptr) return;
        if (!first->read.converged()) {
          coverage.not_checked(table, "its read_table pass did not converge (TestIncrementalRead)");
          return;
        }
        const PartitionedPass& pass = partitioned_pass(table, first->info->metadata.ingestion_type);
        if (!pass.converged()) problems.add(table, pass.problem);
        if (!pass.planned()) {
          coverage.not_checked(table, "no read of it was planned in partitions");
          return;
        }
        coverage.checked();
        // Within one plan: a record in two partitions overlaps.
        for (const PartitionedStep& step : pass.steps) {
          std::map<std::string, std::size_t> partition_of;
          for (std::size_t p = 0; p < step.partitions.size(); ++p) {
            for (const std::string& raw : step.partitions[p]) {
              const auto [it, added] = partition_of.emplace(canonical(raw), p);
              if (!added && it->second != p) {
                problems.add_record(
                    table,
                    fmt::format("partitions {} and {} of the plan from {} both hold this record "
                                "(partitions overlap)",
                                step.plan->partitions[it->second].to_json(),
                                step.plan->partitions[p].to_json(), step.start.to_json()),
                    raw);
              }
            }
          }
        }
        // Against the read_table pass: the same records, each as often.
        std::map<std::string, std::pair<long, const std::string*>> balance;
        for (const ReadRecord& record : first->records) {
          auto& entry = balance[canonical(*record.raw)];
          ++entry.first;
          entry.second = record.raw;
        }
        const std::vector<std::string> partitioned = pass.records();
        for (const std::string& raw : partitioned) {
          auto& entry = balance[canonical(raw)];
          --entry.first;
          if (entry.second == nullptr) entry.second = &raw;
        }
        for (const auto& [key, entry] : balance) {
          if (entry.first > 0) {
            problems.add_record(table,
                                fmt::format("read_table delivered this record {} more time(s) than "
                                            "the partitions (a gap between partitions)",
                                            entry.first),
                                *entry.second);
          } else if (entry.first < 0) {
            problems.add_record(table,
                                fmt::format("the partitions delivered this record {} more time(s) "
                                            "than read_table (an overlap)",
                                            -entry.first),
                                *entry.second);
          }
        }
      });
}

TEST_F(TestPartitions, PartitionedReadConvergesToAnEmptyPlan) {
  check_partitioned_tables(
      "no table's read was planned in partitions",
      [&](LakeflowConnect& connector, const std::string& table, ProblemList& problems,
          Coverage& coverage) {
        std::string error;
        const std::optional<TableInfo> info = table_info(connector, table, error);
        if (!info) {
          problems.add(table, error);
          return;
        }
        const PartitionedPass& pass = partitioned_pass(table, info->metadata.ingestion_type);
        if (!pass.converged()) {
          problems.add(table, pass.problem);
          return;
        }
        const Offset end = pass.final_offset();
        if (!pass.planned() || end.is_null()) {
          coverage.not_checked(table, pass.planned() ? "its plan read the whole table (null end)"
                                                     : "no read of it was planned in partitions");
          return;
        }
        coverage.checked();
        // Where the read converged, a plan has nothing to read: none, or no partitions and the
        // same offset (start equal to end).
        const auto again = make_connector();
        const std::optional<PartitionPlan> plan =
            again->plan_partitions(table, end, table_options(table));
        if (plan && (!plan->partitions.empty() || !(plan->end == end))) {
          problems.add(table,
                       fmt::format("plan_partitions from the converged offset {} planned {} "
                                   "partition(s) ending at {}; expected none, ending there",
                                   end.to_json(), plan->partitions.size(), plan->end.to_json()));
        }
      });
}

TEST_F(TestPartitions, APartitionReadAgainDeliversTheSameRecords) {
  check_partitioned_tables(
      "no table's first read was planned in partitions",
      [&](LakeflowConnect&, const std::string& table, ProblemList& problems, Coverage& coverage) {
        const auto planner = make_connector();
        const Options options = table_options(table);
        const std::optional<PartitionPlan> plan =
            planner->plan_partitions(table, Offset(), options);
        if (!plan || plan->partitions.empty()) {
          coverage.not_checked(table, "its first read was not planned in partitions");
          return;
        }
        coverage.checked();
        const auto first = make_connector();
        const auto second = make_connector();
        for (const Offset& partition : plan->partitions) {
          RecordStream a = first->read_partition(table, partition, options);
          RecordStream b = second->read_partition(table, partition, options);
          std::vector<std::string> one = drain(a);
          std::vector<std::string> two = drain(b);
          for (auto* records : {&one, &two}) {
            for (std::string& raw : *records) raw = canonical(raw);
            std::sort(records->begin(), records->end());
          }
          if (one != two) {
            problems.add(table,
                         fmt::format("partition {} delivered {} record(s), then {} different "
                                     "ones when read again by another instance",
                                     partition.to_json(), one.size(), two.size()));
          }
        }
      });
}

// ---- TestWriteBack (last: it changes the source) ------------------------------------------------

class TestWriteBack : public ConformanceChecks {
 protected:
  void SetUp() override {
    if (!suite_options().write_back) {
      GTEST_SKIP() << "the source is read-only for these tests (SuiteOptions::write_back unset)";
    }
    if (modes::mode() == http::TestMode::kReplay) {
      GTEST_SKIP() << "writes are not replayed (their requests carry values made at run time); "
                      "TestWriteBack runs live and in simulate mode";
    }
    ConformanceChecks::SetUp();
  }

  std::unique_ptr<WriteBackUtils> utils_or_fail() const {
    try {
      std::unique_ptr<WriteBackUtils> utils = suite_options().write_back(connector_options());
      if (!utils) ADD_FAILURE() << "SuiteOptions::write_back returned no WriteBackUtils";
      return utils;
    } catch (...) {
      ADD_FAILURE() << "SuiteOptions::write_back threw " << describe_current_exception();
      return nullptr;
    }
  }

  enum class Write { kInsert, kUpdate };

  // check_write for every table insertable_tables() / updatable_tables() lists; skips the test
  // when the list is empty.
  void check_writes(Write write) const {
    const auto utils = utils_or_fail();
    if (!utils) return;
    const bool insert = write == Write::kInsert;
    const std::vector<std::string> tables =
        insert ? utils->insertable_tables() : utils->updatable_tables();
    if (tables.empty()) {
      GTEST_SKIP() << (insert ? "insertable_tables()" : "updatable_tables()") << " is empty";
    }
    ProblemList problems;
    for_each_table(tables, problems,
                   [&](const std::string& table) { check_write(write, *utils, table, problems); });
    report(problems);
  }

  // Reads `table` to convergence, writes two rows, and checks a fresh connector reading from the
  // converged offset (snapshot: from `{}`) finds them.
  void check_write(Write write, WriteBackUtils& utils, const std::string& table,
                   ProblemList& problems) const {
    const std::string_view verb = write == Write::kInsert ? "insert_rows" : "update_rows";
    const std::string_view noun = write == Write::kInsert ? "inserted" : "updated";
    const auto connector = make_connector();
    const std::optional<TableInfo> info = table_info(*connector, table, problems);
    if (!info) return;
    const IngestionType type = info->metadata.ingestion_type;
    const int max_calls = suite_options().max_read_calls;
    const ConvergedRead before =
        read_until_converged(*connector, table, Offset(), table_options(table), type, max_calls);
    if (!before.converged()) {
      problems.add(table, fmt::format("not checked: reading before {} did not converge: {}", verb,
                                      before.problem));
      return;
    }
    const Offset offset = type == IngestionType::kSnapshot ? Offset() : before.final_offset();
    std::vector<JsonValue> rows;
    forget_reads();  // the source changes: reads made before no longer describe it
    try {
      rows = write == Write::kInsert ? utils.insert_rows(table, 2) : utils.update_rows(table, 2);
    } catch (...) {
      problems.add(table,
                   fmt::format("{}('{}', 2) threw {}", verb, table, describe_current_exception()));
      return;
    }
    if (rows.size() != 2) {
      problems.add(table,
                   fmt::format("{}('{}', 2) returned {} row(s), not 2", verb, table, rows.size()));
    }
    const auto fresh = make_connector();
    const ConvergedRead after =
        read_until_converged(*fresh, table, offset, table_options(table), type, max_calls);
    if (!after.converged()) {
      problems.add(table, fmt::format("reading after {}: {}", verb, after.problem));
      return;
    }
    const std::vector<ReadRecord> records = parse_records(after);
    if (type == IngestionType::kSnapshot && write == Write::kInsert &&
        after.record_count() != before.record_count() + rows.size()) {
      problems.add(table, fmt::format("a full read after inserting {} row(s) returned {} "
                                      "record(s); the read before returned {}",
                                      rows.size(), after.record_count(), before.record_count()));
    }
    for (const JsonValue& row : rows) {
      const bool found = std::any_of(records.begin(), records.end(), [&](const ReadRecord& r) {
        return r.json && row_matches(row, *r.json);
      });
      if (!found) {
        problems.add(table, fmt::format("the {} row {} is not among the {} record(s) a fresh "
                                        "connector read from offset {} (the converged offset "
                                        "before {})",
                                        noun, excerpt(row.dump(), 200), records.size(),
                                        excerpt(offset.to_json(), 200), verb));
      }
    }
  }
};

TEST_F(TestWriteBack, ListedTablesAreTablesOfTheConnector) {
  const auto utils = utils_or_fail();
  if (!utils) return;
  const auto tables = tables_or_fail();
  if (!tables) return;
  const std::vector<std::string> deletes_tables =
      tables_of_type(*tables, {IngestionType::kCdcWithDeletes});
  ProblemList problems;
  const auto served = [&](const std::vector<std::string>& list) {
    return [&list](const std::string& table) {
      return std::find(list.begin(), list.end(), table) != list.end();
    };
  };
  for (const std::string& table : utils->insertable_tables()) {
    if (!served(*tables)(table)) {
      problems.add(table, "insertable_tables() lists it, but list_tables() does not");
    }
  }
  for (const std::string& table : utils->updatable_tables()) {
    if (!served(*tables)(table)) {
      problems.add(table, "updatable_tables() lists it, but list_tables() does not");
    }
  }
  for (const std::string& table : utils->deletable_tables()) {
    if (!served(deletes_tables)(table)) {
      problems.add(table,
                   "deletable_tables() lists it, but it is not a cdc_with_deletes table of "
                   "list_tables()");
    }
  }
  report(problems);
}

TEST_F(TestWriteBack, InsertedRowsAreReadFromTheOffsetBeforeTheInsert) {
  check_writes(Write::kInsert);
}

TEST_F(TestWriteBack, UpdatedRowsAreReadFromTheOffsetBeforeTheUpdate) {
  check_writes(Write::kUpdate);
}

TEST_F(TestWriteBack, DeletedRowsAreReadAsDeletes) {
  const auto utils = utils_or_fail();
  if (!utils) return;
  const std::vector<std::string> tables = utils->deletable_tables();
  if (tables.empty()) GTEST_SKIP() << "deletable_tables() is empty";
  ProblemList problems;
  for_each_table(tables, problems, [&](const std::string& table) {
    const auto connector = make_connector();
    const std::optional<TableInfo> info = table_info(*connector, table, problems);
    if (!info) return;
    const TableMetadata& metadata = info->metadata;
    const int max_calls = suite_options().max_read_calls;
    const ConvergedRead earlier =
        read_until_converged(*connector, table, Offset(), table_options(table),
                             metadata.ingestion_type, max_calls, ReadKind::kDeletes);
    const Offset offset = earlier.converged() ? earlier.final_offset() : Offset();
    std::vector<JsonValue> rows;
    forget_reads();  // the source changes: reads made before no longer describe it
    try {
      rows = utils->delete_rows(table, 1);
    } catch (...) {
      problems.add(table, "delete_rows('" + table + "', 1) threw " + describe_current_exception());
      return;
    }
    if (rows.size() != 1) {
      problems.add(
          table, fmt::format("delete_rows('{}', 1) returned {} row(s), not 1", table, rows.size()));
    }
    const auto fresh = make_connector();
    const ConvergedRead after =
        read_until_converged(*fresh, table, offset, table_options(table), metadata.ingestion_type,
                             max_calls, ReadKind::kDeletes);
    if (!after.converged()) {
      problems.add(table, "reading deletes after delete_rows: " + after.problem);
      return;
    }
    const std::vector<ReadRecord> records = parse_records(after);
    for (const JsonValue& row : rows) {
      // Deleted rows are found by their primary keys (the rest of a tombstone may be null).
      JsonValue keys = JsonValue::Object{};
      for (const std::string& key : metadata.primary_keys) {
        if (const JsonValue* value = find_json_path(row, key)) keys[key] = *value;
      }
      const JsonValue& wanted = keys.as_object().empty() ? row : keys;
      const bool found = std::any_of(records.begin(), records.end(), [&](const ReadRecord& r) {
        return r.json && row_matches(wanted, *r.json);
      });
      if (!found) {
        problems.add(table, fmt::format("the deleted row {} is not among the {} record(s) "
                                        "read_table_deletes returned to a fresh connector from "
                                        "offset {}",
                                        excerpt(wanted.dump(), 200), records.size(),
                                        excerpt(offset.to_json(), 200)));
      }
    }
  });
  report(problems);
}

}  // namespace
}  // namespace lakeflow::testing
