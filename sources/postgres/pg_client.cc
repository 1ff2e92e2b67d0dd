#include "pg_client.h"

#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <string>
#include <utility>

#include "lakeflow/error.h"
#include "lakeflow/text.h"

namespace lakeflow::postgres {
namespace {

// The server refused the credentials or a permission: configuration, not a transient failure.
class PgAccessError : public SourceError {
 public:
  explicit PgAccessError(std::string message)
      : SourceError(ErrorCode::kAccess, std::move(message)) {}
};

// The session settings every value codec relies on (pg_values.h).
constexpr const char* kSessionOptions =
    "-c DateStyle=ISO,MDY -c IntervalStyle=iso_8601 -c TimeZone=UTC -c bytea_output=hex "
    "-c extra_float_digits=1 -c client_encoding=UTF8";

std::string trimmed(const char* message) {
  return std::string(text::trim(message == nullptr ? "" : message));
}

// SQLSTATE classes that mean "not allowed": 28 (invalid authorization), 42501 (privilege).
bool is_access_state(std::string_view state) { return state.starts_with("28") || state == "42501"; }

}  // namespace

ConnectionSettings ConnectionSettings::from_options(const Options& options) {
  ConnectionSettings settings;
  const std::string host = options.get_string("host");
  const std::int64_t port = options.get_int("port", 5432, 1, 65535);
  const std::string database = options.get_string("database");
  const std::string user = options.get_string("user");
  settings.params = {{"host", host},
                     {"port", std::to_string(port)},
                     {"dbname", database},
                     {"user", user},
                     {"options", kSessionOptions},
                     {"application_name", options.get_string("application_name", "lakeflow")}};
  if (auto password = options.find("password")) settings.params.emplace_back("password", *password);
  settings.params.emplace_back("sslmode", options.get_enum("sslmode",
                                                           {"disable", "allow", "prefer", "require",
                                                            "verify-ca", "verify-full"},
                                                           "prefer"));
  for (const char* key : {"sslrootcert", "sslcert", "sslkey", "sslcrl"}) {
    if (auto value = options.find(key)) settings.params.emplace_back(key, *value);
  }
  settings.params.emplace_back("connect_timeout",
                               std::to_string(options.get_int("connect_timeout", 30, 1, 3600)));
  // libpq reads PGPASSWORD, PGSERVICE etc. from the environment only for keywords not given; a
  // missing password stays missing (the server then says a password is needed).
  settings.description = fmt::format("{}@{}:{}/{}", user, host, port, database);
  return settings;
}

PgConnection::PgConnection(const ConnectionSettings& settings, bool replication)
    : description_(settings.description) {
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (const auto& [key, value] : settings.params) {
    keys.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  if (replication) {
    keys.push_back("replication");
    values.push_back("database");
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/0);
  if (conn_ == nullptr) throw SourceError("postgres: out of memory creating a connection");
  if (PQstatus(conn_) != CONNECTION_OK) {
    // libpq's messages name host, port and user, never the password.
    const std::string message = trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    const bool refused = message.find("password authentication failed") != std::string::npos ||
                         message.find("no password supplied") != std::string::npos ||
                         message.find("pg_hba.conf") != std::string::npos ||
                         message.find("permission denied") != std::string::npos ||
                         message.find("does not exist") != std::string::npos;
    const std::string text = fmt::format(
        "postgres: cannot connect to {}: {}; check the options host, port, database, "
        "user, password and sslmode",
        description_, message);
    if (refused) throw PgAccessError(text);
    throw SourceError(text);
  }
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

void PgConnection::fail(std::string_view what, const PGresult* result) const {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string message =
      trimmed(result ? PQresultErrorMessage(result) : PQerrorMessage(conn_));
  const std::string text = fmt::format("postgres: {} failed on {}: {}", what, description_,
                                       message.empty() ? trimmed(PQerrorMessage(conn_)) : message);
  if (state != nullptr && is_access_state(state)) {
    throw PgAccessError(text + " (grant the user the privilege named, or use another user)");
  }
  throw SourceError(text);
}

PgResult PgConnection::query(std::string_view what, const std::string& sql,
                             const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  // Without parameters, the simple query protocol: replication connections accept only that.
  PgResult result(params.empty() ? PQexec(conn_, sql.c_str())
                                 : PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                                                nullptr, values.data(), nullptr, nullptr, 0));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) fail(what, result.get());
  return result;
}

void PgConnection::exec(std::string_view what, const std::string& sql) {
  PgResult result(PQexec(conn_, sql.c_str()));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) fail(what, result.get());
}

void PgConnection::start_rows(std::string_view what, const std::string& sql,
                              const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  if (PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                        nullptr, nullptr, 0) == 0) {
    fail(what, nullptr);
  }
  if (PQsetSingleRowMode(conn_) == 0) fail(what, nullptr);
  streaming_ = true;
  streaming_what_ = std::string(what);
}

std::optional<PgResult> PgConnection::next_row() {
  while (streaming_) {
    PGresult* raw = PQgetResult(conn_);
    if (raw == nullptr) {
      streaming_ = false;
      break;
    }
    PgResult result(raw);
    switch (PQresultStatus(raw)) {
      case PGRES_SINGLE_TUPLE:
        return result;
      case PGRES_TUPLES_OK:
      case PGRES_COMMAND_OK:
        continue;  // the end marker; PQgetResult returns nullptr next
      default: {
        // Drain what is left so the connection stays usable, then report.
        while (PGresult* rest = PQgetResult(conn_)) PQclear(rest);
        streaming_ = false;
        fail(streaming_what_, raw);
      }
    }
  }
  return std::nullopt;
}

void PgConnection::cancel_rows() {
  if (!streaming_) return;
  if (PGcancel* cancel = PQgetCancel(conn_)) {
    char error[256];
    PQcancel(cancel, error, sizeof(error));
    PQfreeCancel(cancel);
  }
  while (PGresult* rest = PQgetResult(conn_)) PQclear(rest);
  streaming_ = false;
}

std::string quote_ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string quote_relation(std::string_view schema, std::string_view name) {
  return quote_ident(schema) + "." + quote_ident(name);
}

std::string quote_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::uint64_t parse_lsn(std::string_view text, std::string_view what) {
  const std::size_t slash = text.find('/');
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  const auto bad = [&] {
    return ConfigError(
        fmt::format("{}: expected an LSN such as '0/16B3748', got '{}'", what, text));
  };
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) throw bad();
  const char* end_high = text.data() + slash;
  auto [p1, e1] = std::from_chars(text.data(), end_high, high, 16);
  auto [p2, e2] = std::from_chars(end_high + 1, text.data() + text.size(), low, 16);
  if (e1 != std::errc() || p1 != end_high || e2 != std::errc() || p2 != text.data() + text.size() ||
      high > 0xffffffffULL || low > 0xffffffffULL) {
    throw bad();
  }
  return (high << 32) | low;
}

std::string format_lsn(std::uint64_t lsn) {
  return fmt::format("{:X}/{:X}", lsn >> 32, lsn & 0xffffffffULL);
}

}  // namespace lakeflow::postgres
