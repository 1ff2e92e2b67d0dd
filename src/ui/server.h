// `lakeflow ui`: a local, read-only web server over a lakehouse directory (lakehouse.h), serving
// HTML pages (pages.h) and the JSON behind them.
//
//   GET /                              every table                 /api/tables
//   GET /tables/NAME                   summary, last run, history  /api/tables/NAME,
//                                                                  /api/tables/NAME/history,
//                                                                  /api/tables/NAME/run
//   GET /tables/NAME/schema            schema tree and changes     /api/tables/NAME/schema
//   GET /tables/NAME/rows              rows, paged                 /api/tables/NAME/rows
//   GET /tables/NAME/quarantine?q=F    quarantined records         /api/tables/NAME/quarantine
//   GET /static/style.css
// NAME is the table's path under the directory (`main/fhir/Patient`); lists take `offset` and
// `limit` (at most 1000). Unknown tables and paths are 404, other methods 405.
//
// Safe by default: it binds to 127.0.0.1 unless given another host; when bound to a loopback
// address it answers only requests whose Host header names a loopback address (so a web page
// elsewhere cannot read the tables through DNS rebinding); every response carries a
// Content-Security-Policy that allows nothing but the binary's own stylesheet (no scripts at all),
// `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` and `Cache-Control: no-store`.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace lakeflow::ui {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: a free port
};

class UiServer {
 public:
  // Throws ConfigError when `root` is not a readable directory.
  UiServer(std::filesystem::path root, ServerOptions options);
  ~UiServer();
  UiServer(const UiServer&) = delete;
  UiServer& operator=(const UiServer&) = delete;

  // Binds the listening socket; returns the port. Throws ConfigError when the host or port cannot
  // be bound (in use, not an address of this machine).
  int bind();
  // `http://HOST:PORT/` (after bind).
  std::string url() const;
  // Whether the host is a loopback address (only this machine can connect).
  bool loopback_only() const;
  // Serves until stop() (from another thread or a signal handler's thread). bind() first.
  void run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lakeflow::ui
