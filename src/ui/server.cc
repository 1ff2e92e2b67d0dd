#include "ui/server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <httplib.h>

#include <array>
#include <charconv>
#include <exception>
#include <optional>
#include <string_view>
#include <utility>

#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "ui/lakehouse.h"
#include "ui/pages.h"

namespace lakeflow::ui {
namespace {

constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

bool is_loopback(std::string_view host) {
  if (host == "localhost") return true;
  std::string text(host);
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

// The host part of a Host header (`127.0.0.1:8080`, `[::1]:80`, `localhost`).
std::string_view host_of(std::string_view header) {
  if (!header.empty() && header.front() == '[') {
    const std::size_t end = header.find(']');
    return end == std::string_view::npos ? header : header.substr(0, end + 1);
  }
  return header.substr(0, header.find(':'));
}

std::size_t number_param(const httplib::Request& req, const char* name, std::size_t otherwise) {
  if (!req.has_param(name)) return otherwise;
  const std::string value = req.get_param_value(name);
  std::size_t out = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (error != std::errc() || end != value.data() + value.size()) {
    throw ConfigError(fmt::format("'{}' must be a whole number, not '{}'", name, value));
  }
  return out;
}

Page page_of(const httplib::Request& req, std::size_t limit) {
  return Page{number_param(req, "offset", 0), number_param(req, "limit", limit)};
}

// What a request asks for: a page or API document of one table, or of all.
struct Target {
  bool api = false;
  std::optional<TableRef> table;  // unset: the list of tables
  std::string view;               // "", "history", "schema", "rows", "quarantine", "run"
};

constexpr std::array<std::string_view, 5> kViews = {"history", "schema", "rows", "quarantine",
                                                    "run"};

// The target of `path`, or nullopt (404). A name is only ever looked up among the tables found
// under the root; the whole rest of the path is tried as a table name before a view suffix.
std::optional<Target> resolve(const Lakehouse& lakehouse, std::string_view path) {
  Target target;
  if (path.starts_with("/api/")) {
    target.api = true;
    path.remove_prefix(4);
  }
  if (path == "/tables" || (!target.api && path == "/")) return target;
  if (!path.starts_with("/tables/")) return std::nullopt;
  path.remove_prefix(8);
  while (path.ends_with('/')) path.remove_suffix(1);
  if (auto table = lakehouse.find(path)) {
    target.table = std::move(table);
    return target;
  }
  for (std::string_view view : kViews) {
    if (!target.api && (view == "history" || view == "run")) continue;
    const std::string suffix = "/" + std::string(view);
    if (!path.ends_with(suffix)) continue;
    if (auto table = lakehouse.find(path.substr(0, path.size() - suffix.size()))) {
      target.table = std::move(table);
      target.view = view;
      return target;
    }
  }
  return std::nullopt;
}

}  // namespace

struct UiServer::Impl {
  Impl(std::filesystem::path root, ServerOptions options)
      : lakehouse(std::move(root)), options(std::move(options)) {}

  void install() {
    server.set_default_headers({{"Content-Security-Policy", std::string(kContentSecurityPolicy)},
                                {"X-Content-Type-Options", "nosniff"},
                                {"Referrer-Policy", "no-referrer"},
                                {"X-Frame-Options", "DENY"},
                                {"Cache-Control", "no-store"}});
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (req.method != "GET" && req.method != "HEAD") {
        res.status = 405;
        res.set_header("Allow", "GET, HEAD");
        res.set_content(error_page(405, "lakeflow ui is read-only: only GET requests"),
                        "text/html; charset=utf-8");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (loopback_only && !is_loopback(host_of(req.get_header_value("Host")))) {
        res.status = 421;
        res.set_content(error_page(421,
                                   "this server answers only requests addressed to a loopback "
                                   "host (127.0.0.1 or localhost)"),
                        "text/html; charset=utf-8");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server.Get("/static/style.css", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(stylesheet(), "text/css; charset=utf-8");
    });
    server.Get(".*",
               [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
  }

  void handle(const httplib::Request& req, httplib::Response& res) const {
    const bool api = req.path.starts_with("/api/");
    try {
      const std::optional<Target> target = resolve(lakehouse, req.path);
      if (!target) {
        fail(res, api, 404,
             fmt::format("no such page or table: {}; the tables are listed at /", req.path));
        return;
      }
      if (target->api) {
        res.set_content(api_document(req, *target).dump(), "application/json");
      } else {
        res.set_content(html_page(req, *target), "text/html; charset=utf-8");
      }
    } catch (const ConfigError& e) {
      fail(res, api, 400, e.what());
    } catch (const std::exception& e) {
      fail(res, api, 500, e.what());
    }
  }

  JsonValue api_document(const httplib::Request& req, const Target& target) const {
    if (!target.table) return lakehouse.tables_json();
    const TableRef& table = *target.table;
    if (target.view.empty()) return lakehouse.table_json(table);
    if (target.view == "history") return lakehouse.history_json(table, page_of(req, 100));
    if (target.view == "schema") return lakehouse.schema_json(table);
    if (target.view == "rows") return lakehouse.rows_json(table, page_of(req, 100));
    if (target.view == "run") return lakehouse.run_json(table);
    return lakehouse.quarantine_json(table, req.get_param_value("q"), page_of(req, 100));
  }

  std::string html_page(const httplib::Request& req, const Target& target) const {
    if (!target.table) return tables_page(lakehouse.tables_json());
    const TableRef& table = *target.table;
    const JsonValue summary = lakehouse.table_json(table);
    if (target.view.empty()) {
      return table_page(summary, lakehouse.history_json(table, page_of(req, 500)));
    }
    if (target.view == "schema") return schema_page(summary, lakehouse.schema_json(table));
    if (target.view == "rows")
      return rows_page(summary, lakehouse.rows_json(table, page_of(req, 50)));
    return quarantine_page(
        summary, lakehouse.quarantine_json(table, req.get_param_value("q"), page_of(req, 100)));
  }

  static void fail(httplib::Response& res, bool api, int status, std::string_view message) {
    res.status = status;
    if (api) {
      JsonValue body;
      body["error"] = message;
      res.set_content(body.dump(), "application/json");
    } else {
      res.set_content(error_page(status, message), "text/html; charset=utf-8");
    }
  }

  Lakehouse lakehouse;
  ServerOptions options;
  httplib::Server server;
  bool loopback_only = true;
  int port = -1;
};

UiServer::UiServer(std::filesystem::path root, ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(root), std::move(options))) {
  impl_->loopback_only = is_loopback(impl_->options.host);
  impl_->install();
}

UiServer::~UiServer() = default;

int UiServer::bind() {
  const ServerOptions& options = impl_->options;
  if (options.port < 0 || options.port > 65535) {
    throw ConfigError(
        fmt::format("--port {}: give a port in 1..65535, or 0 for a free one", options.port));
  }
  if (options.port == 0) {
    impl_->port = impl_->server.bind_to_any_port(options.host);
  } else if (impl_->server.bind_to_port(options.host, options.port)) {
    impl_->port = options.port;
  }
  if (impl_->port <= 0) {
    throw ConfigError(fmt::format(
        "cannot listen on {}:{}: the port is in use or the host is not an address of this "
        "machine; give another --port (0 picks a free one) or --host",
        options.host, options.port));
  }
  return impl_->port;
}

std::string UiServer::url() const {
  const std::string& host = impl_->options.host;
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}/", v6 ? "[" : "", host, v6 ? "]" : "", impl_->port);
}

bool UiServer::loopback_only() const { return impl_->loopback_only; }

void UiServer::run() { impl_->server.listen_after_bind(); }

void UiServer::stop() { impl_->server.stop(); }

}  // namespace lakeflow::ui
