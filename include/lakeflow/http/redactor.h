// Secret redaction for every log line and error message the HTTP toolkit writes.
//
// One Redactor is shared by a client, its auth provider and its logger. It replaces with `***`:
//   * every registered secret value (option values a connector's `connector_spec.yaml` marks
//   secret,
//     tokens an auth provider minted), also in percent-encoded form;
//   * the value of an `Authorization` / `Proxy-Authorization` header, and `Bearer <token>` /
//     `Basic <credentials>` wherever they appear;
//   * values of sensitive keys in `key=value` (query strings, form bodies) and `"key": "value"`
//     (JSON) form: access_token, refresh_token, id_token, token, client_secret, client_assertion,
//     assertion, password, passwd, secret, api_key, apikey, api-key, x-api-key, authorization, and
//     any key added with `add_sensitive_key` (e.g. the parameter an API key travels in);
//   * the rest of a `Key: value` header line for Authorization, Proxy-Authorization, X-API-Key,
//     Api-Key and keys added with `add_sensitive_key`;
//   * anything shaped like a JWT (`eyJ...`), PEM private key blocks, and the password of
//     `scheme://user:password@host` URLs.
// Secret values shorter than 4 characters are not matched as plain text (they would turn ordinary
// words into `***`); the structural rules above still hide them in headers, queries and bodies.
//
// One Redactor per process: process_redactor() is the default of every HTTP client's context (so
// connectors' retry warnings and errors pass through it), and the pipeline runner and the CLI
// register a run's secrets with it and pass their own log lines, progress, errors and summaries
// through it. A secret registered anywhere is hidden everywhere in the process.
//
// Thread-safe: secrets may be added while other threads redact.
#pragma once

#include <initializer_list>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace lakeflow {
class Options;
}

namespace lakeflow::http {

class Redactor {
 public:
  static constexpr std::string_view kMask = "***";
  static constexpr std::size_t kMinSecretLength = 4;

  Redactor() = default;

  // Hides `value` from now on (ignored when shorter than kMinSecretLength).
  void add_secret(std::string_view value);
  // Hides the values of `keys` in `options` (those present), e.g. the keys `connector_spec.yaml`
  // marks `secret: true`.
  void add_secret_options(const Options& options, const std::vector<std::string>& keys);
  // Treats `key` (case-insensitive) as naming a secret in key=value, JSON and header form.
  void add_sensitive_key(std::string_view key);

  // `text` with every secret replaced by `***`.
  std::string redact(std::string_view text) const;
  // JSON text with every secret hidden and the text still valid JSON: each string is redacted on
  // its own (a `Key: value` header line inside a string ends with the string), and the string
  // value of a sensitive key (above) is `***`. For keeping whole response bodies, as cassettes do.
  std::string redact_json(std::string_view json) const;
  // At most `max_chars` characters of the redacted `text`, with a note of how much was cut; for
  // quoting response bodies in errors.
  std::string excerpt(std::string_view text, std::size_t max_chars = 300) const;

 private:
  mutable std::shared_mutex mutex_;
  std::vector<std::string> secrets_;         // longest first
  std::vector<std::string> sensitive_keys_;  // lower case
};

// The process's Redactor (see the header comment).
std::shared_ptr<Redactor> process_redactor();

}  // namespace lakeflow::http
