// A buffered std::streambuf over a file descriptor that remembers why a write failed, so the CLI
// can tell a closed pipe (stop quietly) from a real output error (report it).
#pragma once

#include <cstddef>
#include <streambuf>
#include <vector>

namespace lakeflow::cli {

class FdStreambuf : public std::streambuf {
 public:
  explicit FdStreambuf(int fd, std::size_t capacity = std::size_t{1} << 16);
  ~FdStreambuf() override;
  FdStreambuf(const FdStreambuf&) = delete;
  FdStreambuf& operator=(const FdStreambuf&) = delete;

  // errno of the first failed write (EPIPE when the reader went away), 0 while writes succeed.
  // Once a write failed, every later write fails too.
  int error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override;
  std::streamsize xsputn(const char* data, std::streamsize size) override;
  int sync() override;

 private:
  bool flush_buffer();
  bool write_all(const char* data, std::size_t size);

  int fd_;
  std::vector<char> buffer_;
  int error_ = 0;
};

}  // namespace lakeflow::cli
