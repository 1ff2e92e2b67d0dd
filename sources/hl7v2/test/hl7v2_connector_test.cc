// The hl7v2 connector on real files: the published sample messages (test/messages/) and generated
// edge cases, written the ways files arrive (CR, LF, CRLF, batches, MLLP frames); reads that resume
// at their offsets; malformed text set aside with its reason; every record converting to its
// table's schema.
#include "hl7v2_connector.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "columnar/record_converter.h"
#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "lakeflow/testing/temp_dir.h"

namespace lakeflow::hl7v2 {
namespace {

namespace fs = std::filesystem;

std::string sample(const std::string& name) {
  std::ifstream in(fs::path(LAKEFLOW_SOURCE_DIR) / "test" / "messages" / name, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `text` with every line end replaced by `eol`.
std::string with_line_ends(const std::string& text, const std::string& eol) {
  std::string out;
  for (const char c : text) {
    if (c == '\n') {
      out += eol;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void expect_json(const JsonValue* got, std::string_view expected) {
  ASSERT_NE(got, nullptr) << expected;
  EXPECT_EQ(got->dump(), JsonValue::parse(expected).dump());
}

class Hl7v2Test : public ::testing::Test {
 protected:
  fs::path write(const std::string& name, const std::string& text, bool append = false) const {
    const fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc)) << text;
    return path;
  }

  std::unique_ptr<LakeflowConnect> connect(Options options = {}) const {
    if (!options.find("path") && !options.find("volume_path")) {
      options = options.merged_with(Options{{"path", dir_.string()}});
    }
    return ConnectorRegistry::instance().create("hl7v2", options);
  }

  struct Read {
    std::vector<JsonValue> records;
    std::vector<Offset> ends;
    Offset final;
  };
  // Reads `table` from `start` until the offset stops changing; every record must convert to the
  // table's schema.
  static Read read_all(LakeflowConnect& connector, const std::string& table, Offset start = {},
                       const Options& options = {}) {
    Read out;
    RecordConverter converter(connector.get_table_schema(table, options), table);
    for (int call = 0; call < 10000; ++call) {
      ReadResult result = connector.read_table(table, start, options);
      RecordBatch batch;
      while (result.records.next(batch)) {
        ColumnBatch columns = converter.make_batch();
        converter.convert(batch, columns);
        for (std::size_t i = 0; i < batch.size(); ++i) {
          out.records.push_back(JsonValue::parse(batch[i]));
        }
      }
      if (result.end == start) break;
      out.ends.push_back(result.end);
      start = result.end;
    }
    out.final = start;
    return out;
  }

  static std::vector<std::string> strings(const std::vector<JsonValue>& records,
                                          std::string_view key) {
    std::vector<std::string> out;
    for (const JsonValue& record : records) {
      const JsonValue* value = record.find(key);
      out.push_back(value == nullptr     ? "<null>"
                    : value->is_string() ? value->as_string()
                                         : value->dump());
    }
    return out;
  }

  files::TempDir temp_{"lakeflow_hl7v2_test"};
  const fs::path dir_ = temp_.path();
};

TEST_F(Hl7v2Test, ListsMessagesMalformedAndOneTablePerSegment) {
  const auto tables = connect()->list_tables();
  ASSERT_GE(tables.size(), 25u);
  EXPECT_EQ(tables[0], "messages");
  EXPECT_EQ(tables[1], "malformed_messages");
  for (const char* table : {"msh", "pid", "pv1", "obr", "obx", "nte", "spm", "txa", "iam"}) {
    EXPECT_NE(std::find(tables.begin(), tables.end(), table), tables.end()) << table;
  }
  const auto with_z = connect(Options{{"segments", "zpd, ZPV"}})->list_tables();
  EXPECT_EQ(with_z.back(), "zpv");
  EXPECT_EQ(with_z[with_z.size() - 2], "zpd");
}

TEST_F(Hl7v2Test, ReadsThePublishedSamplesWhateverTheLineEnds) {
  write("1.hl7", with_line_ends(sample("adt_a01_good_health.hl7"), "\r"));
  write("2.hl7", with_line_ends(sample("adt_a01_wikipedia.hl7"), "\r\n"));
  write("3.hl7", sample("oru_r01_glucose.hl7"));
  write("4.hl7", with_line_ends(sample("ack_protogen.hl7"), "\r"));
  auto connector = connect();
  const Read messages = read_all(*connector, "messages");
  EXPECT_EQ(strings(messages.records, "message_control_id"),
            (std::vector<std::string>{"MSG00001", "01052901", "CNTRL-3456", "HLA-B27"}));
  EXPECT_EQ(strings(messages.records, "message_timestamp"),
            (std::vector<std::string>{"<null>", "2006-05-29T09:01:31-05:00", "<null>", "<null>"}));
  EXPECT_EQ(strings(messages.records, "hl7_version"),
            (std::vector<std::string>{"2.8", "2.5", "2.4", "2.1"}));
  EXPECT_EQ(messages.final.to_json(),
            fmt::format(R"({{"file":"4.hl7","position":{}}})", fs::file_size(dir_ / "4.hl7")));

  const Read pid = read_all(*connector, "pid");
  ASSERT_EQ(pid.records.size(), 3u);
  const JsonValue& wikipedia = pid.records[1];
  expect_json(wikipedia.find("patient_name"),
              R"([{"family_name":{"surname":"KLEINSAMPLE"},"given_name":"BARRY",)"
              R"("second_and_further_given_names":"Q","suffix":"JR"}])");
  EXPECT_EQ(wikipedia.find("patient_address")->as_array().size(), 2u);
  expect_json(wikipedia.find("patient_address")->as_array()[1].find("street_address"),
              R"({"street_or_mailing_address":"NICKELL’S PICKLES"})");
  EXPECT_EQ(wikipedia.find("segment_index")->as_int(), 3);

  const Read msa = read_all(*connect(Options{{"segments", "MSA,ERR"}}), "msa");
  ASSERT_EQ(msa.records.size(), 1u);
  expect_json(msa.records[0].find("field_3"),
              R"([[["Hello World: this is \\S\\: `^' \u0001\u0002\u0003\r\n0123"]]])");
  const Read err = read_all(*connect(Options{{"segments", "ERR"}}), "err");
  EXPECT_EQ(err.records[0].find("field_1")->as_array().size(), 14u);
}

TEST_F(Hl7v2Test, ReadsBatchesAndMllpFramesAsSeparateMessages) {
  const std::string generated = sample("generated_segments.hl7");
  write("a_batch.hl7", "FHS|^~\\&|SEND|FAC\rBHS|^~\\&|SEND|FAC\r" +
                           with_line_ends(generated, "\r") + "BTS|7\rFTS|1\r");
  std::string framed;
  for (const char* name : {"adt_a01_wikipedia.hl7", "oru_r01_glucose.hl7"}) {
    std::string text = with_line_ends(sample(name), "\r");
    framed += "\x0b" + text + "\x1c\r";
  }
  write("b_mllp.log", framed);
  auto connector = connect();
  const Read messages = read_all(*connector, "messages");
  EXPECT_EQ(messages.records.size(), 9u);
  EXPECT_TRUE(read_all(*connector, "malformed_messages").records.empty());
  // Every defined segment type appears in the generated messages.
  for (const std::string& table : connector->list_tables()) {
    if (table == "malformed_messages") continue;
    EXPECT_FALSE(read_all(*connector, table).records.empty()) << table;
  }
  const Read obx = read_all(*connector, "obx");
  const JsonValue& cwe_value = obx.records[1];
  EXPECT_EQ(cwe_value.find("message_control_id")->as_string(), "GEN-R01-0002");
  expect_json(cwe_value.find("observation_value"),
              R"([[["L"],["Lipemic"],["HL70078"]],[["M"],["Moderate"],["L"]]])");
  expect_json(obx.records[2].find("observation_value"),
              R"([[["Fasting & resting: values in range ~ see note"]],[["second line"]]])");
}

TEST_F(Hl7v2Test, MalformedTextIsSetAsideWithItsReasonAndTheRestIsRead) {
  write("1.hl7",
        "garbage before any message\n"
        "MSH|^^~\\&|A||||||ADT^A01|BAD-1|P|2.5\n"
        "MSH|^~\\&|A||||||ADT^A01|OK-1|P|2.5\nPID|1||X\n"
        "MSH|^~\\&|A||||||ADT^A01|BAD-2|P|2.5\npid|1\n"
        "MSH|^~\\&|A||||||ADT^A01||P|2.5\n"
        "MSH|^~\\&|A||||||ADT^A01|OK-2|P|2.5\nPID|2||Y\n");
  auto connector = connect();
  const Read malformed = read_all(*connector, "malformed_messages");
  ASSERT_EQ(malformed.records.size(), 4u);
  EXPECT_NE(strings(malformed.records, "reason")[0].find("outside any message"), std::string::npos);
  EXPECT_NE(strings(malformed.records, "reason")[1].find("MSH-2"), std::string::npos);
  EXPECT_NE(strings(malformed.records, "reason")[2].find("segment 2"), std::string::npos);
  EXPECT_NE(strings(malformed.records, "reason")[3].find("MSH-10"), std::string::npos);
  EXPECT_EQ(strings(malformed.records, "message_position")[1], "27");
  EXPECT_EQ(strings(read_all(*connector, "pid").records, "message_control_id"),
            (std::vector<std::string>{"OK-1", "OK-2"}));
}

TEST_F(Hl7v2Test, ABatchLimitCanEndInsideAMessage) {
  write("1.hl7", with_line_ends(sample("generated_segments.hl7"), "\r"));
  auto connector = connect();
  const Read whole = read_all(*connector, "obx");
  const Read small = read_all(*connector, "obx", {}, Options{{"max_records_per_batch", "1"}});
  ASSERT_EQ(whole.records.size(), 4u);
  EXPECT_EQ(small.records, whole.records);
  bool inside = false;
  for (const Offset& end : small.ends) inside |= end.find("segment") != nullptr;
  EXPECT_TRUE(inside);
  EXPECT_EQ(small.final, whole.final);
}

TEST_F(Hl7v2Test, AnyBufferSizeAndBatchLimitDeliverEveryRecordOnce) {
  write("1_batch.hl7", "FHS|^~\\&|A\r\nBHS|^~\\&|A\r\n" +
                           with_line_ends(sample("generated_segments.hl7"), "\r\n") +
                           "BTS|7\r\nFTS|1\r\n");
  std::string framed;
  for (const char* name : {"adt_a01_wikipedia.hl7", "oru_r01_glucose.hl7", "ack_protogen.hl7"}) {
    framed += "\x0b" + with_line_ends(sample(name), "\r") + "\x1c\r";
  }
  write("2_mllp.log", framed);
  write("3_edge.hl7", sample("generated_edge_cases.hl7"));
  auto connector = connect(Options{{"segments", "ZPD"}});
  std::mt19937 random(7);  // fixed seed: the same cases every run
  for (const char* table : {"messages", "obx", "pid", "zpd", "malformed_messages"}) {
    const Read whole = read_all(*connector, table);
    ASSERT_FALSE(whole.records.empty()) << table;
    for (int round = 0; round < 6; ++round) {
      const std::string buffer = std::to_string(1 + random() % 700);
      const std::string limit = std::to_string(1 + random() % 4);
      const Read small =
          read_all(*connector, table, {},
                   Options{{"read_buffer_bytes", buffer}, {"max_records_per_batch", limit}});
      EXPECT_EQ(small.records, whole.records)
          << table << " buffer " << buffer << " limit " << limit;
      EXPECT_EQ(small.final, whole.final) << table;
    }
  }
  EXPECT_THROW(connector->get_table_schema("pid", Options{{"read_buffer_bytes", "0"}}),
               ConfigError);
}

TEST_F(Hl7v2Test, ResumesAfterNewMessagesAndNewFiles) {
  write("2024-01-01.hl7", with_line_ends(sample("adt_a01_good_health.hl7"), "\r"));
  const Read first = read_all(*connect(), "messages");
  ASSERT_EQ(first.records.size(), 1u);
  // The file grows by a message, and a new file arrives.
  write("2024-01-01.hl7", with_line_ends(sample("oru_r01_glucose.hl7"), "\r"), /*append=*/true);
  write("2024-01-02.hl7", sample("adt_a01_wikipedia.hl7"));
  const Read next = read_all(*connect(), "messages", first.final);
  EXPECT_EQ(strings(next.records, "message_control_id"),
            (std::vector<std::string>{"CNTRL-3456", "01052901"}));
  // A file read before may be moved away: the files after it are still read once.
  fs::remove(dir_ / "2024-01-01.hl7");
  write("2024-01-03.hl7", sample("ack_protogen.hl7"));
  const Read after_move = read_all(*connect(), "messages", next.final);
  EXPECT_EQ(strings(after_move.records, "message_control_id"),
            (std::vector<std::string>{"HLA-B27"}));
  EXPECT_TRUE(read_all(*connect(), "messages", after_move.final).records.empty());
}

TEST_F(Hl7v2Test, AnUnclosedFrameWaitsInTheLastFileAndIsMalformedBeforeAnother) {
  const std::string message = with_line_ends(sample("oru_r01_glucose.hl7"), "\r");
  write("1.log", "\x0b" + message + "\x1c\r\x0b" + message);
  const Read waiting = read_all(*connect(), "messages");
  EXPECT_EQ(waiting.records.size(), 1u);
  EXPECT_TRUE(read_all(*connect(), "malformed_messages").records.empty());
  write("1.log", "\x1c\r", /*append=*/true);
  EXPECT_EQ(read_all(*connect(), "messages", waiting.final).records.size(), 1u);

  write("2.log", "\x0b" + message);
  write("3.log", "\x0b" + message + "\x1c\r");
  EXPECT_EQ(read_all(*connect(), "malformed_messages").records.size(), 1u);
}

TEST_F(Hl7v2Test, SegmentTypeAndZSegments) {
  write("1.hl7", "MSH|^~\\&|A||||||ADT^A01|Z-1|P|2.5\rZPD|1|x^y~z\rZPD|2\r");
  auto connector = connect(Options{{"segments", "ZPD"}});
  const Read zpd = read_all(*connector, "zpd");
  ASSERT_EQ(zpd.records.size(), 2u);
  expect_json(zpd.records[0].find("field_2"), R"([[["x"],["y"]],[["z"]]])");
  const Options other{{"segment_type", "MSH"}};
  EXPECT_EQ(read_all(*connector, "zpd", {}, other).records.size(), 1u);
  EXPECT_THROW(connector->get_table_schema("zpd", Options{{"segment_type", "Z1"}}), ConfigError);
}

TEST_F(Hl7v2Test, FileGlobRecursionAndDotFiles) {
  const std::string message = sample("oru_r01_glucose.hl7");
  write("a.hl7", message);
  write("a.txt", message);
  write(".writing.hl7", message);
  write("sub/b.hl7", message);
  EXPECT_EQ(read_all(*connect(), "messages").records.size(), 2u);
  EXPECT_EQ(read_all(*connect(Options{{"file_glob", "*.hl7"}}), "messages").records.size(), 1u);
  const Read recursive =
      read_all(*connect(Options{{"file_glob", "*.hl7"}, {"recursive", "true"}}), "messages");
  EXPECT_EQ(strings(recursive.records, "source_file"),
            (std::vector<std::string>{"a.hl7", "sub/b.hl7"}));
  EXPECT_EQ(
      read_all(*connect(Options{{"path", (dir_ / "*.txt").string()}}), "messages").records.size(),
      1u);
  EXPECT_EQ(read_all(*connect(Options{{"volume_path", dir_.string()}}), "messages").records.size(),
            2u);
}

TEST_F(Hl7v2Test, BadOptionsAreConfigErrors) {
  EXPECT_THROW(connect(Options{{"path", (dir_ / "missing").string()}}), ConfigError);
  EXPECT_THROW(connect(Options{{"path", dir_.string()}, {"volume_path", dir_.string()}}),
               ConfigError);
  EXPECT_THROW(connect(Options{{"recursive", "yes"}}), ConfigError);
  EXPECT_THROW(connect(Options{{"segments", "TOOLONG"}}), ConfigError);
  EXPECT_THROW(connect(Options{{"source_type", "s3"}}), ConfigError);
  EXPECT_THROW(ConnectorRegistry::instance().create("hl7v2", Options{}), ConfigError);
  auto connector = connect();
  EXPECT_THROW(connector->read_table("pid", Offset::parse(R"({"file":"x"})"), {}), ConfigError);
}

TEST_F(Hl7v2Test, APositionPastTheEndReadsNothingAndStaysPut) {
  write("1.hl7", sample("oru_r01_glucose.hl7"));
  const Offset past = Offset::parse(R"({"file":"1.hl7","position":99999})");
  const Read read = read_all(*connect(), "messages", past);
  EXPECT_TRUE(read.records.empty());
  EXPECT_EQ(read.final, past);
  // A newer file is still read after it.
  write("2.hl7", sample("ack_protogen.hl7"));
  EXPECT_EQ(read_all(*connect(), "messages", past).records.size(), 1u);
}

TEST_F(Hl7v2Test, AFileMovedAwayAfterListingReadsAsEmpty) {
  write("1.hl7", sample("oru_r01_glucose.hl7"));
  write("2.hl7", sample("ack_protogen.hl7"));
  auto connector = connect();
  fs::remove(dir_ / "1.hl7");
  EXPECT_EQ(strings(read_all(*connector, "messages").records, "message_control_id"),
            (std::vector<std::string>{"HLA-B27"}));
}

TEST_F(Hl7v2Test, AnEmptyDirectoryConvergesAtTheStartOffset) {
  const Read read = read_all(*connect(), "messages");
  EXPECT_TRUE(read.records.empty());
  EXPECT_TRUE(read.ends.empty());
}

TEST_F(Hl7v2Test, Latin1MessagesAreReadAsTheirCharacters) {
  write("1.hl7",
        "MSH|^~\\&|A||||||ADT^A01|L-1|P|2.5||||||8859/1\rPID|1||X||M\xDCLLER^J\xE9R\xD4ME\r");
  const Read pid = read_all(*connect(), "pid");
  expect_json(pid.records[0].find("patient_name"),
              R"([{"family_name":{"surname":"MÜLLER"},"given_name":"JéRÔME"}])");
}

}  // namespace
}  // namespace lakeflow::hl7v2
