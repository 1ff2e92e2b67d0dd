#include "parquet/parquet_encoding.h"

#include <snappy.h>
#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "lakeflow/error.h"

namespace lakeflow::parquet {

int bit_width(std::uint64_t max_value) { return static_cast<int>(std::bit_width(max_value)); }

// ---- RLE / bit-packing hybrid ----------------------------------------------------------------

namespace {

void append_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

template <typename T>
void append_rle_hybrid_impl(std::string& out, const T* v, std::size_t n, int width) {
  const int value_bytes = (width + 7) / 8;
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = i + 1;
    while (j < n && v[j] == v[i]) ++j;
    if (j - i >= 8) {
      // RLE run: header (length << 1), then the value in value_bytes little-endian bytes.
      append_varint(out, static_cast<std::uint64_t>(j - i) << 1);
      std::uint32_t value = v[i];
      for (int b = 0; b < value_bytes; ++b) out.push_back(static_cast<char>(value >> (8 * b)));
      i = j;
      continue;
    }
    // Bit-packed run: whole groups of 8 values until a run of 8 equal values starts at a group
    // boundary (it becomes an RLE run) or the values end.
    std::size_t start = i;
    std::size_t groups = 0;
    while (true) {
      i += 8;
      ++groups;
      if (i >= n) break;
      std::size_t k = i + 1;
      while (k < n && k < i + 8 && v[k] == v[i]) ++k;
      if (k - i >= 8) break;
    }
    append_varint(out, (static_cast<std::uint64_t>(groups) << 1) | 1);
    std::size_t packed_end = start + groups * 8;
    std::size_t base = out.size();
    out.resize(base + groups * static_cast<std::size_t>(width));
    auto* dst = reinterpret_cast<std::uint8_t*>(out.data() + base);
    std::uint64_t acc = 0;
    int bits = 0;
    for (std::size_t k = start; k < packed_end; ++k) {
      std::uint64_t value = k < n ? static_cast<std::uint64_t>(v[k]) : 0;  // pad the last group
      acc |= value << bits;
      bits += width;
      while (bits >= 8) {
        *dst++ = static_cast<std::uint8_t>(acc);
        acc >>= 8;
        bits -= 8;
      }
    }
    i = std::min(i, n);
  }
}

// A bit-packed run of `n` values (padded with zeros to a multiple of 8); v[n, n + 8) may be
// overwritten.
void append_bit_packed(std::string& out, std::uint16_t* v, std::size_t n, int width) {
  const std::size_t groups = (n + 7) / 8;
  std::fill(v + n, v + groups * 8, std::uint16_t{0});
  append_varint(out, (static_cast<std::uint64_t>(groups) << 1) | 1);
  std::size_t base = out.size();
  out.resize(base + groups * static_cast<std::size_t>(width));
  auto* dst = reinterpret_cast<std::uint8_t*>(out.data() + base);
  if (width <= 8) {
    // A group of 8 values fills `width` bytes: packed in one 64-bit word.
    const auto bytes = static_cast<std::size_t>(width);
    for (std::size_t g = 0; g < groups; ++g, v += 8, dst += bytes) {
      std::uint64_t word = 0;
      for (int k = 0; k < 8; ++k) word |= static_cast<std::uint64_t>(v[k]) << (k * width);
      std::memcpy(dst, &word, bytes);
    }
    return;
  }
  std::uint64_t acc = 0;
  int bits = 0;
  for (std::size_t k = 0; k < groups * 8; ++k) {
    acc |= static_cast<std::uint64_t>(v[k]) << bits;
    bits += width;
    while (bits >= 8) {
      *dst++ = static_cast<std::uint8_t>(acc);
      acc >>= 8;
      bits -= 8;
    }
  }
}

}  // namespace

LevelEncoder::LevelEncoder(const LevelEncoder& other)
    : width_(other.width_),
      out_(other.out_),
      literal_count_(other.literal_count_),
      run_value_(other.run_value_),
      run_count_(other.run_count_),
      size_(other.size_) {
  if (literal_count_ > 0) {
    allocate_literals();
    std::copy_n(other.literals_.get(), literal_count_, literals_.get());
  }
}

LevelEncoder& LevelEncoder::operator=(const LevelEncoder& other) {
  if (this == &other) return *this;
  width_ = other.width_;
  out_ = other.out_;
  literal_count_ = other.literal_count_;
  run_value_ = other.run_value_;
  run_count_ = other.run_count_;
  size_ = other.size_;
  if (literal_count_ > 0) {
    if (literals_ == nullptr) allocate_literals();
    std::copy_n(other.literals_.get(), literal_count_, literals_.get());
  }
  return *this;
}

void LevelEncoder::allocate_literals() {
  // Default-initialised: only values below literal_count_ are read (append_bit_packed pads).
  literals_.reset(new std::uint16_t[kMaxLiterals + 8]);
}

void LevelEncoder::close_long_run() {
  std::size_t n = run_count_;
  run_count_ = 0;
  // Padding is only allowed at the very end, so the values before an RLE run are topped up to
  // whole groups from the run itself.
  const std::size_t fill = (8 - literal_count_ % 8) % 8;
  if (n >= fill + 8) {
    std::fill(literals_.get() + literal_count_, literals_.get() + literal_count_ + fill,
              run_value_);
    literal_count_ += fill;
    n -= fill;
    flush_literals();
    append_varint(out_, static_cast<std::uint64_t>(n) << 1);
    const int value_bytes = (width_ + 7) / 8;
    for (int b = 0; b < value_bytes; ++b) out_.push_back(static_cast<char>(run_value_ >> (8 * b)));
    return;
  }
  if (literals_ == nullptr) allocate_literals();
  while (n > 0) {
    const std::size_t take = std::min(n, kMaxLiterals - literal_count_);
    std::fill(literals_.get() + literal_count_, literals_.get() + literal_count_ + take,
              run_value_);
    literal_count_ += take;
    n -= take;
    if (literal_count_ == kMaxLiterals) flush_literals();
  }
}

void LevelEncoder::flush_literals() {
  if (literal_count_ == 0) return;
  append_bit_packed(out_, literals_.get(), literal_count_, width_);
  literal_count_ = 0;
}

void LevelEncoder::finish(std::string& out) {
  close_run();
  flush_literals();
  out += out_;
  clear();
}

void LevelEncoder::clear() {
  out_.clear();
  literal_count_ = 0;
  run_count_ = 0;
  size_ = 0;
}

void append_rle_hybrid(std::string& out, const std::uint16_t* values, std::size_t count,
                       int width) {
  append_rle_hybrid_impl(out, values, count, width);
}

void append_rle_hybrid(std::string& out, const std::uint32_t* values, std::size_t count,
                       int width) {
  append_rle_hybrid_impl(out, values, count, width);
}

bool decode_rle_hybrid(const std::uint8_t* data, std::size_t size, int width, std::size_t count,
                       std::uint32_t* out) {
  if (width < 0 || width > 32) return false;
  const std::uint8_t* p = data;
  const std::uint8_t* end = data + size;
  const int value_bytes = (width + 7) / 8;
  const std::uint64_t mask = width == 32 ? 0xffffffffull : ((1ull << width) - 1);
  std::size_t done = 0;
  while (done < count) {
    std::uint64_t header = 0;
    for (int shift = 0;; shift += 7) {
      if (p >= end || shift > 35) return false;
      std::uint8_t b = *p++;
      header |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
    if (header & 1) {
      std::uint64_t values = (header >> 1) * 8;
      if (values == 0) return false;
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(values, count - done));
      std::size_t available = static_cast<std::size_t>(end - p);
      // Writers pad the last group; accept data that stops after the last needed value.
      if ((take * static_cast<std::size_t>(width) + 7) / 8 > available) return false;
      for (std::size_t k = 0; k < take; ++k) {
        std::size_t bit = k * static_cast<std::size_t>(width);
        std::size_t byte = bit >> 3;
        std::uint64_t word = 0;
        std::size_t n = std::min<std::size_t>(8, available - byte);
        std::memcpy(&word, p + byte, n);
        out[done + k] = static_cast<std::uint32_t>((word >> (bit & 7)) & mask);
      }
      std::uint64_t run_bytes = (header >> 1) * static_cast<std::uint64_t>(width);
      p += std::min<std::uint64_t>(run_bytes, available);
      done += take;
    } else {
      std::uint64_t run = header >> 1;
      if (run == 0 || end - p < value_bytes) return false;
      std::uint32_t value = 0;
      for (int b = 0; b < value_bytes; ++b) value |= static_cast<std::uint32_t>(p[b]) << (8 * b);
      p += value_bytes;
      if (value > mask) return false;
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(run, count - done));
      std::fill(out + done, out + done + take, value);
      done += take;
    }
  }
  return true;
}

// ---- Dictionary keys ---------------------------------------------------------------------

#if defined(__SSE4_2__)
// CRC32C steps (one instruction each, three cycles of latency) over 8-byte words, then a
// multiply mix: a short value (most dictionary entries: codes, systems, references) costs a
// step or two. Long values (text, HTML narratives) run four independent chains, 32 bytes per
// round, folded into the main chain at the end. Equal values always hash equal; the index and
// tag bits of a slot come from the mix, and a rare collision costs one comparison, never a
// wrong answer.
std::uint64_t dictionary_hash(const char* p, std::size_t n) {
  const std::uint64_t length = n;
  std::uint64_t h = 0;
  if (n > 32) {
    std::uint64_t lane[4] = {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344};
    while (n > 32) {
      for (int k = 0; k < 4; ++k) {
        std::uint64_t w;
        std::memcpy(&w, p + 8 * k, 8);
        lane[k] = _mm_crc32_u64(lane[k], w);
      }
      p += 32;
      n -= 32;
    }
    h = _mm_crc32_u64(h, lane[0] | (lane[1] << 32));
    h = _mm_crc32_u64(h, lane[2] | (lane[3] << 32));
  }
  while (n > 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = _mm_crc32_u64(h, w);
    p += 8;
    n -= 8;
  }
  h = _mm_crc32_u64(h, tail_word(p, n));
  h = (h | (length << 32)) * 0x9e3779b97f4a7c15ull;
  h ^= h >> 32;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 29;
  return h;
}
#else
std::uint64_t dictionary_hash(const char* p, std::size_t n) {
  constexpr std::uint64_t kMul1 = 0x9e3779b97f4a7c15ull;
  constexpr std::uint64_t kMul2 = 0xc2b2ae3d27d4eb4full;
  std::uint64_t h = kMul1 ^ (n * kMul2);
  if (n > 32) {
    // Long values (text, HTML narratives) in four independent lanes of 8 bytes: each lane's
    // multiply chain overlaps the others', so a long value hashes about four times faster than
    // through one chain.
    std::uint64_t lane[4] = {h, h ^ kMul2, std::rotl(h, 17), std::rotl(h, 43)};
    while (n > 32) {
      for (int k = 0; k < 4; ++k) {
        std::uint64_t w;
        std::memcpy(&w, p + 8 * k, 8);
        lane[k] = std::rotl(lane[k] ^ (w * kMul2), 29) * kMul1;
      }
      p += 32;
      n -= 32;
    }
    h = lane[0] ^ std::rotl(lane[1], 16) ^ std::rotl(lane[2], 32) ^ std::rotl(lane[3], 48);
    h *= kMul1;
  }
  while (n > 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = std::rotl(h ^ (w * kMul2), 29) * kMul1;
    p += 8;
    n -= 8;
  }
  h = std::rotl(h ^ (tail_word(p, n) * kMul2), 29) * kMul1;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}
#endif

// ---- Compression ---------------------------------------------------------------------------

PageCodec::PageCodec(CompressionCodec codec, int zstd_level)
    : codec_(codec), zstd_level_(zstd_level) {}

PageCodec::~PageCodec() {
  ZSTD_freeCCtx(cctx_);
  ZSTD_freeDCtx(dctx_);
}

char* PageCodec::scratch(std::size_t bytes) {
  if (bytes > scratch_bytes_) {
    // Default-initialised: only the bytes the codec writes are touched.
    scratch_.reset(new char[bytes]);
    scratch_bytes_ = bytes;
  }
  return scratch_.get();
}

std::string_view PageCodec::compress(std::string_view input) {
  switch (codec_) {
    case CompressionCodec::kUncompressed:
      return input;
    case CompressionCodec::kZstd: {
      if (cctx_ == nullptr) {
        cctx_ = ZSTD_createCCtx();
        if (cctx_ == nullptr) throw std::bad_alloc();
      }
      const std::size_t bound = ZSTD_compressBound(input.size());
      char* out = scratch(bound);
      std::size_t n = ZSTD_compressCCtx(cctx_, out, bound, input.data(), input.size(), zstd_level_);
      if (ZSTD_isError(n)) {
        throw Error(ErrorCode::kInternal,
                    std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
      }
      return {out, n};
    }
    case CompressionCodec::kSnappy: {
      char* out = scratch(snappy::MaxCompressedLength(input.size()));
      std::size_t n = 0;
      snappy::RawCompress(input.data(), input.size(), out, &n);
      return {out, n};
    }
    default:
      break;
  }
  throw Error(ErrorCode::kInternal,
              "unsupported Parquet compression codec " + std::to_string(static_cast<int>(codec_)));
}

bool PageCodec::plausible_size(std::string_view input, std::size_t uncompressed_size) const {
  switch (codec_) {
    case CompressionCodec::kUncompressed:
      return input.size() == uncompressed_size;
    case CompressionCodec::kSnappy: {
      std::size_t n = 0;
      return snappy::GetUncompressedLength(input.data(), input.size(), &n) &&
             n == uncompressed_size;
    }
    case CompressionCodec::kZstd: {
      unsigned long long n = ZSTD_getFrameContentSize(input.data(), input.size());
      if (n == ZSTD_CONTENTSIZE_ERROR) return false;
      // Frames written without their size: allow what a page can reasonably hold.
      if (n == ZSTD_CONTENTSIZE_UNKNOWN) return uncompressed_size <= (std::size_t{1} << 30);
      return n == uncompressed_size;
    }
    default:
      return true;  // decompress() reports the unsupported codec
  }
}

bool PageCodec::decompress(std::string_view input, std::uint8_t* out,
                           std::size_t uncompressed_size) {
  switch (codec_) {
    case CompressionCodec::kUncompressed:
      if (input.size() != uncompressed_size) return false;
      if (uncompressed_size > 0) std::memcpy(out, input.data(), uncompressed_size);
      return true;
    case CompressionCodec::kZstd: {
      if (dctx_ == nullptr) {
        dctx_ = ZSTD_createDCtx();
        if (dctx_ == nullptr) throw std::bad_alloc();
      }
      std::size_t n =
          ZSTD_decompressDCtx(dctx_, out, uncompressed_size, input.data(), input.size());
      return !ZSTD_isError(n) && n == uncompressed_size;
    }
    case CompressionCodec::kSnappy: {
      std::size_t n = 0;
      if (!snappy::GetUncompressedLength(input.data(), input.size(), &n) ||
          n != uncompressed_size) {
        return false;
      }
      return snappy::RawUncompress(input.data(), input.size(), reinterpret_cast<char*>(out));
    }
    default:
      break;
  }
  throw Error(ErrorCode::kData,
              "Parquet compression codec " + std::to_string(static_cast<int>(codec_)) +
                  " is not supported by lakeflow's reader (it reads uncompressed, snappy and "
                  "zstd pages)");
}

}  // namespace lakeflow::parquet
