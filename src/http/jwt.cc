#include "lakeflow/http/jwt.h"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/http/encoding.h"

namespace lakeflow::http {
namespace {

bool is_rsa(JwtAlgorithm algorithm) {
  return algorithm == JwtAlgorithm::kRS256 || algorithm == JwtAlgorithm::kRS384;
}

const EVP_MD* digest(JwtAlgorithm algorithm) {
  return (algorithm == JwtAlgorithm::kRS256 || algorithm == JwtAlgorithm::kES256) ? EVP_sha256()
                                                                                  : EVP_sha384();
}

// Bytes of R and of S in a raw ECDSA signature: the curve's field size.
int ec_part_size(JwtAlgorithm algorithm) { return algorithm == JwtAlgorithm::kES256 ? 32 : 48; }

std::string_view curve_for(JwtAlgorithm algorithm) {
  return algorithm == JwtAlgorithm::kES256 ? "prime256v1" : "secp384r1";
}

// No prompt for a passphrase: an encrypted key fails to load instead.
int no_passphrase(char*, int, int, void*) { return -1; }

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

}  // namespace

struct JwtSigner::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

std::string_view to_string(JwtAlgorithm algorithm) {
  switch (algorithm) {
    case JwtAlgorithm::kRS256:
      return "RS256";
    case JwtAlgorithm::kRS384:
      return "RS384";
    case JwtAlgorithm::kES256:
      return "ES256";
    case JwtAlgorithm::kES384:
      return "ES384";
  }
  return "RS384";
}

JwtAlgorithm parse_jwt_algorithm(std::string_view name, std::string_view option) {
  for (JwtAlgorithm algorithm :
       {JwtAlgorithm::kRS256, JwtAlgorithm::kRS384, JwtAlgorithm::kES256, JwtAlgorithm::kES384}) {
    if (to_string(algorithm) == name) return algorithm;
  }
  throw ConfigError(
      fmt::format("option '{}': unknown JWT signing algorithm '{}'; use one of RS256, "
                  "RS384, ES256, ES384",
                  option, name));
}

JwtSigner::JwtSigner(std::string_view private_key_pem, JwtAlgorithm algorithm, std::string kid,
                     std::string_view option)
    : key_(std::make_unique<Key>()), algorithm_(algorithm), kid_(std::move(kid)) {
  BIO* bio = BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size()));
  if (bio == nullptr) throw std::bad_alloc();
  key_->pkey = PEM_read_bio_PrivateKey(bio, nullptr, no_passphrase, nullptr);
  BIO_free(bio);
  if (key_->pkey == nullptr) {
    const std::string reason = openssl_error();
    throw ConfigError(fmt::format(
        "option '{}': not a usable PEM private key ({}); give an unencrypted key starting with "
        "'-----BEGIN PRIVATE KEY-----' (PKCS#8) or '-----BEGIN RSA PRIVATE KEY-----' / "
        "'-----BEGIN EC PRIVATE KEY-----'",
        option, reason));
  }
  const int type = EVP_PKEY_get_base_id(key_->pkey);
  if (is_rsa(algorithm)) {
    if (type != EVP_PKEY_RSA) {
      throw ConfigError(
          fmt::format("option '{}': {} needs an RSA private key, but the key given is "
                      "not RSA; use an RSA key or an ES* algorithm",
                      option, to_string(algorithm)));
    }
    if (EVP_PKEY_get_bits(key_->pkey) < 2048) {
      throw ConfigError(fmt::format("option '{}': the RSA key has {} bits; {} needs at least 2048",
                                    option, EVP_PKEY_get_bits(key_->pkey), to_string(algorithm)));
    }
  } else {
    char group[64] = {};
    std::size_t length = 0;
    if (type != EVP_PKEY_EC ||
        EVP_PKEY_get_utf8_string_param(key_->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &length) != 1 ||
        std::string_view(group, length) != curve_for(algorithm)) {
      ERR_clear_error();
      throw ConfigError(
          fmt::format("option '{}': {} needs an EC private key on curve {} ({}), but "
                      "the key given is not one",
                      option, to_string(algorithm), curve_for(algorithm),
                      algorithm == JwtAlgorithm::kES256 ? "P-256" : "P-384"));
    }
  }
}

JwtSigner::~JwtSigner() = default;
JwtSigner::JwtSigner(JwtSigner&&) noexcept = default;
JwtSigner& JwtSigner::operator=(JwtSigner&&) noexcept = default;

std::string JwtSigner::sign(const JsonValue& claims) const {
  JsonValue::Object header;
  header["alg"] = JsonValue(to_string(algorithm_));
  if (!kid_.empty()) header["kid"] = JsonValue(kid_);
  header["typ"] = JsonValue("JWT");
  std::string token = base64url_encode(JsonValue(std::move(header)).dump());
  token += '.';
  token += base64url_encode(claims.dump());

  EVP_MD_CTX* context = EVP_MD_CTX_new();
  if (context == nullptr) throw std::bad_alloc();
  std::vector<unsigned char> signature;
  std::size_t length = 0;
  const auto* input = reinterpret_cast<const unsigned char*>(token.data());
  bool ok = EVP_DigestSignInit(context, nullptr, digest(algorithm_), nullptr, key_->pkey) == 1 &&
            EVP_DigestSign(context, nullptr, &length, input, token.size()) == 1;
  if (ok) {
    signature.resize(length);
    ok = EVP_DigestSign(context, signature.data(), &length, input, token.size()) == 1;
    signature.resize(length);
  }
  EVP_MD_CTX_free(context);
  if (!ok) {
    throw Error(ErrorCode::kInternal,
                fmt::format("signing a {} JWT failed: {}", to_string(algorithm_), openssl_error()));
  }

  std::string raw;
  if (is_rsa(algorithm_)) {
    raw.assign(signature.begin(), signature.end());
  } else {
    // OpenSSL writes ECDSA signatures as DER SEQUENCE { r INTEGER, s INTEGER }; JWS (RFC 7518
    // §3.4) wants R and S as fixed-size big-endian integers, concatenated.
    const unsigned char* der = signature.data();
    ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size()));
    if (ecdsa == nullptr) {
      throw Error(ErrorCode::kInternal, "OpenSSL returned a malformed ECDSA signature");
    }
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(ecdsa, &r, &s);
    const int part = ec_part_size(algorithm_);
    raw.resize(static_cast<std::size_t>(part) * 2);
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    const bool converted =
        BN_bn2binpad(r, out, part) == part && BN_bn2binpad(s, out + part, part) == part;
    ECDSA_SIG_free(ecdsa);
    if (!converted)
      throw Error(ErrorCode::kInternal, "ECDSA signature does not fit the curve size");
  }
  token += '.';
  token += base64url_encode(raw);
  return token;
}

}  // namespace lakeflow::http
