#include "columnar/column_batch.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <new>
#include <string>

#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "util/text.h"

namespace lakeflow {

// ---- AlignedBuffer ---------------------------------------------------------------------------

namespace {
constexpr std::size_t kAlignment = 64;
}

AlignedBuffer::AlignedBuffer(AlignedBuffer&& other) noexcept
    : data_(other.data_), size_(other.size_), capacity_(other.capacity_) {
  other.data_ = nullptr;
  other.size_ = other.capacity_ = 0;
}

AlignedBuffer& AlignedBuffer::operator=(AlignedBuffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = other.data_;
    size_ = other.size_;
    capacity_ = other.capacity_;
    other.data_ = nullptr;
    other.size_ = other.capacity_ = 0;
  }
  return *this;
}

AlignedBuffer::~AlignedBuffer() { std::free(data_); }

void AlignedBuffer::grow(std::size_t min_capacity) {
  std::size_t capacity = capacity_ == 0 ? 256 : capacity_ * 2;
  while (capacity < min_capacity) capacity *= 2;
  reallocate(capacity);
}

void AlignedBuffer::reallocate(std::size_t capacity) {
  auto* data = static_cast<std::uint8_t*>(std::aligned_alloc(kAlignment, capacity));
  if (data == nullptr) throw std::bad_alloc();
  if (size_ > 0) std::memcpy(data, data_, size_);
  std::free(data_);
  data_ = data;
  capacity_ = capacity;
}

void AlignedBuffer::reserve_exact(std::size_t bytes) {
  if (bytes > capacity_) reallocate((bytes + kAlignment - 1) / kAlignment * kAlignment);
}

void AlignedBuffer::resize(std::size_t bytes) {
  reserve(bytes);
  if (bytes > size_) std::memset(data_ + size_, 0, bytes - size_);
  size_ = bytes;
}

std::uint8_t* AlignedBuffer::release() {
  std::uint8_t* data = data_;
  data_ = nullptr;
  size_ = capacity_ = 0;
  return data;
}

// ---- Column ------------------------------------------------------------------------------------

namespace {

bool has_offsets(TypeId id) {
  switch (id) {
    case TypeId::kString:
    case TypeId::kBinary:
    case TypeId::kVariant:
    case TypeId::kArray:
    case TypeId::kMap:
      return true;
    default:
      return false;
  }
}

}  // namespace

Column::Column(DataType type) : type_(std::move(type)) {
  switch (type_.id()) {
    case TypeId::kStruct:
      for (const StructField& f : type_.fields()) children_.emplace_back(f.type);
      break;
    case TypeId::kArray:
      children_.emplace_back(type_.element_type());
      break;
    case TypeId::kMap:
      children_.emplace_back(StructType{StructField("key", type_.key_type(), false),
                                        StructField("value", type_.value_type(), true)});
      break;
    default:
      break;
  }
  if (has_offsets(type_.id())) offsets_.push<std::int32_t>(0);
}

std::size_t Column::fixed_width() const {
  switch (type_.id()) {
    case TypeId::kLong:
    case TypeId::kTimestamp:
    case TypeId::kTimestampNtz:
    case TypeId::kDouble:
      return 8;
    case TypeId::kInteger:
    case TypeId::kDate:
    case TypeId::kFloat:
      return 4;
    case TypeId::kShort:
      return 2;
    case TypeId::kByte:
      return 1;
    case TypeId::kDecimal:
      return 16;
    default:
      return 0;
  }
}

void Column::offset_overflow() {
  throw Error(ErrorCode::kData,
              "a column of one batch exceeds 2 GiB of data; lower max_records_per_batch");
}

namespace {

// Clears bits [begin, end) of an LSB-first bitmap.
void clear_bits(std::uint8_t* bits, std::size_t begin, std::size_t end) {
  while (begin < end && (begin & 7) != 0) {
    bits[begin >> 3] &= static_cast<std::uint8_t>(~(1u << (begin & 7)));
    ++begin;
  }
  if (end - begin >= 8) {
    std::memset(bits + (begin >> 3), 0, (end - begin) >> 3);
    begin += (end - begin) & ~std::size_t{7};
  }
  for (; begin < end; ++begin) bits[begin >> 3] &= static_cast<std::uint8_t>(~(1u << (begin & 7)));
}

// Grows `bits` (zero-filled) to hold at least `bit_count` bits, doubling as set_valid does.
void reserve_bits(AlignedBuffer& bits, std::size_t bit_count) {
  std::size_t need = (bit_count + 7) / 8;
  if (bits.size() < need) bits.resize(std::max(need, bits.size() * 2 + 8));
}

}  // namespace

void Column::write_pending_nulls() {
  const std::size_t n = pending_nulls_;
  const std::size_t begin = length_ - n;
  pending_nulls_ = 0;
  reserve_bits(validity_, length_);
  std::size_t width = fixed_width();
  if (width != 0) {
    values_.resize(values_.size() + n * width);
  } else if (type_.id() == TypeId::kBoolean) {
    reserve_bits(values_, length_);
  } else if (has_offsets(type_.id())) {
    const std::int32_t last = reinterpret_cast<const std::int32_t*>(offsets_.data())[begin];
    auto* out = reinterpret_cast<std::int32_t*>(offsets_.extend(n * sizeof(std::int32_t)));
    std::fill(out, out + n, last);
    offsets_.set_size(offsets_.size() + n * sizeof(std::int32_t));
  } else if (type_.id() == TypeId::kStruct) {
    // Arrow requires every child to have a slot for every row of its parent.
    for (Column& c : children_) c.append_nulls(n);
  }
}

void Column::materialize() {
  flush_nulls();
  for (Column& c : children_) c.materialize();
}

void Column::append_bool(bool v) {
  flush_nulls();
  std::size_t byte = length_ >> 3;
  if (byte >= values_.size()) values_.resize(values_.size() * 2 + 8);
  std::uint8_t mask = static_cast<std::uint8_t>(1u << (length_ & 7));
  if (v) {
    values_.data()[byte] |= mask;
  } else {
    values_.data()[byte] &= static_cast<std::uint8_t>(~mask);
  }
  set_valid(length_++);
}

void Column::append_bytes(std::string_view bytes) {
  flush_nulls();
  values_.append(bytes.data(), bytes.size());
  finish_string();
}

void Column::truncate(std::size_t length) {
  // Also called with length == length_ to drop a partly appended row: children, list elements or
  // string bytes written before the row itself was finished.
  if (length > length_) return;
  const std::size_t materialized = materialized_length();
  if (length >= materialized) {
    // Only pending nulls go; with none left, a partly appended row may still need dropping.
    const std::size_t dropped = length_ - length;
    pending_nulls_ -= dropped;
    null_count_ -= dropped;
    length_ = length;
    if (pending_nulls_ != 0) return;
  } else {
    null_count_ -= pending_nulls_;
    length_ = materialized;
    pending_nulls_ = 0;
  }
  for (std::size_t i = length; i < length_; ++i) {
    if (!is_valid(i)) --null_count_;
  }
  clear_bits(validity_.data(), length, length_);  // bits past the rows stay zero (see the header)
  std::size_t width = fixed_width();
  if (width != 0) {
    values_.resize(length * width);
  } else if (has_offsets(type_.id())) {
    std::int32_t end = reinterpret_cast<const std::int32_t*>(offsets_.data())[length];
    offsets_.resize((length + 1) * sizeof(std::int32_t));
    if (type_.id() == TypeId::kArray || type_.id() == TypeId::kMap) {
      children_[0].truncate(static_cast<std::size_t>(end));
    } else {
      values_.resize(static_cast<std::size_t>(end));
    }
  } else if (type_.id() == TypeId::kStruct) {
    for (Column& c : children_) c.truncate(length);
  }
  length_ = length;
}

void Column::clear() {
  length_ = 0;
  null_count_ = 0;
  pending_nulls_ = 0;
  validity_.clear();
  values_.clear();
  offsets_.clear();
  if (has_offsets(type_.id())) offsets_.push<std::int32_t>(0);
  for (Column& c : children_) c.clear();
}

std::size_t Column::byte_size() const {
  const std::size_t rows = materialized_length();
  std::size_t total = (rows + 7) / 8 + values_.size();
  if (has_offsets(type_.id())) total += (rows + 1) * sizeof(std::int32_t);
  for (const Column& c : children_) total += c.byte_size();
  return total;
}

// ---- ColumnBatch -----------------------------------------------------------------------------

ColumnBatch::ColumnBatch(StructType schema) : schema_(std::move(schema)), root_(schema_) {}

namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void append_base64(std::string& out, std::string_view bytes) {
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t n = (static_cast<std::uint8_t>(bytes[i]) << 16) |
                      (static_cast<std::uint8_t>(bytes[i + 1]) << 8) |
                      static_cast<std::uint8_t>(bytes[i + 2]);
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += kBase64Alphabet[(n >> 6) & 63];
    out += kBase64Alphabet[n & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = static_cast<std::uint8_t>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
}

void append_value_json(std::string& out, const Column& c, std::size_t i) {
  if (!c.is_valid(i)) {
    out += "null";
    return;
  }
  switch (c.type().id()) {
    case TypeId::kStruct: {
      out += '{';
      const auto& fields = c.type().fields();
      for (std::size_t f = 0; f < fields.size(); ++f) {
        if (f > 0) out += ',';
        append_json_string(out, fields[f].name, false);
        out += ':';
        append_value_json(out, c.child(f), i);
      }
      out += '}';
      return;
    }
    case TypeId::kArray: {
      out += '[';
      for (auto e = c.offsets()[i]; e < c.offsets()[i + 1]; ++e) {
        if (e > c.offsets()[i]) out += ',';
        append_value_json(out, c.child(0), static_cast<std::size_t>(e));
      }
      out += ']';
      return;
    }
    case TypeId::kMap: {
      // Keys of any type are written as JSON object keys (their JSON text when not strings).
      out += '{';
      const Column& entries = c.child(0);
      for (auto e = c.offsets()[i]; e < c.offsets()[i + 1]; ++e) {
        if (e > c.offsets()[i]) out += ',';
        std::string key;
        append_value_json(key, entries.child(0), static_cast<std::size_t>(e));
        if (key.empty() || key[0] != '"') {
          append_json_string(out, key, false);
        } else {
          out += key;
        }
        out += ':';
        append_value_json(out, entries.child(1), static_cast<std::size_t>(e));
      }
      out += '}';
      return;
    }
    case TypeId::kLong:
      out += std::to_string(c.values<std::int64_t>()[i]);
      return;
    case TypeId::kInteger:
      out += std::to_string(c.values<std::int32_t>()[i]);
      return;
    case TypeId::kShort:
      out += std::to_string(c.values<std::int16_t>()[i]);
      return;
    case TypeId::kByte:
      out += std::to_string(c.values<std::int8_t>()[i]);
      return;
    case TypeId::kDouble:
      append_python_float(out, c.values<double>()[i]);
      return;
    case TypeId::kFloat:
      append_python_float(out, static_cast<double>(c.values<float>()[i]));
      return;
    case TypeId::kDecimal:
      out += '"';
      text::append_decimal(out, c.values<Int128>()[i], c.type().scale());
      out += '"';
      return;
    case TypeId::kBoolean:
      out += c.bool_value(i) ? "true" : "false";
      return;
    case TypeId::kDate:
      out += '"';
      text::append_date(out, c.values<std::int32_t>()[i]);
      out += '"';
      return;
    case TypeId::kTimestamp:
      out += '"';
      text::append_timestamp(out, c.values<std::int64_t>()[i], true);
      out += '"';
      return;
    case TypeId::kTimestampNtz:
      out += '"';
      text::append_timestamp(out, c.values<std::int64_t>()[i], false);
      out += '"';
      return;
    case TypeId::kString:
      append_json_string(out, c.string_value(i), false);
      return;
    case TypeId::kBinary:
      out += '"';
      append_base64(out, c.string_value(i));
      out += '"';
      return;
    case TypeId::kVariant:
      out += c.string_value(i);
      return;
  }
}

}  // namespace

std::string ColumnBatch::row_json(std::size_t i) const {
  std::string out;
  append_value_json(out, root_, i);
  return out;
}

// ---- Arrow C Data Interface export -------------------------------------------------------------

std::string arrow_format(const DataType& type) {
  switch (type.id()) {
    case TypeId::kStruct:
      return "+s";
    case TypeId::kArray:
      return "+l";
    case TypeId::kMap:
      return "+m";
    case TypeId::kLong:
      return "l";
    case TypeId::kInteger:
      return "i";
    case TypeId::kShort:
      return "s";
    case TypeId::kByte:
      return "c";
    case TypeId::kDouble:
      return "g";
    case TypeId::kFloat:
      return "f";
    case TypeId::kDecimal:
      return "d:" + std::to_string(type.precision()) + "," + std::to_string(type.scale());
    case TypeId::kString:
    case TypeId::kVariant:
      return "u";
    case TypeId::kBinary:
      return "z";
    case TypeId::kBoolean:
      return "b";
    case TypeId::kDate:
      return "tdD";
    case TypeId::kTimestamp:
      return "tsu:UTC";
    case TypeId::kTimestampNtz:
      return "tsu:";
  }
  return "n";
}

namespace {

// Owns everything one exported ArrowSchema points to.
struct SchemaPrivate {
  std::string format;
  std::string name;
  std::string metadata;
  std::vector<ArrowSchema> child_structs;
  std::vector<ArrowSchema*> child_pointers;
};

void release_schema(ArrowSchema* schema) {
  if (schema == nullptr || schema->release == nullptr) return;
  auto* priv = static_cast<SchemaPrivate*>(schema->private_data);
  for (ArrowSchema& child : priv->child_structs) {
    if (child.release != nullptr) child.release(&child);
  }
  delete priv;
  schema->release = nullptr;
}

// Arrow's metadata encoding: int32 count, then per pair int32 length + bytes for key and value.
std::string encode_metadata(
    std::initializer_list<std::pair<std::string_view, std::string_view>> kv) {
  std::string out;
  auto put_int = [&out](std::int32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  put_int(static_cast<std::int32_t>(kv.size()));
  for (const auto& [k, v] : kv) {
    put_int(static_cast<std::int32_t>(k.size()));
    out += k;
    put_int(static_cast<std::int32_t>(v.size()));
    out += v;
  }
  return out;
}

void export_schema(const DataType& type, std::string_view name, bool nullable, ArrowSchema* out) {
  auto* priv = new SchemaPrivate();
  priv->format = arrow_format(type);
  priv->name = std::string(name);
  if (type.id() == TypeId::kVariant) {
    priv->metadata =
        encode_metadata({{"ARROW:extension:name", "arrow.json"}, {"ARROW:extension:metadata", ""}});
  }
  std::vector<std::pair<DataType, std::pair<std::string, bool>>> children;
  if (type.id() == TypeId::kStruct) {
    for (const StructField& f : type.fields()) children.push_back({f.type, {f.name, f.nullable}});
  } else if (type.id() == TypeId::kArray) {
    children.push_back({type.element_type(), {"element", type.contains_null()}});
  } else if (type.id() == TypeId::kMap) {
    children.push_back(
        {StructType{StructField("key", type.key_type(), false),
                    StructField("value", type.value_type(), type.value_contains_null())},
         {"entries", false}});
  }
  priv->child_structs.resize(children.size());
  for (std::size_t i = 0; i < children.size(); ++i) {
    export_schema(children[i].first, children[i].second.first, children[i].second.second,
                  &priv->child_structs[i]);
    priv->child_pointers.push_back(&priv->child_structs[i]);
  }
  out->format = priv->format.c_str();
  out->name = priv->name.c_str();
  out->metadata = priv->metadata.empty() ? nullptr : priv->metadata.data();
  out->flags = nullable ? ARROW_FLAG_NULLABLE : 0;
  out->n_children = static_cast<std::int64_t>(children.size());
  out->children = priv->child_pointers.empty() ? nullptr : priv->child_pointers.data();
  out->dictionary = nullptr;
  out->release = release_schema;
  out->private_data = priv;
}

// Owns the buffers and children of one exported ArrowArray.
struct ArrayPrivate {
  std::vector<std::uint8_t*> owned;  // freed with std::free
  std::vector<const void*> buffers;
  std::vector<ArrowArray> child_structs;
  std::vector<ArrowArray*> child_pointers;
};

void release_array(ArrowArray* array) {
  if (array == nullptr || array->release == nullptr) return;
  auto* priv = static_cast<ArrayPrivate*>(array->private_data);
  for (ArrowArray& child : priv->child_structs) {
    if (child.release != nullptr) child.release(&child);
  }
  for (std::uint8_t* p : priv->owned) std::free(p);
  delete priv;
  array->release = nullptr;
}

}  // namespace

void ColumnBatch::export_to(ArrowSchema* schema, ArrowArray* array) {
  root_.materialize();
  export_schema(schema_, "", false, schema);
  struct Exporter {
    static void run(Column& c, ArrowArray* out) {
      auto* priv = new ArrayPrivate();
      auto take = [priv](AlignedBuffer& b) -> const void* {
        std::uint8_t* p = b.release();
        if (p != nullptr) priv->owned.push_back(p);
        return p;
      };
      // Validity: omitted when there are no nulls (allowed by the specification).
      if (c.null_count_ == 0) {
        priv->buffers.push_back(nullptr);
        c.validity_.clear();
      } else {
        c.validity_.resize((c.length_ + 7) / 8);
        priv->buffers.push_back(take(c.validity_));
      }
      TypeId id = c.type_.id();
      if (id == TypeId::kString || id == TypeId::kBinary || id == TypeId::kVariant) {
        priv->buffers.push_back(take(c.offsets_));
        if (c.values_.data() == nullptr) c.values_.reserve(1);
        priv->buffers.push_back(take(c.values_));
      } else if (id == TypeId::kArray || id == TypeId::kMap) {
        priv->buffers.push_back(take(c.offsets_));
      } else if (id != TypeId::kStruct) {
        if (c.values_.data() == nullptr) c.values_.reserve(1);
        priv->buffers.push_back(take(c.values_));
      }
      priv->child_structs.resize(c.children_.size());
      for (std::size_t i = 0; i < c.children_.size(); ++i) {
        run(c.children_[i], &priv->child_structs[i]);
        priv->child_pointers.push_back(&priv->child_structs[i]);
      }
      out->length = static_cast<std::int64_t>(c.length_);
      out->null_count = static_cast<std::int64_t>(c.null_count_);
      out->offset = 0;
      out->n_buffers = static_cast<std::int64_t>(priv->buffers.size());
      out->n_children = static_cast<std::int64_t>(c.children_.size());
      out->buffers = priv->buffers.data();
      out->children = priv->child_pointers.empty() ? nullptr : priv->child_pointers.data();
      out->dictionary = nullptr;
      out->release = release_array;
      out->private_data = priv;
      // The column is left empty and reusable.
      c.length_ = 0;
      c.null_count_ = 0;
      if (id == TypeId::kString || id == TypeId::kBinary || id == TypeId::kVariant ||
          id == TypeId::kArray || id == TypeId::kMap) {
        c.offsets_.push<std::int32_t>(0);
      }
    }
  };
  Exporter::run(root_, array);
}

}  // namespace lakeflow
