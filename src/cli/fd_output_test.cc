#include "cli/fd_output.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <ostream>
#include <string>

namespace lakeflow::cli {
namespace {

std::string read_all(int fd) {
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, n);
  return text;
}

TEST(FdStreambuf, WritesEverythingOnFlush) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  {
    FdStreambuf buffer(fds[1], 8);  // smaller than the writes: exercises every path
    std::ostream out(&buffer);
    out << "a" << std::string(20, 'b') << 'c' << "def";
    out.flush();
    EXPECT_TRUE(out.good());
    EXPECT_EQ(buffer.error(), 0);
  }
  close(fds[1]);
  EXPECT_EQ(read_all(fds[0]), "a" + std::string(20, 'b') + "cdef");
  close(fds[0]);
}

TEST(FdStreambuf, ClosedPipeFailsTheStreamWithEpipe) {
  std::signal(SIGPIPE, SIG_IGN);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  FdStreambuf buffer(fds[1]);
  std::ostream out(&buffer);
  out << "record\n";
  EXPECT_TRUE(out.good());  // still buffered
  out.flush();
  EXPECT_FALSE(out.good());
  EXPECT_EQ(buffer.error(), EPIPE);
  out.clear();
  out << "more\n" << std::flush;
  EXPECT_FALSE(out.good());  // once failed, always failed
  close(fds[1]);
}

}  // namespace
}  // namespace lakeflow::cli
