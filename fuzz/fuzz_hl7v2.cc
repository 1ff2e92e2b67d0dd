// Fuzzes the HL7 v2 connector's reading of a file: the input is a file's bytes, cut into messages
// (MLLP frames, batch envelopes, CR/LF/CRLF segment ends), each message parsed (delimiters from
// MSH, segments, fields) and turned into the JSON records of its segment tables, its `messages`
// row, or its `malformed_messages` row, as hl7v2_table_read.cc does.
//
// Invariants checked per input:
//   * Units come in order, do not overlap, stay inside the buffer, and their text lies within them.
//   * Cutting the file from any unit's end gives the same units after it (reads resume there).
//   * A buffer holding only the first half of the file yields only units the whole file has (it
//     asks for more instead of guessing), so a read never takes half a message.
//   * Every record is valid JSON (JsonValue::parse accepts it) holding valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "er7.h"
#include "fuzz_support.h"
#include "hl7v2_model.h"
#include "lakeflow/json.h"

namespace {

using lakeflow::fuzz::fail;
using lakeflow::fuzz::typed_errors_only;
using namespace lakeflow::hl7v2;

struct Cut {
  std::size_t begin;
  std::size_t end;
  FileUnit::Kind kind;
};

std::vector<Cut> cut_all(std::string_view buffer, bool at_eof) {
  std::vector<Cut> out;
  MessageSplitter splitter(buffer, at_eof);
  FileUnit unit;
  std::size_t previous_end = 0;
  while (splitter.next(unit) == MessageSplitter::Status::kUnit) {
    if (unit.begin < previous_end || unit.end <= unit.begin || unit.end > buffer.size()) {
      fail("units overlap or leave the buffer", std::to_string(unit.begin));
    }
    if (unit.text.data() < buffer.data() + unit.begin ||
        unit.text.data() + unit.text.size() > buffer.data() + unit.end) {
      fail("a unit's text lies outside the unit", std::to_string(unit.begin));
    }
    out.push_back({unit.begin, unit.end, unit.kind});
    previous_end = unit.end;
  }
  return out;
}

void check_json(const std::string& record) {
  if (!typed_errors_only([&] { (void)lakeflow::JsonValue::parse(record); })) {
    fail("a record is not valid JSON", record);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view file(reinterpret_cast<const char*>(data), size);
  const std::vector<Cut> units = cut_all(file, /*at_eof=*/true);

  // Resuming at a unit's end cuts the rest the same way.
  if (!units.empty()) {
    const Cut& middle = units[units.size() / 2];
    const std::vector<Cut> rest = cut_all(file.substr(middle.end), true);
    const std::size_t after = units.size() - units.size() / 2 - 1;
    if (rest.size() != after) fail("resuming at a unit's end cut the rest differently", "");
    for (std::size_t i = 0; i < rest.size(); ++i) {
      const Cut& a = units[units.size() / 2 + 1 + i];
      if (rest[i].begin + middle.end != a.begin || rest[i].end + middle.end != a.end) {
        fail("resuming at a unit's end cut the rest differently", std::to_string(i));
      }
    }
  }
  // A prefix that is not the file: units it yields are units of the whole file.
  const std::vector<Cut> prefix = cut_all(file.substr(0, size / 2), /*at_eof=*/false);
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (i >= units.size() || prefix[i].begin != units[i].begin || prefix[i].end != units[i].end) {
      fail("a buffer that is not the whole file yielded a unit the file does not have",
           std::to_string(i));
    }
  }

  MessageSplitter splitter(file, true);
  FileUnit unit;
  Message message;
  std::string record;
  while (splitter.next(unit) == MessageSplitter::Status::kUnit) {
    if (unit.kind == FileUnit::Kind::kEnvelope) continue;
    std::optional<std::string> problem =
        unit.kind == FileUnit::Kind::kStray ? unit.problem : parse_message(unit.text, message);
    record.clear();
    if (problem) {
      append_malformed_record("f.hl7", unit.begin, *problem, unit.text, record);
      check_json(record);
      continue;
    }
    const MessageInfo info = message_info(message, "f.hl7", unit.begin);
    append_message_record(message, info, unit.text, record);
    check_json(record);
    for (std::size_t i = 0; i < message.segments.size(); ++i) {
      record.clear();
      append_segment_record(message, i, info, record);
      check_json(record);
    }
  }
  return 0;
}
