#include "pipeline/progress.h"

#include <gtest/gtest.h>

#include <string>

namespace lakeflow::pipeline {
namespace {

TableProgress reading() {
  TableProgress p;
  p.stage = TableProgress::Stage::kReading;
  p.destination = "main.default.obs";
  p.ingestion_type = "append";
  p.records = 1234567;
  p.bytes = 210'400'000;
  p.commits = 3;
  p.seconds = 2.5;
  p.offset = R"({"file":"obs.ndjson","position":210400000})";
  return p;
}

TEST(Progress, FormatsSizesAndCounts) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(999), "999 B");
  EXPECT_EQ(format_bytes(12'345), "12.3 kB");
  EXPECT_EQ(format_bytes(210'400'000), "210.4 MB");
  EXPECT_EQ(format_bytes(999'990'000), "1.0 GB");
  EXPECT_EQ(format_bytes(3'200'000'000), "3.2 GB");
  EXPECT_EQ(format_count(0), "0");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_count(1000), "1,000");
  EXPECT_EQ(format_count(1234567), "1,234,567");
}

TEST(Progress, FitWidthCutsByCodePointsWithAnEllipsis) {
  EXPECT_EQ(fit_width("abcdef", 6), "abcdef");
  EXPECT_EQ(fit_width("abcdef", 4), "abc\u2026");
  EXPECT_EQ(fit_width("h\u00e9llo w\u00f6rld", 5), "h\u00e9ll\u2026");
  EXPECT_EQ(fit_width("abc", 0), "");
  EXPECT_EQ(fit_width("abc", 1), "\u2026");
}

TEST(Progress, LiveLineWhileReading) {
  TableProgress p = reading();
  EXPECT_EQ(live_progress_line(p, 200),
            "main.default.obs  append  1,234,567 records  210.4 MB  84.2 MB/s  3 commits  at "
            R"({"file":"obs.ndjson","position":210400000})");
  p.quarantined = 12;
  p.commits = 1;
  EXPECT_EQ(live_progress_line(p, 200),
            "main.default.obs  append  1,234,567 records  210.4 MB  84.2 MB/s  12 quarantined  "
            R"(1 commit  at {"file":"obs.ndjson","position":210400000})");
  // Cut to the terminal's width.
  EXPECT_EQ(live_progress_line(p, 40), "main.default.obs  append  1,234,567 rec\u2026");
  p.seconds = 0;
  EXPECT_NE(live_progress_line(p, 200).find("-- MB/s"), std::string::npos);
}

TEST(Progress, LiveLineWhenDoneOrFailed) {
  TableProgress p = reading();
  p.stage = TableProgress::Stage::kDone;
  p.inserted = 1234567;
  p.updated = 2;
  p.deleted = 1;
  EXPECT_EQ(live_progress_line(p, 200),
            "main.default.obs  append  done  1,234,567 records  210.4 MB  2.50s  +1,234,567 ~2 -1  "
            "3 commits");
  TableProgress failed;
  failed.stage = TableProgress::Stage::kFailed;
  failed.destination = "main.default.obs";
  failed.error = "table 'x', record 3:\nexpected bigint";
  EXPECT_EQ(live_progress_line(failed, 200),
            "main.default.obs  FAILED: table 'x', record 3: expected bigint");
}

TEST(Progress, LogLineOfACommit) {
  TableProgress p = reading();
  p.stage = TableProgress::Stage::kCommitted;
  p.inserted = 1234560;
  p.quarantined = 7;
  EXPECT_EQ(progress_log_line(p),
            "[main.default.obs] committed 3 batches: 1,234,567 records, 210.4 MB (84.2 MB/s), "
            "+1,234,560 ~0 -0 rows, 7 quarantined, "
            R"(offset {"file":"obs.ndjson","position":210400000})");
  p.commits = 1;
  p.offset = std::string(300, 'x');
  const std::string line = progress_log_line(p);
  EXPECT_NE(line.find("committed 1 batch: "), std::string::npos) << line;
  EXPECT_EQ(line.substr(line.size() - 6), "xxx\u2026");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace lakeflow::pipeline
