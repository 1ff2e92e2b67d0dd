// The Example source served over HTTP: its API (example_api.h) on 127.0.0.1, reached like any REST
// service, so the `example` connector talks to it through the HTTP toolkit (lakeflow/http/) exactly
// as a connector for a hosted service does: HttpClient with Basic auth, retries, JSON body checks
// and keyset pagination.
//
// Requests need `Authorization: Basic base64(username:password)` with a non-empty user name and
// password; anything else is 401 with the API's JSON error body. Every response is JSON
// (`application/json`) but 204's. The server closes each connection after its response, so no
// idle keep-alive connection of a long-lived client ever holds one of its threads.
//
// Thread-safe. The store behind the server is process-wide, so a server answers for the same data
// as ExampleApi in the same process.
#pragma once

#include <memory>
#include <string>

namespace lakeflow::example {

class ExampleServer {
 public:
  // Binds a free port on 127.0.0.1 and serves from threads of its own until destroyed. Throws
  // SourceError when no port can be bound.
  ExampleServer();
  ~ExampleServer();
  ExampleServer(const ExampleServer&) = delete;
  ExampleServer& operator=(const ExampleServer&) = delete;

  // `http://127.0.0.1:<port>`: the base URL of the API (`<base_url>/v1/users`, ...).
  const std::string& base_url() const;

  // The process-wide server, started on first use and serving until the process exits: the
  // source the connector reads when its options name no base_url (`lakeflow run`, the tests).
  static ExampleServer& embedded();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lakeflow::example
