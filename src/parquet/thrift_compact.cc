#include "parquet/thrift_compact.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "lakeflow/error.h"

namespace lakeflow::parquet {

namespace {
// Nesting deeper than this is not something parquet.thrift produces; refusing it keeps a
// malicious footer from exhausting the stack.
constexpr int kMaxDepth = 64;
}  // namespace

// ---- Writer --------------------------------------------------------------------------------

namespace {

// The most bytes one call writes before a binary's own bytes: a type byte, the id as a zigzag
// varint (3 bytes for an int16) and a 64-bit varint (10 bytes).
constexpr std::size_t kFieldBytes = 16;

char* put_varint(char* p, std::uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

}  // namespace

void ThriftCompactWriter::grow(std::size_t n) {
  out_.resize(std::max(used_ + n, out_.size() + out_.size() / 2 + 1024));
}

void ThriftCompactWriter::end_struct() {
  char* p = room(1);
  *p++ = static_cast<char>(ThriftType::kStop);
  written(p);
  last_id_ = last_ids_.back();
  last_ids_.pop_back();
  if (last_ids_.empty()) out_.resize(used_);
}

char* ThriftCompactWriter::put_header(char* p, std::int16_t id, ThriftType type) {
  const int delta = id - last_id_;
  last_id_ = id;
  if (delta > 0 && delta <= 15) {
    *p++ = static_cast<char>((delta << 4) | static_cast<int>(type));
    return p;
  }
  *p++ = static_cast<char>(type);
  return put_varint(p, zigzag(id));
}

void ThriftCompactWriter::field_varint(std::int16_t id, ThriftType type, std::uint64_t v) {
  written(put_varint(put_header(room(kFieldBytes), id, type), v));
}

void ThriftCompactWriter::field_bool(std::int16_t id, bool value) {
  written(
      put_header(room(kFieldBytes), id, value ? ThriftType::kBoolTrue : ThriftType::kBoolFalse));
}

void ThriftCompactWriter::field_i8(std::int16_t id, std::int8_t value) {
  char* p = put_header(room(kFieldBytes), id, ThriftType::kByte);
  *p++ = static_cast<char>(value);
  written(p);
}

void ThriftCompactWriter::field_i16(std::int16_t id, std::int16_t value) {
  field_varint(id, ThriftType::kI16, zigzag(value));
}

void ThriftCompactWriter::field_i32(std::int16_t id, std::int32_t value) {
  field_varint(id, ThriftType::kI32, zigzag(value));
}

void ThriftCompactWriter::field_i64(std::int16_t id, std::int64_t value) {
  field_varint(id, ThriftType::kI64, zigzag(value));
}

void ThriftCompactWriter::field_binary(std::int16_t id, std::string_view value) {
  char* p = put_varint(put_header(room(kFieldBytes + value.size()), id, ThriftType::kBinary),
                       value.size());
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  written(p + value.size());
}

void ThriftCompactWriter::field_struct(std::int16_t id) {
  written(put_header(room(kFieldBytes), id, ThriftType::kStruct));
  begin_struct();
}

void ThriftCompactWriter::field_list(std::int16_t id, ThriftType element_type, std::size_t size) {
  char* p = put_header(room(kFieldBytes), id, ThriftType::kList);
  if (size < 15) {
    *p++ = static_cast<char>((size << 4) | static_cast<std::size_t>(element_type));
  } else {
    *p++ = static_cast<char>(0xf0 | static_cast<int>(element_type));
    p = put_varint(p, size);
  }
  written(p);
}

void ThriftCompactWriter::element_i32(std::int32_t value) {
  written(put_varint(room(kFieldBytes), zigzag(value)));
}

void ThriftCompactWriter::element_binary(std::string_view value) {
  char* p = put_varint(room(kFieldBytes + value.size()), value.size());
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  written(p + value.size());
}

// ---- Reader --------------------------------------------------------------------------------

void ThriftCompactReader::fail(std::string_view problem) const {
  throw Error(ErrorCode::kData, std::string(what_) + " is corrupt: " + std::string(problem) +
                                    " in its Thrift metadata at byte " +
                                    std::to_string(position()) +
                                    "; it was not written completely or is not a Parquet file");
}

std::uint8_t ThriftCompactReader::byte() {
  if (data_ >= end_) fail("unexpected end");
  return *data_++;
}

std::uint64_t ThriftCompactReader::varint() {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    std::uint8_t b = byte();
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  fail("a varint longer than 10 bytes");
}

void ThriftCompactReader::begin_struct() {
  if (last_ids_.size() >= kMaxDepth) fail("structs nested too deeply");
  last_ids_.push_back(last_id_);
  last_id_ = 0;
}

void ThriftCompactReader::end_struct() {
  last_id_ = last_ids_.back();
  last_ids_.pop_back();
}

bool ThriftCompactReader::next_field(std::int16_t& id, ThriftType& type) {
  std::uint8_t header = byte();
  if (header == 0) return false;
  type = static_cast<ThriftType>(header & 0x0f);
  int delta = header >> 4;
  if (delta != 0) {
    id = static_cast<std::int16_t>(last_id_ + delta);
  } else {
    id = read_i16();
  }
  last_id_ = id;
  return true;
}

bool ThriftCompactReader::read_bool(ThriftType type) {
  if (type == ThriftType::kBoolTrue) return true;
  if (type == ThriftType::kBoolFalse) return false;
  fail("a bool field of another type");
}

bool ThriftCompactReader::read_bool_element() { return byte() == 1; }

std::int8_t ThriftCompactReader::read_i8() { return static_cast<std::int8_t>(byte()); }

std::int16_t ThriftCompactReader::read_i16() {
  std::int64_t v = read_i64();
  if (v < INT16_MIN || v > INT16_MAX) fail("an i16 out of range");
  return static_cast<std::int16_t>(v);
}

std::int32_t ThriftCompactReader::read_i32() {
  std::int64_t v = read_i64();
  if (v < INT32_MIN || v > INT32_MAX) fail("an i32 out of range");
  return static_cast<std::int32_t>(v);
}

std::int64_t ThriftCompactReader::read_i64() {
  std::uint64_t v = varint();
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

double ThriftCompactReader::read_double() {
  if (end_ - data_ < 8) fail("unexpected end");
  double v;
  std::memcpy(&v, data_, 8);
  data_ += 8;
  return v;
}

std::string_view ThriftCompactReader::read_binary() {
  std::uint64_t size = varint();
  if (size > static_cast<std::uint64_t>(end_ - data_)) fail("a string longer than the data");
  std::string_view v(reinterpret_cast<const char*>(data_), size);
  data_ += size;
  return v;
}

void ThriftCompactReader::read_list_header(ThriftType& element_type, std::size_t& size) {
  std::uint8_t header = byte();
  element_type = static_cast<ThriftType>(header & 0x0f);
  size = header >> 4;
  if (size == 15) size = varint();
  // Every element takes at least one byte; a larger count is corrupt (and would be a huge
  // allocation for whoever reserves it).
  if (size > static_cast<std::size_t>(end_ - data_)) fail("a list longer than the data");
}

void ThriftCompactReader::skip(ThriftType type) { skip_value(type, 0); }

void ThriftCompactReader::skip_element(ThriftType type, int depth) {
  if (type == ThriftType::kBoolTrue || type == ThriftType::kBoolFalse) {
    byte();  // a bool inside a list or map takes one byte
  } else {
    skip_value(type, depth);
  }
}

void ThriftCompactReader::skip_value(ThriftType type, int depth) {
  if (depth > kMaxDepth) fail("values nested too deeply");
  switch (type) {
    case ThriftType::kBoolTrue:
    case ThriftType::kBoolFalse:
      return;
    case ThriftType::kByte:
      byte();
      return;
    case ThriftType::kI16:
    case ThriftType::kI32:
    case ThriftType::kI64:
      varint();
      return;
    case ThriftType::kDouble:
      read_double();
      return;
    case ThriftType::kBinary:
      read_binary();
      return;
    case ThriftType::kList:
    case ThriftType::kSet: {
      ThriftType element;
      std::size_t size;
      read_list_header(element, size);
      for (std::size_t i = 0; i < size; ++i) skip_element(element, depth + 1);
      return;
    }
    case ThriftType::kMap: {
      std::uint64_t size = varint();
      if (size == 0) return;
      std::uint8_t types = byte();
      for (std::uint64_t i = 0; i < size; ++i) {
        skip_element(static_cast<ThriftType>(types >> 4), depth + 1);
        skip_element(static_cast<ThriftType>(types & 0x0f), depth + 1);
      }
      return;
    }
    case ThriftType::kStruct: {
      begin_struct();
      std::int16_t id;
      ThriftType field_type;
      while (next_field(id, field_type)) skip_value(field_type, depth + 1);
      end_struct();
      return;
    }
    case ThriftType::kStop:
      break;
  }
  fail("an unknown type code");
}

}  // namespace lakeflow::parquet
