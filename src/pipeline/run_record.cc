#include "pipeline/run_record.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <system_error>

#include "lakeflow/files.h"

namespace lakeflow::pipeline {
namespace {

namespace fs = std::filesystem;

std::int64_t now_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool write_record(const fs::path& table_path, const JsonValue& record) {
  std::error_code ec;
  const fs::path path = run_record_path(table_path);
  fs::create_directories(path.parent_path(), ec);
  if (ec) return false;
  const fs::path temp =
      path.parent_path() / (".last_run.json." + std::to_string(getpid()) + ".tmp");
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << record.dump() << "\n";
    out.close();
    if (!out) {
      fs::remove(temp, ec);
      return false;
    }
  }
  fs::rename(temp, path, ec);
  if (ec) fs::remove(temp, ec);
  return !ec;
}

JsonValue optional_text(const std::optional<std::string>& text) {
  return text ? JsonValue(*text) : JsonValue();
}

JsonValue count(std::size_t n) { return JsonValue(static_cast<std::int64_t>(n)); }

}  // namespace

fs::path run_record_path(const fs::path& table_path) {
  return table_path / "_lakeflow" / "last_run.json";
}

bool record_run_started(const fs::path& table_path, const std::string& table) {
  JsonValue record;
  record["table"] = table;
  record["state"] = "running";
  record["started"] = now_millis();
  record["pid"] = static_cast<std::int64_t>(::getpid());
  return write_record(table_path, record);
}

bool record_run_ended(const fs::path& table_path, const TableResult& result,
                      std::int64_t started_ms) {
  JsonValue record;
  record["table"] = result.destination;
  record["state"] = result.error ? "failed" : "succeeded";
  record["started"] = started_ms;
  record["ended"] = now_millis();
  record["ingestion_type"] = result.ingestion_type;
  record["flow"] = result.flow;
  record["scd_type"] = result.scd_type;
  record["records"] = count(result.records);
  record["inserted"] = count(result.inserted);
  record["updated"] = count(result.updated);
  record["deleted"] = count(result.deleted);
  record["quarantined"] = count(result.quarantined);
  record["files"] = count(result.files);
  record["commits"] = count(result.commits);
  record["seconds"] = result.seconds;
  record["offset"] = optional_text(result.offset);
  record["deletes_offset"] = optional_text(result.deletes_offset);
  record["error"] = optional_text(result.error);
  JsonValue::Array notes;
  for (const std::string& note : result.notes) notes.emplace_back(note);
  record["notes"] = JsonValue(std::move(notes));
  return write_record(table_path, record);
}

std::optional<JsonValue> read_run_record(const fs::path& table_path) {
  const std::optional<std::string> text = files::read_file_if_exists(run_record_path(table_path));
  if (!text) return std::nullopt;
  try {
    JsonValue record = JsonValue::parse(*text, "run record");
    if (!record.is_object()) return std::nullopt;
    const JsonValue* state = record.find("state");
    const JsonValue* pid = record.find("pid");
    if (state != nullptr && state->is_string() && state->as_string() == "running" &&
        pid != nullptr && pid->is_int() && pid->as_int() > 0) {
      const bool alive = ::kill(static_cast<pid_t>(pid->as_int()), 0) == 0 || errno == EPERM;
      record["alive"] = alive;
    }
    return record;
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace lakeflow::pipeline
