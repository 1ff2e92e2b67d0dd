// Auth providers against a loopback OAuth 2.0 token endpoint and SMART Backend Services server
// (cpp-httplib, tests only). The SMART server verifies each JWT client assertion with the public
// half of a key generated here.
#include "lakeflow/http/auth.h"

#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#ifndef CPPHTTPLIB_ZLIB_SUPPORT
#define CPPHTTPLIB_ZLIB_SUPPORT
#endif
#ifndef CPPHTTPLIB_BROTLI_SUPPORT
#define CPPHTTPLIB_BROTLI_SUPPORT
#endif
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "http/loopback_server_test_util.h"
#include "lakeflow/error.h"
#include "lakeflow/http/client.h"
#include "lakeflow/http/encoding.h"
#include "lakeflow/http/jwt.h"
#include "lakeflow/json.h"
#include "lakeflow/options.h"

namespace lakeflow::http {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr std::int64_t kWallStart = 1704067200;  // ManualClock's default wall time
constexpr std::string_view kClientSecret = "client-PLANTED-secret-7f3a";

using test_util::Loopback;

// --- keys and JWTs --------------------------------------------------------------------------

struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;

// Keys are generated once per process (RSA generation takes a while) and freed at exit.
EVP_PKEY* rsa_key() {
  static const KeyPtr key(EVP_RSA_gen(2048));
  return key.get();
}
EVP_PKEY* ec_key(const char* curve) {
  static std::map<std::string, KeyPtr> keys;
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  KeyPtr& key = keys[curve];
  if (!key) key.reset(EVP_EC_gen(curve));
  return key.get();
}

std::string private_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  return pem;
}

// Base64url decoding through OpenSSL, independent of the code under test.
std::string unbase64url(std::string_view text) {
  std::string b64(text);
  for (char& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  const std::size_t padding = (4 - b64.size() % 4) % 4;
  b64.append(padding, '=');
  std::string out(b64.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  EXPECT_GE(n, 0);
  out.resize(static_cast<std::size_t>(std::max(0, n)) - padding);
  return out;
}

struct DecodedJwt {
  JsonValue header;
  JsonValue claims;
  std::string signing_input;
  std::string signature;
};

DecodedJwt decode_jwt(std::string_view token) {
  const std::size_t first = token.find('.');
  const std::size_t second = token.find('.', first + 1);
  DecodedJwt jwt;
  jwt.header = JsonValue::parse(unbase64url(token.substr(0, first)));
  jwt.claims = JsonValue::parse(unbase64url(token.substr(first + 1, second - first - 1)));
  jwt.signing_input = std::string(token.substr(0, second));
  jwt.signature = unbase64url(token.substr(second + 1));
  return jwt;
}

// Verifies a JWS signature: PKCS#1 v1.5 for RS*, raw R||S ECDSA for ES*.
bool verify_signature(const DecodedJwt& jwt, EVP_PKEY* key) {
  const std::string alg = jwt.header.find("alg")->as_string();
  const EVP_MD* md = alg.ends_with("256") ? EVP_sha256() : EVP_sha384();
  std::string signature = jwt.signature;
  if (alg.starts_with("ES")) {
    const std::size_t part = alg == "ES256" ? 32 : 48;
    if (signature.size() != 2 * part) return false;
    ECDSA_SIG* sig = ECDSA_SIG_new();
    const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
    ECDSA_SIG_set0(sig, BN_bin2bn(raw, static_cast<int>(part), nullptr),
                   BN_bin2bn(raw + part, static_cast<int>(part), nullptr));
    unsigned char* der = nullptr;
    const int length = i2d_ECDSA_SIG(sig, &der);
    signature.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                                   signature.size(),
                                   reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                                   jwt.signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::map<std::string, std::string> form_fields(std::string_view body) {
  std::map<std::string, std::string> fields;
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    const std::string_view item = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    const std::size_t eq = item.find('=');
    fields[percent_decode(item.substr(0, eq), true)] =
        eq == std::string_view::npos ? "" : percent_decode(item.substr(eq + 1), true);
  }
  return fields;
}

// --- the servers ----------------------------------------------------------------------------

struct TokenRequest {
  std::string authorization;
  std::map<std::string, std::string> form;
};

// A token endpoint (/token) and an API (/api) that accepts the tokens it issued, plus a SMART
// configuration (/fhir/.well-known/smart-configuration) and a SMART token endpoint
// (/smart/token) that verifies client assertions.
class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server->Post("/token", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      TokenRequest request{req.get_header_value("Authorization"), form_fields(req.body)};
      token_requests.push_back(request);
      if (token_failures > 0) {
        --token_failures;
        res.status = 503;
        return;
      }
      const std::string basic =
          "Basic " + base64_encode(fmt::format("etl:{}", form_urlencode(kClientSecret)));
      const bool basic_ok =
          request.authorization == basic && !request.form.contains("client_secret");
      const bool body_ok = request.authorization.empty() && request.form["client_id"] == "etl" &&
                           request.form["client_secret"] == kClientSecret;
      const bool refresh_ok = request.form["grant_type"] == "refresh_token" &&
                              request.form["refresh_token"] == current_refresh_token;
      if (!(expect_body_auth ? body_ok : basic_ok) && !refresh_ok) {
        res.status = 401;
        // Echo what was sent, as a careless server might.
        res.set_content(
            fmt::format(
                R"({{"error":"invalid_client","error_description":"bad client; got {} {}"}})",
                request.authorization, request.form["client_secret"]),
            "application/json");
        return;
      }
      issue_token(res);
    });
    server->Get("/api", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      ++api_calls;
      const std::string authorization = req.get_header_value("Authorization");
      if (!authorization.starts_with("Bearer ") ||
          !valid_tokens.contains(authorization.substr(7))) {
        res.status = 401;
        return;
      }
      res.set_content(R"({"ok":true})", "application/json");
    });
    server->Get("/fhir/.well-known/smart-configuration",
                [this](const httplib::Request&, httplib::Response& res) {
                  ++discoveries;
                  res.set_content(fmt::format(R"({{"token_endpoint":"{}","grant_types_supported":)"
                                              R"(["client_credentials"]}})",
                                              server.url("/smart/token")),
                                  "application/json");
                });
    server->Post("/google/token", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      TokenRequest request{req.get_header_value("Authorization"), form_fields(req.body)};
      token_requests.push_back(request);
      const std::string problem = check_google_assertion(request);
      if (!problem.empty()) {
        res.status = 400;
        res.set_content(
            fmt::format(R"({{"error":"invalid_grant","error_description":"{}"}})", problem),
            "application/json");
        return;
      }
      issue_token(res);
    });
    server->Post("/smart/token", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      TokenRequest request{req.get_header_value("Authorization"), form_fields(req.body)};
      token_requests.push_back(request);
      const std::string problem = check_assertion(request);
      if (!problem.empty()) {
        res.status = 400;
        res.set_content(
            fmt::format(R"({{"error":"invalid_client","error_description":"{}"}})", problem),
            "application/json");
        return;
      }
      issue_token(res);
    });
  }

  void issue_token(httplib::Response& res) {
    const std::string token = fmt::format("access-{}-PLANTED-token", ++issued);
    valid_tokens.insert(token);
    std::string body = fmt::format(R"({{"access_token":"{}","token_type":"bearer","expires_in":{})",
                                   token, expires_in);
    if (rotate_refresh_token) {
      current_refresh_token = fmt::format("refresh-{}-PLANTED", issued + 1);
      body += fmt::format(R"(,"refresh_token":"{}")", current_refresh_token);
    }
    res.set_content(body + "}", "application/json");
  }

  // Why the SMART token request is wrong, or "".
  std::string check_assertion(const TokenRequest& request) {
    if (!request.authorization.empty()) return "no Authorization header expected";
    if (request.form.contains("client_secret")) return "no client_secret expected";
    auto form = request.form;
    if (form["grant_type"] != "client_credentials") return "bad grant_type";
    if (form["client_assertion_type"] != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
      return "bad client_assertion_type";
    }
    if (form["scope"] != "system/*.rs") return "bad scope";
    const DecodedJwt jwt = decode_jwt(form["client_assertion"]);
    if (jwt.header.find("kid")->as_string() != "key-1") return "bad kid";
    if (jwt.header.find("typ")->as_string() != "JWT") return "bad typ";
    if (jwt.header.find("alg")->as_string() != expected_alg) return "bad alg";
    if (!verify_signature(jwt, smart_public_key)) return "bad signature";
    const auto& claims = jwt.claims;
    if (claims.find("iss")->as_string() != "smart-client") return "bad iss";
    if (claims.find("sub")->as_string() != "smart-client") return "bad sub";
    if (claims.find("aud")->as_string() != server.url("/smart/token")) return "bad aud";
    const std::int64_t exp = claims.find("exp")->as_int();
    const std::int64_t now = kWallStart + clock_offset.count();
    if (exp <= now || exp > now + 300) return "exp not within 5 minutes";
    const std::string jti = claims.find("jti")->as_string();
    if (jti.size() < 16 || !jtis.insert(jti).second) return "jti missing or reused";
    return "";
  }

  // Why the Google service account token request is wrong, or "".
  std::string check_google_assertion(const TokenRequest& request) {
    if (!request.authorization.empty()) return "no Authorization header expected";
    if (request.form.size() != 2) return "grant_type and assertion only";
    auto form = request.form;
    if (form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer") return "bad grant";
    const DecodedJwt jwt = decode_jwt(form["assertion"]);
    if (jwt.header.find("alg")->as_string() != "RS256") return "bad alg";
    if (jwt.header.find("kid")->as_string() != "google-key-1") return "bad kid";
    if (!verify_signature(jwt, google_public_key)) return "bad signature";
    const auto& claims = jwt.claims;
    if (claims.find("iss")->as_string() != "etl@project.iam.gserviceaccount.com") return "bad iss";
    if (claims.find("scope")->as_string() != "https://www.googleapis.com/auth/cloud-platform") {
      return "bad scope";
    }
    if (claims.find("aud")->as_string() != server.url("/google/token")) return "bad aud";
    const std::int64_t now = kWallStart + clock_offset.count();
    if (claims.find("iat")->as_int() != now) return "bad iat";
    if (claims.find("exp")->as_int() != now + 3600) return "exp not one hour ahead";
    return "";
  }
  std::string google_key_json(EVP_PKEY* key) {
    google_public_key = key;
    return JsonValue(
               JsonValue::Object{{"type", JsonValue("service_account")},
                                 {"project_id", JsonValue("project")},
                                 {"private_key_id", JsonValue("google-key-1")},
                                 {"private_key", JsonValue(private_pem(key))},
                                 {"client_email", JsonValue("etl@project.iam.gserviceaccount.com")},
                                 {"token_uri", JsonValue(server.url("/google/token"))}})
        .dump();
  }

  ClientContext context() {
    ClientContext context;
    context.clock = clock;
    context.redactor = redactor;
    context.log_level = LogLevel::kDebug;
    context.jitter_seed = 7;
    context.log_sink = [this](LogLevel level, std::string_view message) {
      std::lock_guard lock(log_mutex);
      logs += fmt::format("[{}] {}\n", to_string(level), message);
    };
    return context;
  }
  std::shared_ptr<HttpClient> token_client() {
    return std::make_shared<HttpClient>(ClientConfig{}, nullptr, context());
  }
  std::shared_ptr<HttpClient> client(std::shared_ptr<AuthProvider> auth) {
    return std::make_shared<HttpClient>(ClientConfig{}, std::move(auth), context());
  }
  std::shared_ptr<OAuth2ClientCredentials> client_credentials(
      ClientAuthMethod method, std::string secret = std::string(kClientSecret)) {
    OAuth2ClientCredentialsConfig config;
    config.token_url = server.url("/token");
    config.client = {"etl", std::move(secret), method};
    config.scope = "read:all";
    return std::make_shared<OAuth2ClientCredentials>(config, token_client());
  }
  SmartBackendServicesConfig smart_config(EVP_PKEY* key, JwtAlgorithm algorithm) {
    smart_public_key = key;
    expected_alg = std::string(to_string(algorithm));
    SmartBackendServicesConfig config;
    config.fhir_base_url = server.url("/fhir/");
    config.client_id = "smart-client";
    config.private_key_pem = private_pem(key);
    config.kid = "key-1";
    config.algorithm = algorithm;
    config.scope = "system/*.rs";
    return config;
  }
  std::string captured() {
    std::lock_guard lock(log_mutex);
    return logs;
  }

  Loopback server;
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::chrono::seconds clock_offset{0};
  std::shared_ptr<Redactor> redactor = std::make_shared<Redactor>();
  std::mutex log_mutex;
  std::string logs;

  std::mutex mutex;
  std::vector<TokenRequest> token_requests;
  std::set<std::string> valid_tokens;
  std::set<std::string> jtis;
  int issued = 0;
  int api_calls = 0;
  int token_failures = 0;
  std::atomic<int> discoveries{0};
  int expires_in = 3600;
  bool expect_body_auth = false;
  bool rotate_refresh_token = false;
  std::string current_refresh_token;
  EVP_PKEY* smart_public_key = nullptr;
  EVP_PKEY* google_public_key = nullptr;
  std::string expected_alg;
};

template <typename E, typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

// --- OAuth 2.0 client credentials -------------------------------------------------------------

TEST_F(AuthTest, ClientCredentialsWithBasicAuthSendsTheSecretOnlyInTheHeader) {
  auto http = client(client_credentials(ClientAuthMethod::kBasic));
  http->get(server.url("/api"));
  http->get(server.url("/api"));
  ASSERT_EQ(token_requests.size(), 1u);  // cached
  const TokenRequest& request = token_requests[0];
  EXPECT_THAT(request.authorization, HasSubstr("Basic "));
  EXPECT_EQ(request.form.at("grant_type"), "client_credentials");
  EXPECT_EQ(request.form.at("scope"), "read:all");
  EXPECT_FALSE(request.form.contains("client_secret"));
  EXPECT_FALSE(request.form.contains("client_id"));
  EXPECT_EQ(api_calls, 2);
}

TEST_F(AuthTest, ClientCredentialsWithBodyAuthSendsTheSecretOnlyInTheBody) {
  expect_body_auth = true;
  auto http = client(client_credentials(ClientAuthMethod::kBody));
  EXPECT_EQ(http->get(server.url("/api")).status, 200);
  ASSERT_EQ(token_requests.size(), 1u);
  EXPECT_EQ(token_requests[0].authorization, "");
  EXPECT_EQ(token_requests[0].form.at("client_id"), "etl");
  EXPECT_EQ(token_requests[0].form.at("client_secret"), kClientSecret);
}

TEST_F(AuthTest, TokenIsRefreshedShortlyBeforeItExpires) {
  expires_in = 120;  // refreshed 30 s early, at 90 s
  auto http = client(client_credentials(ClientAuthMethod::kBasic));
  http->get(server.url("/api"));
  clock->advance(89s);
  http->get(server.url("/api"));
  EXPECT_EQ(token_requests.size(), 1u);
  clock->advance(1s);
  http->get(server.url("/api"));
  EXPECT_EQ(token_requests.size(), 2u);
  EXPECT_EQ(issued, 2);
}

TEST_F(AuthTest, A401FetchesANewTokenAndRetriesOnce) {
  auto http = client(client_credentials(ClientAuthMethod::kBasic));
  http->get(server.url("/api"));
  {
    std::lock_guard lock(mutex);
    valid_tokens.clear();  // the server revokes every token
  }
  const Response response = http->get(server.url("/api"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.attempts, 2);
  EXPECT_EQ(token_requests.size(), 2u);
  EXPECT_EQ(api_calls, 3);
  EXPECT_TRUE(clock->sleeps().empty());  // no backoff for a refresh
  EXPECT_THAT(captured(), HasSubstr("fetched new credentials; sending it once more"));
}

TEST_F(AuthTest, A401WithAFreshTokenIsFinal) {
  server->Get("/forbidden-api", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(mutex);
    ++api_calls;
    res.status = 401;
  });
  auto http = client(client_credentials(ClientAuthMethod::kBasic));
  HttpError error("", 0, "", 0);
  try {
    http->get(server.url("/forbidden-api"));
    FAIL() << "expected an HttpError";
  } catch (const HttpError& e) {
    error = e;
  }
  EXPECT_EQ(error.status(), 401);
  EXPECT_EQ(api_calls, 2);
  EXPECT_EQ(token_requests.size(), 2u);
  EXPECT_THAT(error.what(), AllOf(HasSubstr("even freshly fetched ones"),
                                  HasSubstr("OAuth2 client credentials (client 'etl')"),
                                  HasSubstr("auth.* options")));
}

TEST_F(AuthTest, RejectedClientIsAConfigErrorThatHidesTheSecret) {
  const std::string wrong = "wrong-PLANTED-secret-0000";
  auto http = client(client_credentials(ClientAuthMethod::kBody, wrong));
  const std::string message = error_of<ConfigError>([&] { http->get(server.url("/api")); });
  EXPECT_EQ(token_requests.size(), 1u);  // a rejected client is not retried
  EXPECT_THAT(message, AllOf(HasSubstr("rejected the request (HTTP 401"),
                             HasSubstr("error 'invalid_client'"), HasSubstr("auth.client_secret")));
  EXPECT_THAT(message + captured(), Not(HasSubstr("PLANTED")));
}

TEST_F(AuthTest, TokenEndpointOutagesAreRetried) {
  token_failures = 2;
  auto http = client(client_credentials(ClientAuthMethod::kBasic));
  EXPECT_EQ(http->get(server.url("/api")).status, 200);
  EXPECT_EQ(token_requests.size(), 3u);
  EXPECT_EQ(clock->sleeps().size(), 2u);
}

TEST_F(AuthTest, SecretsAndTokensNeverReachTheLogs) {
  auto http = client(client_credentials(ClientAuthMethod::kBasic));
  http->get(server.url("/api"));
  clock->advance(4000s);
  http->get(server.url("/api"));
  const std::string all = captured();
  EXPECT_THAT(all, HasSubstr("Authorization: ***"));
  EXPECT_THAT(all, HasSubstr("fetched an access token for client 'etl'"));
  EXPECT_THAT(all, Not(HasSubstr("PLANTED")));
  EXPECT_THAT(all, Not(HasSubstr(base64_encode(fmt::format("etl:{}", kClientSecret)))));
}

// --- OAuth 2.0 refresh token ------------------------------------------------------------------

TEST_F(AuthTest, RefreshTokenGrantFollowsRotation) {
  rotate_refresh_token = true;
  expires_in = 60;
  current_refresh_token = "refresh-1-PLANTED";
  std::vector<std::string> rotated;
  OAuth2RefreshTokenConfig config;
  config.token_url = server.url("/token");
  config.client = {"etl", "", ClientAuthMethod::kBody};  // a public client
  config.refresh_token = "refresh-1-PLANTED";
  config.on_rotated = [&](const std::string& token) { rotated.push_back(token); };
  auto http = client(std::make_shared<OAuth2RefreshToken>(config, token_client()));
  http->get(server.url("/api"));
  clock->advance(61s);
  http->get(server.url("/api"));
  ASSERT_EQ(token_requests.size(), 2u);
  EXPECT_EQ(token_requests[0].form.at("refresh_token"), "refresh-1-PLANTED");
  EXPECT_EQ(token_requests[0].form.at("client_id"), "etl");
  EXPECT_EQ(token_requests[1].form.at("refresh_token"), "refresh-2-PLANTED");
  EXPECT_EQ(rotated, (std::vector<std::string>{"refresh-2-PLANTED", "refresh-3-PLANTED"}));
  EXPECT_THAT(captured(), AllOf(HasSubstr("rotated the refresh token"), Not(HasSubstr("PLANTED"))));
}

// --- SMART Backend Services -------------------------------------------------------------------

TEST_F(AuthTest, SmartBackendServicesWithRs384) {
  auto smart = std::make_shared<SmartBackendServices>(smart_config(rsa_key(), JwtAlgorithm::kRS384),
                                                      token_client());
  auto http = client(smart);
  EXPECT_EQ(http->get(server.url("/api")).status, 200) << captured();
  EXPECT_EQ(discoveries, 1);
  EXPECT_EQ(smart->token_url(), server.url("/smart/token"));
  // A second token (after expiry) carries a fresh jti; the endpoint is not discovered again.
  clock->advance(3600s);
  clock_offset = 3600s;
  EXPECT_EQ(http->get(server.url("/api")).status, 200) << captured();
  EXPECT_EQ(token_requests.size(), 2u);
  EXPECT_EQ(jtis.size(), 2u);
  EXPECT_EQ(discoveries, 1);
}

TEST_F(AuthTest, SmartBackendServicesWithEs384) {
  auto http = client(std::make_shared<SmartBackendServices>(
      smart_config(ec_key("P-384"), JwtAlgorithm::kES384), token_client()));
  EXPECT_EQ(http->get(server.url("/api")).status, 200) << captured();
  const DecodedJwt jwt = decode_jwt(token_requests.at(0).form.at("client_assertion"));
  EXPECT_EQ(jwt.signature.size(), 96u);  // raw R||S, not DER
  EXPECT_EQ(jwt.claims.find("exp")->as_int(), kWallStart + 300);
}

TEST_F(AuthTest, SmartAssertionsAndKeysNeverReachTheLogs) {
  SmartBackendServicesConfig config = smart_config(ec_key("P-384"), JwtAlgorithm::kES384);
  auto http = client(std::make_shared<SmartBackendServices>(config, token_client()));
  http->get(server.url("/api"));
  const std::string all = captured();
  EXPECT_THAT(all, HasSubstr("discovered the SMART token endpoint"));
  EXPECT_THAT(all, Not(HasSubstr(token_requests.at(0).form.at("client_assertion"))));
  EXPECT_THAT(all, Not(HasSubstr("eyJ")));
  EXPECT_THAT(all, Not(HasSubstr("PRIVATE KEY")));
  EXPECT_THAT(all, Not(HasSubstr("PLANTED")));
}

TEST_F(AuthTest, SmartRejectionNamesTheOptionsToCheck) {
  // The server expects ES384 signatures from a different key.
  SmartBackendServicesConfig config = smart_config(rsa_key(), JwtAlgorithm::kRS384);
  smart_public_key = ec_key("P-384");
  auto http = client(std::make_shared<SmartBackendServices>(config, token_client()));
  const std::string message = error_of<ConfigError>([&] { http->get(server.url("/api")); });
  EXPECT_THAT(message, AllOf(HasSubstr("HTTP 400"), HasSubstr("invalid_client"),
                             HasSubstr("auth.kid"), HasSubstr("auth.private_key_pem")));
}

TEST_F(AuthTest, SmartDiscoveryWithoutATokenEndpointIsReported) {
  server->Get("/bare/.well-known/smart-configuration",
              [](const httplib::Request&, httplib::Response& res) {
                res.set_content(R"({"capabilities":[]})", "application/json");
              });
  SmartBackendServicesConfig config = smart_config(rsa_key(), JwtAlgorithm::kRS384);
  config.fhir_base_url = server.url("/bare");
  auto http = client(std::make_shared<SmartBackendServices>(config, token_client()));
  const std::string message = error_of<SourceError>([&] { http->get(server.url("/api")); });
  EXPECT_THAT(message, AllOf(HasSubstr("has no token_endpoint"), HasSubstr("auth.token_url")));
}

TEST_F(AuthTest, SmartDiscoveryResolvesARelativeTokenEndpoint) {
  // A server behind a path prefix publishing a path-absolute reference: the endpoint is on the
  // configuration's origin, not under the FHIR base.
  server->Get("/relative/fhir/.well-known/smart-configuration",
              [](const httplib::Request&, httplib::Response& res) {
                res.set_content(R"({"token_endpoint":"/smart/token"})", "application/json");
              });
  SmartBackendServicesConfig config = smart_config(rsa_key(), JwtAlgorithm::kRS384);
  config.fhir_base_url = server.url("/relative/fhir/");
  auto smart = std::make_shared<SmartBackendServices>(config, token_client());
  EXPECT_EQ(client(smart)->get(server.url("/api")).status, 200) << captured();
  EXPECT_EQ(smart->token_url(), server.url("/smart/token"));
  EXPECT_EQ(token_requests.size(), 1u);
}

TEST_F(AuthTest, SmartDiscoveryResolvesDotSegmentsAgainstTheConfigurationUrl) {
  server->Get(
      "/r4/.well-known/smart-configuration", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(R"({"token_endpoint":"../auth/token?realm=a"})", "application/json");
      });
  EXPECT_EQ(discover_smart_token_endpoint(*token_client(), server.url("/r4")),
            server.url("/r4/auth/token?realm=a"));
}

TEST_F(AuthTest, SmartConfigurationErrors) {
  SmartBackendServicesConfig config = smart_config(rsa_key(), JwtAlgorithm::kRS384);
  config.kid.clear();
  EXPECT_THAT(error_of<ConfigError>([&] { SmartBackendServices(config, token_client()); }),
              HasSubstr("auth.kid"));
  config = smart_config(rsa_key(), JwtAlgorithm::kRS256);
  EXPECT_THAT(error_of<ConfigError>([&] { SmartBackendServices(config, token_client()); }),
              HasSubstr("RS384 or ES384"));
  config = smart_config(rsa_key(), JwtAlgorithm::kES384);
  EXPECT_THAT(error_of<ConfigError>([&] { SmartBackendServices(config, token_client()); }),
              HasSubstr("needs an EC private key on curve secp384r1"));
  config = smart_config(rsa_key(), JwtAlgorithm::kRS384);
  config.fhir_base_url.clear();
  EXPECT_THAT(error_of<ConfigError>([&] { SmartBackendServices(config, token_client()); }),
              HasSubstr("auth.token_url"));
}

// --- JWT signing ------------------------------------------------------------------------------

// --- Google service accounts ---------------------------------------------------------------

TEST_F(AuthTest, GoogleServiceAccountSignsAJwtBearerGrantAndRenewsTheToken) {
  const std::string key = google_key_json(rsa_key());
  auto http = client(std::make_shared<GoogleServiceAccount>(
      GoogleServiceAccountKey::parse(key, "service_account_json"),
      "https://www.googleapis.com/auth/cloud-platform", token_client()));
  EXPECT_EQ(http->get(server.url("/api")).status, 200) << captured();
  EXPECT_EQ(http->get(server.url("/api")).status, 200) << captured();
  EXPECT_EQ(token_requests.size(), 1u);
  clock->advance(3600s);
  clock_offset = 3600s;
  EXPECT_EQ(http->get(server.url("/api")).status, 200) << captured();
  EXPECT_EQ(token_requests.size(), 2u);
  const std::string all = captured();
  EXPECT_THAT(all, HasSubstr("service account 'etl@project.iam.gserviceaccount.com'"));
  EXPECT_THAT(all, Not(HasSubstr(token_requests.at(0).form.at("assertion"))));
  EXPECT_THAT(all, Not(HasSubstr("PRIVATE KEY")));
  EXPECT_THAT(all, Not(HasSubstr("PLANTED")));
}

TEST_F(AuthTest, GoogleServiceAccountRejectionNamesTheOption) {
  // The token endpoint knows another key.
  const std::string key = google_key_json(rsa_key());
  google_public_key = ec_key("P-256");
  auto http = client(std::make_shared<GoogleServiceAccount>(
      GoogleServiceAccountKey::parse(key, "service_account_json"), "scope", token_client()));
  const std::string message = error_of<ConfigError>([&] { http->get(server.url("/api")); });
  EXPECT_THAT(message, AllOf(HasSubstr("HTTP 400"), HasSubstr("invalid_grant"),
                             HasSubstr("option 'service_account_json'")));
  EXPECT_THAT(message, Not(HasSubstr("PRIVATE KEY")));
}

TEST(GoogleServiceAccountKey, ErrorsNameTheFieldAndNeverQuoteTheKey) {
  const auto error = [](std::string_view json) {
    return error_of<ConfigError>([&] { GoogleServiceAccountKey::parse(json, "sa_json"); });
  };
  EXPECT_THAT(error("not json PRIVATE KEY"), AllOf(HasSubstr("option 'sa_json' is not a service "
                                                             "account key"),
                                                   Not(HasSubstr("PRIVATE KEY"))));
  EXPECT_THAT(error(R"({"type": "authorized_user", "private_key": "PRIVATE KEY"})"),
              AllOf(HasSubstr("not 'service_account'"), Not(HasSubstr("PRIVATE KEY"))));
  EXPECT_THAT(error(R"({"type": "service_account", "client_email": "a@b"})"),
              HasSubstr("no \"private_key\""));
  const GoogleServiceAccountKey key = GoogleServiceAccountKey::parse(
      R"({"type": "service_account", "client_email": "a@b", "private_key": "k"})", "sa_json");
  EXPECT_EQ(key.token_uri, "https://oauth2.googleapis.com/token");
  EXPECT_EQ(key.private_key_id, "");
}

TEST(JwtSigner, SignaturesVerifyWithThePublicKey) {
  const JsonValue claims(JsonValue::Object{{"iss", JsonValue("me")}, {"n", JsonValue(1)}});
  const std::pair<EVP_PKEY*, JwtAlgorithm> cases[] = {{rsa_key(), JwtAlgorithm::kRS256},
                                                      {rsa_key(), JwtAlgorithm::kRS384},
                                                      {ec_key("P-256"), JwtAlgorithm::kES256},
                                                      {ec_key("P-384"), JwtAlgorithm::kES384}};
  for (const auto& [key, algorithm] : cases) {
    const JwtSigner signer(private_pem(key), algorithm, "kid-9");
    const DecodedJwt jwt = decode_jwt(signer.sign(claims));
    EXPECT_EQ(jwt.header.dump(),
              fmt::format(R"({{"alg":"{}","kid":"kid-9","typ":"JWT"}})", to_string(algorithm)));
    EXPECT_EQ(jwt.claims, claims);
    EXPECT_TRUE(verify_signature(jwt, key)) << to_string(algorithm);
  }
}

TEST(JwtSigner, RejectsUnusableKeysWithoutQuotingThem) {
  const std::string garbage =
      "-----BEGIN PRIVATE KEY-----\nPLANTEDnotakey\n-----END PRIVATE KEY-----";
  const std::string message = error_of<ConfigError>(
      [&] { JwtSigner(garbage, JwtAlgorithm::kRS384, "k", "auth.private_key_pem"); });
  EXPECT_THAT(message, AllOf(HasSubstr("auth.private_key_pem"), HasSubstr("not a usable PEM"),
                             Not(HasSubstr("PLANTED"))));
  EVP_PKEY* small = EVP_RSA_gen(1024);
  EXPECT_THAT(
      error_of<ConfigError>([&] { JwtSigner(private_pem(small), JwtAlgorithm::kRS384, "k"); }),
      HasSubstr("at least 2048"));
  EVP_PKEY_free(small);
  EXPECT_THAT(error_of<ConfigError>(
                  [&] { JwtSigner(private_pem(ec_key("P-256")), JwtAlgorithm::kES384, "k"); }),
              HasSubstr("P-384"));
  EXPECT_THAT(error_of<ConfigError>(
                  [&] { JwtSigner(private_pem(ec_key("P-384")), JwtAlgorithm::kRS384, "k"); }),
              HasSubstr("needs an RSA private key"));
  EXPECT_EQ(parse_jwt_algorithm("ES384"), JwtAlgorithm::kES384);
  EXPECT_THAT(error_of<ConfigError>([&] { parse_jwt_algorithm("HS256", "auth.algorithm"); }),
              AllOf(HasSubstr("auth.algorithm"), HasSubstr("RS384")));
}

// --- static credentials and options -----------------------------------------------------------

TEST_F(AuthTest, ApiKeyInAHeaderOrAQueryParameter) {
  std::string header;
  std::string param;
  server->Get("/keyed", [&](const httplib::Request& req, httplib::Response& res) {
    header = req.get_header_value("X-Api-Key");
    param = req.get_param_value("key");
    res.set_content("{}", "application/json");
  });
  client(std::make_shared<ApiKeyAuth>("X-Api-Key", "key-PLANTED-1", ApiKeyAuth::Placement::kHeader,
                                      *redactor))
      ->get(server.url("/keyed"));
  EXPECT_EQ(header, "key-PLANTED-1");
  const Response response =
      client(std::make_shared<ApiKeyAuth>("key", "key-PLANTED-2", ApiKeyAuth::Placement::kQuery,
                                          *redactor))
          ->get(server.url("/keyed?a=1"));
  EXPECT_EQ(param, "key-PLANTED-2");
  EXPECT_EQ(response.url, server.url("/keyed?a=1"));  // the key stays off the response's URL
  EXPECT_THAT(captured(), Not(HasSubstr("PLANTED")));
}

TEST_F(AuthTest, BasicAndBearerCredentials) {
  std::string authorization;
  server->Get("/who", [&](const httplib::Request& req, httplib::Response& res) {
    authorization = req.get_header_value("Authorization");
    res.set_content("{}", "application/json");
  });
  client(std::make_shared<BasicAuth>("ann", "pw-PLANTED", *redactor))->get(server.url("/who"));
  EXPECT_EQ(authorization, "Basic " + base64_encode("ann:pw-PLANTED"));
  client(std::make_shared<BearerTokenAuth>("bearer-PLANTED", *redactor))->get(server.url("/who"));
  EXPECT_EQ(authorization, "Bearer bearer-PLANTED");
  EXPECT_THAT(captured(), Not(HasSubstr("PLANTED")));
}

TEST_F(AuthTest, ClientFromOptionsBuildsTheProviderAndRegistersSecrets) {
  expect_body_auth = true;
  const Options options{{"auth.type", "oauth2_client_credentials"},
                        {"auth.token_url", server.url("/token")},
                        {"auth.client_id", "etl"},
                        {"auth.client_secret", std::string(kClientSecret)},
                        {"auth.client_auth", "body"},
                        {"connector_password", "spec-PLANTED-value"},
                        {"http.max_attempts", "2"}};
  auto http = HttpClient::from_options(options, {"connector_password"}, context());
  EXPECT_EQ(http->get(server.url("/api")).status, 200);
  EXPECT_EQ(http->config().retry.max_attempts, 2);
  EXPECT_EQ(redactor->redact(std::string(kClientSecret) + " spec-PLANTED-value"), "*** ***");
}

TEST_F(AuthTest, AuthOptionsAreValidated) {
  auto provider = [&](Options options) {
    return make_auth_provider(options, token_client(), *redactor);
  };
  EXPECT_NE(dynamic_cast<NoAuth*>(provider({}).get()), nullptr);
  EXPECT_THAT(error_of<ConfigError>([&] {
                provider({{"auth.type", "kerberos"}});
              }),
              AllOf(HasSubstr("auth.type"), HasSubstr("smart_backend_services")));
  EXPECT_THAT(error_of<ConfigError>([&] {
                provider({{"auth.type", "oauth2_client_credentials"},
                          {"auth.token_url", "https://h/token"},
                          {"auth.client_id", "etl"}});
              }),
              HasSubstr("auth.client_secret"));
  EXPECT_THAT(
      error_of<ConfigError>([&] {
        provider(
            {{"auth.type", "smart_backend_services"}, {"auth.client_id", "c"}, {"auth.kid", "k"}});
      }),
      HasSubstr("auth.private_key_pem"));
  EXPECT_THAT(error_of<ConfigError>([&] {
                provider({{"auth.type", "smart_backend_services"},
                          {"auth.client_id", "c"},
                          {"auth.kid", "k"},
                          {"auth.private_key_file", "/nonexistent/key.pem"}});
              }),
              HasSubstr("cannot read '/nonexistent/key.pem'"));
  auto api_key = provider({{"auth.type", "api_key"},
                           {"auth.api_key", "abcd-PLANTED"},
                           {"auth.api_key_in", "query"},
                           {"auth.api_key_name", "apikey"}});
  EXPECT_EQ(api_key->describe(), "API key in parameter 'apikey'");
  EXPECT_EQ(redactor->redact("abcd-PLANTED"), "***");
}

}  // namespace
}  // namespace lakeflow::http
