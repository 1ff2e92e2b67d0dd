#include "hl7v2_table_read.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "hl7v2_model.h"
#include "lakeflow/error.h"

namespace lakeflow::hl7v2 {
namespace {

namespace fs = std::filesystem;

// Bytes read at a time (table option read_buffer_bytes); a message longer than this grows the
// buffer.
constexpr std::int64_t kDefaultReadBufferBytes = std::int64_t{4} << 20;
constexpr std::int64_t kReadBufferBytesLimit = std::int64_t{1} << 30;
// A store lists at most 1000 messages a page (messages.list, pageSize).
constexpr std::int64_t kMaxPageSize = 1000;

// An open file, read with pread.
class InputFile {
 public:
  explicit InputFile(const fs::path& path) : path_(path.string()) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0 && errno == ENOENT) return;  // moved away since it was listed: empty
    if (fd_ < 0) fail("cannot open");
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("cannot stat");
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  ~InputFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  std::uint64_t size() const { return size_; }

  // Reads [at, at + n) into `out` (resized to n).
  void read(std::uint64_t at, std::size_t n, std::string& out) const {
    out.resize(n);
    std::size_t done = 0;
    while (done < n) {
      const ssize_t got = ::pread(fd_, out.data() + done, n - done, static_cast<off_t>(at + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) fail("cannot read");
      if (got == 0) {
        throw SourceError(fmt::format(
            "hl7v2: {} ended at byte {} while being read (was it truncated or rewritten?); files "
            "are read as they grow by whole messages; rerun with --full-refresh after a rewrite",
            path_, at + done));
      }
      done += static_cast<std::size_t>(got);
    }
  }

 private:
  [[noreturn]] void fail(std::string_view what) const {
    throw SourceError(fmt::format("hl7v2: {} {}: {}; check that the file exists and is readable",
                                  what, path_, std::strerror(errno)));
  }

  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_segment_id(std::string_view id) {
  return id.size() == 3 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

std::size_t buffer_bytes_option(const TableContext& context) {
  try {
    return static_cast<std::size_t>(context.table_options.get_int(
        "read_buffer_bytes", kDefaultReadBufferBytes, 1, kReadBufferBytesLimit));
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("hl7v2: table '{}': {}", context.table, e.what()));
  }
}

std::int64_t page_size_option(const TableContext& context) {
  try {
    return context.table_options.get_int("page_size", kMaxPageSize, 1, kMaxPageSize);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("hl7v2: table '{}': {}", context.table, e.what()));
  }
}

TableKind table_kind(const TableContext& context) {
  buffer_bytes_option(context);  // every hook taking table options checks them
  page_size_option(context);
  if (context.table == kMessagesTable) return {TableKind::Kind::kMessages, {}};
  if (context.table == kMalformedTable) return {TableKind::Kind::kMalformed, {}};
  std::string id = upper(context.table);
  if (const std::optional<std::string_view> option = context.table_options.find("segment_type")) {
    id = upper(*option);
    if (!is_segment_id(id)) {
      throw ConfigError(fmt::format(
          "hl7v2: table '{}': option 'segment_type' is '{}'; give a segment ID (three letters or "
          "digits, e.g. ZPD)",
          context.table, *option));
    }
  }
  return {TableKind::Kind::kSegment, std::move(id)};
}

UnitsEnd TableRead::read_file(std::string_view name, const fs::path& path, std::uint64_t at,
                              std::size_t first_segment, bool last_file) {
  const InputFile file(path);
  if (at > file.size()) return {at, first_segment, false};
  std::string buffer;
  std::size_t chunk = buffer_bytes_;
  while (at < file.size()) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, file.size() - at));
    file.read(at, n, buffer);
    std::size_t consumed = 0;
    if (const std::optional<UnitsEnd> end = take_units(name, buffer, at, at + n == file.size(),
                                                       last_file, first_segment, consumed)) {
      return *end;
    }
    at += consumed;
    // A unit longer than the buffer: read more of it at once.
    chunk = consumed > 0 ? buffer_bytes_ : chunk * 2;
  }
  return {file.size(), 0, false};
}

UnitsEnd TableRead::read_text(std::string_view name, std::string_view data, std::uint64_t at,
                              std::size_t first_segment) {
  if (at > data.size()) return {at, first_segment, false};
  std::size_t consumed = 0;
  if (const std::optional<UnitsEnd> end =
          take_units(name, data.substr(at), at, true, false, first_segment, consumed)) {
    return *end;
  }
  return {data.size(), 0, false};
}

std::optional<UnitsEnd> TableRead::take_units(std::string_view name, std::string_view buffer,
                                              std::uint64_t base, bool at_eof, bool last_file,
                                              std::size_t& first_segment, std::size_t& consumed) {
  MessageSplitter splitter(buffer, at_eof);
  FileUnit unit;
  for (;;) {
    const MessageSplitter::Status status = splitter.next(unit);
    if (status != MessageSplitter::Status::kUnit) {
      // kDone: nothing but blank lines is left; kNeedMore: the next unit may continue past the
      // buffer.
      consumed = status == MessageSplitter::Status::kDone ? buffer.size() : splitter.position();
      return std::nullopt;
    }
    const std::uint64_t unit_at = base + unit.begin;
    if (unit.unclosed_frame && last_file) {
      return UnitsEnd{unit_at, 0, false};  // may still be being written: wait for its end
    }
    const std::optional<std::size_t> stop = take(name, unit, unit_at, first_segment);
    first_segment = 0;
    if (stop) {
      if (*stop == kAfterUnit) return UnitsEnd{base + unit.end, 0, true};
      return UnitsEnd{unit_at, *stop, true};
    }
  }
}

bool TableRead::take_malformed(std::string_view name, std::uint64_t at, std::string_view reason,
                               std::string_view raw) {
  if (table_.kind != TableKind::Kind::kMalformed) return false;
  record_.clear();
  append_malformed_record(name, at, reason, raw, record_);
  batch_.append(record_);
  return full();
}

std::optional<std::size_t> TableRead::take(std::string_view name, const FileUnit& unit,
                                           std::uint64_t unit_at, std::size_t first_segment) {
  if (unit.kind == FileUnit::Kind::kEnvelope) return std::nullopt;
  std::optional<std::string> problem;
  if (unit.kind == FileUnit::Kind::kStray) {
    problem = unit.problem;
  } else {
    problem = parse_message(unit.text, message_);
  }
  if (problem) {
    if (table_.kind != TableKind::Kind::kMalformed) return std::nullopt;
    return take_malformed(name, unit_at, *problem, unit.text) ? std::optional(kAfterUnit)
                                                              : std::nullopt;
  }
  if (table_.kind == TableKind::Kind::kMalformed) return std::nullopt;
  const MessageInfo info = message_info(message_, name, unit_at);
  if (table_.kind == TableKind::Kind::kMessages) {
    record_.clear();
    append_message_record(message_, info, unit.text, record_);
    batch_.append(record_);
    return full() ? std::optional<std::size_t>(kAfterUnit) : std::nullopt;
  }
  const std::vector<Segment>& segments = message_.segments;
  for (std::size_t i = first_segment; i < segments.size(); ++i) {
    if (segments[i].id != table_.segment_id) continue;
    if (full()) return i;  // a matching segment is left: resume at it
    record_.clear();
    append_segment_record(message_, i, info, record_);
    batch_.append(record_);
  }
  return full() ? std::optional<std::size_t>(kAfterUnit) : std::nullopt;
}

}  // namespace lakeflow::hl7v2
