// The ER7 parser on its own: cutting files into messages, delimiters from MSH, escapes, and the
// JSON each segment becomes.
#include "er7.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "hl7v2_model.h"
#include "lakeflow/json.h"

namespace lakeflow::hl7v2 {
namespace {

struct Cut {
  std::vector<std::string> messages;
  std::vector<std::string> envelopes;
  std::vector<std::string> problems;
  MessageSplitter::Status last = MessageSplitter::Status::kDone;
};

Cut cut(std::string_view buffer, bool at_eof = true) {
  Cut out;
  MessageSplitter splitter(buffer, at_eof);
  FileUnit unit;
  for (;;) {
    out.last = splitter.next(unit);
    if (out.last != MessageSplitter::Status::kUnit) return out;
    if (unit.kind == FileUnit::Kind::kMessage) out.messages.emplace_back(unit.text);
    if (unit.kind == FileUnit::Kind::kEnvelope) out.envelopes.emplace_back(unit.text);
    if (unit.kind == FileUnit::Kind::kStray) out.problems.push_back(unit.problem);
  }
}

std::string unescape(std::string_view raw, const Delimiters& d = {}) {
  std::string out;
  append_unescaped(raw, d, out);
  return out;
}

Message parse(std::string_view text) {
  Message message;
  const std::optional<std::string> problem = parse_message(text, message);
  EXPECT_FALSE(problem) << *problem;
  return message;
}

std::string problem_of(std::string_view text) {
  Message message;
  return parse_message(text, message).value_or("");
}

void expect_json(const JsonValue* got, std::string_view expected) {
  ASSERT_NE(got, nullptr) << expected;
  EXPECT_EQ(got->dump(), JsonValue::parse(expected).dump());
}

JsonValue segment_json(const Message& message, std::size_t index) {
  std::string out;
  append_segment_record(message, index, message_info(message, "f.hl7", 0), out);
  return JsonValue::parse(out);
}

TEST(MessageSplitter, SegmentsEndWithCrLfOrCrlf) {
  for (const std::string_view eol : {"\r", "\n", "\r\n"}) {
    const std::string text = "MSH|^~\\&|A|||||||1|P|2.5" + std::string(eol) + "PID|1" +
                             std::string(eol) + "MSH|^~\\&|B|||||||2|P|2.5" + std::string(eol);
    const Cut got = cut(text);
    ASSERT_EQ(got.messages.size(), 2u) << "terminator " << eol.size();
    EXPECT_EQ(got.messages[0], "MSH|^~\\&|A|||||||1|P|2.5" + std::string(eol) + "PID|1");
    EXPECT_EQ(got.messages[1], "MSH|^~\\&|B|||||||2|P|2.5");
  }
}

TEST(MessageSplitter, BatchEnvelopesAreNotMessages) {
  const Cut got =
      cut("FHS|^~\\&|SEND\rBHS|^~\\&|SEND\rMSH|^~\\&|A|||||||1|P|2.5\rPID|1\r"
          "MSH|^~\\&|A|||||||2|P|2.5\rBTS|2\rFTS|1\r");
  EXPECT_EQ(got.messages.size(), 2u);
  EXPECT_EQ(got.envelopes,
            (std::vector<std::string>{"FHS|^~\\&|SEND", "BHS|^~\\&|SEND", "BTS|2", "FTS|1"}));
  EXPECT_TRUE(got.problems.empty());
}

TEST(MessageSplitter, MllpFramesHoldOneMessageEach) {
  const Cut got =
      cut("\x0bMSH|^~\\&|A|||||||1|P|2.5\rPID|1\r\x1c\r\n"
          "\x0bMSH|^~\\&|A|||||||2|P|2.5\r\x1c\r");
  ASSERT_EQ(got.messages.size(), 2u);
  EXPECT_EQ(got.messages[0], "MSH|^~\\&|A|||||||1|P|2.5\rPID|1");
}

TEST(MessageSplitter, AnUnclosedFrameIsIncompleteAtTheEndOfTheFile) {
  EXPECT_EQ(cut("\x0bMSH|^~\\&|A|||||||1|P|2.5\rPID|1\r", false).last,
            MessageSplitter::Status::kNeedMore);
  const Cut got = cut("\x0bMSH|^~\\&|A|||||||1|P|2.5\rPID|1\r", true);
  ASSERT_EQ(got.problems.size(), 1u);
  EXPECT_NE(got.problems[0].find("MLLP frame"), std::string::npos);
}

TEST(MessageSplitter, TextOutsideAMessageIsStray) {
  const Cut got = cut("hello\nworld\nMSH|^~\\&|A|||||||1|P|2.5\n");
  ASSERT_EQ(got.problems.size(), 1u);
  EXPECT_EQ(got.messages.size(), 1u);
}

TEST(MessageSplitter, AMessageAtTheEndOfTheBufferNeedsMoreUnlessTheFileEndsThere) {
  EXPECT_EQ(cut("MSH|^~\\&|A|||||||1|P|2.5\rPID|1\r", false).last,
            MessageSplitter::Status::kNeedMore);
  EXPECT_EQ(cut("MSH|^~\\&|A|||||||1|P|2.5\rPID|1", true).messages.size(), 1u);
}

TEST(ParseMessage, DelimitersComeFromTheHeader) {
  const Message m = parse(
      "MSH!$%@&!APP!FAC!!!20240122080000!!ADT$A04!ALT-1!P!2.3\r"
      "PID!1!!X-9$$$AUTH$MR~Y!!O@S@BRIEN$ANNE%OBRIEN$ANN");
  EXPECT_EQ(m.delimiters.field, '!');
  EXPECT_EQ(m.delimiters.component, '$');
  EXPECT_EQ(m.delimiters.repetition, '%');
  EXPECT_EQ(m.delimiters.escape, '@');
  EXPECT_EQ(m.delimiters.subcomponent, '&');
  const JsonValue pid = segment_json(m, 1);
  expect_json(pid.find("patient_name"),
              R"([{"family_name":{"surname":"O$BRIEN"},"given_name":"ANNE"},)"
              R"({"family_name":{"surname":"OBRIEN"},"given_name":"ANN"}])");
  // `~` is data here, not a repetition separator.
  expect_json(pid.find("patient_identifier_list"),
              R"([{"id_number":"X-9","assigning_authority":{"namespace_id":"AUTH"},)"
              R"("identifier_type_code":"MR~Y"}])");
  const JsonValue msh = segment_json(m, 0);
  EXPECT_EQ(msh.find("field_separator")->as_string(), "!");
  EXPECT_EQ(msh.find("encoding_characters")->as_string(), "$%@&");
  expect_json(msh.find("message_type"), R"({"message_code":"ADT","trigger_event":"A04"})");
}

TEST(ParseMessage, AHeaderWithoutAnEscapeCharacterHasNoEscapes) {
  const Message m = parse("MSH|^~|A||||||ADT|1|P|2.3\rNTE|1||C:\\path\\F\\x");
  EXPECT_EQ(m.delimiters.escape, '\0');
  EXPECT_EQ(segment_json(m, 1).find("comment")->dump(), R"(["C:\\path\\F\\x"])");
}

TEST(ParseMessage, MalformedStructureIsReported) {
  EXPECT_NE(problem_of("PID|1").find("does not start with an MSH"), std::string::npos);
  EXPECT_NE(problem_of("MSH|^^~\\&|A|||||||1|P|2.5").find("distinct"), std::string::npos);
  EXPECT_NE(problem_of("MSH|^~\\&ab|A|||||||1|P|2.5").find("MSH-2"), std::string::npos);
  EXPECT_NE(problem_of("MSH|^~\\&|A|||||||1|P|2.5\rpid|1").find("segment 2"), std::string::npos);
  EXPECT_NE(problem_of("MSH|^~\\&|A|||||||1|P|2.5\rPID1").find("segment 2"), std::string::npos);
  EXPECT_NE(problem_of("MSH|^~\\&|A||||||ADT^A01||P|2.5").find("MSH-10"), std::string::npos);
  EXPECT_NE(problem_of("MSH|^~\\&|A|||||||1|P|2.5").find("MSH-9"), std::string::npos);
  EXPECT_NE(problem_of("MSH|^~\\&|A||||||ADT|1|P|2.5\rMSH|^~\\&|B").find("second MSH"),
            std::string::npos);
  EXPECT_EQ(problem_of("MSH|^~\\&|A||||||ADT|1|P|2.5\rZZ1|x\r\rPID"), "");
}

TEST(AppendUnescaped, ResolvesTheDelimiterEscapes) {
  EXPECT_EQ(unescape(R"(a\F\b\S\c\T\d\R\e\E\f)"), "a|b^c&d~e\\f");
  const Delimiters custom{'!', '$', '%', '@', '#'};
  EXPECT_EQ(unescape("@F@@S@@T@@R@@E@", custom), "!$#%@");
}

TEST(AppendUnescaped, HexEscapesBecomeBytes) {
  EXPECT_EQ(unescape(R"(\X0D0A\)"), "\r\n");
  EXPECT_EQ(unescape(R"(caf\XC3A9\)"), "caf\xC3\xA9");
}

TEST(AppendUnescaped, OtherSequencesAreKeptAsWritten) {
  EXPECT_EQ(unescape(R"(\H\bold\N\ \.br\ \Zcustom\ \X0\ \XZZ\ \C2842\)"),
            R"(\H\bold\N\ \.br\ \Zcustom\ \X0\ \XZZ\ \C2842\)");
  EXPECT_EQ(unescape(R"(trailing\F)"), R"(trailing\F)");
  EXPECT_EQ(unescape(R"(\\)"), R"(\\)");
}

TEST(AppendJsonText, InvalidUtf8BecomesTheReplacementCharacter) {
  std::string out;
  append_json_text(out, "a\xff\xC3\xA9\x01\"", Charset::kUtf8);
  EXPECT_EQ(out, "\"a\xEF\xBF\xBD\xC3\xA9\\u0001\\\"\"");
}

TEST(AppendJsonText, Latin1BytesAreTheirCodePoints) {
  std::string out;
  append_json_text(out, "caf\xE9", Charset::kLatin1);
  EXPECT_EQ(out, "\"caf\xC3\xA9\"");
  EXPECT_EQ(charset_of("8859/1"), Charset::kLatin1);
  EXPECT_EQ(charset_of("UNICODE UTF-8"), Charset::kUtf8);
}

TEST(DtmToIsoInstant, NeedsAnOffset) {
  EXPECT_EQ(dtm_to_iso_instant("20060529090131-0500"), "2006-05-29T09:01:31-05:00");
  EXPECT_EQ(dtm_to_iso_instant("20240115123000.25+0100"), "2024-01-15T12:30:00.25+01:00");
  EXPECT_EQ(dtm_to_iso_instant("202401+0000"), "2024-01-01T00:00:00+00:00");
  EXPECT_EQ(dtm_to_iso_instant("20060529090131"), "");
  EXPECT_EQ(dtm_to_iso_instant("20230229+0000"), "");  // not a leap year
  EXPECT_EQ(dtm_to_iso_instant("20240229+0000"), "2024-02-29T00:00:00+00:00");
  EXPECT_EQ(dtm_to_iso_instant("2024011512+05"), "");
  EXPECT_EQ(dtm_to_iso_instant("20240115250000+0000"), "");
  EXPECT_EQ(dtm_to_iso_instant("2024011512.5+0000"), "");
}

TEST(SegmentRecord, FieldsBecomeStructsArraysAndStrings) {
  const Message m = parse(
      "MSH|^~\\&|SEND^1.2.3^ISO|FAC|||20240101||ORU^R01|C1|P|2.5.1\r"
      "OBX|1|CWE|11557-6^Lipemia^LN||L^Lipemic\\T\\x~~M^Mod&erate||||||F\r"
      "ZPD|a^b&c~d||\"\"");
  const JsonValue obx = segment_json(m, 1);
  EXPECT_EQ(obx.find("message_control_id")->as_string(), "C1");
  EXPECT_EQ(obx.find("segment_index")->as_int(), 2);
  EXPECT_EQ(obx.find("hl7_version")->as_string(), "2.5.1");
  EXPECT_EQ(obx.find("message_type")->as_string(), "ORU^R01");
  EXPECT_EQ(obx.find("set_id")->as_string(), "1");
  expect_json(obx.find("observation_identifier"),
              R"({"identifier":"11557-6","text":"Lipemia","name_of_coding_system":"LN"})");
  expect_json(obx.find("observation_value"),
              R"([[["L"],["Lipemic&x"]],[[""]],[["M"],["Mod","erate"]]])");
  EXPECT_EQ(obx.find("observation_result_status")->as_string(), "F");
  EXPECT_EQ(obx.find("units"), nullptr);
  EXPECT_EQ(obx.find("raw_segment")->as_string(),
            "OBX|1|CWE|11557-6^Lipemia^LN||L^Lipemic\\T\\x~~M^Mod&erate||||||F");
  const JsonValue zpd = segment_json(m, 2);
  expect_json(zpd.find("field_1"), R"([[["a"],["b","c"]],[["d"]]])");
  EXPECT_EQ(zpd.find("field_2"), nullptr);
  expect_json(zpd.find("field_3"), R"([[["\"\""]]])");
  const JsonValue msh = segment_json(m, 0);
  expect_json(msh.find("sending_application"),
              R"({"namespace_id":"SEND","universal_id":"1.2.3","universal_id_type":"ISO"})");
  EXPECT_EQ(msh.find("message_control_id")->as_string(), "C1");
}

TEST(SegmentRecord, EmptyRepetitionsAreNullAndExtraComponentsIgnored) {
  const Message m =
      parse("MSH|^~\\&|A||||||ADT|C2^x|P|2.5\rPID|1||~ID-1^^^AUTH||DOE^JANE|||F^x^y^z");
  const JsonValue pid = segment_json(m, 1);
  expect_json(pid.find("patient_identifier_list"),
              R"([null,{"id_number":"ID-1","assigning_authority":{"namespace_id":"AUTH"}}])");
  EXPECT_EQ(pid.find("message_control_id")->as_string(), "C2");
  expect_json(
      pid.find("administrative_sex"),
      R"({"identifier":"F","text":"x","name_of_coding_system":"y","alternate_identifier":"z"})");
}

TEST(MessageRecord, HoldsTheHeaderAndTheUtcInstantWhenAnOffsetIsGiven) {
  const std::string text =
      "MSH|^~\\&|MegaReg|XYZHospC|SuperOE|XYZImgCtr|20060529090131-0500||ADT^A01^ADT_A01|"
      "01052901|P|2.5\rEVN||200605290901";
  const Message m = parse(text);
  std::string out;
  append_message_record(m, message_info(m, "a.hl7", 7), text, out);
  const JsonValue record = JsonValue::parse(out);
  EXPECT_EQ(record.find("message_control_id")->as_string(), "01052901");
  EXPECT_EQ(record.find("message_position")->as_int(), 7);
  EXPECT_EQ(record.find("trigger_event")->as_string(), "A01");
  EXPECT_EQ(record.find("message_structure")->as_string(), "ADT_A01");
  EXPECT_EQ(record.find("message_timestamp")->as_string(), "2006-05-29T09:01:31-05:00");
  EXPECT_EQ(record.find("message_datetime")->as_string(), "20060529090131-0500");
  expect_json(record.find("segment_ids"), R"(["MSH","EVN"])");
  expect_json(record.find("sending_facility"), R"({"namespace_id":"XYZHospC"})");
}

}  // namespace
}  // namespace lakeflow::hl7v2
