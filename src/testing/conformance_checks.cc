// The building blocks of the conformance suite (see include/lakeflow/testing/conformance_checks.h).
// This file holds no tests: it is also compiled into the suite's own unit tests.
#include "lakeflow/testing/conformance_checks.h"

#include <cxxabi.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <typeinfo>
#include <utility>

#include "lakeflow/error.h"
#include "util/text.h"

namespace lakeflow::testing {
namespace {

std::string demangled(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

std::string join_path(std::string_view prefix, std::string_view name) {
  if (prefix.empty()) return std::string(name);
  return fmt::format("{}.{}", prefix, name);
}

// ---- Schema walks -------------------------------------------------------------------------------

void collect_duplicates(const DataType& type, const std::string& path,
                        std::vector<std::string>& out) {
  switch (type.id()) {
    case TypeId::kStruct: {
      const std::vector<StructField>& fields = type.fields();
      std::map<std::string_view, std::size_t> counts;
      for (const StructField& field : fields) ++counts[field.name];
      for (std::size_t i = 0; i < fields.size(); ++i) {
        const std::size_t count = counts[fields[i].name];
        if (count < 2) continue;
        counts[fields[i].name] = 0;  // report each name once
        out.push_back(fmt::format("`{}` ({} times in {})", fields[i].name, count,
                                  path.empty() ? "the top-level struct" : "`" + path + "`"));
      }
      for (const StructField& field : fields) {
        collect_duplicates(field.type, join_path(path, field.name), out);
      }
      break;
    }
    case TypeId::kArray:
      collect_duplicates(type.element_type(), path, out);
      break;
    case TypeId::kMap:
      collect_duplicates(type.key_type(), path, out);
      collect_duplicates(type.value_type(), path, out);
      break;
    default:
      break;
  }
}

void collect_discouraged(const DataType& type, const std::string& path,
                         std::vector<DiscouragedType>& out) {
  switch (type.id()) {
    case TypeId::kInteger:
      out.push_back({path, type.simple_string()});
      break;
    case TypeId::kStruct:
      for (const StructField& field : type.fields()) {
        collect_discouraged(field.type, join_path(path, field.name), out);
      }
      break;
    case TypeId::kArray:
      collect_discouraged(type.element_type(), path, out);
      break;
    case TypeId::kMap:
      out.push_back({path, type.simple_string()});
      collect_discouraged(type.key_type(), path, out);
      collect_discouraged(type.value_type(), path, out);
      break;
    default:
      break;
  }
}

// ---- Offsets from the future --------------------------------------------------------------------

constexpr std::int64_t kFutureIntegerShift = 1'000'000'000'000'000;  // 10^15

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// YYYY-MM-DD exactly.
bool is_iso_date(std::string_view s) {
  return s.size() == 10 && is_digits(s.substr(0, 4)) && s[4] == '-' && is_digits(s.substr(5, 2)) &&
         s[7] == '-' && is_digits(s.substr(8, 2)) && text::parse_date(s).ok();
}

// YYYY-MM-DD followed by `T` (or a space) and a time, with or without a zone.
bool is_iso_date_time(std::string_view s) {
  return s.size() > 10 && is_iso_date(s.substr(0, 10)) &&
         (s[10] == 'T' || s[10] == 't' || s[10] == ' ') &&
         text::parse_timestamp(s, /*allow_offset=*/true, /*zone_less_offset=*/0).ok();
}

bool move_to_future(JsonValue& value) {
  if (value.is_string()) {
    if (is_iso_date_time(value.as_string())) {
      value = JsonValue("9999-12-31T23:59:59Z");
      return true;
    }
    if (is_iso_date(value.as_string())) {
      value = JsonValue("9999-12-31");
      return true;
    }
    return false;
  }
  if (value.is_int()) {
    const std::int64_t v = value.as_int();
    value = JsonValue(v > std::numeric_limits<std::int64_t>::max() - kFutureIntegerShift
                          ? std::numeric_limits<std::int64_t>::max()
                          : v + kFutureIntegerShift);
    return true;
  }
  bool changed = false;
  if (value.is_array()) {
    for (JsonValue& item : value.as_array()) changed = move_to_future(item) || changed;
  } else if (value.is_object()) {
    for (auto& [key, member] : value.as_object()) changed = move_to_future(member) || changed;
  }
  return changed;
}

// ---- Row matching -------------------------------------------------------------------------------

void flatten(const JsonValue& value, const std::string& prefix,
             std::vector<std::pair<std::string, const JsonValue*>>& out) {
  if (value.is_object() && !value.as_object().empty()) {
    for (const auto& [key, member] : value.as_object())
      flatten(member, join_path(prefix, key), out);
    return;
  }
  out.emplace_back(prefix, &value);
}

bool scalar_text_equals(const std::string& text, const JsonValue& other) {
  return (other.is_number() || other.is_bool()) && other.dump() == text;
}

bool values_equal(const JsonValue& a, const JsonValue& b) {
  if (a == b) return true;
  if (a.is_number() && b.is_number()) return a.as_double() == b.as_double();
  if (a.is_string()) return scalar_text_equals(a.as_string(), b);
  if (b.is_string()) return scalar_text_equals(b.as_string(), a);
  return false;
}

constexpr std::string_view method_name(ReadKind kind) {
  return kind == ReadKind::kTable ? "read_table" : "read_table_deletes";
}

}  // namespace

// ---- ProblemList --------------------------------------------------------------------------------

void ProblemList::add(std::string_view table, std::string_view problem) {
  items_.push_back(fmt::format("table '{}': {}", table, problem));
}

void ProblemList::add_record(std::string_view table, std::string_view problem,
                             std::string_view record) {
  auto it = record_problems_.find(table);
  if (it == record_problems_.end()) it = record_problems_.emplace(std::string(table), 0).first;
  if (it->second >= kMaxRecordProblemsPerTable) {
    auto suppressed = suppressed_.find(table);
    if (suppressed == suppressed_.end()) {
      suppressed = suppressed_.emplace(std::string(table), 0).first;
    }
    ++suppressed->second;
    return;
  }
  ++it->second;
  items_.push_back(fmt::format("table '{}': {} (record: {})", table, problem, excerpt(record)));
}

void ProblemList::add_general(std::string problem) { items_.push_back(std::move(problem)); }

std::vector<std::string> ProblemList::lines() const {
  std::vector<std::string> out = items_;
  for (const auto& [table, count] : suppressed_) {
    out.push_back(fmt::format("table '{}': {} more record problem(s) not shown", table, count));
  }
  return out;
}

std::string ProblemList::report() const {
  const std::vector<std::string> all = lines();
  std::string out = fmt::format("{} problem(s):", all.size());
  for (const std::string& line : all) {
    out += "\n  ";
    out += line;
  }
  return out;
}

// ---- Text ---------------------------------------------------------------------------------------

std::string excerpt(std::string_view text, std::size_t max_chars) {
  std::string out;
  const std::size_t n = std::min(text.size(), max_chars);
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[i];
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  if (text.size() > max_chars) out += "...";
  return out;
}

std::string describe_exception(const std::exception& error) {
  std::string type = demangled(typeid(error).name());
  if (const auto* lakeflow_error = dynamic_cast<const Error*>(&error)) {
    return fmt::format("{} [{}]: {}", type, to_string(lakeflow_error->code()), error.what());
  }
  return fmt::format("{}: {}", type, error.what());
}

std::string describe_current_exception() {
  try {
    throw;
  } catch (const std::exception& error) {
    return describe_exception(error);
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

// ---- JSON ---------------------------------------------------------------------------------------

const JsonValue* find_json_path(const JsonValue& value, std::string_view dotted_path) {
  if (!value.is_object()) return nullptr;
  if (const JsonValue* member = value.find(dotted_path)) return member;
  for (std::size_t dot = dotted_path.find('.'); dot != std::string_view::npos;
       dot = dotted_path.find('.', dot + 1)) {
    const JsonValue* member = value.find(dotted_path.substr(0, dot));
    if (member == nullptr) continue;
    if (const JsonValue* found = find_json_path(*member, dotted_path.substr(dot + 1))) return found;
  }
  return nullptr;
}

bool is_null_like(const JsonValue& value) {
  if (value.is_null()) return true;
  if (!value.is_object()) return false;
  for (const auto& [key, member] : value.as_object()) {
    if (!is_null_like(member)) return false;
  }
  return true;
}

// ---- Schemas ------------------------------------------------------------------------------------

std::vector<std::string> duplicate_field_names(const StructType& schema) {
  std::vector<std::string> out;
  collect_duplicates(schema, "", out);
  return out;
}

std::vector<DiscouragedType> integer_or_map_fields(const StructType& schema) {
  std::vector<DiscouragedType> out;
  for (const StructField& field : schema.fields()) collect_discouraged(field.type, field.name, out);
  return out;
}

// ---- Offsets and identities ---------------------------------------------------------------------

std::optional<Offset> future_offset(const Offset& offset) {
  if (offset.is_null()) return std::nullopt;
  JsonValue value = offset.value();
  if (!move_to_future(value)) return std::nullopt;
  return Offset(std::move(value.as_object()));
}

std::string record_identity(const JsonValue& record, const TableMetadata& metadata) {
  if (metadata.primary_keys.empty()) return record.dump();
  JsonValue::Array parts;
  parts.reserve(metadata.primary_keys.size() + 1);
  for (const std::string& key : metadata.primary_keys) {
    const JsonValue* value = find_json_path(record, key);
    parts.push_back(value != nullptr ? *value : JsonValue());
  }
  if (metadata.cursor_field && !metadata.cursor_field->empty()) {
    const JsonValue* value = find_json_path(record, *metadata.cursor_field);
    parts.push_back(value != nullptr ? *value : JsonValue());
  }
  return JsonValue(std::move(parts)).dump();
}

bool row_matches(const JsonValue& row, const JsonValue& record) {
  std::vector<std::pair<std::string, const JsonValue*>> leaves;
  if (row.is_object()) {
    for (const auto& [key, member] : row.as_object()) flatten(member, key, leaves);
  } else {
    return false;
  }
  for (const auto& [path, expected] : leaves) {
    const JsonValue* actual = find_json_path(record, path);
    if (actual == nullptr) {
      if (expected->is_null()) continue;
      return false;
    }
    if (!values_equal(*expected, *actual)) return false;
  }
  return true;
}

// ---- Reading ------------------------------------------------------------------------------------

std::vector<std::string> drain(RecordStream& stream) {
  std::vector<std::string> records;
  RecordBatch batch;
  while (stream.next(batch)) {
    for (std::size_t i = 0; i < batch.size(); ++i) records.emplace_back(batch[i]);
  }
  return records;
}

Offset ConvergedRead::final_offset() const { return calls.empty() ? Offset() : calls.back().end; }

std::size_t ConvergedRead::record_count() const {
  std::size_t n = 0;
  for (const ReadCall& call : calls) n += call.records.size();
  return n;
}

ConvergedRead read_until_converged(LakeflowConnect& connector, std::string_view table,
                                   const Offset& start, const Options& table_options,
                                   IngestionType ingestion_type, int max_calls, ReadKind kind) {
  ConvergedRead read;
  Offset current = start;
  const std::string_view method = method_name(kind);
  for (int i = 0; i < max_calls; ++i) {
    ReadCall call{current, Offset(), {}};
    try {
      ReadResult result = kind == ReadKind::kTable
                              ? connector.read_table(table, current, table_options)
                              : connector.read_table_deletes(table, current, table_options);
      call.records = drain(result.records);
      call.end = std::move(result.end);
    } catch (...) {
      read.outcome = ReadOutcome::kThrew;
      read.problem = fmt::format("{}(start={}) threw {}", method, excerpt(current.to_json(), 200),
                                 describe_current_exception());
      return read;
    }
    const bool null_end = call.end.is_null();
    const bool unchanged = call.end == current;
    read.calls.push_back(std::move(call));
    if (null_end) {
      if (ingestion_type == IngestionType::kSnapshot && kind == ReadKind::kTable) {
        read.outcome = ReadOutcome::kConverged;
      } else {
        read.outcome = ReadOutcome::kNullEndOffset;
        read.problem = fmt::format(
            "{}(start={}) returned a null end offset, which only snapshot tables may return "
            "(this table is {}); return an offset object, and the start offset itself when "
            "there is nothing new",
            method, excerpt(current.to_json(), 200), to_string(ingestion_type));
      }
      return read;
    }
    if (unchanged) {
      read.outcome = ReadOutcome::kConverged;
      return read;
    }
    current = read.calls.back().end;
  }
  read.outcome = ReadOutcome::kTooManyCalls;
  read.problem = fmt::format(
      "{} did not converge within {} calls (SuiteOptions::max_read_calls): the end offset never "
      "came back equal to the start offset; offsets: {}",
      method, max_calls, offset_trail(read));
  return read;
}

bool PartitionedPass::planned() const {
  return std::any_of(steps.begin(), steps.end(), [](const PartitionedStep& step) {
    return step.plan && !step.plan->partitions.empty();
  });
}

Offset PartitionedPass::final_offset() const {
  return steps.empty() ? Offset() : steps.back().end();
}

std::vector<std::string> PartitionedPass::records() const {
  std::vector<std::string> out;
  for (const PartitionedStep& step : steps) {
    for (const std::vector<std::string>& partition : step.partitions) {
      out.insert(out.end(), partition.begin(), partition.end());
    }
    if (step.call) out.insert(out.end(), step.call->records.begin(), step.call->records.end());
  }
  return out;
}

PartitionedPass read_partitioned_until_converged(LakeflowConnect& planner, LakeflowConnect& reader,
                                                 std::string_view table, const Offset& start,
                                                 const Options& table_options,
                                                 IngestionType ingestion_type, int max_steps) {
  PartitionedPass pass;
  Offset current = start;
  for (int i = 0; i < max_steps; ++i) {
    PartitionedStep step;
    step.start = current;
    std::string doing = fmt::format("plan_partitions(start={})", excerpt(current.to_json(), 200));
    try {
      step.plan = planner.plan_partitions(table, current, table_options);
      if (step.plan) {
        for (const Offset& partition : step.plan->partitions) {
          doing = fmt::format("read_partition({})", excerpt(partition.to_json(), 200));
          RecordStream records = reader.read_partition(table, partition, table_options);
          step.partitions.push_back(drain(records));
        }
      } else {
        doing = fmt::format("read_table(start={})", excerpt(current.to_json(), 200));
        ReadResult result = planner.read_table(table, current, table_options);
        ReadCall call{current, Offset(), drain(result.records)};
        call.end = std::move(result.end);
        step.call = std::move(call);
      }
    } catch (...) {
      pass.outcome = ReadOutcome::kThrew;
      pass.problem = fmt::format("{} threw {}", doing, describe_current_exception());
      return pass;
    }
    const Offset end = step.end();
    pass.steps.push_back(std::move(step));
    if (end.is_null()) {
      if (ingestion_type != IngestionType::kSnapshot) {
        pass.outcome = ReadOutcome::kNullEndOffset;
        pass.problem = fmt::format(
            "a partitioned read from {} ended at a null offset, which only snapshot tables may "
            "return (this table is {})",
            excerpt(current.to_json(), 200), to_string(ingestion_type));
      }
      return pass;
    }
    if (end == current) return pass;
    current = end;
  }
  pass.outcome = ReadOutcome::kTooManyCalls;
  pass.problem = fmt::format(
      "a partitioned read from {} did not converge within {} steps (plans and read calls, "
      "SuiteOptions::max_read_calls); last offset {}",
      excerpt(start.to_json(), 200), max_steps, excerpt(current.to_json(), 200));
  return pass;
}

std::string offset_trail(const ConvergedRead& read) {
  constexpr std::size_t kShown = 3;
  constexpr std::size_t kOffsetChars = 120;
  std::string out = read.calls.empty() ? "{}" : excerpt(read.calls.front().start.to_json(), 120);
  const std::size_t n = read.calls.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (n > 2 * kShown + 1 && i == kShown) {
      out += fmt::format(" -> ... ({} more)", n - 2 * kShown);
      i = n - kShown - 1;
      continue;
    }
    out += " -> ";
    out += excerpt(read.calls[i].end.to_json(), kOffsetChars);
  }
  return out;
}

std::optional<SmallBatchPlan> plan_small_batches(std::size_t record_count,
                                                 const std::vector<std::string>& cursor_values,
                                                 std::size_t max_batches) {
  if (record_count < 2) return std::nullopt;
  const std::size_t largest = record_count - 1;
  const std::size_t batches = std::max<std::size_t>(max_batches, 1);
  const std::size_t smallest = std::min(largest, (record_count + batches - 1) / batches);
  // Runs of two or more consecutive records sharing a cursor value: [begin, begin + length).
  std::vector<std::pair<std::size_t, std::size_t>> runs;
  for (std::size_t i = 0; i < cursor_values.size();) {
    std::size_t j = i + 1;
    while (j < cursor_values.size() && cursor_values[j] == cursor_values[i]) ++j;
    if (j - i >= 2) runs.emplace_back(i, j - i);
    i = j;
  }
  SmallBatchPlan plan{smallest, runs.size(), 0};
  // A batch boundary (a multiple of the limit) falls inside a run when the run's first and last
  // records are in different batches. Larger limits cut fewer runs, so a bounded number of
  // candidates above the smallest is enough.
  constexpr std::size_t kCandidates = 256;
  for (std::size_t limit = smallest; limit <= largest && limit < smallest + kCandidates; ++limit) {
    std::size_t split = 0;
    for (const auto& [begin, length] : runs) {
      if (begin / limit != (begin + length - 1) / limit) ++split;
    }
    if (split > plan.split_runs) {
      plan.limit = limit;
      plan.split_runs = split;
    }
    if (split == runs.size()) break;
  }
  return plan;
}

}  // namespace lakeflow::testing
