#include "github_write_back.h"

#include <fmt/format.h>

#include "lakeflow/error.h"
#include "lakeflow/http/encoding.h"
#include "lakeflow/json.h"

namespace lakeflow::github {

GithubWriteBack::GithubWriteBack(const Options& options) {
  std::string base(options.get_string("base_url", "https://api.github.com"));
  while (!base.empty() && base.back() == '/') base.pop_back();
  issues_url_ =
      fmt::format("{}/repos/{}/{}/issues", base, http::percent_encode(options.get_string("owner")),
                  http::percent_encode(options.get_string("repo")));
  client_ = http::HttpClient::from_options(Options{
      {"base_url", base}, {"auth.type", "bearer"}, {"auth.token", options.get_string("token")}});
}

std::vector<JsonValue> GithubWriteBack::insert_rows(std::string_view /*table*/, int n) {
  std::vector<JsonValue> rows;
  for (int i = 0; i < n; ++i) {
    http::Request request;
    request.method = http::Method::kPost;
    request.url = issues_url_;
    request.headers = {{"Accept", "application/vnd.github+json"},
                       {"Content-Type", "application/json"}};
    const std::string title = fmt::format("lakeflow write-back test {}", numbers_.size() + 1);
    request.body = JsonValue(JsonValue::Object{{"title", JsonValue(title)},
                                               {"body", JsonValue("Created by a test.")}})
                       .dump();
    const JsonValue created = JsonValue::parse(client_->send(std::move(request)).body, "new issue");
    numbers_.push_back(created.find("number")->as_int());
    ids_.push_back(created.find("id")->as_int());
    rows.emplace_back(
        JsonValue::Object{{"id", JsonValue(ids_.back())}, {"title", JsonValue(title)}});
  }
  return rows;
}

std::vector<JsonValue> GithubWriteBack::update_rows(std::string_view table, int n) {
  if (numbers_.size() < static_cast<std::size_t>(n)) insert_rows(table, n);
  std::vector<JsonValue> rows;
  for (int i = 0; i < n; ++i) {
    http::Request request;
    request.method = http::Method::kPatch;
    request.url = fmt::format("{}/{}", issues_url_, numbers_[static_cast<std::size_t>(i)]);
    request.headers = {{"Accept", "application/vnd.github+json"},
                       {"Content-Type", "application/json"}};
    const std::string title = fmt::format("lakeflow write-back test {} (retitled)", i + 1);
    request.body = JsonValue(JsonValue::Object{{"title", JsonValue(title)}}).dump();
    request.idempotent = true;
    client_->send(std::move(request));
    rows.emplace_back(JsonValue::Object{{"id", JsonValue(ids_[static_cast<std::size_t>(i)])},
                                        {"title", JsonValue(title)}});
  }
  return rows;
}

std::vector<JsonValue> GithubWriteBack::delete_rows(std::string_view /*table*/, int /*n*/) {
  throw NotImplementedError("github: issues cannot be deleted over GitHub's REST API");
}

}  // namespace lakeflow::github
