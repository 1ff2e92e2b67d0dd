#include "pgoutput.h"

#include <fmt/format.h>

#include "lakeflow/error.h"

namespace lakeflow::postgres {
namespace {

// Big-endian reads over one message, failing on a short message.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  std::uint8_t byte() {
    need(1);
    return static_cast<std::uint8_t>(data_[pos_++]);
  }
  std::uint64_t uint(int bytes) {
    need(static_cast<std::size_t>(bytes));
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value = (value << 8) | static_cast<std::uint8_t>(data_[pos_++]);
    return value;
  }
  std::string_view string() {  // NUL-terminated
    const std::size_t end = data_.find('\0', pos_);
    if (end == std::string_view::npos) malformed();
    std::string_view value = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return value;
  }
  std::string_view bytes(std::size_t n) {
    need(n);
    std::string_view value = data_.substr(pos_, n);
    pos_ += n;
    return value;
  }
  bool done() const { return pos_ >= data_.size(); }
  [[noreturn]] void malformed() const {
    throw SourceError(fmt::format(
        "postgres: a pgoutput message (type '{}', {} bytes) is malformed; this is a bug or an "
        "unsupported server version: report it with the server's version",
        data_.empty() ? '?' : data_[0], data_.size()));
  }

 private:
  void need(std::size_t n) const {
    if (pos_ + n > data_.size()) malformed();
  }
  std::string_view data_;
  std::size_t pos_ = 0;
};

std::vector<TupleValue> read_tuple(Reader& in) {
  const std::uint64_t count = in.uint(2);
  std::vector<TupleValue> values(count);
  for (TupleValue& value : values) {
    switch (in.byte()) {
      case 'n':
        value.kind = TupleValue::Kind::kNull;
        break;
      case 'u':
        value.kind = TupleValue::Kind::kUnchangedToast;
        break;
      case 't':
        value.kind = TupleValue::Kind::kText;
        value.text = in.bytes(in.uint(4));
        break;
      default:
        in.malformed();
    }
  }
  return values;
}

}  // namespace

PgOutputMessage decode_pgoutput(std::string_view data) {
  Reader in(data);
  PgOutputMessage message;
  switch (in.byte()) {
    case 'B':
      message.type = PgOutputMessage::MessageType::kBegin;
      message.lsn = in.uint(8);  // final LSN; then commit time and xid
      break;
    case 'C':
      message.type = PgOutputMessage::MessageType::kCommit;
      in.byte();                 // flags
      message.lsn = in.uint(8);  // the commit's LSN; then the end LSN and commit time
      break;
    case 'R': {
      message.type = PgOutputMessage::MessageType::kRelation;
      message.relation = static_cast<std::uint32_t>(in.uint(4));
      message.schema = std::string(in.string());
      message.name = std::string(in.string());
      message.replica_identity = static_cast<char>(in.byte());
      const std::uint64_t count = in.uint(2);
      for (std::uint64_t i = 0; i < count; ++i) {
        RelationColumn column;
        column.key = (in.byte() & 1) != 0;
        column.name = std::string(in.string());
        column.type_oid = static_cast<std::uint32_t>(in.uint(4));
        column.typmod = static_cast<int>(static_cast<std::int32_t>(in.uint(4)));
        message.columns.push_back(std::move(column));
      }
      break;
    }
    case 'I':
      message.type = PgOutputMessage::MessageType::kInsert;
      message.relation = static_cast<std::uint32_t>(in.uint(4));
      if (in.byte() != 'N') in.malformed();
      message.new_tuple = read_tuple(in);
      break;
    case 'U': {
      message.type = PgOutputMessage::MessageType::kUpdate;
      message.relation = static_cast<std::uint32_t>(in.uint(4));
      char kind = static_cast<char>(in.byte());
      if (kind == 'K' || kind == 'O') {
        message.old_kind = kind;
        message.old_tuple = read_tuple(in);
        kind = static_cast<char>(in.byte());
      }
      if (kind != 'N') in.malformed();
      message.new_tuple = read_tuple(in);
      break;
    }
    case 'D': {
      message.type = PgOutputMessage::MessageType::kDelete;
      message.relation = static_cast<std::uint32_t>(in.uint(4));
      const char kind = static_cast<char>(in.byte());
      if (kind != 'K' && kind != 'O') in.malformed();
      message.old_kind = kind;
      message.old_tuple = read_tuple(in);
      break;
    }
    case 'T': {
      message.type = PgOutputMessage::MessageType::kTruncate;
      const std::uint64_t count = in.uint(4);
      in.byte();  // options (CASCADE, RESTART IDENTITY)
      for (std::uint64_t i = 0; i < count; ++i) {
        message.truncated.push_back(static_cast<std::uint32_t>(in.uint(4)));
      }
      break;
    }
    default:
      message.type = PgOutputMessage::MessageType::kOther;
      break;
  }
  return message;
}

}  // namespace lakeflow::postgres
