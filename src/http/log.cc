#include "lakeflow/http/log.h"

#include <fmt/format.h>

#include <cstdio>
#include <mutex>

namespace lakeflow::http {

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

LogSink stderr_log_sink() {
  return [](LogLevel level, std::string_view message) {
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    fmt::print(stderr, "lakeflow http [{}] {}\n", to_string(level), message);
  };
}

Logger::Logger() : Logger(stderr_log_sink(), LogLevel::kInfo, process_redactor()) {}

Logger::Logger(LogSink sink, LogLevel min_level, std::shared_ptr<const Redactor> redactor)
    : sink_(std::move(sink)),
      min_level_(min_level),
      redactor_(redactor ? std::move(redactor) : std::make_shared<Redactor>()) {}

void Logger::log(LogLevel level, std::string_view message) const {
  if (!enabled(level)) return;
  sink_(level, redactor_->redact(message));
}

}  // namespace lakeflow::http
