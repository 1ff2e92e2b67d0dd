#include "delta/table_features.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lakeflow::delta {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(TableFeatures, ClusteringMovesATableToWriter7WithWhatWriter2ImpliedAndDomainMetadata) {
  const ProtocolAction upgraded = protocol_with_features(ProtocolAction{}, {kClusteringFeature});
  EXPECT_EQ(upgraded.min_reader_version, 1);
  EXPECT_EQ(upgraded.min_writer_version, 7);
  EXPECT_TRUE(upgraded.reader_features.empty());
  EXPECT_THAT(upgraded.writer_features,
              ElementsAre("appendOnly", "invariants", "domainMetadata", "clustering"));
  EXPECT_EQ(action_to_line(upgraded),
            R"({"protocol":{"minReaderVersion":1,"minWriterVersion":7,"writerFeatures":)"
            R"(["appendOnly","invariants","domainMetadata","clustering"]}})");
  EXPECT_TRUE(supports_feature(upgraded, kClusteringFeature));
  EXPECT_FALSE(supports_feature(ProtocolAction{}, kClusteringFeature));
  EXPECT_TRUE(supports_feature(ProtocolAction{}, "appendOnly"));
}

TEST(TableFeatures, AddingASupportedFeatureChangesNothingAndKeepsOtherFeatures) {
  const ProtocolAction clustered = protocol_with_features(ProtocolAction{}, {kClusteringFeature});
  EXPECT_EQ(protocol_with_features(clustered, {kClusteringFeature}), clustered);
  EXPECT_EQ(protocol_with_features(clustered, {kDomainMetadataFeature}), clustered);
  const ProtocolAction domains{1, 7, {}, {"domainMetadata"}};
  EXPECT_THAT(protocol_with_features(domains, {kClusteringFeature}).writer_features,
              ElementsAre("domainMetadata", "clustering"));
  EXPECT_THROW(protocol_with_features(ProtocolAction{}, {"deletionVectors"}), Error);
}

TEST(TableFeatures, ReaderWriterFeaturesMoveTheReaderTo3AndStayReadable) {
  const ProtocolAction widened = protocol_with_features(ProtocolAction{}, {kTypeWideningFeature});
  EXPECT_EQ(action_to_line(widened),
            R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":)"
            R"(["typeWidening"],"writerFeatures":["appendOnly","invariants","typeWidening"]}})");
  EXPECT_EQ(unwritable_protocol(widened), std::nullopt);
  EXPECT_EQ(unreadable_protocol(widened), std::nullopt);
  EXPECT_THAT(unreadable_protocol(ProtocolAction{3, 7, {"deletionVectors"}, {"deletionVectors"}})
                  .value_or(""),
              HasSubstr("deletionVectors"));
  EXPECT_THAT(unreadable_protocol(ProtocolAction{2, 5, {}, {}}).value_or(""),
              HasSubstr("columnMapping"));
  // A timestamp_ntz column anywhere needs the timestampNtz feature.
  const StructType plain{StructField("ts", DataType::Timestamp())};
  EXPECT_TRUE(features_for_schema(plain).empty());
  const StructType nested{
      StructField("a", DataType::Array(StructType{StructField("at", DataType::TimestampNtz())}))};
  EXPECT_THAT(features_for_schema(nested), ElementsAre(kTimestampNtzFeature));
}

TEST(TableFeatures, SaysWhichProtocolsLakeflowCannotWrite) {
  EXPECT_EQ(unwritable_protocol(ProtocolAction{}), std::nullopt);
  EXPECT_EQ(unwritable_protocol(ProtocolAction{1, 1, {}, {}}), std::nullopt);
  EXPECT_EQ(unwritable_protocol(protocol_with_features(ProtocolAction{}, {kClusteringFeature})),
            std::nullopt);
  EXPECT_THAT(unwritable_protocol(ProtocolAction{1, 4, {}, {}}).value_or(""),
              HasSubstr("checkConstraints, changeDataFeed, generatedColumns"));
  EXPECT_THAT(unwritable_protocol(ProtocolAction{2, 5, {}, {}}).value_or(""),
              HasSubstr("columnMapping"));
  EXPECT_THAT(
      unwritable_protocol(ProtocolAction{3, 7, {"deletionVectors"}, {"deletionVectors"}})
          .value_or(""),
      HasSubstr("does not implement: deletionVectors (lakeflow writes Delta protocol up to"));
  EXPECT_THAT(unwritable_protocol(ProtocolAction{1, 8, {}, {}}).value_or(""),
              HasSubstr("reader 1 / writer 8"));
}

}  // namespace
}  // namespace lakeflow::delta
