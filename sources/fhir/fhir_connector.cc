#include "fhir_connector.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "fhir_bundle.h"
#include "lakeflow/error.h"
#include "lakeflow/http/auth.h"
#include "lakeflow/http/encoding.h"
#include "lakeflow/instant.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "lakeflow_connector_spec.h"
#include "schema/fhir_schema.h"

namespace lakeflow::fhir {
namespace {

constexpr std::int64_t kDefaultPageSize = 100;
constexpr std::int64_t kMaxPageSize = 1000;
constexpr std::chrono::milliseconds kMaxPageDelay = std::chrono::seconds(60);
constexpr std::size_t kBodyPadding = 64;  // what a Bundle page needs past its end (fhir_bundle.h)

const http::Headers& fhir_headers() {
  static const http::Headers headers{{"Accept", "application/fhir+json"}};
  return headers;
}

std::string trim_trailing_slashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string require_option(const Options& options, std::string_view key,
                           std::string_view auth_type) {
  const std::optional<std::string_view> value = options.find(key);
  if (!value || value->empty()) {
    throw ConfigError(fmt::format("fhir: auth_type '{}' needs option '{}'", auth_type, key));
  }
  return std::string(*value);
}

// The token endpoint of the client_secret grant, from [base]/.well-known/smart-configuration
// (SMART App Launch 2.0 §2.1), looked up with the connector's http.* settings and no credentials.
std::string discover_token_url(const std::string& base_url, const Options& options) {
  Options plain;
  for (const auto& [key, value] : options.values()) {
    if (key.starts_with("http.")) plain.set(key, value);
  }
  try {
    return http::discover_smart_token_endpoint(*http::HttpClient::from_options(plain), base_url);
  } catch (const Error& error) {
    throw ConfigError(fmt::format(
        "fhir: authentication step 'token endpoint discovery' failed: {}; set token_url to the "
        "server's OAuth2 token endpoint",
        error.what()));
  }
}

// `,"<column>":` for the cursor column of a deletion the connector builds.
const std::string kLastUpdatedMember = fmt::format(",\"{}\":", kLastUpdatedColumn);
// `,"raw_json":null`: a deletion has no resource text, so its raw record column is null.
const std::string kNoRawJsonMember = fmt::format(",\"{}\":null", kRawJsonColumn);

// A resource of one search page, as append_record needs it.
struct PageResource {
  std::string_view table;
  std::string_view resource;  // inside the page body
  const char* readable_end;   // the end of the page body's padding
  std::string_view url;       // the page's
};

// Appends one record: the resource as the server sent it, with the cursor column
// (meta.lastUpdated) and the profile's columns added after its own members. The resource's text
// itself is the record's source, which the framework copies into the raw record column (raw_json)
// unparsed.
void append_record(RecordBatch& batch, std::string& members, const PageResource& page,
                   std::string_view last_updated, Profile profile) {
  std::string_view resource = page.resource;
  // The object's text ends at its closing brace (the parser's view may run on to the next token).
  while (!resource.empty() && resource.back() != '}') resource.remove_suffix(1);
  members.clear();
  if (!last_updated.empty()) {
    members.append(kLastUpdatedMember);
    append_json_string(members, last_updated, /*ascii_only=*/false);
  }
  append_profile_members(members, profile, page.table, resource, page.readable_end, page.url);
  // Every member above starts with its comma; the batch writes the separator itself.
  std::string_view added = members;
  if (!added.empty()) added.remove_prefix(1);
  batch.append_with_members(resource, added);
}

// Whether a search Bundle entry is a result (not an _include or an OperationOutcome).
bool is_match(const BundleEntry& entry) {
  return entry.search_mode.empty() || entry.search_mode == "match";
}

// The header of a search result in GET `url` of `table` (read into `storage` when the page scan
// did not read it): throws SourceError unless it is a `table` resource with an id.
BundleEntry::Header checked_header(const BundleEntry& entry, ResourceHeader& storage,
                                   const char* readable_end, std::string_view url,
                                   std::string_view table) {
  BundleEntry::Header header;
  if (entry.header) {
    header = *entry.header;
  } else {
    storage = read_resource_header(entry.resource, readable_end, url);
    header = {storage.resource_type, storage.id, storage.last_updated};
  }
  if (header.resource_type != table) {
    throw SourceError(fmt::format("fhir: GET {} returned a {} resource in a search of {}", url,
                                  header.resource_type.empty() ? "typeless" : header.resource_type,
                                  table));
  }
  if (header.id.empty()) {
    throw SourceError(fmt::format("fhir: GET {} returned a {} resource without an id", url, table));
  }
  return header;
}

RecordStream stream_of(RecordBatch batch) {
  if (batch.empty()) return RecordStream();
  return RecordStream::of(std::move(batch));
}

// `Type/id` or `Type/id/_history/vid` (relative or absolute) → id.
std::string id_from_reference(std::string_view reference, std::string_view type) {
  const std::string prefix = std::string(type) + "/";
  const std::size_t at = reference.rfind(prefix);
  if (at == std::string_view::npos) return {};
  std::string_view rest = reference.substr(at + prefix.size());
  if (const std::size_t history = rest.find("/_history"); history != std::string_view::npos) {
    rest = rest.substr(0, history);
  }
  // rfind may have matched inside `_history/...`: a version id never holds `Type/`.
  if (rest.find('/') != std::string_view::npos) return {};
  return std::string(rest);
}

// The history of a server that lists the newest entry first cannot be read in order page by page.
struct HistoryNewestFirst {};

// The entries of a type-history page, in page order. Entries without a time are left out unless
// they are deletes, which must be placed (SourceError). Throws HistoryNewestFirst when the entries
// are not in time order, unless `any_order`.
std::vector<FhirConnector::HistoryItem> history_items(BundlePages& pages,
                                                      const http::Response& page,
                                                      std::string_view table,
                                                      bool any_order = false) {
  std::vector<FhirConnector::HistoryItem> items;
  pages.for_each_entry(page, [&](const BundleEntry& entry) {
    FhirConnector::HistoryItem item;
    item.deleted = entry.request_method == "DELETE";
    item.id = id_from_reference(entry.request_url, table);
    if (item.id.empty()) item.id = id_from_reference(entry.full_url, table);
    const std::optional<std::int64_t> micros = parse_instant(entry.response_last_modified);
    if (item.deleted && (item.id.empty() || !micros)) {
      throw SourceError(fmt::format(
          "fhir: a DELETE entry in GET {} names no {}/<id> in request.url or fullUrl, or has "
          "no response.lastModified ('{}'); the connector needs both to place the deletion",
          page.url, table, entry.response_last_modified));
    }
    if (!micros) return;
    item.micros = *micros;
    item.last_modified = std::string(entry.response_last_modified);
    // Unique within an instant: a resource's delete and its other changes at the same instant
    // are distinct entries.
    item.key = item.deleted ? item.id
                            : fmt::format("{} {}", entry.request_method,
                                          item.id.empty() ? entry.full_url : item.id);
    if (!any_order && !items.empty() && item.micros < items.back().micros) {
      throw HistoryNewestFirst{};
    }
    items.push_back(std::move(item));
  });
  return items;
}

// Appends the record of a deletion: the key and cursor columns of the deleted resource.
void append_deletion(RecordBatch& batch, std::string& record, std::string_view table,
                     std::string_view id, std::string_view last_modified) {
  record = "{\"resourceType\":";
  append_json_string(record, table, false);
  record += ",\"id\":";
  append_json_string(record, id, false);
  record += kLastUpdatedMember;
  append_json_string(record, last_modified, false);
  record += kNoRawJsonMember;
  record += '}';
  batch.append(record);
}

// What the run summary says when a read paged a tie group by the server's next links.
std::string tie_paging_note(std::string_view table, bool history) {
  return fmt::format(
      "{}: more {} shared one instant than the largest page holds, so that group was read by "
      "following the server's next links; a server that pages by offset can skip a member of the "
      "group that changes during the read (sources/fhir/DESIGN.md, paging)",
      table, history ? "history entries" : "resources");
}

}  // namespace

Options http_options(const Options& options) {
  const std::string base_url = trim_trailing_slashes(options.get_string("base_url"));
  if (!base_url.starts_with("http://") && !base_url.starts_with("https://")) {
    throw ConfigError(
        fmt::format("fhir: base_url '{}' is not an http(s) URL; give the FHIR R4 base, e.g. "
                    "https://fhir.example.org/r4",
                    base_url));
  }
  const std::string auth_type =
      options.get_enum("auth_type", {"none", "bearer", "client_secret", "jwt_assertion"}, "none");
  Options mapped;
  for (const auto& [key, value] : options.values()) {
    if (key.starts_with("http.")) mapped.set(key, value);
  }
  mapped.set("base_url", base_url);
  auto copy_if_set = [&](std::string_view from, std::string to) {
    if (auto value = options.find(from); value && !value->empty()) {
      mapped.set(std::move(to), std::string(*value));
    }
  };
  if (auth_type == "none") {
    mapped.set("auth.type", "none");
  } else if (auth_type == "bearer") {
    mapped.set("auth.type", "bearer");
    mapped.set("auth.token", require_option(options, "token", auth_type));
  } else if (auth_type == "client_secret") {
    mapped.set("auth.type", "oauth2_client_credentials");
    mapped.set("auth.client_id", require_option(options, "client_id", auth_type));
    mapped.set("auth.client_secret", require_option(options, "client_secret", auth_type));
    mapped.set("auth.client_auth", "basic");
    copy_if_set("scope", "auth.scope");
    copy_if_set("token_url", "auth.token_url");
  } else {
    mapped.set("auth.type", "smart_backend_services");
    mapped.set("auth.client_id", require_option(options, "client_id", auth_type));
    mapped.set("auth.private_key_pem", require_option(options, "private_key_pem", auth_type));
    mapped.set("auth.kid", require_option(options, "kid", auth_type));
    mapped.set("auth.scope", require_option(options, "scope", auth_type));
    mapped.set("auth.algorithm",
               std::string(options.get_enum("private_key_algorithm", {"RS384", "ES384"}, "RS384")));
    copy_if_set("token_url", "auth.token_url");
  }
  return mapped;
}

FhirConnector::FhirConnector(const Options& connection_options)
    : LakeflowConnect(embedded_connector_spec(), connection_options) {
  const Options& options = this->options();  // checked against connector_spec.yaml
  Options mapped = http_options(options);
  base_url_ = std::string(*mapped.find("base_url"));
  const std::string auth_type = options.get_string("auth_type", "none");
  if (auth_type == "client_secret" && !mapped.contains("auth.token_url")) {
    mapped.set("auth.token_url", discover_token_url(base_url_, options));
  }
  client_ = http::HttpClient::from_options(mapped);

  read_until_micros_ = read_cap().micros;
  read_until_ = read_cap().text;

  const std::string metadata_url = base_url_ + "/metadata";
  http::Response metadata;
  try {
    metadata = client_->get(metadata_url, fhir_headers());
  } catch (const ConfigError& error) {
    // The auth provider throws ConfigError when the token endpoint rejects the credentials.
    throw ConfigError(fmt::format(
        "fhir: authentication step 'token request' (auth_type {}) failed: {} (auth.* are this "
        "connector's options without the prefix: client_id, client_secret, private_key_pem, kid, "
        "scope, token_url)",
        auth_type, error.what()));
  } catch (const http::HttpError& error) {
    if (error.status() == 401 || error.status() == 403) {
      throw ConfigError(fmt::format(
          "fhir: authentication step 'FHIR request' (auth_type {}) failed: the server refused "
          "the credentials (HTTP {}) for GET {}; check auth_type and its options",
          auth_type, error.status(), error.url()));
    }
    throw;
  }
  capabilities_ = parse_capability_statement(metadata.body, base_url_);

  std::vector<std::string> offered;
  for (const auto& [type, capability] : capabilities_.resources) {
    if (capability.search && is_r4_resource_type(type)) offered.push_back(type);
  }
  if (options.contains("resource_types")) {
    for (std::string& type : options.get_list("resource_types")) {
      if (!is_r4_resource_type(type)) {
        throw ConfigError(fmt::format(
            "fhir: resource_types names '{}', which is not a FHIR R4 resource type (names are "
            "case-sensitive, e.g. Patient, Observation)",
            type));
      }
      if (std::find(offered.begin(), offered.end(), type) == offered.end()) {
        throw ConfigError(fmt::format(
            "fhir: resource_types names '{}', but the server's CapabilityStatement does not offer "
            "search on it (interaction search-type); the server offers it on: {}",
            type, fmt::join(offered, ", ")));
      }
      if (std::find(tables_.begin(), tables_.end(), type) == tables_.end()) {
        tables_.push_back(std::move(type));
      }
    }
  } else {
    tables_ = std::move(offered);
  }
  if (tables_.empty()) {
    throw SourceError(fmt::format(
        "fhir: the server at {} offers search on no FHIR R4 resource type (CapabilityStatement "
        "rest[mode=server].resource[].interaction search-type)",
        base_url_));
  }
}

std::vector<std::string> FhirConnector::do_list_tables() { return tables_; }

StructType FhirConnector::do_get_table_schema(const TableContext& context) {
  const ReadSettings settings = read_settings(context);  // bad options are found before any read
  std::vector<StructField> fields = with_connector_columns(resource_schema(context.table)).fields();
  for (StructField& field : profile_columns(settings.profile, context.table)) {
    fields.push_back(std::move(field));
  }
  return StructType(std::move(fields));
}

bool FhirConnector::has_type_history(std::string_view table) const {
  const auto found = capabilities_.resources.find(table);
  return found != capabilities_.resources.end() && found->second.type_history;
}

TableMetadata FhirConnector::do_read_table_metadata(const TableContext& context) {
  const std::string_view table = context.table;
  (void)read_settings(context);
  TableMetadata metadata;
  metadata.primary_keys = {"id"};
  metadata.raw_record_column = std::string(kRawJsonColumn);
  if (!capabilities_.incremental_search(table)) {
    metadata.ingestion_type = IngestionType::kSnapshot;
    return metadata;
  }
  metadata.cursor_field = std::string(kLastUpdatedColumn);
  metadata.ingestion_type =
      has_type_history(table) ? IngestionType::kCdcWithDeletes : IngestionType::kCdc;
  return metadata;
}

FhirConnector::ReadSettings FhirConnector::read_settings(const TableContext& context) {
  try {
    const Options& options = context.table_options;
    const std::chrono::milliseconds page_delay =
        options.get_duration("page_delay", std::chrono::milliseconds::zero());
    if (page_delay > kMaxPageDelay) {
      throw ConfigError(fmt::format(
          "option 'page_delay': expected at most 60s (seconds as upstream writes them, e.g. 1.0, "
          "or with a unit: 250ms, 2s), got '{}'",
          *options.find("page_delay")));
    }
    // Upstream also takes resource_types per table: the table must be one of them.
    if (options.contains("resource_types")) {
      const std::vector<std::string> types = options.get_list("resource_types");
      if (std::find(types.begin(), types.end(), context.table) == types.end()) {
        throw ConfigError(fmt::format(
            "option 'resource_types' ({}) does not include the table; add {} to it or remove the "
            "option (the connection's resource_types chooses the tables)",
            fmt::join(types, ","), context.table));
      }
    }
    const std::optional<std::string_view> profile = options.find(kProfileOption);
    return ReadSettings{options.get_int("page_size", kDefaultPageSize, 1, kMaxPageSize),
                        kDefaultMaxRecordsPerBatch, page_delay,
                        profile && !profile->empty() ? parse_profile(*profile) : Profile::kBaseR4};
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("fhir: table '{}': {}", context.table, e.what()));
  }
}

std::optional<http::Response> FhirConnector::next_page(std::string_view table,
                                                       const ReadSettings& settings,
                                                       http::PageReader& pages) {
  return pacer_->fetch(table, settings.page_delay, [&pages] { return pages.next(); });
}

FhirConnector::ReadSettings FhirConnector::read_settings(const ReadContext& context) {
  ReadSettings settings = read_settings(static_cast<const TableContext&>(context));
  settings.max_records = context.max_records();
  return settings;
}

ReadResult FhirConnector::do_read_table(const ReadContext& call) {
  const std::string_view table = call.table;
  const Offset& start = call.start;
  const ReadSettings settings = read_settings(call);
  if (!capabilities_.incremental_search(table)) return read_snapshot(table, settings);
  TiePosition position =
      position_from_offset(start, fmt::format("the offset of table '{}'", table));
  if (const auto from = search_from(position); from && *from > read_until_micros_) {
    return ReadResult{RecordStream(), start};
  }
  KeysetQuery query;
  query.page_size = settings.page_size;
  query.max_page_size = kMaxPageSize;
  query.fetch = [&](http::PageReader& pages) { return next_page(table, settings, pages); };
  query.url = [&](const TiePosition& at, std::int64_t count) {
    std::string url = fmt::format("{}/{}?_sort=_lastUpdated&_count={}", base_url_, table, count);
    if (const auto from = search_from(at)) {
      url += "&_lastUpdated=ge" + http::percent_encode(format_instant(*from));
    }
    return url + "&_lastUpdated=le" + http::percent_encode(read_until_);
  };

  RecordBatch batch;
  std::string scratch;
  ResourceHeader header_storage;
  std::size_t pages_seen = 0;
  BundlePages bundle_pages;
  const auto visit = [&](const PageContext& context) {
    ++pages_seen;
    const http::Response& page = context.page;
    const char* readable_end = page.body.data() + page.body.capacity();
    PageScan scan;
    bundle_pages.for_each_entry(page, [&](const BundleEntry& entry) {
      if (scan.stopped || scan.shifted || entry.resource.empty() || !is_match(entry)) return;
      const BundleEntry::Header header =
          checked_header(entry, header_storage, readable_end, page.url, table);
      const std::optional<std::int64_t> micros = parse_instant(header.last_updated);
      if (!micros) {
        throw SourceError(
            fmt::format("fhir: {}/{} has no usable meta.lastUpdated ('{}'); the connector reads "
                        "incrementally over it and cannot place this resource",
                        table, header.id, header.last_updated));
      }
      check_search_result(table, header, *micros, context.query_lower, scan.last, page.url);
      ++scan.results;
      scan.last = *micros;
      const bool covered = position.covers(*micros, header.id);
      if (context.resumed && scan.results == 1 && !covered) {
        scan.shifted = true;
        return;
      }
      if (covered) return;
      position.advance(header.last_updated, *micros, header.id);
      append_record(batch, scratch, PageResource{table, entry.resource, readable_end, page.url},
                    header.last_updated, settings.profile);
      ++scan.delivered;
      scan.stopped = static_cast<std::int64_t>(batch.size()) >= settings.max_records;
    });
    return scan;
  };

  const std::string key(table);
  KeysetOutcome outcome;
  try {
    outcome = read_in_order(*client_, fhir_headers(), bundle_pages, position, query,
                            take_tie_page(key, start, settings.page_size), visit);
  } catch (const http::HttpError& error) {
    if (error.status() != 400 || pages_seen != 0) throw;
    throw SourceError(fmt::format(
        "fhir: the server refused the incremental search of {} ({}); the connector needs "
        "_lastUpdated with the ge/le prefixes and _sort=_lastUpdated on every table it reads: "
        "leave {} out of resource_types",
        table, error.what(), table));
  }
  if (outcome.exhausted) complete_before(position, read_until_micros_);
  Offset end = position.to_offset();
  if (outcome.resume) keep_tie_page(key, end, settings.page_size, *outcome.resume);
  if (batch.empty() && end == start) return ReadResult{RecordStream(), start};
  ReadResult result{stream_of(std::move(batch)), std::move(end)};
  if (outcome.tie_pages > 0) result.notes.push_back(tie_paging_note(table, false));
  return result;
}

std::optional<TiePage> FhirConnector::take_tie_page(const std::string& key, const Offset& start,
                                                    std::int64_t page_size) {
  const std::lock_guard lock(state_mutex_);
  const auto found = tie_pages_.find(key);
  if (found == tie_pages_.end()) return std::nullopt;
  std::optional<TiePage> page;
  if (found->second.offset == start.to_json() && found->second.page_size == page_size) {
    page = std::move(found->second.page);
  }
  tie_pages_.erase(found);
  return page;
}

void FhirConnector::keep_tie_page(const std::string& key, const Offset& end, std::int64_t page_size,
                                  TiePage page) {
  const std::lock_guard lock(state_mutex_);
  tie_pages_.insert_or_assign(key, TieContinuation{end.to_json(), page_size, std::move(page)});
}

bool FhirConnector::history_newest_first(std::string_view table) {
  const std::lock_guard lock(state_mutex_);
  return newest_first_history_.find(table) != newest_first_history_.end();
}

void FhirConnector::check_search_result(std::string_view table, const BundleEntry::Header& header,
                                        std::int64_t micros,
                                        std::optional<std::int64_t> query_lower,
                                        std::optional<std::int64_t> previous,
                                        std::string_view url) const {
  // A resource whose lastUpdated range ends before the lower bound, or starts after the cap, does
  // not match the search: the server ignored the parameter.
  if ((query_lower && micros + precision_micros(header.last_updated) <= *query_lower) ||
      micros > read_until_micros_) {
    throw SourceError(fmt::format(
        "fhir: the FHIR server appears to ignore the _lastUpdated search parameter: {}/{} "
        "(lastUpdated {}) came back for _lastUpdated between {} and {}; this connector needs a "
        "server that supports _lastUpdated with the ge/le prefixes",
        table, header.id, header.last_updated,
        query_lower ? format_instant(*query_lower) : "the start", read_until_));
  }
  if (previous && micros < *previous) {
    throw SourceError(fmt::format(
        "fhir: the FHIR server appears to ignore _sort=_lastUpdated: {}/{} (lastUpdated {}) came "
        "after a resource updated later, in GET {}; this connector needs results in lastUpdated "
        "order",
        table, header.id, header.last_updated, url));
  }
}

ReadResult FhirConnector::read_snapshot(std::string_view table, const ReadSettings& settings) {
  // Pages are fetched as the caller pulls them, one RecordBatch each, so a large table is never
  // held whole. The state owns what the stream needs: it may outlive this call.
  struct State {
    std::string table;
    std::shared_ptr<http::HttpClient> client;
    BundlePages bundle_pages;
    std::unique_ptr<http::PageReader> pages;
    std::shared_ptr<PagePacer> pacer;
    std::chrono::milliseconds page_delay;
    Profile profile;
    std::string scratch;
    ResourceHeader header_storage;
  };
  auto state = std::make_shared<State>();
  state->table = std::string(table);
  state->client = client_;
  state->pacer = pacer_;
  state->page_delay = settings.page_delay;
  state->profile = settings.profile;
  state->pages = std::make_unique<http::PageReader>(
      *state->client,
      state->bundle_pages.request(
          fmt::format("{}/{}?_count={}", base_url_, table, settings.page_size), fhir_headers()),
      state->bundle_pages.next_link());
  ReadResult result{
      RecordStream([state](RecordBatch& batch) {
        while (std::optional<http::Response> page = state->pacer->fetch(
                   state->table, state->page_delay, [&state] { return state->pages->next(); })) {
          const char* readable_end = page->body.data() + page->body.capacity();
          state->bundle_pages.for_each_entry(*page, [&](const BundleEntry& entry) {
            if (entry.resource.empty() || !is_match(entry)) return;
            const BundleEntry::Header header =
                checked_header(entry, state->header_storage, readable_end, page->url, state->table);
            append_record(batch, state->scratch,
                          PageResource{state->table, entry.resource, readable_end, page->url},
                          header.last_updated, state->profile);
          });
          if (!batch.empty()) return true;
        }
        return false;
      }),
      Offset::null()};
  result.notes.push_back(fmt::format(
      "{}: the server offers no search by _lastUpdated here, so the snapshot is paged by the "
      "server's next links; a server that pages by offset can leave out a resource that changes "
      "during the read, and the table then lacks it until the next run",
      table));
  return result;
}

ReadResult FhirConnector::do_read_table_deletes(const ReadContext& call) {
  const std::string_view table = call.table;
  const Offset& start = call.start;
  if (!capabilities_.incremental_search(table)) {
    throw NotImplementedError(fmt::format(
        "fhir: table '{}' is a snapshot table (the server offers no search by _lastUpdated on "
        "{}): resources missing from a snapshot are the deletions",
        table, table));
  }
  if (!has_type_history(table)) {
    throw NotImplementedError(fmt::format(
        "fhir: table '{}' is cdc: the server's CapabilityStatement offers no history-type "
        "interaction for {}, so deletions cannot be read",
        table, table));
  }
  const ReadSettings settings = read_settings(call);
  TiePosition position =
      position_from_offset(start, fmt::format("the deletes offset of table '{}'", table));
  if (!position.started()) {
    // A first read: no row this connector reads was deleted before it started, so deletions are
    // followed from after the read cap on.
    Offset offset(JsonValue::Object{{"cursor", read_until_}, {"complete", true}});
    return ReadResult{RecordStream(), offset};
  }
  if (*search_from(position) > read_until_micros_) return ReadResult{RecordStream(), start};
  if (std::optional<ReadResult> pending = take_pending_deletions(table, start, settings)) {
    return std::move(*pending);
  }
  BundlePages bundle_pages;
  if (history_newest_first(table)) {
    return read_deletes_newest_first(table, start, settings, bundle_pages, std::nullopt);
  }

  KeysetQuery query;
  query.page_size = settings.page_size;
  query.max_page_size = kMaxPageSize;
  query.fetch = [&](http::PageReader& pages) { return next_page(table, settings, pages); };
  query.min_page_size = 2;  // two entries show the order of the history
  query.url = [&](const TiePosition& at, std::int64_t count) {
    return fmt::format("{}/{}/_history?_since={}&_count={}", base_url_, table,
                       http::percent_encode(format_instant(*search_from(at))), count);
  };
  RecordBatch batch;
  std::string record;
  std::int64_t scanned = 0;
  std::optional<http::Response> newest_first_page;  // the page that showed the history's order
  const auto visit = [&](const PageContext& context) {
    std::vector<HistoryItem> items;
    try {
      items = history_items(bundle_pages, context.page, table);
    } catch (const HistoryNewestFirst&) {
      newest_first_page = context.page;
      // Bundles are parsed in place and need the padding HttpClient bodies carry.
      newest_first_page->body.reserve(newest_first_page->body.size() + kBodyPadding);
      throw;
    }
    PageScan scan;
    for (const HistoryItem& item : items) {
      if (item.micros > read_until_micros_) {
        scan.past_cap = true;
        break;
      }
      ++scan.results;
      scan.last = item.micros;
      const bool covered = position.covers(item.micros, item.key);
      if (context.resumed && scan.results == 1 && !covered) {
        scan.shifted = true;
        break;
      }
      if (covered) continue;
      position.advance(item.last_modified, item.micros, item.key);
      if (item.deleted) append_deletion(batch, record, table, item.id, item.last_modified);
      ++scan.delivered;
      if (++scanned >= settings.max_records) {
        scan.stopped = true;
        break;
      }
    }
    return scan;
  };

  const std::string key = std::string(table) + "/_history";
  KeysetOutcome outcome;
  try {
    outcome = read_in_order(*client_, fhir_headers(), bundle_pages, position, query,
                            take_tie_page(key, start, settings.page_size), visit);
  } catch (const HistoryNewestFirst&) {
    {
      const std::lock_guard lock(state_mutex_);
      newest_first_history_.insert(std::string(table));
    }
    return read_deletes_newest_first(table, start, settings, bundle_pages,
                                     std::move(newest_first_page));
  }
  if (outcome.exhausted) complete_before(position, read_until_micros_);
  Offset end = position.to_offset();
  if (outcome.resume) keep_tie_page(key, end, settings.page_size, *outcome.resume);
  if (batch.empty() && end == start) return ReadResult{RecordStream(), start};
  ReadResult result{stream_of(std::move(batch)), std::move(end)};
  if (outcome.tie_pages > 0) result.notes.push_back(tie_paging_note(table, true));
  return result;
}

// A server listing history newest first: every page since the position is read once, the deletions
// are ordered here and handed out a batch at a time; the rest wait in memory for the next call of
// the run (one deletion record each).
ReadResult FhirConnector::read_deletes_newest_first(std::string_view table, const Offset& start,
                                                    const ReadSettings& settings,
                                                    BundlePages& bundle_pages,
                                                    std::optional<http::Response> first_page) {
  TiePosition position =
      position_from_offset(start, fmt::format("the deletes offset of table '{}'", table));
  PendingDeletions pending;
  const auto take = [&](const http::Response& page) {
    for (HistoryItem& item : history_items(bundle_pages, page, table, /*any_order=*/true)) {
      if (item.micros > read_until_micros_ || position.covers(item.micros, item.key)) continue;
      if (!pending.newest || item.micros > pending.newest->micros) pending.newest = item;
      if (item.deleted) pending.deletions.push_back(std::move(item));
    }
  };
  // The first page may be the one the ordered read fetched before it saw the order.
  std::optional<std::string> url =
      fmt::format("{}/{}/_history?_since={}&_count={}", base_url_, table,
                  http::percent_encode(format_instant(*search_from(position))), settings.page_size);
  if (first_page) {
    take(*first_page);
    url = bundle_pages.next_link().next_url(first_page->url, *first_page);
  }
  if (url) {
    http::PageReader pages(*client_, bundle_pages.request(*url, fhir_headers()),
                           bundle_pages.next_link());
    while (std::optional<http::Response> page = next_page(table, settings, pages)) take(*page);
  }
  std::sort(pending.deletions.begin(), pending.deletions.end(),
            [](const HistoryItem& a, const HistoryItem& b) {
              return std::tie(a.micros, a.key) < std::tie(b.micros, b.key);
            });
  pending.deletions.erase(std::unique(pending.deletions.begin(), pending.deletions.end(),
                                      [](const HistoryItem& a, const HistoryItem& b) {
                                        return a.micros == b.micros && a.key == b.key;
                                      }),
                          pending.deletions.end());
  pending.position = std::move(position);
  return next_pending_batch(table, start, settings, std::move(pending));
}

ReadResult FhirConnector::next_pending_batch(std::string_view table, const Offset& start,
                                             const ReadSettings& settings,
                                             PendingDeletions pending) {
  RecordBatch batch;
  std::string record;
  std::size_t taken = 0;
  while (taken < pending.deletions.size() &&
         static_cast<std::int64_t>(batch.size()) < settings.max_records) {
    const HistoryItem& item = pending.deletions[taken++];
    pending.position.advance(item.last_modified, item.micros, item.key);
    append_deletion(batch, record, table, item.id, item.last_modified);
  }
  pending.deletions.erase(pending.deletions.begin(), pending.deletions.begin() + taken);
  if (pending.deletions.empty()) {
    // Everything up to the cap is read: the position moves to the newest history entry.
    if (pending.newest && !pending.position.covers(pending.newest->micros, pending.newest->key)) {
      pending.position.advance(pending.newest->last_modified, pending.newest->micros,
                               pending.newest->key);
    }
    complete_before(pending.position, read_until_micros_);
  }
  Offset end = pending.position.to_offset();
  if (!pending.deletions.empty()) {
    pending.offset = end.to_json();
    const std::lock_guard lock(state_mutex_);
    pending_deletions_.insert_or_assign(std::string(table), std::move(pending));
  }
  if (batch.empty() && end == start) return ReadResult{RecordStream(), start};
  return ReadResult{stream_of(std::move(batch)), std::move(end)};
}

std::optional<ReadResult> FhirConnector::take_pending_deletions(std::string_view table,
                                                                const Offset& start,
                                                                const ReadSettings& settings) {
  PendingDeletions pending;
  {
    const std::lock_guard lock(state_mutex_);
    const auto found = pending_deletions_.find(table);
    if (found == pending_deletions_.end()) return std::nullopt;
    const bool current = found->second.offset == start.to_json();
    if (current) pending = std::move(found->second);
    pending_deletions_.erase(found);
    if (!current) return std::nullopt;
  }
  return next_pending_batch(table, start, settings, std::move(pending));
}

LAKEFLOW_REGISTER_CONNECTOR("fhir", FhirConnector,
                            "FHIR R4 servers: one table per resource type, incremental over "
                            "meta.lastUpdated");

}  // namespace lakeflow::fhir
