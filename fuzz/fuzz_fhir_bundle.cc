// Fuzzes what the FHIR connector does with a page a server sends: the input is the response body
// of a search or history request, read the way fhir_connector.cc reads it. The body check
// (http::json_problem), the next link (`link[relation=next].url`), every Bundle entry, and the
// header (type, id, meta.lastUpdated) and times of each entry's resource. A SourceError is the
// expected outcome of a bad page; anything else breaks the contract in fuzz_support.h.
//
// Invariants checked per input:
//   * An entry's resource is a view into the body, as BundleEntry promises, and starts with `{`.
//   * When the body is valid JSON, so is every resource cut from it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fhir_bundle.h"
#include "fuzz_support.h"
#include "lakeflow/error.h"
#include "lakeflow/http/message.h"
#include "lakeflow/http/pagination.h"
#include "lakeflow/instant.h"

namespace {

using lakeflow::fuzz::fail;
using lakeflow::fuzz::typed_errors_only;

constexpr std::size_t kBodyPadding = 64;  // what for_each_bundle_entry needs past the body's end
constexpr std::string_view kPageUrl = "https://fhir.example/r4/Patient?_count=50";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const lakeflow::http::NextUrlInBody next_link("link[relation=next].url");
  lakeflow::http::Response page;
  page.status = 200;
  page.url = std::string(kPageUrl);
  page.body.reserve(size + kBodyPadding);
  page.body.assign(reinterpret_cast<const char*>(data), size);
  const std::string& body = page.body;

  const bool valid_json = !lakeflow::http::json_problem(body).has_value();
  typed_errors_only([&] { (void)next_link.next_url(page.url, page); });

  const char* readable_end = body.data() + body.capacity();
  typed_errors_only([&] {
    lakeflow::fhir::for_each_bundle_entry(
        body, page.url, [&](const lakeflow::fhir::BundleEntry& entry) {
          (void)lakeflow::parse_instant(entry.response_last_modified);
          if (entry.resource.empty()) return;
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
          });
        });
  });
  return 0;
}
