// Signed JSON Web Tokens (RFC 7515/7519) for client assertions such as SMART Backend Services.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lakeflow/json.h"

namespace lakeflow::http {

enum class JwtAlgorithm : std::uint8_t { kRS256, kRS384, kES256, kES384 };

std::string_view to_string(JwtAlgorithm algorithm);  // "RS384", ...
// Throws ConfigError naming `option` and listing the accepted names.
JwtAlgorithm parse_jwt_algorithm(std::string_view name, std::string_view option = "algorithm");

// Signs JWTs with one private key: RSASSA-PKCS1-v1_5 (RS*) with an RSA key of at least 2048 bits,
// or ECDSA (ES*) with a P-256 / P-384 key, the signature in the raw R||S form JWS requires.
// Thread-safe.
class JwtSigner {
 public:
  // `private_key_pem`: a PKCS#8 or traditional PEM private key. Throws ConfigError naming `option`
  // when the key does not parse or does not fit `algorithm` (the message never quotes the key).
  JwtSigner(std::string_view private_key_pem, JwtAlgorithm algorithm, std::string kid,
            std::string_view option = "private key");
  ~JwtSigner();
  JwtSigner(JwtSigner&&) noexcept;
  JwtSigner& operator=(JwtSigner&&) noexcept;

  // `header.claims.signature`, the header being {"alg", "kid" (when not empty), "typ": "JWT"}.
  std::string sign(const JsonValue& claims) const;

  JwtAlgorithm algorithm() const { return algorithm_; }

 private:
  struct Key;
  std::unique_ptr<Key> key_;
  JwtAlgorithm algorithm_;
  std::string kid_;
};

}  // namespace lakeflow::http
