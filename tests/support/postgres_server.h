// Starts a real PostgreSQL 15 server for a test and stops it afterwards.
//
//   auto server = PostgresServer::start();
//   options.set("host", "127.0.0.1"); options.set("port", std::to_string(server.port()));
//   options.set("user", server.user()); options.set("password", server.password());
//
// The server runs as a child process from a temporary data directory on a free port, with
// `wal_level=logical`, password (scram-sha-256) authentication over TCP and trust over its Unix
// socket (which lives in the data directory's parent, readable only by its owner). PostgreSQL
// refuses to run as root: when the test runs as root the server runs as the `postgres` system user
// (created by Debian's postgresql package). It gets SIGKILL when the test process dies
// (`setpriv --pdeathsig`), so it never outlives a crashed test, and an immediate shutdown from
// the destructor. `initdb` runs once per machine and PostgreSQL version into a template directory
// that later servers copy (under a file lock), which keeps a server's start well under a second.
#pragma once

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lakeflow/files.h"
#include "subprocess.h"

extern char** environ;

namespace lakeflow::test_support {

class PostgresServer {
 public:
  static constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";

  static PostgresServer start() {
    PostgresServer server;
    char pattern[] = "/tmp/lakeflow_pg_XXXXXX";
    if (mkdtemp(pattern) == nullptr) throw std::runtime_error("postgres: mkdtemp failed");
    server.dir_ = pattern;
    const std::string data = server.dir_ + "/data";
    copy_template(data);
    if (running_as_root()) {
      const passwd* pg = postgres_user();
      if (chown(server.dir_.c_str(), pg->pw_uid, pg->pw_gid) != 0) {
        throw std::runtime_error("postgres: cannot chown the server directory");
      }
    }
    for (int attempt = 0;; ++attempt) {
      server.port_ = free_tcp_port();
      server.spawn(data);
      if (server.wait_ready()) return server;
      server.stop();
      if (attempt == 4) {
        throw std::runtime_error("postgres: the server did not start; its log:\n" + server.log());
      }
    }
  }

  PostgresServer(PostgresServer&& other) noexcept
      : dir_(std::move(other.dir_)), port_(other.port_), pid_(std::exchange(other.pid_, 0)) {
    other.dir_.clear();
  }
  PostgresServer& operator=(PostgresServer&&) = delete;
  ~PostgresServer() {
    stop();
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  static std::string user() { return "lakeflow"; }
  static std::string password() { return "pg-test-secret-7Qx"; }
  static std::string database() { return "postgres"; }
  // A libpq connection string for the test's own SQL (never the connector's way in).
  std::string conninfo(const std::string& database = "postgres") const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + user() +
           " password=" + password() + " dbname=" + database;
  }
  pid_t pid() const { return pid_; }
  std::string log() const { return files::read_file_if_exists(dir_ + "/server.log").value_or(""); }

  // Immediate shutdown (SIGQUIT: the data directory is thrown away), waiting for the server.
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGQUIT);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = 0;
  }

 private:
  PostgresServer() = default;

  static bool running_as_root() { return geteuid() == 0; }
  static const passwd* postgres_user() {
    const passwd* pg = getpwnam("postgres");
    if (pg == nullptr) {
      throw std::runtime_error(
          "postgres: running as root, but there is no `postgres` user to run the server as "
          "(install Debian's postgresql-15 package: scripts/install-deps)");
    }
    return pg;
  }

  // Runs argv as the server's user, waiting for it; throws with its output on failure.
  static void run_as_server_user(std::vector<std::string> argv, const std::string& log) {
    std::vector<std::string> full = wrap(std::move(argv));
    std::vector<char*> raw;
    for (std::string& arg : full) raw.push_back(arg.data());
    raw.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, raw[0], &actions, nullptr, raw.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error(std::string("postgres: cannot run ") + raw[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      throw std::runtime_error("postgres: " + full.back() + " failed:\n" +
                               files::read_file_if_exists(log).value_or(""));
    }
  }

  // `setpriv` drops root for the server's user and makes the child die with this process.
  static std::vector<std::string> wrap(std::vector<std::string> argv) {
    std::vector<std::string> full = {"/usr/bin/setpriv", "--pdeathsig", "KILL"};
    if (running_as_root()) {
      const passwd* pg = postgres_user();
      full.insert(full.end(), {"--reuid", std::to_string(pg->pw_uid), "--regid",
                               std::to_string(pg->pw_gid), "--clear-groups"});
    }
    full.emplace_back("--");
    full.insert(full.end(), argv.begin(), argv.end());
    return full;
  }

  // initdb once into /tmp/lakeflow_pg15_template_v2_<uid>/data (1 MB WAL segments), then copy it to
  // `data`.
  static void copy_template(const std::string& data) {
    const std::string root = "/tmp/lakeflow_pg15_template_v2_" + std::to_string(geteuid());
    std::filesystem::create_directories(root);
    const int lock = open((root + "/lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) throw std::runtime_error("postgres: lock failed");
    try {
      const std::string tmpl = root + "/data";
      if (!std::filesystem::exists(root + "/ready")) {
        std::error_code ignored;
        std::filesystem::remove_all(tmpl, ignored);
        std::filesystem::create_directories(tmpl);
        const std::string pwfile = root + "/pwfile";
        std::ofstream(pwfile) << password() << "\n";
        if (running_as_root()) {
          const passwd* pg = postgres_user();
          if (chown(root.c_str(), pg->pw_uid, pg->pw_gid) != 0 ||
              chown(tmpl.c_str(), pg->pw_uid, pg->pw_gid) != 0 ||
              chown(pwfile.c_str(), pg->pw_uid, pg->pw_gid) != 0) {
            throw std::runtime_error("postgres: cannot chown the template directory");
          }
        }
        run_as_server_user(
            {std::string(kBinDir) + "/initdb", "-D", tmpl, "-U", user(), "--pwfile=" + pwfile,
             "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale",
             "--no-sync", "--no-instructions", "--wal-segsize=1"},
            root + "/initdb.log");
        std::ofstream(root + "/ready") << "ok\n";
      }
      std::filesystem::copy(
          tmpl, data,
          std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
      if (running_as_root()) {
        const passwd* pg = postgres_user();
        for (const auto& entry : std::filesystem::recursive_directory_iterator(data)) {
          if (lchown(entry.path().c_str(), pg->pw_uid, pg->pw_gid) != 0) {
            throw std::runtime_error("postgres: cannot chown the data directory");
          }
        }
        if (chown(data.c_str(), pg->pw_uid, pg->pw_gid) != 0) {
          throw std::runtime_error("postgres: cannot chown the data directory");
        }
      }
      std::filesystem::permissions(data, std::filesystem::perms::owner_all);
    } catch (...) {
      flock(lock, LOCK_UN);
      close(lock);
      throw;
    }
    flock(lock, LOCK_UN);
    close(lock);
  }

  void spawn(const std::string& data) {
    std::vector<std::string> argv = wrap({std::string(kBinDir) + "/postgres",
                                          "-D",
                                          data,
                                          "-p",
                                          std::to_string(port_),
                                          "-c",
                                          "listen_addresses=127.0.0.1",
                                          "-c",
                                          "unix_socket_directories=" + dir_,
                                          "-c",
                                          "wal_level=logical",
                                          "-c",
                                          "max_replication_slots=40",
                                          "-c",
                                          "max_wal_senders=40",
                                          "-c",
                                          "max_connections=100",
                                          "-c",
                                          "fsync=off",
                                          "-c",
                                          "full_page_writes=off",
                                          "-c",
                                          "shared_buffers=32MB"});
    std::vector<char*> raw;
    for (std::string& arg : argv) raw.push_back(arg.data());
    raw.push_back(nullptr);
    const std::string log_path = dir_ + "/server.log";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, raw[0], &actions, nullptr, raw.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = 0;
      throw std::runtime_error(std::string("postgres: cannot start: ") + std::strerror(rc));
    }
  }

  bool wait_ready() {
    const std::string info = conninfo() + " connect_timeout=2";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return false;
      }
      if (PQping(info.c_str()) == PQPING_OK) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = 0;
};

}  // namespace lakeflow::test_support
