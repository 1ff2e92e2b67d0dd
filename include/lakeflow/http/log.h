// Logging for the HTTP toolkit: a sink the application provides, a level filter, and redaction of
// every line before it reaches the sink.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "lakeflow/http/redactor.h"

namespace lakeflow::http {

enum class LogLevel : std::uint8_t { kDebug, kInfo, kWarning, kError };

std::string_view to_string(LogLevel level);  // "debug", "info", "warning", "error"

// Receives redacted log lines. May be called from several threads at once.
using LogSink = std::function<void(LogLevel level, std::string_view message)>;

// Writes `lakeflow http [level] message` lines to stderr.
LogSink stderr_log_sink();

// A sink, a minimum level and the redactor every line passes through. Cheap to copy.
class Logger {
 public:
  // Logs at kInfo and above to stderr, redacting with process_redactor().
  Logger();
  Logger(LogSink sink, LogLevel min_level, std::shared_ptr<const Redactor> redactor);

  bool enabled(LogLevel level) const { return sink_ && level >= min_level_; }
  // Redacts `message` and passes it to the sink when `level` is enabled.
  void log(LogLevel level, std::string_view message) const;
  void debug(std::string_view message) const { log(LogLevel::kDebug, message); }
  void info(std::string_view message) const { log(LogLevel::kInfo, message); }
  void warning(std::string_view message) const { log(LogLevel::kWarning, message); }

  const Redactor& redactor() const { return *redactor_; }

 private:
  LogSink sink_;
  LogLevel min_level_ = LogLevel::kInfo;
  std::shared_ptr<const Redactor> redactor_;
};

}  // namespace lakeflow::http
