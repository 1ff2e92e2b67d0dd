// Reading FHIR Bundles (search and history pages) without copying the resources they hold.
//
// A read goes through BundlePages: each page is scanned once, in one pass that checks the whole
// body is JSON (as strictly as http::json_problem) and collects the next link, the entries and
// each resource's header. The scan is the page request's body check, so a cut or garbled page is
// a retried transport failure; the connector and the next-link paginator then use what it found.
// for_each_bundle_entry, read_resource_header and http::NextUrlInBody remain the reference: a page
// the one-pass scan cannot read exactly (one that is not a Bundle, a key written with escapes
// where the connector looks, values deeper than the scan goes) is read by them, as before.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/http/message.h"
#include "lakeflow/http/pagination.h"

namespace lakeflow::fhir {

// One Bundle.entry. Views point into the page body (resource) or into parser-owned storage valid
// only during the callback (the other fields).
struct BundleEntry {
  std::string_view resource;  // the resource's JSON text as sent; empty when absent
  std::string_view search_mode;
  std::string_view request_method;
  std::string_view request_url;
  std::string_view response_last_modified;
  std::string_view full_url;
  // The resource's resourceType, id and meta.lastUpdated (empty when absent or not strings), set
  // when a page scan read them with the entry; unset from for_each_bundle_entry (ask
  // read_resource_header).
  struct Header {
    std::string_view resource_type;
    std::string_view id;
    std::string_view last_updated;
  };
  std::optional<Header> header;
};

// Calls `on_entry` for each entry of the Bundle in `body` (a std::string whose capacity extends at
// least 64 bytes past its size, as HttpClient bodies do). Throws SourceError naming `url` when the
// body is not a Bundle.
void for_each_bundle_entry(const std::string& body, std::string_view url,
                           const std::function<void(const BundleEntry&)>& on_entry);

// What the connector needs from a resource: its type, id and meta.lastUpdated (copied).
struct ResourceHeader {
  std::string resource_type;
  std::string id;
  std::string last_updated;  // empty when the resource has no meta.lastUpdated
};

// Reads the header of `resource`, which lies inside a buffer readable up to `readable_end` (at
// least 64 bytes past the resource's end). Throws SourceError naming `url` for JSON that is not an
// object.
ResourceHeader read_resource_header(std::string_view resource, const char* readable_end,
                                    std::string_view url);

// The next page's link of a Bundle: `link[relation=next].url` (http::NextUrlInBody's path).
inline constexpr std::string_view kNextLinkPath = "link[relation=next].url";

// What one pass over a page found.
struct BundleScan {
  // Why the body is not JSON, or nullopt: http::json_problem's verdict.
  std::optional<std::string> problem;
  // Whether `entries` (each with its header) and `next_link` are exactly what
  // for_each_bundle_entry, read_resource_header and NextUrlInBody (before resolving) give. When
  // false, use those.
  bool exact = false;
  std::vector<BundleEntry> entries;
  std::optional<std::string_view> next_link;  // as the page holds it (unresolved)
  // The unescaped text of values that hold escapes (the views above may point here).
  std::deque<std::string> unescaped;
};

// Scans `body` (padded as for for_each_bundle_entry; without padding only `problem` is set). Views
// point into `body` or into the scan's own storage. Never throws for what the body holds.
BundleScan scan_bundle_page(const std::string& body);

// The Bundle pages of one read: the body check of its page requests, the paginator following the
// pages' next links, and their entries, all from one scan per page. It keeps the scan of the page
// last checked and uses it for a page with the same bytes; any other page is scanned anew. Not
// thread-safe: one per read. Must outlive the PageReaders and requests that use it.
class BundlePages {
 public:
  BundlePages() : next_link_(*this) {}
  BundlePages(const BundlePages&) = delete;
  BundlePages& operator=(const BundlePages&) = delete;

  // A GET of `url` with `headers` whose 2xx body must be JSON (else a retried failure, as
  // http::require_json_body); a PageReader started with it checks every page so.
  http::Request request(std::string url, const http::Headers& headers);
  // Follows link[relation=next].url, resolved against the page's URL (as http::NextUrlInBody).
  const http::Paginator& next_link() const { return next_link_; }
  // Calls `on_entry` for each entry of `page` (its body padded as HttpClient pads bodies), with
  // the resource's header when the scan read it. Throws SourceError naming the page's URL when
  // the page is not a Bundle. `on_entry` must not use this BundlePages.
  void for_each_entry(const http::Response& page,
                      const std::function<void(const BundleEntry&)>& on_entry);

 private:
  class NextLink final : public http::Paginator {
   public:
    explicit NextLink(BundlePages& pages) : pages_(pages) {}
    std::optional<std::string> next_url(std::string_view page_url,
                                        const http::Response& page) const override;

   private:
    BundlePages& pages_;
    http::NextUrlInBody reference_{kNextLinkPath};
  };

  // The scan of `body`: the kept one when `body` has the bytes it was made of, else a new one
  // (then kept).
  const BundleScan& scan_of(const std::string& body);
  // `text` (a view into the scanned body or into the scan's storage) moved onto `body`.
  std::string_view on(std::string_view text, const std::string& body) const;

  NextLink next_link_;
  std::string scanned_;            // a copy of the bytes the kept scan was made of
  std::uintptr_t scanned_at_ = 0;  // where those bytes were when scanned
  bool kept_ = false;
  BundleScan scan_;
};

}  // namespace lakeflow::fhir
