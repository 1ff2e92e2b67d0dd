#include "delta/table_features.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace lakeflow::delta {

namespace {

constexpr int kFeaturesReaderVersion = 3;
constexpr int kFeaturesWriterVersion = 7;

struct Feature {
  std::string_view name;
  bool reader_writer = false;         // listed in readerFeatures too (reader version 3)
  std::string_view requires_feature;  // one it cannot be supported without, or empty
};

// The features lakeflow implements and respects when it writes a table. appendOnly and invariants
// are what writer version 2 means (lakeflow sets neither `delta.appendOnly` nor column invariants).
// A new feature is a new row here.
constexpr Feature kFeatures[] = {
    {"appendOnly", false, {}},           {"invariants", false, {}},
    {kDomainMetadataFeature, false, {}}, {kClusteringFeature, false, kDomainMetadataFeature},
    {kTypeWideningFeature, true, {}},    {kTimestampNtzFeature, true, {}},
};

const Feature* find_feature(std::string_view name) {
  for (const Feature& feature : kFeatures) {
    if (feature.name == name) return &feature;
  }
  return nullptr;
}

// The writer features a legacy writer version (below 7) implies, per the protocol's table.
std::vector<std::string_view> legacy_writer_features(int version) {
  std::vector<std::string_view> out;
  if (version >= 2) out.insert(out.end(), {"appendOnly", "invariants"});
  if (version >= 3) out.emplace_back("checkConstraints");
  if (version >= 4) out.insert(out.end(), {"changeDataFeed", "generatedColumns"});
  if (version >= 5) out.emplace_back("columnMapping");
  if (version >= 6) out.emplace_back("identityColumns");
  return out;
}

// The reader features a legacy reader version (below 3) implies.
std::vector<std::string_view> legacy_reader_features(int version) {
  if (version >= 2) return {"columnMapping"};
  return {};
}

void add_name(std::vector<std::string>& names, std::string_view name) {
  if (std::find(names.begin(), names.end(), name) == names.end()) names.emplace_back(name);
}

std::vector<std::string_view> writer_features_of(const ProtocolAction& protocol) {
  if (protocol.min_writer_version < kFeaturesWriterVersion) {
    return legacy_writer_features(protocol.min_writer_version);
  }
  return {protocol.writer_features.begin(), protocol.writer_features.end()};
}

}  // namespace

ProtocolAction protocol_with_features(const ProtocolAction& base,
                                      const std::vector<std::string_view>& features) {
  ProtocolAction out = base;
  auto add = [&](const auto& self, std::string_view name) -> void {
    const Feature* feature = find_feature(name);
    if (feature == nullptr) {
      throw Error(ErrorCode::kInternal,
                  fmt::format("table feature `{}` is not one lakeflow implements (this is a bug "
                              "in lakeflow)",
                              name));
    }
    if (supports_feature(out, name)) return;
    if (!feature->requires_feature.empty()) self(self, feature->requires_feature);
    if (out.min_writer_version < kFeaturesWriterVersion) {
      for (std::string_view implied : legacy_writer_features(out.min_writer_version)) {
        add_name(out.writer_features, implied);
      }
      out.min_writer_version = kFeaturesWriterVersion;
    }
    if (feature->reader_writer) {
      if (out.min_reader_version < kFeaturesReaderVersion) {
        for (std::string_view implied : legacy_reader_features(out.min_reader_version)) {
          add_name(out.reader_features, implied);
        }
        out.min_reader_version = kFeaturesReaderVersion;
      }
      add_name(out.reader_features, name);
    }
    add_name(out.writer_features, name);
  };
  for (std::string_view name : features) add(add, name);
  return out;
}

bool supports_feature(const ProtocolAction& protocol, std::string_view feature) {
  const std::vector<std::string_view> writer = writer_features_of(protocol);
  return std::find(writer.begin(), writer.end(), feature) != writer.end();
}

std::optional<std::string> unwritable_protocol(const ProtocolAction& protocol) {
  const int reader = protocol.min_reader_version;
  const int writer = protocol.min_writer_version;
  std::vector<std::string_view> known;
  for (const Feature& feature : kFeatures) known.push_back(feature.name);
  const std::string implemented = fmt::format(
      "lakeflow writes Delta protocol up to reader {} / writer {} with table features "
      "{}; no column mapping or deletion vectors",
      kFeaturesReaderVersion, kFeaturesWriterVersion, fmt::join(known, ", "));
  if (reader > kFeaturesReaderVersion || writer > kFeaturesWriterVersion) {
    return fmt::format("it needs Delta protocol reader {} / writer {} ({})", reader, writer,
                       implemented);
  }
  std::vector<std::string_view> unknown;
  for (std::string_view name : writer_features_of(protocol)) {
    if (find_feature(name) == nullptr) unknown.push_back(name);
  }
  const std::vector<std::string_view> reader_features =
      reader < kFeaturesReaderVersion
          ? legacy_reader_features(reader)
          : std::vector<std::string_view>(protocol.reader_features.begin(),
                                          protocol.reader_features.end());
  for (std::string_view name : reader_features) {
    const Feature* feature = find_feature(name);
    if ((feature == nullptr || !feature->reader_writer) &&
        std::find(unknown.begin(), unknown.end(), name) == unknown.end()) {
      unknown.push_back(name);
    }
  }
  if (unknown.empty()) return std::nullopt;
  return fmt::format("it uses Delta table features lakeflow does not implement: {} ({})",
                     fmt::join(unknown, ", "), implemented);
}

std::optional<std::string> unreadable_protocol(const ProtocolAction& protocol) {
  const int reader = protocol.min_reader_version;
  if (reader > kFeaturesReaderVersion) {
    return fmt::format("it needs a Delta reader of version {}; lakeflow reads up to version {}",
                       reader, kFeaturesReaderVersion);
  }
  const std::vector<std::string_view> features =
      reader < kFeaturesReaderVersion
          ? legacy_reader_features(reader)
          : std::vector<std::string_view>(protocol.reader_features.begin(),
                                          protocol.reader_features.end());
  std::vector<std::string_view> unknown;
  for (std::string_view name : features) {
    const Feature* feature = find_feature(name);
    if (feature == nullptr || !feature->reader_writer) unknown.push_back(name);
  }
  if (unknown.empty()) return std::nullopt;
  return fmt::format("it needs Delta reader features lakeflow does not implement: {}",
                     fmt::join(unknown, ", "));
}

namespace {

bool has_timestamp_ntz(const DataType& type) {
  switch (type.id()) {
    case TypeId::kTimestampNtz:
      return true;
    case TypeId::kStruct:
      return std::any_of(type.fields().begin(), type.fields().end(),
                         [](const StructField& f) { return has_timestamp_ntz(f.type); });
    case TypeId::kArray:
      return has_timestamp_ntz(type.element_type());
    case TypeId::kMap:
      return has_timestamp_ntz(type.key_type()) || has_timestamp_ntz(type.value_type());
    default:
      return false;
  }
}

}  // namespace

std::vector<std::string_view> features_for_schema(const StructType& schema) {
  if (has_timestamp_ntz(schema)) return {kTimestampNtzFeature};
  return {};
}

}  // namespace lakeflow::delta
