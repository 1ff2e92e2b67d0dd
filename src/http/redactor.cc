#include "lakeflow/http/redactor.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "lakeflow/http/encoding.h"
#include "lakeflow/options.h"

namespace lakeflow::http {
namespace {

// Keys whose values are secrets wherever they appear, longest first so that `access_token` wins
// over `token` at the same position.
constexpr std::string_view kBuiltinKeys[] = {
    "proxy-authorization",
    "client_assertion",
    "authorization",
    "refresh_token",
    "client_secret",
    "access_token",
    "assertion",
    "x-api-key",
    "id_token",
    "password",
    "api_key",
    "api-key",
    "apikey",
    "passwd",
    "secret",
    "token",
};

// Texts longer than this are cut before redaction when only an excerpt is wanted.
constexpr std::size_t kMaxExcerptInput = 64 * 1024;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_alnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_key_char(char c) { return is_alnum(c) || c == '_' || c == '-'; }
bool is_base64url_char(char c) { return is_alnum(c) || c == '_' || c == '-'; }
// Characters of a bearer token or base64 credentials (RFC 6750 b64token).
bool is_token_char(char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' ||
         c == '=';
}
bool is_space(char c) { return c == ' ' || c == '\t'; }

bool iequals_at(std::string_view text, std::size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (lower(text[pos + i]) != word[i]) return false;
  }
  return true;
}

bool word_start(std::string_view text, std::size_t pos) {
  return pos == 0 || !is_key_char(text[pos - 1]);
}

void replace_all(std::string& text, std::string_view needle) {
  std::size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    text.replace(pos, needle.size(), Redactor::kMask);
    pos += Redactor::kMask.size();
  }
}

// The single pass that hides structurally recognisable secrets. Each matcher returns the position
// after what it consumed (having appended the redacted form to `out`), or npos when it does not
// apply at `i`.
class Scanner {
 public:
  Scanner(std::string_view text, const std::vector<std::string>& extra_keys)
      : s_(text), extra_keys_(extra_keys) {}

  std::string run() {
    out_.reserve(s_.size());
    std::size_t i = 0;
    while (i < s_.size()) {
      std::size_t next = std::string::npos;
      const char c = s_[i];
      if (c == '-') next = pem_block(i);
      if (next == std::string::npos && c == 'e') next = jwt(i);
      if (next == std::string::npos && c == ':') next = userinfo(i);
      if (next == std::string::npos && word_start(s_, i) && is_key_char(c)) {
        next = scheme_credentials(i);
        if (next == std::string::npos) next = sensitive_key(i);
      }
      if (next == std::string::npos) {
        out_ += c;
        ++i;
      } else {
        i = next;
      }
    }
    return std::move(out_);
  }

 private:
  std::size_t pem_block(std::size_t i) {
    if (s_.compare(i, 10, "-----BEGIN") != 0) return std::string::npos;
    const std::size_t line_end = s_.find("-----", i + 10);
    if (line_end == std::string::npos) return std::string::npos;
    if (s_.substr(i, line_end - i).find("PRIVATE KEY") == std::string::npos) {
      return std::string::npos;
    }
    out_ += Redactor::kMask;
    const std::size_t end = s_.find("-----END", line_end + 5);
    if (end == std::string::npos) return s_.size();
    const std::size_t close = s_.find("-----", end + 8);
    return close == std::string::npos ? s_.size() : close + 5;
  }

  // eyJ<b64url>.<b64url>.<b64url>[.<b64url>.<b64url>] (JWS or JWE compact form).
  std::size_t jwt(std::size_t i) {
    if (s_.compare(i, 3, "eyJ") != 0 || (i > 0 && is_base64url_char(s_[i - 1]))) {
      return std::string::npos;
    }
    std::size_t j = i;
    int segments = 0;
    for (;;) {
      const std::size_t start = j;
      while (j < s_.size() && is_base64url_char(s_[j])) ++j;
      ++segments;
      if (j == start && segments < 3) return std::string::npos;
      if (j < s_.size() && s_[j] == '.' && segments < 5) {
        ++j;
        continue;
      }
      break;
    }
    if (segments < 3) return std::string::npos;
    out_ += Redactor::kMask;
    return j;
  }

  // scheme://user:password@host → scheme://user:***@host
  std::size_t userinfo(std::size_t i) {
    if (s_.compare(i, 3, "://") != 0) return std::string::npos;
    const std::size_t start = i + 3;
    std::size_t j = start;
    std::size_t colon = std::string::npos;
    while (j < s_.size()) {
      const char c = s_[j];
      if (c == '@') break;
      if (c == '/' || c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
          c == '"' || c == '\'' || c == '<' || c == '>') {
        return std::string::npos;
      }
      if (c == ':' && colon == std::string::npos) colon = j;
      ++j;
    }
    if (j >= s_.size() || colon == std::string::npos) return std::string::npos;
    out_.append(s_.substr(i, colon + 1 - i));
    out_ += Redactor::kMask;
    out_ += '@';
    return j + 1;
  }

  // `Bearer <token>` and `Basic <credentials>`: the token is masked when it is at least 8
  // characters and not a plain lower-case word (`Basic authentication` stays readable).
  std::size_t scheme_credentials(std::size_t i) {
    std::size_t j;
    if (iequals_at(s_, i, "bearer ")) {
      j = i + 7;
    } else if (iequals_at(s_, i, "basic ")) {
      j = i + 6;
    } else {
      return std::string::npos;
    }
    const std::size_t scheme_end = j;
    while (j < s_.size() && is_space(s_[j])) ++j;
    const std::size_t token_start = j;
    bool plain_word = true;
    while (j < s_.size() && is_token_char(s_[j])) {
      if (!(s_[j] >= 'a' && s_[j] <= 'z')) plain_word = false;
      ++j;
    }
    if (j - token_start < 8 || plain_word) return std::string::npos;
    out_.append(s_.substr(i, scheme_end - i));
    out_ += Redactor::kMask;
    return j;
  }

  std::size_t sensitive_key(std::size_t i) {
    std::size_t key_length = 0;
    bool header_key = false;  // `Key: value` is a header line only for these
    for (std::string_view key : kBuiltinKeys) {
      if (iequals_at(s_, i, key)) {
        key_length = key.size();
        header_key = key.find("authorization") != std::string_view::npos ||
                     key.find("api-key") != std::string_view::npos;
        break;
      }
    }
    for (const std::string& key : extra_keys_) {
      if (key.size() > key_length && iequals_at(s_, i, key)) {
        key_length = key.size();
        header_key = true;
      }
    }
    if (key_length == 0) return std::string::npos;
    std::size_t j = i + key_length;
    if (j < s_.size() && is_key_char(s_[j])) return std::string::npos;
    if (j >= s_.size()) return std::string::npos;

    std::size_t value_start;
    std::size_t value_end;
    if (s_[j] == '"' || s_[j] == '\'') {
      // "key": "value" or 'key': 'value'
      std::size_t k = j + 1;
      while (k < s_.size() && is_space(s_[k])) ++k;
      if (k >= s_.size() || s_[k] != ':') return std::string::npos;
      ++k;
      while (k < s_.size() && (is_space(s_[k]) || s_[k] == '\r' || s_[k] == '\n')) ++k;
      if (k < s_.size() && (s_[k] == '"' || s_[k] == '\'')) {
        value_start = k + 1;
        value_end = string_end(value_start, s_[k]);
      } else {
        value_start = k;
        value_end = k;
        while (value_end < s_.size() && s_[value_end] != ',' && s_[value_end] != '}' &&
               s_[value_end] != ']' && !is_space(s_[value_end]) && s_[value_end] != '\n') {
          ++value_end;
        }
      }
    } else if (s_[j] == '=') {
      value_start = j + 1;
      value_end = value_start;
      while (value_end < s_.size()) {
        const char c = s_[value_end];
        if (c == '&' || is_space(c) || c == '\r' || c == '\n' || c == '"' || c == '\'' ||
            c == '<' || c == '>' || c == ',' || c == ';' || c == ')') {
          break;
        }
        ++value_end;
      }
    } else if (s_[j] == ':') {
      std::size_t k = j + 1;
      while (k < s_.size() && is_space(s_[k])) ++k;
      if (k < s_.size() && (s_[k] == '"' || s_[k] == '\'')) {
        value_start = k + 1;
        value_end = string_end(value_start, s_[k]);
      } else if (header_key) {
        value_start = k;
        value_end = k;
        while (value_end < s_.size() && s_[value_end] != '\r' && s_[value_end] != '\n') {
          ++value_end;
        }
      } else {
        return std::string::npos;
      }
    } else {
      return std::string::npos;
    }
    if (value_end <= value_start) return std::string::npos;
    out_.append(s_.substr(i, value_start - i));
    out_ += Redactor::kMask;
    return value_end;
  }

  // Position of the closing `quote` of a string starting at `start` (backslash escapes skipped),
  // or the end of the text.
  std::size_t string_end(std::size_t start, char quote) const {
    std::size_t k = start;
    while (k < s_.size() && s_[k] != quote) {
      if (s_[k] == '\\') ++k;
      ++k;
    }
    return std::min(k, s_.size());
  }

  std::string_view s_;
  const std::vector<std::string>& extra_keys_;
  std::string out_;
};

}  // namespace

void Redactor::add_secret(std::string_view value) {
  if (value.size() < kMinSecretLength) return;
  std::unique_lock lock(mutex_);
  for (std::string form : {std::string(value), percent_encode(value), form_urlencode(value)}) {
    if (std::find(secrets_.begin(), secrets_.end(), form) == secrets_.end()) {
      secrets_.push_back(std::move(form));
    }
  }
  std::stable_sort(secrets_.begin(), secrets_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void Redactor::add_secret_options(const Options& options, const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    if (auto value = options.find(key)) add_secret(*value);
  }
}

void Redactor::add_sensitive_key(std::string_view key) {
  if (key.empty()) return;
  std::string lowered;
  for (char c : key) lowered += lower(c);
  std::unique_lock lock(mutex_);
  if (std::find(sensitive_keys_.begin(), sensitive_keys_.end(), lowered) == sensitive_keys_.end()) {
    sensitive_keys_.push_back(std::move(lowered));
  }
}

std::string Redactor::redact(std::string_view text) const {
  std::shared_lock lock(mutex_);
  std::string literal(text);
  for (const std::string& secret : secrets_) replace_all(literal, secret);
  return Scanner(literal, sensitive_keys_).run();
}

std::string Redactor::redact_json(std::string_view json) const {
  std::string out;
  out.reserve(json.size());
  bool mask_next_string = false;
  std::size_t i = 0;
  while (i < json.size()) {
    if (json[i] != '"') {
      if (json[i] == ',' || json[i] == '{' || json[i] == '[') mask_next_string = false;
      out += json[i++];
      continue;
    }
    std::size_t end = i + 1;
    while (end < json.size() && json[end] != '"') end += json[end] == '\\' ? 2 : 1;
    end = std::min(end, json.size());
    const std::string_view content = json.substr(i + 1, end - i - 1);
    std::size_t after = end + 1;
    while (after < json.size() &&
           (is_space(json[after]) || json[after] == '\n' || json[after] == '\r')) {
      ++after;
    }
    const bool is_key = after < json.size() && json[after] == ':';
    out += '"';
    if (!is_key && mask_next_string) {
      out += kMask;
    } else {
      out += redact(content);
    }
    if (end < json.size()) out += '"';
    if (is_key) {
      std::string key;
      for (char c : content) key += lower(c);
      std::shared_lock lock(mutex_);
      mask_next_string =
          std::find(std::begin(kBuiltinKeys), std::end(kBuiltinKeys), key) !=
              std::end(kBuiltinKeys) ||
          std::find(sensitive_keys_.begin(), sensitive_keys_.end(), key) != sensitive_keys_.end();
    } else {
      mask_next_string = false;
    }
    i = end + 1;
  }
  return out;
}

std::shared_ptr<Redactor> process_redactor() {
  static const std::shared_ptr<Redactor> redactor = std::make_shared<Redactor>();
  return redactor;
}

std::string Redactor::excerpt(std::string_view text, std::size_t max_chars) const {
  const std::size_t total = text.size();
  std::string shown = redact(text.substr(0, kMaxExcerptInput));
  for (char& c : shown) {
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  }
  if (shown.size() <= max_chars && total <= kMaxExcerptInput) return shown;
  std::size_t cut = std::min(max_chars, shown.size());
  // Do not split a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xC0) == 0x80) --cut;
  shown.resize(cut);
  shown += fmt::format("... ({} bytes in all)", total);
  return shown;
}

}  // namespace lakeflow::http
