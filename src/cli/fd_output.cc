#include "cli/fd_output.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lakeflow::cli {

FdStreambuf::FdStreambuf(int fd, std::size_t capacity) : fd_(fd), buffer_(capacity) {
  setp(buffer_.data(), buffer_.data() + buffer_.size());
}

FdStreambuf::~FdStreambuf() { flush_buffer(); }

FdStreambuf::int_type FdStreambuf::overflow(int_type ch) {
  if (!flush_buffer()) return traits_type::eof();
  if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
  *pptr() = traits_type::to_char_type(ch);
  pbump(1);
  return ch;
}

std::streamsize FdStreambuf::xsputn(const char* data, std::streamsize size) {
  const auto n = static_cast<std::size_t>(size);
  if (error_ != 0) return 0;
  if (n <= static_cast<std::size_t>(epptr() - pptr())) {
    std::memcpy(pptr(), data, n);
    pbump(static_cast<int>(n));
    return size;
  }
  if (!flush_buffer()) return 0;
  if (n >= buffer_.size()) return write_all(data, n) ? size : 0;
  std::memcpy(pptr(), data, n);
  pbump(static_cast<int>(n));
  return size;
}

int FdStreambuf::sync() { return flush_buffer() ? 0 : -1; }

bool FdStreambuf::flush_buffer() {
  const auto pending = static_cast<std::size_t>(pptr() - pbase());
  setp(buffer_.data(), buffer_.data() + buffer_.size());
  if (error_ != 0) return false;
  return pending == 0 || write_all(buffer_.data(), pending);
}

bool FdStreambuf::write_all(const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t written = ::write(fd_, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      error_ = errno;
      return false;
    }
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  return true;
}

}  // namespace lakeflow::cli
