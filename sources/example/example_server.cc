#include "example_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <cctype>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "example_api.h"
#include "lakeflow/error.h"
#include "lakeflow/http/encoding.h"

namespace lakeflow::example {
namespace {

// Whether `authorization` is `Basic <base64 of user:password>` with both parts non-empty.
bool has_credentials(std::string_view authorization) {
  constexpr std::string_view kScheme = "basic ";  // the scheme name is case-insensitive
  if (authorization.size() <= kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return false;
  }
  // Standard base64 differs from base64url only in two characters.
  std::string token(authorization.substr(kScheme.size()));
  for (char& c : token) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  const std::optional<std::string> decoded = http::base64url_decode(token);
  if (!decoded) return false;
  const std::size_t colon = decoded->find(':');
  return colon != std::string::npos && colon > 0 && colon + 1 < decoded->size();
}

void serve(const httplib::Request& request, httplib::Response& response) {
  Query query;
  for (const auto& [name, value] : request.params) query.emplace(name, value);  // first wins
  const ApiResponse answer =
      handle_request(request.method, request.path, query, request.body,
                     has_credentials(request.get_header_value("Authorization")));
  response.status = answer.status;
  if (answer.status != 204) response.set_content(answer.body, "application/json");
}

}  // namespace

struct ExampleServer::Impl {
  httplib::Server server;
  std::string base_url;
  std::thread thread;
};

ExampleServer::ExampleServer() : impl_(std::make_unique<Impl>()) {
  httplib::Server& server = impl_->server;
  // Every path goes to the API, which answers 404 and 405 itself.
  const std::string every_path = "/.*";
  server.Get(every_path, serve);
  server.Post(every_path, serve);
  server.Put(every_path, serve);
  server.Patch(every_path, serve);
  server.Delete(every_path, serve);
  server.set_keep_alive_max_count(1);
  // Without it, Nagle's algorithm and delayed ACKs add 40 ms to responses written in pieces.
  server.set_tcp_nodelay(true);
  const int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    throw SourceError(
        "example: could not bind a port on 127.0.0.1 to serve the Example source; check that the "
        "loopback interface is up");
  }
  impl_->base_url = fmt::format("http://127.0.0.1:{}", port);
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

ExampleServer::~ExampleServer() {
  impl_->server.stop();
  impl_->thread.join();
}

const std::string& ExampleServer::base_url() const { return impl_->base_url; }

ExampleServer& ExampleServer::embedded() {
  // Never destroyed: a request may still arrive while the process exits (the store it serves is
  // process-wide too), and a server that lives until exit needs no shutdown order.
  static ExampleServer* const server = new ExampleServer();
  return *server;
}

}  // namespace lakeflow::example
