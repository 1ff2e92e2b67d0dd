#include "python_bridge/python_connector.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/files.h"
#include "lakeflow/json.h"

extern char** environ;

namespace lakeflow::python_bridge {
namespace {

namespace fs = std::filesystem;

// The descriptor the bridge reads requests from and writes answers to, in the child.
constexpr int kChildFd = 3;

std::string interpreter() {
  const char* python = std::getenv("LAKEFLOW_PYTHON");
  return python != nullptr && *python != '\0' ? python : "python3";
}

// The lakeflow package beside the running program (build/python beside build/lakeflow).
fs::path own_package_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const fs::path dir = exe.parent_path() / "python";
  return fs::exists(dir / "lakeflow" / "types.py", ec) ? dir : fs::path();
}

// The environment of this process with the lakeflow package appended to PYTHONPATH.
std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  std::string python_path;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.rfind("PYTHONPATH=", 0) == 0) {
      python_path = entry.substr(11);
    } else {
      env.emplace_back(entry);
    }
  }
  if (const fs::path package = own_package_dir(); !package.empty()) {
    python_path += (python_path.empty() ? "" : ":") + package.string();
  }
  if (!python_path.empty()) env.push_back("PYTHONPATH=" + python_path);
  return env;
}

// One Python process serving one connector instance, and the socket to it.
class Channel {
 public:
  explicit Channel(std::string target) : target_(std::move(target)) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      throw Error(ErrorCode::kInternal, fmt::format("socketpair: {}", std::strerror(errno)));
    }
    fd_ = fds[0];
    const std::string python = interpreter();
    const std::string fd_text = std::to_string(kChildFd);
    std::vector<std::string> env = child_environment();
    std::vector<char*> argv = {const_cast<char*>(python.c_str()), const_cast<char*>("-c"),
                               const_cast<char*>(bridge_source().data()),
                               const_cast<char*>(fd_text.c_str()), nullptr};
    std::vector<char*> envp;
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, 2, 1);  // the connector's prints go to stderr
    int child_fd = fds[1];
    if (child_fd == kChildFd) child_fd = fcntl(fds[1], F_DUPFD_CLOEXEC, kChildFd + 1);
    posix_spawn_file_actions_adddup2(&actions, child_fd, kChildFd);
    const int spawned =
        posix_spawnp(&pid_, python.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (child_fd != fds[1]) ::close(child_fd);
    ::close(fds[1]);
    if (spawned != 0) {
      ::close(fd_);
      throw ConfigError(fmt::format(
          "python connector '{}': cannot start the Python interpreter '{}' ({}); install python3 "
          "or set LAKEFLOW_PYTHON to a Python 3 interpreter",
          target_, python, std::strerror(spawned)));
    }
  }

  ~Channel() {
    ::close(fd_);  // the bridge ends at the end of its input
    int status = 0;
    for (int i = 0; i < 500; ++i) {
      if (waitpid(pid_, &status, WNOHANG) != 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);  // a connector that does not end (a thread left running)
    waitpid(pid_, &status, 0);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  const std::string& target() const { return target_; }

  // Sends one request and returns the value of its answer; throws the error it answers.
  JsonValue call(JsonValue::Object request, std::string_view what) {
    send(std::move(request));
    return answer(read_line(), what);
  }

  void send(JsonValue::Object request) {
    drain();
    std::string line = JsonValue(std::move(request)).dump();
    line += '\n';
    std::size_t sent = 0;
    while (sent < line.size()) {
      const ssize_t n = ::send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw gone();
      sent += static_cast<std::size_t>(n);
    }
  }

  // The value of an answer line, or the error it reports thrown.
  JsonValue answer(const std::string& line, std::string_view what) {
    JsonValue value;
    try {
      value = JsonValue::parse(line, "the Python connector's answer");
    } catch (const Error&) {
      throw SourceError(fmt::format(
          "python connector '{}': {}: the bridge answered something that is not its protocol "
          "(did the connector write to file descriptor {}?)",
          target_, what, kChildFd));
    }
    if (const JsonValue* ok = value.find("ok")) return *ok;
    if (const JsonValue* error = value.find("error")) throw_error(*error, what);
    throw SourceError(fmt::format("python connector '{}': {}: unexpected answer", target_, what));
  }

  // The next frame of a read into `batch`; false at the end of the records.
  bool next_frame(RecordBatch& batch, std::string_view what) {
    if (!streaming_) return false;
    const std::string line = read_line();
    if (line == "E") {
      streaming_ = false;
      return false;
    }
    if (line.rfind("R ", 0) != 0) {
      streaming_ = false;
      answer(line, what);  // an error while iterating: throws it
      throw SourceError(fmt::format("python connector '{}': {}: unexpected frame", target_, what));
    }
    std::size_t count = 0;
    std::size_t bytes = 0;
    if (std::sscanf(line.c_str(), "R %zu %zu", &count, &bytes) != 2) {
      throw SourceError(fmt::format("python connector '{}': {}: bad frame", target_, what));
    }
    const std::string_view data = batch.adopt(read_exact(bytes));
    std::size_t start = 0;
    while (start < data.size()) {
      std::size_t end = data.find('\n', start);
      if (end == std::string_view::npos) end = data.size();
      if (end > start) batch.append_view(data.substr(start, end - start));
      start = end + 1;
    }
    return true;
  }

  void start_stream() { streaming_ = true; }

 private:
  [[noreturn]] void throw_error(const JsonValue& error, std::string_view what) {
    auto field = [&](std::string_view key) -> std::string {
      const JsonValue* v = error.find(key);
      return v != nullptr && v->is_string() ? v->as_string() : std::string();
    };
    const std::string type = field("type");
    const std::string message = field("message");
    const std::string where = field("where");
    if (type == "ConnectorError") {
      throw SourceError(fmt::format("python connector '{}': {}", target_, message));
    }
    std::string text = fmt::format("python connector '{}': {} raised {}: {}{}", target_, what, type,
                                   message, where.empty() ? "" : " (at " + where + ")");
    if (type == "NotImplementedError") throw NotImplementedError(std::move(text));
    if (type == "ModuleNotFoundError" || type == "ImportError" || type == "SyntaxError") {
      throw ConfigError(text + "; check the module name and PYTHONPATH");
    }
    throw SourceError(std::move(text));
  }

  // Skips what is left of a read whose records the caller did not drain.
  void drain() {
    RecordBatch skipped;
    try {
      while (next_frame(skipped, "read_table")) skipped.clear();
    } catch (const Error&) {
      // The abandoned read's own error: nobody is waiting for it.
    }
  }

  Error gone() {
    int status = 0;
    std::string how = "ended";
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      how = WIFEXITED(status) ? fmt::format("exited with status {}", WEXITSTATUS(status))
                              : fmt::format("was killed by signal {}", WTERMSIG(status));
    }
    return SourceError(fmt::format(
        "python connector '{}': the Python process {}; what it printed on stderr says why", target_,
        how));
  }

  void fill() {
    if (pos_ > 0) {
      buffer_.erase(0, pos_);
      pos_ = 0;
    }
    char chunk[1 << 16];
    ssize_t n;
    do {
      n = ::recv(fd_, chunk, sizeof chunk, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) throw gone();
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }

  std::string read_line() {
    std::size_t newline;
    while ((newline = buffer_.find('\n', pos_)) == std::string::npos) fill();
    std::string line = buffer_.substr(pos_, newline - pos_);
    pos_ = newline + 1;
    return line;
  }

  std::string read_exact(std::size_t n) {
    std::string out;
    const std::size_t buffered = std::min(n, buffer_.size() - pos_);
    out.reserve(n);
    out.append(buffer_, pos_, buffered);
    pos_ += buffered;
    // The rest of a frame goes straight from the socket into the record buffer.
    std::size_t have = buffered;
    out.resize(n);
    while (have < n) {
      const ssize_t got = ::recv(fd_, out.data() + have, n - have, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) throw gone();
      have += static_cast<std::size_t>(got);
    }
    return out;
  }

  std::string target_;
  int fd_ = -1;
  pid_t pid_ = -1;
  std::string buffer_;
  std::size_t pos_ = 0;
  bool streaming_ = false;
};

JsonValue::Object options_json(const Options& options) {
  JsonValue::Object out;
  for (const auto& [key, value] : options.values()) out[key] = value;
  return out;
}

// Constructed before LakeflowConnect (base-from-member): the spec the base checks options against
// comes from the connector's module, which the process imports first.
struct PythonProcess {
  explicit PythonProcess(std::string_view target)
      : channel(std::make_shared<Channel>(std::string(target))) {
    JsonValue::Object load;
    load["method"] = "load";
    load["class"] = std::string(target);
    const JsonValue loaded = channel->call(std::move(load), "import");
    const std::string name = "python:" + std::string(target);
    const JsonValue* dir = loaded.find("module_dir");
    const fs::path spec_file = dir != nullptr && dir->is_string()
                                   ? fs::path(dir->as_string()) / "connector_spec.yaml"
                                   : fs::path();
    std::error_code ec;
    if (!spec_file.empty() && fs::exists(spec_file, ec)) {
      connector_spec = std::make_unique<ConnectorSpec>(
          ConnectorSpec::parse(name, files::read_file(spec_file), spec_file.string()));
    } else {
      connector_spec = std::make_unique<ConnectorSpec>(ConnectorSpec::accepting_any_option(name));
    }
  }

  std::shared_ptr<Channel> channel;
  std::unique_ptr<ConnectorSpec> connector_spec;
};

class PythonConnector : private PythonProcess, public LakeflowConnect {
 public:
  PythonConnector(std::string_view target, const Options& options)
      : PythonProcess(target),
        LakeflowConnect(*connector_spec, options),
        class_name_(target.substr(target.find(':') + 1)) {
    JsonValue::Object init;
    init["method"] = "init";
    init["options"] = options_json(this->options());
    channel->call(std::move(init), class_name_ + "(options)");
  }

 protected:
  std::vector<std::string> do_list_tables() override {
    const JsonValue tables = call({{"method", "list_tables"}}, "list_tables()");
    std::vector<std::string> out;
    for (const JsonValue& t : tables.as_array()) out.push_back(t.as_string());
    return out;
  }

  StructType do_get_table_schema(const TableContext& c) override {
    const std::string what = describe("get_table_schema", c.table);
    const JsonValue schema = call(table_request("get_table_schema", c), what);
    try {
      return parse_struct_type(schema.as_string());
    } catch (const Error& e) {
      throw SchemaError(
          fmt::format("python connector '{}': {} returned a schema lakeflow cannot "
                      "read: {}",
                      channel->target(), what, e.what()));
    }
  }

  TableMetadata do_read_table_metadata(const TableContext& c) override {
    const std::string what = describe("read_table_metadata", c.table);
    const JsonValue value = call(table_request("read_table_metadata", c), what);
    TableMetadata metadata;
    try {
      if (const JsonValue* keys = value.find("primary_keys"); keys != nullptr && !keys->is_null()) {
        if (keys->is_string()) {
          metadata.primary_keys.push_back(keys->as_string());
        } else {
          for (const JsonValue& k : keys->as_array())
            metadata.primary_keys.push_back(k.as_string());
        }
      }
      if (const JsonValue* cursor = value.find("cursor_field");
          cursor != nullptr && !cursor->is_null()) {
        metadata.cursor_field = cursor->as_string();
      }
      // Upstream's pipeline reads a missing ingestion_type as cdc.
      const JsonValue* type = value.find("ingestion_type");
      metadata.ingestion_type = type == nullptr || type->is_null()
                                    ? IngestionType::kCdc
                                    : parse_ingestion_type(type->as_string());
    } catch (const Error& e) {
      throw SchemaError(fmt::format(
          "python connector '{}': {} returned {}: {}; return a dict with primary_keys (a list of "
          "column names), cursor_field (a column name) and ingestion_type",
          channel->target(), what, value.dump(), e.what()));
    }
    return metadata;
  }

  ReadResult do_read_table(const ReadContext& c) override { return read(c, "read_table"); }

  ReadResult do_read_table_deletes(const ReadContext& c) override {
    return read(c, "read_table_deletes");
  }

 private:
  std::string describe(std::string_view method, std::string_view table) const {
    return fmt::format("{}.{}('{}')", class_name_, method, table);
  }

  JsonValue call(JsonValue::Object request, std::string_view what) {
    return channel->call(std::move(request), what);
  }

  static JsonValue::Object table_request(std::string_view method, const TableContext& c) {
    JsonValue::Object request;
    request["method"] = std::string(method);
    request["table"] = std::string(c.table);
    request["table_options"] = options_json(c.table_options);
    return request;
  }

  ReadResult read(const ReadContext& c, std::string_view method) {
    JsonValue::Object request = table_request(method, c);
    request["start_offset"] = c.start.value();
    const std::string what = describe(method, c.table);
    const JsonValue end = call(std::move(request), what);
    channel->start_stream();
    ReadResult result;
    result.end = end.is_null() ? Offset::null() : Offset(end.as_object());
    result.records = RecordStream(
        [channel = channel, what](RecordBatch& batch) { return channel->next_frame(batch, what); });
    return result;
  }

  std::string class_name_;
};

}  // namespace

std::unique_ptr<LakeflowConnect> make_python_connector(std::string_view target,
                                                       const Options& options) {
  const std::size_t colon = target.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == target.size()) {
    throw ConfigError(fmt::format(
        "connector 'python:{}': name a Python connector as python:package.module:ClassName",
        target));
  }
  return std::make_unique<PythonConnector>(target, options);
}

void register_python_connectors(ConnectorRegistry& registry) {
  registry.add_scheme("python", make_python_connector);
}

}  // namespace lakeflow::python_bridge
