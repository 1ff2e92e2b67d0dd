#include "lakeflow/records.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "lakeflow/error.h"

namespace lakeflow {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr std::size_t kChunk = 256 * 1024;  // records.cc's default chunk size

std::vector<std::string> texts(const RecordBatch& batch) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < batch.size(); ++i) out.emplace_back(batch[i]);
  return out;
}

bool inside(std::string_view part, std::string_view whole) {
  const auto p = reinterpret_cast<std::uintptr_t>(part.data());
  const auto w = reinterpret_cast<std::uintptr_t>(whole.data());
  return p >= w && p + part.size() <= w + whole.size();
}

TEST(RecordBatch, StartsEmpty) {
  const RecordBatch batch;
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_EQ(batch.byte_size(), 0u);
}

TEST(RecordBatch, AppendCopiesRecords) {
  RecordBatch batch;
  std::string source = R"({"id":1})";
  batch.append(source);
  batch.append(R"({"id":22})");
  source[0] = 'X';  // the batch holds its own copy
  EXPECT_THAT(texts(batch), ElementsAre(R"({"id":1})", R"({"id":22})"));
  EXPECT_EQ(batch.byte_size(), 17u);
  EXPECT_FALSE(batch.empty());
}

TEST(RecordBatch, AppendWithMembersAddsThemAndKeepsTheSourceAsGiven) {
  RecordBatch batch;
  const std::string resource = "{ \"id\" : \"a\\u00e9\",\n  \"n\": [1, 2.50] }";
  batch.append_with_members(resource, R"("cursor":"2024-01-01T00:00:00Z")");
  batch.append_with_members("{}", R"("cursor":null)");
  batch.append_with_members(R"({"id":"b"})", "");
  batch.append(R"({"id":"c"})");
  EXPECT_THAT(
      texts(batch),
      ElementsAre(
          "{ \"id\" : \"a\\u00e9\",\n  \"n\": [1, 2.50] ,\"cursor\":\"2024-01-01T00:00:00Z\"}",
          R"({"cursor":null})", R"({"id":"b"})", R"({"id":"c"})"));
  EXPECT_EQ(batch.source(0), resource);
  EXPECT_EQ(batch.source(1), "{}");
  EXPECT_EQ(batch.source(2), R"({"id":"b"})");
  EXPECT_EQ(batch.source(3), R"({"id":"c"})");  // a record is its own source
  for (std::size_t i = 0; i < batch.size(); ++i) {
    ASSERT_GE(batch.readable(i), batch[i].size() + RecordBatch::kPadding);
  }
  EXPECT_EQ(batch.byte_size(),
            batch[0].size() + batch[1].size() + batch[2].size() + batch[3].size());
}

TEST(RecordBatch, AppendWithMembersRefusesTextThatIsNotAnObject) {
  RecordBatch batch;
  EXPECT_THROW(batch.append_with_members("[1]", R"("a":1)"), Error);
  EXPECT_THROW(batch.append_with_members("", R"("a":1)"), Error);
  EXPECT_THROW(batch.append_with_members("{\"a\":1", R"("b":1)"), Error);
  EXPECT_TRUE(batch.empty());
}

TEST(RecordBatch, PaddingAfterEveryAppendedRecordIsReadableSpaces) {
  RecordBatch batch;
  for (int i = 0; i < 100; ++i) batch.append(std::string(static_cast<std::size_t>(i), 'a'));
  for (std::size_t i = 0; i < batch.size(); ++i) {
    ASSERT_GE(batch.readable(i), batch[i].size() + RecordBatch::kPadding);
    const std::string_view padding(batch[i].data() + batch[i].size(), RecordBatch::kPadding);
    EXPECT_EQ(padding, std::string(RecordBatch::kPadding, ' ')) << "record " << i;
  }
}

TEST(RecordBatch, AppendsAcrossChunks) {
  RecordBatch batch;
  const std::string record(1000, 'r');
  const std::size_t count = 3 * kChunk / record.size();  // needs several chunks
  for (std::size_t i = 0; i < count; ++i) batch.append(record);
  ASSERT_EQ(batch.size(), count);
  EXPECT_EQ(batch.byte_size(), count * record.size());
  for (std::size_t i = 0; i < count; ++i) {
    ASSERT_EQ(batch[i], record) << i;
    ASSERT_EQ(std::string_view(batch[i].data() + record.size(), RecordBatch::kPadding),
              std::string(RecordBatch::kPadding, ' '));
  }
}

TEST(RecordBatch, RecordBiggerThanAChunkGetsItsOwnChunk) {
  RecordBatch batch;
  batch.append("small");
  const std::string big(kChunk * 2 + 123, 'b');
  batch.append(big);
  batch.append("after");
  EXPECT_THAT(texts(batch), ElementsAre("small", big, "after"));
  EXPECT_GE(batch.readable(1), big.size() + RecordBatch::kPadding);
  EXPECT_EQ(std::string_view(batch[1].data() + big.size(), RecordBatch::kPadding),
            std::string(RecordBatch::kPadding, ' '));
  EXPECT_EQ(batch.byte_size(), 5 + big.size() + 5);
}

TEST(RecordBatch, ClearDropsRecordsAndReusesArenaMemory) {
  RecordBatch batch;
  batch.append("first");
  const char* first_address = batch[0].data();
  batch.clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.byte_size(), 0u);
  batch.append("again");
  EXPECT_EQ(batch[0].data(), first_address);
  EXPECT_EQ(batch[0], "again");
}

TEST(RecordBatch, ClearKeepsBigChunksUsable) {
  RecordBatch batch;
  const std::string big(kChunk + 1, 'b');
  batch.append("a");
  batch.append(big);
  batch.clear();
  // Refill past the first chunk, then add another big record: both must still be correct.
  const std::string medium(kChunk / 2, 'm');
  batch.append(medium);
  batch.append(medium);
  batch.append(medium);
  batch.append(big);
  EXPECT_THAT(texts(batch), ElementsAre(medium, medium, medium, big));
}

TEST(RecordBatch, BigRecordAfterClearDoesNotReuseASmallerSpareChunk) {
  RecordBatch batch;
  const std::string medium(kChunk / 2 + 1, 'm');
  for (int i = 0; i < 3; ++i) batch.append(medium);  // leaves two regular chunks behind
  batch.clear();
  batch.append("a");
  const std::string big(kChunk + 100, 'b');  // fits neither spare chunk
  batch.append(big);
  batch.append(medium);
  EXPECT_THAT(texts(batch), ElementsAre("a", big, medium));
  EXPECT_EQ(std::string_view(batch[1].data() + big.size(), RecordBatch::kPadding),
            std::string(RecordBatch::kPadding, ' '));
}

TEST(RecordBatch, EmptyRecordIsPadded) {
  RecordBatch batch;
  batch.append("");
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0], "");
  EXPECT_GE(batch.readable(0), RecordBatch::kPadding);
}

TEST(RecordBatch, AdoptKeepsBufferAndPadsIt) {
  RecordBatch batch;
  const std::string_view page = batch.adopt(R"({"entry":[{"resource":{"id":"a"}}]})");
  EXPECT_EQ(page, R"({"entry":[{"resource":{"id":"a"}}]})");
  EXPECT_EQ(std::string_view(page.data() + page.size(), RecordBatch::kPadding),
            std::string(RecordBatch::kPadding, ' '));
  EXPECT_TRUE(batch.empty());  // adopting adds no record
}

TEST(RecordBatch, AppendViewIsZeroCopy) {
  RecordBatch batch;
  const std::string_view page = batch.adopt(R"([{"id":1},{"id":2}])");
  const std::string_view first = page.substr(1, 8);
  const std::string_view second = page.substr(10, 8);
  batch.append_view(first);
  batch.append_view(second);
  EXPECT_THAT(texts(batch), ElementsAre(R"({"id":1})", R"({"id":2})"));
  EXPECT_EQ(batch[0].data(), first.data());
  EXPECT_EQ(batch[1].data(), second.data());
  EXPECT_TRUE(inside(batch[0], page));
  EXPECT_EQ(batch.byte_size(), 16u);
  // Readable to the end of the padded buffer.
  EXPECT_EQ(batch.readable(0), page.size() - 1 + RecordBatch::kPadding);
  EXPECT_EQ(batch.readable(1), page.size() - 10 + RecordBatch::kPadding);
}

TEST(RecordBatch, AppendViewOfTheWholeBufferEndsAtThePadding) {
  RecordBatch batch;
  const std::string_view page = batch.adopt("{}");
  batch.append_view(page);
  EXPECT_EQ(batch.readable(0), 2 + RecordBatch::kPadding);
}

TEST(RecordBatch, AppendViewFindsOlderAdoptedBuffers) {
  RecordBatch batch;
  const std::string_view one = batch.adopt("[1]");
  const std::string_view two = batch.adopt("[2, 3]");
  batch.append_view(one.substr(1, 1));
  batch.append_view(two.substr(1, 1));
  EXPECT_THAT(texts(batch), ElementsAre("1", "2"));
  EXPECT_EQ(batch.readable(0), 2 + RecordBatch::kPadding);
  EXPECT_EQ(batch[0].data(), one.data() + 1);
}

TEST(RecordBatch, AdoptedBytesSurviveMovesAndMoreAdoptions) {
  RecordBatch batch;
  const std::string_view page = batch.adopt(std::string(1000, 'p'));
  const char* address = page.data();
  for (int i = 0; i < 100; ++i) batch.adopt("filler");  // grows the vector of buffers
  batch.append_view(page.substr(0, 10));
  RecordBatch moved = std::move(batch);
  EXPECT_EQ(moved[0].data(), address);
  EXPECT_EQ(moved[0], std::string(10, 'p'));
}

void expect_internal_error(RecordBatch& batch, std::string_view record) {
  try {
    batch.append_view(record);
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInternal);
    EXPECT_THAT(e.what(), HasSubstr("does not lie inside a buffer this batch adopted"));
  }
}

TEST(RecordBatch, AppendViewRejectsForeignMemory) {
  RecordBatch batch;
  const std::string foreign = R"({"id":1})";
  expect_internal_error(batch, foreign);  // nothing adopted yet
  batch.adopt("[1]");
  expect_internal_error(batch, foreign);
  expect_internal_error(batch, std::string_view());
  EXPECT_TRUE(batch.empty());
}

TEST(RecordBatch, AppendViewRejectsViewsRunningPastTheBuffer) {
  RecordBatch batch;
  const std::string_view page = batch.adopt("[1,2]");
  // Reaches into the padding: not part of the adopted text.
  expect_internal_error(batch, std::string_view(page.data() + 3, 5));
}

TEST(RecordBatch, ClearReleasesAdoptedBuffers) {
  RecordBatch batch;
  const std::string_view page = batch.adopt("[1]");
  batch.append_view(page.substr(1, 1));
  batch.clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.byte_size(), 0u);
  // The old buffer is gone, so its (dangling) views are no longer accepted.
  const std::string_view fresh = batch.adopt("[2]");
  if (fresh.data() != page.data()) {
    expect_internal_error(batch, page.substr(1, 1));
  }
}

// Empties this thread's buffers kept for reusable_buffer() (at most two).
void drop_reusable_buffers() {
  for (int i = 0; i < 3; ++i) RecordBatch::reusable_buffer(0);
}

TEST(RecordBatch, ClearKeepsLargeAdoptedBuffersForReusableBuffer) {
  drop_reusable_buffers();
  RecordBatch batch;
  std::string chunk = RecordBatch::reusable_buffer(1 << 20);
  ASSERT_EQ(chunk.size(), std::size_t{1} << 20);
  EXPECT_GE(chunk.capacity(), (std::size_t{1} << 20) + RecordBatch::kPadding);
  chunk.replace(0, 12, "{\"a\":1}\n    ");
  const char* memory = chunk.data();
  const std::string_view adopted = batch.adopt(std::move(chunk));
  EXPECT_EQ(adopted.data(), memory) << "room for the padding: adopt() does not reallocate";
  batch.append_view(adopted.substr(0, 7));
  batch.clear();

  // The next chunk reuses the memory at the size it had (not shrunk to the size asked for, so a
  // larger chunk after a smaller one writes no byte twice), with room for the padding.
  std::string next = RecordBatch::reusable_buffer(4000);
  EXPECT_EQ(next.data(), memory);
  EXPECT_EQ(next.size(), std::size_t{1} << 20);
  EXPECT_GE(next.capacity(), next.size() + RecordBatch::kPadding);
  // Handed out once.
  EXPECT_NE(RecordBatch::reusable_buffer(4000).data(), memory);
  // Its records are views again once adopted.
  next.replace(0, 7, "{\"b\":2}");
  const std::string_view again = batch.adopt(std::move(next));
  batch.append_view(again.substr(0, 7));
  EXPECT_EQ(batch[0], "{\"b\":2}");
}

TEST(RecordBatch, ReusableBuffersAreTheLargestTwoAndBigEnough) {
  drop_reusable_buffers();
  RecordBatch batch;
  std::vector<const char*> memory;
  for (std::size_t size :
       {std::size_t{100}, std::size_t{200} << 10, std::size_t{300} << 10, std::size_t{400} << 10}) {
    std::string buffer = RecordBatch::reusable_buffer(size);
    memory.push_back(buffer.data());
    batch.adopt(std::move(buffer));
  }
  batch.clear();
  // A request larger than any kept buffer gets new memory; the kept ones stay.
  const std::string large = RecordBatch::reusable_buffer(std::size_t{1} << 20);
  EXPECT_NE(large.data(), memory[2]);
  EXPECT_NE(large.data(), memory[3]);
  // The two largest are kept (not the small one, not the third largest), then none.
  const std::string a = RecordBatch::reusable_buffer(10);
  const std::string b = RecordBatch::reusable_buffer(10);
  EXPECT_THAT((std::vector<const char*>{a.data(), b.data()}),
              ::testing::UnorderedElementsAre(memory[2], memory[3]));
  EXPECT_LT(RecordBatch::reusable_buffer(10).capacity(), std::size_t{64} << 10);
}

TEST(RecordBatch, ReusableBuffersStayWithTheirThread) {
  drop_reusable_buffers();
  RecordBatch batch;
  std::string buffer = RecordBatch::reusable_buffer(std::size_t{1} << 20);
  const char* memory = buffer.data();
  batch.adopt(std::move(buffer));
  batch.clear();
  const char* other = nullptr;
  std::thread thread([&] { other = RecordBatch::reusable_buffer(10).data(); });
  thread.join();
  EXPECT_NE(other, memory);
  EXPECT_EQ(RecordBatch::reusable_buffer(10).data(), memory);
}

TEST(RecordBatch, MixesOwnedAndViewRecords) {
  RecordBatch batch;
  const std::string_view page = batch.adopt("[10,20]");
  batch.append_view(page.substr(1, 2));
  batch.append("30");
  batch.append_view(page.substr(4, 2));
  EXPECT_THAT(texts(batch), ElementsAre("10", "30", "20"));
  EXPECT_EQ(batch.byte_size(), 6u);
}

std::vector<std::vector<std::string>> drain(RecordStream& stream) {
  std::vector<std::vector<std::string>> batches;
  RecordBatch batch;
  while (stream.next(batch)) batches.push_back(texts(batch));
  EXPECT_TRUE(batch.empty());
  return batches;
}

TEST(RecordStream, DefaultStreamIsEmpty) {
  RecordStream stream;
  RecordBatch batch;
  batch.append("stale");
  EXPECT_FALSE(stream.next(batch));
  EXPECT_TRUE(batch.empty());
}

TEST(RecordStream, NextClearsTheBatchBeforePulling) {
  std::size_t seen_size = 99;
  RecordStream stream([&](RecordBatch& batch) {
    seen_size = batch.size();
    batch.append("1");
    return true;
  });
  RecordBatch batch;
  batch.append("stale");
  ASSERT_TRUE(stream.next(batch));
  EXPECT_EQ(seen_size, 0u);
  EXPECT_THAT(texts(batch), ElementsAre("1"));
}

TEST(RecordStream, SkipsEmptyBatchesAndStopsAtTheEnd) {
  int calls = 0;
  RecordStream stream([&](RecordBatch& batch) {
    ++calls;
    switch (calls) {
      case 1:
        batch.append("a");
        return true;
      case 2:
        batch.adopt("[]");  // an empty page
        return true;
      case 3:
        return true;
      case 4:
        batch.append("b");
        batch.append("c");
        return true;
      default:
        return false;
    }
  });
  EXPECT_THAT(drain(stream), ElementsAre(ElementsAre("a"), ElementsAre("b", "c")));
  EXPECT_EQ(calls, 5);
  RecordBatch batch;
  EXPECT_FALSE(stream.next(batch));  // stays exhausted
  EXPECT_EQ(calls, 5);               // without pulling again
}

TEST(RecordStream, RecordsAddedBeforeReturningFalseAreDropped) {
  RecordStream stream([](RecordBatch& batch) {
    batch.append("ignored");
    return false;
  });
  RecordBatch batch;
  EXPECT_FALSE(stream.next(batch));
  EXPECT_TRUE(batch.empty());
}

TEST(RecordStream, OfBatchYieldsItOnceWithoutCopying) {
  RecordBatch source;
  const std::string_view page = source.adopt("[1,2]");
  source.append_view(page.substr(1, 1));
  source.append_view(page.substr(3, 1));
  RecordStream stream = RecordStream::of(std::move(source));
  RecordBatch batch;
  ASSERT_TRUE(stream.next(batch));
  EXPECT_THAT(texts(batch), ElementsAre("1", "2"));
  EXPECT_EQ(batch[0].data(), page.data() + 1);
  EXPECT_FALSE(stream.next(batch));
  EXPECT_TRUE(batch.empty());
}

TEST(RecordStream, OfEmptyBatchYieldsNothing) {
  RecordStream stream = RecordStream::of(RecordBatch());
  EXPECT_TRUE(drain(stream).empty());
}

TEST(RecordStream, OfStringsYieldsOneBatch) {
  RecordStream stream = RecordStream::of(std::vector<std::string>{R"({"a":1})", R"({"a":2})"});
  EXPECT_THAT(drain(stream), ElementsAre(ElementsAre(R"({"a":1})", R"({"a":2})")));
}

TEST(RecordStream, OfNoStringsYieldsNothing) {
  RecordStream stream = RecordStream::of(std::vector<std::string>{});
  EXPECT_TRUE(drain(stream).empty());
}

TEST(RecordStream, PullErrorsPropagate) {
  RecordStream stream([](RecordBatch&) -> bool { throw SourceError("page 3 failed"); });
  RecordBatch batch;
  EXPECT_THROW(stream.next(batch), SourceError);
}

TEST(RecordBatch, AppendJsonArraySplitsABodyIntoViewsOfIt) {
  RecordBatch batch;
  const std::string_view body = batch.adopt(R"({"data": [ {"id":1,"a":[1,{"b":2}]} ,{"id":2}
        ], "has_more": false})");
  EXPECT_EQ(batch.append_json_array(body, "data"), 2u);
  EXPECT_THAT(texts(batch), ElementsAre(R"({"id":1,"a":[1,{"b":2}]})", R"({"id":2})"));
  for (std::size_t i = 0; i < batch.size(); ++i) {
    EXPECT_TRUE(inside(batch[i], body)) << "record " << i << " was copied";
    EXPECT_GE(batch.readable(i), batch[i].size() + RecordBatch::kPadding);
  }
  EXPECT_EQ(batch.byte_size(), batch[0].size() + batch[1].size());
}

TEST(RecordBatch, AppendJsonArayTakesABareArrayANestedPathAndNull) {
  RecordBatch batch;
  EXPECT_EQ(batch.append_json_array(batch.adopt(R"([{"id":1}])")), 1u);
  EXPECT_EQ(batch.append_json_array(batch.adopt(R"({"result":{"items":[{"id":2},{"id":3}]}})"),
                                    "result.items"),
            2u);
  EXPECT_EQ(batch.append_json_array(batch.adopt(R"({"data":null})"), "data"), 0u);
  EXPECT_EQ(batch.append_json_array(batch.adopt(R"({"data":[]})"), "data"), 0u);
  EXPECT_THAT(texts(batch), ElementsAre(R"({"id":1})", R"({"id":2})", R"({"id":3})"));
}

TEST(RecordBatch, AppendJsonArrayRejectsWhatIsNotAnArrayOfObjectsAndKeepsNoneOfIt) {
  const auto message = [](std::string body, std::string_view path) -> std::string {
    RecordBatch batch;
    batch.append(R"({"kept":true})");
    try {
      batch.append_json_array(batch.adopt(std::move(body)), path);
    } catch (const SourceError& e) {
      EXPECT_THAT(texts(batch), ElementsAre(R"({"kept":true})"));
      return e.what();
    }
    ADD_FAILURE() << "no error for " << path;
    return {};
  };
  EXPECT_THAT(message(R"({"items":[]})", "data"), HasSubstr("no 'data'"));
  EXPECT_THAT(message(R"({"data":{"id":1}})", "data"), HasSubstr("not a JSON array"));
  EXPECT_THAT(message(R"({"data":[{"id":1},2]})", "data"), HasSubstr("element 1"));
  EXPECT_THAT(message(R"([1])", "data"), HasSubstr("'data'"));
  EXPECT_THAT(message(R"({"data":[{"id":1},{"id":)", "data"), HasSubstr("not valid JSON"));
  EXPECT_THAT(message("<html>", ""), HasSubstr("the body"));
}

TEST(RecordBatch, AppendJsonArrayRefusesABufferTheBatchDidNotAdopt) {
  RecordBatch batch;
  const std::string body = R"([{"id":1}])" + std::string(RecordBatch::kPadding, ' ');
  EXPECT_THROW(batch.append_json_array(std::string_view(body).substr(0, 10)), Error);
  EXPECT_TRUE(batch.empty());
}

TEST(RecordStream, OfBatchesHandsOutEachBatchInOrderAndSkipsEmptyOnes) {
  std::vector<RecordBatch> pages(3);
  pages[0].append_json_array(pages[0].adopt(R"([{"id":1},{"id":2}])"));
  pages[2].append(R"({"id":3})");
  const std::string_view first = pages[0][0];
  RecordStream stream = RecordStream::of(std::move(pages));
  RecordBatch batch;
  ASSERT_TRUE(stream.next(batch));
  EXPECT_THAT(texts(batch), ElementsAre(R"({"id":1})", R"({"id":2})"));
  EXPECT_EQ(batch[0].data(), first.data());  // handed over, not copied
  ASSERT_TRUE(stream.next(batch));
  EXPECT_THAT(texts(batch), ElementsAre(R"({"id":3})"));
  EXPECT_FALSE(stream.next(batch));
  EXPECT_FALSE(stream.next(batch));
}

}  // namespace
}  // namespace lakeflow
