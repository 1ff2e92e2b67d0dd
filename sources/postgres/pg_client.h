// A thin RAII layer over libpq: one connection, parameterized queries, results read in text
// format, and errors that say what failed without ever showing the password.
//
// The connection parameters come from the connector's options (see connector_spec.yaml) and go to
// libpq as keyword/value pairs (PQconnectdbParams), never as a connection string, so no value
// needs quoting and nothing secret is ever formatted into text. Every session is set to the
// forms the value codecs read: DateStyle ISO, IntervalStyle iso_8601, TimeZone UTC,
// bytea_output hex, extra_float_digits 1 (shortest exact floats).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/options.h"

namespace lakeflow::postgres {

// How to reach the server: the libpq keywords the connector accepts, with their values.
struct ConnectionSettings {
  std::vector<std::pair<std::string, std::string>> params;  // keyword → value (password included)
  std::string description;                                  // "user@host:port/database", no secret

  // Reads host, port, database, user, password, sslmode, sslrootcert, sslcert, sslkey,
  // sslcrl, connect_timeout and application_name from the connector options. Throws ConfigError
  // naming a missing or bad option.
  static ConnectionSettings from_options(const Options& options);
};

// A result of one query: text values by row and column.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result, &PQclear) {}
  int rows() const { return PQntuples(result_.get()); }
  int columns() const { return PQnfields(result_.get()); }
  bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string_view value(int row, int column) const {
    return {PQgetvalue(result_.get(), row, column),
            static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
  }
  std::string text(int row, int column) const { return std::string(value(row, column)); }
  PGresult* get() const { return result_.get(); }

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

class PgConnection {
 public:
  // Connects (a replication=database connection with `replication`). Throws AccessError-coded
  // SourceError when the server rejects the credentials, SourceError otherwise.
  PgConnection(const ConnectionSettings& settings, bool replication = false);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs `sql` with text parameters (nullopt = SQL NULL) and returns its rows. Throws SourceError
  // with `what` (e.g. "reading public.items") and the server's message on failure.
  PgResult query(std::string_view what, const std::string& sql,
                 const std::vector<std::optional<std::string>>& params = {});
  // Runs a statement without rows (BEGIN, SET ...).
  void exec(std::string_view what, const std::string& sql);

  // Streams the rows of `sql` one at a time (libpq's single-row mode): `next` returns false after
  // the last row. `cancel` stops a query whose remaining rows are not wanted.
  void start_rows(std::string_view what, const std::string& sql,
                  const std::vector<std::optional<std::string>>& params = {});
  std::optional<PgResult> next_row();
  void cancel_rows();

  PGconn* get() const { return conn_; }
  const std::string& description() const { return description_; }

 private:
  [[noreturn]] void fail(std::string_view what, const PGresult* result) const;
  PGconn* conn_ = nullptr;
  std::string description_;
  std::string streaming_what_;
  bool streaming_ = false;
};

// An SQL identifier, quoted ("public"."My Table").
std::string quote_ident(std::string_view name);
// A schema-qualified relation name, each part quoted.
std::string quote_relation(std::string_view schema, std::string_view name);
// An SQL string literal, for the replication protocol's commands (which take no parameters).
std::string quote_literal(std::string_view text);

// LSNs: PostgreSQL's text form `X/Y` (two hex numbers) to a number and back. parse_lsn throws
// ConfigError naming `what` for anything else.
std::uint64_t parse_lsn(std::string_view text, std::string_view what);
std::string format_lsn(std::uint64_t lsn);

}  // namespace lakeflow::postgres
