#include "lakeflow/http/auth.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "lakeflow/error.h"
#include "lakeflow/files.h"
#include "lakeflow/http/client.h"
#include "lakeflow/http/encoding.h"
#include "lakeflow/http/url.h"
#include "lakeflow/json.h"
#include "lakeflow/options.h"

namespace lakeflow::http {
namespace {

using std::chrono::seconds;

// SMART Backend Services: "exp ... no more than five minutes in the future".
constexpr seconds kAssertionLifetime{300};
constexpr seconds kMaxRefreshMargin{30};

void set_header(Headers& headers, std::string_view name, std::string value) {
  for (auto& [key, existing] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      existing = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::string(name), std::move(value));
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

void require(std::string_view value, std::string_view option, std::string_view what) {
  if (value.empty()) {
    throw ConfigError(
        fmt::format("option '{}' is required for {}; set it in the connection's "
                    "options",
                    option, what));
  }
}

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    throw Error(ErrorCode::kInternal, "OpenSSL could not generate random bytes");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : raw) {
    out += kHex[(static_cast<unsigned char>(c) >> 4) & 15];
    out += kHex[static_cast<unsigned char>(c) & 15];
  }
  return out;
}

std::optional<std::string> string_member(const JsonValue& object, std::string_view key) {
  const JsonValue* value = object.find(key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return value->as_string();
}

AccessToken parse_token_response(const Response& response, const std::string& token_url) {
  JsonValue json;
  try {
    json = JsonValue::parse(response.body, "token response");
  } catch (const Error&) {
    json = JsonValue();
  }
  if (!json.is_object()) {
    throw SourceError(
        fmt::format("the token endpoint {} answered HTTP {} with a body that is not "
                    "a JSON token response; check auth.token_url",
                    token_url, response.status));
  }
  AccessToken token;
  token.value = string_member(json, "access_token").value_or("");
  if (token.value.empty()) {
    throw SourceError(
        fmt::format("the token endpoint {} answered without an access_token; check "
                    "auth.token_url and the grant the client is allowed to use",
                    token_url));
  }
  token.token_type = string_member(json, "token_type").value_or("Bearer");
  if (!iequals(token.token_type, "bearer")) {
    throw SourceError(
        fmt::format("the token endpoint {} issued a '{}' token; only Bearer tokens "
                    "are supported",
                    token_url, token.token_type));
  }
  if (const JsonValue* expires = json.find("expires_in")) {
    // Some servers send the number as a string.
    if (expires->is_number()) {
      token.expires_in = seconds(static_cast<std::int64_t>(expires->as_double()));
    } else if (expires->is_string()) {
      try {
        token.expires_in = seconds(std::stoll(expires->as_string()));
      } catch (const std::exception&) {
      }
    }
  }
  token.refresh_token = string_member(json, "refresh_token").value_or("");
  token.scope = string_member(json, "scope").value_or("");
  return token;
}

std::string read_pem_file(const std::string& path, std::string_view option) {
  std::optional<std::string> text = files::read_file_if_exists(path);
  if (!text) {
    throw ConfigError(
        fmt::format("option '{}': cannot read '{}'; give the path of a readable PEM "
                    "file",
                    option, path));
  }
  return std::move(*text);
}

}  // namespace

// --- static credentials ---------------------------------------------------------------------

ApiKeyAuth::ApiKeyAuth(std::string name, std::string key, Placement placement, Redactor& redactor)
    : name_(std::move(name)), key_(std::move(key)), placement_(placement) {
  require(name_, "auth.api_key_name", "API key authentication");
  require(key_, "auth.api_key", "API key authentication");
  redactor.add_secret(key_);
  redactor.add_sensitive_key(name_);
}

void ApiKeyAuth::apply(Request& request) {
  if (placement_ == Placement::kHeader) {
    set_header(request.headers, name_, key_);
  } else {
    request.url = with_query_param(request.url, name_, key_);
  }
}

std::string ApiKeyAuth::describe() const {
  return fmt::format("API key in {} '{}'",
                     placement_ == Placement::kHeader ? "header" : "parameter", name_);
}

BearerTokenAuth::BearerTokenAuth(std::string token, Redactor& redactor) {
  require(token, "auth.token", "bearer token authentication");
  redactor.add_secret(token);
  header_ = "Bearer " + token;
}

void BearerTokenAuth::apply(Request& request) {
  set_header(request.headers, "Authorization", header_);
}

BasicAuth::BasicAuth(std::string_view username, std::string_view password, Redactor& redactor)
    : username_(username) {
  require(username, "auth.username", "basic authentication");
  redactor.add_secret(password);
  const std::string credentials = base64_encode(fmt::format("{}:{}", username, password));
  redactor.add_secret(credentials);
  header_ = "Basic " + credentials;
}

void BasicAuth::apply(Request& request) { set_header(request.headers, "Authorization", header_); }

std::string BasicAuth::describe() const {
  return fmt::format("basic authentication as '{}'", username_);
}

// --- tokens ---------------------------------------------------------------------------------

CachedTokenAuth::CachedTokenAuth(std::shared_ptr<Clock> clock, std::shared_ptr<Redactor> redactor)
    : clock_(clock ? std::move(clock) : Clock::system()),
      redactor_(redactor ? std::move(redactor) : std::make_shared<Redactor>()) {}

void CachedTokenAuth::apply(Request& request) {
  std::string header;
  {
    std::lock_guard lock(mutex_);
    const auto now = clock_->now();
    if (header_.empty() || (refresh_at_ && now >= *refresh_at_)) {
      header_.clear();
      AccessToken token = fetch_token();
      redactor_->add_secret(token.value);
      if (!token.refresh_token.empty()) redactor_->add_secret(token.refresh_token);
      header_ = "Bearer " + token.value;
      refresh_at_.reset();
      if (token.expires_in) {
        const seconds margin = std::min(kMaxRefreshMargin, *token.expires_in / 2);
        refresh_at_ = now + *token.expires_in - margin;
      }
    }
    header = header_;
  }
  set_header(request.headers, "Authorization", std::move(header));
}

bool CachedTokenAuth::refresh_after_rejection(const Request& rejected) {
  std::lock_guard lock(mutex_);
  // Only drop the token the source rejected: another thread may have replaced it already.
  const auto sent = find_header(rejected.headers, "Authorization");
  if (!sent || *sent == header_) header_.clear();
  return true;
}

AccessToken request_access_token(HttpClient& client, const std::string& token_url,
                                 std::vector<std::pair<std::string, std::string>> form,
                                 const ClientCredentials& credentials,
                                 std::string_view options_hint) {
  Headers headers{{"Accept", "application/json"}};
  // RFC 6749 §2.3.1: the client authenticates in exactly one place.
  if (!credentials.secret.empty() && credentials.method == ClientAuthMethod::kBasic) {
    const std::string basic = base64_encode(
        fmt::format("{}:{}", form_urlencode(credentials.id), form_urlencode(credentials.secret)));
    client.context().redactor->add_secret(basic);
    headers.emplace_back("Authorization", "Basic " + basic);
  } else {
    if (!credentials.id.empty()) form.emplace_back("client_id", credentials.id);
    if (!credentials.secret.empty()) form.emplace_back("client_secret", credentials.secret);
  }
  Response response;
  try {
    response = client.post_form(token_url, form, std::move(headers), /*idempotent=*/true);
  } catch (const HttpError& error) {
    if (error.status() != 400 && error.status() != 401 && error.status() != 403) throw;
    // RFC 6749 §5.2 error response: {"error": "invalid_client", "error_description": "..."}.
    std::string detail = error.body_excerpt();
    try {
      const JsonValue json = JsonValue::parse(error.body_excerpt(), "token error");
      if (auto code = string_member(json, "error")) {
        detail = fmt::format("error '{}'", *code);
        if (auto description = string_member(json, "error_description")) {
          detail += ": " + *description;
        }
      }
    } catch (const Error&) {
    }
    const std::string message =
        fmt::format("the token endpoint {} rejected the request (HTTP {}{}{}); check {}",
                    error.url(), error.status(), detail.empty() ? "" : ", ", detail, options_hint);
    throw ConfigError(client.context().redactor->redact(message));
  }
  return parse_token_response(response, client.context().redactor->redact(token_url));
}

OAuth2ClientCredentials::OAuth2ClientCredentials(OAuth2ClientCredentialsConfig config,
                                                 std::shared_ptr<HttpClient> token_client)
    : CachedTokenAuth(token_client->context().clock, token_client->context().redactor),
      config_(std::move(config)),
      token_client_(std::move(token_client)) {
  const std::string_view what = "OAuth2 client credentials";
  require(config_.token_url, "auth.token_url", what);
  require(config_.client.id, "auth.client_id", what);
  require(config_.client.secret, "auth.client_secret", what);
  redactor().add_secret(config_.client.secret);
}

std::string OAuth2ClientCredentials::describe() const {
  return fmt::format("OAuth2 client credentials (client '{}')", config_.client.id);
}

AccessToken OAuth2ClientCredentials::fetch_token() {
  std::vector<std::pair<std::string, std::string>> form{{"grant_type", "client_credentials"}};
  if (!config_.scope.empty()) form.emplace_back("scope", config_.scope);
  AccessToken token =
      request_access_token(*token_client_, config_.token_url, std::move(form), config_.client,
                           "auth.client_id, auth.client_secret, auth.client_auth and auth.scope");
  token_client_->logger().info(fmt::format(
      "fetched an access token for client '{}' from {}{}", config_.client.id, config_.token_url,
      token.expires_in ? fmt::format(" (expires in {} s)", token.expires_in->count()) : ""));
  return token;
}

OAuth2RefreshToken::OAuth2RefreshToken(OAuth2RefreshTokenConfig config,
                                       std::shared_ptr<HttpClient> token_client)
    : CachedTokenAuth(token_client->context().clock, token_client->context().redactor),
      config_(std::move(config)),
      token_client_(std::move(token_client)) {
  const std::string_view what = "OAuth2 refresh token";
  require(config_.token_url, "auth.token_url", what);
  require(config_.refresh_token, "auth.refresh_token", what);
  redactor().add_secret(config_.refresh_token);
  redactor().add_secret(config_.client.secret);
}

std::string OAuth2RefreshToken::describe() const {
  return config_.client.id.empty()
             ? std::string("OAuth2 refresh token")
             : fmt::format("OAuth2 refresh token (client '{}')", config_.client.id);
}

AccessToken OAuth2RefreshToken::fetch_token() {
  std::vector<std::pair<std::string, std::string>> form{{"grant_type", "refresh_token"},
                                                        {"refresh_token", config_.refresh_token}};
  if (!config_.scope.empty()) form.emplace_back("scope", config_.scope);
  AccessToken token = request_access_token(
      *token_client_, config_.token_url, std::move(form), config_.client,
      "auth.refresh_token (it may have expired or been revoked), auth.client_id and "
      "auth.client_secret");
  if (!token.refresh_token.empty() && token.refresh_token != config_.refresh_token) {
    redactor().add_secret(token.refresh_token);
    config_.refresh_token = token.refresh_token;
    token_client_->logger().info(
        fmt::format("the token endpoint {} rotated the refresh token", config_.token_url));
    if (config_.on_rotated) config_.on_rotated(config_.refresh_token);
  }
  return token;
}

namespace {

const SmartBackendServicesConfig& checked(const SmartBackendServicesConfig& config) {
  const std::string_view what = "SMART Backend Services";
  require(config.client_id, "auth.client_id", what);
  require(config.kid, "auth.kid", what);
  require(config.private_key_pem, "auth.private_key_pem", what);
  if (config.token_url.empty() && config.fhir_base_url.empty()) {
    throw ConfigError(
        "SMART Backend Services needs the token endpoint: set auth.token_url, or "
        "base_url so that it can be discovered from "
        "<base_url>/.well-known/smart-configuration");
  }
  if (config.algorithm != JwtAlgorithm::kRS384 && config.algorithm != JwtAlgorithm::kES384) {
    throw ConfigError(
        fmt::format("option 'auth.algorithm': SMART Backend Services signs with "
                    "RS384 or ES384, not {}",
                    to_string(config.algorithm)));
  }
  return config;
}

}  // namespace

SmartBackendServices::SmartBackendServices(SmartBackendServicesConfig config,
                                           std::shared_ptr<HttpClient> token_client)
    : CachedTokenAuth(token_client->context().clock, token_client->context().redactor),
      config_(checked(config)),
      signer_(config_.private_key_pem, config_.algorithm, config_.kid, "auth.private_key_pem"),
      token_client_(std::move(token_client)) {
  redactor().add_secret(config_.private_key_pem);
}

std::string SmartBackendServices::describe() const {
  return fmt::format("SMART Backend Services (client '{}', key '{}', {})", config_.client_id,
                     config_.kid, to_string(config_.algorithm));
}

std::string discover_smart_token_endpoint(HttpClient& client, std::string_view fhir_base_url) {
  std::string base(fhir_base_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string url = base + "/.well-known/smart-configuration";
  const Response response = client.get(url, {{"Accept", "application/json"}});
  std::optional<std::string> endpoint;
  try {
    const JsonValue json = JsonValue::parse(response.body, "SMART configuration");
    endpoint = string_member(json, "token_endpoint");
  } catch (const Error&) {
  }
  if (!endpoint || endpoint->empty()) {
    throw SourceError(
        fmt::format("{} has no token_endpoint; the server may not publish its SMART "
                    "configuration: give the token endpoint explicitly",
                    url));
  }
  // A relative reference is resolved against the URL of the document that holds it, the
  // configuration's own (RFC 3986 §5.1.3); `response.url` is that URL after any redirect.
  std::string resolved = resolve_url(response.url.empty() ? url : response.url, *endpoint);
  client.logger().info(
      fmt::format("discovered the SMART token endpoint {} from {}", resolved, url));
  return resolved;
}

std::string SmartBackendServices::token_url() {
  std::lock_guard lock(discovery_mutex_);
  if (!config_.token_url.empty()) return config_.token_url;
  try {
    config_.token_url = discover_smart_token_endpoint(*token_client_, config_.fhir_base_url);
  } catch (const HttpError&) {
    throw;
  } catch (const SourceError& error) {
    throw SourceError(fmt::format("{} (option auth.token_url)", error.what()));
  }
  return config_.token_url;
}

AccessToken SmartBackendServices::fetch_token() {
  const std::string audience = token_url();
  const std::int64_t now =
      std::chrono::duration_cast<seconds>(clock().wall_now().time_since_epoch()).count();
  JsonValue::Object claims;
  claims["iss"] = JsonValue(config_.client_id);
  claims["sub"] = JsonValue(config_.client_id);
  claims["aud"] = JsonValue(audience);
  claims["iat"] = JsonValue(now);
  claims["exp"] = JsonValue(now + kAssertionLifetime.count());
  claims["jti"] = JsonValue(random_hex(16));
  const std::string assertion = signer_.sign(JsonValue(std::move(claims)));
  redactor().add_secret(assertion);

  std::vector<std::pair<std::string, std::string>> form{
      {"grant_type", "client_credentials"},
      {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
      {"client_assertion", assertion}};
  if (!config_.scope.empty()) form.emplace_back("scope", config_.scope);
  AccessToken token = request_access_token(
      *token_client_, audience, std::move(form), ClientCredentials{},
      "auth.client_id, auth.kid (the key must be registered with the server under this id), "
      "auth.private_key_pem, auth.algorithm and auth.scope");
  token_client_->logger().info(fmt::format(
      "fetched a SMART backend access token for client '{}' from {}{}", config_.client_id, audience,
      token.expires_in ? fmt::format(" (expires in {} s)", token.expires_in->count()) : ""));
  return token;
}

// --- Google service accounts -----------------------------------------------------------------

GoogleServiceAccountKey GoogleServiceAccountKey::parse(std::string_view json,
                                                       std::string_view option) {
  JsonValue parsed;
  try {
    parsed = JsonValue::parse(json, "service account key");
  } catch (const Error&) {
    parsed = JsonValue();
  }
  if (!parsed.is_object()) {
    throw ConfigError(fmt::format(
        "option '{}' is not a service account key: give the contents of the JSON key file "
        "Google issued for the account (an object starting with '{{')",
        option));
  }
  const auto field = [&](std::string_view name, bool required) {
    const std::optional<std::string> value = string_member(parsed, name);
    if (required && (!value || value->empty())) {
      throw ConfigError(fmt::format(
          "option '{}': the service account key has no \"{}\"; give the whole JSON key file",
          option, name));
    }
    return value.value_or("");
  };
  if (field("type", true) != "service_account") {
    throw ConfigError(fmt::format(
        "option '{}': the key's \"type\" is '{}', not 'service_account'; give a service account's "
        "JSON key file",
        option, field("type", true)));
  }
  GoogleServiceAccountKey key;
  key.client_email = field("client_email", true);
  key.private_key_pem = field("private_key", true);
  key.private_key_id = field("private_key_id", false);
  key.token_uri = field("token_uri", false);
  if (key.token_uri.empty()) key.token_uri = "https://oauth2.googleapis.com/token";
  return key;
}

GoogleServiceAccount::GoogleServiceAccount(GoogleServiceAccountKey key, std::string scope,
                                           std::shared_ptr<HttpClient> token_client,
                                           std::string_view option)
    : CachedTokenAuth(token_client->context().clock, token_client->context().redactor),
      key_(std::move(key)),
      scope_(std::move(scope)),
      option_(option),
      signer_(key_.private_key_pem, JwtAlgorithm::kRS256, key_.private_key_id, option),
      token_client_(std::move(token_client)) {
  redactor().add_secret(key_.private_key_pem);
}

std::string GoogleServiceAccount::describe() const {
  return fmt::format("Google service account '{}'", key_.client_email);
}

AccessToken GoogleServiceAccount::fetch_token() {
  const std::int64_t now =
      std::chrono::duration_cast<seconds>(clock().wall_now().time_since_epoch()).count();
  JsonValue::Object claims;
  claims["iss"] = JsonValue(key_.client_email);
  claims["scope"] = JsonValue(scope_);
  claims["aud"] = JsonValue(key_.token_uri);
  claims["iat"] = JsonValue(now);
  claims["exp"] = JsonValue(now + 3600);  // Google accepts at most one hour
  const std::string assertion = signer_.sign(JsonValue(std::move(claims)));
  redactor().add_secret(assertion);
  AccessToken token = request_access_token(
      *token_client_, key_.token_uri,
      {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, {"assertion", assertion}},
      ClientCredentials{},
      fmt::format("option '{}' (the key may be deleted or disabled) and the account '{}'", option_,
                  key_.client_email));
  token_client_->logger().info(fmt::format(
      "fetched an access token for service account '{}' from {}{}", key_.client_email,
      key_.token_uri,
      token.expires_in ? fmt::format(" (expires in {} s)", token.expires_in->count()) : ""));
  return token;
}

// --- options ------------------------------------------------------------------------------

std::shared_ptr<AuthProvider> make_auth_provider(const Options& options,
                                                 std::shared_ptr<HttpClient> token_client,
                                                 Redactor& redactor) {
  redactor.add_secret_options(options,
                              {"auth.api_key", "auth.token", "auth.password", "auth.client_secret",
                               "auth.refresh_token", "auth.private_key_pem"});
  const std::string type =
      options.get_enum("auth.type",
                       {"none", "api_key", "bearer", "basic", "oauth2_client_credentials",
                        "oauth2_refresh_token", "smart_backend_services"},
                       "none");
  if (type == "none") return std::make_shared<NoAuth>();
  if (type == "api_key") {
    const std::string in = options.get_enum("auth.api_key_in", {"header", "query"}, "header");
    return std::make_shared<ApiKeyAuth>(
        options.get_string("auth.api_key_name", "X-API-Key"), options.get_string("auth.api_key"),
        in == "header" ? ApiKeyAuth::Placement::kHeader : ApiKeyAuth::Placement::kQuery, redactor);
  }
  if (type == "bearer") {
    return std::make_shared<BearerTokenAuth>(options.get_string("auth.token"), redactor);
  }
  if (type == "basic") {
    return std::make_shared<BasicAuth>(options.get_string("auth.username"),
                                       options.get_string("auth.password", ""), redactor);
  }
  const auto client_auth =
      options.get_enum("auth.client_auth", {"basic", "body"}, "basic") == "basic"
          ? ClientAuthMethod::kBasic
          : ClientAuthMethod::kBody;
  if (type == "oauth2_client_credentials") {
    OAuth2ClientCredentialsConfig config;
    config.token_url = options.get_string("auth.token_url");
    config.client = {options.get_string("auth.client_id"), options.get_string("auth.client_secret"),
                     client_auth};
    config.scope = options.get_string("auth.scope", "");
    return std::make_shared<OAuth2ClientCredentials>(std::move(config), std::move(token_client));
  }
  if (type == "oauth2_refresh_token") {
    OAuth2RefreshTokenConfig config;
    config.token_url = options.get_string("auth.token_url");
    config.refresh_token = options.get_string("auth.refresh_token");
    config.client = {options.get_string("auth.client_id", ""),
                     options.get_string("auth.client_secret", ""), client_auth};
    config.scope = options.get_string("auth.scope", "");
    return std::make_shared<OAuth2RefreshToken>(std::move(config), std::move(token_client));
  }
  SmartBackendServicesConfig config;
  config.fhir_base_url = options.get_string("base_url", "");
  config.token_url = options.get_string("auth.token_url", "");
  config.client_id = options.get_string("auth.client_id");
  config.kid = options.get_string("auth.kid");
  config.scope = options.get_string("auth.scope", "");
  config.algorithm =
      parse_jwt_algorithm(options.get_string("auth.algorithm", "RS384"), "auth.algorithm");
  if (auto pem = options.find("auth.private_key_pem"); pem && !pem->empty()) {
    config.private_key_pem = std::string(*pem);
  } else if (auto file = options.find("auth.private_key_file"); file && !file->empty()) {
    config.private_key_pem = read_pem_file(std::string(*file), "auth.private_key_file");
    redactor.add_secret(config.private_key_pem);
  } else {
    throw ConfigError(
        "SMART Backend Services needs the client's private key: set "
        "auth.private_key_pem (PEM text) or auth.private_key_file (a PEM file)");
  }
  return std::make_shared<SmartBackendServices>(std::move(config), std::move(token_client));
}

}  // namespace lakeflow::http
