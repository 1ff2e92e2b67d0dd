#include "parquet/parquet_encoding.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "lakeflow/error.h"
#include "parquet/parquet_schema.h"
#include "parquet/parquet_stats.h"

namespace lakeflow::parquet {
namespace {

std::string hex(const std::string& bytes) {
  static const char* const kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out += ' ';
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::vector<std::uint32_t> decode(const std::string& data, int width, std::size_t count) {
  std::vector<std::uint32_t> out(count);
  bool ok = decode_rle_hybrid(reinterpret_cast<const std::uint8_t*>(data.data()), data.size(),
                              width, count, out.data());
  if (!ok) out.clear();
  return out;
}

TEST(RleHybrid, BitPacksTheSpecExample) {
  // Encodings.md: 0..7 with bit width 3 pack to 10001000 11000110 11111010.
  std::vector<std::uint16_t> values{0, 1, 2, 3, 4, 5, 6, 7};
  std::string out;
  append_rle_hybrid(out, values.data(), values.size(), 3);
  EXPECT_EQ(hex(out), "03 88 c6 fa");  // header: 1 group << 1 | 1
}

TEST(RleHybrid, RunsOfEightOrMoreBecomeRleRuns) {
  std::vector<std::uint16_t> values(100, 1);
  std::string out;
  append_rle_hybrid(out, values.data(), values.size(), 1);
  EXPECT_EQ(hex(out), "c8 01 01");  // varint(100 << 1), value 1 in one byte

  std::vector<std::uint32_t> wide(10, 300);
  out.clear();
  append_rle_hybrid(out, wide.data(), wide.size(), 9);
  EXPECT_EQ(hex(out), "14 2c 01");  // 10 << 1, then 300 in two little-endian bytes
}

TEST(RleHybrid, PadsTheLastGroupOfABitPackedRun) {
  std::vector<std::uint16_t> values{1, 0, 1};
  std::string out;
  append_rle_hybrid(out, values.data(), values.size(), 1);
  EXPECT_EQ(hex(out), "03 05");
  EXPECT_EQ(decode(out, 1, 3), (std::vector<std::uint32_t>{1, 0, 1}));
}

TEST(RleHybrid, RoundTripsMixedRunsAtEveryWidth) {
  std::mt19937 rng(7);
  for (int width = 1; width <= 20; ++width) {
    std::vector<std::uint32_t> values;
    std::uint32_t max = width == 32 ? 0xffffffffu : (1u << width) - 1;
    while (values.size() < 5000) {
      std::uint32_t v = rng() & max;
      std::size_t run = rng() % 3 == 0 ? rng() % 40 : 1;  // runs and noise
      values.insert(values.end(), run, v);
    }
    std::string out;
    append_rle_hybrid(out, values.data(), values.size(), width);
    EXPECT_EQ(decode(out, width, values.size()), values) << "width " << width;
  }
}

TEST(LevelEncoder, EncodesWhatTheArrayEncoderEncodes) {
  // Levels pushed one by one and in runs (long null runs, noise, runs just under and over 8,
  // more noise than one bit-packed run holds) decode to the same levels as the array encoder's.
  std::mt19937 rng(11);
  for (int width : {1, 2, 3, 5, 9, 16}) {
    const std::uint32_t max = (1u << width) - 1;
    LevelEncoder encoder(width);
    std::vector<std::uint32_t> expected;
    for (int i = 0; i < 3000; ++i) {
      const auto v = static_cast<std::uint16_t>(rng() & max);
      std::size_t run = 1;
      switch (rng() % 5) {
        case 0:
          run = 1 + rng() % 100000;
          break;
        case 1:
          run = 7 + rng() % 3;
          break;
        case 2:
          run = 1 + rng() % 12;
          break;
        default:
          break;
      }
      if (rng() % 2 == 0) {
        encoder.push(v, run);
      } else {
        for (std::size_t k = 0; k < run; ++k) encoder.push(v);
      }
      expected.insert(expected.end(), run, v);
    }
    ASSERT_EQ(encoder.size(), expected.size());
    std::string out = "prefix";
    encoder.finish(out);
    EXPECT_EQ(encoder.size(), 0u);
    EXPECT_EQ(decode(out.substr(6), width, expected.size()), expected) << "width " << width;
  }
}

// A copy (the writer copies a shared stream's levels into a leaf) continues exactly where the
// original was, with values waiting to be bit-packed or without any (an encoder that only ever saw
// long runs holds no buffer for them), by construction and by assignment over used encoders.
TEST(LevelEncoder, ACopyContinuesWhereTheOriginalWas) {
  std::mt19937 rng(5);
  auto push_noise = [&](LevelEncoder& e, std::vector<std::uint32_t>& expected, int n) {
    for (int i = 0; i < n; ++i) {
      const auto v = static_cast<std::uint16_t>(rng() % 3);
      const std::size_t run = rng() % 4 == 0 ? 8 + rng() % 20 : 1 + rng() % 3;
      e.push(v, run);
      expected.insert(expected.end(), run, v);
    }
  };
  for (int prefix : {0, 1, 3, 40, 300}) {
    LevelEncoder original(2);
    std::vector<std::uint32_t> expected;
    original.push(1, 100);  // a long run first: nothing to bit-pack yet
    expected.insert(expected.end(), 100, 1);
    push_noise(original, expected, prefix);

    LevelEncoder copied(original);
    LevelEncoder assigned_used(2);
    assigned_used.push(3);
    assigned_used.push(2);  // holds values waiting to be bit-packed
    assigned_used = original;
    LevelEncoder assigned_fresh(2);
    assigned_fresh = original;

    std::vector<std::uint32_t> suffix_expected;
    const std::mt19937 at = rng;
    push_noise(original, suffix_expected, 50);
    std::string want;
    original.finish(want);
    expected.insert(expected.end(), suffix_expected.begin(), suffix_expected.end());
    ASSERT_EQ(decode(want, 2, expected.size()), expected) << "prefix " << prefix;
    for (LevelEncoder* e : {&copied, &assigned_used, &assigned_fresh}) {
      rng = at;
      std::vector<std::uint32_t> ignored;
      push_noise(*e, ignored, 50);
      std::string got;
      e->finish(got);
      EXPECT_EQ(got, want) << "prefix " << prefix;
    }
  }
}

TEST(LevelEncoder, AMillionEqualLevelsAreOneRleRun) {
  LevelEncoder encoder(1);
  encoder.push(0, 1000000);
  encoder.push(0);
  std::string out;
  encoder.finish(out);
  EXPECT_EQ(hex(out), "82 89 7a 00");  // varint(1000001 << 1), value 0
}

TEST(RleHybrid, DecodeRejectsTruncatedAndMalformedRuns) {
  EXPECT_TRUE(decode("", 1, 1).empty());
  EXPECT_TRUE(decode("\x03", 3, 8).empty());  // bit-packed group without its bytes
  EXPECT_TRUE(decode(std::string("\x00\x01", 2), 1, 1).empty());  // an RLE run of length 0
  EXPECT_TRUE(decode("\x10\x05", 2, 8).empty());                  // value 5 does not fit 2 bits
  EXPECT_TRUE(decode("\x10", 8, 8).empty());                      // RLE run without its value
  EXPECT_EQ(decode("\x10\x05", 3, 8), std::vector<std::uint32_t>(8, 5));
}

// Every length the comparison and the hash read differently (none, 1-3 bytes, 4-8, 9-16, 17-32,
// longer), every byte position: one flipped bit makes the values unequal, a copy elsewhere in
// memory equal with an equal hash; the hash also tells the lengths of zero-filled values apart.
TEST(DictionaryKeys, EveryByteCountsForEqualityAndHash) {
  for (std::size_t n = 0; n <= 70; ++n) {
    std::string a(n, '\0');
    for (std::size_t i = 0; i < n; ++i) a[i] = static_cast<char>('A' + (i * 7) % 50);
    const std::string copy = a;
    EXPECT_TRUE(bytes_equal(a.data(), copy.data(), n)) << n;
    EXPECT_EQ(dictionary_hash(a.data(), n), dictionary_hash(copy.data(), n)) << n;
    for (std::size_t at = 0; at < n; ++at) {
      for (int bit : {0, 5, 7}) {
        std::string b = a;
        b[at] = static_cast<char>(b[at] ^ (1 << bit));
        EXPECT_FALSE(bytes_equal(a.data(), b.data(), n)) << "length " << n << ", byte " << at;
        EXPECT_NE(dictionary_hash(a.data(), n), dictionary_hash(b.data(), n))
            << "length " << n << ", byte " << at;
      }
    }
  }
  const std::string zeros(64, '\0');
  for (std::size_t n = 1; n < zeros.size(); ++n) {
    EXPECT_NE(dictionary_hash(zeros.data(), n - 1), dictionary_hash(zeros.data(), n)) << n;
  }
}

TEST(PageCodec, EveryCodecRoundTrips) {
  std::string input;
  for (int i = 0; i < 10000; ++i) input += "value " + std::to_string(i % 97) + ";";
  for (CompressionCodec codec :
       {CompressionCodec::kUncompressed, CompressionCodec::kSnappy, CompressionCodec::kZstd}) {
    PageCodec c(codec, 3);
    std::string compressed(c.compress(input));
    if (codec != CompressionCodec::kUncompressed) {
      EXPECT_LT(compressed.size(), input.size() / 4);
    }
    std::string back(input.size(), '\0');
    ASSERT_TRUE(
        c.decompress(compressed, reinterpret_cast<std::uint8_t*>(back.data()), back.size()));
    EXPECT_EQ(back, input);
    // A wrong size or damaged data is refused.
    EXPECT_FALSE(
        c.decompress(compressed, reinterpret_cast<std::uint8_t*>(back.data()), back.size() - 1));
    if (codec != CompressionCodec::kUncompressed) {
      std::string damaged = compressed.substr(0, compressed.size() / 2);
      EXPECT_FALSE(
          c.decompress(damaged, reinterpret_cast<std::uint8_t*>(back.data()), back.size()));
    }
  }
  PageCodec gzip(CompressionCodec::kGzip, 0);
  std::uint8_t out[1];
  EXPECT_THROW(gzip.decompress("x", out, 1), Error);
}

// The codec's output buffer is reused from page to page (and grows): each page compresses to the
// bytes a fresh codec gives it, whatever came before.
TEST(PageCodec, PagesCompressAlikeWhateverCameBefore) {
  std::string big;
  for (int i = 0; i < 50000; ++i) big += std::to_string(i * 7919 % 10007) + ",";
  const std::string small = "a small page, a small page, a small page";
  for (CompressionCodec codec : {CompressionCodec::kSnappy, CompressionCodec::kZstd}) {
    PageCodec fresh_small(codec, 3);
    PageCodec fresh_big(codec, 3);
    const std::string small_alone(fresh_small.compress(small));
    const std::string big_alone(fresh_big.compress(big));
    PageCodec c(codec, 3);
    EXPECT_EQ(c.compress(small), small_alone);
    EXPECT_EQ(c.compress(big), big_alone);  // the buffer grows
    EXPECT_EQ(c.compress(small), small_alone);
    std::string back(small.size(), '\0');
    ASSERT_TRUE(
        c.decompress(small_alone, reinterpret_cast<std::uint8_t*>(back.data()), back.size()));
    EXPECT_EQ(back, small);
  }
  PageCodec none(CompressionCodec::kUncompressed, 0);
  EXPECT_EQ(none.compress(small), small);
}

TEST(ParquetSchema, DecimalWidthsHoldTheirPrecision) {
  EXPECT_EQ(decimal_byte_width(1), 1);
  EXPECT_EQ(decimal_byte_width(2), 1);  // 99 < 128
  EXPECT_EQ(decimal_byte_width(3), 2);  // 999 > 127
  EXPECT_EQ(decimal_byte_width(9), 4);
  EXPECT_EQ(decimal_byte_width(10), 5);
  EXPECT_EQ(decimal_byte_width(18), 8);
  EXPECT_EQ(decimal_byte_width(19), 9);
  EXPECT_EQ(decimal_byte_width(38), 16);
}

TEST(ParquetSchema, LevelsFollowNullabilityAndRepetition) {
  StructType schema{
      {"a", DataType::Long(), false},
      {"b", DataType::Array(DataType::Map(DataType::String(), DataType::Integer(), false))},
  };
  WriterSchema w = build_writer_schema(schema);
  ASSERT_EQ(w.leaves.size(), 3u);
  EXPECT_EQ(w.leaves[0].max_def, 0);
  EXPECT_EQ(w.leaves[0].max_rep, 0);
  // b (optional) > list (repeated) > element (optional) > key_value (repeated) > key (required)
  EXPECT_EQ(w.leaves[1].max_def, 4);
  EXPECT_EQ(w.leaves[1].max_rep, 2);
  EXPECT_EQ(w.leaves[1].display_path, "b[][].key");
  EXPECT_EQ(w.leaves[2].max_def, 4);  // the value is required too (valueContainsNull = false)
  EXPECT_TRUE(w.leaves[0].stats_eligible);
  EXPECT_FALSE(w.leaves[1].stats_eligible);
  ASSERT_EQ(w.stats_columns.size(), 2u);  // a, and b's null count
  EXPECT_FALSE(w.stats_columns[1].is_leaf);
  EXPECT_THROW(build_writer_schema(StructType{{"", DataType::Long()}}), SchemaError);
}

TEST(StringBounds, ShortStringsStayExact) {
  StringBounds b = string_bounds("apple", "pear", 32);
  EXPECT_EQ(b.min, "apple");
  EXPECT_EQ(b.max, "pear");
  EXPECT_FALSE(b.min_truncated);
  EXPECT_FALSE(b.max_truncated);
}

TEST(StringBounds, LongStringsBecomePrefixAndSuccessor) {
  StringBounds b = string_bounds("abcdef", "abcdef", 3);
  EXPECT_EQ(b.min, "abc");
  EXPECT_EQ(b.max, "abd");
  EXPECT_TRUE(b.min_truncated);
  EXPECT_TRUE(b.max_truncated);
  // Characters, not bytes: é is two bytes; its successor is ê.
  b = string_bounds("\xc3\xa9\xc3\xa9x", "\xc3\xa9\xc3\xa9x", 2);
  EXPECT_EQ(b.min, "\xc3\xa9\xc3\xa9");
  EXPECT_EQ(b.max, "\xc3\xa9\xc3\xaa");
  // U+D7FF's successor skips the surrogates to U+E000.
  EXPECT_EQ(string_bounds("", "\xed\x9f\xbfzz", 1).max, "\xee\x80\x80");
  // U+10FFFF has no successor: the character before it is incremented.
  EXPECT_EQ(string_bounds("", "a\xf4\x8f\xbf\xbfzz", 2).max, "b");
  EXPECT_FALSE(string_bounds("", "\xf4\x8f\xbf\xbfzz", 1).max.has_value());
  // Not UTF-8: no bound.
  EXPECT_FALSE(string_bounds("", "abc\x80zz", 4).max.has_value());
}

}  // namespace
}  // namespace lakeflow::parquet
