// Helpers for tests that run programs: a subprocess runner that captures output and kills what
// hangs, with the temporary directory (lakeflow/testing/temp_dir.h) and file reading
// (lakeflow/files.h) they use.
// Header-only; used by the end-to-end tests under tests/.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "lakeflow/files.h"
#include "lakeflow/testing/temp_dir.h"

extern char** environ;

namespace lakeflow::test_support {

using files::TempDir;

// The bytes of the file at `path`, or "" when there is none (a child's output not written yet).
inline std::string slurp(const std::string& path) {
  return files::read_file_if_exists(path).value_or("");
}

struct ProcessOptions {
  // The environment: this process's, minus variables starting with any of `drop_prefixes`, plus
  // `set` ("NAME=value" entries).
  std::vector<std::string> drop_prefixes;
  std::vector<std::string> set;
  // Send stderr to the same place as stdout.
  bool merge_stderr = false;
  // Killed (SIGKILL) after this long; the result then says timed_out.
  std::chrono::seconds timeout{60};
  // The directory the process starts in (empty: this process's).
  std::string working_directory{};
};

struct ProcessResult {
  int status = -1;  // exit status, or 128 + signal number
  bool timed_out = false;
  std::string out;
  std::string err;  // empty with merge_stderr
};

// A child process started by start_process, writing its stdout and stderr to files of its own.
class RunningProcess {
 public:
  RunningProcess(pid_t pid, std::unique_ptr<TempDir> dir, bool merge_stderr,
                 std::chrono::seconds timeout)
      : pid_(pid),
        dir_(std::move(dir)),
        merge_stderr_(merge_stderr),
        deadline_(std::chrono::steady_clock::now() + timeout) {}
  RunningProcess(RunningProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, 0)),
        dir_(std::move(other.dir_)),
        merge_stderr_(other.merge_stderr_),
        deadline_(other.deadline_) {}
  RunningProcess& operator=(RunningProcess&&) = delete;
  ~RunningProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  pid_t pid() const { return pid_; }
  // What the child wrote to stderr so far (stdout with merge_stderr).
  std::string err_so_far() const { return slurp(dir_->file(merge_stderr_ ? "stdout" : "stderr")); }

  // Waits for the child to exit (SIGKILL once the timeout passed) and returns what it did.
  ProcessResult wait() {
    int status = 0;
    ProcessResult result;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline_) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        result.timed_out = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    pid_ = 0;
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = slurp(dir_->file("stdout"));
    if (!merge_stderr_) result.err = slurp(dir_->file("stderr"));
    return result;
  }

 private:
  pid_t pid_;
  std::unique_ptr<TempDir> dir_;
  bool merge_stderr_;
  std::chrono::steady_clock::time_point deadline_;
};

// Starts argv[0] (a path) with stdin from /dev/null, capturing stdout and stderr.
inline RunningProcess start_process(const std::vector<std::string>& argv,
                                    const ProcessOptions& options = {}) {
  auto dir = std::make_unique<TempDir>("lakeflow_process");
  const std::string out = dir->file("stdout");
  const std::string err = dir->file("stderr");
  std::vector<std::string> environment;
  for (char** var = environ; *var != nullptr; ++var) {
    const std::string_view entry(*var);
    bool dropped = false;
    for (const std::string& prefix : options.drop_prefixes) dropped |= entry.starts_with(prefix);
    if (!dropped) environment.emplace_back(entry);
  }
  environment.insert(environment.end(), options.set.begin(), options.set.end());
  std::vector<char*> envp;
  for (std::string& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> args_storage = argv;
  std::vector<char*> args;
  for (std::string& arg : args_storage) args.push_back(arg.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (options.merge_stderr) {
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  if (!options.working_directory.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.working_directory.c_str());
  }
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  return RunningProcess(pid, std::move(dir), options.merge_stderr, options.timeout);
}

// Runs argv[0] (a path) with stdin from /dev/null, capturing stdout and stderr.
inline ProcessResult run_process(const std::vector<std::string>& argv,
                                 const ProcessOptions& options = {}) {
  return start_process(argv, options).wait();
}

// Starts argv[0] as start_process does and SIGKILLs it after `delay` unless it exited first: a
// crash at a chosen point. Returns what it did (status 128 + SIGKILL when it was killed).
inline ProcessResult run_and_kill(const std::vector<std::string>& argv,
                                  std::chrono::microseconds delay,
                                  const ProcessOptions& options = {}) {
  RunningProcess process = start_process(argv, options);
  std::this_thread::sleep_for(delay);
  kill(process.pid(), SIGKILL);
  return process.wait();
}

// A TCP port on 127.0.0.1 that is free now, for a server a test starts (which may still lose it to
// another process before it binds it: callers retry on another port).
inline int free_tcp_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof(address);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    if (fd >= 0) close(fd);
    throw std::runtime_error("cannot find a free TCP port");
  }
  const int port = ntohs(address.sin_port);
  close(fd);
  return port;
}

// Whether `result` is that of a process killed by SIGKILL.
inline bool was_killed(const ProcessResult& result) { return result.status == 128 + SIGKILL; }

}  // namespace lakeflow::test_support
