#include "lakeflow/http/redactor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "lakeflow/http/log.h"
#include "lakeflow/json.h"
#include "lakeflow/options.h"

namespace lakeflow::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Redactor, ReplacesRegisteredSecretsAndTheirEncodedForms) {
  Redactor redactor;
  redactor.add_secret("pa ss/word&1");
  EXPECT_EQ(redactor.redact("x pa ss/word&1 y"), "x *** y");
  EXPECT_EQ(redactor.redact("q=pa%20ss%2Fword%261"), "q=***");
  EXPECT_EQ(redactor.redact("q=pa+ss%2Fword%261"), "q=***");
}

TEST(Redactor, IgnoresSecretsTooShortToMatchSafely) {
  Redactor redactor;
  redactor.add_secret("abc");
  EXPECT_EQ(redactor.redact("abc abcdef"), "abc abcdef");
}

TEST(Redactor, HidesValuesOfOptionsMarkedSecret) {
  Redactor redactor;
  const Options options{{"api_token", "tok-123456"}, {"base_url", "https://example.org"}};
  redactor.add_secret_options(options, {"api_token", "missing_key"});
  EXPECT_EQ(redactor.redact("GET https://example.org?t=tok-123456"),
            "GET https://example.org?t=***");
}

TEST(Redactor, HidesAuthorizationHeadersAndSchemeCredentials) {
  const Redactor redactor;
  EXPECT_EQ(redactor.redact("Authorization: Bearer abc.def-123\nAccept: */*"),
            "Authorization: ***\nAccept: */*");
  EXPECT_EQ(redactor.redact("proxy-authorization: Basic dXNlcjpwYXNz"), "proxy-authorization: ***");
  EXPECT_EQ(redactor.redact("sent Bearer AbCdEf0123456789 to it"), "sent Bearer *** to it");
  EXPECT_EQ(redactor.redact("header was Basic dXNlcjpwYXNzd29yZA=="), "header was Basic ***");
  // Ordinary prose stays readable.
  EXPECT_EQ(redactor.redact("Basic authentication failed; Bearer tokens expire"),
            "Basic authentication failed; Bearer tokens expire");
}

TEST(Redactor, HidesSensitiveKeysInQueriesFormsAndJson) {
  const Redactor redactor;
  EXPECT_EQ(redactor.redact("https://h/x?a=1&access_token=xyz987&b=2"),
            "https://h/x?a=1&access_token=***&b=2");
  EXPECT_EQ(redactor.redact("grant_type=client_credentials&client_secret=s3&client_id=etl"),
            "grant_type=client_credentials&client_secret=***&client_id=etl");
  EXPECT_EQ(redactor.redact(R"({"access_token": "eyz", "expires_in": 3600, "password":"p\"w"})"),
            R"({"access_token": "***", "expires_in": 3600, "password":"***"})");
  EXPECT_EQ(redactor.redact(R"({"token":12345})"), R"({"token":***})");
  // Keys that merely contain a sensitive word are left alone.
  EXPECT_EQ(redactor.redact("token_url=https://h/token&tokens=3"),
            "token_url=https://h/token&tokens=3");
  EXPECT_EQ(redactor.redact("failed to fetch token: HTTP 500"), "failed to fetch token: HTTP 500");
}

TEST(Redactor, HidesAddedSensitiveKeysAsParametersAndHeaders) {
  Redactor redactor;
  redactor.add_sensitive_key("X-Custom-Key");
  redactor.add_sensitive_key("sig");
  EXPECT_EQ(redactor.redact("x-custom-key: abc\nother: 1"), "x-custom-key: ***\nother: 1");
  EXPECT_EQ(redactor.redact("/path?sig=zzz&n=1"), "/path?sig=***&n=1");
}

TEST(Redactor, HidesJwtsPrivateKeysAndUrlPasswords) {
  const Redactor redactor;
  EXPECT_EQ(redactor.redact("assertion eyJhbGciOiJSUzM4NCJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl end"),
            "assertion *** end");
  EXPECT_EQ(redactor.redact("k=-----BEGIN PRIVATE KEY-----\nMIIabc\n-----END PRIVATE KEY----- ok"),
            "k=*** ok");
  EXPECT_EQ(redactor.redact("-----BEGIN CERTIFICATE-----"), "-----BEGIN CERTIFICATE-----");
  EXPECT_EQ(redactor.redact("https://user:hunter22@db.example.org/x"),
            "https://user:***@db.example.org/x");
  EXPECT_EQ(redactor.redact("https://db.example.org:5432/x"), "https://db.example.org:5432/x");
}

TEST(Redactor, ExcerptRedactsFlattensAndCuts) {
  Redactor redactor;
  redactor.add_secret("SECRET-VALUE");
  const std::string long_text = "line1\nSECRET-VALUE\t" + std::string(1000, 'x');
  const std::string excerpt = redactor.excerpt(long_text, 40);
  EXPECT_EQ(excerpt.substr(0, 20), "line1 *** xxxxxxxxxx");
  EXPECT_THAT(excerpt, HasSubstr("... (1019 bytes in all)"));
  EXPECT_EQ(redactor.excerpt("short"), "short");
}

TEST(Redactor, IsSafeToShareAcrossThreads) {
  Redactor redactor;
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) redactor.add_secret("secret-number-" + std::to_string(i));
  });
  for (int i = 0; i < 200; ++i) redactor.redact("nothing to see secret-number-1");
  writer.join();
  EXPECT_EQ(redactor.redact("secret-number-199 secret-number-1"), "*** ***");
}

TEST(Logger, RedactsEveryLineAndFiltersByLevel) {
  auto redactor = std::make_shared<Redactor>();
  redactor->add_secret("hunter22");
  std::vector<std::string> lines;
  const Logger logger([&](LogLevel, std::string_view line) { lines.emplace_back(line); },
                      LogLevel::kInfo, redactor);
  logger.debug("hidden hunter22");
  logger.info("password hunter22 used");
  logger.warning("Authorization: Bearer abcdefgh12345678");
  EXPECT_EQ(lines, (std::vector<std::string>{"password *** used", "Authorization: ***"}));
  EXPECT_FALSE(logger.enabled(LogLevel::kDebug));
  EXPECT_EQ(to_string(LogLevel::kWarning), "warning");
}

TEST(RedactorTest, RedactJsonKeepsJsonValid) {
  Redactor redactor;
  redactor.add_secret("hook-secret-123");
  const std::string json =
      R"({"header": ["Authorization: Bearer abc.def", "X-Other: 1"], "password": "pw", )"
      R"("note": "uses hook-secret-123", "n": 5, "nested": {"access_token": "tok"}})";
  const std::string redacted = redactor.redact_json(json);
  EXPECT_EQ(redacted, R"({"header": ["Authorization: ***", "X-Other: 1"], "password": "***", )"
                      R"("note": "uses ***", "n": 5, "nested": {"access_token": "***"}})");
  EXPECT_NO_THROW(JsonValue::parse(redacted));
}

}  // namespace
}  // namespace lakeflow::http
