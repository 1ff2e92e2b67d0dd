// Auth providers: how a client puts credentials on each request.
//
// A provider adds credentials in `apply` (a header or a query parameter), fetching and caching a
// token first when it uses one. When the source answers 401, the client calls
// `refresh_after_rejection` once; a token-based provider drops the rejected token, fetches a new
// one and the client sends the request once more. Static credentials cannot be refreshed, so a
// 401 with them is final. Every secret a provider holds or mints is registered with the shared
// Redactor, so no log line or error shows it. Providers are thread-safe.
//
// Options read by make_auth_provider (and HttpClient::from_options):
//   auth.type            none | api_key | bearer | basic | oauth2_client_credentials |
//                        oauth2_refresh_token | smart_backend_services   (default none)
//   api_key:             auth.api_key (secret), auth.api_key_name (header or parameter name,
//                        default X-API-Key), auth.api_key_in (header | query, default header)
//   bearer:              auth.token (secret)
//   basic:               auth.username, auth.password (secret)
//   oauth2_client_credentials:
//                        auth.token_url, auth.client_id, auth.client_secret (secret), auth.scope
//                        (optional), auth.client_auth (basic | body, default basic)
//   oauth2_refresh_token:
//                        auth.token_url, auth.refresh_token (secret), auth.client_id,
//                        auth.client_secret (optional secret: without it the client is public and
//                        sends only client_id in the body), auth.scope, auth.client_auth
//   smart_backend_services:
//                        auth.client_id, auth.kid, auth.scope, auth.private_key_pem (secret) or
//                        auth.private_key_file, auth.algorithm (RS384 | ES384, default RS384),
//                        auth.token_url, or else the token endpoint is discovered from
//                        `<base_url>/.well-known/smart-configuration` (option base_url)
//
// Tokens are cached until shortly before they expire: a token with `expires_in` = T seconds is
// used until min(30 s, T / 2) before its expiry. A token without `expires_in` is used until the
// source rejects it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lakeflow/http/clock.h"
#include "lakeflow/http/jwt.h"
#include "lakeflow/http/message.h"
#include "lakeflow/http/redactor.h"

namespace lakeflow {
class Options;
}

namespace lakeflow::http {

class HttpClient;

class AuthProvider {
 public:
  virtual ~AuthProvider() = default;
  // Adds credentials to `request`. Throws ConfigError when the source rejects the configured
  // credentials outright (e.g. a token endpoint answering invalid_client), SourceError when a
  // token cannot be fetched for another reason.
  virtual void apply(Request& request) = 0;
  // The source answered 401 to `rejected`, a request this provider prepared. Returns true when
  // new credentials are now in place and the request is worth sending once more.
  virtual bool refresh_after_rejection(const Request& /*rejected*/) { return false; }
  // What the provider is, for messages: "OAuth2 client credentials (client 'etl')". No secrets.
  virtual std::string describe() const = 0;
};

class NoAuth : public AuthProvider {
 public:
  void apply(Request&) override {}
  std::string describe() const override { return "no authentication"; }
};

class ApiKeyAuth : public AuthProvider {
 public:
  enum class Placement : std::uint8_t { kHeader, kQuery };
  // Sends `key` in header (or query parameter) `name`.
  ApiKeyAuth(std::string name, std::string key, Placement placement, Redactor& redactor);
  void apply(Request& request) override;
  std::string describe() const override;

 private:
  std::string name_;
  std::string key_;
  Placement placement_;
};

class BearerTokenAuth : public AuthProvider {
 public:
  BearerTokenAuth(std::string token, Redactor& redactor);
  void apply(Request& request) override;
  std::string describe() const override { return "bearer token"; }

 private:
  std::string header_;
};

class BasicAuth : public AuthProvider {
 public:
  BasicAuth(std::string_view username, std::string_view password, Redactor& redactor);
  void apply(Request& request) override;
  std::string describe() const override;

 private:
  std::string username_;
  std::string header_;
};

// An OAuth 2.0 access token response (RFC 6749 §5.1).
struct AccessToken {
  std::string value;
  std::string token_type;  // "Bearer" when the server omits it
  std::optional<std::chrono::seconds> expires_in;
  std::string refresh_token;  // empty when none was issued
  std::string scope;
};

// Base of providers that send `Authorization: Bearer <token>` with a token fetched and cached
// as described at the top of this file.
class CachedTokenAuth : public AuthProvider {
 public:
  void apply(Request& request) override;
  bool refresh_after_rejection(const Request& rejected) override;

 protected:
  CachedTokenAuth(std::shared_ptr<Clock> clock, std::shared_ptr<Redactor> redactor);
  // Fetches a new token. Called with the cache locked, so at most one fetch runs at a time.
  virtual AccessToken fetch_token() = 0;

  Redactor& redactor() { return *redactor_; }
  Clock& clock() { return *clock_; }

 private:
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<Redactor> redactor_;
  std::mutex mutex_;
  std::string header_;  // "Bearer <token>"; empty when no token is cached
  std::optional<std::chrono::steady_clock::time_point> refresh_at_;
};

// How a confidential client authenticates to the token endpoint (RFC 6749 §2.3.1): with HTTP Basic
// (form-urlencoded client_id:client_secret) or with client_id and client_secret in the body. The
// credentials go in exactly one of the two places.
enum class ClientAuthMethod : std::uint8_t { kBasic, kBody };

// Client credentials for a token request; `secret` empty means a public client (client_id in the
// body, nothing else).
struct ClientCredentials {
  std::string id;
  std::string secret;
  ClientAuthMethod method = ClientAuthMethod::kBasic;
};

// POSTs `form` to `token_url` through `client` (retried as idempotent), authenticating the client
// with `credentials`, and reads the token response. A 400/401/403 answer throws ConfigError quoting
// the OAuth `error` and `error_description` and naming `options_hint` (the options to check); other
// failures throw SourceError.
AccessToken request_access_token(HttpClient& client, const std::string& token_url,
                                 std::vector<std::pair<std::string, std::string>> form,
                                 const ClientCredentials& credentials,
                                 std::string_view options_hint);

struct OAuth2ClientCredentialsConfig {
  std::string token_url;
  ClientCredentials client;
  std::string scope;  // optional
};

// OAuth 2.0 client credentials grant (RFC 6749 §4.4).
class OAuth2ClientCredentials : public CachedTokenAuth {
 public:
  // `token_client` sends the token requests (it should carry no auth of its own).
  OAuth2ClientCredentials(OAuth2ClientCredentialsConfig config,
                          std::shared_ptr<HttpClient> token_client);
  std::string describe() const override;

 protected:
  AccessToken fetch_token() override;

 private:
  OAuth2ClientCredentialsConfig config_;
  std::shared_ptr<HttpClient> token_client_;
};

struct OAuth2RefreshTokenConfig {
  std::string token_url;
  ClientCredentials client;
  std::string refresh_token;
  std::string scope;  // optional
  // Called when the server rotates the refresh token (RFC 6749 §6); the new one is used from then
  // on, but only this callback can persist it.
  std::function<void(const std::string& new_refresh_token)> on_rotated;
};

// OAuth 2.0 refresh token grant (RFC 6749 §6).
class OAuth2RefreshToken : public CachedTokenAuth {
 public:
  OAuth2RefreshToken(OAuth2RefreshTokenConfig config, std::shared_ptr<HttpClient> token_client);
  std::string describe() const override;

 protected:
  AccessToken fetch_token() override;

 private:
  OAuth2RefreshTokenConfig config_;
  std::shared_ptr<HttpClient> token_client_;
};

struct SmartBackendServicesConfig {
  // Where `.well-known/smart-configuration` is looked up when token_url is empty.
  std::string fhir_base_url;
  std::string token_url;
  std::string client_id;
  std::string private_key_pem;
  std::string kid;  // required: the key's id in the client's registered JWKS
  JwtAlgorithm algorithm = JwtAlgorithm::kRS384;
  std::string scope;  // e.g. "system/*.rs"
};

// SMART Backend Services (HL7 SMART App Launch, "Backend Services"): a client credentials grant
// whose client authenticates with a JWT assertion (RFC 7523) signed RS384 or ES384 and carrying
// iss = sub = client_id, aud = token endpoint, a random jti and exp 5 minutes ahead.
class SmartBackendServices : public CachedTokenAuth {
 public:
  // Throws ConfigError for a missing client_id / kid / key, a key that does not parse or does
  // not fit the algorithm, or an algorithm other than RS384 / ES384.
  SmartBackendServices(SmartBackendServicesConfig config, std::shared_ptr<HttpClient> token_client);
  std::string describe() const override;

  // The token endpoint (discovering it on first use when not configured).
  std::string token_url();

 protected:
  AccessToken fetch_token() override;

 private:
  SmartBackendServicesConfig config_;
  JwtSigner signer_;
  std::shared_ptr<HttpClient> token_client_;
  std::mutex discovery_mutex_;
};

// A Google service account's key (the JSON key file Google issues): the fields a token request
// needs. Parsed by GoogleServiceAccount; the private key is a secret.
struct GoogleServiceAccountKey {
  std::string client_email;
  std::string private_key_pem;
  std::string private_key_id;  // the key's id, sent as the JWT's `kid` (optional)
  std::string token_uri;       // https://oauth2.googleapis.com/token unless the file names another

  // Reads the key file's JSON. Throws ConfigError naming `option` and the field that is missing
  // or wrong (`type` must be "service_account"); the message never quotes the key.
  static GoogleServiceAccountKey parse(std::string_view json, std::string_view option);
};

// Google's OAuth 2.0 for server-to-server applications: the JWT bearer grant (RFC 7523 §2.1) with
// an assertion signed RS256 by the service account's key, carrying iss = the account's email,
// scope, aud = the token endpoint, iat and exp one hour later; the endpoint answers an access
// token (valid one hour), cached and renewed as CachedTokenAuth does.
class GoogleServiceAccount : public CachedTokenAuth {
 public:
  // Throws ConfigError for a key that does not parse as an RSA private key (naming `option`).
  // Registers the private key with the redactor.
  GoogleServiceAccount(GoogleServiceAccountKey key, std::string scope,
                       std::shared_ptr<HttpClient> token_client,
                       std::string_view option = "service_account_json");
  std::string describe() const override;

 protected:
  AccessToken fetch_token() override;

 private:
  GoogleServiceAccountKey key_;
  std::string scope_;
  std::string option_;
  JwtSigner signer_;
  std::shared_ptr<HttpClient> token_client_;
};

// The token endpoint a SMART server publishes (SMART App Launch 2.0 §2.1): GETs
// `<fhir_base_url>/.well-known/smart-configuration` through `client` and returns its
// `token_endpoint`, a relative reference resolved against the configuration's URL (RFC 3986 §5),
// so `/auth/token` from `https://fhir.example.org/r4/.well-known/smart-configuration` is
// `https://fhir.example.org/auth/token`. Throws HttpError when the request fails and SourceError
// when the body has no token_endpoint. Used by SmartBackendServices when auth.token_url is empty,
// and by connectors that discover the endpoint of another grant the same way.
std::string discover_smart_token_endpoint(HttpClient& client, std::string_view fhir_base_url);

// The provider `options` describe (see the list at the top of this file). Token-based providers
// send their token requests through `token_client`. Registers every auth secret with `redactor`.
// Throws ConfigError naming a missing or invalid option.
std::shared_ptr<AuthProvider> make_auth_provider(const Options& options,
                                                 std::shared_ptr<HttpClient> token_client,
                                                 Redactor& redactor);

}  // namespace lakeflow::http
