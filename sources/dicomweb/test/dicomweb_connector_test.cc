// The DICOMweb connector against a real Orthanc PACS (tests/support/orthanc_server.h): values of
// the sample files through the DICOM JSON model, paging while studies are stored and deleted,
// incremental syncs, Basic and bearer authentication, and the errors of bad input. Also the DICOM
// JSON reader and the paging position on their own.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "columnar/record_converter.h"
#include "dicom_json.h"
#include "dicomweb_tables.h"
#include "lakeflow/error.h"
#include "lakeflow/http/client.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "qido_paging.h"
#include "support/dicom_files.h"

namespace lakeflow::dicomweb {
namespace {

using test_support::OrthancOptions;
using test_support::OrthancServer;
using test_support::dicom::generated_instance_uid;
using test_support::dicom::generated_study;
using test_support::dicom::generated_study_uid;
using test_support::dicom::kStudy1;
using test_support::dicom::kStudy2;
using test_support::dicom::kStudy3;

// ---- The DICOM JSON reader ----------------------------------------------------------------------

ObjectMembers read(std::string_view json, std::uint32_t key_tag = 0x0020000D) {
  static std::string buffer;
  buffer.assign(json);
  buffer.append(64, ' ');
  return read_object(std::string_view(buffer.data(), json.size()), 64,
                     find_table("studies")->columns, key_tag, "test object");
}

TEST(DicomJson, ReadsValuesAsWrittenIntoNamedMembers) {
  const ObjectMembers got = read(
      R"({"0020000D":{"vr":"UI","Value":["1.2.3"]},"00080020":{"vr":"DA","Value":["20240115"]},)"
      R"("00201208":{"vr":"IS","Value":[12]},"00080061":{"vr":"CS","Value":["CT",null,"SR"]},)"
      R"("00100010":{"vr":"PN","Value":[{"Alphabetic":"Yamada^Tarou","Ideographic":"山田^太郎"}]}})");
  EXPECT_EQ(got.key, "1.2.3");
  EXPECT_EQ(JsonValue::parse("{" + got.members + "}"),
            JsonValue::parse(R"({"study_instance_uid":"1.2.3","study_date":"20240115",)"
                             R"("number_of_study_related_instances":12,)"
                             R"("modalities_in_study":["CT",null,"SR"],)"
                             R"("patient_name":{"alphabetic":"Yamada^Tarou",)"
                             R"("ideographic":"山田^太郎","phonetic":null}})"));
}

TEST(DicomJson, KeepsNumbersAsTheServerWroteThem) {
  const ObjectMembers got = read(R"({"00201206":{"vr":"IS","Value":[1e2]}})");
  EXPECT_EQ(got.members, R"("number_of_study_related_series":1e2)");
}

TEST(DicomJson, EmptyAttributesAreZeroLengthValuesAndUnknownTagsIgnored) {
  const ObjectMembers got =
      read(R"({"00100010":{"vr":"PN"},"00080020":{"vr":"DA","Value":[]},"7FE00010":{"vr":"OW"},)"
           R"("00080061":{"vr":"CS"},"00201206":{"vr":"IS"}})");
  EXPECT_EQ(got.members, R"("study_date":"","modalities_in_study":[])");
  EXPECT_EQ(got.key, "");
}

TEST(DicomJson, TheAlwaysColumnIsEmptyTextWhenAbsent) {
  std::string buffer = R"({"00100020":{"vr":"LO","Value":["P"]}})";
  const std::size_t size = buffer.size();
  buffer.append(64, ' ');
  const ObjectMembers got =
      read_object(std::string_view(buffer.data(), size), 64, find_table("studies")->columns,
                  0x0020000D, "test object", 0x00080020);
  EXPECT_EQ(got.members, R"("patient_id":"P","study_date":"")");
}

TEST(DicomJson, SeveralValuesOfASingleValuedAttributeAreKeptAsAnArray) {
  const ObjectMembers got = read(R"({"00100020":{"vr":"LO","Value":["A","B"]}})");
  EXPECT_EQ(got.members, R"("patient_id":["A","B"])");
}

TEST(DicomJson, BulkDataAndInlineBinaryAreKeptAsText) {
  const ObjectMembers got = read(R"({"00081030":{"vr":"LO","BulkDataURI":"http://x/bulk/1"},)"
                                 R"("00100020":{"vr":"LO","InlineBinary":"QUJD"}})");
  EXPECT_EQ(JsonValue::parse("{" + got.members + "}"),
            JsonValue::parse(R"({"study_description":{"BulkDataURI":"http://x/bulk/1"},)"
                             R"("patient_id":{"InlineBinary":"QUJD"}})"));
  // A string column holds them as JSON text.
  RecordConverter converter(table_schema(*find_table("studies")), "studies");
  RecordBatch batch;
  batch.append("{\"study_instance_uid\":\"1\"," + got.members + "}");
  ColumnBatch rows = converter.make_batch();
  ASSERT_EQ(converter.convert(batch, rows), 1u);
}

TEST(DicomJson, ANonObjectIsASourceError) {
  EXPECT_THROW(read("[1]"), SourceError);
  std::string body = "{\"a\":1}";
  body.append(64, ' ');
  EXPECT_THROW(split_objects(std::string_view(body.data(), 7), 64, "page"), SourceError);
  std::string empty(64, ' ');
  EXPECT_TRUE(split_objects(std::string_view(empty.data(), 0), 64, "page").empty());
}

TEST(DicomJson, TagsParseAndFormat) {
  EXPECT_EQ(parse_tag("0020000D"), 0x0020000Du);
  EXPECT_EQ(parse_tag("0020000d"), 0x0020000Du);
  EXPECT_EQ(parse_tag("0020000"), kNoTag);
  EXPECT_EQ(parse_tag("0020000G"), kNoTag);
  EXPECT_EQ(format_tag(0x0020000D), "(0020,000D)");
}

// ---- The paging position ------------------------------------------------------------------------

std::vector<std::string_view> views(const std::vector<std::string>& keys) {
  return {keys.begin(), keys.end()};
}

// Pages through `lists[i]` (the server's list when page i is asked for) with pages of `size`,
// returning what was delivered.
std::vector<std::string> page_through(const std::vector<std::vector<std::string>>& lists,
                                      std::int64_t size) {
  std::vector<std::string> delivered;
  ListPosition position;
  for (const std::vector<std::string>& list : lists) {
    const PageRequest request = next_request(position, size);
    std::vector<std::string> page;
    for (std::int64_t i = request.offset;
         i < request.offset + request.limit && i < static_cast<std::int64_t>(list.size()); ++i) {
      page.push_back(list[i]);
    }
    const std::vector<std::string_view> keys = views(page);
    const auto first = first_new(position, keys);
    if (!first) return {"<restart>"};
    const ListPosition before = position;
    for (std::size_t i = *first; i < page.size(); ++i) {
      advance(position, request, i, page[i]);
      if (!is_anchor(before, page[i])) delivered.push_back(page[i]);
    }
  }
  return delivered;
}

TEST(QidoPaging, FollowsInsertsAndDeletesBeforeThePosition) {
  const std::vector<std::string> a = {"a", "b", "c", "d", "e", "f", "g"};
  // Page 1 reads a, b, c; then x is stored at the front and b deleted; page 2 must go on after c.
  const std::vector<std::string> b = {"x", "a", "c", "d", "e", "f", "g"};
  // Then two more stored at the front.
  const std::vector<std::string> c = {"y", "z", "x", "a", "c", "d", "e", "f", "g"};
  EXPECT_EQ(page_through({a, b, c, c}, 3),
            (std::vector<std::string>{"a", "b", "c", "d", "e", "f", "g"}));
  // Plain offset paging over the same lists repeats e and f: the lists do shift.
  std::vector<std::string> plain;
  const std::vector<std::vector<std::string>> lists = {a, b, c, c};
  for (std::size_t page = 0; page < lists.size(); ++page) {
    for (std::size_t i = page * 3; i < page * 3 + 3 && i < lists[page].size(); ++i) {
      plain.push_back(lists[page][i]);
    }
  }
  EXPECT_EQ(plain, (std::vector<std::string>{"a", "b", "c", "d", "e", "f", "e", "f", "g"}));
}

TEST(QidoPaging, FollowsADeletedAnchor) {
  const std::vector<std::string> a = {"a", "b", "c", "d", "e"};
  const std::vector<std::string> b = {"a", "b", "d", "e"};  // c, the last one delivered, deleted
  EXPECT_EQ(page_through({a, b, b}, 3), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
}

TEST(QidoPaging, AListThatMovedPastEveryAnchorRestarts) {
  std::vector<std::string> a;
  for (int i = 0; i < 20; ++i) a.push_back("r" + std::to_string(i));
  std::vector<std::string> b(a.begin() + 12, a.end());  // the first 12 deleted
  EXPECT_EQ(page_through({a, b}, 10), std::vector<std::string>{"<restart>"});
}

TEST(QidoPaging, RequestsTheAnchorsAgain) {
  ListPosition position{.consumed = 20, .anchors = {"s", "t"}};
  const PageRequest request = next_request(position, 10);
  EXPECT_EQ(request.offset, 18);
  EXPECT_EQ(request.limit, 12);
  for (int i = 0; i < 10; ++i) advance(position, request, 2 + i, "n" + std::to_string(i));
  EXPECT_EQ(position.consumed, 30);
  EXPECT_EQ(position.anchors.size(), kAnchors);
  EXPECT_EQ(position.anchors.back(), "n9");
}

// ---- Against Orthanc ----------------------------------------------------------------------------

struct Read {
  std::vector<JsonValue> records;
  std::vector<std::string> sources;  // dicom_json as the raw record column gets it
  std::vector<Offset> ends;
  Offset final;
  int calls = 0;
};

Read read_all(LakeflowConnect& connector, const std::string& table, Offset start = {},
              const Options& options = {}) {
  Read out;
  RecordConverter converter(connector.get_table_schema(table, options), table);
  for (; out.calls < 10000; ++out.calls) {
    ReadResult result = connector.read_table(table, start, options);
    RecordBatch batch;
    while (result.records.next(batch)) {
      ColumnBatch columns = converter.make_batch();
      converter.convert(batch, columns);  // throws when a record does not fit the schema
      for (std::size_t i = 0; i < batch.size(); ++i) {
        out.records.push_back(JsonValue::parse(batch[i]));
        out.sources.emplace_back(batch.source(i));
      }
    }
    if (result.end == start) break;
    out.ends.push_back(result.end);
    start = result.end;
  }
  out.final = start;
  return out;
}

std::map<std::string, JsonValue> by_key(const Read& read, const std::string& key) {
  std::map<std::string, JsonValue> out;
  for (const JsonValue& record : read.records) {
    out.emplace(record.find(key)->as_string(), record);
  }
  return out;
}

std::multiset<std::string> keys_of(const Read& read, const std::string& key) {
  std::multiset<std::string> out;
  for (const JsonValue& record : read.records) out.insert(record.find(key)->as_string());
  return out;
}

std::unique_ptr<LakeflowConnect> connect(const OrthancServer& server, Options options = {}) {
  options.set("base_url", server.dicomweb_url());
  return ConnectorRegistry::instance().create("dicomweb", options);
}

class SampleServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = std::make_unique<OrthancServer>(OrthancServer::start());
    test_support::dicom::store_samples(*server_);
  }
  static void TearDownTestSuite() { server_.reset(); }
  static std::unique_ptr<OrthancServer> server_;
};
std::unique_ptr<OrthancServer> SampleServer::server_;

TEST_F(SampleServer, StudiesCarryTheirAttributesTyped) {
  auto connector = connect(*server_, Options{{"connection_name", "pacs-1"}});
  const Read studies = read_all(*connector, "studies");
  const auto rows = by_key(studies, "study_instance_uid");
  ASSERT_EQ(rows.size(), 3u);
  const JsonValue& ct = rows.at(kStudy1);
  EXPECT_EQ(ct.find("study_date")->as_string(), "20240115");
  EXPECT_EQ(ct.find("study_time")->as_string(), "101530.123");
  EXPECT_EQ(ct.find("accession_number")->as_string(), "ACC-0001");
  EXPECT_EQ(ct.find("study_description")->as_string(), "CT Head without contrast");
  EXPECT_EQ(*ct.find("patient_name"),
            JsonValue::parse(R"({"alphabetic":"Yamada^Tarou","ideographic":"山田^太郎",)"
                             R"("phonetic":"やまだ^たろう"})"));
  EXPECT_EQ(ct.find("referring_physician_name")->find("alphabetic")->as_string(),
            "Welby^Marcus^^Dr");
  std::vector<std::string> modalities;
  for (const JsonValue& m : ct.find("modalities_in_study")->as_array()) {
    modalities.push_back(m.as_string());
  }
  std::sort(modalities.begin(), modalities.end());
  EXPECT_EQ(modalities, (std::vector<std::string>{"CT", "SR"}));
  EXPECT_EQ(ct.find("number_of_study_related_series")->as_int(), 2);
  EXPECT_EQ(ct.find("number_of_study_related_instances")->as_int(), 2);
  EXPECT_EQ(ct.find("connection_name")->as_string(), "pacs-1");
  EXPECT_NE(ct.find("retrieve_url")->as_string().find(kStudy1), std::string::npos);

  const JsonValue& mr = rows.at(kStudy2);
  EXPECT_EQ(*mr.find("patient_name"),
            JsonValue::parse(R"({"alphabetic":"Wang^XiaoDong","ideographic":"王^小東",)"
                             R"("phonetic":""})"));  // Orthanc sends the empty third group as ""
  // The undated study with an empty patient name: read, its empty attributes null.
  const JsonValue& cr = rows.at(kStudy3);
  EXPECT_EQ(cr.find("study_date")->as_string(), "");  // present, zero-length
  EXPECT_EQ(cr.find("accession_number")->as_string(), "");
  EXPECT_EQ(cr.find("patient_name"), nullptr);
  EXPECT_EQ(cr.find("patient_id")->as_string(), "UNKNOWN-7");
  // A StudyDate range never matches a study without a date: only the first sync reads it.
  const Read ranged = read_all(*connector, "studies", {}, Options{{"starting_date", "19000101"}});
  EXPECT_EQ(keys_of(ranged, "study_instance_uid"), (std::multiset<std::string>{kStudy1, kStudy2}));
  // dicom_json is the object exactly as the server sent it.
  for (const std::string& source : studies.sources) {
    const JsonValue object = JsonValue::parse(source);
    EXPECT_NE(object.find("0020000D"), nullptr) << source;
    EXPECT_EQ(object.find("study_instance_uid"), nullptr) << source;
  }
}

TEST_F(SampleServer, SeriesAndInstancesCarryTheirAttributesTyped) {
  auto connector = connect(*server_);
  EXPECT_EQ(connector->get_table_schema("studies", {}).find_path("connection_name")->name,
            "connection_name");
  const auto series = by_key(read_all(*connector, "series"), "series_instance_uid");
  ASSERT_EQ(series.size(), 4u);
  const JsonValue& report = series.at(std::string(kStudy1) + ".2");
  EXPECT_EQ(report.find("modality")->as_string(), "SR");
  EXPECT_EQ(report.find("series_number")->as_int(), 2);
  EXPECT_EQ(report.find("study_instance_uid")->as_string(), kStudy1);
  EXPECT_EQ(report.find("study_date")->as_string(), "20240115");
  const JsonValue& knee = series.at(std::string(kStudy2) + ".1");
  EXPECT_EQ(knee.find("body_part_examined")->as_string(), "KNEE");
  EXPECT_EQ(knee.find("number_of_series_related_instances")->as_int(), 2);

  const auto instances = by_key(read_all(*connector, "instances"), "sop_instance_uid");
  ASSERT_EQ(instances.size(), 5u);
  const JsonValue& ct = instances.at(std::string(kStudy1) + ".1.1.1");
  EXPECT_EQ(ct.find("sop_class_uid")->as_string(), "1.2.840.10008.5.1.4.1.1.2");
  EXPECT_EQ(ct.find("rows")->as_int(), 2);
  EXPECT_EQ(ct.find("instance_number")->as_int(), 1);
  EXPECT_EQ(ct.find("content_time")->as_string(), "101605.5");
  EXPECT_EQ(ct.find("image_type")->dump(), R"(["ORIGINAL","PRIMARY","AXIAL"])");
  EXPECT_EQ(ct.find("pixel_spacing")->dump(), "[0.488281,0.488281]");
  EXPECT_EQ(ct.find("slice_thickness")->as_double(), 5.0);
  const JsonValue& mr = instances.at(std::string(kStudy2) + ".1.2");
  EXPECT_EQ(mr.find("number_of_frames")->as_int(), 2);
  EXPECT_EQ(mr.find("instance_number")->as_int(), 2);
  EXPECT_EQ(mr.find("series_instance_uid")->as_string(), std::string(kStudy2) + ".1");
}

TEST_F(SampleServer, InstanceMetadataTypesTheImageAttributesOfEveryInstance) {
  auto connector = connect(*server_);
  const Read all = read_all(*connector, "instance_metadata");
  const auto rows = by_key(all, "sop_instance_uid");
  ASSERT_EQ(rows.size(), 5u);
  const JsonValue& ct = rows.at(std::string(kStudy1) + ".1.1.1");
  EXPECT_EQ(ct.find("manufacturer")->as_string(), "LAKEFLOW TEST");
  EXPECT_EQ(ct.find("patient_age")->as_string(), "054Y");
  EXPECT_EQ(ct.find("patient_name")->find("phonetic")->as_string(), "やまだ^たろう");
  EXPECT_EQ(ct.find("image_position_patient")->dump(), "[-125,-125,10.5]");
  EXPECT_EQ(ct.find("image_orientation_patient")->dump(), "[1,0,0,0,1,0]");
  EXPECT_EQ(ct.find("window_width")->dump(), "[80,350]");
  EXPECT_EQ(ct.find("bits_stored")->as_int(), 12);
  EXPECT_EQ(ct.find("photometric_interpretation")->as_string(), "MONOCHROME2");
  // Pixel data is a bulk data reference, kept as its JSON text.
  EXPECT_NE(ct.find("pixel_data")->find("BulkDataURI"), nullptr) << ct.dump();
  // The SR has no pixel data and no image attributes.
  const JsonValue& report = rows.at(std::string(kStudy1) + ".2.1");
  EXPECT_EQ(report.find("rows"), nullptr);
  EXPECT_EQ(report.find("modality")->as_string(), "SR");
  // One row per call: the read stops inside the two-instance MR series and resumes after the
  // instance it delivered, every instance exactly once.
  auto again = connect(*server_);
  const Read one_by_one =
      read_all(*again, "instance_metadata", {}, Options{{"max_records_per_batch", "1"}});
  EXPECT_EQ(keys_of(one_by_one, "sop_instance_uid"), keys_of(all, "sop_instance_uid"));
  bool inside_series = false;
  for (const Offset& end : one_by_one.ends)
    inside_series |= end.to_json().find("after") != std::string::npos;
  EXPECT_TRUE(inside_series);
  // Narrowed by the series search.
  const Read mr = read_all(*again, "instance_metadata", {},
                           Options{{"series_qido_filters", R"({"Modality": "MR"})"}});
  EXPECT_EQ(mr.records.size(), 2u);
}

TEST_F(SampleServer, AQidoFilterNarrowsTheSearch) {
  auto connector = connect(*server_);
  const Read mr = read_all(*connector, "studies", {},
                           Options{{"study_qido_filters", R"({"ModalitiesInStudy": "MR"})"}});
  EXPECT_EQ(keys_of(mr, "study_instance_uid"), std::multiset<std::string>{kStudy2});
  const Read ct_series = read_all(*connector, "series", {},
                                  Options{{"series_qido_filters", R"({"Modality": ["CT"]})"}});
  EXPECT_EQ(keys_of(ct_series, "series_instance_uid"),
            std::multiset<std::string>{std::string(kStudy1) + ".1"});
}

TEST_F(SampleServer, BadInputIsATypedErrorNamingWhatToFix) {
  auto connector = connect(*server_);
  const auto config_error = [&](const Options& options, std::string_view expected) {
    try {
      read_all(*connector, "studies", {}, options);
      ADD_FAILURE() << "no error for " << expected;
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
    }
  };
  config_error(Options{{"page_size", "0"}}, "page_size");
  config_error(Options{{"starting_date", "2024-01-01"}}, "YYYYMMDD");
  config_error(Options{{"starting_date", "20240230"}}, "YYYYMMDD");
  config_error(Options{{"study_qido_filters", R"({"limit": "5"})"}}, "manages");
  config_error(Options{{"study_qido_filters", R"({"StudyDate": "2024"})"}}, "manages");
  config_error(Options{{"study_qido_filters", "[1]"}}, "JSON object");
  config_error(Options{{"fetch_dicom_files", "true"}}, "downloads no DICOM files");
  config_error(Options{{"no_such_option", "1"}}, "no_such_option");
  EXPECT_THROW(connector->read_table("patients", {}, {}), UnknownTableError);
  EXPECT_THROW(connector->read_table("studies", Offset::parse(R"({"cursor": 1})"), {}),
               ConfigError);
  EXPECT_THROW(
      connector->read_table("studies", Offset::parse(R"({"through": "x", "run": "y"})"), {}),
      ConfigError);
  // Upstream's tuning options are accepted.
  read_all(*connector, "studies", {},
           Options{{"window_days", "30"}, {"num_partitions", "4"}, {"fetch_metadata", "false"}});

  const auto construct_error = [&](Options options, std::string_view expected) {
    try {
      ConnectorRegistry::instance().create("dicomweb", options);
      ADD_FAILURE() << "no error for " << expected;
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
      EXPECT_EQ(std::string(error.what()).find("hunter22"), std::string::npos) << error.what();
    }
  };
  construct_error(Options{}, "base_url");
  construct_error(Options{{"base_url", "ftp://pacs/dicom-web"}}, "not an http(s) URL");
  construct_error(Options{{"base_url", "http://u:hunter22@127.0.0.1:1/dicom-web"}},
                  "holds credentials");
  construct_error(Options{{"base_url", "ftp://u:hunter22@pacs/dicom-web"}}, "holds credentials");
  construct_error(Options{{"base_url", server_->rest_url() + "/no-dicom-web"}}, "HTTP 404");
  construct_error(Options{{"base_url", server_->rest_url()}, {"username", "u"}}, "password");
  construct_error(Options{{"base_url", server_->rest_url()},
                          {"username", "u"},
                          {"password", "p1p1p1"},
                          {"token", "t1t1t1"}},
                  "not both");
  // Nothing listens there: the source failed (retried first, so keep the budget small).
  Options unreachable{{"base_url", "http://127.0.0.1:1/dicom-web"}, {"http.max_attempts", "1"}};
  EXPECT_THROW(ConnectorRegistry::instance().create("dicomweb", unreachable), SourceError);
}

// Reads studies in calls of 5 records from pages of 4 while, between calls, studies are stored
// (dated today, so they sort anywhere in Orthanc's order) and studies already read are deleted:
// every study that was there from the start and not deleted is read exactly once, with no restart;
// the studies stored during the pass are read by it or by the next sync.
TEST(Paging, StoresAndDeletesDuringAReadNeitherSkipNorRepeat) {
  const OrthancServer server = OrthancServer::start();
  std::set<std::string> before;
  for (int n = 1; n <= 40; ++n) {
    server.store(generated_study(n, "20240101"));
    before.insert(generated_study_uid(n));
  }
  auto connector = connect(server);
  const Options options{{"page_size", "4"}, {"max_records_per_batch", "5"}};
  std::multiset<std::string> delivered;
  std::set<std::string> stored_during;
  std::set<std::string> deleted;
  Offset start;
  int next = 100;
  for (int call = 0; call < 1000; ++call) {
    ReadResult result = connector->read_table("studies", start, options);
    EXPECT_TRUE(result.notes.empty()) << result.notes.front();
    RecordBatch batch;
    std::vector<std::string> got;
    while (result.records.next(batch)) {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        got.push_back(JsonValue::parse(batch[i]).find("study_instance_uid")->as_string());
      }
    }
    EXPECT_LE(got.size(), 5u);
    delivered.insert(got.begin(), got.end());
    if (result.end == start) break;
    start = result.end;
    // Between calls: three new studies, and the first study of this call deleted.
    for (int i = 0; i < 3; ++i) {
      server.store(generated_study(next, test_support::dicom::today()));
      stored_during.insert(generated_study_uid(next++));
    }
    if (!got.empty() && before.contains(got.front()) && call % 2 == 0) {
      server.delete_study(got.front());
      deleted.insert(got.front());
    }
  }
  for (const std::string& uid : before) {
    EXPECT_EQ(delivered.count(uid), 1u) << uid;
  }
  EXPECT_FALSE(deleted.empty());
  // The next sync (a new connector: the next run) reads what this pass did not.
  auto next_run = connect(server);
  const Read later = read_all(*next_run, "studies", start, options);
  for (const std::string& uid : stored_during) {
    EXPECT_GE(delivered.count(uid) + keys_of(later, "study_instance_uid").count(uid), 1u) << uid;
  }
  for (const std::string& uid : keys_of(later, "study_instance_uid")) {
    EXPECT_TRUE(stored_during.contains(uid)) << uid << " is not dated today";
  }
}

TEST(Incremental, ASyncReadsFromThePreviousSyncsDateMinusTheLookback) {
  const OrthancServer server = OrthancServer::start();
  server.store(generated_study(1, "20230101"));
  server.store(generated_study(2, "20240101"));
  auto first_run = connect(server);
  const Read first = read_all(*first_run, "studies");
  EXPECT_EQ(first.records.size(), 2u);
  EXPECT_EQ(first.final.find("through")->as_string(), test_support::dicom::today());
  // The same run (connector instance) is done: reading from its end offset returns it unchanged.
  const ReadResult again = first_run->read_table("studies", first.final, {});
  EXPECT_EQ(again.end, first.final);

  server.store(generated_study(3, test_support::dicom::today()));
  server.store(generated_study(4, "20240102"));  // late, and dated before the lookback: not read
  auto second_run = connect(server);
  const Read second = read_all(*second_run, "studies", first.final);
  EXPECT_EQ(keys_of(second, "study_instance_uid"),
            std::multiset<std::string>{generated_study_uid(3)});

  // starting_date bounds the first sync; lookback_days reaches further back in later ones.
  auto bounded = connect(server);
  const Read from_2024 = read_all(*bounded, "studies", {}, Options{{"starting_date", "20240101"}});
  EXPECT_EQ(keys_of(from_2024, "study_instance_uid"),
            (std::multiset<std::string>{generated_study_uid(2), generated_study_uid(3),
                                        generated_study_uid(4)}));
  auto third_run = connect(server);
  const Read far_back =
      read_all(*third_run, "instances", first.final, Options{{"lookback_days", "36500"}});
  EXPECT_EQ(keys_of(far_back, "sop_instance_uid").size(), 4u);
  EXPECT_EQ(keys_of(far_back, "sop_instance_uid").count(generated_instance_uid(4)), 1u);
}

TEST(Auth, BasicAuthenticationWithOrthancsRegisteredUsers) {
  const OrthancServer server =
      OrthancServer::start(OrthancOptions{.username = "reader", .password = "pw-Basic-88"});
  server.store(generated_study(1, "20240101"));
  auto connector = connect(server, Options{{"username", "reader"}, {"password", "pw-Basic-88"}});
  EXPECT_EQ(read_all(*connector, "studies").records.size(), 1u);
  for (const Options& options :
       {Options{{"username", "reader"}, {"password", "wrong-Basic-1234"}}, Options{}}) {
    try {
      connect(server, options);
      ADD_FAILURE() << "no error";
    } catch (const ConfigError& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("HTTP 401"), std::string::npos) << message;
      EXPECT_EQ(message.find("wrong-Basic-1234"), std::string::npos) << message;
      EXPECT_EQ(message.find("pw-Basic-88"), std::string::npos) << message;
    }
  }
}

// Orthanc has no bearer authentication; the test server's Lua filter refuses every request
// without the exact header (HTTP 403), so a read proves the connector sends it.
TEST(Auth, BearerTokenIsSentOnEveryRequest) {
  const OrthancServer server = OrthancServer::start(OrthancOptions{.bearer_token = "tok-Bearer1"});
  server.store(generated_study(1, "20240101"));
  server.store(generated_study(2, "20240101"));
  auto connector = connect(server, Options{{"token", "tok-Bearer1"}});
  const Read read = read_all(*connector, "studies", {}, Options{{"page_size", "1"}});
  EXPECT_EQ(read.records.size(), 2u);
  for (const Offset& end : read.ends) {
    EXPECT_EQ(end.to_json().find("tok-Bearer"), std::string::npos);
  }
  try {
    connect(server, Options{{"token", "tok-Wrong00"}});
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("HTTP 403"), std::string::npos) << message;
    EXPECT_NE(message.find("token"), std::string::npos) << message;
    EXPECT_EQ(message.find("tok-Wrong00"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace lakeflow::dicomweb
