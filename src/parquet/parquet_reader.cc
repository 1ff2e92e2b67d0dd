#include "parquet/parquet_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "lakeflow/error.h"
#include "parquet/parquet_encoding.h"

namespace lakeflow::parquet {

namespace {

__extension__ typedef unsigned __int128 UInt128;

// ---- The file schema as a tree -----------------------------------------------------------------

struct FileNode {
  const SchemaElement* element = nullptr;
  std::vector<FileNode> children;
  int leaf = -1;         // column chunk index of a primitive
  std::int16_t def = 0;  // definition level when present
  std::int16_t rep = 0;  // repetition level (counting this node if repeated)
  std::string path;      // dotted, for messages

  bool is_leaf() const { return element->type.has_value() && children.empty(); }
  Repetition repetition() const { return element->repetition.value_or(Repetition::kRequired); }
  bool annotated(LogicalType::Kind kind, ConvertedType converted) const {
    return element->logical_type.kind == kind || element->converted_type == converted;
  }
};

// ---- Decoded column values
// -----------------------------------------------------------------------

// Values of one physical type: fixed-width values back to back (booleans one byte each), or byte
// arrays as offsets into `bytes`.
struct Values {
  std::size_t width = 0;  // 0 for BYTE_ARRAY
  std::vector<std::uint8_t> fixed;
  std::vector<std::size_t> offsets{0};
  std::string bytes;
  std::size_t count = 0;

  std::string_view byte_array(std::size_t i) const {
    return std::string_view(bytes).substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
  void clear() {
    fixed.clear();
    offsets.assign(1, 0);
    bytes.clear();
    count = 0;
  }
};

// One leaf column of a row group: its levels and its non-null values.
struct DecodedLeaf {
  std::int16_t max_def = 0;
  std::int16_t max_rep = 0;
  std::vector<std::uint32_t> defs;  // empty when max_def == 0
  std::vector<std::uint32_t> reps;  // empty when max_rep == 0
  std::size_t num_levels = 0;
  Values values;
  // Assembly cursor.
  std::size_t level = 0;
  std::size_t value = 0;

  std::uint32_t def_at(std::size_t i) const { return max_def > 0 ? defs[i] : 0; }
  std::uint32_t rep_at(std::size_t i) const { return max_rep > 0 ? reps[i] : 0; }
};

// How a leaf's physical values become the requested Spark type.
enum class Convert : std::uint8_t {
  kInt32ToInteger,
  kInt32ToShort,
  kInt32ToByte,
  kInt32ToLong,
  kInt64ToLong,
  kFloat,
  kDouble,
  kFloatToDouble,
  kBoolean,
  kDecimalInt32,
  kDecimalInt64,
  kDecimalBigEndian,  // FIXED_LEN_BYTE_ARRAY or BYTE_ARRAY
  kBytes,
  kDate,
  kDateToTimestampNtz,  // a date column read as timestamp_ntz (a table whose type was widened)
  kTimestampMicros,
  kTimestampMillis,
  kTimestampNanos,
  kInt96,
};

// The requested schema matched against the file's.
struct ReadNode {
  enum class Kind : std::uint8_t { kLeaf, kStruct, kList, kMap, kMissing, kHidden };
  Kind kind = Kind::kMissing;
  bool optional = false;
  std::int16_t def = 0;            // definition level when present
  std::int16_t rep = 0;            // list/map: repetition level of its repeated group
  std::vector<ReadNode> children;  // struct: requested fields (+ a hidden probe); list: element;
                                   // map: key, value
  int leaf = -1;                   // kLeaf / kHidden: index into the decoded leaves
  Int128 rescale = 1;              // decimal read at a larger scale than the file's: 10^difference
  std::size_t leaf_begin = 0;      // decoded leaves under this node: [leaf_begin, leaf_end)
  std::size_t leaf_end = 0;
  Convert convert = Convert::kBytes;
  int scale = 0;
  // Null (or empty) entries at this node not yet skipped in its leaves after the first (see
  // skip_null); assembly state of one row group.
  mutable std::size_t pending = 0;
};

std::string type_text(const FileNode& n) {
  static const char* const kPhysical[] = {
      "BOOLEAN", "INT32",  "INT64",      "INT96",
      "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  if (!n.is_leaf()) return "a group";
  auto t = static_cast<std::size_t>(*n.element->type);
  return t < 8 ? kPhysical[t] : "an unknown physical type";
}

// Bounds-checked little-endian reads from a page.
class PageCursor {
 public:
  PageCursor(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  const std::uint8_t* data() const { return p_; }
  bool skip(std::size_t n) {
    if (n > remaining()) return false;
    p_ += n;
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (remaining() < 4) return false;
    v = load_le32(p_);
    p_ += 4;
    return true;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

}  // namespace

// ---- Reader
// --------------------------------------------------------------------------------------

namespace {

// The codec for `c`: one per codec and thread, reused by every column chunk of every file (a
// wide file has thousands of chunks, and a zstd context costs more to create than a small page
// costs to decompress); a codec number outside the format's list gets its own in `local`.
PageCodec& page_codec(CompressionCodec c, std::optional<PageCodec>& local) {
  const auto index = static_cast<std::int32_t>(c);
  constexpr std::int32_t kCodecs = static_cast<std::int32_t>(CompressionCodec::kLz4Raw) + 1;
  if (index < 0 || index >= kCodecs) return local.emplace(c, 0);
  static thread_local std::array<std::unique_ptr<PageCodec>, kCodecs> codecs;
  auto& codec = codecs[static_cast<std::size_t>(index)];
  if (!codec) codec = std::make_unique<PageCodec>(c, 0);
  return *codec;
}

}  // namespace

struct ParquetReader::Impl {
  std::string path;
  std::string what;  // "Parquet file <path>"
  int fd = -1;
  std::uint64_t file_size = 0;
  FileMetaData metadata;
  FileNode root;
  std::vector<const FileNode*> leaves;  // by column chunk index
  mutable std::uint64_t level_steps = 0;

  ~Impl() {
    if (fd >= 0) ::close(fd);
  }

  [[noreturn]] void corrupt(const std::string& problem) const {
    throw Error(ErrorCode::kData, what + " is corrupt: " + problem +
                                      "; it was not written completely or is not a Parquet file");
  }
  [[noreturn]] void unsupported(const std::string& problem) const {
    throw Error(ErrorCode::kData, "cannot read " + what + ": " + problem);
  }
  [[noreturn]] void timestamp_out_of_range() const {
    unsupported(
        "a timestamp is beyond the range of a Spark timestamp (microseconds since 1970 "
        "in 64 bits)");
  }

  void read_at(std::uint64_t offset, std::size_t size, void* out) const {
    auto* p = static_cast<char*>(out);
    while (size > 0) {
      ssize_t n = ::pread(fd, p, size, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        throw Error(ErrorCode::kInternal, "cannot read " + what + ": " + std::strerror(errno));
      }
      if (n == 0) corrupt("it ends early");
      p += n;
      size -= static_cast<std::size_t>(n);
      offset += static_cast<std::uint64_t>(n);
    }
  }

  void open() {
    what = "Parquet file " + path;
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      throw ConfigError("cannot open " + what + ": " + std::strerror(errno));
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      throw Error(ErrorCode::kInternal, "cannot stat " + what + ": " + std::strerror(errno));
    }
    file_size = static_cast<std::uint64_t>(st.st_size);
    if (file_size < 12) corrupt("it is shorter than a Parquet header and footer");
    char tail[8];
    read_at(file_size - 8, 8, tail);
    char head[4];
    read_at(0, 4, head);
    if (std::string_view(tail + 4, 4) != kMagic || std::string_view(head, 4) != kMagic) {
      corrupt("it does not start and end with PAR1");
    }
    std::uint32_t footer_size = load_le32(reinterpret_cast<const std::uint8_t*>(tail));
    if (footer_size > file_size - 12) corrupt("its footer length is larger than the file");
    std::vector<std::uint8_t> footer(footer_size);
    read_at(file_size - 8 - footer_size, footer_size, footer.data());
    metadata = parse_file_metadata(footer.data(), footer.size(), what);
    build_tree();
  }

  void build_tree() {
    const auto& elements = metadata.schema;
    if (elements.empty()) corrupt("its schema is empty");
    std::size_t next = 0;
    root = build_node(next, 0, 0, "", 0);
    if (next != elements.size()) corrupt("its schema has elements outside the root");
    index_leaves(root);
    for (const RowGroup& g : metadata.row_groups) {
      if (g.columns.size() != leaves.size()) corrupt("a row group has the wrong number of columns");
      for (const ColumnChunk& c : g.columns) {
        if (!c.meta_data) unsupported("a column chunk keeps its metadata outside the footer");
      }
    }
  }

  FileNode build_node(std::size_t& next, std::int16_t def, std::int16_t rep,
                      const std::string& parent_path, int depth) {
    if (depth > 100) corrupt("its schema is nested too deeply");
    if (next >= metadata.schema.size()) corrupt("its schema ends inside a group");
    FileNode n;
    n.element = &metadata.schema[next++];
    bool is_root = depth == 0;
    n.path = is_root
                 ? ""
                 : (parent_path.empty() ? n.element->name : parent_path + "." + n.element->name);
    Repetition r = is_root ? Repetition::kRequired : n.repetition();
    n.def = static_cast<std::int16_t>(def + (r != Repetition::kRequired ? 1 : 0));
    n.rep = static_cast<std::int16_t>(rep + (r == Repetition::kRepeated ? 1 : 0));
    std::int32_t children = n.element->num_children.value_or(0);
    if (children < 0) corrupt("a schema element has a negative number of children");
    if (children == 0 && !is_root) {
      if (!n.element->type) corrupt("schema element " + n.path + " has neither type nor children");
      n.leaf = static_cast<int>(leaves.size());
      leaves.push_back(nullptr);  // set below, once `n` has its final address
      return n;
    }
    for (std::int32_t i = 0; i < children; ++i) {
      n.children.push_back(build_node(next, n.def, n.rep, n.path, depth + 1));
    }
    return n;
  }

  void index_leaves(const FileNode& n) {
    if (n.leaf >= 0) leaves[static_cast<std::size_t>(n.leaf)] = &n;
    for (const FileNode& c : n.children) index_leaves(c);
  }

  // ---- Schema inference ----

  const FileNode* list_element(const FileNode& n) const {
    if (n.children.size() != 1) return nullptr;
    const FileNode& repeated = n.children[0];
    if (repeated.repetition() != Repetition::kRepeated || repeated.children.size() != 1) {
      return nullptr;
    }
    return &repeated.children[0];
  }

  const FileNode* map_entries(const FileNode& n) const {
    if (n.children.size() != 1) return nullptr;
    const FileNode& repeated = n.children[0];
    if (repeated.repetition() != Repetition::kRepeated || repeated.children.size() != 2) {
      return nullptr;
    }
    return &repeated;
  }

  bool is_list(const FileNode& n) const {
    return n.annotated(LogicalType::Kind::kList, ConvertedType::kList);
  }
  bool is_map(const FileNode& n) const {
    return n.annotated(LogicalType::Kind::kMap, ConvertedType::kMap) ||
           n.element->converted_type == ConvertedType::kMapKeyValue;
  }

  DataType infer_type(const FileNode& n) const {
    if (n.is_leaf()) return infer_primitive(n);
    if (is_list(n)) {
      const FileNode* element = list_element(n);
      if (element == nullptr) unsupported("list " + n.path + " is not a three-level LIST group");
      return DataType::Array(infer_type(*element), element->repetition() != Repetition::kRequired);
    }
    if (is_map(n)) {
      const FileNode* entries = map_entries(n);
      if (entries == nullptr) unsupported("map " + n.path + " is not a MAP group with key_value");
      return DataType::Map(infer_type(entries->children[0]), infer_type(entries->children[1]),
                           entries->children[1].repetition() != Repetition::kRequired);
    }
    return infer_struct(n);
  }

  StructType infer_struct(const FileNode& n) const {
    std::vector<StructField> fields;
    for (const FileNode& c : n.children) {
      if (c.repetition() == Repetition::kRepeated) {
        unsupported("field " + c.path + " is a repeated field outside a LIST or MAP group");
      }
      fields.emplace_back(c.element->name, infer_type(c), c.repetition() == Repetition::kOptional);
    }
    return StructType(std::move(fields));
  }

  DataType infer_primitive(const FileNode& n) const {
    const SchemaElement& e = *n.element;
    const LogicalType& lt = e.logical_type;
    bool decimal =
        lt.kind == LogicalType::Kind::kDecimal || e.converted_type == ConvertedType::kDecimal;
    if (decimal) {
      int precision =
          lt.kind == LogicalType::Kind::kDecimal ? lt.precision : e.precision.value_or(0);
      int scale = lt.kind == LogicalType::Kind::kDecimal ? lt.scale : e.scale.value_or(0);
      if (precision < 1 || precision > 38 || scale < 0 || scale > precision) {
        unsupported("column " + n.path + " is DECIMAL(" + std::to_string(precision) + "," +
                    std::to_string(scale) + "), outside Spark's decimal range");
      }
      return DataType::Decimal(precision, scale);
    }
    switch (*e.type) {
      case PhysicalType::kBoolean:
        return DataType::Boolean();
      case PhysicalType::kInt32:
        if (lt.kind == LogicalType::Kind::kDate || e.converted_type == ConvertedType::kDate) {
          return DataType::Date();
        }
        if ((lt.kind == LogicalType::Kind::kInteger && lt.bit_width == 8) ||
            e.converted_type == ConvertedType::kInt8) {
          return DataType::Byte();
        }
        if ((lt.kind == LogicalType::Kind::kInteger && lt.bit_width == 16) ||
            e.converted_type == ConvertedType::kInt16) {
          return DataType::Short();
        }
        return DataType::Integer();
      case PhysicalType::kInt64:
        if (lt.kind == LogicalType::Kind::kTimestamp) {
          return lt.adjusted_to_utc ? DataType::Timestamp() : DataType::TimestampNtz();
        }
        if (e.converted_type == ConvertedType::kTimestampMicros ||
            e.converted_type == ConvertedType::kTimestampMillis) {
          return DataType::Timestamp();
        }
        return DataType::Long();
      case PhysicalType::kInt96:
        return DataType::Timestamp();
      case PhysicalType::kFloat:
        return DataType::Float();
      case PhysicalType::kDouble:
        return DataType::Double();
      case PhysicalType::kByteArray:
        if (lt.kind == LogicalType::Kind::kJson || e.converted_type == ConvertedType::kJson) {
          return DataType::Variant();
        }
        if (lt.kind == LogicalType::Kind::kString || lt.kind == LogicalType::Kind::kEnum ||
            e.converted_type == ConvertedType::kUtf8 || e.converted_type == ConvertedType::kEnum) {
          return DataType::String();
        }
        return DataType::Binary();
      case PhysicalType::kFixedLenByteArray:
        return DataType::Binary();
    }
    unsupported("column " + n.path + " has an unknown physical type");
  }

  // ---- Matching a requested schema ----

  // Builds the read plan for `type` from file node `n`; adds the leaves to decode (file leaf
  // indexes) to `decode`.
  ReadNode plan(const FileNode& n, const DataType& type, std::vector<int>& decode) const {
    ReadNode r;
    r.optional = n.repetition() == Repetition::kOptional;
    r.def = n.def;
    r.leaf_begin = decode.size();
    auto mismatch = [&]() -> ReadNode {
      unsupported("column " + n.path + " is " + type_text(n) +
                  " in the file and does not read as " + type.simple_string());
    };
    if (n.repetition() == Repetition::kRepeated) {
      unsupported("field " + n.path + " is a repeated field outside a LIST or MAP group");
    }
    switch (type.id()) {
      case TypeId::kStruct: {
        if (n.is_leaf() || is_list(n) || is_map(n)) return mismatch();
        r.kind = ReadNode::Kind::kStruct;
        for (const StructField& f : type.fields()) {
          auto it = std::find_if(n.children.begin(), n.children.end(),
                                 [&](const FileNode& c) { return c.element->name == f.name; });
          if (it == n.children.end()) {
            if (!f.nullable) {
              unsupported("non-nullable field " + (n.path.empty() ? "" : n.path + ".") + f.name +
                          " is missing from the file");
            }
            r.children.push_back(ReadNode());  // kMissing
          } else {
            r.children.push_back(plan(*it, f.type, decode));
          }
        }
        add_probe(n, r, decode);
        break;
      }
      case TypeId::kArray: {
        const FileNode* element = is_list(n) ? list_element(n) : nullptr;
        if (element == nullptr) return mismatch();
        r.kind = ReadNode::Kind::kList;
        r.rep = n.children[0].rep;
        r.children.push_back(plan(*element, type.element_type(), decode));
        break;
      }
      case TypeId::kMap: {
        const FileNode* entries = is_map(n) ? map_entries(n) : nullptr;
        if (entries == nullptr) return mismatch();
        r.kind = ReadNode::Kind::kMap;
        r.rep = entries->rep;
        r.children.push_back(plan(entries->children[0], type.key_type(), decode));
        r.children.push_back(plan(entries->children[1], type.value_type(), decode));
        break;
      }
      default:
        if (!n.is_leaf()) return mismatch();
        r.kind = ReadNode::Kind::kLeaf;
        r.convert = conversion(n, type);
        r.scale = type.id() == TypeId::kDecimal ? type.scale() : 0;
        if (type.id() == TypeId::kDecimal) {
          for (int i = infer_primitive(n).scale(); i < type.scale(); ++i) r.rescale *= 10;
        }
        r.leaf = static_cast<int>(decode.size());
        decode.push_back(n.leaf);
        break;
    }
    r.leaf_end = decode.size();
    return r;
  }

  // A struct whose requested fields are all missing from the file still needs one of its file
  // leaves to tell present rows from null ones.
  void add_probe(const FileNode& n, ReadNode& r, std::vector<int>& decode) const {
    if (decode.size() > r.leaf_begin) return;
    const FileNode* leaf = &n;
    while (!leaf->children.empty()) leaf = &leaf->children[0];
    ReadNode probe;
    probe.kind = ReadNode::Kind::kHidden;
    probe.leaf = static_cast<int>(decode.size());
    probe.leaf_begin = decode.size();
    decode.push_back(leaf->leaf);
    probe.leaf_end = decode.size();
    r.children.push_back(probe);
  }

  Convert conversion(const FileNode& n, const DataType& type) const {
    const SchemaElement& e = *n.element;
    PhysicalType p = *e.type;
    DataType file_type = infer_primitive(n);
    auto mismatch = [&]() -> Convert {
      unsupported("column " + n.path + " is " + file_type.simple_string() + " (" + type_text(n) +
                  ") in the file and does not read as " + type.simple_string());
    };
    switch (type.id()) {
      case TypeId::kLong:
        if (p == PhysicalType::kInt64 && file_type.id() == TypeId::kLong)
          return Convert::kInt64ToLong;
        if (p == PhysicalType::kInt32 && file_type.id() != TypeId::kDate &&
            file_type.id() != TypeId::kDecimal) {
          return Convert::kInt32ToLong;
        }
        return mismatch();
      case TypeId::kInteger:
      case TypeId::kShort:
      case TypeId::kByte:
        if (p != PhysicalType::kInt32 || file_type.id() == TypeId::kDate ||
            file_type.id() == TypeId::kDecimal) {
          return mismatch();
        }
        return type.id() == TypeId::kInteger ? Convert::kInt32ToInteger
               : type.id() == TypeId::kShort ? Convert::kInt32ToShort
                                             : Convert::kInt32ToByte;
      case TypeId::kDouble:
        if (p == PhysicalType::kDouble) return Convert::kDouble;
        if (p == PhysicalType::kFloat) return Convert::kFloatToDouble;
        return mismatch();
      case TypeId::kFloat:
        if (p == PhysicalType::kFloat) return Convert::kFloat;
        return mismatch();
      case TypeId::kBoolean:
        if (p == PhysicalType::kBoolean) return Convert::kBoolean;
        return mismatch();
      case TypeId::kDecimal:
        // A wider decimal reads exactly: as many or more digits on both sides of the point.
        if (file_type.id() != TypeId::kDecimal || file_type.scale() > type.scale() ||
            file_type.precision() - file_type.scale() > type.precision() - type.scale()) {
          return mismatch();
        }
        if (p == PhysicalType::kInt32) return Convert::kDecimalInt32;
        if (p == PhysicalType::kInt64) return Convert::kDecimalInt64;
        if (p == PhysicalType::kFixedLenByteArray || p == PhysicalType::kByteArray) {
          if (p == PhysicalType::kFixedLenByteArray &&
              (e.type_length.value_or(0) < 1 || *e.type_length > 16)) {
            return mismatch();
          }
          return Convert::kDecimalBigEndian;
        }
        return mismatch();
      case TypeId::kString:
      case TypeId::kBinary:
      case TypeId::kVariant:
        if (p == PhysicalType::kByteArray ||
            (p == PhysicalType::kFixedLenByteArray && file_type.id() != TypeId::kDecimal)) {
          return Convert::kBytes;
        }
        return mismatch();
      case TypeId::kDate:
        if (p == PhysicalType::kInt32 && file_type.id() == TypeId::kDate) return Convert::kDate;
        return mismatch();
      case TypeId::kTimestamp:
      case TypeId::kTimestampNtz: {
        if (type.id() == TypeId::kTimestampNtz && p == PhysicalType::kInt32 &&
            file_type.id() == TypeId::kDate) {
          return Convert::kDateToTimestampNtz;  // midnight of the date
        }
        if (p == PhysicalType::kInt96) return Convert::kInt96;
        if (p != PhysicalType::kInt64) return mismatch();
        const LogicalType& lt = e.logical_type;
        if (lt.kind == LogicalType::Kind::kTimestamp) {
          if (lt.unit == TimeUnit::kMillis) return Convert::kTimestampMillis;
          if (lt.unit == TimeUnit::kNanos) return Convert::kTimestampNanos;
          return Convert::kTimestampMicros;
        }
        if (e.converted_type == ConvertedType::kTimestampMillis) return Convert::kTimestampMillis;
        if (e.converted_type == ConvertedType::kTimestampMicros) return Convert::kTimestampMicros;
        return mismatch();
      }
      default:
        return mismatch();
    }
  }

  // ---- Decoding column chunks ----

  std::size_t physical_width(const FileNode& n) const {
    switch (*n.element->type) {
      case PhysicalType::kBoolean:
        return 1;
      case PhysicalType::kInt32:
      case PhysicalType::kFloat:
        return 4;
      case PhysicalType::kInt64:
      case PhysicalType::kDouble:
        return 8;
      case PhysicalType::kInt96:
        return 12;
      case PhysicalType::kByteArray:
        return 0;
      case PhysicalType::kFixedLenByteArray: {
        std::int32_t w = n.element->type_length.value_or(0);
        if (w <= 0) corrupt("column " + n.path + " is FIXED_LEN_BYTE_ARRAY without a length");
        return static_cast<std::size_t>(w);
      }
    }
    corrupt("column " + n.path + " has an unknown physical type");
  }

  // Appends `count` PLAIN values to `out`; returns false when the data is too short.
  bool decode_plain(PageCursor& in, PhysicalType type, std::size_t count, Values& out) const {
    if (type == PhysicalType::kBoolean) {
      std::size_t bytes = (count + 7) / 8;
      if (in.remaining() < bytes) return false;
      const std::uint8_t* p = in.data();
      std::size_t at = out.fixed.size();
      out.fixed.resize(at + count);
      for (std::size_t i = 0; i < count; ++i) out.fixed[at + i] = (p[i >> 3] >> (i & 7)) & 1;
      in.skip(bytes);
    } else if (out.width > 0) {
      if (count > in.remaining() / out.width) return false;
      std::size_t bytes = count * out.width;
      out.fixed.insert(out.fixed.end(), in.data(), in.data() + bytes);
      in.skip(bytes);
    } else {
      for (std::size_t i = 0; i < count; ++i) {
        std::uint32_t len;
        if (!in.u32(len) || len > in.remaining()) return false;
        out.bytes.append(reinterpret_cast<const char*>(in.data()), len);
        out.offsets.push_back(out.bytes.size());
        in.skip(len);
      }
    }
    out.count += count;
    return true;
  }

  void decode_levels_v1(PageCursor& in, int width, std::size_t count,
                        std::vector<std::uint32_t>& out, Encoding encoding,
                        const FileNode& n) const {
    if (encoding != Encoding::kRle) {
      unsupported("column " + n.path + " has levels in an encoding other than RLE");
    }
    std::uint32_t len;
    if (!in.u32(len) || len > in.remaining()) corrupt("column " + n.path + " has truncated levels");
    std::size_t at = out.size();
    out.resize(at + count);
    if (!decode_rle_hybrid(in.data(), len, width, count, out.data() + at)) {
      corrupt("column " + n.path + " has malformed levels");
    }
    in.skip(len);
  }

  void decode_values(PageCursor& in, Encoding encoding, std::size_t count, const Values& dict,
                     bool has_dict, const FileNode& n, Values& out,
                     std::vector<std::uint32_t>& scratch) const {
    PhysicalType type = *n.element->type;
    switch (encoding) {
      case Encoding::kPlain:
        if (!decode_plain(in, type, count, out))
          corrupt("column " + n.path + " has truncated values");
        return;
      case Encoding::kPlainDictionary:
      case Encoding::kRleDictionary: {
        if (!has_dict)
          corrupt("column " + n.path + " has dictionary-encoded values without a dictionary");
        if (count == 0) return;
        if (in.remaining() < 1) corrupt("column " + n.path + " has truncated dictionary indices");
        int width = in.data()[0];
        in.skip(1);
        scratch.resize(count);
        if (!decode_rle_hybrid(in.data(), in.remaining(), width, count, scratch.data())) {
          corrupt("column " + n.path + " has malformed dictionary indices");
        }
        for (std::uint32_t index : scratch) {
          if (index >= dict.count)
            corrupt("column " + n.path + " has a dictionary index out of range");
          if (out.width > 0) {
            const std::uint8_t* v = dict.fixed.data() + index * out.width;
            out.fixed.insert(out.fixed.end(), v, v + out.width);
          } else {
            out.bytes.append(dict.byte_array(index));
            out.offsets.push_back(out.bytes.size());
          }
        }
        out.count += count;
        return;
      }
      case Encoding::kRle:
        if (type == PhysicalType::kBoolean) {
          std::uint32_t len;
          if (!in.u32(len) || len > in.remaining())
            corrupt("column " + n.path + " has truncated values");
          scratch.resize(count);
          if (!decode_rle_hybrid(in.data(), len, 1, count, scratch.data())) {
            corrupt("column " + n.path + " has malformed boolean values");
          }
          for (std::uint32_t v : scratch) out.fixed.push_back(static_cast<std::uint8_t>(v));
          out.count += count;
          return;
        }
        break;
      default:
        break;
    }
    unsupported("column " + n.path + " uses value encoding " +
                std::to_string(static_cast<int>(encoding)) +
                " (lakeflow reads PLAIN and dictionary encodings)");
  }

  void decode_chunk(const ColumnChunk& chunk, const FileNode& n, DecodedLeaf& out) const {
    const ColumnMetaData& m = *chunk.meta_data;
    out.max_def = n.def;
    out.max_rep = n.rep;
    out.values.width = physical_width(n);
    std::int64_t start = m.data_page_offset;
    if (m.dictionary_page_offset && *m.dictionary_page_offset > 0 &&
        *m.dictionary_page_offset < start) {
      start = *m.dictionary_page_offset;
    }
    if (m.num_values < 0) corrupt("column " + n.path + " has a negative value count");
    if (start < 4 || m.total_compressed_size < 0 ||
        static_cast<std::uint64_t>(start) + static_cast<std::uint64_t>(m.total_compressed_size) >
            file_size) {
      corrupt("column " + n.path + " lies outside the file");
    }
    std::vector<std::uint8_t> buffer(static_cast<std::size_t>(m.total_compressed_size));
    read_at(static_cast<std::uint64_t>(start), buffer.size(), buffer.data());

    std::optional<PageCodec> unknown_codec;
    PageCodec& codec = page_codec(m.codec, unknown_codec);
    Values dict;
    dict.width = out.values.width;
    bool has_dict = false;
    std::vector<std::uint8_t> page;
    std::vector<std::uint32_t> scratch;
    const int def_width = bit_width(static_cast<std::uint64_t>(n.def));
    const int rep_width = bit_width(static_cast<std::uint64_t>(n.rep));
    std::size_t pos = 0;
    while (out.num_levels < static_cast<std::size_t>(m.num_values)) {
      if (pos >= buffer.size())
        corrupt("column " + n.path + " has fewer values than its metadata says");
      std::size_t header_size = 0;
      PageHeader h = parse_page_header(buffer.data() + pos, buffer.size() - pos, what, header_size);
      pos += header_size;
      if (h.compressed_page_size < 0 || h.uncompressed_page_size < 0 ||
          static_cast<std::size_t>(h.compressed_page_size) > buffer.size() - pos) {
        corrupt("column " + n.path + " has a page larger than its chunk");
      }
      std::string_view body(reinterpret_cast<const char*>(buffer.data() + pos),
                            static_cast<std::size_t>(h.compressed_page_size));
      pos += static_cast<std::size_t>(h.compressed_page_size);
      if (h.type != PageType::kDataPageV2 &&
          !codec.plausible_size(body, static_cast<std::size_t>(h.uncompressed_page_size))) {
        corrupt("column " + n.path + " has a page whose size does not match its data");
      }

      if (h.type == PageType::kDictionaryPage) {
        if (!h.dictionary_page_header) corrupt("a dictionary page has no dictionary header");
        page.resize(static_cast<std::size_t>(h.uncompressed_page_size));
        if (!codec.decompress(body, page.data(), page.size())) {
          corrupt("column " + n.path + " has a dictionary page that does not decompress");
        }
        Encoding enc = h.dictionary_page_header->encoding;
        if (enc != Encoding::kPlain && enc != Encoding::kPlainDictionary) {
          unsupported("column " + n.path + " has a dictionary page that is not PLAIN");
        }
        dict.clear();
        PageCursor in(page.data(), page.size());
        if (h.dictionary_page_header->num_values < 0 ||
            !decode_plain(in, *n.element->type,
                          static_cast<std::size_t>(h.dictionary_page_header->num_values), dict)) {
          corrupt("column " + n.path + " has a truncated dictionary page");
        }
        has_dict = true;
        continue;
      }
      if (h.type != PageType::kDataPage && h.type != PageType::kDataPageV2) continue;

      std::size_t count = 0;
      Encoding encoding = Encoding::kPlain;
      std::size_t levels_at = out.num_levels;
      PageCursor in(nullptr, 0);
      if (h.type == PageType::kDataPage) {
        if (!h.data_page_header) corrupt("a data page has no data page header");
        const DataPageHeader& d = *h.data_page_header;
        if (d.num_values < 0 || static_cast<std::size_t>(d.num_values) >
                                    static_cast<std::size_t>(m.num_values) - out.num_levels) {
          corrupt("column " + n.path + " has a data page with more values than its chunk");
        }
        count = static_cast<std::size_t>(d.num_values);
        encoding = d.encoding;
        page.resize(static_cast<std::size_t>(h.uncompressed_page_size));
        if (!codec.decompress(body, page.data(), page.size())) {
          corrupt("column " + n.path + " has a data page that does not decompress");
        }
        in = PageCursor(page.data(), page.size());
        if (n.rep > 0)
          decode_levels_v1(in, rep_width, count, out.reps, d.repetition_level_encoding, n);
        if (n.def > 0)
          decode_levels_v1(in, def_width, count, out.defs, d.definition_level_encoding, n);
      } else {
        if (!h.data_page_header_v2) corrupt("a v2 data page has no data page header");
        const DataPageHeaderV2& d = *h.data_page_header_v2;
        if (d.num_values < 0 ||
            static_cast<std::size_t>(d.num_values) >
                static_cast<std::size_t>(m.num_values) - out.num_levels ||
            d.repetition_levels_byte_length < 0 || d.definition_levels_byte_length < 0 ||
            static_cast<std::size_t>(d.repetition_levels_byte_length) +
                    static_cast<std::size_t>(d.definition_levels_byte_length) >
                body.size()) {
          corrupt("column " + n.path + " has a malformed v2 data page");
        }
        count = static_cast<std::size_t>(d.num_values);
        encoding = d.encoding;
        auto rep_len = static_cast<std::size_t>(d.repetition_levels_byte_length);
        auto def_len = static_cast<std::size_t>(d.definition_levels_byte_length);
        const auto* levels = reinterpret_cast<const std::uint8_t*>(body.data());
        if (n.rep > 0) {
          out.reps.resize(levels_at + count);
          if (!decode_rle_hybrid(levels, rep_len, rep_width, count, out.reps.data() + levels_at)) {
            corrupt("column " + n.path + " has malformed repetition levels");
          }
        }
        if (n.def > 0) {
          out.defs.resize(levels_at + count);
          if (!decode_rle_hybrid(levels + rep_len, def_len, def_width, count,
                                 out.defs.data() + levels_at)) {
            corrupt("column " + n.path + " has malformed definition levels");
          }
        }
        if (static_cast<std::size_t>(h.uncompressed_page_size) < rep_len + def_len) {
          corrupt("column " + n.path + " has a malformed v2 data page");
        }
        std::string_view rest = body.substr(rep_len + def_len);
        std::size_t size = static_cast<std::size_t>(h.uncompressed_page_size) - rep_len - def_len;
        if (d.is_compressed ? !codec.plausible_size(rest, size) : rest.size() != size) {
          corrupt("column " + n.path + " has a page whose size does not match its data");
        }
        page.resize(size);
        if (d.is_compressed) {
          if (!codec.decompress(rest, page.data(), size)) {
            corrupt("column " + n.path + " has a data page that does not decompress");
          }
        } else {
          if (rest.size() != size) corrupt("column " + n.path + " has a malformed v2 data page");
          std::memcpy(page.data(), rest.data(), size);
        }
        in = PageCursor(page.data(), page.size());
      }
      for (std::size_t i = levels_at; n.rep > 0 && i < levels_at + count; ++i) {
        if (out.reps[i] > static_cast<std::uint32_t>(n.rep)) {
          corrupt("column " + n.path + " has a repetition level out of range");
        }
      }
      std::size_t present = count;
      if (n.def > 0) {
        present = 0;
        for (std::size_t i = levels_at; i < levels_at + count; ++i) {
          if (out.defs[i] > static_cast<std::uint32_t>(n.def))
            corrupt("column " + n.path + " has a definition level out of range");
          present += out.defs[i] == static_cast<std::uint32_t>(n.def);
        }
      }
      decode_values(in, encoding, present, dict, has_dict, n, out.values, scratch);
      out.num_levels += count;
    }
    if (out.num_levels != static_cast<std::size_t>(m.num_values)) {
      corrupt("column " + n.path + " has more values than its metadata says");
    }
  }

  // ---- Assembly ----

  void append_leaf(const ReadNode& r, DecodedLeaf& leaf, Column& out) const {
    const Values& v = leaf.values;
    std::size_t i = leaf.value++;
    if (i >= v.count) corrupt("a column has fewer values than its levels say");
    const std::uint8_t* p = v.width > 0 ? v.fixed.data() + i * v.width : nullptr;
    auto i32 = [&] {
      std::int32_t x;
      std::memcpy(&x, p, 4);
      return x;
    };
    auto i64 = [&] {
      std::int64_t x;
      std::memcpy(&x, p, 8);
      return x;
    };
    switch (r.convert) {
      case Convert::kInt32ToInteger:
        return out.append_value<std::int32_t>(i32());
      case Convert::kInt32ToShort:
        return out.append_value<std::int16_t>(static_cast<std::int16_t>(i32()));
      case Convert::kInt32ToByte:
        return out.append_value<std::int8_t>(static_cast<std::int8_t>(i32()));
      case Convert::kInt32ToLong:
        return out.append_value<std::int64_t>(i32());
      case Convert::kInt64ToLong:
        return out.append_value<std::int64_t>(i64());
      case Convert::kFloat: {
        float f;
        std::memcpy(&f, p, 4);
        return out.append_value<float>(f);
      }
      case Convert::kFloatToDouble: {
        float f;
        std::memcpy(&f, p, 4);
        return out.append_value<double>(f);
      }
      case Convert::kDouble: {
        double d;
        std::memcpy(&d, p, 8);
        return out.append_value<double>(d);
      }
      case Convert::kBoolean:
        return out.append_bool(*p != 0);
      case Convert::kDecimalInt32:
        return out.append_value<Int128>(r.rescale * i32());
      case Convert::kDecimalInt64:
        return out.append_value<Int128>(r.rescale * i64());
      case Convert::kDecimalBigEndian: {
        std::string_view bytes = v.width > 0
                                     ? std::string_view(reinterpret_cast<const char*>(p), v.width)
                                     : v.byte_array(i);
        if (bytes.size() > 16) corrupt("a decimal value is wider than 16 bytes");
        Int128 x = 0;
        if (!bytes.empty() && (static_cast<std::uint8_t>(bytes[0]) & 0x80)) x = -1;  // sign-extend
        for (char b : bytes) {
          x = static_cast<Int128>((static_cast<UInt128>(x) << 8) | static_cast<std::uint8_t>(b));
        }
        return out.append_value<Int128>(r.rescale * x);
      }
      case Convert::kBytes:
        if (v.width > 0)
          return out.append_bytes(std::string_view(reinterpret_cast<const char*>(p), v.width));
        return out.append_bytes(v.byte_array(i));
      case Convert::kDate:
        return out.append_value<std::int32_t>(i32());
      case Convert::kDateToTimestampNtz:
        return out.append_value<std::int64_t>(std::int64_t{i32()} * 86400000000LL);
      case Convert::kTimestampMicros:
        return out.append_value<std::int64_t>(i64());
      case Convert::kTimestampMillis: {
        std::int64_t micros = 0;
        if (__builtin_mul_overflow(i64(), std::int64_t{1000}, &micros)) timestamp_out_of_range();
        return out.append_value<std::int64_t>(micros);
      }
      case Convert::kTimestampNanos: {
        std::int64_t ns = i64();
        std::int64_t us = ns / 1000;
        if (ns % 1000 < 0) --us;  // floor
        return out.append_value<std::int64_t>(us);
      }
      case Convert::kInt96: {
        std::int64_t nanos;
        std::uint32_t julian_day;
        std::memcpy(&nanos, p, 8);
        std::memcpy(&julian_day, p + 8, 4);
        constexpr std::int64_t kUnixEpochJulianDay = 2440588;
        std::int64_t micros = 0;
        if (__builtin_mul_overflow(static_cast<std::int64_t>(julian_day) - kUnixEpochJulianDay,
                                   std::int64_t{86400000000}, &micros) ||
            __builtin_add_overflow(micros, nanos / 1000, &micros)) {
          timestamp_out_of_range();
        }
        return out.append_value<std::int64_t>(micros);
      }
    }
  }

  // Skips one level entry in every leaf under `r` (a null or empty value at `r`).
  void skip_entry(const ReadNode& r, std::vector<DecodedLeaf>& leaves) const {
    level_steps += r.leaf_end - r.leaf_begin;
    for (std::size_t l = r.leaf_begin; l < r.leaf_end; ++l) {
      DecodedLeaf& leaf = leaves[l];
      if (leaf.level >= leaf.num_levels) corrupt("its columns disagree on the number of values");
      if (leaf.def_at(leaf.level) == static_cast<std::uint32_t>(leaf.max_def)) ++leaf.value;
      ++leaf.level;
    }
  }

  // Skips a null or empty value at `r`: one level entry in every leaf under it, none of them with
  // a value (its definition level is below every leaf's maximum). Only the first leaf moves now:
  // it is the one `r` and the nodes above it read levels from. The others move in bulk when `r`
  // next holds a value (catch_up) or at the end of the row group, so a struct that stays null
  // costs O(1) per row however many leaves it has.
  void skip_null(const ReadNode& r, std::vector<DecodedLeaf>& leaves) const {
    ++leaves[r.leaf_begin].level;
    ++level_steps;
    if (r.leaf_end - r.leaf_begin > 1) ++r.pending;
  }

  // Moves the leaves of `r` past the null entries skip_null left pending.
  void catch_up(const ReadNode& r, std::vector<DecodedLeaf>& leaves) const {
    if (r.pending == 0) return;
    level_steps += r.leaf_end - r.leaf_begin - 1;
    for (std::size_t l = r.leaf_begin + 1; l < r.leaf_end; ++l) {
      DecodedLeaf& leaf = leaves[l];
      leaf.level += r.pending;
      if (leaf.level > leaf.num_levels) corrupt("its columns disagree on the number of values");
    }
    r.pending = 0;
  }

  void catch_up_all(const ReadNode& r, std::vector<DecodedLeaf>& leaves) const {
    catch_up(r, leaves);
    for (const ReadNode& child : r.children) catch_up_all(child, leaves);
  }

  // Reads the value of `r` at the leaves' cursors into `out` (nullptr: consume only).
  void assemble(const ReadNode& r, std::vector<DecodedLeaf>& leaves, Column* out) const {
    if (r.kind == ReadNode::Kind::kMissing) {
      if (out != nullptr) out->append_null();
      return;
    }
    DecodedLeaf& probe = leaves[r.leaf_begin];
    if (probe.level >= probe.num_levels) corrupt("a column has fewer values than its row count");
    std::uint32_t def = probe.def_at(probe.level);
    if (r.optional && def < static_cast<std::uint32_t>(r.def)) {
      skip_null(r, leaves);
      if (out != nullptr) out->append_null();
      return;
    }
    catch_up(r, leaves);
    switch (r.kind) {
      case ReadNode::Kind::kLeaf:
      case ReadNode::Kind::kHidden: {
        DecodedLeaf& leaf = leaves[static_cast<std::size_t>(r.leaf)];
        if (r.kind == ReadNode::Kind::kHidden || out == nullptr) {
          skip_entry(r, leaves);
        } else {
          if (leaf.level >= leaf.num_levels)
            corrupt("its columns disagree on the number of values");
          append_leaf(r, leaf, *out);
          ++leaf.level;
          ++level_steps;
        }
        return;
      }
      case ReadNode::Kind::kStruct: {
        for (std::size_t i = 0; i < r.children.size(); ++i) {
          bool hidden = r.children[i].kind == ReadNode::Kind::kHidden;
          assemble(r.children[i], leaves, out != nullptr && !hidden ? &out->child(i) : nullptr);
        }
        if (out != nullptr) out->append_valid();
        return;
      }
      case ReadNode::Kind::kList:
      case ReadNode::Kind::kMap: {
        if (def < static_cast<std::uint32_t>(r.def) + 1) {  // present but empty
          skip_null(r, leaves);
          if (out != nullptr) out->finish_list();
          return;
        }
        Column* target = out != nullptr ? &out->child(0) : nullptr;
        while (true) {
          if (r.kind == ReadNode::Kind::kList) {
            assemble(r.children[0], leaves, target);
          } else {
            assemble(r.children[0], leaves, target != nullptr ? &target->child(0) : nullptr);
            assemble(r.children[1], leaves, target != nullptr ? &target->child(1) : nullptr);
            if (target != nullptr) target->append_valid();
          }
          if (probe.level >= probe.num_levels ||
              probe.rep_at(probe.level) != static_cast<std::uint32_t>(r.rep)) {
            break;
          }
        }
        if (out != nullptr) out->finish_list();
        return;
      }
      case ReadNode::Kind::kMissing:
        break;
    }
  }

  // The rows of a read that decodes no column (no requested field is in the file) are counted in
  // one of the file's columns: the footer's count alone would size the read unchecked.
  void check_row_count(const RowGroup& group) const {
    if (group.num_rows == 0) return;
    if (leaves.empty()) unsupported("a row group has rows but the file has no columns");
    DecodedLeaf probe;
    decode_chunk(group.columns[0], *leaves[0], probe);
    std::int64_t rows = 0;
    for (std::size_t i = 0; i < probe.num_levels; ++i) rows += probe.rep_at(i) == 0 ? 1 : 0;
    if (rows != group.num_rows) {
      corrupt("a row group holds " + std::to_string(rows) + " rows in column " + leaves[0]->path +
              " but says it holds " + std::to_string(group.num_rows));
    }
  }

  void read_row_group_into(std::size_t index, const StructType& schema, ColumnBatch& batch) const {
    const RowGroup& group = metadata.row_groups[index];
    std::vector<int> decode;
    std::vector<ReadNode> plans;
    std::vector<bool> present;
    for (const StructField& f : schema.fields()) {
      auto it = std::find_if(root.children.begin(), root.children.end(),
                             [&](const FileNode& c) { return c.element->name == f.name; });
      if (it == root.children.end()) {
        if (!f.nullable) unsupported("non-nullable column " + f.name + " is missing from the file");
        plans.emplace_back();  // kMissing
      } else {
        plans.push_back(plan(*it, f.type, decode));
      }
    }
    std::vector<DecodedLeaf> leaves(decode.size());
    for (std::size_t i = 0; i < decode.size(); ++i) {
      auto chunk = static_cast<std::size_t>(decode[i]);
      decode_chunk(group.columns[chunk], *this->leaves[chunk], leaves[i]);
    }
    if (group.num_rows < 0) corrupt("a row group has a negative row count");
    if (decode.empty()) check_row_count(group);
    Column& root_column = batch.root();
    for (std::int64_t row = 0; row < group.num_rows; ++row) {
      for (std::size_t f = 0; f < plans.size(); ++f) {
        assemble(plans[f], leaves, &root_column.child(f));
      }
      root_column.append_valid();
    }
    for (const ReadNode& plan : plans) catch_up_all(plan, leaves);
    for (const DecodedLeaf& leaf : leaves) {
      if (leaf.level != leaf.num_levels) corrupt("a column has more values than its row count");
    }
  }
};

ParquetReader::ParquetReader(std::string path) : impl_(std::make_unique<Impl>()) {
  impl_->path = std::move(path);
  impl_->open();
}

ParquetReader::~ParquetReader() = default;

const std::string& ParquetReader::path() const { return impl_->path; }
const FileMetaData& ParquetReader::metadata() const { return impl_->metadata; }
std::int64_t ParquetReader::num_rows() const { return impl_->metadata.num_rows; }
std::size_t ParquetReader::num_row_groups() const { return impl_->metadata.row_groups.size(); }

StructType ParquetReader::schema() const { return impl_->infer_struct(impl_->root); }

ColumnBatch ParquetReader::read(const StructType& schema) const {
  ColumnBatch batch(schema);
  for (std::size_t i = 0; i < impl_->metadata.row_groups.size(); ++i) {
    impl_->read_row_group_into(i, schema, batch);
  }
  return batch;
}

ColumnBatch ParquetReader::read_row_group(std::size_t index, const StructType& schema) const {
  if (index >= impl_->metadata.row_groups.size()) {
    throw Error(ErrorCode::kInternal, "row group " + std::to_string(index) + " of " + impl_->what +
                                          " does not exist (it has " +
                                          std::to_string(impl_->metadata.row_groups.size()) + ")");
  }
  ColumnBatch batch(schema);
  impl_->read_row_group_into(index, schema, batch);
  return batch;
}

ColumnBatch ParquetReader::read() const { return read(schema()); }

std::uint64_t ParquetReader::level_steps() const { return impl_->level_steps; }

}  // namespace lakeflow::parquet
