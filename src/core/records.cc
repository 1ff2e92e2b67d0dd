#include "lakeflow/records.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "lakeflow/error.h"

namespace lakeflow {
namespace {

// Usable bytes of a regular arena chunk. A record larger than this gets a chunk of its own size.
constexpr std::size_t kChunkSize = 256 * 1024;

// Adopted buffers that clear() keeps for RecordBatch::reusable_buffer(), per thread: at most
// this many, each of at least this capacity (smaller ones cost little to allocate again).
constexpr std::size_t kReusableBuffers = 2;
constexpr std::size_t kReusableCapacity = 64 * 1024;

std::vector<std::string>& reusable_buffers() {
  thread_local std::vector<std::string> buffers;
  return buffers;
}

// Pointer comparisons across unrelated objects are unspecified in C++; compare addresses instead.
std::uintptr_t address(const char* p) { return reinterpret_cast<std::uintptr_t>(p); }

}  // namespace

// Arena layout: every record is copied to `data + used` and followed by kPadding spaces, so each
// record's padding is its own and is always whitespace. A chunk allocates kPadding bytes beyond its
// capacity, so a record fits when it ends within the capacity.
char* RecordBatch::arena_place(std::size_t n) {
  Chunk* chunk = active_chunk_ < chunks_.size() ? &chunks_[active_chunk_] : nullptr;
  if (chunk == nullptr || chunk->used + n > chunk->capacity) {
    // Chunks after the active one are unused (clear() resets them); reuse the next if it is big
    // enough, otherwise insert a new one there.
    const std::size_t next = chunk == nullptr ? chunks_.size() : active_chunk_ + 1;
    if (next >= chunks_.size() || chunks_[next].capacity < n) {
      const std::size_t capacity = std::max(kChunkSize, n);
      // Not zero-filled: every byte handed out is written (the record, then its padding).
      Chunk fresh{std::make_unique_for_overwrite<char[]>(capacity + kPadding), 0, capacity};
      chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(next), std::move(fresh));
    }
    active_chunk_ = next;
    chunk = &chunks_[active_chunk_];
    chunk->used = 0;
  }
  char* dest = chunk->data.get() + chunk->used;
  std::memset(dest + n, ' ', kPadding);
  chunk->used += n + kPadding;
  return dest;
}

void RecordBatch::append(std::string_view json) {
  const std::size_t n = json.size();
  char* dest = arena_place(n);
  if (n > 0) std::memcpy(dest, json.data(), n);
  records_.push_back({dest, n, n + kPadding});
  byte_size_ += n;
}

void RecordBatch::append_with_members(std::string_view source, std::string_view members) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t open = source.find_first_not_of(kSpace);
  const std::size_t close = source.find_last_not_of(kSpace);
  if (open == std::string_view::npos || source[open] != '{' || source[close] != '}' ||
      close == open) {
    throw Error(ErrorCode::kInternal,
                fmt::format("RecordBatch::append_with_members: the source ({} bytes) is not a JSON "
                            "object's text",
                            source.size()));
  }
  // The object's own members, without its braces, and whether it has any.
  const std::string_view body = source.substr(open + 1, close - open - 1);
  const bool has_members = body.find_first_not_of(kSpace) != std::string_view::npos;
  const bool add = !members.empty();
  // Layout: the source, then the record, then the record's padding.
  const std::size_t record_size =
      1 + body.size() + (add && has_members ? 1 : 0) + members.size() + 1;
  char* dest = arena_place(source.size() + record_size);
  std::memcpy(dest, source.data(), source.size());
  char* record = dest + source.size();
  char* p = record;
  *p++ = '{';
  std::memcpy(p, body.data(), body.size());
  p += body.size();
  if (add && has_members) *p++ = ',';
  if (add) std::memcpy(p, members.data(), members.size());
  p += members.size();
  *p = '}';
  records_.push_back({record, record_size, record_size + kPadding, dest, source.size()});
  byte_size_ += record_size;
}

std::string_view RecordBatch::adopt(std::string buffer) {
  const std::size_t n = buffer.size();
  buffer.append(kPadding, ' ');
  // The string lives behind a unique_ptr so its bytes keep their address when the batch (and the
  // vector of buffers) moves.
  adopted_.push_back(std::make_unique<std::string>(std::move(buffer)));
  return std::string_view(adopted_.back()->data(), n);
}

void RecordBatch::append_view(std::string_view record) {
  const std::uintptr_t begin = address(record.data());
  const std::uintptr_t end = begin + record.size();
  // Records are usually appended from the buffer adopted last, so search backwards.
  for (auto it = adopted_.rbegin(); it != adopted_.rend(); ++it) {
    const std::string& buffer = **it;
    const std::uintptr_t buffer_begin = address(buffer.data());
    const std::uintptr_t buffer_end = buffer_begin + (buffer.size() - kPadding);
    if (record.data() != nullptr && begin >= buffer_begin && end <= buffer_end) {
      const std::size_t readable = buffer_begin + buffer.size() - begin;
      records_.push_back({record.data(), record.size(), readable});
      byte_size_ += record.size();
      return;
    }
  }
  throw Error(ErrorCode::kInternal,
              fmt::format("RecordBatch::append_view: the record ({} bytes) does not lie inside a "
                          "buffer this batch adopted; adopt() the buffer first, or append() the "
                          "record to copy it",
                          record.size()));
}

std::size_t RecordBatch::append_json_array(std::string_view adopted, std::string_view array_path) {
  namespace od = simdjson::ondemand;
  const std::string where =
      array_path.empty() ? std::string("the body") : fmt::format("'{}' of the body", array_path);
  const std::size_t first = records_.size();
  const std::size_t bytes_before = byte_size_;
  // One parser per thread: it keeps its buffers between pages.
  thread_local od::parser parser;
  try {
    // Every adopted buffer is followed by kPadding spaces: simdjson's padding. (A view that is not
    // inside an adopted buffer is refused by append_view below, before any record is kept.)
    od::document document = parser.iterate(
        simdjson::padded_string_view(adopted.data(), adopted.size(), adopted.size() + kPadding));
    // simdjson's value methods assume a value below the root: the document itself (a bare array,
    // or the object a path starts from) is read through the document's own methods.
    od::array array;
    const auto take_array = [&](auto& holder) {
      if (const auto error = holder.get_array().get(array); error == simdjson::INCORRECT_TYPE) {
        throw SourceError(fmt::format("{} is not a JSON array of records", where));
      } else if (error) {
        throw simdjson::simdjson_error(error);
      }
    };
    const auto object_holding = [&](auto& holder, std::string_view key) {
      od::object object;
      if (const auto error = holder.get_object().get(object); error == simdjson::INCORRECT_TYPE) {
        throw SourceError(
            fmt::format("expected a JSON object holding '{}' on the way to {}", key, where));
      } else if (error) {
        throw simdjson::simdjson_error(error);
      }
      return object;
    };
    if (array_path.empty()) {
      if (document.is_null()) return 0;
      take_array(document);
    } else {
      od::value value;
      std::string_view rest = array_path;
      bool at_root = true;
      while (!rest.empty()) {
        const std::size_t dot = rest.find('.');
        const std::string_view key = rest.substr(0, dot);
        rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
        od::object object = at_root ? object_holding(document, key) : object_holding(value, key);
        at_root = false;
        if (const auto error = object.find_field_unordered(key).get(value);
            error == simdjson::NO_SUCH_FIELD) {
          throw SourceError(fmt::format("the body has no {}", where));
        } else if (error) {
          throw simdjson::simdjson_error(error);
        }
      }
      if (value.is_null()) return 0;
      take_array(value);
    }
    std::size_t index = 0;
    for (auto element : array) {
      od::object record;
      if (const auto error = element.get_object().get(record); error == simdjson::INCORRECT_TYPE) {
        throw SourceError(
            fmt::format("element {} of {} is not a JSON object (a record)", index, where));
      } else if (error) {
        throw simdjson::simdjson_error(error);
      }
      std::string_view text = record.raw_json();
      while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' ||
                               text.back() == '\t')) {
        text.remove_suffix(1);
      }
      append_view(text);
      ++index;
    }
  } catch (const simdjson::simdjson_error& e) {
    records_.resize(first);
    byte_size_ = bytes_before;
    throw SourceError(fmt::format("{} is not valid JSON ({})", where, e.what()));
  } catch (...) {
    records_.resize(first);
    byte_size_ = bytes_before;
    throw;
  }
  return records_.size() - first;
}

std::string RecordBatch::reusable_buffer(std::size_t size) {
  std::vector<std::string>& buffers = reusable_buffers();
  for (auto it = buffers.begin(); it != buffers.end(); ++it) {
    if (it->capacity() < size + kPadding) continue;
    std::string buffer = std::move(*it);
    buffers.erase(it);
    // Not shrunk to `size`: growing it again would write every byte between (a std::string
    // zero-fills what it grows by), so it keeps the bytes it held, less adopt()'s padding.
    buffer.resize(std::max(size, std::min(buffer.size(), buffer.capacity() - kPadding)));
    return buffer;
  }
  std::string buffer;
  buffer.reserve(size + kPadding);
  buffer.resize(size);
  return buffer;
}

void RecordBatch::clear() {
  records_.clear();
  std::vector<std::string>& buffers = reusable_buffers();
  for (std::unique_ptr<std::string>& buffer : adopted_) {
    if (buffer->capacity() < kReusableCapacity) continue;
    if (buffers.size() == kReusableBuffers) {
      // Keep the larger ones: a connector's read chunks, not the odd page body.
      auto smallest = std::min_element(
          buffers.begin(), buffers.end(),
          [](const std::string& a, const std::string& b) { return a.capacity() < b.capacity(); });
      if (smallest->capacity() >= buffer->capacity()) continue;
      *smallest = std::move(*buffer);
      continue;
    }
    buffers.push_back(std::move(*buffer));
  }
  adopted_.clear();
  for (Chunk& chunk : chunks_) chunk.used = 0;
  active_chunk_ = 0;
  byte_size_ = 0;
}

RecordStream RecordStream::of(RecordBatch batch) {
  // std::function needs a copyable callable, so the move-only batch is held by a shared_ptr.
  auto held = std::make_shared<RecordBatch>(std::move(batch));
  return RecordStream([held, done = false](RecordBatch& out) mutable {
    if (done) return false;
    done = true;
    std::swap(out, *held);  // hands the records over; `held` keeps out's spare arena
    return true;
  });
}

RecordStream RecordStream::of(std::vector<std::string> records) {
  RecordBatch batch;
  for (const std::string& record : records) batch.append(record);
  return of(std::move(batch));
}

RecordStream RecordStream::of(std::vector<RecordBatch> batches) {
  auto held = std::make_shared<std::vector<RecordBatch>>(std::move(batches));
  return RecordStream([held, next = std::size_t{0}](RecordBatch& out) mutable {
    if (next == held->size()) return false;
    std::swap(out, (*held)[next++]);  // hands the records over; the slot keeps out's spare arena
    return true;
  });
}

bool RecordStream::next(RecordBatch& batch) {
  batch.clear();
  if (!pull_) return false;
  while (pull_(batch)) {
    if (!batch.empty()) return true;
    batch.clear();  // drop whatever an empty pull left behind (e.g. an adopted page)
  }
  batch.clear();
  pull_ = nullptr;  // exhausted: later calls return false without pulling, captures are released
  return false;
}

}  // namespace lakeflow
