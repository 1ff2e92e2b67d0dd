#include "delta/clustering.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "parquet/parquet_test_util.h"
#include "delta/table_features.h"

namespace lakeflow::delta {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Columns = std::vector<std::vector<std::string>>;

const StructType& schema() {
  static const StructType s{{"id", DataType::Long()},
                            {"address", StructType{{"city", DataType::String()}}}};
  return s;
}

TEST(Clustering, ANewTableGetsTheFeatureInItsProtocolAndTheDomainInItsFirstCommit) {
  Snapshot snapshot = new_table_snapshot(schema());
  const std::vector<Action> actions =
      set_clustering_columns(snapshot, {{"id"}, {"address", "city"}});
  EXPECT_EQ(snapshot.protocol, protocol_with_features(ProtocolAction{}, {kClusteringFeature}));
  ASSERT_EQ(actions.size(), 1U);
  EXPECT_EQ(action_to_line(actions[0]),
            R"({"domainMetadata":{"configuration":"{\"clusteringColumns\":[[\"id\"],)"
            R"([\"address\",\"city\"]]}","domain":"delta.clustering","removed":false}})");
}

TEST(Clustering, ColumnsRoundTripThroughTheLogAndChangesAreRecorded) {
  parquet::testing::TempDir dir;
  DeltaLog log(dir.file("t"));
  Snapshot snapshot = new_table_snapshot(schema());
  std::vector<Action> actions =
      progress_actions(snapshot, {"app", 1, Offset::parse("{}"), std::nullopt});
  EXPECT_TRUE(set_clustering_columns(snapshot, {}).empty()) << "never clustered, stays so";
  std::vector<Action> clustering = set_clustering_columns(snapshot, {{"address", "city"}});
  actions = progress_actions(snapshot, {"app", 1, Offset::parse("{}"), std::nullopt});
  actions.insert(actions.end(), clustering.begin(), clustering.end());
  log.commit(-1, actions);
  snapshot = log.snapshot();
  EXPECT_EQ(clustering_columns(snapshot), Columns({{"address", "city"}}));
  EXPECT_TRUE(supports_feature(snapshot.protocol, kClusteringFeature));
  EXPECT_TRUE(set_clustering_columns(snapshot, {{"address", "city"}}).empty()) << "unchanged";

  // A change writes the domain again; the protocol already has the feature.
  actions = set_clustering_columns(snapshot, {{"id"}});
  ASSERT_EQ(actions.size(), 1U);
  log.commit(0, actions);
  snapshot = log.snapshot();
  EXPECT_EQ(clustering_columns(snapshot), Columns({{"id"}}));

  // Turned off: an empty list; the feature stays.
  actions = set_clustering_columns(snapshot, {});
  ASSERT_EQ(actions.size(), 1U);
  EXPECT_THAT(action_to_line(actions[0]), HasSubstr(R"(\"clusteringColumns\":[])"));
  log.commit(1, actions);
  snapshot = log.snapshot();
  EXPECT_EQ(clustering_columns(snapshot), Columns{});
  EXPECT_TRUE(supports_feature(snapshot.protocol, kClusteringFeature));
  EXPECT_TRUE(set_clustering_columns(snapshot, {}).empty());
}

TEST(Clustering, AnExistingTableIsUpgradedInTheCommitThatClustersIt) {
  Snapshot snapshot = new_table_snapshot(schema());
  snapshot.version = 3;
  const std::vector<Action> actions = set_clustering_columns(snapshot, {{"id"}});
  ASSERT_EQ(actions.size(), 2U);
  EXPECT_EQ(std::get<ProtocolAction>(actions[0]),
            protocol_with_features(ProtocolAction{}, {kClusteringFeature}));
  EXPECT_EQ(std::get<DomainMetadataAction>(actions[1]).domain, kClusteringDomain);
  EXPECT_EQ(snapshot.protocol, ProtocolAction{}) << "an existing table changes by its commit";
}

TEST(Clustering, ReadsTheProtocolsOneStringPerColumnFormAndRejectsMalformedOnes) {
  Snapshot snapshot;
  snapshot.table_path = "/t";
  EXPECT_EQ(clustering_columns(snapshot), std::nullopt);
  auto with = [&](std::string configuration) {
    snapshot.domains["delta.clustering"] = {"delta.clustering", std::move(configuration)};
    return clustering_columns(snapshot);
  };
  EXPECT_EQ(with(R"({"clusteringColumns":["a","b"],"domainName":"delta.clustering"})"),
            Columns({{"a"}, {"b"}}));
  for (const char* bad : {"nope", "{}", R"({"clusteringColumns":[[]]})",
                          R"({"clusteringColumns":[[1]]})", R"({"clusteringColumns":"a"})"}) {
    try {
      with(bad);
      ADD_FAILURE() << bad;
    } catch (const DeltaLogError& e) {
      EXPECT_THAT(e.what(), HasSubstr("/t: the delta.clustering domain's configuration")) << bad;
    }
  }
}

}  // namespace
}  // namespace lakeflow::delta
