// Starts the local FHIR server (tools/fhir-server) for a test and stops it afterwards.
//
//   auto server = FhirServer::start({"--load-examples"});
//   options.set("base_url", server.base_url());
//
// The server runs as a child process on a free port; it exits when this process closes its stdin
// (so it never outlives a crashed test) and is terminated by the destructor. What it prints goes
// to an unlinked temporary file, quoted when it fails to start.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "node.h"

extern char** environ;

namespace lakeflow::test_support {

class FhirServer {
 public:
  static constexpr std::string_view kReadyLine = "FHIR server ready at ";

  // Starts `node tools/fhir-server/server.mjs --port 0 --exit-on-stdin-close <args>` and waits for
  // its ready line. Throws std::runtime_error with the server's output when it does not come up.
  static FhirServer start(const std::vector<std::string>& args,
                          std::chrono::seconds timeout = std::chrono::seconds(120)) {
    FhirServer server;
    int to_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0) throw std::runtime_error("fhir server: pipe failed");
    // Output goes to a file, not a pipe, so a server that logs never blocks on a full pipe.
    char log_path[] = "/tmp/lakeflow_fhir_server_XXXXXX";
    const int log_fd = mkostemp(log_path, O_CLOEXEC);
    if (log_fd < 0) throw std::runtime_error("fhir server: cannot create its log file");
    unlink(log_path);
    const std::string node = find_node();
    if (node.empty()) {
      throw std::runtime_error(
          "fhir server: node is not on PATH; run scripts/install-deps (it installs Node.js 20.19+ "
          "into tools/node when the system's is older)");
    }
    std::vector<std::string> argv = {
        node, std::string(LAKEFLOW_REPO_DIR) + "/tools/fhir-server/server.mjs", "--port", "0",
        "--exit-on-stdin-close"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> raw;
    for (std::string& arg : argv) raw.push_back(arg.data());
    raw.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
    const int rc = posix_spawn(&server.pid_, node.c_str(), &actions, nullptr, raw.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(to_child[0]);
    server.stdin_ = to_child[1];
    server.output_fd_ = log_fd;
    if (rc != 0) {
      server.pid_ = 0;
      throw std::runtime_error(std::string("fhir server: cannot run node: ") + std::strerror(rc));
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const std::size_t ready = server.output_.find(kReadyLine);
      if (ready != std::string::npos) {
        const std::size_t end = server.output_.find('\n', ready);
        if (end != std::string::npos) {
          server.base_url_ =
              server.output_.substr(ready + kReadyLine.size(), end - ready - kReadyLine.size());
          return server;
        }
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      server.read_output();
      if (left.count() <= 0 || !server.running()) {
        server.read_output();
        throw std::runtime_error("fhir server did not start: " + server.output_);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  FhirServer(FhirServer&& other) noexcept { *this = std::move(other); }
  FhirServer& operator=(FhirServer&& other) noexcept {
    std::swap(pid_, other.pid_);
    std::swap(stdin_, other.stdin_);
    std::swap(output_fd_, other.output_fd_);
    std::swap(base_url_, other.base_url_);
    std::swap(output_, other.output_);
    return *this;
  }
  FhirServer(const FhirServer&) = delete;
  FhirServer& operator=(const FhirServer&) = delete;
  ~FhirServer() { stop(); }

  const std::string& base_url() const { return base_url_; }

  // Everything the server printed so far (with --verbose, a line per request).
  const std::string& output() {
    read_output();
    return output_;
  }

  // output() once the server has written nothing for `quiet`: with --verbose it logs a request
  // after sending the response, so a test counting requests waits for the log to catch up.
  const std::string& settled_output(
      std::chrono::milliseconds quiet = std::chrono::milliseconds(200)) {
    std::size_t size = output().size();
    for (;;) {
      std::this_thread::sleep_for(quiet);
      if (output().size() == size) return output_;
      size = output_.size();
    }
  }

  void stop() {
    if (stdin_ >= 0) close(stdin_);
    stdin_ = -1;
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = 0;
    }
    if (output_fd_ >= 0) close(output_fd_);
    output_fd_ = -1;
  }

 private:
  FhirServer() = default;

  // Appends what the server printed since the last call.
  void read_output() {
    char buffer[4096];
    ssize_t n = 0;
    while ((n = pread(output_fd_, buffer, sizeof buffer, static_cast<off_t>(output_.size()))) > 0) {
      output_.append(buffer, static_cast<std::size_t>(n));
    }
  }

  bool running() {
    int status = 0;
    if (pid_ <= 0) return false;
    if (waitpid(pid_, &status, WNOHANG) == 0) return true;
    pid_ = 0;  // exited and reaped
    return false;
  }

  pid_t pid_ = 0;
  int stdin_ = -1;
  int output_fd_ = -1;
  std::string base_url_;
  std::string output_;
};

}  // namespace lakeflow::test_support
