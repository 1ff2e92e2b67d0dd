// Parquet value encodings (Encodings.md of the Parquet format specification) and page
// compression: the RLE / bit-packing hybrid used for definition and repetition levels and
// dictionary indices, and zstd / snappy / uncompressed page bodies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "parquet/parquet_format.h"

typedef struct ZSTD_CCtx_s ZSTD_CCtx;
typedef struct ZSTD_DCtx_s ZSTD_DCtx;

namespace lakeflow::parquet {

// Bits needed to store values 0..max_value (0 for 0).
int bit_width(std::uint64_t max_value);

// Appends `values` (each < 2^bit_width) in the RLE / bit-packing hybrid encoding, without the
// 4-byte length prefix (callers add it where the spec asks). Runs of 8 or more equal values
// become RLE runs; the rest is bit-packed in groups of 8 (the last group padded with zeros).
void append_rle_hybrid(std::string& out, const std::uint16_t* values, std::size_t count,
                       int bit_width);
void append_rle_hybrid(std::string& out, const std::uint32_t* values, std::size_t count,
                       int bit_width);

// Encodes definition or repetition levels in the RLE / bit-packing hybrid as they arrive, so a
// page's levels take their encoded size in memory (a column null for many rows: a few bytes),
// never two bytes per level. Equal runs of 8 or more become one RLE run each; other values are
// bit-packed in runs of at most 63 groups.
class LevelEncoder {
 public:
  explicit LevelEncoder(int bit_width) : width_(bit_width) {}
  // Copies the levels pushed so far (the buffer of values waiting to be bit-packed only when it
  // holds some).
  LevelEncoder(const LevelEncoder& other);
  LevelEncoder& operator=(const LevelEncoder& other);
  LevelEncoder(LevelEncoder&&) noexcept = default;
  LevelEncoder& operator=(LevelEncoder&&) noexcept = default;

  void push(std::uint16_t value) { push(value, 1); }
  void push(std::uint16_t value, std::size_t count) {
    if (count == 0) return;
    size_ += count;
    if (run_count_ != 0 && value == run_value_) {
      run_count_ += count;
      return;
    }
    close_run();
    run_value_ = value;
    run_count_ = count;
  }
  std::size_t size() const { return size_; }  // levels pushed since clear()
  // Bytes the encoded levels take so far, about.
  std::size_t encoded_bytes() const {
    return out_.size() + (literal_count_ * static_cast<std::size_t>(width_) + 7) / 8 +
           (run_count_ != 0 ? 4 : 0);
  }
  // Appends the encoded levels (no length prefix) to `out` and starts over.
  void finish(std::string& out);
  void clear();

 private:
  // Values of one bit-packed run written while levels stream in: 63 groups, a one-byte header.
  static constexpr std::size_t kMaxLiterals = 63 * 8;

  void close_run() {
    // The common short run: no RLE run can start here.
    if (run_count_ < 8 && literal_count_ + run_count_ < kMaxLiterals) {
      if (literals_ == nullptr) {
        if (run_count_ == 0) return;  // the first push
        allocate_literals();
      }
      for (std::size_t k = 0; k < run_count_; ++k) literals_[literal_count_++] = run_value_;
      run_count_ = 0;
      return;
    }
    close_long_run();
  }
  void close_long_run();
  void flush_literals();
  void allocate_literals();

  int width_;
  std::string out_;
  std::size_t literal_count_ = 0;
  // Waiting to be bit-packed, fewer than kMaxLiterals (and room to pad the last group). Allocated
  // when the first value is: the levels of a column null for a whole page are one run, and a wide
  // schema's writer holds thousands of encoders that never bit-pack anything.
  std::unique_ptr<std::uint16_t[]> literals_;
  std::uint16_t run_value_ = 0;
  std::size_t run_count_ = 0;
  std::size_t size_ = 0;
};

// Decodes `count` values of the RLE / bit-packing hybrid encoding from [data, data + size).
// Returns false when the data ends early or a run is malformed.
bool decode_rle_hybrid(const std::uint8_t* data, std::size_t size, int bit_width, std::size_t count,
                       std::uint32_t* out);

// The last 1..8 bytes of a value (`n` of them at `p`) as one word, read with fixed-size
// (overlapping) loads inside them; 0 for none. Values of equal length have equal words exactly
// when their bytes are equal.
inline std::uint64_t tail_word(const char* p, std::size_t n) {
  if (n >= 4) {
    std::uint32_t a;
    std::uint32_t b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    return (static_cast<std::uint64_t>(a) << 32) | b;
  }
  if (n == 0) return 0;
  return (static_cast<std::uint64_t>(static_cast<std::uint8_t>(p[0])) << 16) |
         (static_cast<std::uint64_t>(static_cast<std::uint8_t>(p[n >> 1])) << 8) |
         static_cast<std::uint8_t>(p[n - 1]);
}

// Dictionary keys: a 64-bit hash of `n` bytes (equal bytes hash equal; its low and high halves
// are both usable as table index and tag). Reads only the bytes given.
std::uint64_t dictionary_hash(const char* p, std::size_t n);

// Whether the `n` bytes at `a` and `b` are equal. Short values (most dictionary entries) are
// compared with a few overlapping loads inside their bounds, not a call.
inline bool bytes_equal(const char* a, const char* b, std::size_t n) {
  if (n >= 8) {
    if (n > 16) return std::memcmp(a, b, n) == 0;
    std::uint64_t a0;
    std::uint64_t a1;
    std::uint64_t b0;
    std::uint64_t b1;
    std::memcpy(&a0, a, 8);
    std::memcpy(&b0, b, 8);
    std::memcpy(&a1, a + n - 8, 8);
    std::memcpy(&b1, b + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  return tail_word(a, n) == tail_word(b, n);
}

// Compresses and decompresses page bodies with one codec, reusing its context between pages.
class PageCodec {
 public:
  PageCodec(CompressionCodec codec, int zstd_level);
  ~PageCodec();
  PageCodec(const PageCodec&) = delete;
  PageCodec& operator=(const PageCodec&) = delete;

  CompressionCodec codec() const { return codec_; }
  // `input` compressed, in a buffer of the codec's own that stays valid until the next call (for
  // kUncompressed, `input` itself). The buffer is reused between pages and never zero-filled, so
  // a page costs the bytes the codec writes, not its worst-case bound.
  std::string_view compress(std::string_view input);
  // Decompresses into out[0, uncompressed_size). Returns false when the data does not
  // decompress to exactly that size. Throws lakeflow::Error for codecs lakeflow does not read.
  bool decompress(std::string_view input, std::uint8_t* out, std::size_t uncompressed_size);
  // Whether `input` can decompress to `uncompressed_size` bytes, judged from its own header
  // where the codec has one; lets a reader refuse a corrupt size before allocating for it.
  bool plausible_size(std::string_view input, std::size_t uncompressed_size) const;

 private:
  // Room for `bytes` in scratch_.
  char* scratch(std::size_t bytes);

  CompressionCodec codec_;
  int zstd_level_;
  std::unique_ptr<char[]> scratch_;
  std::size_t scratch_bytes_ = 0;
  ZSTD_CCtx* cctx_ = nullptr;
  ZSTD_DCtx* dctx_ = nullptr;
};

// Little-endian stores and loads (Parquet's byte order; the host is little-endian x86-64).
inline void store_le32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
  p[2] = static_cast<std::uint8_t>(v >> 16);
  p[3] = static_cast<std::uint8_t>(v >> 24);
}
inline std::uint32_t load_le32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

}  // namespace lakeflow::parquet
