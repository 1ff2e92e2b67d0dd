#include "hl7v2_gcp_store.h"

#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "lakeflow/cursor.h"
#include "lakeflow/error.h"
#include "lakeflow/http/auth.h"
#include "lakeflow/http/encoding.h"
#include "lakeflow/http/url.h"
#include "lakeflow/instant.h"
#include "lakeflow/json.h"
#include "lakeflow/text.h"

namespace lakeflow::hl7v2 {
namespace {

constexpr std::string_view kDefaultBaseUrl = "https://healthcare.googleapis.com/v1";
constexpr std::chrono::milliseconds kDefaultMaxArrivalDelay = std::chrono::minutes(5);
// The scope a service account's token asks for (the Healthcare API accepts it and its own).
constexpr std::string_view kCloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

std::string required(const Options& options, std::string_view key, std::string_view what) {
  const std::optional<std::string_view> value = options.find(key);
  if (!value || value->empty()) {
    throw ConfigError(
        fmt::format("hl7v2: option '{}' is required with source_type gcp: {}", key, what));
  }
  return std::string(*value);
}

// A path segment of the store's name: Google's IDs are letters, digits and `_-.`; anything else
// (a slash, a space) would name another resource, so it is refused rather than encoded.
std::string store_segment(const Options& options, std::string_view key, std::string_view what) {
  std::string value = required(options, key, what);
  for (const char c : value) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) {
      throw ConfigError(fmt::format(
          "hl7v2: option '{}' is '{}'; give the ID alone (letters, digits, '-', '_', '.'), not a "
          "path or URL",
          key, value));
    }
  }
  return value;
}

// The key file's JSON from the option's value: the JSON itself, or (as some connection forms
// deliver a file) its base64.
std::string service_account_key_text(std::string_view value) {
  const std::string_view trimmed = text::trim(value);
  if (!trimmed.starts_with('{')) {
    if (const std::optional<std::string> decoded = http::base64_decode(trimmed);
        decoded && text::trim(*decoded).starts_with('{')) {
      return *decoded;
    }
  }
  return std::string(trimmed);
}

[[noreturn]] void bad_offset(std::string_view table, const Offset& offset, std::string_view why) {
  throw ConfigError(fmt::format(
      "hl7v2: table '{}': offset {} is not an offset of this connector's gcp source ({}); "
      "expected {{\"cursor\": \"<sendTime>\", \"ids\": [...][, \"partial\": {{...}}]}}, or {{}} "
      "to read from the start",
      table, offset.to_json(), why));
}

// Splits an offset into the shared cursor-with-ties part and the partial message.
std::pair<TieCursor, std::optional<GcpStore::Partial>> parse_offset(std::string_view table,
                                                                    const Offset& start) {
  if (start.empty()) return {TieCursor(), std::nullopt};
  JsonValue::Object fields = start.value().as_object();
  std::optional<GcpStore::Partial> partial;
  if (const auto it = fields.find("partial"); it != fields.end()) {
    const JsonValue& p = it->second;
    const JsonValue* id = p.is_object() ? p.find("id") : nullptr;
    const JsonValue* send_time = p.is_object() ? p.find("send_time") : nullptr;
    const JsonValue* position = p.is_object() ? p.find("position") : nullptr;
    const JsonValue* segment = p.is_object() ? p.find("segment") : nullptr;
    if (id == nullptr || !id->is_string() || send_time == nullptr || !send_time->is_string() ||
        position == nullptr || !position->is_int() || position->as_int() < 0 ||
        segment == nullptr || !segment->is_int() || segment->as_int() < 0) {
      bad_offset(table, start, "\"partial\" needs id, send_time, position and segment");
    }
    const std::optional<std::int64_t> order = parse_instant(send_time->as_string());
    if (!order) bad_offset(table, start, "\"partial.send_time\" is not an instant");
    partial = GcpStore::Partial{id->as_string(), send_time->as_string(), *order,
                                static_cast<std::uint64_t>(position->as_int()),
                                static_cast<std::size_t>(segment->as_int())};
    fields.erase(it);
  }
  TieCursor cursor = TieCursor::from_offset(
      Offset(std::move(fields)), fmt::format("hl7v2: the offset of table '{}'", table),
      [](std::string_view value) { return parse_instant(value); });
  return {std::move(cursor), std::move(partial)};
}

Offset make_offset(const TieCursor& cursor, const std::optional<GcpStore::Partial>& partial) {
  Offset offset = cursor.to_offset();
  if (!partial) return offset;
  JsonValue::Object fields = offset.empty() ? JsonValue::Object{} : offset.value().as_object();
  fields.emplace("partial",
                 JsonValue(JsonValue::Object{
                     {"id", JsonValue(partial->id)},
                     {"send_time", JsonValue(partial->send_time)},
                     {"position", JsonValue(static_cast<std::int64_t>(partial->position))},
                     {"segment", JsonValue(static_cast<std::int64_t>(partial->segment))}}));
  return Offset(std::move(fields));
}

// The message's ID: its resource name after `/messages/`.
std::string message_id(std::string_view name) {
  const std::size_t at = name.rfind("/messages/");
  return std::string(at == std::string_view::npos ? name : name.substr(at + 10));
}

// Google's error message from an error body (`{"error": {"message": ...}}`), or empty.
std::string google_message(std::string_view body) {
  try {
    const JsonValue parsed = JsonValue::parse(body, "error body");
    const JsonValue* error = parsed.is_object() ? parsed.find("error") : nullptr;
    const JsonValue* message =
        error != nullptr && error->is_object() ? error->find("message") : nullptr;
    if (message != nullptr && message->is_string()) return message->as_string();
  } catch (const Error&) {
  }
  return {};
}

}  // namespace

GcpStore::GcpStore(const Options& options) {
  const std::string project = store_segment(options, "project_id", "the Google Cloud project ID");
  const std::string location =
      store_segment(options, "location", "the dataset's region, e.g. us-central1");
  const std::string dataset = store_segment(options, "dataset_id", "the Healthcare dataset ID");
  const std::string store = store_segment(options, "hl7v2_store_id", "the HL7v2 store ID");
  store_name_ = fmt::format("projects/{}/locations/{}/datasets/{}/hl7V2Stores/{}", project,
                            location, dataset, store);
  std::string base_url(options.get_string("base_url", kDefaultBaseUrl));
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  messages_url_ = fmt::format("{}/{}/messages", base_url, store_name_);
  filter_ = options.get_string("filter", "");
  max_arrival_delay_ = options.get_duration("max_arrival_delay", kDefaultMaxArrivalDelay);
  if (max_arrival_delay_.count() < 0) {
    throw ConfigError("hl7v2: option 'max_arrival_delay' is negative; give a duration like 5m");
  }
  const std::optional<std::string_view> token = options.find("access_token");
  const std::optional<std::string_view> key = options.find("service_account_json");
  if (token && key) {
    throw ConfigError(
        "hl7v2: options 'access_token' and 'service_account_json' are both set; give one");
  }
  service_account_ = key.has_value();
  if (key) {
    // The service account's key signs a token request; the token is renewed before it expires.
    auto token_client = http::HttpClient::from_options(Options{});
    const std::string key_text = service_account_key_text(*key);
    token_client->context().redactor->add_secret(*key);
    token_client->context().redactor->add_secret(key_text);
    auto auth = std::make_shared<http::GoogleServiceAccount>(
        http::GoogleServiceAccountKey::parse(key_text, "service_account_json"),
        std::string(kCloudPlatformScope), token_client);
    client_ = std::make_shared<http::HttpClient>(
        http::ClientConfig::from_options(Options{{"base_url", base_url}}), std::move(auth));
  } else {
    const std::string bearer = required(
        options, "access_token",
        "an OAuth 2.0 access token allowed healthcare.hl7V2Messages.list on the store (e.g. from "
        "`gcloud auth print-access-token`), or give 'service_account_json'");
    client_ = http::HttpClient::from_options(
        Options{{"base_url", base_url}, {"auth.type", "bearer"}, {"auth.token", bearer}});
  }
}

http::Response GcpStore::get_page(const std::string& url) const {
  try {
    return client_->get(url, {{"Accept", "application/json"}});
  } catch (const http::HttpError& error) {
    std::string what;
    switch (error.status()) {
      case 401:
        what = service_account_
                   ? "the store refused the service account's access token (HTTP 401); check "
                     "that the key in 'service_account_json' is active"
                   : "the store refused the access token (HTTP 401): it is invalid or expired "
                     "(tokens from `gcloud auth print-access-token` last one hour); give a fresh "
                     "'access_token'";
        break;
      case 403:
        what = fmt::format(
            "the access token's principal may not list the messages of {} (HTTP 403); grant it "
            "the permission healthcare.hl7V2Messages.list (role roles/healthcare.hl7V2Consumer) "
            "on the store or its dataset",
            store_name_);
        break;
      case 404:
        what = fmt::format(
            "the store {} does not exist (HTTP 404); check project_id, location, dataset_id and "
            "hl7v2_store_id",
            store_name_);
        break;
      case 400:
        what = fmt::format(
            "the store refused the query (HTTP 400){}",
            filter_.empty() ? "" : "; check the option 'filter' (Cloud Healthcare API syntax)");
        break;
      default:
        throw;
    }
    const std::string google = google_message(error.body_excerpt());
    throw http::HttpError(
        fmt::format("hl7v2: {}{}", what, google.empty() ? "" : fmt::format(" (\"{}\")", google)),
        error.status(), error.url(), error.attempts(), error.body_excerpt());
  }
}

GcpStore::ListedMessage GcpStore::listed_message(const JsonValue& message,
                                                 const TieCursor& cursor) const {
  const JsonValue* name = message.is_object() ? message.find("name") : nullptr;
  const JsonValue* send_time = message.is_object() ? message.find("sendTime") : nullptr;
  if (name == nullptr || !name->is_string() || send_time == nullptr || !send_time->is_string()) {
    throw SourceError(fmt::format(
        "hl7v2: the store {} listed a message without a name or sendTime; the listing cannot be "
        "read in send-time order",
        store_name_));
  }
  ListedMessage listed{message_id(name->as_string()), send_time->as_string(), 0,
                       message.find("data")};
  const std::optional<std::int64_t> order = parse_instant(listed.send_time);
  if (!order) {
    throw SourceError(fmt::format("hl7v2: message {} of {} has sendTime '{}', not an instant",
                                  listed.id, store_name_, listed.send_time));
  }
  listed.order = *order;
  if (cursor.started() && listed.order < *cursor.order()) {
    throw SourceError(fmt::format(
        "hl7v2: the store {} listed message {} (sendTime {}) after {}: the listing is not in "
        "send-time order",
        store_name_, listed.id, listed.send_time, cursor.cursor()));
  }
  return listed;
}

bool GcpStore::take_message(TableRead& read, const ListedMessage& listed,
                            std::optional<Partial>& partial) {
  const JsonValue* data = listed.data;
  const bool has_data = data != nullptr && data->is_string();
  const std::optional<std::string> text =
      has_data ? http::base64_decode(data->as_string()) : std::nullopt;
  if (!text || text->empty()) {
    read.take_malformed(listed.id, 0,
                        text ? "the store's message has no data"
                             : "the store's data field is missing or not base64",
                        has_data ? std::string_view(data->as_string()) : std::string_view());
    return true;
  }
  const bool resumed = partial && partial->id == listed.id;
  const UnitsEnd end = read.read_text(listed.id, *text, resumed ? partial->position : 0,
                                      resumed ? partial->segment : 0);
  if (!end.full || (end.byte >= text->size() && end.segment == 0)) return true;
  partial = Partial{listed.id, listed.send_time, listed.order, end.byte, end.segment};
  return false;
}

ReadResult GcpStore::read(const TableKind& table, const ReadContext& context) {
  const Offset& start = context.start;
  auto [cursor, partial] = parse_offset(context.table, start);
  const std::int64_t page_size = page_size_option(context);
  // Messages sent less than max_arrival_delay before the read cap wait for the next run.
  const std::int64_t cap_micros =
      context.read_cap.micros -
      std::chrono::duration_cast<std::chrono::microseconds>(max_arrival_delay_).count();
  if (cursor.started() && *cursor.order() >= cap_micros) return {RecordStream(), start};
  std::string filter;
  if (cursor.started()) filter = fmt::format("sendTime >= \"{}\" AND ", cursor.cursor());
  filter += fmt::format("sendTime < \"{}\"", format_instant(cap_micros - cap_micros % 1000000, 0));
  if (!filter_.empty()) filter += fmt::format(" AND ({})", filter_);
  std::string first_url = http::with_query_param(messages_url_, "view", "RAW_ONLY");
  first_url = http::with_query_param(first_url, "orderBy", "sendTime");
  first_url = http::with_query_param(first_url, "pageSize", std::to_string(page_size));
  first_url = http::with_query_param(first_url, "filter", filter);

  RecordBatch batch;
  TableRead read(table, context.max_records(), buffer_bytes_option(context), batch);
  std::string url = first_url;
  bool stopped = false;
  while (!stopped) {
    const http::Response page = get_page(url);
    JsonValue body = JsonValue::parse(page.body, "Cloud Healthcare API messages.list answer");
    const JsonValue* messages = body.is_object() ? body.find("hl7V2Messages") : nullptr;
    if (!body.is_object() ||
        (messages != nullptr && !messages->is_null() && !messages->is_array())) {
      throw SourceError(fmt::format(
          "hl7v2: {} answered something other than a messages.list response; check base_url",
          messages_url_));
    }
    if (messages != nullptr && messages->is_array()) {
      for (const JsonValue& message : messages->as_array()) {
        const ListedMessage listed = listed_message(message, cursor);
        if (cursor.covers(listed.order, listed.id)) continue;
        if (!take_message(read, listed, partial)) {
          stopped = true;  // the batch filled inside the message
          break;
        }
        cursor.advance(listed.send_time, listed.order, listed.id);
        if (partial && (partial->id == listed.id || partial->order < listed.order)) {
          partial.reset();
        }
        if (read.full()) {
          stopped = true;
          break;
        }
      }
    }
    if (stopped) break;
    const JsonValue* token = body.find("nextPageToken");
    if (token == nullptr || !token->is_string() || token->as_string().empty()) break;
    url = http::with_query_param(first_url, "pageToken", token->as_string());
  }
  Offset end_offset = make_offset(cursor, partial);
  if (end_offset == start) return {RecordStream(), start};
  return {RecordStream::of(std::move(batch)), std::move(end_offset)};
}

}  // namespace lakeflow::hl7v2
