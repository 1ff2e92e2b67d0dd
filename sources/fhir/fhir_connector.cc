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
#include "lakeflow/http/encoding.h"
#include "lakeflow/instant.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "schema/fhir_schema.h"

namespace lakeflow::fhir {
namespace {

constexpr std::int64_t kDefaultPageSize = 100;
constexpr std::int64_t kMaxPageSize = 1000;
constexpr std::int64_t kDefaultMaxRecordsPerBatch = 1000;
constexpr std::int64_t kMaxRecordsPerBatchLimit = 1000000;

const http::Headers& fhir_headers() {
  static const http::Headers headers{{"Accept", "application/fhir+json"}};
  return headers;
}

std::string trim_trailing_slashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// Options the connector reads itself; everything else must be an http.* option.
constexpr std::string_view kKnownOptions[] = {
    "base_url",  "auth_type",     "token",           "token_url",
    "client_id", "client_secret", "private_key_pem", "private_key_algorithm",
    "kid",       "scope",         "resource_types"};

bool is_known_option(std::string_view key) {
  return key.starts_with("http.") || std::find(std::begin(kKnownOptions), std::end(kKnownOptions),
                                               key) != std::end(kKnownOptions);
}

std::string require_option(const Options& options, std::string_view key,
                           std::string_view auth_type) {
  const std::optional<std::string_view> value = options.find(key);
  if (!value || value->empty()) {
    throw ConfigError(fmt::format("fhir: auth_type '{}' needs option '{}'", auth_type, key));
  }
  return std::string(*value);
}

// The token endpoint from [base]/.well-known/smart-configuration (SMART App Launch 2.0 §2.1).
std::string discover_token_url(const std::string& base_url, const Options& options) {
  Options plain;
  for (const auto& [key, value] : options.values()) {
    if (key.starts_with("http.")) plain.set(key, value);
  }
  const std::string url = base_url + "/.well-known/smart-configuration";
  http::Response response;
  try {
    response = http::HttpClient::from_options(plain)->get(url, {{"Accept", "application/json"}});
  } catch (const Error& error) {
    throw ConfigError(fmt::format(
        "fhir: authentication step 'token endpoint discovery' failed: {}; set token_url to the "
        "server's OAuth2 token endpoint",
        error.what()));
  }
  std::string token_url;
  try {
    const JsonValue configuration = JsonValue::parse(response.body, "smart-configuration");
    const JsonValue* endpoint = configuration.find("token_endpoint");
    if (endpoint != nullptr && endpoint->is_string()) token_url = endpoint->as_string();
  } catch (const Error&) {
  }
  if (token_url.empty()) {
    throw ConfigError(fmt::format(
        "fhir: authentication step 'token endpoint discovery' failed: GET {} returned no "
        "token_endpoint; set token_url to the server's OAuth2 token endpoint",
        url));
  }
  return token_url;
}

// `,"<column>":` for the columns the connector adds to each record.
const std::string kLastUpdatedMember = fmt::format(",\"{}\":", kLastUpdatedColumn);
const std::string kRawJsonMember = fmt::format(",\"{}\":", kRawJsonColumn);

// Appends one record: the resource's own members, then the cursor column (meta.lastUpdated) and
// the raw JSON column (the resource's text as the server sent it).
void append_record(RecordBatch& batch, std::string& scratch, std::string_view resource,
                   std::string_view last_updated) {
  while (!resource.empty() && resource.back() != '}') resource.remove_suffix(1);
  scratch.clear();
  scratch.append(resource.substr(0, resource.size() - 1));
  if (!last_updated.empty()) {
    scratch.append(kLastUpdatedMember);
    append_json_string(scratch, last_updated, /*ascii_only=*/false);
  }
  scratch.append(kRawJsonMember);
  append_json_string(scratch, resource, /*ascii_only=*/false);
  scratch.push_back('}');
  batch.append(scratch);
}

// How long the instant `text` stands for: FHIR compares a date-time as the range its precision
// covers, so `...:00Z` matches a search for `ge ...:00.500Z`. 1 s without fractional digits, 1 ms
// with three, down to 1 µs.
std::int64_t precision_micros(std::string_view text) {
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos) return 1000000;
  std::size_t digits = 0;
  while (dot + 1 + digits < text.size() && text[dot + 1 + digits] >= '0' &&
         text[dot + 1 + digits] <= '9') {
    ++digits;
  }
  std::int64_t precision = 1000000;
  for (std::size_t i = 0; i < digits && precision > 1; ++i) precision /= 10;
  return precision;
}

// Whether a search Bundle entry is a result (not an _include or an OperationOutcome).
bool is_match(const BundleEntry& entry) {
  return entry.search_mode.empty() || entry.search_mode == "match";
}

// The header of a search result in GET `url` of `table`: throws SourceError unless it is a `table`
// resource with an id.
ResourceHeader checked_header(const BundleEntry& entry, const char* readable_end,
                              std::string_view url, std::string_view table) {
  ResourceHeader header = read_resource_header(entry.resource, readable_end, url);
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

}  // namespace

Options http_options(const Options& options) {
  for (const auto& [key, value] : options.values()) {
    if (!is_known_option(key)) {
      throw ConfigError(fmt::format(
          "fhir: unknown option '{}'; the options are base_url, auth_type, token, token_url, "
          "client_id, client_secret, private_key_pem, private_key_algorithm, kid, scope, "
          "resource_types and the HTTP toolkit's http.* options",
          key));
    }
  }
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

FhirConnector::FhirConnector(const Options& options) : LakeflowConnect(options) {
  Options mapped = http_options(options);
  base_url_ = std::string(*mapped.find("base_url"));
  const std::string auth_type = options.get_string("auth_type", "none");
  if (auth_type == "client_secret" && !mapped.contains("auth.token_url")) {
    mapped.set("auth.token_url", discover_token_url(base_url_, options));
  }
  client_ = http::HttpClient::from_options(mapped);

  const auto now = std::chrono::system_clock::now();
  read_until_micros_ =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  read_until_ = format_instant(read_until_micros_);

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

std::vector<std::string> FhirConnector::list_tables() { return tables_; }

StructType FhirConnector::get_table_schema(std::string_view table,
                                           const Options& /*table_options*/) {
  require_table(table);
  return with_connector_columns(resource_schema(table));
}

bool FhirConnector::has_type_history(std::string_view table) const {
  const auto found = capabilities_.resources.find(table);
  return found != capabilities_.resources.end() && found->second.type_history;
}

TableMetadata FhirConnector::read_table_metadata(std::string_view table,
                                                 const Options& /*table_options*/) {
  require_table(table);
  TableMetadata metadata;
  metadata.primary_keys = {"id"};
  if (!capabilities_.incremental_search(table)) {
    metadata.ingestion_type = IngestionType::kSnapshot;
    return metadata;
  }
  metadata.cursor_field = std::string(kLastUpdatedColumn);
  metadata.ingestion_type =
      has_type_history(table) ? IngestionType::kCdcWithDeletes : IngestionType::kCdc;
  return metadata;
}

FhirConnector::ReadSettings FhirConnector::read_settings(std::string_view table,
                                                         const Options& table_options) {
  for (const auto& [key, value] : table_options.values()) {
    if (key != "page_size" && key != "max_records_per_batch") {
      throw ConfigError(fmt::format(
          "fhir: unknown table option '{}' for table '{}'; the table options are page_size and "
          "max_records_per_batch",
          key, table));
    }
  }
  return ReadSettings{table_options.get_int("page_size", kDefaultPageSize, 1, kMaxPageSize),
                      table_options.get_int("max_records_per_batch", kDefaultMaxRecordsPerBatch, 1,
                                            kMaxRecordsPerBatchLimit)};
}

ReadResult FhirConnector::read_table(std::string_view table, const Offset& start,
                                     const Options& table_options) {
  require_table(table);
  const ReadSettings settings = read_settings(table, table_options);
  if (!capabilities_.incremental_search(table)) return read_snapshot(table, settings);
  TiePosition position =
      TiePosition::from_offset(start, fmt::format("the offset of table '{}'", table));
  if (position.started() && *position.cursor_micros() >= read_until_micros_) {
    return ReadResult{RecordStream(), start};
  }
  const std::optional<std::int64_t> lower = position.cursor_micros();
  std::string url =
      fmt::format("{}/{}?_sort=_lastUpdated&_count={}", base_url_, table, settings.page_size);
  if (lower) url += "&_lastUpdated=ge" + http::percent_encode(format_instant(*lower));
  url += "&_lastUpdated=le" + http::percent_encode(read_until_);

  // Where this connector's previous read of the table stopped, if `start` is its end offset.
  std::optional<Continuation> continuation;
  {
    const std::lock_guard lock(continuation_mutex_);
    const auto found = continuations_.find(table);
    if (found != continuations_.end() && found->second.offset == start.to_json() &&
        found->second.page_size == settings.page_size) {
      continuation = found->second;
    }
  }

  RecordBatch batch;
  std::string scratch;
  std::string last_page_url;
  // Reads pages from `first_url`, a search whose lower bound is `query_lower`. With `resumed`, the
  // first page is the one the previous read stopped in: its first resource must have been
  // delivered already, or the result set shifted (resources left it), and false is returned so
  // the read starts over from the offset.
  const auto read_pages = [&](const std::string& first_url, std::optional<std::int64_t> query_lower,
                              bool resumed) {
    http::PageReader pages(*client_, http::Request::get(first_url, fhir_headers()), next_link_);
    std::int64_t previous = std::numeric_limits<std::int64_t>::min();
    while (static_cast<std::int64_t>(batch.size()) < settings.max_records) {
      std::optional<http::Response> page;
      try {
        page = pages.next();
      } catch (const http::HttpError& error) {
        if (resumed && pages.pages_read() == 0) return false;  // an expired or refused page link
        if (error.status() != 400 || pages.pages_read() != 0) throw;
        throw SourceError(fmt::format(
            "fhir: the server refused the incremental search of {} ({}); the connector needs "
            "_lastUpdated with the ge/le prefixes and _sort=_lastUpdated on every table it reads: "
            "leave {} out of resource_types",
            table, error.what(), table));
      }
      if (!page) break;
      const char* readable_end = page->body.data() + page->body.capacity();
      const bool checking_first = resumed && pages.pages_read() == 1;
      bool first = true;
      bool shifted = false;
      bool full = false;
      for_each_bundle_entry(page->body, page->url, [&](const BundleEntry& entry) {
        if (full || shifted || entry.resource.empty()) return;
        if (!is_match(entry)) return;
        const ResourceHeader header = checked_header(entry, readable_end, page->url, table);
        const std::optional<std::int64_t> micros = parse_instant(header.last_updated);
        if (!micros) {
          throw SourceError(
              fmt::format("fhir: {}/{} has no usable meta.lastUpdated ('{}'); the connector reads "
                          "incrementally over it and cannot place this resource",
                          table, header.id, header.last_updated));
        }
        if (checking_first && first && !position.covers(*micros, header.id)) {
          shifted = true;
          return;
        }
        first = false;
        // A resource whose lastUpdated range ends before the lower bound, or starts after the
        // cap, does not match the search: the server ignored the parameter.
        if ((query_lower && *micros + precision_micros(header.last_updated) <= *query_lower) ||
            *micros > read_until_micros_) {
          throw SourceError(fmt::format(
              "fhir: the FHIR server appears to ignore the _lastUpdated search parameter: {}/{} "
              "(lastUpdated {}) came back for _lastUpdated between {} and {}; this connector "
              "needs a server that supports _lastUpdated with the ge/le prefixes",
              table, header.id, header.last_updated,
              query_lower ? format_instant(*query_lower) : "the start", read_until_));
        }
        if (*micros < previous) {
          throw SourceError(fmt::format(
              "fhir: the FHIR server appears to ignore _sort=_lastUpdated: {}/{} (lastUpdated "
              "{}) came after a resource updated later, in GET {}; this connector needs results "
              "in lastUpdated order",
              table, header.id, header.last_updated, page->url));
        }
        previous = *micros;
        if (position.covers(*micros, header.id)) return;
        position.advance(header.last_updated, *micros, header.id);
        append_record(batch, scratch, entry.resource, header.last_updated);
        last_page_url = page->url;
        full = static_cast<std::int64_t>(batch.size()) >= settings.max_records;
      });
      if (shifted) return false;
    }
    return true;
  };

  std::optional<std::int64_t> query_lower = lower;
  bool done = false;
  if (continuation) {
    done = read_pages(continuation->page_url, continuation->query_lower, /*resumed=*/true);
    if (done) {
      query_lower = continuation->query_lower;
    } else {
      batch.clear();  // nothing was added: a shift is noticed at the first resource
      last_page_url.clear();
    }
  }
  if (!done) read_pages(url, lower, /*resumed=*/false);

  const std::lock_guard lock(continuation_mutex_);
  if (batch.empty()) {
    continuations_.erase(std::string(table));
    return ReadResult{RecordStream(), start};
  }
  Offset end = position.to_offset();
  continuations_.insert_or_assign(
      std::string(table),
      Continuation{end.to_json(), last_page_url, settings.page_size, query_lower});
  return ReadResult{stream_of(std::move(batch)), std::move(end)};
}

ReadResult FhirConnector::read_snapshot(std::string_view table, const ReadSettings& settings) {
  // Pages are fetched as the caller pulls them, one RecordBatch each, so a large table is never
  // held whole. The state owns what the stream needs: it may outlive this call.
  struct State {
    std::string table;
    std::shared_ptr<http::HttpClient> client;
    http::NextUrlInBody next_link{"link[relation=next].url"};
    std::unique_ptr<http::PageReader> pages;
    std::string scratch;
  };
  auto state = std::make_shared<State>();
  state->table = std::string(table);
  state->client = client_;
  state->pages = std::make_unique<http::PageReader>(
      *state->client,
      http::Request::get(fmt::format("{}/{}?_count={}", base_url_, table, settings.page_size),
                         fhir_headers()),
      state->next_link);
  return ReadResult{RecordStream([state](RecordBatch& batch) {
                      while (std::optional<http::Response> page = state->pages->next()) {
                        const char* readable_end = page->body.data() + page->body.capacity();
                        for_each_bundle_entry(page->body, page->url, [&](const BundleEntry& entry) {
                          if (entry.resource.empty() || !is_match(entry)) return;
                          const ResourceHeader header =
                              checked_header(entry, readable_end, page->url, state->table);
                          append_record(batch, state->scratch, entry.resource, header.last_updated);
                        });
                        if (!batch.empty()) return true;
                      }
                      return false;
                    }),
                    Offset::null()};
}

ReadResult FhirConnector::read_table_deletes(std::string_view table, const Offset& start,
                                             const Options& table_options) {
  require_table(table);
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
  const ReadSettings settings = read_settings(table, table_options);
  TiePosition position =
      TiePosition::from_offset(start, fmt::format("the deletes offset of table '{}'", table));
  if (!position.started()) {
    // A first read: no row this connector reads was deleted before it started, so deletions are
    // followed from the read cap on.
    Offset offset(JsonValue::Object{{"cursor", read_until_}, {"ids", JsonValue::Array{}}});
    return ReadResult{RecordStream(), offset};
  }
  if (*position.cursor_micros() >= read_until_micros_) return ReadResult{RecordStream(), start};

  // History order is the server's choice (FHIR lists newest first), so every page since the
  // cursor is read and the deletions are ordered here.
  struct Deletion {
    std::int64_t micros;
    std::string id;
    std::string last_modified;
  };
  std::vector<Deletion> deletions;
  const std::string url = fmt::format(
      "{}/{}/_history?_since={}&_count={}", base_url_, table,
      http::percent_encode(format_instant(*position.cursor_micros())), settings.page_size);
  http::PageReader pages(*client_, http::Request::get(url, fhir_headers()), next_link_);
  while (std::optional<http::Response> page = pages.next()) {
    for_each_bundle_entry(page->body, page->url, [&](const BundleEntry& entry) {
      if (entry.request_method != "DELETE") return;
      std::string id = id_from_reference(entry.request_url, table);
      if (id.empty()) id = id_from_reference(entry.full_url, table);
      const std::optional<std::int64_t> micros = parse_instant(entry.response_last_modified);
      if (id.empty() || !micros) {
        throw SourceError(fmt::format(
            "fhir: a DELETE entry in GET {} names no {}/<id> in request.url or fullUrl, or has "
            "no response.lastModified ('{}'); the connector needs both to place the deletion",
            page->url, table, entry.response_last_modified));
      }
      if (*micros > read_until_micros_ || position.covers(*micros, id)) return;
      deletions.push_back({*micros, std::move(id), std::string(entry.response_last_modified)});
    });
  }
  std::sort(deletions.begin(), deletions.end(), [](const Deletion& a, const Deletion& b) {
    return std::tie(a.micros, a.id) < std::tie(b.micros, b.id);
  });
  deletions.erase(std::unique(deletions.begin(), deletions.end(),
                              [](const Deletion& a, const Deletion& b) {
                                return a.micros == b.micros && a.id == b.id;
                              }),
                  deletions.end());
  RecordBatch batch;
  std::string record;
  for (const Deletion& deletion : deletions) {
    if (static_cast<std::int64_t>(batch.size()) >= settings.max_records) break;
    position.advance(deletion.last_modified, deletion.micros, deletion.id);
    record = "{\"resourceType\":";
    append_json_string(record, table, false);
    record += ",\"id\":";
    append_json_string(record, deletion.id, false);
    record += kLastUpdatedMember;
    append_json_string(record, deletion.last_modified, false);
    record += '}';
    batch.append(record);
  }
  if (batch.empty()) return ReadResult{RecordStream(), start};
  return ReadResult{stream_of(std::move(batch)), position.to_offset()};
}

LAKEFLOW_REGISTER_CONNECTOR("fhir", FhirConnector,
                            "FHIR R4 servers: one table per resource type, incremental over "
                            "meta.lastUpdated");

}  // namespace lakeflow::fhir
