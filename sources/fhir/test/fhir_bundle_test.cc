// The one-pass Bundle page scan (fhir_bundle.h) against the readers it replaces: http::json_problem
// for whether a page is JSON, for_each_bundle_entry and read_resource_header for the entries, and
// http::NextUrlInBody for the next link.
#include "fhir_bundle.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/http/message.h"
#include "lakeflow/http/pagination.h"
#include "lakeflow/records.h"

namespace lakeflow::fhir {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kPageUrl = "http://x/fhir/Observation?_count=3";

// A body as HttpClient returns it: capacity padded for simdjson.
std::string padded(std::string_view text) {
  std::string body(text);
  body.reserve(body.size() + RecordBatch::kPadding);
  return body;
}

http::Response page_of(std::string_view text) {
  http::Response page;
  page.status = 200;
  page.url = std::string(kPageUrl);
  page.body = padded(text);
  return page;
}

// A search page as servers send them: narratives with escaped quotes, non-ASCII text, numbers of
// every form, literals, empty and nested containers, an _include entry, a history-style DELETE
// entry without a resource, escapes in values the connector reads, and self and next links.
const std::string kBundle = R"({"resourceType":"Bundle","id":"b1","type":"searchset","total":3,
 "link":[{"relation":"self","url":"http://x/fhir/Observation?_count=3"},
         {"relation":"next","url":"http://x/fhir/Observation?_count=3&_offset=3"}],
 "entry":[
  {"fullUrl":"http://x/fhir/Observation/o1","resource":{"resourceType":"Observation","id":"o1",
    "meta":{"versionId":"1","lastUpdated":"2024-03-11T14:26:02.726Z","tag":[]},
    "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Ap\u00e9r\\u</p></div>"},
    "status":"final","code":{"coding":[{"system":"http://loinc.org","code":"9272-6"}],"text":"Apgar – 1 min 👶"},
    "valueQuantity":{"value":-0.5e-3,"unit":"mmHg","comparator":null},"component":[{"valueInteger":0},
    {"valueDecimal":12345678901234567890.125},{"valueBoolean":true},{"valueBoolean":false},{"x":1E+2}],
    "extension":[[[],{}],[{"a":[1,2,[3,[4]]]}]]},
   "search":{"mode":"match","score":1}},
  {"fullUrl":"http:\/\/x\/fhir\/Patient\/p1","resource":{"id":"p1","resourceType":"Patient",
    "meta":{"lastUpdated":"2024-03-11T14:26:03Z"},"name":[{"family":"M\u00fcller","given":["\"Jo\""]}]},
   "search":{"mode":"include"}},
  {"request":{"method":"DELETE","url":"Observation\/o2"},
   "response":{"status":"204","lastModified":"2024-03-12T00:00:00.000+00:00"}},
  {"resource":{"resourceType":"Observation","id":"o3","meta":"not an object",
    "meta":{"lastUpdated":"2024-03-13T00:00:00Z"},"id":"o3b"},"fullUrl":7}
 ]}
)";

std::string text_of(const std::optional<std::string>& text) { return text.value_or("<none>"); }

// What the reference readers make of `page`: every entry (with its header, or why the header
// could not be read) and the next link, each as text; or the error they throw.
struct Reading {
  std::vector<std::string> entries;
  std::string next_link;
};

std::string describe(const BundleEntry& entry, const BundleEntry::Header* header,
                     const std::string& header_error) {
  std::string text =
      "resource=" + std::string(entry.resource) + " mode=" + std::string(entry.search_mode) +
      " method=" + std::string(entry.request_method) + " url=" + std::string(entry.request_url) +
      " modified=" + std::string(entry.response_last_modified) +
      " full_url=" + std::string(entry.full_url);
  if (header != nullptr) {
    text += " type=" + std::string(header->resource_type) + " id=" + std::string(header->id) +
            " updated=" + std::string(header->last_updated);
  }
  return text + header_error;
}

Reading reference_reading(const http::Response& page) {
  Reading reading;
  try {
    reading.next_link = text_of(http::NextUrlInBody(kNextLinkPath).next_url(page.url, page));
  } catch (const SourceError& error) {
    reading.next_link = std::string("error: ") + error.what();
  }
  const char* readable_end = page.body.data() + page.body.capacity();
  try {
    for_each_bundle_entry(page.body, page.url, [&](const BundleEntry& entry) {
      if (entry.resource.empty()) {
        reading.entries.push_back(describe(entry, nullptr, ""));
        return;
      }
      try {
        const ResourceHeader read = read_resource_header(entry.resource, readable_end, page.url);
        const BundleEntry::Header header{read.resource_type, read.id, read.last_updated};
        reading.entries.push_back(describe(entry, &header, ""));
      } catch (const SourceError& error) {
        reading.entries.push_back(describe(entry, nullptr, error.what()));
      }
    });
  } catch (const SourceError& error) {
    reading.entries.push_back(std::string("error: ") + error.what());
  }
  return reading;
}

// What BundlePages makes of `page`, read the way the connector reads it: the body check, the next
// link, the entries (a header the scan did not read is read by read_resource_header).
struct PagesReading {
  std::optional<std::string> problem;
  Reading reading;
};

PagesReading pages_reading(const http::Response& page) {
  BundlePages pages;
  PagesReading out;
  http::Request request = pages.request(page.url, {});
  out.problem = request.check_body(page);
  try {
    out.reading.next_link = text_of(pages.next_link().next_url(page.url, page));
  } catch (const SourceError& error) {
    out.reading.next_link = std::string("error: ") + error.what();
  }
  const char* readable_end = page.body.data() + page.body.capacity();
  try {
    pages.for_each_entry(page, [&](const BundleEntry& entry) {
      if (entry.resource.empty()) {
        out.reading.entries.push_back(describe(entry, nullptr, ""));
        return;
      }
      // The resource is a view into the page, as the reference's.
      EXPECT_GE(entry.resource.data(), page.body.data());
      EXPECT_LE(entry.resource.data() + entry.resource.size(), page.body.data() + page.body.size());
      if (entry.header) {
        out.reading.entries.push_back(describe(entry, &*entry.header, ""));
        return;
      }
      try {
        const ResourceHeader read = read_resource_header(entry.resource, readable_end, page.url);
        const BundleEntry::Header header{read.resource_type, read.id, read.last_updated};
        out.reading.entries.push_back(describe(entry, &header, ""));
      } catch (const SourceError& error) {
        out.reading.entries.push_back(describe(entry, nullptr, error.what()));
      }
    });
  } catch (const SourceError& error) {
    out.reading.entries.push_back(std::string("error: ") + error.what());
  }
  return out;
}

// Checks that the scan of `text` and the reference readers agree on everything; returns whether
// the scan read the page in its one pass (rather than leaving it to the reference readers).
bool expect_as_reference(std::string_view text, const std::string& label) {
  const http::Response page = page_of(text);
  const std::optional<std::string> problem = http::json_problem(page.body);
  const BundleScan scan = scan_bundle_page(page.body);
  EXPECT_EQ(text_of(scan.problem), text_of(problem)) << label;
  EXPECT_FALSE(scan.exact && problem) << label;
  const PagesReading pages = pages_reading(page);
  EXPECT_EQ(text_of(pages.problem), text_of(problem)) << label;
  if (!problem) {
    const Reading reference = reference_reading(page);
    EXPECT_EQ(pages.reading.entries, reference.entries) << label;
    EXPECT_EQ(pages.reading.next_link, reference.next_link) << label;
  }
  return scan.exact;
}

TEST(BundleScan, ReadsABundleInOnePassAsTheReferenceReadersDo) {
  EXPECT_TRUE(expect_as_reference(kBundle, "the page"));
  const http::Response page = page_of(kBundle);
  const BundleScan scan = scan_bundle_page(page.body);
  ASSERT_TRUE(scan.exact);
  EXPECT_EQ(scan.problem, std::nullopt);
  EXPECT_EQ(scan.next_link, "http://x/fhir/Observation?_count=3&_offset=3");
  ASSERT_EQ(scan.entries.size(), 4u);
  const BundleEntry& first = scan.entries[0];
  EXPECT_EQ(first.resource.substr(0, 40), R"({"resourceType":"Observation","id":"o1",)");
  EXPECT_EQ(first.resource.back(), '}');
  EXPECT_EQ(first.search_mode, "match");
  ASSERT_TRUE(first.header);
  EXPECT_EQ(first.header->last_updated, "2024-03-11T14:26:02.726Z");
  EXPECT_EQ(scan.entries[1].full_url, "http://x/fhir/Patient/p1");  // unescaped
  EXPECT_EQ(scan.entries[1].header->resource_type, "Patient");
  EXPECT_EQ(scan.entries[2].request_method, "DELETE");
  EXPECT_EQ(scan.entries[2].request_url, "Observation/o2");
  EXPECT_FALSE(scan.entries[2].header);
  EXPECT_EQ(scan.entries[3].header->id, "o3b");  // the last member of a name, as the reference
  EXPECT_EQ(scan.entries[3].full_url, "");       // not a string
}

// Values simdjson cannot represent are valid JSON; the scan reads them in its pass (numbers by
// grammar, escapes by grammar), or leaves a page nested beyond its depth to the reference readers.
TEST(BundleScan, ValuesSimdjsonCannotRepresentAreValidJson) {
  const auto with = [](std::string_view value) {
    std::string text = kBundle;
    text.replace(text.find("-0.5e-3"), 7, value);
    return text;
  };
  for (const char* value : {"18446744073709551616", "1e309", "-1e309", R"("\ud800")",
                            R"("\udc00\ud800x")", "123456789012345678901234567890e-400"}) {
    EXPECT_TRUE(expect_as_reference(with(value), value)) << value;
  }
  for (const std::size_t depth : {300, 3000}) {
    const std::string deep = std::string(depth, '[') + std::string(depth, ']');
    EXPECT_FALSE(expect_as_reference(with(deep), "deep")) << depth;
    EXPECT_EQ(scan_bundle_page(padded(with(deep))).problem, std::nullopt) << depth;
  }
}

// Every cut, flipped, dropped or inserted byte of a page, and bad scalars in its values: the scan
// accepts exactly what http::json_problem accepts, and reads what it accepts as the reference
// readers do.
TEST(BundleScan, AcceptsAndRejectsExactlyWhatJsonProblemDoes) {
  std::size_t exact = 0;
  std::size_t checked = 0;
  const auto check = [&](const std::string& text, const std::string& label) {
    exact += expect_as_reference(text, label) ? 1 : 0;
    ++checked;
  };
  for (std::size_t size = 0; size < kBundle.size(); ++size) {
    check(kBundle.substr(0, size), "cut at " + std::to_string(size));
  }
  const std::string bytes[] = {
      "\"", "\\", ",", ":", "{",  "}",    "[",    "]",    "x",    "0",
      "-",  ".",  "e", " ", "\t", "\x01", "\x7f", "\xff", "\xc3", std::string(1, '\0')};
  for (std::size_t at = 0; at < kBundle.size(); ++at) {
    std::string dropped = kBundle;
    dropped.erase(at, 1);
    check(dropped, "dropped " + std::to_string(at));
    for (const std::string& byte : bytes) {
      std::string flipped = kBundle;
      flipped.replace(at, 1, byte);
      check(flipped, "flipped " + std::to_string(at) + " to " + std::to_string(byte[0]));
      std::string inserted = kBundle;
      inserted.insert(at, byte);
      check(inserted, "inserted " + std::to_string(byte[0]) + " at " + std::to_string(at));
    }
  }
  // Bad and odd scalars where a number, a string the connector reads, and a key stand.
  const std::string numbers[] = {"01",  "1.",    ".5",     "1e",    "1e+", "-",    "+1",
                                 "0x1", "1_0",   "NaN",    "1.5e3", "-0",  "1E-0", "tru",
                                 "nul", "true1", "falsey", "null",  "2e-", "--1"};
  for (const std::string& number : numbers) {
    std::string text = kBundle;
    text.replace(text.find("-0.5e-3"), 7, number);
    check(text, "number " + number);
  }
  const std::string strings[] = {
      R"(\x)",     R"(\u12)",      R"(\u12g4)",       R"(\U1234)", R"(\)",
      R"(\ud800)", R"(\/\b\f)",    R"(\n\r\t)",       "\t",        "\x1f",
      R"(\u0000)", "\xed\xa0\x80", "\xf4\x90\x80\x80"};
  for (const std::string& string : strings) {
    for (const char* where :
         {"o1\",\n", "2024-03-11T14:26:02.726Z", "9272-6", "resourceType\":\"B",
          "relation\":\"next\",\"url\":\"http://x", "http://x/fhir/Observation?_count=3&"}) {
      std::string text = kBundle;
      const std::size_t at = text.find(where);
      ASSERT_NE(at, std::string::npos) << where;
      text.insert(at + 1, string);
      check(text, "string " + string + " in " + where);
    }
  }
  // Several edits at once, at random places (a fixed seed, so a failure repeats).
  std::mt19937 random(20261202);
  for (int round = 0; round < 20000; ++round) {
    std::string text = kBundle;
    const int edits = 2 + static_cast<int>(random() % 3);
    for (int edit = 0; edit < edits && !text.empty(); ++edit) {
      const std::size_t at = random() % text.size();
      const std::string& byte = bytes[random() % std::size(bytes)];
      switch (random() % 4) {
        case 0:
          text.erase(at, 1);
          break;
        case 1:
          text.insert(at, byte);
          break;
        case 2:
          text.replace(at, 1, byte);
          break;
        default:  // swap two bytes
          std::swap(text[at], text[random() % text.size()]);
      }
    }
    check(text, "round " + std::to_string(round));
  }
  EXPECT_GT(exact, checked / 4) << "the scan read too few pages in its one pass";
}

TEST(BundleScan, LeavesWhatIsNotABundleToTheReferenceReader) {
  for (const char* text :
       {R"({"resourceType":"OperationOutcome"})", "[1,2]", R"({"entry":[]})", "not json", "",
        R"({"resourceType":"Bundle","entry":{}})", R"({"resourceType":"Bundle","entry":[1]})",
        R"({"resourceType":"Bundle","entry":[{"resource":[]}]})",
        R"({"resourceType":"Bundle","entry":[{"search":"match"}]})",
        R"({"entry":[],"resourceType":"Bundle","resourceType":"Patient"})",
        R"({"resourceType":"Bun\u0064le","entry":[]})", R"({"resource\u0054ype":"Bundle"})",
        R"({"resourceType":"Bundle","entry":[{"resource":{"i\u0064":"1"}}]})",
        R"({"resourceType":"Bundle","entry":[{"resource":{"id":"\ud800"}}]})"}) {
    expect_as_reference(text, text);
    const http::Response page = page_of(text);
    BundlePages pages;
    std::string scanned = "no error";
    std::string reference = "no error";
    try {
      pages.for_each_entry(page, [](const BundleEntry&) {});
    } catch (const SourceError& error) {
      scanned = error.what();
    }
    try {
      for_each_bundle_entry(page.body, page.url, [](const BundleEntry&) {});
    } catch (const SourceError& error) {
      reference = error.what();
    }
    EXPECT_EQ(scanned, reference) << text;
  }
  BundlePages pages;
  try {
    pages.for_each_entry(page_of(R"({"resourceType":"OperationOutcome"})"),
                         [](const BundleEntry&) {});
    ADD_FAILURE() << "an OperationOutcome was read as a Bundle";
  } catch (const SourceError& error) {
    EXPECT_THAT(error.what(),
                HasSubstr("is not a FHIR Bundle (resourceType is 'OperationOutcome')"));
  }
}

// The next link as NextUrlInBody's `link[relation=next].url` finds it, whatever the link array
// holds.
TEST(BundleScan, FindsTheNextLinkWhereNextUrlInBodyDoes) {
  const auto bundle = [](std::string_view link) {
    return R"({"resourceType":"Bundle","type":"searchset",)" + std::string(link) +
           R"(,"entry":[]})";
  };
  const std::vector<std::pair<std::string, bool>> cases = {
      {R"("link":[{"relation":"next","url":"a?b=1"}])", true},
      {R"("link":[{"url":"a","relation":"next"}])", true},
      {R"("link":[{"url":"a","relation":"next","url":"b"}])", true},
      {R"("link":[{"relation":"next","url":"a","url":"b"}])", true},
      {R"("link":[{"url":"a","url":"b","relation":"next"}])", true},
      {R"("link":[{"relation":"self","url":"s"},{"relation":"next","url":"n"}])", true},
      {R"("link":[{"relation":"next","url":"n1"},{"relation":"next","url":"n2"}])", true},
      {R"("link":[{"relation":"next"},{"relation":"next","url":"n2"}])", true},
      {R"("link":[{"relation":"self","relation":"next","url":"n"}])", true},
      {R"("link":[{"relation":"n\u0065xt","url":"h\u0074tp:\/\/y\/p2"}])", true},
      {R"("link":[{"rel\u0061tion":"next","url":"n"}])", true},
      {R"("link":[{"relation":"next","\u0075rl":"n"}])", true},
      {R"("link":[{"relation":"next","url":null}])", true},
      {R"("link":[{"relation":"next","url":""}])", true},
      {R"("link":[{"relation":7,"url":"n"},1,"s",null,[{"relation":"next","url":"m"}]])", true},
      {R"("link":{"relation":"next","url":"n"})", true},
      {R"("link":[],"link":[{"relation":"next","url":"n"}])", true},
      {R"("link":[{"relation":"self","url":{"a":1}},{"relation":"next","url":"n"}])", true},
      {R"("link":[{"relation":"next","url":12.50}])", false},
      {R"("link":[{"relation":"next","url":{"a":1}}])", false},
      {R"("link":[{"relation":"next","url":true}])", false},
      {R"("link":[{"relation":"next","url":"\ud800"}])", false},
  };
  for (const auto& [link, one_pass] : cases) {
    EXPECT_EQ(expect_as_reference(bundle(link), link), one_pass) << link;
  }
  BundlePages pages;
  const http::Response page = page_of(bundle(R"("link":[{"relation":"next","url":"p2"}])"));
  EXPECT_EQ(pages.next_link().next_url(page.url, page), "http://x/fhir/p2");
}

// The body check keeps its scan for the page it passed; a page with other bytes, even of the same
// size, is scanned anew, and a copy of the page gets views into the copy.
TEST(BundlePages, UsesAKeptScanOnlyForAPageWithTheSameBytes) {
  const auto bundle = [](char id) {
    return fmt::format(
        R"({{"resourceType":"Bundle","link":[{{"relation":"next","url":"p{}"}}],"entry":[{{"resource":{{"resourceType":"Patient","id":"{}"}}}}]}})",
        id, id);
  };
  BundlePages pages;
  const http::Response a = page_of(bundle('a'));
  const http::Response b = page_of(bundle('b'));
  ASSERT_EQ(a.body.size(), b.body.size());
  EXPECT_EQ(pages.request(std::string(kPageUrl), {}).check_body(a), std::nullopt);
  const auto ids = [&](const http::Response& page) {
    std::vector<std::string> out;
    pages.for_each_entry(page, [&](const BundleEntry& entry) {
      EXPECT_GE(entry.resource.data(), page.body.data());
      EXPECT_LT(entry.resource.data(), page.body.data() + page.body.size());
      out.push_back(std::string(entry.header.value().id));
    });
    return out;
  };
  EXPECT_EQ(ids(b), std::vector<std::string>{"b"});
  EXPECT_EQ(pages.next_link().next_url(a.url, a), "http://x/fhir/pa");
  EXPECT_EQ(pages.next_link().next_url(b.url, b), "http://x/fhir/pb");
  const http::Response copy = a;
  EXPECT_EQ(ids(a), std::vector<std::string>{"a"});
  EXPECT_EQ(ids(copy), std::vector<std::string>{"a"});
  // A broken page fails the check, and its successor is read for itself.
  const http::Response cut = page_of(bundle('c').substr(0, 30));
  EXPECT_THAT(pages.request(std::string(kPageUrl), {}).check_body(cut).value_or(""),
              HasSubstr("not valid JSON"));
  EXPECT_EQ(ids(b), std::vector<std::string>{"b"});
}

// The body the check scanned may be another buffer than the page handed on (HttpClient checks a
// candidate response, then returns it; a copy or a moved string may live elsewhere), and may be
// gone by then: what the pages say is read from the page itself.
TEST(BundlePages, ReadsTheNextLinkAndEntriesFromThePageNotTheCheckedBuffer) {
  const std::string text = R"({"resourceType":"Bundle","link":[{"relation":"next","url":"p2"}],)"
                           R"("entry":[{"resource":{"resourceType":"Patient","id":"a1"}}]})";
  BundlePages pages;
  http::Response checked = page_of(text);
  const http::Response page = checked;  // the same bytes, elsewhere
  EXPECT_EQ(pages.request(std::string(kPageUrl), {}).check_body(checked), std::nullopt);
  // The checked buffer changes after the check (as freed memory may).
  std::fill(checked.body.begin(), checked.body.end(), 'x');
  EXPECT_EQ(pages.next_link().next_url(page.url, page), "http://x/fhir/p2");
  std::vector<std::string> ids;
  pages.for_each_entry(page, [&](const BundleEntry& entry) {
    ids.push_back(std::string(entry.header.value().id));
    EXPECT_EQ(entry.resource.substr(0, 16), R"({"resourceType":)");
  });
  EXPECT_EQ(ids, std::vector<std::string>{"a1"});
}

}  // namespace
}  // namespace lakeflow::fhir
