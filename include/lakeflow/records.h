// Records as a connector returns them: raw JSON text, never converted to the table's schema.
//
// A RecordBatch owns the bytes its records live in. The fast path adopts one response buffer (an
// HTTP body, a file chunk) and adds each record as a view into it (e.g. every `entry[].resource` of
// a FHIR Bundle page), so no record is copied. Connectors that build records (database rows) append
// owned JSON text instead. Every record is followed by at least `kPadding` readable bytes, which
// lets the converter parse it in place with simdjson.
//
// A record's source text is what it was made from: the record itself, unless a connector added
// members of its own to a source object (`append_with_members`, e.g. a cursor column beside each
// resource of a page). A table's raw record column (TableMetadata::raw_record_column) holds it.
//
// A RecordStream is a pull-based sequence of batches; the framework drains it with `next`.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lakeflow {

class RecordBatch {
 public:
  // Bytes readable past the end of every record (simdjson's SIMDJSON_PADDING).
  static constexpr std::size_t kPadding = 64;

  RecordBatch() = default;
  RecordBatch(RecordBatch&&) noexcept = default;
  RecordBatch& operator=(RecordBatch&&) noexcept = default;
  RecordBatch(const RecordBatch&) = delete;
  RecordBatch& operator=(const RecordBatch&) = delete;

  // Copies one record's JSON text into storage the batch owns.
  void append(std::string_view json);

  // Takes ownership of `buffer` and returns a view of its bytes, valid for the batch's lifetime.
  // Records inside it are then added with `append_view`, without copying.
  std::string_view adopt(std::string buffer);
  // At least `size` bytes (values unspecified) to read into and adopt(), with room for its padding:
  // the memory of an adopted buffer of a batch cleared on this thread since, when large enough, at
  // its length then (growing a std::string writes every new byte), so chunk after chunk is neither
  // allocated nor zero-filled again; adopt the whole string, add records from the part you read.
  // clear() keeps the two largest adopted buffers of 64 KiB or more per thread; frees the rest.
  static std::string reusable_buffer(std::size_t size);
  // Adds a record that lies inside a buffer this batch adopted. Throws Error(kInternal) otherwise.
  void append_view(std::string_view record);
  // Adds every element of a JSON array inside `adopted` (a view adopt() returned, e.g. a page
  // body) as a record view, in order and without copying: the common "page of records" body.
  // `array_path` names the array: empty when the body is the array itself, else member names
  // separated by `.` from the top-level object (`data`, `result.items`). A null there adds
  // nothing. Returns the number of records added. Throws SourceError (naming the path, never the
  // body) when the body is not JSON, the path leads nowhere or to something other than an array,
  // or an element is not a JSON object; the batch then holds none of this body's records.
  std::size_t append_json_array(std::string_view adopted, std::string_view array_path = {});
  // Adds a record made of the JSON object `source` (e.g. one resource of a page) with `members`
  // added after its own: the text of one or more object members, such as
  // `"last_updated":"2024-05-01T00:00:00Z"` (empty: none). Both are copied; nothing is escaped or
  // parsed. `(*this)[i]` is the object with the members, `source(i)` is `source` exactly as given.
  // Throws Error(kInternal) when `source` does not start with `{` and end with `}` (whitespace
  // around them aside).
  void append_with_members(std::string_view source, std::string_view members);

  std::size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  std::string_view operator[](std::size_t i) const { return {records_[i].data, records_[i].size}; }
  // Bytes readable from the start of record `i`: at least its size plus kPadding.
  std::size_t readable(std::size_t i) const { return records_[i].readable; }
  // The text record `i` was made from: `(*this)[i]`, unless append_with_members added it.
  std::string_view source(std::size_t i) const {
    const Record& r = records_[i];
    return r.source != nullptr ? std::string_view(r.source, r.source_size)
                               : std::string_view(r.data, r.size);
  }
  // Total bytes of record text.
  std::size_t byte_size() const { return byte_size_; }

  // Drops every record and buffer (arena memory is kept for reuse, and large adopted buffers for
  // reusable_buffer()).
  void clear();

 private:
  struct Record {
    const char* data;
    std::size_t size;
    std::size_t readable;
    const char* source = nullptr;  // null: the record is its own source
    std::size_t source_size = 0;
  };
  // Room for `n` bytes followed by kPadding bytes in the arena; returns where they go.
  char* arena_place(std::size_t n);
  struct Chunk {
    std::unique_ptr<char[]> data;
    std::size_t used;
    std::size_t capacity;  // usable bytes, kPadding more are allocated
  };
  std::vector<Record> records_;
  std::vector<Chunk> chunks_;  // arena for append(); chunks_[0..active_chunk_] hold records
  std::size_t active_chunk_ = 0;
  std::vector<std::unique_ptr<std::string>> adopted_;  // padded with kPadding spaces
  std::size_t byte_size_ = 0;
};

class RecordStream {
 public:
  // Fills the (cleared) batch with the next records; returns false when the stream is done.
  using Pull = std::function<bool(RecordBatch&)>;

  RecordStream() = default;  // no records
  explicit RecordStream(Pull pull) : pull_(std::move(pull)) {}
  // A stream of exactly one batch.
  static RecordStream of(RecordBatch batch);
  // A stream of owned JSON texts (convenient for small tables and tests).
  static RecordStream of(std::vector<std::string> records);
  // A stream of batches already in memory, handed out in order, each as it is (e.g. the pages one
  // read call fetched, each a RecordBatch that adopted its body). Empty batches are skipped.
  static RecordStream of(std::vector<RecordBatch> batches);

  // Clears `batch`, then fills it with the next records. Returns false, with `batch` empty, once
  // the stream is exhausted. An empty batch is never returned with `true`.
  bool next(RecordBatch& batch);

 private:
  Pull pull_;
};

}  // namespace lakeflow
