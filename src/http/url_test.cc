#include "lakeflow/http/url.h"

#include <gtest/gtest.h>

#include "lakeflow/error.h"
#include "lakeflow/http/encoding.h"
#include "lakeflow/http/message.h"

namespace lakeflow::http {
namespace {

TEST(Encoding, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
}

TEST(Encoding, Base64UrlRoundTripsAndRejectsGarbage) {
  const std::string bytes("\x00\x01\xfe\xffhello", 8);
  EXPECT_EQ(base64url_decode(base64url_encode(bytes)), bytes);
  EXPECT_EQ(base64url_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64url_decode("Zm9v!"), std::nullopt);
  EXPECT_EQ(base64url_decode("Z"), std::nullopt);
}

TEST(Encoding, Base64DecodeTakesEitherAlphabetWithOrWithoutPadding) {
  const std::string bytes("\x00\xfb\xff\x01MSH|", 9);
  EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
  EXPECT_EQ(base64_decode(base64url_encode(bytes)), bytes);
  EXPECT_EQ(base64_decode("+/8="), "\xfb\xff");
  EXPECT_EQ(base64_decode("-_8"), "\xfb\xff");
  EXPECT_EQ(base64_decode("Zm9v YmFy"), std::nullopt);
  EXPECT_EQ(base64_decode("Zm=9v"), std::nullopt);
  EXPECT_EQ(base64_decode("Zm9vY"), std::nullopt);
}

TEST(Encoding, PercentAndFormEncoding) {
  EXPECT_EQ(percent_encode("a b/c~d"), "a%20b%2Fc~d");
  EXPECT_EQ(percent_decode("a%20b%2fc+d"), "a b/c+d");
  EXPECT_EQ(percent_decode("a+b%zz%4", true), "a b%zz%4");
  EXPECT_EQ(form_urlencode("a b*~"), "a+b*%7E");
  EXPECT_EQ(form_body({{"grant_type", "client_credentials"}, {"scope", "system/*.rs x"}}),
            "grant_type=client_credentials&scope=system%2F*.rs+x");
}

TEST(Url, ResolvesRelativeReferences) {
  EXPECT_EQ(resolve_url("https://h/api/v1/items?page=1", "?page=2"),
            "https://h/api/v1/items?page=2");
  EXPECT_EQ(resolve_url("https://h/api/v1/items", "/other"), "https://h/other");
  EXPECT_EQ(resolve_url("https://h/api/v1/items", "next"), "https://h/api/v1/next");
  EXPECT_EQ(resolve_url("https://h/a", "https://g/b"), "https://g/b");
}

TEST(Url, ReadsAndReplacesQueryParameters) {
  const std::string url = "https://h/x?a=1&cursor=abc%3D&b=two+words";
  EXPECT_EQ(query_param(url, "cursor"), "abc=");
  EXPECT_EQ(query_param(url, "b"), "two words");
  EXPECT_EQ(query_param(url, "missing"), std::nullopt);
  EXPECT_EQ(with_query_param(url, "cursor", "x/y z"),
            "https://h/x?a=1&b=two+words&cursor=x%2fy%20z");  // libcurl writes hex in lower case
  EXPECT_EQ(with_query_param("https://h/x", "page", "2"), "https://h/x?page=2");
}

TEST(Url, HostKeyIncludesTheDefaultPort) {
  EXPECT_EQ(host_key("https://API.Example.org/x"), "api.example.org:443");
  EXPECT_EQ(host_key("http://example.org/x"), "example.org:80");
  EXPECT_EQ(host_key("http://127.0.0.1:8080"), "127.0.0.1:8080");
}

TEST(Origin, ComparesSchemeHostAndPortWithDefaultPortsFilledIn) {
  EXPECT_EQ(origin_of("https://API.Example.org/r4/Patient?_count=5"),
            (Origin{"https", "api.example.org", 443}));
  EXPECT_EQ(origin_of("https://api.example.org:443/x"), origin_of("https://api.example.org/y"));
  EXPECT_EQ(origin_of("HTTP://api.example.org:80"), origin_of("http://api.example.org/"));
  EXPECT_EQ(origin_of("https://user:pw@api.example.org/x"), origin_of("https://api.example.org"));
  // A downgrade to http, another port or another host is another origin.
  EXPECT_NE(origin_of("http://api.example.org/x"), origin_of("https://api.example.org/x"));
  EXPECT_NE(origin_of("https://api.example.org:8443/x"), origin_of("https://api.example.org/x"));
  EXPECT_NE(origin_of("https://api.example.org.evil/x"), origin_of("https://api.example.org/x"));
  EXPECT_EQ(origin_of("http://[::1]:8080/x").host, "[::1]");
  EXPECT_THROW(origin_of("ftp://api.example.org/x"), ConfigError);
  EXPECT_THROW(origin_of("/relative/x"), ConfigError);
}

TEST(Origin, PrintsThePortOnlyWhenItIsNotTheDefault) {
  EXPECT_EQ(origin_of("https://api.example.org:443/x").to_string(), "https://api.example.org");
  EXPECT_EQ(origin_of("http://api.example.org/x").to_string(), "http://api.example.org");
  EXPECT_EQ(origin_of("http://127.0.0.1:8080/x?token=abc").to_string(), "http://127.0.0.1:8080");
  EXPECT_EQ(origin_of("https://h:80/x").to_string(), "https://h:80");
}

TEST(Origin, ParsesAnOriginOnItsOwnAndNothingMore) {
  EXPECT_EQ(parse_origin("https://Files.example.org", "opt"),
            (Origin{"https", "files.example.org", 443}));
  EXPECT_EQ(parse_origin("http://10.0.0.5:8080/", "opt"), (Origin{"http", "10.0.0.5", 8080}));
  for (const char* bad :
       {"files.example.org", "https://files.example.org/v1", "https://files.example.org?x=1",
        "https://u:secret@files.example.org", "ftp://files.example.org", "https://", ""}) {
    try {
      parse_origin(bad, "http.allowed_origins");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("option 'http.allowed_origins'"), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("scheme://host[:port]"), std::string::npos);
      EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos) << e.what();
    }
  }
}

TEST(Url, MalformedUrlIsAConfigErrorWithoutItsQuery) {
  try {
    query_param("no-scheme/x?api_key=topsecret", "a");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no-scheme/x?..."), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("topsecret"), std::string::npos);
  }
}

TEST(Message, MethodsHeadersAndIdempotency) {
  EXPECT_EQ(to_string(Method::kPatch), "PATCH");
  EXPECT_TRUE(is_idempotent(Method::kGet));
  EXPECT_TRUE(is_idempotent(Method::kPut));
  EXPECT_FALSE(is_idempotent(Method::kPost));
  Request request;
  request.method = Method::kPost;
  EXPECT_FALSE(request.is_idempotent());
  request.idempotent = true;
  EXPECT_TRUE(request.is_idempotent());
  const Headers headers{{"Content-Type", "a"}, {"content-type", "b"}};
  EXPECT_EQ(find_header(headers, "CONTENT-TYPE"), "a");
  EXPECT_EQ(find_header(headers, "accept"), std::nullopt);
  EXPECT_EQ(status_reason(429), "Too Many Requests");
  EXPECT_EQ(status_reason(299), "");
}

}  // namespace
}  // namespace lakeflow::http
