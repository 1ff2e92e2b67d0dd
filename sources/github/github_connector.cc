#include "github_connector.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lakeflow/cursor.h"
#include "lakeflow/error.h"
#include "lakeflow/http/encoding.h"
#include "lakeflow/http/jwt.h"
#include "lakeflow/http/pagination.h"
#include "lakeflow/http/url.h"
#include "lakeflow/instant.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "lakeflow_connector_spec.h"  // generated from connector_spec.yaml by the build

namespace lakeflow::github {
namespace {

constexpr std::string_view kDefaultBaseUrl = "https://api.github.com";
constexpr std::int64_t kMaxPageSize = 100;  // GitHub's largest per_page

const http::Headers& api_headers() {
  static const http::Headers headers = {{"Accept", "application/vnd.github+json"},
                                        {"X-GitHub-Api-Version", "2022-11-28"}};
  return headers;
}

// ----- Schemas (github_api_doc.md, "Object schemas") ------------------------------------------

DataType user() {
  return StructType{{"login", DataType::String()},       {"id", DataType::Long()},
                    {"node_id", DataType::String()},     {"type", DataType::String()},
                    {"site_admin", DataType::Boolean()}, {"html_url", DataType::String()}};
}

DataType label() {
  return StructType{{"id", DataType::Long()},
                    {"name", DataType::String()},
                    {"color", DataType::String()},
                    {"description", DataType::String()}};
}

DataType git_actor() {
  return StructType{
      {"name", DataType::String()}, {"email", DataType::String()}, {"date", DataType::Timestamp()}};
}

DataType branch_ref() {
  return StructType{
      {"label", DataType::String()}, {"ref", DataType::String()}, {"sha", DataType::String()}};
}

StructType repositories_schema() {
  return StructType{
      {"id", DataType::Long(), false},
      {"node_id", DataType::String()},
      {"name", DataType::String()},
      {"full_name", DataType::String()},
      {"private", DataType::Boolean()},
      {"owner", user()},
      {"html_url", DataType::String()},
      {"description", DataType::String()},
      {"fork", DataType::Boolean()},
      {"language", DataType::String()},
      {"default_branch", DataType::String()},
      {"visibility", DataType::String()},
      {"archived", DataType::Boolean()},
      {"disabled", DataType::Boolean()},
      {"topics", DataType::Array(DataType::String())},
      {"license", StructType{{"key", DataType::String()},
                             {"name", DataType::String()},
                             {"spdx_id", DataType::String()}}},
      {"stargazers_count", DataType::Long()},
      {"watchers_count", DataType::Long()},
      {"forks_count", DataType::Long()},
      {"open_issues_count", DataType::Long()},
      {"size", DataType::Long()},
      {"created_at", DataType::Timestamp()},
      {"updated_at", DataType::Timestamp()},
      {"pushed_at", DataType::Timestamp()},
  };
}

StructType issues_schema() {
  return StructType{
      {"id", DataType::Long(), false},
      {"node_id", DataType::String()},
      {"number", DataType::Long()},
      {"title", DataType::String()},
      {"state", DataType::String()},
      {"state_reason", DataType::String()},
      {"locked", DataType::Boolean()},
      {"user", user()},
      {"labels", DataType::Array(label())},
      {"assignees", DataType::Array(user())},
      {"milestone", StructType{{"id", DataType::Long()},
                               {"number", DataType::Long()},
                               {"title", DataType::String()},
                               {"state", DataType::String()}}},
      {"comments", DataType::Long()},
      {"body", DataType::String()},
      {"author_association", DataType::String()},
      {"html_url", DataType::String()},
      {"closed_at", DataType::Timestamp()},
      {"created_at", DataType::Timestamp()},
      {"updated_at", DataType::Timestamp(), false},
  };
}

StructType pull_requests_schema() {
  return StructType{
      {"id", DataType::Long(), false},
      {"node_id", DataType::String()},
      {"number", DataType::Long()},
      {"title", DataType::String()},
      {"state", DataType::String()},
      {"locked", DataType::Boolean()},
      {"draft", DataType::Boolean()},
      {"user", user()},
      {"labels", DataType::Array(label())},
      {"body", DataType::String()},
      {"head", branch_ref()},
      {"base", branch_ref()},
      {"merge_commit_sha", DataType::String()},
      {"author_association", DataType::String()},
      {"html_url", DataType::String()},
      {"created_at", DataType::Timestamp()},
      {"updated_at", DataType::Timestamp(), false},
      {"closed_at", DataType::Timestamp()},
      {"merged_at", DataType::Timestamp()},
  };
}

StructType commits_schema() {
  return StructType{
      {"sha", DataType::String(), false},
      {"node_id", DataType::String()},
      {"commit", StructType{{"author", git_actor()},
                            {"committer", git_actor()},
                            {"message", DataType::String()},
                            {"comment_count", DataType::Long()}}},
      {"author", user()},
      {"committer", user()},
      {"parents", DataType::Array(StructType{{"sha", DataType::String()}})},
      {"html_url", DataType::String()},
  };
}

StructType issue_comments_schema() {
  return StructType{
      {"id", DataType::Long(), false},
      {"node_id", DataType::String()},
      {"issue_url", DataType::String()},
      {"user", user()},
      {"body", DataType::String()},
      {"author_association", DataType::String()},
      {"html_url", DataType::String()},
      {"created_at", DataType::Timestamp()},
      {"updated_at", DataType::Timestamp(), false},
  };
}

StructType releases_schema() {
  return StructType{
      {"id", DataType::Long(), false},
      {"node_id", DataType::String()},
      {"tag_name", DataType::String()},
      {"target_commitish", DataType::String()},
      {"name", DataType::String()},
      {"body", DataType::String()},
      {"draft", DataType::Boolean()},
      {"prerelease", DataType::Boolean()},
      {"author", user()},
      {"html_url", DataType::String()},
      {"created_at", DataType::Timestamp()},
      {"published_at", DataType::Timestamp()},
      {"assets", DataType::Array(StructType{{"id", DataType::Long()},
                                            {"name", DataType::String()},
                                            {"content_type", DataType::String()},
                                            {"size", DataType::Long()},
                                            {"download_count", DataType::Long()},
                                            {"browser_download_url", DataType::String()},
                                            {"created_at", DataType::Timestamp()},
                                            {"updated_at", DataType::Timestamp()}})},
  };
}

StructType contributors_schema() {
  return StructType{
      {"id", DataType::Long(), false},     {"login", DataType::String()},
      {"node_id", DataType::String()},     {"type", DataType::String()},
      {"site_admin", DataType::Boolean()}, {"contributions", DataType::Long()},
      {"html_url", DataType::String()},
  };
}

// ----- Options and auth ----------------------------------------------------------------------

std::string required(const Options& options, std::string_view key, std::string_view example) {
  const auto value = options.find(key);
  if (!value || value->empty()) {
    throw ConfigError(
        fmt::format("github: connection option '{}' is required (e.g. {})", key, example));
  }
  return std::string(*value);
}

// An installation token for a GitHub App: a JWT signed with the app's key, exchanged at
// POST /app/installations/{installation_id}/access_tokens (valid one hour; a read that outlives
// it fails with 401 and a new connector fetches a new one).
std::string installation_token(const std::string& base_url, const Options& options) {
  const std::string app_id = required(options, "app_id", "--option app_id=123456");
  const std::string installation =
      required(options, "installation_id", "--option installation_id=789");
  const std::string key = required(options, "app_private_key", "the app's PEM private key");
  const http::JwtSigner signer(key, http::JwtAlgorithm::kRS256, "", "app_private_key");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  // GitHub: iat 60 s in the past against clock drift, exp at most 10 minutes ahead.
  const std::string jwt = signer.sign(JsonValue(JsonValue::Object{
      {"iat", JsonValue(now - 60)}, {"exp", JsonValue(now + 540)}, {"iss", JsonValue(app_id)}}));
  Options client_options{{"base_url", base_url}};
  auto client = http::HttpClient::from_options(client_options);
  client->context().redactor->add_secret(jwt);
  http::Request request;
  request.method = http::Method::kPost;
  request.url = fmt::format("{}/app/installations/{}/access_tokens", base_url,
                            http::percent_encode(installation));
  request.headers = api_headers();
  request.headers.emplace_back("Authorization", "Bearer " + jwt);
  request.idempotent = true;
  const http::Response response = client->send(std::move(request));
  const JsonValue body = JsonValue::parse(response.body, "installation token response");
  const JsonValue* token = body.is_object() ? body.find("token") : nullptr;
  if (token == nullptr || !token->is_string() || token->as_string().empty()) {
    throw SourceError(
        "github: the installation token response has no \"token\"; check app_id, "
        "installation_id and that the app is installed on the repository's owner");
  }
  client->context().redactor->add_secret(token->as_string());
  return token->as_string();
}

std::int64_t page_size_of(const TableContext& context) {
  try {
    return context.table_options.get_int("page_size", kMaxPageSize, 1, kMaxPageSize);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("github: table '{}': {}", context.table, e.what()));
  }
}

const JsonValue* field_at(const JsonValue& record, std::string_view path) {
  const JsonValue* value = &record;
  while (!path.empty()) {
    if (!value->is_object()) return nullptr;
    const std::size_t dot = path.find('.');
    value = value->find(path.substr(0, dot));
    if (value == nullptr) return nullptr;
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  return value;
}

JsonValue::Array page_records(const http::Response& response, std::string_view table) {
  JsonValue page = JsonValue::parse(response.body, fmt::format("github {} page", table));
  if (!page.is_array()) {
    throw SourceError(
        fmt::format("github: {} answered something other than a JSON array for "
                    "table '{}'; check base_url",
                    response.url, table));
  }
  return std::move(page.as_array());
}

// Reads a listing page by page (GitHub's Link: rel="next") and hands `visit` each record in
// order; `visit` returns false to stop, and no further page is fetched then.
template <typename Visit>
void for_each_listed(http::HttpClient& client, const std::string& url, std::string_view table,
                     Visit visit) {
  http::LinkHeaderNext next;
  http::PageReader reader(client, http::Request::get(url, api_headers()), next);
  while (std::optional<http::Response> response = reader.next()) {
    for (const JsonValue& record : page_records(*response, table)) {
      if (!visit(record)) return;
    }
  }
}

}  // namespace

// An incremental table: where it is listed and how its records are ordered.
struct GithubConnector::Incremental {
  std::string url;          // first page, query included
  std::string cursor_path;  // the cursor field (dotted)
  std::string key_field;    // the primary key
  bool ascending = true;    // the listing comes in cursor order (else newest first)
  bool skip_pull_requests = false;
  bool has_since = true;  // the listing takes `since` (inclusive, on the cursor field)
};

GithubConnector::GithubConnector(const Options& options)
    : LakeflowConnect(embedded_connector_spec(), options) {
  const Options& checked = this->options();
  owner_ = required(checked, "owner", "--option owner=octocat");
  repo_ = required(checked, "repo", "--option repo=hello-world");
  const auto base = checked.find("base_url");
  base_url_ = base && !base->empty() ? std::string(*base) : std::string(kDefaultBaseUrl);
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  std::string token;
  if (const auto pat = checked.find("token"); pat && !pat->empty()) {
    token = std::string(*pat);
  } else if (checked.contains("app_id")) {
    token = installation_token(base_url_, checked);
  } else {
    throw ConfigError(
        "github: give either 'token' (a personal access token or installation token) or "
        "'app_id', 'installation_id' and 'app_private_key' (a GitHub App)");
  }
  Options client_options{{"base_url", base_url_}, {"auth.type", "bearer"}, {"auth.token", token}};
  for (const auto& [key, value] : checked.values()) {
    if (key.starts_with("http.")) client_options.set(key, value);
  }
  client_ = http::HttpClient::from_options(client_options, {"token"});
}

std::string GithubConnector::repo_url(std::string_view path) const {
  return fmt::format("{}/repos/{}/{}{}", base_url_, http::percent_encode(owner_),
                     http::percent_encode(repo_), path);
}

std::vector<std::string> GithubConnector::do_list_tables() {
  return {"repositories",   "issues",   "pull_requests", "commits",
          "issue_comments", "releases", "contributors"};
}

StructType GithubConnector::do_get_table_schema(const TableContext& context) {
  page_size_of(context);
  const std::string_view table = context.table;
  if (table == "repositories") return repositories_schema();
  if (table == "issues") return issues_schema();
  if (table == "pull_requests") return pull_requests_schema();
  if (table == "commits") return commits_schema();
  if (table == "issue_comments") return issue_comments_schema();
  if (table == "releases") return releases_schema();
  return contributors_schema();
}

TableMetadata GithubConnector::do_read_table_metadata(const TableContext& context) {
  page_size_of(context);
  const std::string_view table = context.table;
  TableMetadata metadata;
  metadata.primary_keys = {table == "commits" ? "sha" : "id"};
  if (table == "issues" || table == "pull_requests" || table == "issue_comments") {
    metadata.ingestion_type = IngestionType::kCdc;
    metadata.cursor_field = "updated_at";
  } else if (table == "commits") {
    metadata.ingestion_type = IngestionType::kCdc;
    metadata.cursor_field = "commit.committer.date";
  } else {
    metadata.ingestion_type = IngestionType::kSnapshot;
  }
  return metadata;
}

ReadResult GithubConnector::do_read_table(const ReadContext& context) {
  const std::string table(context.table);
  const std::string per_page = std::to_string(page_size_of(context));
  if (table == "repositories") {
    return read_snapshot(
        context, fmt::format("{}/users/{}/repos?type=all&sort=full_name&per_page={}", base_url_,
                             http::percent_encode(owner_), per_page));
  }
  if (table == "releases")
    return read_snapshot(context, repo_url("/releases?per_page=" + per_page));
  if (table == "contributors") {
    return read_snapshot(context, repo_url("/contributors?per_page=" + per_page));
  }
  Incremental spec;
  spec.key_field = "id";
  spec.cursor_path = "updated_at";
  if (table == "issues") {
    spec.url = repo_url("/issues?state=all&sort=updated&direction=asc&per_page=" + per_page);
    spec.skip_pull_requests = true;
  } else if (table == "issue_comments") {
    spec.url = repo_url("/issues/comments?sort=updated&direction=asc&per_page=" + per_page);
  } else if (table == "pull_requests") {
    spec.url = repo_url("/pulls?state=all&sort=updated&direction=desc&per_page=" + per_page);
    spec.ascending = false;
    spec.has_since = false;
  } else {  // commits
    spec.url = http::with_query_param(repo_url("/commits?per_page=" + per_page), "until",
                                      context.read_cap.text);
    spec.cursor_path = "commit.committer.date";
    spec.key_field = "sha";
    spec.ascending = false;
  }
  return read_incremental(context, spec);
}

ReadResult GithubConnector::read_snapshot(const ReadContext& context, const std::string& url) {
  RecordBatch batch;
  for_each_listed(*client_, url, context.table, [&](const JsonValue& record) {
    batch.append(record.dump());
    return true;
  });
  // The whole table in one call: returning the start offset ends the read.
  return {RecordStream::of(std::move(batch)), context.start};
}

ReadResult GithubConnector::read_incremental(const ReadContext& context, const Incremental& table) {
  TieCursor position = TieCursor::from_offset(
      context.start, fmt::format("github: the offset of table '{}'", context.table), parse_instant);
  std::string url = table.url;
  // `since` is inclusive; the ties the offset lists are skipped below. Pull requests have no
  // `since`: the newest-first listing is read until it passes the offset.
  if (position.started() && table.has_since) {
    url = http::with_query_param(url, "since", position.cursor());
  }
  struct Candidate {
    std::int64_t order;
    std::string key;
    std::string cursor;
    std::string json;
  };
  std::vector<Candidate> candidates;
  const auto limit = static_cast<std::size_t>(context.max_records());
  bool more = false;  // records beyond this batch are known to exist
  for_each_listed(*client_, url, context.table, [&](const JsonValue& record) {
    if (table.skip_pull_requests && record.find("pull_request") != nullptr) return true;
    const JsonValue* cursor = field_at(record, table.cursor_path);
    const JsonValue* key = field_at(record, table.key_field);
    if (cursor == nullptr || !cursor->is_string() || key == nullptr) {
      throw SourceError(fmt::format("github: a {} record lacks '{}' or '{}': {}", context.table,
                                    table.cursor_path, table.key_field, record.dump()));
    }
    const std::optional<std::int64_t> order = parse_instant(cursor->as_string());
    if (!order) {
      throw SourceError(fmt::format("github: {} record {}: '{}' is not a timestamp: {}",
                                    context.table, key->dump(), table.cursor_path,
                                    cursor->as_string()));
    }
    // Past the cap: in cursor order every later record is too; newest first, read on.
    if (*order > context.read_cap.micros) return !table.ascending;
    // Before the offset: newest first, the rest was delivered before; in cursor order, read on.
    if (position.started() && *order < *position.order()) return table.ascending;
    const std::string key_text = key->is_string() ? key->as_string() : key->dump();
    if (position.covers(*order, key_text)) return true;
    candidates.push_back({*order, key_text, cursor->as_string(), record.dump()});
    if (table.ascending && candidates.size() > limit) {
      more = true;
      return false;
    }
    return true;
  });
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) {
                     return a.order != b.order ? a.order < b.order : a.key < b.key;
                   });
  if (candidates.size() > limit) more = true;
  RecordBatch batch;
  for (std::size_t i = 0; i < std::min(limit, candidates.size()); ++i) {
    const Candidate& c = candidates[i];
    batch.append(c.json);
    position.advance(c.cursor, c.order, c.key);
  }
  // Everything up to the cap was delivered. GitHub stamps whole seconds, so the last value's
  // group is complete only when its whole second lies before the cap; otherwise a record written
  // later in that second still comes, and the ids delivered so far stay in the offset.
  constexpr std::int64_t kSecond = 1'000'000;
  if (!more && position.started() && !position.complete() &&
      *position.order() + kSecond <= context.read_cap.micros) {
    position.mark_complete();
  }
  Offset end = position.started() ? position.to_offset() : context.start;
  if (batch.empty() && end == context.start) return {RecordStream(), context.start};
  return {RecordStream::of(std::move(batch)), std::move(end)};
}

LAKEFLOW_REGISTER_CONNECTOR("github", GithubConnector,
                            "GitHub: one repository's issues, pull requests, commits, comments, "
                            "releases and contributors over the REST API");

}  // namespace lakeflow::github
