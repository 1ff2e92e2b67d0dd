#include "parquet/parquet_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lakeflow/error.h"
#include "parquet/parquet_encoding.h"
#include "parquet/parquet_format.h"
#include "parquet/parquet_schema.h"
#include "parquet/parquet_stats.h"

#ifndef LAKEFLOW_VERSION
#define LAKEFLOW_VERSION "dev"
#endif

namespace lakeflow::parquet {

namespace {

// A data page holds at most this many level entries (values and nulls), whatever its size.
constexpr std::size_t kMaxPageValues = std::size_t{1} << 20;
// write() hands rows to the column writers in slices of about this many bytes of input, so a
// large batch still closes row groups near `row_group_bytes`.
constexpr std::size_t kSliceBytes = std::size_t{4} << 20;
// Values of a dictionary column's first page, which decides whether the dictionary pays off.
constexpr std::size_t kDictionaryTrialValues = 8192;
// Rows of a list column encoded between two checks of the page's size.
constexpr std::size_t kListRowsPerStep = 64;
// Parquet min/max statistics of strings keep at most this many characters.
constexpr std::size_t kParquetStatsPrefix = 64;

[[noreturn]] void io_error(std::string_view what, const std::string& path) {
  throw Error(ErrorCode::kInternal, std::string(what) + " " + path + ": " + std::strerror(errno));
}

// ---- The output file ---------------------------------------------------------------------------

// A file written under a hidden temporary name beside its final path and renamed into place by
// commit(); removed if never committed.
class OutputFile {
 public:
  explicit OutputFile(std::string path) : path_(std::move(path)) {
    // Touched only as far as it is filled; no copies as it fills.
    buffer_.reserve(kBufferBytes);
    static std::atomic<std::uint64_t> counter{0};
    std::filesystem::path p(path_);
    std::filesystem::path dir = p.parent_path();
    std::string name = "." + p.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                       std::to_string(counter.fetch_add(1));
    temp_ = (dir.empty() ? std::filesystem::path(name) : dir / name).string();
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      std::string reason = std::strerror(errno);
      temp_.clear();
      throw ConfigError("cannot create Parquet file " + path_ + " (" + reason +
                        "); check that its directory exists and is writable");
    }
  }
  ~OutputFile() { discard(); }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  const std::string& path() const { return path_; }
  std::uint64_t position() const { return position_; }

  // Small writes (the pages of mostly empty columns) are gathered into one system call.
  void write(const void* data, std::size_t size) {
    position_ += static_cast<std::uint64_t>(size);
    if (buffer_.size() + size <= kBufferBytes) {
      buffer_.append(static_cast<const char*>(data), size);
      return;
    }
    flush();
    if (size <= kBufferBytes / 2) {
      buffer_.append(static_cast<const char*>(data), size);
      return;
    }
    write_through(data, size);
  }
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }

  void commit(bool sync) {
    flush();
    if (sync && ::fsync(fd_) != 0) io_error("cannot flush Parquet file", temp_);
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) io_error("cannot close Parquet file", temp_);
    if (::rename(temp_.c_str(), path_.c_str()) != 0)
      io_error("cannot rename Parquet file to", path_);
    temp_.clear();
    if (sync) {
      // Make the rename itself durable.
      std::filesystem::path dir = std::filesystem::path(path_).parent_path();
      int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
      }
    }
  }

  void discard() {
    buffer_.clear();
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (!temp_.empty()) {
      ::unlink(temp_.c_str());
      temp_.clear();
    }
  }

 private:
  static constexpr std::size_t kBufferBytes = std::size_t{1} << 20;

  void flush() {
    write_through(buffer_.data(), buffer_.size());
    buffer_.clear();
  }
  void write_through(const void* data, std::size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::write(fd_, p, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        io_error("cannot write Parquet file", temp_);
      }
      p += n;
      size -= static_cast<std::size_t>(n);
    }
  }

  std::string path_;
  std::string temp_;
  int fd_ = -1;
  std::uint64_t position_ = 0;  // bytes written, buffered ones included
  std::string buffer_;          // written, not yet handed to the system
};

// ---- Dictionary of byte-array values -----------------------------------------------------------

// Distinct values in insertion order, kept as the dictionary page's PLAIN body (4-byte length +
// bytes per entry), with an open-addressing index over them.
class ByteDictionary {
 public:
  // Index of `v`, adding it when new (then `inserted` is true).
  std::uint32_t insert(std::string_view v, bool& inserted) {
    if (slots_.empty()) rehash(64);
    std::uint64_t h = dictionary_hash(v.data(), v.size());
    auto tag = static_cast<std::uint32_t>(h >> 32);
    std::size_t pos = h & mask_;
    while (true) {
      std::uint64_t slot = slots_[pos];
      if (slot == 0) break;
      if (static_cast<std::uint32_t>(slot >> 32) == tag) {
        auto entry = static_cast<std::uint32_t>(slot) - 1;
        std::string_view e = value(entry);
        if (e.size() == v.size() && bytes_equal(e.data(), v.data(), v.size())) {
          inserted = false;
          return entry;
        }
      }
      pos = (pos + 1) & mask_;
    }
    auto entry = static_cast<std::uint32_t>(offsets_.size());
    offsets_.push_back(static_cast<std::uint32_t>(plain_.size()));
    std::uint8_t len[4];
    store_le32(len, static_cast<std::uint32_t>(v.size()));
    plain_.append(len, 4);
    plain_.append(v.data(), v.size());
    slots_[pos] = (static_cast<std::uint64_t>(tag) << 32) | (entry + 1);
    if (offsets_.size() * 2 > slots_.size()) rehash(slots_.size() * 2);
    inserted = true;
    return entry;
  }

  std::size_t size() const { return offsets_.size(); }
  std::string_view plain() const {
    return {reinterpret_cast<const char*>(plain_.data()), plain_.size()};
  }
  // Appends the entries as PLAIN values in the order they were added to `out` (handing over the
  // buffer when `out` is empty) and empties the dictionary.
  void take_plain(AlignedBuffer& out) {
    if (out.size() == 0) {
      std::swap(out, plain_);
    } else {
      out.append(plain_.data(), plain_.size());
    }
    clear();
  }
  std::string_view value(std::uint32_t entry) const {
    std::uint32_t at = offsets_[entry];
    std::uint32_t len = load_le32(reinterpret_cast<const std::uint8_t*>(plain_.data() + at));
    return plain().substr(at + 4, len);
  }
  // The entry as PLAIN bytes (length prefix included).
  std::string_view plain_entry(std::uint32_t entry) const {
    std::uint32_t at = offsets_[entry];
    std::uint32_t len = load_le32(reinterpret_cast<const std::uint8_t*>(plain_.data() + at));
    return plain().substr(at, 4 + len);
  }
  void clear() {
    plain_.clear();
    offsets_.clear();
    slots_.clear();
  }

 private:
  void rehash(std::size_t capacity) {
    std::vector<std::uint64_t> old = std::move(slots_);
    slots_.assign(capacity, 0);
    mask_ = capacity - 1;
    for (std::uint64_t slot : old) {
      if (slot == 0) continue;
      auto entry = static_cast<std::uint32_t>(slot) - 1;
      std::string_view v = value(entry);
      std::size_t pos = dictionary_hash(v.data(), v.size()) & mask_;
      while (slots_[pos] != 0) pos = (pos + 1) & mask_;
      slots_[pos] = slot;
    }
  }

  AlignedBuffer plain_;
  std::vector<std::uint32_t> offsets_;
  std::vector<std::uint64_t> slots_;  // (hash >> 32) << 32 | entry + 1; 0 = empty
  std::size_t mask_ = 0;
};

// ---- Column statistics -------------------------------------------------------------------------

// Running min/max/null counts of one column; only the members of its kind are used.
struct ValueStats {
  std::int64_t values = 0;  // non-null values
  std::int64_t nulls = 0;
  std::int64_t nans = 0;
  std::int64_t imin = std::numeric_limits<std::int64_t>::max();
  std::int64_t imax = std::numeric_limits<std::int64_t>::min();
  double dmin = std::numeric_limits<double>::infinity();
  double dmax = -std::numeric_limits<double>::infinity();
  Int128 xmin = ~(static_cast<Int128>(1) << 127);
  Int128 xmax = static_cast<Int128>(1) << 127;
  bool has_bytes = false;
  std::string smin, smax;

  void int_value(std::int64_t v) {
    imin = std::min(imin, v);
    imax = std::max(imax, v);
  }
  void double_value(double v) {
    if (std::isnan(v)) {
      ++nans;
      return;
    }
    dmin = std::min(dmin, v);
    dmax = std::max(dmax, v);
  }
  void decimal_value(Int128 v) {
    if (v < xmin) xmin = v;
    if (v > xmax) xmax = v;
  }
  void bytes_value(std::string_view v) {
    if (!has_bytes) {
      smin.assign(v);
      smax.assign(v);
      has_bytes = true;
      return;
    }
    if (v < std::string_view(smin)) smin.assign(v);
    if (v > std::string_view(smax)) smax.assign(v);
  }
  bool has_doubles() const { return values > nans; }

  void merge(const ValueStats& o) {
    values += o.values;
    nulls += o.nulls;
    nans += o.nans;
    imin = std::min(imin, o.imin);
    imax = std::max(imax, o.imax);
    dmin = std::min(dmin, o.dmin);
    dmax = std::max(dmax, o.dmax);
    if (o.xmin < xmin) xmin = o.xmin;
    if (o.xmax > xmax) xmax = o.xmax;
    if (o.has_bytes) bytes_value(o.smin), bytes_value(o.smax);
  }
};

// How a leaf's values are encoded.
enum class ValueKind : std::uint8_t {
  kInt32,  // integer, date
  kInt16,  // short (as INT32)
  kInt8,   // byte (as INT32)
  kInt64,  // long, timestamp, timestamp_ntz
  kFloat,
  kDouble,
  kBool,
  kDecimal32,  // decimal, precision <= 9
  kDecimal64,  // decimal, precision <= 18
  kDecimalFixed,
  kBytes,  // string, binary, variant
};

ValueKind value_kind(const LeafDescriptor& d) {
  switch (d.type.id()) {
    case TypeId::kInteger:
    case TypeId::kDate:
      return ValueKind::kInt32;
    case TypeId::kShort:
      return ValueKind::kInt16;
    case TypeId::kByte:
      return ValueKind::kInt8;
    case TypeId::kLong:
    case TypeId::kTimestamp:
    case TypeId::kTimestampNtz:
      return ValueKind::kInt64;
    case TypeId::kFloat:
      return ValueKind::kFloat;
    case TypeId::kDouble:
      return ValueKind::kDouble;
    case TypeId::kBoolean:
      return ValueKind::kBool;
    case TypeId::kDecimal:
      if (d.physical == PhysicalType::kInt32) return ValueKind::kDecimal32;
      if (d.physical == PhysicalType::kInt64) return ValueKind::kDecimal64;
      return ValueKind::kDecimalFixed;
    default:
      return ValueKind::kBytes;
  }
}

// Bytes of one PLAIN value of a fixed-width kind (0 for byte arrays; booleans count as 1).
std::size_t fixed_width(ValueKind k, std::int32_t type_length) {
  switch (k) {
    case ValueKind::kInt32:
    case ValueKind::kInt16:
    case ValueKind::kInt8:
    case ValueKind::kFloat:
    case ValueKind::kDecimal32:
      return 4;
    case ValueKind::kInt64:
    case ValueKind::kDouble:
    case ValueKind::kDecimal64:
      return 8;
    case ValueKind::kBool:
      return 1;
    case ValueKind::kDecimalFixed:
      return static_cast<std::size_t>(type_length);
    case ValueKind::kBytes:
      return 0;
  }
  return 0;
}

template <typename T>
std::string le_bytes(T v) {
  std::string out(sizeof(T), '\0');
  std::memcpy(out.data(), &v, sizeof(T));
  return out;
}

std::string big_endian_decimal(Int128 v, std::int32_t width) {
  std::string out(static_cast<std::size_t>(width), '\0');
  for (std::int32_t b = 0; b < width; ++b) {
    out[static_cast<std::size_t>(b)] =
        static_cast<char>(static_cast<std::uint8_t>(v >> (8 * (width - 1 - b))));
  }
  return out;
}

// ---- One leaf column ---------------------------------------------------------------------------

// The end of the run of rows from `begin` (< `end`) that share row `begin`'s validity, whether
// valid in `valid`. Rows past the column's materialized ones are nulls not written yet.
std::size_t validity_run(const Column& c, std::size_t begin, std::size_t end, bool& valid) {
  const std::size_t materialized = c.materialized_length();
  if (begin >= materialized) {
    valid = false;
    return end;
  }
  if (c.null_count() == 0) {
    valid = true;
    return end;
  }
  const std::uint8_t* bits = c.validity_bits();
  valid = c.is_valid(begin);
  const std::size_t limit = std::min(end, materialized);
  const std::uint8_t same = valid ? 0xff : 0x00;
  std::size_t i = begin + 1;
  while (i < limit) {
    if ((i & 7) == 0 && i + 8 <= limit && bits[i >> 3] == same) {
      i += 8;
      continue;
    }
    if ((((bits[i >> 3] >> (i & 7)) & 1) != 0) != valid) return i;
    ++i;
  }
  return valid ? limit : end;
}

// Whether any of rows [begin, end) of `c` is valid; rows past the materialized ones are nulls.
bool any_valid(const Column& c, std::size_t begin, std::size_t end) {
  end = std::min(end, c.materialized_length());
  if (begin >= end) return false;
  if (c.null_count() == 0) return true;
  const std::uint8_t* bits = c.validity_bits();
  for (; begin < end && (begin & 63) != 0; ++begin) {
    if ((bits[begin >> 3] >> (begin & 7)) & 1) return true;
  }
  for (; begin + 64 <= end; begin += 64) {
    std::uint64_t word;
    std::memcpy(&word, bits + (begin >> 3), sizeof word);
    if (word != 0) return true;
  }
  for (; begin < end; ++begin) {
    if ((bits[begin >> 3] >> (begin & 7)) & 1) return true;
  }
  return false;
}

// The column every row of which is null: stands for the part of a path below the node a
// null-below-node stream (see LeafColumns) describes.
const Column& null_column() {
  static const Column column(DataType::Integer());
  return column;
}

class LeafWriter {
 public:
  // With `null_leaf`, the last step of `d` has no column of its own: every row that reaches it is
  // null (the writer of a null-below-node stream).
  LeafWriter(const LeafDescriptor& d, const ParquetWriterOptions& options, PageCodec& codec,
             const std::string& file_path, bool null_leaf = false)
      : d_(d),
        null_leaf_(null_leaf),
        kind_(value_kind(d)),
        options_(options),
        codec_(codec),
        file_path_(file_path),
        def_width_(bit_width(static_cast<std::uint64_t>(d.max_def))),
        rep_width_(bit_width(static_cast<std::uint64_t>(d.max_rep))),
        dict_active_(options.dictionary && kind_ == ValueKind::kBytes),
        defs_(def_width_),
        reps_(rep_width_) {}

  const LeafDescriptor& descriptor() const { return d_; }
  const ValueStats& file_stats() const { return file_stats_; }
  ValueKind kind() const { return kind_; }

  // Encodes rows [begin, end) of `top`, the top-level column this leaf belongs to.
  void append(const Column& top, std::size_t begin, std::size_t end) {
    // Sized at the first append: most leaves of a wide schema have none (a null-below-node stream
    // holds their levels).
    cols_.resize(d_.steps.size());
    const std::size_t real_steps = d_.steps.size() - (null_leaf_ ? 1 : 0);
    if (real_steps > 0) cols_[0] = &top;
    for (std::size_t i = 0; i + 1 < real_steps; ++i) {
      const LeafStep& s = d_.steps[i];
      cols_[i + 1] = &cols_[i]->child(s.kind == LeafStep::Kind::kStruct ? s.child : 0);
    }
    if (null_leaf_) cols_.back() = &null_column();
    switch (kind_) {
      case ValueKind::kInt32:
        return append_rows<ValueKind::kInt32>(begin, end);
      case ValueKind::kInt16:
        return append_rows<ValueKind::kInt16>(begin, end);
      case ValueKind::kInt8:
        return append_rows<ValueKind::kInt8>(begin, end);
      case ValueKind::kInt64:
        return append_rows<ValueKind::kInt64>(begin, end);
      case ValueKind::kFloat:
        return append_rows<ValueKind::kFloat>(begin, end);
      case ValueKind::kDouble:
        return append_rows<ValueKind::kDouble>(begin, end);
      case ValueKind::kBool:
        return append_rows<ValueKind::kBool>(begin, end);
      case ValueKind::kDecimal32:
        return append_rows<ValueKind::kDecimal32>(begin, end);
      case ValueKind::kDecimal64:
        return append_rows<ValueKind::kDecimal64>(begin, end);
      case ValueKind::kDecimalFixed:
        return append_rows<ValueKind::kDecimalFixed>(begin, end);
      case ValueKind::kBytes:
        return append_rows<ValueKind::kBytes>(begin, end);
    }
  }

  // Takes over the levels, pages and null count `from` holds for the current row group; this
  // writer holds nothing for it yet. A leaf null below some node since the row group began has
  // exactly the levels of that node's null-below-node stream, pages included (they hold no values).
  void adopt_nulls(const LeafWriter& from) {
    defs_ = from.defs_;
    reps_ = from.reps_;
    page_values_ = from.page_values_;
    quiet_until_ = 0;  // the page's estimate is computed afresh
    pages_ = from.pages_;
    chunk_bytes_ = from.chunk_bytes_;
    chunk_values_ = from.chunk_values_;
    chunk_uncompressed_ = from.chunk_uncompressed_;
    plain_pages_ = from.plain_pages_;
    chunk_stats_ = from.chunk_stats_;
  }

  // Ends the page being filled, so the row group's pages are complete.
  void end_page() { flush_page(); }

  // Compressed bytes this column holds for the current row group.
  std::size_t buffered_bytes() const {
    return chunk_bytes_ + page_estimate() +
           ((dict_used_in_chunk_ || dict_active_) ? dict_.plain().size() : 0);
  }

  // Writes the column chunk of the current row group (dictionary page, then data pages) and
  // describes it in `out`; starts the next chunk.
  void finish_chunk(OutputFile& file, ColumnChunk& out) {
    flush_page();
    ColumnMetaData m;
    m.type = d_.physical;
    m.path_in_schema_ref = &d_.path_in_schema;  // the plan's, which the writer keeps
    m.codec = codec_.codec();
    m.num_values = chunk_values_;
    m.total_uncompressed_size = chunk_uncompressed_;
    m.total_compressed_size = static_cast<std::int64_t>(chunk_bytes_);
    if (dict_used_in_chunk_) {
      const std::string_view body = dict_.plain();
      const std::string_view compressed = codec_.compress(body);
      PageHeader h;
      h.type = PageType::kDictionaryPage;
      h.uncompressed_page_size = checked_page_size(body.size());
      h.compressed_page_size = checked_page_size(compressed.size());
      h.dictionary_page_header = DictionaryPageHeader{static_cast<std::int32_t>(dict_.size()),
                                                      Encoding::kPlain, std::nullopt};
      header_.clear();
      append_page_header(header_, h);
      m.dictionary_page_offset = static_cast<std::int64_t>(file.position());
      file.write(header_);
      file.write(compressed);
      m.total_uncompressed_size += static_cast<std::int64_t>(header_.size() + body.size());
      m.total_compressed_size += static_cast<std::int64_t>(header_.size() + compressed.size());
      m.encoding_stats.push_back({PageType::kDictionaryPage, Encoding::kPlain, 1});
    }
    m.data_page_offset = static_cast<std::int64_t>(file.position());
    for (std::string& page : pages_) {
      file.write(page);
      page.clear();
      spare_.push_back(std::move(page));  // reused by the next chunk: no new page faults
    }
    if (dict_used_in_chunk_ || plain_pages_ > 0) m.encodings.push_back(Encoding::kPlain);
    m.encodings.push_back(Encoding::kRle);
    if (dict_used_in_chunk_) m.encodings.push_back(Encoding::kRleDictionary);
    if (dict_pages_ > 0)
      m.encoding_stats.push_back({PageType::kDataPage, Encoding::kRleDictionary, dict_pages_});
    if (plain_pages_ > 0)
      m.encoding_stats.push_back({PageType::kDataPage, Encoding::kPlain, plain_pages_});
    m.statistics = chunk_statistics();
    out.file_offset = 0;  // the spec's value when no metadata is written outside the footer
    out.meta_data = std::move(m);

    file_stats_.merge(chunk_stats_);
    chunk_stats_ = ValueStats();
    pages_.clear();
    chunk_bytes_ = 0;
    chunk_values_ = 0;
    chunk_uncompressed_ = 0;
    dict_pages_ = 0;
    plain_pages_ = 0;
    if (dict_used_in_chunk_ || dict_active_) dict_.clear();
    dict_used_in_chunk_ = false;
  }

 private:
  template <ValueKind K>
  void append_rows(std::size_t begin, std::size_t end) {
    walk_range<K>(0, begin, end);
  }

  // Emits rows [begin, end) of the column at step `depth`, reached from the top through structs
  // only (so its rows are the top-level rows), run by run of equal validity: a null run is one
  // run of levels however long, and a struct run descends as one range.
  template <ValueKind K>
  void walk_range(std::size_t depth, std::size_t begin, std::size_t end) {
    const LeafStep& s = d_.steps[depth];
    const Column& c = *cols_[depth];
    std::size_t r = begin;
    while (r < end) {
      bool valid;
      const std::size_t run_end = validity_run(c, r, end, valid);
      if (!valid) {
        if (!s.optional) {
          row_ = r;
          required_null();
        }
        push_null_run(static_cast<std::uint16_t>(s.def_level - 1), run_end - r);
      } else if (s.kind == LeafStep::Kind::kStruct) {
        walk_range<K>(depth + 1, r, run_end);
      } else if (s.kind == LeafStep::Kind::kLeaf) {
        put_leaf_run<K>(c, r, run_end, static_cast<std::uint16_t>(s.def_level));
      } else {
        // Lists: a few rows at a time, so pages still end at row boundaries near their size.
        for (std::size_t a = r; a < run_end;) {
          const std::size_t b = std::min(run_end, a + kListRowsPerStep);
          row_ = a;
          list_rows<K>(depth, a, b);
          end_of_row();
          a = b;
        }
      }
      r = run_end;
    }
  }

  // Which elements of a list start a top-level row (repetition level 0); the others repeat at
  // `inner`. Elements are visited in order, so the position only moves forward.
  struct RowStarts {
    const std::int32_t* next;
    const std::int32_t* end;
    std::uint16_t inner;

    std::uint16_t rep_of(std::size_t k) {
      while (next < end && static_cast<std::size_t>(*next) < k) ++next;
      return next < end && static_cast<std::size_t>(*next) == k ? 0 : inner;
    }
  };

  // Rows [begin, end) of the top-level-row list column at step `depth`, all valid.
  template <ValueKind K>
  void list_rows(std::size_t depth, std::size_t begin, std::size_t end) {
    const LeafStep& s = d_.steps[depth];
    const std::int32_t* offsets = cols_[depth]->offsets();
    std::size_t i = begin;
    while (i < end) {
      if (offsets[i] == offsets[i + 1]) {
        push_null(static_cast<std::uint16_t>(s.def_level), 0);  // an empty list
        ++i;
        continue;
      }
      std::size_t j = i + 1;
      while (j < end && offsets[j] != offsets[j + 1]) ++j;
      RowStarts starts{offsets + i, offsets + j, static_cast<std::uint16_t>(s.rep_level)};
      element_range<K>(depth + 1, static_cast<std::size_t>(offsets[i]),
                       static_cast<std::size_t>(offsets[j]), starts);
      i = j;
    }
  }

  // Elements [begin, end) of the column at step `depth`, below one list: as walk_range, with
  // the repetition levels `starts` gives. A list nested in the element is walked element by
  // element.
  template <ValueKind K>
  void element_range(std::size_t depth, std::size_t begin, std::size_t end, RowStarts& starts) {
    const LeafStep& s = d_.steps[depth];
    const Column& c = *cols_[depth];
    std::size_t r = begin;
    while (r < end) {
      bool valid;
      const std::size_t run_end = validity_run(c, r, end, valid);
      if (!valid) {
        if (!s.optional) required_null();
        const std::size_t n = run_end - r;
        defs_.push(static_cast<std::uint16_t>(s.def_level - 1), n);
        push_reps(starts, r, n);
        chunk_stats_.nulls += static_cast<std::int64_t>(n);
        page_values_ += n;
      } else if (s.kind == LeafStep::Kind::kStruct) {
        element_range<K>(depth + 1, r, run_end, starts);
      } else if (s.kind == LeafStep::Kind::kLeaf) {
        const std::size_t n = run_end - r;
        defs_.push(static_cast<std::uint16_t>(s.def_level), n);
        push_reps(starts, r, n);
        put_run<K>(c, r, run_end);
        page_values_ += n;
      } else {
        for (std::size_t k = r; k < run_end; ++k) walk<K>(depth, k, starts.rep_of(k));
      }
      r = run_end;
    }
  }

  // Repetition levels of elements [begin, begin + n), one level each.
  void push_reps(RowStarts& starts, std::size_t begin, std::size_t n) {
    const std::size_t end = begin + n;
    std::size_t k = begin;
    while (k < end) {
      if (starts.rep_of(k) == 0) {
        reps_.push(0);
        ++k;
        continue;
      }
      const std::size_t stop =
          starts.next < starts.end ? std::min(end, static_cast<std::size_t>(*starts.next)) : end;
      reps_.push(starts.inner, stop - k);
      k = stop;
    }
  }

  // Levels for `n` rows that are null at definition level `def`, split at page limits.
  void push_null_run(std::uint16_t def, std::size_t n) {
    chunk_stats_.nulls += static_cast<std::int64_t>(n);
    while (n > 0) {
      std::size_t take = std::min(n, kMaxPageValues - page_values_);
      if (d_.max_def > 0) defs_.push(def, take);
      if (d_.max_rep > 0) reps_.push(0, take);
      page_values_ += take;
      n -= take;
      // A null run adds a few bytes at most: only the page's value limit can be reached.
      if (page_values_ >= kMaxPageValues) flush_page();
    }
  }

  // Rows [begin, end) of the leaf column itself, all valid, one value per row.
  template <ValueKind K>
  void put_leaf_run(const Column& c, std::size_t begin, std::size_t end, std::uint16_t def) {
    if constexpr (K == ValueKind::kBytes) {
      // One value at a time: the dictionary's size is checked after every value. end_of_row()
      // flushes a full page, so the page has room again before the next value.
      if (page_full()) flush_page();
      for (std::size_t r = begin; r < end; ++r) {
        if (d_.max_def > 0) defs_.push(def);
        if (d_.max_rep > 0) reps_.push(0);
        put<K>(c, r);
        ++page_values_;
        end_of_row();
      }
    } else {
      std::size_t r = begin;
      while (r < end) {
        if (page_full()) flush_page();
        const std::size_t width = fixed_width(K, d_.type_length);
        const std::size_t estimate = page_estimate();
        const std::size_t room =
            options_.page_bytes > estimate ? options_.page_bytes - estimate : 0;
        const std::size_t n = std::min({end - r, room / width + 1, kMaxPageValues - page_values_});
        if (d_.max_def > 0) defs_.push(def, n);
        if (d_.max_rep > 0) reps_.push(0, n);
        put_run<K>(c, r, r + n);
        page_values_ += n;
        r += n;
        end_of_row();
      }
    }
  }

  // Emits the levels and values of row `i` of the column at step `depth`.
  template <ValueKind K>
  void walk(std::size_t depth, std::size_t i, std::uint16_t rep) {
    const LeafStep& s = d_.steps[depth];
    const Column& c = *cols_[depth];
    if (!c.is_valid(i)) {
      if (!s.optional) required_null();
      push_null(static_cast<std::uint16_t>(s.def_level - 1), rep);
      return;
    }
    switch (s.kind) {
      case LeafStep::Kind::kLeaf:
        push_level(static_cast<std::uint16_t>(s.def_level), rep);
        put<K>(c, i);
        return;
      case LeafStep::Kind::kStruct:
        walk<K>(depth + 1, i, rep);
        return;
      case LeafStep::Kind::kList: {
        const std::int32_t* offsets = c.offsets();
        std::int32_t b = offsets[i];
        std::int32_t e = offsets[i + 1];
        if (b == e) {
          push_null(static_cast<std::uint16_t>(s.def_level), rep);  // an empty list
          return;
        }
        walk<K>(depth + 1, static_cast<std::size_t>(b), rep);
        auto element_rep = static_cast<std::uint16_t>(s.rep_level);
        for (std::int32_t k = b + 1; k < e; ++k) {
          walk<K>(depth + 1, static_cast<std::size_t>(k), element_rep);
        }
        return;
      }
    }
  }

  void push_level(std::uint16_t def, std::uint16_t rep) {
    if (d_.max_def > 0) defs_.push(def);
    if (d_.max_rep > 0) reps_.push(rep);
    ++page_values_;
  }
  void push_null(std::uint16_t def, std::uint16_t rep) {
    push_level(def, rep);
    ++chunk_stats_.nulls;
  }

  [[noreturn]] void required_null() const {
    throw Error(ErrorCode::kData,
                "cannot write Parquet file " + file_path_ + ": `" + d_.display_path +
                    "` (or a field enclosing it) is not "
                    "nullable but row " +
                    std::to_string(row_) + " of the batch holds null there; declare it nullable");
  }

  // Encodes one value (PLAIN, or a dictionary index) and updates the statistics.
  template <ValueKind K>
  void put(const Column& c, std::size_t i) {
    ++chunk_stats_.values;
    if constexpr (K == ValueKind::kInt32) {
      std::int32_t v = c.values<std::int32_t>()[i];
      values_.push(v);
      chunk_stats_.int_value(v);
    } else if constexpr (K == ValueKind::kInt16) {
      std::int32_t v = c.values<std::int16_t>()[i];
      values_.push(v);
      chunk_stats_.int_value(v);
    } else if constexpr (K == ValueKind::kInt8) {
      std::int32_t v = c.values<std::int8_t>()[i];
      values_.push(v);
      chunk_stats_.int_value(v);
    } else if constexpr (K == ValueKind::kInt64) {
      std::int64_t v = c.values<std::int64_t>()[i];
      values_.push(v);
      chunk_stats_.int_value(v);
    } else if constexpr (K == ValueKind::kFloat) {
      float v = c.values<float>()[i];
      values_.push(v);
      chunk_stats_.double_value(v);
    } else if constexpr (K == ValueKind::kDouble) {
      double v = c.values<double>()[i];
      values_.push(v);
      chunk_stats_.double_value(v);
    } else if constexpr (K == ValueKind::kBool) {
      if ((bool_bits_ & 7) == 0) values_.push<std::uint8_t>(0);
      bool v = c.bool_value(i);
      if (v)
        values_.data()[values_.size() - 1] |= static_cast<std::uint8_t>(1u << (bool_bits_ & 7));
      ++bool_bits_;
      chunk_stats_.int_value(v ? 1 : 0);
    } else if constexpr (K == ValueKind::kDecimal32) {
      Int128 v = c.values<Int128>()[i];
      values_.push(static_cast<std::int32_t>(v));
      chunk_stats_.decimal_value(v);
    } else if constexpr (K == ValueKind::kDecimal64) {
      Int128 v = c.values<Int128>()[i];
      values_.push(static_cast<std::int64_t>(v));
      chunk_stats_.decimal_value(v);
    } else if constexpr (K == ValueKind::kDecimalFixed) {
      Int128 v = c.values<Int128>()[i];
      const std::int32_t width = d_.type_length;
      std::uint8_t* out = values_.extend(static_cast<std::size_t>(width));
      for (std::int32_t b = 0; b < width; ++b) {
        out[b] = static_cast<std::uint8_t>(v >> (8 * (width - 1 - b)));
      }
      values_.set_size(values_.size() + static_cast<std::size_t>(width));
      chunk_stats_.decimal_value(v);
    } else {
      std::string_view v = c.string_value(i);
      if (dict_active_) {
        bool inserted;
        indices_.push_back(dict_.insert(v, inserted));
        if (inserted) chunk_stats_.bytes_value(v);
        page_plain_bytes_ += 4 + v.size();
      } else {
        values_.push(static_cast<std::uint32_t>(v.size()));
        values_.append(v.data(), v.size());
        chunk_stats_.bytes_value(v);
      }
    }
  }

  // put() for rows [begin, end) of a column without nulls: bulk copies where the layouts agree.
  template <ValueKind K>
  void put_run(const Column& c, std::size_t begin, std::size_t end) {
    if constexpr (K == ValueKind::kInt32 || K == ValueKind::kInt64) {
      using T = std::conditional_t<K == ValueKind::kInt32, std::int32_t, std::int64_t>;
      const T* v = c.values<T>() + begin;
      std::size_t n = end - begin;
      values_.append(v, n * sizeof(T));
      T lo = std::numeric_limits<T>::max();
      T hi = std::numeric_limits<T>::min();
      for (std::size_t i = 0; i < n; ++i) {
        lo = std::min(lo, v[i]);
        hi = std::max(hi, v[i]);
      }
      chunk_stats_.values += static_cast<std::int64_t>(n);
      if (n > 0) {
        chunk_stats_.int_value(lo);
        chunk_stats_.int_value(hi);
      }
    } else {
      for (std::size_t i = begin; i < end; ++i) put<K>(c, i);
    }
  }

  std::size_t page_estimate() const {
    std::size_t levels = defs_.encoded_bytes() + reps_.encoded_bytes();
    if (dict_active_) {
      auto width = static_cast<std::size_t>(std::max(1, bit_width(dict_.size())));
      return levels + indices_.size() * width / 8 + values_.size();
    }
    return levels + values_.size();
  }

  // A dictionary column's first page ends after kDictionaryTrialValues values, so the first-page
  // decision comes early: a column of mostly distinct values (ids, references) would otherwise
  // fill a dictionary of up to `dictionary_page_bytes` first, each value a cache miss in a table
  // of megabytes, only to be rewritten PLAIN.
  //
  // A dictionary page's size estimate is computed again only once enough levels were added since
  // the last computation to possibly reach `page_bytes` (see quiet_levels), so a page of
  // dictionary indices ends at exactly the value it would end at if computed after every one.
  bool page_full() {
    if (page_values_ >= kMaxPageValues) return true;
    if (dict_active_ && !dict_checked_ && indices_.size() >= kDictionaryTrialValues) return true;
    if (dict_active_ && page_values_ < quiet_until_) return false;
    const std::size_t estimate = page_estimate();
    if (estimate >= options_.page_bytes) return true;
    if (dict_active_) quiet_until_ = page_values_ + quiet_levels(estimate);
    return false;
  }

  // Levels a dictionary page whose estimate is `estimate` can take before its estimate can reach
  // `page_bytes`. Bounds per level added: each push to a level encoder grows its encoding by at
  // most 32 bytes (a run closed into bit-packed groups, or an RLE run with its header), and a
  // level takes one push of its definition level and at most two of repetition levels (a run of
  // elements is pushed as row starts and the runs between them), so 96 bytes with room to spare
  // at 128; its index takes at most 4 bytes, and a wider index width re-costs each index already
  // held, at most 4 bytes each.
  std::size_t quiet_levels(std::size_t estimate) const {
    constexpr std::size_t kLevelBytes = 128;
    constexpr std::size_t kIndexBytes = 4;
    const std::size_t fixed = estimate + indices_.size() * kIndexBytes + 8;
    if (fixed >= options_.page_bytes) return 0;
    return (options_.page_bytes - fixed) / (kLevelBytes + kIndexBytes + 1);
  }

  void end_of_row() {
    if (page_full()) flush_page();
    if (dict_active_ && dict_.plain().size() > options_.dictionary_page_bytes) {
      flush_page();
      dict_active_ = false;  // PLAIN for the rest of the file
    }
  }

  static std::int32_t checked_page_size(std::size_t size) {
    if (size > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
      throw Error(ErrorCode::kData, "a Parquet page exceeds 2 GiB; a single value is too large");
    }
    return static_cast<std::int32_t>(size);
  }

  void append_levels(LevelEncoder& levels) {
    std::size_t at = page_raw_.size();
    page_raw_.append(4, '\0');
    levels.finish(page_raw_);
    store_le32(reinterpret_cast<std::uint8_t*>(page_raw_.data() + at),
               static_cast<std::uint32_t>(page_raw_.size() - at - 4));
  }

  void flush_page() {
    if (page_values_ == 0) return;
    if (dict_active_ && !dict_checked_ && !indices_.empty()) {
      // The first page decides whether the dictionary pays off for this column.
      dict_checked_ = true;
      auto width = static_cast<std::size_t>(std::max(1, bit_width(dict_.size() - 1)));
      std::size_t dict_cost = dict_.plain().size() + indices_.size() * width / 8;
      if (dict_cost >= page_plain_bytes_) {
        if (indices_.size() == dict_.size()) {
          // Every value distinct (ids, narratives, raw records): the dictionary's body is the
          // page's PLAIN values, in order.
          dict_.take_plain(values_);
        } else {
          for (std::uint32_t index : indices_) {
            std::string_view entry = dict_.plain_entry(index);
            values_.append(entry.data(), entry.size());
          }
        }
        indices_.clear();
        dict_.clear();
        dict_active_ = false;
      }
    }
    page_raw_.clear();
    if (d_.max_rep > 0) append_levels(reps_);
    if (d_.max_def > 0) append_levels(defs_);
    Encoding encoding = Encoding::kPlain;
    if (dict_active_ && !indices_.empty()) {
      int width = std::max(1, static_cast<int>(bit_width(dict_.size() - 1)));
      page_raw_.push_back(static_cast<char>(width));
      append_rle_hybrid(page_raw_, indices_.data(), indices_.size(), width);
      encoding = Encoding::kRleDictionary;
      dict_used_in_chunk_ = true;
      ++dict_pages_;
    } else {
      page_raw_.append(reinterpret_cast<const char*>(values_.data()), values_.size());
      ++plain_pages_;
    }
    const std::string_view body = codec_.compress(page_raw_);
    PageHeader h;
    h.type = PageType::kDataPage;
    h.uncompressed_page_size = checked_page_size(page_raw_.size());
    h.compressed_page_size = checked_page_size(body.size());
    h.data_page_header = DataPageHeader{static_cast<std::int32_t>(page_values_), encoding,
                                        Encoding::kRle, Encoding::kRle};
    header_.clear();
    append_page_header(header_, h);
    std::string page;
    if (!spare_.empty()) {
      page = std::move(spare_.back());
      spare_.pop_back();
    }
    page.reserve(header_.size() + body.size());
    page += header_;
    page += body;
    chunk_bytes_ += page.size();
    pages_.push_back(std::move(page));
    chunk_uncompressed_ += static_cast<std::int64_t>(header_.size() + page_raw_.size());
    chunk_values_ += static_cast<std::int64_t>(page_values_);

    defs_.clear();
    reps_.clear();
    values_.clear();
    indices_.clear();
    bool_bits_ = 0;
    page_values_ = 0;
    page_plain_bytes_ = 0;
    quiet_until_ = 0;
  }

  // Parquet statistics of the current chunk, PLAIN-encoded in the column's sort order.
  Statistics chunk_statistics() const {
    const ValueStats& s = chunk_stats_;
    Statistics out;
    out.null_count = s.nulls;
    if (s.values == 0) return out;
    auto set = [&](std::string min, std::string max, bool legacy) {
      if (legacy) {
        out.min = min;
        out.max = max;
      }
      out.min_value = std::move(min);
      out.max_value = std::move(max);
    };
    switch (kind_) {
      case ValueKind::kInt32:
      case ValueKind::kInt16:
      case ValueKind::kInt8:
        set(le_bytes(static_cast<std::int32_t>(s.imin)),
            le_bytes(static_cast<std::int32_t>(s.imax)), true);
        break;
      case ValueKind::kInt64:
        set(le_bytes(s.imin), le_bytes(s.imax), true);
        break;
      case ValueKind::kBool:
        set(std::string(1, static_cast<char>(s.imin)), std::string(1, static_cast<char>(s.imax)),
            true);
        break;
      case ValueKind::kFloat:
      case ValueKind::kDouble: {
        out.nan_count = s.nans;
        if (!s.has_doubles()) break;
        // The spec: a zero minimum is written as -0.0, a zero maximum as +0.0.
        double lo = s.dmin == 0 ? -0.0 : s.dmin;
        double hi = s.dmax == 0 ? 0.0 : s.dmax;
        if (kind_ == ValueKind::kFloat) {
          set(le_bytes(static_cast<float>(lo)), le_bytes(static_cast<float>(hi)), true);
        } else {
          set(le_bytes(lo), le_bytes(hi), true);
        }
        break;
      }
      case ValueKind::kDecimal32:
        set(le_bytes(static_cast<std::int32_t>(s.xmin)),
            le_bytes(static_cast<std::int32_t>(s.xmax)), true);
        break;
      case ValueKind::kDecimal64:
        set(le_bytes(static_cast<std::int64_t>(s.xmin)),
            le_bytes(static_cast<std::int64_t>(s.xmax)), true);
        break;
      case ValueKind::kDecimalFixed:
        set(big_endian_decimal(s.xmin, d_.type_length), big_endian_decimal(s.xmax, d_.type_length),
            false);
        break;
      case ValueKind::kBytes: {
        if (!s.has_bytes) break;
        if (d_.type.id() == TypeId::kString) {
          StringBounds b = string_bounds(s.smin, s.smax, kParquetStatsPrefix);
          if (b.min) {
            out.is_min_value_exact = !b.min_truncated;
            out.min_value = std::move(*b.min);
          }
          if (b.max) {
            out.is_max_value_exact = !b.max_truncated;
            out.max_value = std::move(*b.max);
          }
        } else if (s.smin.size() <= kParquetStatsPrefix && s.smax.size() <= kParquetStatsPrefix) {
          // Binary and JSON values are not cut: a cut JSON text is no valid value of its type.
          set(s.smin, s.smax, false);
        }
        break;
      }
    }
    return out;
  }

  const LeafDescriptor& d_;
  const bool null_leaf_;
  const ValueKind kind_;
  const ParquetWriterOptions& options_;
  PageCodec& codec_;
  const std::string& file_path_;
  const int def_width_;
  const int rep_width_;
  bool dict_active_;  // new values go to the dictionary
  bool dict_checked_ = false;
  bool dict_used_in_chunk_ = false;
  ByteDictionary dict_;
  std::vector<const Column*> cols_;  // the column at each step, for the current append
  std::size_t row_ = 0;              // the row being walked, for errors

  // The page being filled.
  LevelEncoder defs_;
  LevelEncoder reps_;
  AlignedBuffer values_;
  std::size_t bool_bits_ = 0;
  std::vector<std::uint32_t> indices_;
  std::size_t page_values_ = 0;
  std::size_t page_plain_bytes_ = 0;
  std::size_t quiet_until_ = 0;  // page_full() skips the estimate while page_values_ is below

  // The column chunk being filled: its data pages, headers included, one buffer per page (no
  // reallocation of one large buffer), and emptied page buffers kept for reuse.
  std::vector<std::string> pages_;
  std::vector<std::string> spare_;
  std::size_t chunk_bytes_ = 0;
  std::int64_t chunk_values_ = 0;
  std::int64_t chunk_uncompressed_ = 0;
  std::int32_t dict_pages_ = 0;
  std::int32_t plain_pages_ = 0;
  ValueStats chunk_stats_;
  ValueStats file_stats_;

  std::string page_raw_;
  std::string header_;
};

}  // namespace

// ---- The nodes of the leaves' paths ------------------------------------------------------------

// The columns the leaves' paths pass through (each column a step of some path reaches), numbered by
// their path from the top level in schema order, so a node's parent comes before it. Depends on
// the schema alone: built once per plan, probed per slice by LeafColumns.
struct LeafPaths {
  struct Node {
    std::int32_t parent = -1;  // -1: a top-level column
    std::int32_t depth = 0;    // its step in the paths through it
    std::size_t top_field = 0;
    std::uint32_t arrival = 0;  // its index among its parent's children, when that is a struct
    LeafStep::Kind kind = LeafStep::Kind::kLeaf;
    bool optional = true;
  };
  std::vector<Node> nodes;
  std::vector<std::uint32_t> leaf_nodes;  // per leaf, its own node
};

namespace {

LeafPaths build_leaf_paths(const WriterSchema& schema) {
  LeafPaths paths;
  std::unordered_map<std::string, std::uint32_t> ids;
  for (const LeafDescriptor& d : schema.leaves) {
    std::string key = std::to_string(d.top_field);
    std::int32_t parent = -1;
    for (std::size_t j = 0; j < d.steps.size(); ++j) {
      auto [it, inserted] = ids.try_emplace(key, static_cast<std::uint32_t>(paths.nodes.size()));
      if (inserted) {
        LeafPaths::Node n;
        n.parent = parent;
        n.depth = static_cast<std::int32_t>(j);
        n.top_field = d.top_field;
        n.arrival = j == 0 ? 0 : d.steps[j - 1].child;
        n.kind = d.steps[j].kind;
        n.optional = d.steps[j].optional;
        paths.nodes.push_back(n);
      }
      parent = static_cast<std::int32_t>(it->second);
      const LeafStep& step = d.steps[j];
      key += step.kind == LeafStep::Kind::kStruct ? "." + std::to_string(step.child) : "[]";
    }
    paths.leaf_nodes.push_back(static_cast<std::uint32_t>(parent));
  }
  return paths;
}

// ---- Levels shared by columns null below a node ------------------------------------------------

// The leaves of a wide, sparse schema are mostly null: below some node of their path (an absent
// struct, a list whose elements lack the field) nothing is present for a whole row group. Such a
// leaf's definition and repetition levels depend only on the columns down to that node, so every
// leaf null below the same node (with the same level bit widths) has the same levels and the same
// value-less pages. LeafColumns encodes those once per node, in the writer of a "null-below-node
// stream" (a leaf whose last step stands for every leaf below the node and is always null), and
// hands copies of its pages to the leaves at the end of the row group. A leaf writes levels of its
// own from the first slice in which its own column holds a value, taking over its stream's levels
// so far. So a column null for a whole row group costs a few probes of validity per slice, not
// work per row, and the levels of a struct present in some rows are encoded once, not per leaf.
//
// Invariant: a stream for node N, from the first row of the row group on, holds the levels of a
// leaf below N that is null wherever N is present. A leaf attached to N's stream has had no valid
// value in any node of its path below N. When a node below N on its path becomes valid (M), the
// leaf moves to M's stream, which is created as a copy of N's when missing: up to this slice the
// two are equal, since M and the nodes above it below N held no valid row.
class LeafColumns {
 public:
  LeafColumns(const WriterSchema& schema, const LeafPaths& paths,
              const ParquetWriterOptions& options, PageCodec& codec, const std::string& path)
      : options_(options), codec_(codec), path_(path), paths_(paths) {
    leaves_.reserve(schema.leaves.size());
    for (const LeafDescriptor& d : schema.leaves) leaves_.emplace_back(d, options, codec, path);
    slices_.resize(paths.nodes.size());
    states_.resize(leaves_.size());
  }

  std::size_t size() const { return leaves_.size(); }
  const LeafWriter& leaf(std::size_t i) const { return leaves_[i]; }

  // Encodes rows [begin, end) of `batch` into every leaf.
  void append(const ColumnBatch& batch, std::size_t begin, std::size_t end) {
    probe(batch, begin, end);
    for (std::size_t i = 0; i < leaves_.size(); ++i) route(i);
    for (auto it = streams_.begin(); it != streams_.end();) {
      if (it->second->refs == 0) {
        it = streams_.erase(it);
        continue;
      }
      Stream& stream = *it->second;
      stream.writer->append(batch.column(stream.descriptor.top_field), begin, end);
      ++it;
    }
    for (std::size_t i = 0; i < leaves_.size(); ++i) {
      if (states_[i].stream != nullptr) continue;
      leaves_[i].append(batch.column(leaves_[i].descriptor().top_field), begin, end);
    }
  }

  // Compressed bytes held for the current row group, every leaf's copy of a stream counted.
  std::size_t buffered_bytes() const {
    std::size_t total = 0;
    for (std::size_t i = 0; i < leaves_.size(); ++i) {
      total += states_[i].stream != nullptr ? states_[i].stream->writer->buffered_bytes()
                                            : leaves_[i].buffered_bytes();
    }
    return total;
  }

  // Writes the column chunks of the row group and describes them in `group`.
  void finish_row_group(OutputFile& file, RowGroup& group) {
    for (auto& [key, stream] : streams_) stream->writer->end_page();
    group.columns.reserve(leaves_.size());
    for (std::size_t i = 0; i < leaves_.size(); ++i) {
      LeafWriter& leaf = leaves_[i];
      if (states_[i].stream != nullptr) leaf.adopt_nulls(*states_[i].stream->writer);
      ColumnChunk chunk;
      leaf.finish_chunk(file, chunk);
      group.columns.push_back(std::move(chunk));
    }
    streams_.clear();
    std::fill(states_.begin(), states_.end(), LeafState());
  }

 private:
  struct Stream {
    LeafDescriptor descriptor;
    std::unique_ptr<LeafWriter> writer;
    std::size_t refs = 0;  // leaves attached
  };
  struct LeafState {
    bool started = false;      // in the current row group
    Stream* stream = nullptr;  // attached to, or null when the leaf writes its own levels
    int depth = -1;            // the stream's node: steps[depth] (-1: the top-level column)
  };
  // What the slice being appended holds in a node of LeafPaths: its rows [begin, end) when the
  // parent has a valid one, whether any is valid, the deepest node of its path down to which every
  // node has a valid row (-1: none), and whether the first node without one is required where its
  // parent is present.
  struct NodeSlice {
    const Column* column = nullptr;
    std::size_t begin = 0;
    std::size_t end = 0;
    bool valid = false;
    std::int32_t reach = -1;
    bool required_null = false;
  };

  // Probes every node for rows [begin, end) of `batch`, top down; the nodes below one without a
  // valid row cost nothing more.
  void probe(const ColumnBatch& batch, std::size_t begin, std::size_t end) {
    for (std::size_t k = 0; k < slices_.size(); ++k) {
      const LeafPaths::Node& node = paths_.nodes[k];
      NodeSlice& n = slices_[k];
      if (node.parent < 0) {
        n.column = &batch.column(node.top_field);
        n.begin = begin;
        n.end = end;
        n.reach = -1;
        n.required_null = false;
      } else {
        const auto parent = static_cast<std::size_t>(node.parent);
        const LeafPaths::Node& p_node = paths_.nodes[parent];
        const NodeSlice& p = slices_[parent];
        n.reach = p.reach;
        n.required_null = p.required_null;
        if (!p.valid) {
          n.valid = false;
          continue;
        }
        n.column = &p.column->child(p_node.kind == LeafStep::Kind::kStruct ? node.arrival : 0);
        n.begin = p.begin;
        n.end = p.end;
        if (p_node.kind == LeafStep::Kind::kList) {
          const std::int32_t* offsets = p.column->offsets();
          n.begin = static_cast<std::size_t>(offsets[p.begin]);
          n.end =
              static_cast<std::size_t>(offsets[std::min(p.end, p.column->materialized_length())]);
        }
      }
      n.valid = any_valid(*n.column, n.begin, n.end);
      if (n.valid) {
        n.reach = node.depth;
      } else {
        // A required node null where its parent is present: the leaf's own walk reports it.
        n.required_null = !node.optional && n.begin < n.end;
      }
    }
  }

  // Decides whether leaf `i` writes levels of its own for the slice probed, or which stream holds
  // them.
  void route(std::size_t i) {
    LeafState& state = states_[i];
    const bool started = state.started;
    state.started = true;
    if (started && state.stream == nullptr) return;  // writes its own levels already
    const NodeSlice& leaf = slices_[paths_.leaf_nodes[i]];
    if (leaf.valid || leaf.required_null) {
      if (state.stream != nullptr) {
        leaves_[i].adopt_nulls(*state.stream->writer);
        --state.stream->refs;
        state.stream = nullptr;
      }
      return;
    }
    const int deepest = leaf.reach;
    if (state.stream != nullptr && deepest <= state.depth) return;
    Stream* from = state.stream;
    state.stream = stream(i, deepest, from);
    state.depth = deepest;
    ++state.stream->refs;
    if (from != nullptr) --from->refs;
  }

  // The stream of leaf `i`'s node at `depth`, created (as a copy of `from`'s levels) when missing.
  Stream* stream(std::size_t i, int depth, const Stream* from) {
    const LeafDescriptor& d = leaves_[i].descriptor();
    const auto def_width =
        static_cast<std::uint64_t>(bit_width(static_cast<std::uint64_t>(d.max_def)));
    const auto rep_width =
        static_cast<std::uint64_t>(bit_width(static_cast<std::uint64_t>(d.max_rep)));
    std::uint64_t node = 0;  // the top-level column null: the same levels for every column
    if (depth >= 0) {
      std::uint32_t id = paths_.leaf_nodes[i];
      while (paths_.nodes[id].depth > depth) {
        id = static_cast<std::uint32_t>(paths_.nodes[id].parent);
      }
      node = std::uint64_t{id} + 1;
    }

    const std::uint64_t key = node << 16 | def_width << 8 | rep_width;
    std::unique_ptr<Stream>& slot = streams_[key];
    if (slot != nullptr) return slot.get();
    slot = std::make_unique<Stream>();
    LeafDescriptor& v = slot->descriptor;
    v.display_path = d.display_path;
    v.type = DataType::Integer();
    v.physical = PhysicalType::kInt32;
    v.max_def = static_cast<std::int16_t>((1 << def_width) - 1);
    v.max_rep = static_cast<std::int16_t>((1 << rep_width) - 1);
    v.top_field = d.top_field;
    // Null below the node: a null child of a struct is at the struct's level, a null element of
    // a list one above the list's.
    std::int16_t def = 1;
    if (depth >= 0) {
      const LeafStep& node_step = d.steps[static_cast<std::size_t>(depth)];
      v.steps.assign(d.steps.begin(), d.steps.begin() + depth + 1);
      def = static_cast<std::int16_t>(node_step.def_level +
                                      (node_step.kind == LeafStep::Kind::kList ? 2 : 1));
    }
    v.steps.push_back({LeafStep::Kind::kLeaf, true, def, 0, 0});
    slot->writer = std::make_unique<LeafWriter>(v, options_, codec_, path_, true);
    if (from != nullptr) slot->writer->adopt_nulls(*from->writer);
    return slot.get();
  }

  const ParquetWriterOptions& options_;
  PageCodec& codec_;
  const std::string& path_;
  // One block for all: a wide schema has thousands, and most of them write no value.
  std::vector<LeafWriter> leaves_;
  const LeafPaths& paths_;
  std::vector<NodeSlice> slices_;  // per node of paths_
  std::vector<LeafState> states_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Stream>> streams_;
};

// ---- File statistics ---------------------------------------------------------------------------

// Sets the typed bounds of `c` from the running statistics of its leaf, encoded as `kind`.
void fill_bounds(ColumnStatistics& c, ValueKind kind, const ValueStats& s) {
  if (s.values == 0) return;
  switch (kind) {
    case ValueKind::kInt32:
    case ValueKind::kInt16:
    case ValueKind::kInt8:
    case ValueKind::kInt64:
      c.min = s.imin;
      c.max = s.imax;
      return;
    case ValueKind::kBool:
      c.min = s.imin != 0;
      c.max = s.imax != 0;
      return;
    case ValueKind::kFloat:
    case ValueKind::kDouble:
      if (!s.has_doubles()) return;
      c.min = s.dmin;
      c.max = s.dmax;
      return;
    case ValueKind::kDecimal32:
    case ValueKind::kDecimal64:
    case ValueKind::kDecimalFixed:
      c.min = s.xmin;
      c.max = s.xmax;
      return;
    case ValueKind::kBytes:
      if (!s.has_bytes) return;
      c.min = s.smin;
      c.max = s.smax;
      return;
  }
}

}  // namespace

// ---- ParquetWriter -----------------------------------------------------------------------------

ParquetWriterPlan::ParquetWriterPlan(StructType schema)
    : schema_(std::move(schema)),
      writer_schema_(std::make_unique<const WriterSchema>(build_writer_schema(schema_))),
      leaf_paths_(std::make_unique<const LeafPaths>(build_leaf_paths(*writer_schema_))) {}

ParquetWriterPlan::~ParquetWriterPlan() = default;

struct ParquetWriter::Impl {
  Impl(std::string p, std::shared_ptr<const ParquetWriterPlan> shared, ParquetWriterOptions o)
      : path(std::move(p)),
        plan(std::move(shared)),
        schema(plan->schema()),
        options(o),
        writer_schema(plan->writer_schema()),
        codec(options.compression == Compression::kZstd     ? CompressionCodec::kZstd
              : options.compression == Compression::kSnappy ? CompressionCodec::kSnappy
                                                            : CompressionCodec::kUncompressed,
              options.zstd_level) {
    if (schema.size() == 0) {
      throw SchemaError("cannot write Parquet file " + path + ": the schema has no columns");
    }
    if (options.page_bytes == 0 || options.row_group_bytes == 0) {
      throw ConfigError("Parquet page_bytes and row_group_bytes must be positive");
    }
    options.dictionary_page_bytes =
        std::min<std::size_t>(options.dictionary_page_bytes, std::size_t{1} << 30);
    leaves = std::make_unique<LeafColumns>(writer_schema, plan->leaf_paths(), options, codec, path);
    nested_nulls.assign(writer_schema.nested_fields.size(), 0);
    file = std::make_unique<OutputFile>(path);
    file->write(kMagic);
  }

  std::size_t buffered_bytes() const { return leaves->buffered_bytes(); }

  void flush_row_group() {
    RowGroup group;
    group.num_rows = rows_in_group;
    group.file_offset = static_cast<std::int64_t>(file->position());
    std::int64_t uncompressed = 0;
    std::int64_t compressed = 0;
    leaves->finish_row_group(*file, group);
    for (const ColumnChunk& chunk : group.columns) {
      uncompressed += chunk.meta_data->total_uncompressed_size;
      compressed += chunk.meta_data->total_compressed_size;
    }
    group.total_byte_size = uncompressed;
    group.total_compressed_size = compressed;
    if (metadata.row_groups.size() <= static_cast<std::size_t>(INT16_MAX)) {
      group.ordinal = static_cast<std::int16_t>(metadata.row_groups.size());
    }
    metadata.row_groups.push_back(std::move(group));
    rows_in_group = 0;
  }

  void count_nested_nulls(const ColumnBatch& batch) {
    for (std::size_t f = 0; f < writer_schema.nested_fields.size(); ++f) {
      const NestedStatsField& field = writer_schema.nested_fields[f];
      nested_nulls[f] += static_cast<std::int64_t>(
          null_rows(field, batch.column(field.top_field), batch.num_rows()));
    }
  }

  // Rows of [0, rows) where the column at an optional level of `field`'s path is null: all but
  // those valid at every such level, counted 64 rows at a time from the validity bitmaps.
  static std::size_t null_rows(const NestedStatsField& field, const Column& top, std::size_t rows) {
    std::vector<const Column*> levels;
    std::size_t limit = rows;  // rows past a level's materialized ones are null there
    const Column* c = &top;
    for (std::size_t level = 0;; ++level) {
      if (field.optional[level] && c->null_count() != 0) {
        levels.push_back(c);
        limit = std::min(limit, c->materialized_length());
      }
      if (level >= field.struct_children.size()) break;
      c = &c->child(field.struct_children[level]);
    }
    if (levels.empty()) return 0;
    std::size_t valid = 0;
    std::size_t r = 0;
    for (; r + 64 <= limit; r += 64) {
      std::uint64_t all = ~std::uint64_t{0};
      for (const Column* level : levels) {
        std::uint64_t word;
        std::memcpy(&word, level->validity_bits() + (r >> 3), sizeof word);
        all &= word;
      }
      valid += static_cast<std::size_t>(std::popcount(all));
    }
    for (; r < limit; ++r) {
      bool all = true;
      for (const Column* level : levels) all = all && level->is_valid(r);
      valid += all ? 1 : 0;
    }
    return rows - valid;
  }

  std::string path;
  std::shared_ptr<const ParquetWriterPlan> plan;
  const StructType& schema;  // plan's
  ParquetWriterOptions options;
  const WriterSchema& writer_schema;  // plan's
  PageCodec codec;
  std::unique_ptr<LeafColumns> leaves;
  std::vector<std::int64_t> nested_nulls;
  std::unique_ptr<OutputFile> file;
  FileMetaData metadata;
  std::int64_t rows_total = 0;
  std::int64_t rows_in_group = 0;
  bool closed = false;
  bool failed = false;
};

ParquetWriter::ParquetWriter(std::string path, StructType schema, ParquetWriterOptions options)
    : ParquetWriter(std::move(path), std::make_shared<const ParquetWriterPlan>(std::move(schema)),
                    options) {}

ParquetWriter::ParquetWriter(std::string path, std::shared_ptr<const ParquetWriterPlan> plan,
                             ParquetWriterOptions options)
    : impl_(plan ? std::make_unique<Impl>(std::move(path), std::move(plan), options)
                 : throw Error(ErrorCode::kInternal, "ParquetWriter made without a plan")) {}

ParquetWriter::~ParquetWriter() { abort(); }

void ParquetWriter::abort() {
  if (impl_->file) impl_->file->discard();
  impl_->closed = true;
}

std::int64_t ParquetWriter::rows_written() const { return impl_->rows_total; }

std::uint64_t ParquetWriter::estimated_size() const {
  return (impl_->file ? impl_->file->position() : 0) + impl_->buffered_bytes();
}

void ParquetWriter::write(const ColumnBatch& batch) {
  Impl& w = *impl_;
  if (w.closed || w.failed) {
    throw Error(ErrorCode::kInternal, "ParquetWriter::write called on a writer for " + w.path +
                                          " that is closed, aborted or failed");
  }
  if (!(static_cast<const DataType&>(batch.schema()) == static_cast<const DataType&>(w.schema))) {
    throw Error(ErrorCode::kInternal, "cannot write a batch of schema " +
                                          batch.schema().simple_string() + " to Parquet file " +
                                          w.path + " of schema " + w.schema.simple_string());
  }
  std::size_t rows = batch.num_rows();
  if (rows == 0) return;
  try {
    std::size_t row_bytes = std::max<std::size_t>(1, batch.byte_size() / rows);
    std::size_t slice_bytes = std::min(kSliceBytes, w.options.row_group_bytes / 4 + 1);
    std::size_t slice = std::clamp<std::size_t>(slice_bytes / row_bytes, 1, 65536);
    for (std::size_t begin = 0; begin < rows; begin += slice) {
      std::size_t end = std::min(rows, begin + slice);
      w.leaves->append(batch, begin, end);
      w.rows_in_group += static_cast<std::int64_t>(end - begin);
      w.rows_total += static_cast<std::int64_t>(end - begin);
      if (w.buffered_bytes() >= w.options.row_group_bytes) w.flush_row_group();
    }
    w.count_nested_nulls(batch);
  } catch (...) {
    w.failed = true;
    throw;
  }
}

ParquetFileStats ParquetWriter::close() {
  Impl& w = *impl_;
  if (w.closed || w.failed) {
    throw Error(ErrorCode::kInternal, "ParquetWriter::close called on a writer for " + w.path +
                                          " that is closed, aborted or failed");
  }
  try {
    if (w.rows_in_group > 0) w.flush_row_group();
    FileMetaData& m = w.metadata;
    m.version = 1;
    m.schema = w.writer_schema.elements;
    m.num_rows = w.rows_total;
    m.created_by = "lakeflow-cpp version " LAKEFLOW_VERSION;
    m.column_orders_type_defined.assign(w.leaves->size(), true);
    std::string footer;
    // About what a column chunk's metadata takes (a FHIR Observation file's: ~320 bytes), so a
    // wide file's footer is not copied as it grows; the untouched rest costs no memory.
    footer.reserve((std::size_t{64} << 10) + std::size_t{384} * w.leaves->size() *
                                                 std::max<std::size_t>(1, m.row_groups.size()));
    append_file_metadata(footer, m);
    std::uint8_t length[4];
    store_le32(length, static_cast<std::uint32_t>(footer.size()));
    footer.append(reinterpret_cast<const char*>(length), 4);
    footer.append(kMagic);
    w.file->write(footer);
    std::uint64_t size = w.file->position();
    w.file->commit(w.options.sync);
    w.closed = true;

    ParquetFileStats stats;
    stats.path = w.path;
    stats.size_bytes = size;
    stats.num_records = w.rows_total;
    stats.num_row_groups = m.row_groups.size();
    for (const WriterSchema::StatsColumn& sc : w.writer_schema.stats_columns) {
      ColumnStatistics c;
      if (sc.is_leaf) {
        const LeafWriter& leaf = w.leaves->leaf(sc.index);
        c.field_path = leaf.descriptor().field_path;
        c.type = leaf.descriptor().type;
        c.null_count = leaf.file_stats().nulls;
        c.nan_count = leaf.file_stats().nans;
        fill_bounds(c, leaf.kind(), leaf.file_stats());
      } else {
        const NestedStatsField& f = w.writer_schema.nested_fields[sc.index];
        c.field_path = f.field_path;
        c.type = f.type;
        c.null_count = w.nested_nulls[sc.index];
      }
      stats.columns.push_back(std::move(c));
    }
    return stats;
  } catch (...) {
    w.failed = true;
    throw;
  }
}

}  // namespace lakeflow::parquet
