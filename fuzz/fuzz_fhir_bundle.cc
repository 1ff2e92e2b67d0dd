// Fuzzes what the FHIR connector does with a page a server sends: the input is the response body
// of a search or history request, read the way fhir_connector.cc reads it: one scan per page
// (BundlePages: the body check, the next link `link[relation=next].url`, every Bundle entry with
// its resource's header), and the reference readers it stands in for (http::json_problem,
// NextUrlInBody, for_each_bundle_entry, read_resource_header). A SourceError is the expected
// outcome of a bad page; anything else breaks the contract in fuzz_support.h.
//
// Invariants checked per input:
//   * An entry's resource is a view into the body, as BundleEntry promises, and starts with `{`.
//   * When the body is valid JSON, so is every resource cut from it.
//   * The scan accepts exactly the bodies http::json_problem accepts, with the same message.
//   * What the scan reads in its one pass (entries, headers, next link) is what the reference
//     readers read.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhir_bundle.h"
#include "fuzz_support.h"
#include "lakeflow/error.h"
#include "lakeflow/http/message.h"
#include "lakeflow/http/pagination.h"
#include "lakeflow/instant.h"

namespace {

using lakeflow::fuzz::fail;
using lakeflow::fuzz::typed_errors_only;

constexpr std::size_t kBodyPadding = 64;  // what a Bundle page needs past the body's end
constexpr std::string_view kPageUrl = "https://fhir.example/r4/Patient?_count=50";

std::string describe(const lakeflow::fhir::BundleEntry& entry, std::string_view type,
                     std::string_view id, std::string_view last_updated) {
  std::string text;
  for (std::string_view part :
       {entry.resource, entry.search_mode, entry.request_method, entry.request_url,
        entry.response_last_modified, entry.full_url, type, id, last_updated}) {
    text += std::to_string(part.size());
    text += ':';
    text += part;
  }
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const lakeflow::http::NextUrlInBody next_link(lakeflow::fhir::kNextLinkPath);
  lakeflow::http::Response page;
  page.status = 200;
  page.url = std::string(kPageUrl);
  page.body.reserve(size + kBodyPadding);
  page.body.assign(reinterpret_cast<const char*>(data), size);
  const std::string& body = page.body;

  const std::optional<std::string> problem = lakeflow::http::json_problem(body);
  const bool valid_json = !problem.has_value();
  // The next link, or the error reading it (a link that does not resolve is a SourceError).
  std::optional<std::string> reference_next;
  if (!typed_errors_only([&] { reference_next = next_link.next_url(page.url, page); })) {
    reference_next = "error";
  }

  const char* readable_end = body.data() + body.capacity();
  std::vector<std::string> reference_entries;
  typed_errors_only([&] {
    lakeflow::fhir::for_each_bundle_entry(
        body, page.url, [&](const lakeflow::fhir::BundleEntry& entry) {
          (void)lakeflow::parse_instant(entry.response_last_modified);
          if (entry.resource.empty()) {
            reference_entries.push_back(describe(entry, {}, {}, {}));
            return;
          }
          const char* begin = entry.resource.data();
          if (begin < body.data() || begin + entry.resource.size() > body.data() + body.size()) {
            fail("a resource view outside the body", body);
          }
          if (entry.resource.front() != '{') fail("a resource that is not an object", body);
          if (valid_json && lakeflow::http::json_problem(entry.resource)) {
            fail("a resource cut from valid JSON is not JSON", entry.resource);
          }
          // One bad resource fails its page in the connector; here the others are read too.
          typed_errors_only([&] {
            const lakeflow::fhir::ResourceHeader header =
                lakeflow::fhir::read_resource_header(entry.resource, readable_end, page.url);
            (void)lakeflow::parse_instant(header.last_updated);
            reference_entries.push_back(
                describe(entry, header.resource_type, header.id, header.last_updated));
          });
        });
  });

  // The one-pass scan, as the connector uses it.
  const lakeflow::fhir::BundleScan scan = lakeflow::fhir::scan_bundle_page(body);
  if (scan.problem != problem) fail("the scan and json_problem disagree on the body", body);
  lakeflow::fhir::BundlePages pages;
  if (pages.request(page.url, {}).check_body(page) != problem) {
    fail("the page check and json_problem disagree on the body", body);
  }
  if (!scan.exact) return 0;
  if (!valid_json) fail("the scan read a body that is not JSON", body);
  std::optional<std::string> scanned_next;
  if (!typed_errors_only([&] { scanned_next = pages.next_link().next_url(page.url, page); })) {
    scanned_next = "error";
  }
  if (scanned_next != reference_next) fail("the scan's next link is not NextUrlInBody's", body);
  std::vector<std::string> scanned_entries;
  pages.for_each_entry(page, [&](const lakeflow::fhir::BundleEntry& entry) {
    if (entry.resource.empty()) {
      scanned_entries.push_back(describe(entry, {}, {}, {}));
    } else if (!entry.header) {
      fail("the scan read a resource without its header", body);
    } else {
      scanned_entries.push_back(describe(entry, entry.header->resource_type, entry.header->id,
                                         entry.header->last_updated));
    }
  });
  if (scanned_entries != reference_entries) {
    fail("the scan's entries are not the reference readers'", body);
  }
  return 0;
}
