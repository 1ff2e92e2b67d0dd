#include "pipeline/progress.h"

#include <fmt/format.h>

namespace lakeflow::pipeline {
namespace {

constexpr std::size_t kLogOffsetColumns = 200;

std::string rate(const TableProgress& p) {
  if (p.seconds <= 0) return "-- MB/s";
  return fmt::format("{:.1f} MB/s", static_cast<double>(p.bytes) / 1e6 / p.seconds);
}

// "1 record", "2 records"; `many` defaults to `one` + "s".
std::string plural(std::size_t n, std::string_view one, std::string_view many = {}) {
  if (n == 1) return fmt::format("1 {}", one);
  return many.empty() ? fmt::format("{} {}s", format_count(n), one)
                      : fmt::format("{} {}", format_count(n), many);
}

}  // namespace

std::string format_bytes(std::size_t bytes) {
  if (bytes < 1000) return fmt::format("{} B", bytes);
  const char* units[] = {"kB", "MB", "GB", "TB", "PB"};
  double value = static_cast<double>(bytes) / 1000;
  std::size_t unit = 0;
  while (value >= 999.95 && unit + 1 < std::size(units)) {
    value /= 1000;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, units[unit]);
}

std::string format_count(std::size_t count) {
  std::string digits = std::to_string(count);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string fit_width(std::string_view text, std::size_t width) {
  std::size_t columns = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (++columns > width) {
      if (width == 0) return "";
      // Cut before the code point that makes `width` columns, then add the ellipsis.
      std::size_t cut = 0;
      std::size_t kept = 0;
      for (std::size_t j = 0; j < text.size(); ++j) {
        if ((static_cast<unsigned char>(text[j]) & 0xC0) == 0x80) continue;
        if (kept == width - 1) {
          cut = j;
          break;
        }
        ++kept;
      }
      return std::string(text.substr(0, cut)) + "\u2026";
    }
  }
  return std::string(text);
}

std::string live_progress_line(const TableProgress& p, std::size_t width) {
  std::string line;
  switch (p.stage) {
    case TableProgress::Stage::kFailed:
      line = fmt::format("{}  FAILED: {}", p.destination, p.error);
      break;
    case TableProgress::Stage::kDone:
      line = fmt::format("{}  {}  done  {}  {}  {:.2f}s  +{} ~{} -{}  {}", p.destination,
                         p.ingestion_type, plural(p.records, "record"), format_bytes(p.bytes),
                         p.seconds, format_count(p.inserted), format_count(p.updated),
                         format_count(p.deleted), plural(p.commits, "commit"));
      if (p.quarantined > 0) line += fmt::format("  {} quarantined", format_count(p.quarantined));
      break;
    case TableProgress::Stage::kReading:
    case TableProgress::Stage::kCommitted:
      line = fmt::format("{}  {}  {}  {}  {}", p.destination, p.ingestion_type,
                         plural(p.records, "record"), format_bytes(p.bytes), rate(p));
      if (p.quarantined > 0) line += fmt::format("  {} quarantined", format_count(p.quarantined));
      line += fmt::format("  {}  at {}", plural(p.commits, "commit"), p.offset);
      break;
  }
  for (char& c : line) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return fit_width(line, width);
}

std::string progress_log_line(const TableProgress& p) {
  return fmt::format("[{}] committed {}: {}, {} ({}), +{} ~{} -{} rows, {} quarantined, offset {}",
                     p.destination, plural(p.commits, "batch", "batches"),
                     plural(p.records, "record"), format_bytes(p.bytes), rate(p),
                     format_count(p.inserted), format_count(p.updated), format_count(p.deleted),
                     format_count(p.quarantined), fit_width(p.offset, kLogOffsetColumns));
}

}  // namespace lakeflow::pipeline
