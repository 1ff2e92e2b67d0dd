// Delta table features (PROTOCOL.md, "Table Features"): which protocol a table needs for the
// features it uses, and whether lakeflow can write a table with a given protocol.
//
// lakeflow's tables use at least domainMetadata (their offsets live in a metadata domain), so they
// are created at writer 7; a table created at (reader 1, writer 2) by an earlier lakeflow moves to
// writer 7 on its next commit. A table that uses a feature moves to writer 7,
// whose `writerFeatures` list every feature a writer must implement: the new one, the features it
// requires (clustering requires domainMetadata), and those writer 2 implied (appendOnly,
// invariants), which the protocol says an upgraded table keeps, as Delta's own writers list them.
// A reader-writer feature would also move the reader to version 3 and be listed in both lists.
// Features are never removed: a table keeps supporting a feature it stops using.
//
// Every feature lakeflow knows is one row of the table in table_features.cc.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "delta/delta_actions.h"

namespace lakeflow::delta {

inline constexpr std::string_view kDomainMetadataFeature = "domainMetadata";
inline constexpr std::string_view kClusteringFeature = "clustering";
inline constexpr std::string_view kTypeWideningFeature = "typeWidening";
inline constexpr std::string_view kTimestampNtzFeature = "timestampNtz";

// `base` upgraded to support `features` as well (and the features they require). Returns `base`
// unchanged when it supports them already. Throws Error(kInternal) for a feature lakeflow does not
// know (a bug in the caller).
ProtocolAction protocol_with_features(const ProtocolAction& base,
                                      const std::vector<std::string_view>& features);

// Whether `protocol` supports `feature` (lists it, or implies it by a legacy writer version).
bool supports_feature(const ProtocolAction& protocol, std::string_view feature);

// Why lakeflow cannot write a table with `protocol` (a reader or writer version, or a table feature
// it does not implement), or nullopt when it can.
std::optional<std::string> unwritable_protocol(const ProtocolAction& protocol);

// Why lakeflow cannot read a table with `protocol` (a reader version or reader feature it does not
// implement), or nullopt when it can. Writer features do not matter to a reader.
std::optional<std::string> unreadable_protocol(const ProtocolAction& protocol);

// The features a table with `schema` needs whatever else it uses: timestampNtz when a
// timestamp_ntz column appears anywhere in it.
std::vector<std::string_view> features_for_schema(const StructType& schema);

}  // namespace lakeflow::delta
