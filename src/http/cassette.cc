// Cassettes in upstream's JSON layout (see lakeflow/http/test_mode.h).
#include <fmt/format.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "lakeflow/files.h"
#include "lakeflow/http/encoding.h"
#include "lakeflow/http/test_mode.h"
#include "lakeflow/json.h"

namespace lakeflow::http {
namespace {

bool is_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    if (c < 0x80) {
      extra = 0;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      extra = 1;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      extra = 3;
    } else {
      return false;
    }
    if (extra > 0 && i + extra >= text.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

JsonValue headers_json(const Headers& headers) {
  JsonValue::Object object;
  for (const auto& [name, value] : headers) {
    auto [it, inserted] = object.emplace(name, JsonValue(value));
    if (!inserted) it->second = JsonValue(it->second.as_string() + ", " + value);
  }
  return JsonValue(std::move(object));
}

Headers headers_from(const JsonValue* value, std::string_view what) {
  Headers headers;
  if (value == nullptr || value->is_null()) return headers;
  if (!value->is_object())
    throw ConfigError(fmt::format("{}: headers must be a JSON object", what));
  for (const auto& [name, v] : value->as_object()) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    headers.emplace_back(std::move(lower), v.is_string() ? v.as_string() : v.dump());
  }
  return headers;
}

JsonValue query_json(const std::vector<std::pair<std::string, std::string>>& query) {
  JsonValue::Object object;
  for (const auto& [name, value] : query) {
    auto it = object.find(name);
    if (it == object.end()) {
      object.emplace(name, JsonValue(value));
    } else if (it->second.is_array()) {
      it->second.as_array().emplace_back(value);
    } else {
      it->second = JsonValue(JsonValue::Array{it->second, JsonValue(value)});
    }
  }
  return JsonValue(std::move(object));
}

std::string optional_string(const JsonValue& object, std::string_view key) {
  const JsonValue* value = object.find(key);
  return value != nullptr && value->is_string() ? value->as_string() : std::string();
}

// Indented JSON: diffable in review, as upstream's cassettes are.
void write_indented(const JsonValue& value, std::string& out, int depth) {
  const std::string pad(static_cast<std::size_t>(depth + 1) * 2, ' ');
  const std::string close(static_cast<std::size_t>(depth) * 2, ' ');
  if (value.is_object() && !value.as_object().empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& [key, item] : value.as_object()) {
      if (!first) out += ",\n";
      first = false;
      out += pad;
      append_json_string(out, key, false);
      out += ": ";
      write_indented(item, out, depth + 1);
    }
    out += "\n" + close + "}";
  } else if (value.is_array() && !value.as_array().empty()) {
    out += "[\n";
    bool first = true;
    for (const JsonValue& item : value.as_array()) {
      if (!first) out += ",\n";
      first = false;
      out += pad;
      write_indented(item, out, depth + 1);
    }
    out += "\n" + close + "]";
  } else if (value.is_string()) {
    append_json_string(out, value.as_string(), false);
  } else {
    out += value.dump();
  }
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

SplitUrl split_url(std::string_view url) {
  SplitUrl split;
  const std::size_t hash = url.find('#');
  if (hash != std::string_view::npos) url = url.substr(0, hash);
  const std::size_t question = url.find('?');
  split.base = std::string(url.substr(0, question));
  if (question == std::string_view::npos) return split;
  std::string_view rest = url.substr(question + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    split.query.emplace_back(
        percent_decode(pair.substr(0, eq), true),
        eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true));
  }
  return split;
}

Cassette Cassette::load(const std::string& path) {
  const JsonValue root = JsonValue::parse(files::read_file(path, "cassette"), path);
  const JsonValue* version = root.is_object() ? root.find("version") : nullptr;
  if (version == nullptr || !version->is_int() || version->as_int() != 1) {
    throw ConfigError(fmt::format(
        "cassette '{}': expected a JSON object with \"version\": 1 (upstream's layout); record it "
        "again with LAKEFLOW_TEST_MODE=record",
        path));
  }
  Cassette cassette;
  cassette.source = optional_string(root, "source");
  const JsonValue* interactions = root.find("interactions");
  if (interactions == nullptr || !interactions->is_array()) {
    throw ConfigError(fmt::format("cassette '{}': \"interactions\" must be an array", path));
  }
  std::size_t index = 0;
  for (const JsonValue& item : interactions->as_array()) {
    const std::string what = fmt::format("cassette '{}', interaction {}", path, index++);
    const JsonValue* request = item.is_object() ? item.find("request") : nullptr;
    const JsonValue* response = item.is_object() ? item.find("response") : nullptr;
    if (request == nullptr || response == nullptr || !request->is_object() ||
        !response->is_object()) {
      throw ConfigError(fmt::format("{}: needs \"request\" and \"response\" objects", what));
    }
    Interaction interaction;
    RecordedRequest& req = interaction.request;
    req.method = optional_string(*request, "method");
    req.url = optional_string(*request, "url");
    if (const JsonValue* query = request->find("query"); query != nullptr && query->is_object()) {
      for (const auto& [name, value] : query->as_object()) {
        if (value.is_array()) {
          for (const JsonValue& v : value.as_array()) {
            req.query.emplace_back(name, v.is_string() ? v.as_string() : v.dump());
          }
        } else {
          req.query.emplace_back(name, value.is_string() ? value.as_string() : value.dump());
        }
      }
    }
    if (const JsonValue* sha = request->find("body_sha256"); sha != nullptr && sha->is_string()) {
      req.body_sha256 = sha->as_string();
    }
    req.headers = headers_from(request->find("headers"), what);
    if (const JsonValue* text = request->find("body_text"); text != nullptr && text->is_string()) {
      req.body_text = text->as_string();
    }
    RecordedResponse& res = interaction.response;
    const JsonValue* status = response->find("status_code");
    if (status == nullptr || !status->is_int()) {
      throw ConfigError(fmt::format("{}: response.status_code must be an integer", what));
    }
    res.status_code = static_cast<int>(status->as_int());
    res.headers = headers_from(response->find("headers"), what);
    if (const JsonValue* text = response->find("body_text"); text != nullptr && text->is_string()) {
      res.body = text->as_string();
    } else if (const JsonValue* b64 = response->find("body_b64");
               b64 != nullptr && b64->is_string()) {
      std::optional<std::string> bytes = base64_decode(b64->as_string());
      if (!bytes) throw ConfigError(fmt::format("{}: response.body_b64 is not base64", what));
      res.body = std::move(*bytes);
    }
    res.url = optional_string(*response, "url");
    cassette.interactions.push_back(std::move(interaction));
  }
  return cassette;
}

void Cassette::save(const std::string& path) const {
  JsonValue::Array items;
  for (const Interaction& interaction : interactions) {
    const RecordedRequest& req = interaction.request;
    JsonValue::Object request{
        {"method", JsonValue(req.method)},
        {"url", JsonValue(req.url)},
        {"query", query_json(req.query)},
        {"body_sha256", req.body_sha256 ? JsonValue(*req.body_sha256) : JsonValue()},
        {"headers", headers_json(req.headers)},
        {"body_text", req.body_text ? JsonValue(*req.body_text) : JsonValue()}};
    const RecordedResponse& res = interaction.response;
    const bool text = is_utf8(res.body);
    JsonValue::Object response{
        {"status_code", JsonValue(res.status_code)},
        {"headers", headers_json(res.headers)},
        {"body_text", text ? JsonValue(res.body) : JsonValue()},
        {"body_b64", text ? JsonValue() : JsonValue(base64_encode(res.body))},
        {"encoding", text ? JsonValue("utf-8") : JsonValue()},
        {"url", JsonValue(res.url)}};
    items.emplace_back(JsonValue::Object{{"request", JsonValue(std::move(request))},
                                         {"response", JsonValue(std::move(response))}});
  }
  const JsonValue root(JsonValue::Object{{"version", JsonValue(1)},
                                         {"source", JsonValue(source)},
                                         {"interactions", JsonValue(std::move(items))}});
  std::string out;
  write_indented(root, out, 0);
  out += "\n";
  const std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
  const std::filesystem::path temporary = target.string() + ".tmp";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    file << out;
    if (!file) throw ConfigError(fmt::format("cannot write cassette '{}'", temporary.string()));
  }
  std::filesystem::rename(temporary, target);
}

}  // namespace lakeflow::http
