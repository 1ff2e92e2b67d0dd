// Test-only: an HTTP(S) server on 127.0.0.1 (cpp-httplib) for the HTTP toolkit's tests. Never
// included by the library.
#pragma once

#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#ifndef CPPHTTPLIB_ZLIB_SUPPORT
#define CPPHTTPLIB_ZLIB_SUPPORT
#endif
#ifndef CPPHTTPLIB_BROTLI_SUPPORT
#define CPPHTTPLIB_BROTLI_SUPPORT
#endif
#include <fmt/format.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace lakeflow::http::test_util {

// An httplib server on 127.0.0.1 and a free port, serving from its own thread.
class Loopback {
 public:
  explicit Loopback(std::unique_ptr<httplib::Server> server = std::make_unique<httplib::Server>(),
                    std::string scheme = "http")
      : server_(std::move(server)), scheme_(std::move(scheme)) {
    server_->set_keep_alive_timeout(1);
    // Without it, Nagle's algorithm and delayed ACKs add 40 ms to responses httplib writes in
    // several pieces.
    server_->set_tcp_nodelay(true);
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Loopback() {
    stopping = true;
    server_->stop();
    thread_.join();
  }
  httplib::Server& operator*() { return *server_; }
  httplib::Server* operator->() { return server_.get(); }
  int port() const { return port_; }
  std::string url(std::string_view path) const {
    return fmt::format("{}://127.0.0.1:{}{}", scheme_, port_, path);
  }

  std::atomic<bool> stopping{false};

 private:
  std::unique_ptr<httplib::Server> server_;
  std::string scheme_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace lakeflow::http::test_util
