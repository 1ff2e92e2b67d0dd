#include "dicomweb_connector.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <optional>
#include <set>
#include <utility>

#include "dicom_json.h"
#include "dicomweb_tables.h"
#include "lakeflow/error.h"
#include "lakeflow/http/encoding.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "lakeflow_connector_spec.h"
#include "qido_paging.h"

namespace lakeflow::dicomweb {
namespace {

namespace chr = std::chrono;

// StudyDate, the cursor: every row has a value ("" when the study has none), because the pipeline
// orders a key's changes by it.
constexpr std::uint32_t kStudyDateTag = 0x00080020;

// Restarts of a result list one read call allows (qido_paging.h) before it gives up.
constexpr int kMaxRestarts = 3;

const http::Headers& qido_headers() {
  static const http::Headers headers = {{"Accept", "application/dicom+json"}};
  return headers;
}

std::string trim_trailing_slashes(std::string text) {
  while (text.ends_with('/')) text.pop_back();
  return text;
}

// YYYYMMDD of a valid Gregorian date, else nullopt.
std::optional<chr::sys_days> parse_date(std::string_view text) {
  if (text.size() != 8 || !std::all_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      })) {
    return std::nullopt;
  }
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  std::from_chars(text.data(), text.data() + 4, y);
  std::from_chars(text.data() + 4, text.data() + 6, m);
  std::from_chars(text.data() + 6, text.data() + 8, d);
  const chr::year_month_day date{chr::year(y), chr::month(m), chr::day(d)};
  if (!date.ok()) return std::nullopt;
  return chr::sys_days(date);
}

std::string format_date(chr::sys_days days) {
  const chr::year_month_day date(days);
  return fmt::format("{:04}{:02}{:02}", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
}

// QIDO-RS query parameters the connector sets itself; a filter may not name them.
bool is_reserved(std::string_view key) {
  std::string lower(key);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower == "studydate" || lower == "00080020" || lower == "limit" || lower == "offset";
}

std::string filter_value(const JsonValue& value) {
  if (value.is_string()) return value.as_string();
  if (value.is_bool()) return value.as_bool() ? "true" : "false";
  return value.dump();  // numbers as written in canonical JSON
}

// The query parameters of a *_qido_filters option: a JSON object of strings, numbers or booleans,
// or arrays of them (repeated parameters: Modality=CT&Modality=MR).
void read_filters(const TableContext& context, std::string_view option,
                  std::vector<std::pair<std::string, std::string>>& out) {
  const std::optional<std::string_view> text = context.table_options.find(option);
  if (!text || text->find_first_not_of(" \t\r\n") == std::string_view::npos) return;
  const auto bad = [&](std::string_view why) {
    return ConfigError(fmt::format(
        "dicomweb: table '{}': option {} {}; give a JSON object of QIDO-RS query parameters, "
        "e.g. {{\"ModalitiesInStudy\": \"CT\"}} or {{\"Modality\": [\"CT\", \"MR\"]}}",
        context.table, option, why));
  };
  JsonValue filters;
  try {
    filters = JsonValue::parse(*text, option);
  } catch (const Error& error) {
    throw bad(fmt::format("is not JSON ({})", error.what()));
  }
  if (!filters.is_object()) throw bad("is not a JSON object");
  for (const auto& [key, value] : filters.as_object()) {
    if (is_reserved(key)) {
      throw ConfigError(fmt::format(
          "dicomweb: table '{}': option {} sets '{}', which the connector manages (StudyDate "
          "follows starting_date and lookback_days; limit and offset follow page_size); remove it",
          context.table, option, key));
    }
    const auto scalar = [](const JsonValue& v) {
      return v.is_string() || v.is_number() || v.is_bool();
    };
    if (scalar(value)) {
      out.emplace_back(key, filter_value(value));
    } else if (value.is_array() &&
               std::all_of(value.as_array().begin(), value.as_array().end(), scalar)) {
      for (const JsonValue& item : value.as_array()) out.emplace_back(key, filter_value(item));
    } else {
      throw bad(
          fmt::format("gives '{}' a value that is not a string, number, boolean or an array "
                      "of them",
                      key));
    }
  }
}

// Makes sure simdjson may read kPadding bytes past the body's end (HttpClient bodies already
// allow it) and returns how many it may.
std::size_t ensure_padding(std::string& body) {
  if (body.capacity() < body.size() + RecordBatch::kPadding) {
    body.reserve(body.size() + RecordBatch::kPadding);
  }
  return body.capacity() - body.size();
}

const JsonValue* member(const JsonValue& object, std::string_view key) {
  return object.is_object() ? object.find(key) : nullptr;
}

// The HTTP toolkit's options (lakeflow/http/auth.h) for the connection's: http.* as they are, and
// the authentication upstream chooses by the credentials given; `auth` names it for messages.
Options http_options(const Options& options, const std::string& base_url, std::string& auth) {
  const bool has_user = !options.get_string("username", "").empty();
  const bool has_password = !options.get_string("password", "").empty();
  const bool has_token = !options.get_string("token", "").empty();
  Options mapped;
  for (const auto& [key, value] : options.values()) {
    if (key.starts_with("http.")) mapped.set(key, value);
  }
  mapped.set("base_url", base_url);
  auth = "none";
  if (has_user != has_password) {
    throw ConfigError(fmt::format(
        "dicomweb: HTTP Basic authentication needs both username and password; {} is missing",
        has_user ? "password" : "username"));
  }
  if (has_user && has_token) {
    throw ConfigError(
        "dicomweb: give either username and password (HTTP Basic) or token (bearer), not both");
  }
  if (has_user) {
    auth = "basic";
    mapped.set("auth.type", "basic");
    mapped.set("auth.username", options.get_string("username"));
    mapped.set("auth.password", options.get_string("password"));
  } else if (has_token) {
    auth = "bearer";
    mapped.set("auth.type", "bearer");
    mapped.set("auth.token", options.get_string("token"));
  } else {
    mapped.set("auth.type", "none");
  }
  return mapped;
}

}  // namespace

struct DicomwebConnector::Settings {
  std::int64_t page_size = 100;
  std::string starting_date;  // "" or YYYYMMDD
  std::int64_t lookback_days = 1;
  std::vector<std::pair<std::string, std::string>> filters;
};

DicomwebConnector::DicomwebConnector(const Options& connection_options)
    : LakeflowConnect(embedded_connector_spec(), connection_options) {
  const Options& options = this->options();
  base_url_ = trim_trailing_slashes(options.get_string("base_url"));
  const std::size_t scheme_end = base_url_.find("//");
  const std::string_view after_scheme =
      std::string_view(base_url_).substr(scheme_end == std::string::npos ? 0 : scheme_end + 2);
  if (after_scheme.substr(0, after_scheme.find('/')).find('@') != std::string_view::npos) {
    // Never echo it: the part before '@' holds credentials.
    throw ConfigError(
        "dicomweb: base_url holds credentials (user:password@host); put them in the options "
        "username and password (or token) instead");
  }
  if (!base_url_.starts_with("http://") && !base_url_.starts_with("https://")) {
    throw ConfigError(
        fmt::format("dicomweb: base_url '{}' is not an http(s) URL; give the DICOMweb root, e.g. "
                    "http://localhost:8042/dicom-web",
                    base_url_));
  }
  std::string auth;
  client_ = http::HttpClient::from_options(http_options(options, base_url_, auth));

  std::string name = options.get_string("connection_name", "");
  if (name.empty()) name = base_url_;
  connection_name_json_ = "\"connection_name\":";
  append_json_string(connection_name_json_, name, false);
  run_ = read_cap().text;
  today_ = format_date(chr::floor<chr::days>(
      chr::sys_time<chr::microseconds>(chr::microseconds(read_cap().micros))));

  check_endpoint(auth);
}

void DicomwebConnector::check_endpoint(std::string_view auth) const {
  // One small search proves the URL and the credentials before any table is read.
  const std::string probe = base_url_ + "/studies?limit=1&includefield=0020000D";
  http::Response answer;
  try {
    answer = client_->get(probe, qido_headers());
  } catch (const http::HttpError& error) {
    if (error.status() == 401 || error.status() == 403) {
      throw ConfigError(fmt::format(
          "dicomweb: the server refused the credentials (HTTP {}, authentication: {}) for GET "
          "{}; check {}",
          error.status(), auth, error.url(),
          auth == "none" ? "whether the server needs username and password, or a token"
                         : (auth == "basic" ? "username and password" : "token")));
    }
    if (error.status() == 404 || error.status() == 405) {
      throw ConfigError(fmt::format(
          "dicomweb: GET {} answered HTTP {}: base_url does not lead to a QIDO-RS service; give "
          "the DICOMweb root, the one /studies lives under (Orthanc: http://host:8042/dicom-web)",
          error.url(), error.status()));
    }
    throw;
  }
  try {
    const std::size_t padding = ensure_padding(answer.body);
    split_objects(answer.body, padding, "the answer to GET " + probe);
  } catch (const SourceError& error) {
    throw ConfigError(fmt::format("{} (check base_url)", error.what()));
  }
}

std::vector<std::string> DicomwebConnector::do_list_tables() {
  std::vector<std::string> names;
  for (const TableDefinition& table : table_definitions()) names.emplace_back(table.name);
  return names;
}

StructType DicomwebConnector::do_get_table_schema(const TableContext& context) {
  settings(context);  // a bad table option fails here, before any read
  return table_schema(*find_table(context.table));
}

TableMetadata DicomwebConnector::do_read_table_metadata(const TableContext& context) {
  settings(context);
  const TableDefinition& table = *find_table(context.table);
  TableMetadata metadata;
  metadata.primary_keys = {std::string(table.key_column)};
  metadata.cursor_field = "study_date";
  metadata.ingestion_type = IngestionType::kCdc;
  metadata.raw_record_column = std::string(kDicomJsonColumn);
  return metadata;
}

DicomwebConnector::Settings DicomwebConnector::settings(const TableContext& context) const {
  const Options& options = context.table_options;
  Settings settings;
  const auto option_error = [&](std::string_view option, std::string_view why) {
    return ConfigError(
        fmt::format("dicomweb: table '{}': option {} {}", context.table, option, why));
  };
  try {
    settings.page_size = options.get_int("page_size", 100, 1, 10000);
    settings.lookback_days = options.get_int("lookback_days", 1, 0, 36500);
    // Upstream's options that shape Spark micro-batches and downloads: accepted, no effect here.
    options.get_int("window_days", 0, 0, 36500);
    options.get_int("num_partitions", 1, 1, 10000);
    options.get_int("max_concurrent_downloads", 1, 1, 10000);
  } catch (const ConfigError& error) {
    throw ConfigError(fmt::format("dicomweb: table '{}': {}", context.table, error.what()));
  }
  if (const auto date = options.find("starting_date"); date && !date->empty()) {
    if (!parse_date(*date)) {
      throw option_error(
          "starting_date",
          fmt::format("is '{}', not a date written YYYYMMDD (e.g. 20240101)", *date));
    }
    settings.starting_date = std::string(*date);
  }
  for (const std::string_view option : {"fetch_dicom_files", "fetch_metadata"}) {
    if (const auto value = options.find(option); value && !value->empty()) {
      std::string lower(*value);
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower != "false") {
        throw option_error(option, fmt::format("is '{}': this connector reads metadata through "
                                               "QIDO-RS only and downloads no DICOM files or "
                                               "WADO-RS metadata; remove the option or set false",
                                               *value));
      }
    }
  }
  read_filters(context, "study_qido_filters", settings.filters);
  if (context.table != "studies") read_filters(context, "series_qido_filters", settings.filters);
  if (context.table == "instances") {
    read_filters(context, "instance_qido_filters", settings.filters);
  } else if (context.table == kInstanceMetadataTable &&
             !context.table_options.get_string("instance_qido_filters", "").empty()) {
    throw option_error("instance_qido_filters",
                       "does not apply: instance_metadata reads every instance of the series the "
                       "series search finds; narrow it with series_qido_filters");
  }
  return settings;
}

std::string DicomwebConnector::search_url(const TableDefinition& table, const Settings& settings,
                                          const std::string& from, std::int64_t offset,
                                          std::int64_t limit) const {
  std::string url =
      fmt::format("{}/{}?includefield={}", base_url_, table.name, include_fields(table));
  if (!from.empty()) fmt::format_to(std::back_inserter(url), "&StudyDate={}-", from);
  for (const auto& [key, value] : settings.filters) {
    fmt::format_to(std::back_inserter(url), "&{}={}", http::percent_encode(key),
                   http::percent_encode(value));
  }
  fmt::format_to(std::back_inserter(url), "&limit={}&offset={}", limit, offset);
  return url;
}

// Where a read call starts: the pass (its StudyDate lower bound and the date it started on), the
// position in its list, and for instance_metadata the series it stopped inside.
struct DicomwebConnector::PassStart {
  std::string from;     // "" (every study) or YYYYMMDD
  std::string through;  // the UTC date the pass started on
  ListPosition position;
  std::string series;  // instance_metadata: the series a read stopped inside ("" when none)
  std::string after;   // ... and the last SOP instance UID delivered of it
  bool done = false;   // this instance completed the pass: nothing more this run
};

DicomwebConnector::PassStart DicomwebConnector::pass_start(const ReadContext& context,
                                                           const Settings& settings) const {
  const Offset& start = context.start;
  const auto bad_offset = [&](std::string_view why) {
    return ConfigError(fmt::format(
        "dicomweb: table '{}': offset {} {}; give {{}} to read from the start, or an offset this "
        "connector returned",
        context.table, start.to_json(), why));
  };
  PassStart pass;
  pass.through = today_;
  if (start.is_null()) throw bad_offset("is null");
  const JsonValue* position = start.find("pass");
  const JsonValue* through = start.find("through");
  if (through != nullptr && (!through->is_string() || !parse_date(through->as_string()))) {
    throw bad_offset("has a 'through' that is not a date written YYYYMMDD");
  }
  if (start.empty()) {
    pass.from = settings.starting_date;
  } else if (position != nullptr) {
    const JsonValue* from = member(*position, "from");
    const JsonValue* consumed = member(*position, "consumed");
    const JsonValue* anchors = member(*position, "anchors");
    if (from == nullptr || !from->is_string() ||
        (!from->as_string().empty() && !parse_date(from->as_string())) || consumed == nullptr ||
        !consumed->is_int() || consumed->as_int() < 0 || anchors == nullptr ||
        !anchors->is_array() || through == nullptr) {
      throw bad_offset("is not a pass position (pass.from, pass.consumed, pass.anchors, through)");
    }
    pass.from = from->as_string();
    pass.through = through->as_string();
    pass.position.consumed = consumed->as_int();
    for (const JsonValue& anchor : anchors->as_array()) {
      if (!anchor.is_string()) throw bad_offset("has an anchor that is not a string");
      pass.position.anchors.push_back(anchor.as_string());
    }
    if (const JsonValue* series = member(*position, "series"); series != nullptr) {
      const JsonValue* uid = member(*series, "uid");
      const JsonValue* after = member(*series, "after");
      if (uid == nullptr || !uid->is_string() || after == nullptr || !after->is_string()) {
        throw bad_offset("has a pass.series without uid and after");
      }
      pass.series = uid->as_string();
      pass.after = after->as_string();
    }
  } else if (through != nullptr) {
    const JsonValue* run = start.find("run");
    if (run == nullptr || !run->is_string()) throw bad_offset("has 'through' without 'run'");
    pass.done = run->as_string() == run_;
    pass.from = format_date(*parse_date(through->as_string()) - chr::days(settings.lookback_days));
  } else {
    throw bad_offset("is not one this connector wrote");
  }
  return pass;
}

DicomwebConnector::ListRead DicomwebConnector::walk_list(const ListWalk& walk, PassStart& pass,
                                                         std::vector<RecordBatch>& batches) const {
  ListRead read;
  std::set<std::string, std::less<>> delivered;  // in this call, for a restarted list
  std::vector<ObjectMembers> members;
  std::vector<std::string_view> keys;
  for (;;) {
    const std::int64_t page_size = walk.page_size();
    if (page_size <= 0) return read;  // the read call is full
    const PageRequest request = next_request(pass.position, page_size);
    const std::string url =
        search_url(*walk.list, *walk.settings, pass.from, request.offset, request.limit);
    // Rows copy their object (append_with_members), so the page's body is not kept.
    http::Response answer = client_->get(url, qido_headers());
    const std::size_t padding = ensure_padding(answer.body);
    const std::vector<std::string_view> objects =
        split_objects(answer.body, padding, "the answer to GET " + url);
    RecordBatch batch;
    members.clear();
    keys.clear();
    for (const std::string_view object : objects) {
      members.push_back(read_object(object, padding, walk.list->columns, walk.list->key_tag,
                                    "a result of GET " + url, kStudyDateTag));
    }
    for (std::size_t i = 0; i < objects.size(); ++i) {
      // A result without its UID is still a result: its text stands for it.
      keys.push_back(members[i].key.empty() ? objects[i] : std::string_view(members[i].key));
    }
    const std::optional<std::size_t> first = first_new(pass.position, keys);
    if (!first) {
      if (++read.restarts > kMaxRestarts) {
        throw SourceError(fmt::format(
            "dicomweb: table '{}': the server's result list for GET {} kept changing by more "
            "than {} results between two pages ({} restarts); rerun later, or use a larger "
            "page_size",
            walk.table, url, kAnchors, kMaxRestarts));
      }
      pass.position = ListPosition{};
      continue;
    }
    if (*first == objects.size()) {
      read.exhausted = true;
      return read;
    }
    const ListPosition before = pass.position;
    bool stopped = false;
    for (std::size_t i = *first; i < objects.size(); ++i) {
      const std::string_view key = keys[i];
      if (!is_anchor(before, key) && !delivered.contains(key)) {
        if (!walk.visit(batch, objects[i], members[i], batches)) {
          stopped = true;
          break;
        }
        delivered.emplace(key);
      }
      advance(pass.position, request, i, key);
    }
    if (!batch.empty()) batches.push_back(std::move(batch));
    if (stopped) return read;
  }
}

ReadResult DicomwebConnector::do_read_table(const ReadContext& context) {
  const TableDefinition& table = *find_table(context.table);
  const Settings settings = this->settings(context);
  PassStart pass = pass_start(context, settings);
  if (pass.done) return ReadResult{RecordStream(), context.start};

  std::vector<RecordBatch> batches;
  std::int64_t room = context.max_records();
  ListWalk walk;
  walk.table = context.table;
  walk.settings = &settings;
  if (table.name == kInstanceMetadataTable) {
    walk.list = find_table("series");
    walk.page_size = [&] { return room > 0 ? settings.page_size : 0; };
    walk.visit = [&](RecordBatch&, std::string_view series, ObjectMembers&,
                     std::vector<RecordBatch>& out) {
      return read_series_metadata(table, series, pass, room, out);
    };
  } else {
    walk.list = &table;
    walk.page_size = [&] { return std::min(settings.page_size, room); };
    walk.visit = [&](RecordBatch& page, std::string_view object, ObjectMembers& members,
                     std::vector<RecordBatch>&) {
      if (room == 0) return false;
      append_row(page, object, members);
      --room;
      return true;
    };
  }
  const ListRead read = walk_list(walk, pass, batches);

  ReadResult result;
  result.records = RecordStream::of(std::move(batches));
  JsonValue::Object end{{"through", JsonValue(pass.through)}};
  if (read.exhausted) {
    end.emplace("run", JsonValue(run_));
  } else {
    JsonValue::Array anchors;
    for (const std::string& anchor : pass.position.anchors) anchors.emplace_back(anchor);
    JsonValue::Object position{{"from", JsonValue(pass.from)},
                               {"consumed", JsonValue(pass.position.consumed)},
                               {"anchors", JsonValue(std::move(anchors))}};
    if (!pass.series.empty()) {
      position.emplace("series", JsonValue(JsonValue::Object{{"uid", JsonValue(pass.series)},
                                                             {"after", JsonValue(pass.after)}}));
    }
    end.emplace("pass", JsonValue(std::move(position)));
  }
  result.end = Offset(std::move(end));
  if (read.restarts > 0) {
    result.notes.push_back(fmt::format(
        "{}: the server's result list changed by more than {} results between two pages, so the "
        "read started the list again; rows read before the restart in earlier read calls may come "
        "again (they are upserted by UID, so the table holds each once)",
        context.table, kAnchors));
  }
  return result;
}

void DicomwebConnector::append_row(RecordBatch& batch, std::string_view object,
                                   ObjectMembers& members) const {
  std::string text = std::move(members.members);
  if (!text.empty()) text.push_back(',');
  text += connection_name_json_;
  batch.append_with_members(object, text);
}

bool DicomwebConnector::read_series_metadata(const TableDefinition& table, std::string_view series,
                                             PassStart& pass, std::int64_t& room,
                                             std::vector<RecordBatch>& out) const {
  if (room == 0) return false;
  const std::string study_uid =
      text_value(series, RecordBatch::kPadding, 0x0020000D, "a series of the series search");
  const std::string series_uid =
      text_value(series, RecordBatch::kPadding, 0x0020000E, "a series of the series search");
  if (study_uid.empty() || series_uid.empty()) {
    throw SourceError(fmt::format(
        "dicomweb: table '{}': the series search returned a series without StudyInstanceUID or "
        "SeriesInstanceUID; its metadata cannot be asked for",
        table.name));
  }
  const std::string url =
      fmt::format("{}/studies/{}/series/{}/metadata", base_url_, http::percent_encode(study_uid),
                  http::percent_encode(series_uid));
  // The rows are copied into the call's one batch (append_with_members copies), so the body is
  // not kept: a call holds max_records_per_batch rows, however many series they come from.
  http::Response answer = client_->get(url, qido_headers());
  const std::size_t padding = ensure_padding(answer.body);
  const std::vector<std::string_view> objects =
      split_objects(answer.body, padding, "the answer to GET " + url);
  if (out.empty()) out.emplace_back();
  RecordBatch& batch = out.back();
  // In SOP Instance UID order, so a read that stops inside the series resumes after a UID.
  std::vector<std::pair<ObjectMembers, std::string_view>> instances;
  for (const std::string_view object : objects) {
    instances.emplace_back(read_object(object, padding, table.columns, table.key_tag,
                                       "an instance of GET " + url, kStudyDateTag),
                           object);
  }
  std::sort(instances.begin(), instances.end(),
            [](const auto& a, const auto& b) { return a.first.key < b.first.key; });
  const std::string after = pass.series == series_uid ? pass.after : std::string();
  bool complete = true;
  for (auto& [members, object] : instances) {
    if (!after.empty() && members.key <= after) continue;
    if (room == 0) {
      complete = false;
      break;
    }
    pass.series = series_uid;
    pass.after = members.key;
    append_row(batch, object, members);
    --room;
  }
  if (!complete) return false;
  pass.series.clear();
  pass.after.clear();
  return true;
}

LAKEFLOW_REGISTER_CONNECTOR(
    "dicomweb", DicomwebConnector,
    "DICOMweb imaging metadata: studies, series, instances (QIDO-RS), instance_metadata (WADO-RS)");

}  // namespace lakeflow::dicomweb
