// Delta log actions to and from their JSON objects (PROTOCOL.md, "Actions").
#include "delta/delta_actions.h"

#include <fmt/format.h>
#include <sys/random.h>

#include <cerrno>
#include <chrono>
#include <random>

#ifndef LAKEFLOW_VERSION
#define LAKEFLOW_VERSION "0.0.0"
#endif

namespace lakeflow::delta {

namespace {

// ---- Writing ------------------------------------------------------------------------------------

JsonValue map_to_json(const StringMap& map) {
  JsonValue::Object object;
  for (const auto& [key, value] : map) object.emplace(key, JsonValue(value));
  return JsonValue(std::move(object));
}

JsonValue strings_to_json(const std::vector<std::string>& strings) {
  JsonValue::Array array;
  array.reserve(strings.size());
  for (const auto& s : strings) array.emplace_back(s);
  return JsonValue(std::move(array));
}

JsonValue to_json(const ProtocolAction& a) {
  JsonValue out;
  out["minReaderVersion"] = a.min_reader_version;
  out["minWriterVersion"] = a.min_writer_version;
  if (!a.reader_features.empty()) out["readerFeatures"] = strings_to_json(a.reader_features);
  if (!a.writer_features.empty()) out["writerFeatures"] = strings_to_json(a.writer_features);
  return out;
}

JsonValue to_json(const MetadataAction& a) {
  JsonValue out;
  out["id"] = a.id;
  if (a.name) out["name"] = *a.name;
  if (a.description) out["description"] = *a.description;
  JsonValue& format = out["format"];
  format["provider"] = a.format_provider;
  format["options"] = map_to_json(a.format_options);
  out["schemaString"] = a.schema_string;
  out["partitionColumns"] = strings_to_json(a.partition_columns);
  out["configuration"] = map_to_json(a.configuration);
  if (a.created_time) out["createdTime"] = *a.created_time;
  return out;
}

JsonValue to_json(const AddFile& a) {
  JsonValue out;
  out["path"] = a.path;
  out["partitionValues"] = map_to_json(a.partition_values);
  out["size"] = a.size;
  out["modificationTime"] = a.modification_time;
  out["dataChange"] = a.data_change;
  if (a.stats) out["stats"] = *a.stats;
  if (!a.tags.empty()) out["tags"] = map_to_json(a.tags);
  return out;
}

JsonValue to_json(const RemoveFile& a) {
  JsonValue out;
  out["path"] = a.path;
  if (a.deletion_timestamp) out["deletionTimestamp"] = *a.deletion_timestamp;
  out["dataChange"] = a.data_change;
  out["extendedFileMetadata"] = a.extended_file_metadata;
  if (a.extended_file_metadata) out["partitionValues"] = map_to_json(a.partition_values);
  if (a.size) out["size"] = *a.size;
  return out;
}

JsonValue to_json(const TxnAction& a) {
  JsonValue out;
  out["appId"] = a.app_id;
  out["version"] = a.version;
  if (a.last_updated) out["lastUpdated"] = *a.last_updated;
  return out;
}

JsonValue to_json(const CommitInfo& a) {
  JsonValue out;
  out["timestamp"] = a.timestamp;
  out["operation"] = a.operation;
  out["operationParameters"] = map_to_json(a.operation_parameters);
  if (!a.operation_metrics.empty()) out["operationMetrics"] = map_to_json(a.operation_metrics);
  if (a.read_version) out["readVersion"] = *a.read_version;
  if (a.is_blind_append) out["isBlindAppend"] = *a.is_blind_append;
  out["engineInfo"] = a.engine_info;
  return out;
}

JsonValue to_json(const DomainMetadataAction& a) {
  JsonValue out;
  out["domain"] = a.domain;
  out["configuration"] = a.configuration;
  out["removed"] = a.removed;
  return out;
}

const char* kind_of(const Action& action) {
  struct Visitor {
    const char* operator()(const ProtocolAction&) const { return "protocol"; }
    const char* operator()(const MetadataAction&) const { return "metaData"; }
    const char* operator()(const AddFile&) const { return "add"; }
    const char* operator()(const RemoveFile&) const { return "remove"; }
    const char* operator()(const TxnAction&) const { return "txn"; }
    const char* operator()(const CommitInfo&) const { return "commitInfo"; }
    const char* operator()(const DomainMetadataAction&) const { return "domainMetadata"; }
  };
  return std::visit(Visitor{}, action);
}

// ---- Reading ------------------------------------------------------------------------------------

// Reads the fields of one action object, naming the action and `where` in every error.
class FieldReader {
 public:
  FieldReader(const JsonValue& object, std::string_view kind, std::string_view where)
      : object_(object), kind_(kind), where_(where) {
    if (!object.is_object()) fail("", "is not a JSON object");
  }

  [[noreturn]] void fail(std::string_view field, std::string_view problem) const {
    std::string name = field.empty() ? std::string(kind_) : fmt::format("{}.{}", kind_, field);
    throw DeltaLogError(fmt::format(
        "{}: action `{}` {}; the Delta log is damaged or was written by an incompatible writer "
        "(restore the file from a backup, or recreate the table)",
        where_, name, problem));
  }

  const JsonValue* find(std::string_view field) const {
    const JsonValue* v = object_.find(field);
    return v == nullptr || v->is_null() ? nullptr : v;
  }
  const JsonValue& require(std::string_view field) const {
    const JsonValue* v = find(field);
    if (v == nullptr) fail(field, "is missing");
    return *v;
  }

  std::string string(std::string_view field) const { return as_string(field, require(field)); }
  std::optional<std::string> optional_string(std::string_view field) const {
    const JsonValue* v = find(field);
    if (v == nullptr) return std::nullopt;
    return as_string(field, *v);
  }
  std::int64_t integer(std::string_view field) const { return as_int(field, require(field)); }
  std::optional<std::int64_t> optional_integer(std::string_view field) const {
    const JsonValue* v = find(field);
    if (v == nullptr) return std::nullopt;
    return as_int(field, *v);
  }
  bool boolean(std::string_view field) const { return as_bool(field, require(field)); }
  std::optional<bool> optional_boolean(std::string_view field) const {
    const JsonValue* v = find(field);
    if (v == nullptr) return std::nullopt;
    return as_bool(field, *v);
  }
  // A map of strings; absent or null reads as empty. Null values (Spark writes them for null
  // partition values) read as empty strings, which the protocol defines as a null partition value.
  StringMap string_map(std::string_view field) const {
    StringMap out;
    const JsonValue* v = find(field);
    if (v == nullptr) return out;
    if (!v->is_object()) fail(field, "is not a JSON object of strings");
    for (const auto& [key, value] : v->as_object()) {
      if (value.is_null()) {
        out.emplace(key, std::string());
      } else if (value.is_string()) {
        out.emplace(key, value.as_string());
      } else {
        out.emplace(key, value.dump());
      }
    }
    return out;
  }
  std::vector<std::string> strings(std::string_view field) const {
    std::vector<std::string> out;
    const JsonValue* v = find(field);
    if (v == nullptr) return out;
    if (!v->is_array()) fail(field, "is not a JSON array of strings");
    for (const auto& item : v->as_array()) {
      if (!item.is_string()) fail(field, "is not a JSON array of strings");
      out.push_back(item.as_string());
    }
    return out;
  }
  std::string_view where() const { return where_; }

 private:
  std::string as_string(std::string_view field, const JsonValue& v) const {
    if (!v.is_string()) fail(field, fmt::format("is not a string (got {})", excerpt(v)));
    return v.as_string();
  }
  std::int64_t as_int(std::string_view field, const JsonValue& v) const {
    if (!v.is_int()) fail(field, fmt::format("is not an integer (got {})", excerpt(v)));
    return v.as_int();
  }
  bool as_bool(std::string_view field, const JsonValue& v) const {
    if (!v.is_bool()) fail(field, fmt::format("is not a boolean (got {})", excerpt(v)));
    return v.as_bool();
  }
  static std::string excerpt(const JsonValue& v) {
    std::string text = v.dump();
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return text;
  }

  const JsonValue& object_;
  std::string_view kind_;
  std::string_view where_;
};

ProtocolAction protocol_from(const FieldReader& r) {
  ProtocolAction a;
  const std::int64_t reader = r.integer("minReaderVersion");
  const std::int64_t writer = r.integer("minWriterVersion");
  if (reader < 1 || reader > 1000 || writer < 1 || writer > 1000) {
    r.fail("minReaderVersion", "holds an impossible protocol version");
  }
  a.min_reader_version = static_cast<int>(reader);
  a.min_writer_version = static_cast<int>(writer);
  a.reader_features = r.strings("readerFeatures");
  a.writer_features = r.strings("writerFeatures");
  return a;
}

MetadataAction metadata_from(const FieldReader& r) {
  MetadataAction a;
  a.id = r.string("id");
  a.name = r.optional_string("name");
  a.description = r.optional_string("description");
  if (const JsonValue* format = r.find("format")) {
    const FieldReader f(*format, "metaData.format", r.where());
    a.format_provider = f.string("provider");
    a.format_options = f.string_map("options");
  }
  a.schema_string = r.string("schemaString");
  a.partition_columns = r.strings("partitionColumns");
  a.configuration = r.string_map("configuration");
  a.created_time = r.optional_integer("createdTime");
  return a;
}

AddFile add_from(const FieldReader& r) {
  if (r.find("deletionVector") != nullptr) {
    r.fail("deletionVector",
           "is set: the table uses deletion vectors, which lakeflow does not read");
  }
  AddFile a;
  a.path = r.string("path");
  a.partition_values = r.string_map("partitionValues");
  a.size = r.integer("size");
  a.modification_time = r.integer("modificationTime");
  a.data_change = r.boolean("dataChange");
  a.stats = r.optional_string("stats");
  a.tags = r.string_map("tags");
  return a;
}

RemoveFile remove_from(const FieldReader& r) {
  RemoveFile a;
  a.path = r.string("path");
  a.deletion_timestamp = r.optional_integer("deletionTimestamp");
  a.data_change = r.boolean("dataChange");
  a.extended_file_metadata = r.optional_boolean("extendedFileMetadata").value_or(false);
  a.partition_values = r.string_map("partitionValues");
  a.size = r.optional_integer("size");
  return a;
}

TxnAction txn_from(const FieldReader& r) {
  TxnAction a;
  a.app_id = r.string("appId");
  a.version = r.integer("version");
  a.last_updated = r.optional_integer("lastUpdated");
  return a;
}

DomainMetadataAction domain_metadata_from(const FieldReader& r) {
  DomainMetadataAction a;
  a.domain = r.string("domain");
  a.configuration = r.string("configuration");
  a.removed = r.boolean("removed");
  return a;
}

// Provenance may hold anything another engine chose to write: read what matches, skip the rest.
CommitInfo commit_info_from(const JsonValue& object) {
  CommitInfo a;
  a.operation.clear();
  if (!object.is_object()) return a;
  auto int_field = [&](std::string_view key) -> std::optional<std::int64_t> {
    const JsonValue* v = object.find(key);
    if (v != nullptr && v->is_int()) return v->as_int();
    return std::nullopt;
  };
  auto string_field = [&](std::string_view key) -> std::string {
    const JsonValue* v = object.find(key);
    return v != nullptr && v->is_string() ? v->as_string() : std::string();
  };
  auto map_field = [&](std::string_view key) {
    StringMap out;
    const JsonValue* v = object.find(key);
    if (v == nullptr || !v->is_object()) return out;
    for (const auto& [k, value] : v->as_object()) {
      out.emplace(k, value.is_string() ? value.as_string() : value.dump());
    }
    return out;
  };
  a.timestamp = int_field("timestamp").value_or(0);
  a.operation = string_field("operation");
  a.operation_parameters = map_field("operationParameters");
  a.operation_metrics = map_field("operationMetrics");
  a.read_version = int_field("readVersion");
  if (const JsonValue* v = object.find("isBlindAppend"); v != nullptr && v->is_bool()) {
    a.is_blind_append = v->as_bool();
  }
  a.engine_info = string_field("engineInfo");
  return a;
}

}  // namespace

StructType MetadataAction::schema() const { return parse_struct_type(schema_string); }

const std::string* MetadataAction::config(std::string_view key) const {
  auto it = configuration.find(key);
  return it == configuration.end() ? nullptr : &it->second;
}

JsonValue action_to_json(const Action& action) {
  JsonValue out;
  out[kind_of(action)] = std::visit([](const auto& a) { return to_json(a); }, action);
  return out;
}

std::string action_to_line(const Action& action) { return action_to_json(action).dump(); }

std::optional<Action> action_from_json(const JsonValue& json, std::string_view where) {
  if (!json.is_object()) {
    throw DeltaLogError(fmt::format(
        "{}: a log line is not a JSON object; the Delta log is damaged (restore the file from a "
        "backup, or recreate the table)",
        where));
  }
  // One action per line; a line holding several keys is read by its first known one.
  for (const auto& [kind, body] : json.as_object()) {
    if (body.is_null()) continue;
    if (kind == "add") return add_from(FieldReader(body, kind, where));
    if (kind == "remove") return remove_from(FieldReader(body, kind, where));
    if (kind == "metaData") return metadata_from(FieldReader(body, kind, where));
    if (kind == "protocol") return protocol_from(FieldReader(body, kind, where));
    if (kind == "txn") return txn_from(FieldReader(body, kind, where));
    if (kind == "commitInfo") return commit_info_from(body);
    if (kind == "domainMetadata") return domain_metadata_from(FieldReader(body, kind, where));
  }
  return std::nullopt;
}

std::string engine_info() { return "lakeflow-cpp/" LAKEFLOW_VERSION; }

std::string random_uuid() {
  // getrandom(2) on every call rather than a seeded generator: a generator's state would be
  // duplicated by fork(), and two processes would then make the same "random" names.
  std::uint64_t words[2];
  std::size_t filled = 0;
  auto* bytes = reinterpret_cast<unsigned char*>(words);
  while (filled < sizeof words) {
    const ssize_t n = ::getrandom(bytes + filled, sizeof words - filled, 0);
    if (n > 0) {
      filled += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      std::random_device device;  // no getrandom (old kernel): the C++ library's source
      words[0] = (std::uint64_t{device()} << 32) ^ device();
      words[1] = (std::uint64_t{device()} << 32) ^ device();
      break;
    }
  }
  std::uint64_t hi = words[0];
  std::uint64_t lo = words[1];
  hi = (hi & ~std::uint64_t{0xF000}) | 0x4000;                           // version 4
  lo = (lo & ~(std::uint64_t{0xC} << 60)) | (std::uint64_t{0x8} << 60);  // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF,
                     hi & 0xFFFF, lo >> 48, lo & 0xFFFFFFFFFFFFull);
}

std::int64_t now_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

RemoveFile removal_of(const AddFile& add) {
  RemoveFile remove;
  remove.path = add.path;
  remove.deletion_timestamp = now_millis();
  remove.data_change = true;
  remove.extended_file_metadata = true;
  remove.partition_values = add.partition_values;
  remove.size = add.size;
  return remove;
}

std::string encode_path(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~' || c == '/';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string decode_path(std::string_view uri_path) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(uri_path.size());
  for (std::size_t i = 0; i < uri_path.size(); ++i) {
    if (uri_path[i] != '%') {
      out += uri_path[i];
      continue;
    }
    const int high = i + 2 < uri_path.size() ? hex(uri_path[i + 1]) : -1;
    const int low = i + 2 < uri_path.size() ? hex(uri_path[i + 2]) : -1;
    if (high < 0 || low < 0) {
      throw DeltaLogError(fmt::format(
          "data file path `{}` in the Delta log has a malformed %-escape; the log is damaged",
          uri_path));
    }
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

ConcurrentCommitError::ConcurrentCommitError(std::string table_path, std::int64_t version)
    : DeltaLogError(
          ErrorCode::kConflict,
          fmt::format("Delta table {}: version {} was committed by another writer while this one "
                      "was writing it; nothing was overwritten and this commit was not made. Only "
                      "one process may write a table at a time: stop the other writer (another "
                      "`lakeflow run` on the same destination?), then rerun, which resumes from "
                      "the committed offset",
                      table_path, version)),
      table_path_(std::move(table_path)),
      version_(version) {}

}  // namespace lakeflow::delta
