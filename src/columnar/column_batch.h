// Typed columns laid out as the Arrow columnar format prescribes, filled by the RecordConverter and
// read by destinations (the Parquet writer) or exported through the Arrow C Data Interface.
//
// Layout per Spark type (Arrow format string in brackets):
//   long [l] int64 · integer [i] int32 · short [s] int16 · byte [c] int8 · double [g] · float [f]
//   decimal(p,s) [d:p,s] 128-bit little-endian two's complement · boolean [b] bit-packed
//   date [tdD] int32 days since 1970-01-01 · timestamp [tsu:UTC] int64 µs since the epoch, UTC
//   timestamp_ntz [tsu:] int64 µs of wall-clock time · string [u] / binary [z] int32 offsets +
//   bytes variant [u, extension arrow.json] compact JSON text · array [+l] int32 offsets + child
//   map [+m] int32 offsets + child struct `entries` {key, value} · struct [+s] children
// Every column has a validity bitmap (LSB first, 1 = valid). Buffers are 64-byte aligned.
//
// Nulls are recorded lazily: append_null() only counts a trailing null, and the buffers (validity
// bit, fixed-width slot, offset, struct children) are written in bulk when the next value is
// appended, by materialize(), or never when the column stays null to the end of the batch. So a
// null struct costs nothing per row in its subtree, and a column that is null for a whole batch
// holds no buffers. length() and null_count() count those nulls; is_valid() is false for them.
// The buffers themselves (validity_bits(), values(), offsets(), string_value(), bool_value())
// cover the first materialized_length() rows only, which is every row after materialize(); a
// struct's children and a list's elements are as long as the rows materialized above them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "columnar/arrow_c_data.h"
#include "lakeflow/types.h"
#include "util/int128.h"

namespace lakeflow {

// A growable, 64-byte aligned byte buffer.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(AlignedBuffer&& other) noexcept;
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer();

  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  void reserve(std::size_t bytes) {
    if (bytes > capacity_) grow(bytes);
  }
  // As reserve, but to `bytes` (rounded up to the alignment) rather than the next doubling: for a
  // caller that knows how much is coming.
  void reserve_exact(std::size_t bytes);
  // New bytes are zeroed.
  void resize(std::size_t bytes);
  void append(const void* bytes, std::size_t n) {
    if (n == 0) return;  // data_ may still be null, and memcpy with null is undefined
    reserve(size_ + n);
    std::memcpy(data_ + size_, bytes, n);
    size_ += n;
  }
  template <typename T>
  void push(T value) {
    reserve(size_ + sizeof(T));
    std::memcpy(data_ + size_, &value, sizeof(T));
    size_ += sizeof(T);
  }
  void clear() { size_ = 0; }
  // Makes room for `n` more bytes and returns where they go; `set_size` then says how many of them
  // were written.
  std::uint8_t* extend(std::size_t n) {
    reserve(size_ + n);
    return data_ + size_;
  }
  void set_size(std::size_t bytes) { size_ = bytes; }
  // Gives up ownership; the caller frees with std::free.
  std::uint8_t* release();

 private:
  void grow(std::size_t min_capacity);
  void reallocate(std::size_t capacity);  // a multiple of the alignment
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

class Column {
 public:
  explicit Column(DataType type);

  const DataType& type() const { return type_; }
  std::size_t length() const { return length_; }
  std::size_t null_count() const { return null_count_; }
  // Rows held in the buffers; the rows after them are nulls not written yet (see the top).
  std::size_t materialized_length() const { return length_ - pending_nulls_; }
  bool is_valid(std::size_t i) const {
    return i < materialized_length() && ((validity_.data()[i >> 3] >> (i & 7)) & 1);
  }
  const std::uint8_t* validity_bits() const { return validity_.data(); }

  // Fixed-width values (long/timestamp: int64_t, integer/date: int32_t, short: int16_t, byte:
  // int8_t, double, float, decimal: Int128). Unspecified for null slots.
  template <typename T>
  const T* values() const {
    return reinterpret_cast<const T*>(values_.data());
  }
  bool bool_value(std::size_t i) const { return (values_.data()[i >> 3] >> (i & 7)) & 1; }
  // string/binary/variant/array/map: element i spans [offsets()[i], offsets()[i+1]).
  const std::int32_t* offsets() const {
    return reinterpret_cast<const std::int32_t*>(offsets_.data());
  }
  std::string_view string_value(std::size_t i) const {
    const std::int32_t* o = offsets();
    return {reinterpret_cast<const char*>(values_.data()) + o[i],
            static_cast<std::size_t>(o[i + 1] - o[i])};
  }
  // struct: one child per field; array: the element column; map: the `entries` struct column.
  std::size_t num_children() const { return children_.size(); }
  const Column& child(std::size_t i) const { return children_[i]; }
  // For appending to the child: first writes this column's pending nulls, so the child lines up
  // with the row being appended.
  Column& child(std::size_t i) {
    flush_nulls();
    return children_[i];
  }

  // ---- Appending (used by the converter) ----
  void append_null() {
    ++length_;
    ++null_count_;
    ++pending_nulls_;
  }
  void append_nulls(std::size_t n) {
    length_ += n;
    null_count_ += n;
    pending_nulls_ += n;
  }
  void append_valid() {
    flush_nulls();
    set_valid(length_++);
  }
  template <typename T>
  void append_value(T v) {
    flush_nulls();
    values_.push(v);
    set_valid(length_++);
  }
  void append_bool(bool v);
  // string/binary/variant bytes.
  void append_bytes(std::string_view bytes);
  // Makes room for `bytes` more bytes of string/binary/variant values: a caller that knows what is
  // coming (the converter: the text of a batch's records) fills the column without copying it as
  // it grows.
  void reserve_bytes(std::size_t bytes) { values_.reserve_exact(values_.size() + bytes); }
  // Starts a string value to be filled by writing to `string_data()` and closing with
  // `finish_string()`; avoids a copy when the bytes are produced in place.
  AlignedBuffer& string_data() {
    flush_nulls();
    return values_;
  }
  void finish_string() {
    flush_nulls();
    check_offset(values_.size());
    offsets_.push(static_cast<std::int32_t>(values_.size()));
    set_valid(length_++);
  }
  // array/map: call after appending the elements to the child.
  void finish_list() {
    flush_nulls();
    check_offset(children_[0].length());
    offsets_.push(static_cast<std::int32_t>(children_[0].length()));
    set_valid(length_++);
  }
  // Writes every pending null of this column and its subtree into the buffers, for readers
  // that take whole buffers (Arrow export). Costs what eager nulls would have cost.
  void materialize();
  // Undoes appends: the column (and its children) return to their first `length` rows. With
  // `length == length()` it drops what a partly appended row left in children and data buffers.
  void truncate(std::size_t length);
  // Removes every row; keeps allocated memory.
  void clear();

  // Bytes of column data held (buffers of this column and its children).
  std::size_t byte_size() const;

 private:
  friend class ColumnBatch;
  void set_valid(std::size_t i) {
    std::size_t byte = i >> 3;
    if (byte >= validity_.size()) validity_.resize(validity_.size() * 2 + 8);
    validity_.data()[byte] |= static_cast<std::uint8_t>(1u << (i & 7));
  }
  void set_invalid(std::size_t i) {
    std::size_t byte = i >> 3;
    if (byte >= validity_.size()) validity_.resize(validity_.size() * 2 + 8);
    validity_.data()[byte] &= static_cast<std::uint8_t>(~(1u << (i & 7)));
  }
  static void check_offset(std::size_t offset) {
    if (offset > static_cast<std::size_t>(INT32_MAX)) [[unlikely]]
      offset_overflow();
  }
  [[noreturn]] static void offset_overflow();
  std::size_t fixed_width() const;
  void flush_nulls() {
    if (pending_nulls_ != 0) write_pending_nulls();
  }
  // Writes the trailing pending nulls into this column's buffers; a struct hands them to its
  // children as pending nulls of their own. Validity bits past the materialized rows are always
  // zero (truncate() clears the ones it drops), so the nulls need no bits written.
  void write_pending_nulls();

  DataType type_;
  std::size_t length_ = 0;
  std::size_t null_count_ = 0;
  std::size_t pending_nulls_ = 0;  // trailing nulls not in the buffers yet
  AlignedBuffer validity_;
  AlignedBuffer offsets_;  // int32, length_ + 1 entries for offset-based types
  AlignedBuffer values_;
  std::vector<Column> children_;
};

// The columns of one table, one per top-level field of its schema.
class ColumnBatch {
 public:
  explicit ColumnBatch(StructType schema);

  const StructType& schema() const { return schema_; }
  std::size_t num_rows() const { return root_.length(); }
  std::size_t num_columns() const { return root_.num_children(); }
  const Column& column(std::size_t i) const { return root_.child(i); }
  // The whole batch as one struct column (never null).
  const Column& root() const { return root_; }
  Column& root() { return root_; }
  std::size_t byte_size() const { return root_.byte_size(); }
  void clear() { root_.clear(); }
  // Writes every pending null into the buffers (see Column).
  void materialize() { root_.materialize(); }

  // Row `i` as compact JSON with the schema's field names and converted values (timestamps as
  // ISO-8601 UTC with microseconds, dates as YYYY-MM-DD, decimals with their scale, binary as
  // base64, variant as its JSON). Nulls are written as null.
  std::string row_json(std::size_t i) const;

  // Moves every buffer into Arrow C Data Interface structs (a struct array with one child per
  // column). The caller owns both and calls their `release`. The batch is empty afterwards.
  void export_to(ArrowSchema* schema, ArrowArray* array);

 private:
  StructType schema_;
  Column root_;
};

// Arrow C Data Interface format string for a type (see the table above).
std::string arrow_format(const DataType& type);

}  // namespace lakeflow
