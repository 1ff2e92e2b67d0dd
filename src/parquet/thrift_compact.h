// Thrift's compact protocol, the encoding of Parquet's metadata (the file footer and page headers).
//
// Only what parquet.thrift uses: structs, i8/i16/i32/i64, bool, binary/string and lists (of
// i32, binary or structs). Integers are zigzag varints; a field header carries the delta from the
// previous field id in its high nibble when that delta is 1..15, else the id follows as a zigzag
// varint; bool fields carry their value in the type nibble; list headers hold the size in the high
// nibble when it is below 15.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lakeflow::parquet {

// Type codes of the compact protocol.
enum class ThriftType : std::uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

// Appends compact-protocol bytes to a string. Usage: begin_struct(); field_*(...); end_struct().
// Fields of one struct must be written in increasing id order (the deltas are unsigned).
// While a struct is open the string may hold spare bytes past the ones written (it grows in
// chunks, so that each field is one store rather than a capacity check per byte); it holds exactly
// the bytes written once the outermost struct ends, or the writer is destroyed.
class ThriftCompactWriter {
 public:
  explicit ThriftCompactWriter(std::string& out) : out_(out), used_(out.size()) {}
  ThriftCompactWriter(const ThriftCompactWriter&) = delete;
  ThriftCompactWriter& operator=(const ThriftCompactWriter&) = delete;
  ~ThriftCompactWriter() { out_.resize(used_); }

  void begin_struct() {
    if (last_ids_.empty()) used_ = out_.size();
    last_ids_.push_back(last_id_);
    last_id_ = 0;
  }
  void end_struct();  // writes the stop byte

  void field_bool(std::int16_t id, bool value);
  void field_i8(std::int16_t id, std::int8_t value);
  void field_i16(std::int16_t id, std::int16_t value);
  void field_i32(std::int16_t id, std::int32_t value);
  void field_i64(std::int16_t id, std::int64_t value);
  void field_binary(std::int16_t id, std::string_view value);
  // A nested struct field: follow with its fields and end_struct().
  void field_struct(std::int16_t id);
  // A list field of `size` elements of `element_type`: follow with `size` elements written by
  // the element functions below (structs: begin_struct() ... end_struct()).
  void field_list(std::int16_t id, ThriftType element_type, std::size_t size);

  // List elements.
  void element_i32(std::int32_t value);
  void element_binary(std::string_view value);

 private:
  // Room for `n` more bytes at the write position.
  char* room(std::size_t n) {
    if (out_.size() - used_ < n) grow(n);
    return out_.data() + used_;
  }
  void grow(std::size_t n);
  void written(const char* end) { used_ = static_cast<std::size_t>(end - out_.data()); }
  // Writes a field header at `p` (room for 4 bytes); returns the end.
  char* put_header(char* p, std::int16_t id, ThriftType type);
  void field_varint(std::int16_t id, ThriftType type, std::uint64_t v);
  static std::uint64_t zigzag(std::int64_t v) {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
  }

  std::string& out_;
  std::size_t used_;  // bytes of out_ that are written
  std::int16_t last_id_ = 0;
  std::vector<std::int16_t> last_ids_;
};

// Reads compact-protocol bytes. Every read checks bounds; malformed input throws
// lakeflow::Error (code kData) whose message starts with `what` (e.g. "Parquet file x.parquet").
class ThriftCompactReader {
 public:
  ThriftCompactReader(const std::uint8_t* data, std::size_t size, std::string_view what)
      : data_(data), end_(data + size), begin_(data), what_(what) {}

  // Struct framing: call begin_struct(), then next_field() until it returns false (the stop
  // byte), then end_struct().
  void begin_struct();
  void end_struct();
  // Reads the next field header of the current struct; false at its end.
  bool next_field(std::int16_t& id, ThriftType& type);

  // Field values (`type` is the one next_field returned; it holds a bool field's value).
  bool read_bool(ThriftType type);
  std::int8_t read_i8();
  std::int16_t read_i16();
  std::int32_t read_i32();
  std::int64_t read_i64();
  double read_double();
  std::string_view read_binary();
  // A list header: element type and count.
  void read_list_header(ThriftType& element_type, std::size_t& size);
  // A bool element of a list (one byte).
  bool read_bool_element();

  // Skips a value of any type (nested values included).
  void skip(ThriftType type);

  std::size_t position() const { return static_cast<std::size_t>(data_ - begin_); }
  [[noreturn]] void fail(std::string_view problem) const;

 private:
  std::uint64_t varint();
  std::uint8_t byte();
  void skip_value(ThriftType type, int depth);
  void skip_element(ThriftType type, int depth);

  const std::uint8_t* data_;
  const std::uint8_t* end_;
  const std::uint8_t* begin_;
  std::string_view what_;
  std::int16_t last_id_ = 0;
  std::vector<std::int16_t> last_ids_;
};

}  // namespace lakeflow::parquet
