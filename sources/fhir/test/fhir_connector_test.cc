// Unit tests of the connector's parts that need no server: the tie-safe position, the
// CapabilityStatement reader, the option mapping and the Bundle reader.
#include "fhir_connector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fhir_bundle.h"
#include "fhir_capability.h"
#include "fhir_position.h"
#include "lakeflow/error.h"
#include "lakeflow/http/client.h"
#include "lakeflow/instant.h"
#include "lakeflow/records.h"

namespace lakeflow::fhir {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::int64_t micros(std::string_view instant) { return *parse_instant(instant); }

TEST(TiePosition, StartsEmptyAndCoversNothing) {
  const TiePosition position = position_from_offset(Offset(), "offset");
  EXPECT_FALSE(position.started());
  EXPECT_FALSE(position.covers(0, "a"));
  EXPECT_EQ(position.to_offset(), Offset());
}

TEST(TiePosition, RoundTripsThroughItsOffset) {
  TiePosition position;
  for (const char* id : {"x", "m", "a"}) {
    position.advance("2024-05-01T10:00:00.5+02:00", micros("2024-05-01T08:00:00.5Z"), id);
  }
  const TiePosition back = position_from_offset(position.to_offset(), "offset");
  EXPECT_EQ(back.cursor(), "2024-05-01T10:00:00.5+02:00");
  EXPECT_EQ(back.ties(), (std::vector<std::string>{"a", "m", "x"}));
  EXPECT_EQ(back.to_offset(), position.to_offset());
}

TEST(TiePosition, AGroupWhollyBeforeTheCapIsCompleteAndSearchedAfter) {
  TiePosition position;
  position.advance("2024-01-01T00:00:00.000Z", micros("2024-01-01T00:00:00Z"), "a");
  EXPECT_EQ(search_from(position), micros("2024-01-01T00:00:00Z"));
  // The instant's range [0, 1 ms) reaches past a cap inside it: the group stays open.
  EXPECT_FALSE(complete_before(position, micros("2024-01-01T00:00:00.000500Z")));
  EXPECT_EQ(position.ties(), std::vector<std::string>{"a"});
  EXPECT_TRUE(complete_before(position, micros("2024-01-01T00:00:00.001Z")));
  EXPECT_TRUE(position.ties().empty());
  EXPECT_TRUE(position.covers(micros("2024-01-01T00:00:00Z"), "b"));
  EXPECT_FALSE(position.covers(micros("2024-01-01T00:00:00.001Z"), "b"));
  EXPECT_EQ(search_from(position), micros("2024-01-01T00:00:00.001Z"));
  EXPECT_EQ(position.to_offset().to_json(),
            R"({"complete":true,"cursor":"2024-01-01T00:00:00.000Z"})");
  const TiePosition back = position_from_offset(position.to_offset(), "offset");
  EXPECT_TRUE(back.complete());
  EXPECT_EQ(back.to_offset(), position.to_offset());
  // A second-precision instant covers a whole second.
  TiePosition seconds;
  seconds.advance("2024-01-01T00:00:00Z", micros("2024-01-01T00:00:00Z"), "a");
  complete_before(seconds, micros("2024-01-02T00:00:00Z"));
  EXPECT_EQ(search_from(seconds), micros("2024-01-01T00:00:01Z"));
  // Nothing joins a complete group; a later instant opens a new one.
  EXPECT_THROW(position.advance("2024-01-01T00:00:00.000Z", micros("2024-01-01T00:00:00Z"), "c"),
               Error);
  position.advance("2024-01-01T00:00:00.002Z", micros("2024-01-01T00:00:00.002Z"), "d");
  EXPECT_FALSE(position.complete());
  EXPECT_EQ(position.to_offset().to_json(), R"({"cursor":"2024-01-01T00:00:00.002Z","ids":["d"]})");
}

TEST(TiePosition, RejectsOffsetsItDidNotWrite) {
  for (const char* text : {R"({"cursor":17})", R"({"cursor":"yesterday"})",
                           R"({"cursor":"2024-01-01T00:00:00Z","ids":"a"})",
                           R"({"cursor":"2024-01-01T00:00:00Z","ids":[1]})",
                           R"({"cursor":"2024-01-01T00:00:00Z","page":2})", R"({"ids":[]})",
                           R"({"cursor":"2024-01-01T00:00:00Z","complete":"yes"})",
                           R"({"cursor":"2024-01-01T00:00:00Z","complete":true,"ids":["a"]})"}) {
    try {
      position_from_offset(Offset::parse(text), "the offset of table 'Patient'");
      ADD_FAILURE() << "accepted " << text;
    } catch (const ConfigError& error) {
      EXPECT_THAT(error.what(), HasSubstr("the offset of table 'Patient'")) << text;
      EXPECT_THAT(error.what(), HasSubstr("start from {}")) << text;
    }
  }
}

constexpr std::string_view kCapability = R"({
  "resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
  "software": {"name": "Test Server", "version": "1.2"},
  "rest": [{"mode": "server", "resource": [
    {"type": "Patient", "interaction": [{"code": "read"}, {"code": "search-type"},
                                        {"code": "history-type"}]},
    {"type": "Observation", "interaction": [{"code": "search-type"}]},
    {"type": "Binary", "interaction": [{"code": "read"}]}
  ]}]})";

TEST(CapabilityStatement, ReadsTypesAndInteractions) {
  const ServerCapabilities capabilities = parse_capability_statement(kCapability, "http://x");
  EXPECT_EQ(capabilities.fhir_version, "4.0.1");
  EXPECT_EQ(capabilities.software, "Test Server 1.2");
  ASSERT_EQ(capabilities.resources.size(), 3u);
  EXPECT_TRUE(capabilities.resources.at("Patient").search);
  EXPECT_TRUE(capabilities.resources.at("Patient").type_history);
  EXPECT_TRUE(capabilities.resources.at("Observation").search);
  EXPECT_FALSE(capabilities.resources.at("Observation").type_history);
  EXPECT_FALSE(capabilities.resources.at("Binary").search);
  // No search parameters listed anywhere: search-type is all there is to go on.
  EXPECT_FALSE(capabilities.lists_search_params);
  EXPECT_TRUE(capabilities.incremental_search("Observation"));
  EXPECT_FALSE(capabilities.incremental_search("Binary"));
}

TEST(CapabilityStatement, ATypeWithoutLastUpdatedAmongListedParametersIsNotIncremental) {
  const ServerCapabilities capabilities = parse_capability_statement(R"({
    "resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
    "rest": [{"mode": "server", "resource": [
      {"type": "Patient", "interaction": [{"code": "search-type"}],
       "searchParam": [{"name": "_lastUpdated", "type": "date"}, {"name": "name"}]},
      {"type": "Binary", "interaction": [{"code": "search-type"}]}]}]})",
                                                                     "http://x");
  EXPECT_TRUE(capabilities.lists_search_params);
  EXPECT_TRUE(capabilities.incremental_search("Patient"));
  EXPECT_FALSE(capabilities.incremental_search("Binary"));
  EXPECT_FALSE(capabilities.incremental_search("Encounter"));

  const ServerCapabilities server_wide = parse_capability_statement(R"({
    "resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
    "rest": [{"mode": "server", "searchParam": [{"name": "_lastUpdated"}], "resource": [
      {"type": "Binary", "interaction": [{"code": "search-type"}]}]}]})",
                                                                    "http://x");
  EXPECT_TRUE(server_wide.incremental_search("Binary"));
}

TEST(CapabilityStatement, ARepeatedMemberKeepsItsLastValue) {
  // As JSON parsers commonly read it (and Python's json.loads): the last value counts.
  const ServerCapabilities capabilities = parse_capability_statement(R"({
    "resourceType": "Patient", "resourceType": "CapabilityStatement",
    "fhirVersion": "3.0.2", "fhirVersion": "4.0.1",
    "rest": [{"mode": "client", "mode": "server", "resource": [
      {"type": "Binary", "type": "Patient",
       "interaction": [{"code": "read"}], "interaction": [{"code": "search-type"}]}]}]})",
                                                                     "http://x");
  EXPECT_EQ(capabilities.fhir_version, "4.0.1");
  ASSERT_EQ(capabilities.resources.size(), 1u);
  EXPECT_TRUE(capabilities.resources.at("Patient").search);
}

TEST(CapabilityStatement, RefusesOtherVersionsAndOtherDocuments) {
  std::string r5(kCapability);
  r5.replace(r5.find("4.0.1"), 5, "5.0.0");
  try {
    parse_capability_statement(r5, "http://x/fhir");
    ADD_FAILURE() << "accepted R5";
  } catch (const SourceError& error) {
    EXPECT_THAT(error.what(), HasSubstr("FHIR 5.0.0"));
    EXPECT_THAT(error.what(), HasSubstr("R4"));
  }
  EXPECT_THROW(parse_capability_statement("<html/>", "http://x"), SourceError);
  EXPECT_THROW(parse_capability_statement(R"({"resourceType":"Patient"})", "http://x"),
               SourceError);
}

TEST(HttpOptions, CredentialsStayWithBaseUrlAndTheAllowedOrigins) {
  const Options mapped = http_options({{"base_url", "https://fhir.test/r4/"},
                                       {"auth_type", "bearer"},
                                       {"token", "t0k"},
                                       {"http.allowed_origins", "https://files.fhir.test:8443"}});
  EXPECT_EQ(mapped.find("http.allowed_origins"), "https://files.fhir.test:8443");
  std::vector<std::string> origins;
  for (const http::Origin& origin : http::ClientConfig::from_options(mapped).credential_origins) {
    origins.push_back(origin.to_string());
  }
  EXPECT_EQ(origins,
            (std::vector<std::string>{"https://fhir.test", "https://files.fhir.test:8443"}));
}

TEST(HttpOptions, MapsEachAuthTypeToTheToolkit) {
  const Options none = http_options({{"base_url", "https://fhir.test/r4/"}});
  EXPECT_EQ(none.find("base_url"), "https://fhir.test/r4");
  EXPECT_EQ(none.find("auth.type"), "none");

  const Options bearer =
      http_options({{"base_url", "https://f"}, {"auth_type", "bearer"}, {"token", "t0k"}});
  EXPECT_EQ(bearer.find("auth.type"), "bearer");
  EXPECT_EQ(bearer.find("auth.token"), "t0k");

  const Options secret = http_options({{"base_url", "https://f"},
                                       {"auth_type", "client_secret"},
                                       {"client_id", "etl"},
                                       {"client_secret", "s3cret"},
                                       {"scope", "system/*.read"},
                                       {"http.max_attempts", "2"}});
  EXPECT_EQ(secret.find("auth.type"), "oauth2_client_credentials");
  EXPECT_EQ(secret.find("auth.client_id"), "etl");
  EXPECT_EQ(secret.find("auth.client_secret"), "s3cret");
  EXPECT_EQ(secret.find("auth.client_auth"), "basic");
  EXPECT_EQ(secret.find("auth.scope"), "system/*.read");
  EXPECT_EQ(secret.find("http.max_attempts"), "2");
  EXPECT_FALSE(secret.contains("auth.token_url"));

  const Options jwt = http_options({{"base_url", "https://f"},
                                    {"auth_type", "jwt_assertion"},
                                    {"client_id", "etl"},
                                    {"private_key_pem", "pem-text"},
                                    {"kid", "k1"},
                                    {"scope", "system/*.read"},
                                    {"private_key_algorithm", "ES384"},
                                    {"token_url", "https://f/token"}});
  EXPECT_EQ(jwt.find("auth.type"), "smart_backend_services");
  EXPECT_EQ(jwt.find("auth.algorithm"), "ES384");
  EXPECT_EQ(jwt.find("auth.kid"), "k1");
  EXPECT_EQ(jwt.find("auth.token_url"), "https://f/token");
}

TEST(HttpOptions, NamesWhatIsMissingWithoutEchoingSecrets) {
  auto message = [](const Options& options) {
    try {
      http_options(options);
    } catch (const ConfigError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(message({{"auth_type", "none"}}), HasSubstr("base_url"));
  EXPECT_THAT(message({{"base_url", "fhir.test"}}), HasSubstr("not an http(s) URL"));
  EXPECT_THAT(message({{"base_url", "https://f"}, {"auth_type", "basic"}}), HasSubstr("auth_type"));
  EXPECT_THAT(message({{"base_url", "https://f"}, {"auth_type", "bearer"}}), HasSubstr("'token'"));
  const std::string missing_scope = message({{"base_url", "https://f"},
                                             {"auth_type", "jwt_assertion"},
                                             {"client_id", "etl"},
                                             {"private_key_pem", "PRIVATE-KEY-TEXT"},
                                             {"kid", "k1"}});
  EXPECT_THAT(missing_scope, HasSubstr("'scope'"));
  EXPECT_THAT(missing_scope, Not(HasSubstr("PRIVATE-KEY-TEXT")));
}

// The framework checks the connection options against connector_spec.yaml before the connector
// does anything (so before any request).
TEST(FhirConnector, RejectsAnUnknownConnectionOptionWithoutEchoingIt) {
  std::string typo = "no error";
  try {
    FhirConnector connector({{"base_url", "https://f"}, {"clientsecret", "hunter2"}});
  } catch (const ConfigError& error) {
    typo = error.what();
  }
  EXPECT_THAT(typo, HasSubstr("fhir: unknown connection option 'clientsecret'"));
  EXPECT_THAT(typo, HasSubstr("client_secret"));
  EXPECT_THAT(typo, Not(HasSubstr("hunter2")));
}

// A body as HttpClient returns it: capacity padded for simdjson.
std::string padded(std::string_view text) {
  std::string body(text);
  body.reserve(body.size() + RecordBatch::kPadding);
  return body;
}

TEST(Bundle, HandsOutEachEntryWithTheResourceTextAsSent) {
  const std::string body = padded(R"({"resourceType":"Bundle","type":"searchset",
    "entry":[{"fullUrl":"http://x/Patient/1","resource":{"resourceType":"Patient","id":"1",
      "meta":{"lastUpdated":"2024-01-01T00:00:00.000Z"},"multipleBirthInteger":2,"x":1.50},
      "search":{"mode":"match"}},
     {"request":{"method":"DELETE","url":"Patient/2"},"response":{"status":"204",
      "lastModified":"2024-01-02T00:00:00Z"}}],
    "link":[{"relation":"self","url":"http://x/Patient"}]})");
  std::vector<std::string> seen;
  for_each_bundle_entry(body, "http://x/Patient", [&](const BundleEntry& entry) {
    if (!entry.resource.empty()) {
      EXPECT_EQ(entry.search_mode, "match");
      EXPECT_EQ(entry.full_url, "http://x/Patient/1");
      EXPECT_THAT(std::string(entry.resource), HasSubstr(R"("x":1.50})"));
      const ResourceHeader header =
          read_resource_header(entry.resource, body.data() + body.capacity(), "http://x");
      EXPECT_EQ(header.resource_type, "Patient");
      EXPECT_EQ(header.id, "1");
      EXPECT_EQ(header.last_updated, "2024-01-01T00:00:00.000Z");
      seen.push_back("resource");
    } else {
      EXPECT_EQ(entry.request_method, "DELETE");
      EXPECT_EQ(entry.request_url, "Patient/2");
      EXPECT_EQ(entry.response_last_modified, "2024-01-02T00:00:00Z");
      seen.push_back("delete");
    }
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"resource", "delete"}));
}

TEST(Bundle, RefusesWhatIsNotABundle) {
  for (const char* text :
       {R"({"resourceType":"OperationOutcome"})", "[1,2]", R"({"entry":[]})", "not json"}) {
    const std::string body = padded(text);
    EXPECT_THROW(for_each_bundle_entry(body, "http://x/Patient", [](const BundleEntry&) {}),
                 SourceError)
        << text;
  }
}

}  // namespace
}  // namespace lakeflow::fhir
