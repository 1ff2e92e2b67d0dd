// The FHIR R4 connector: one table per resource type, read incrementally over meta.lastUpdated.
//
// Connection options (as upstream's FHIR connector, plus `bearer`):
//   base_url               the FHIR R4 base, e.g. https://fhir.example.org/r4 (required)
//   auth_type              none | bearer | client_secret | jwt_assertion (default none)
//   token                  bearer: the access token (secret)
//   token_url              client_secret / jwt_assertion: the token endpoint; when absent it is
//                          discovered from [base]/.well-known/smart-configuration
//   client_id              client_secret / jwt_assertion
//   client_secret          client_secret (secret; sent with HTTP Basic)
//   private_key_pem        jwt_assertion: PEM private key (secret)
//   private_key_algorithm  jwt_assertion: RS384 (default) or ES384
//   kid                    jwt_assertion: the key's id in the client's registered JWKS
//   scope                  token scope, e.g. system/*.read (required for jwt_assertion)
//   resource_types         comma list of resource types to serve (default: every R4 type the
//                          server's CapabilityStatement offers for search)
//   http.*                 the HTTP toolkit's options (retries, timeouts, rate limits, TLS, proxy)
// Table options: page_size (_count, default 100, 1..1000), max_records_per_batch (default 1000).
//
// Reads: GET [base]/[type]?_sort=_lastUpdated&_count=N&_lastUpdated=ge<cursor>&_lastUpdated=le<cap>
// following Bundle next links; the position is exact at ties (see fhir_position.h); the cap is the
// time the connector was constructed, so a read terminates while the server keeps changing.
// Deletes: types whose CapabilityStatement entry has history-type are cdc_with_deletes and
// read_table_deletes reads DELETE entries of GET [base]/[type]/_history?_since=<cursor>; other
// types are cdc. Types the server searches but not by _lastUpdated (its CapabilityStatement lists
// search parameters without it) are snapshot tables: GET [base]/[type]?_count=N, every page, on
// every read; the pipeline deletes what a snapshot no longer holds.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhir_capability.h"
#include "fhir_position.h"
#include "lakeflow/connector.h"
#include "lakeflow/http/client.h"
#include "lakeflow/http/pagination.h"

namespace lakeflow::fhir {

// The HTTP toolkit options (http.*, auth.*) for the connector's options. Throws ConfigError for a
// missing or unknown option or an auth_type without its parameters.
Options http_options(const Options& options);

class FhirConnector : public LakeflowConnect {
 public:
  explicit FhirConnector(const Options& options);

  std::vector<std::string> list_tables() override;
  StructType get_table_schema(std::string_view table, const Options& table_options) override;
  TableMetadata read_table_metadata(std::string_view table, const Options& table_options) override;
  ReadResult read_table(std::string_view table, const Offset& start,
                        const Options& table_options) override;
  ReadResult read_table_deletes(std::string_view table, const Offset& start,
                                const Options& table_options) override;

 private:
  struct ReadSettings {
    std::int64_t page_size;
    std::int64_t max_records;
  };
  static ReadSettings read_settings(std::string_view table, const Options& table_options);
  // A type the server searches but not by _lastUpdated: every resource, a page per batch.
  ReadResult read_snapshot(std::string_view table, const ReadSettings& settings);
  bool has_type_history(std::string_view table) const;

  // Where a read stopped: the page holding its last resource, for a read that starts from exactly
  // the offset it returned (the next batch of a run). Inside a large tie this saves paging through
  // the whole tie again; a page whose resources shifted is noticed and the read starts over.
  struct Continuation {
    std::string offset;  // canonical JSON of the end offset
    std::string page_url;
    std::int64_t page_size = 0;
    std::optional<std::int64_t> query_lower;  // the _lastUpdated=ge bound of that search
  };

  std::string base_url_;  // without a trailing '/'
  std::shared_ptr<http::HttpClient> client_;
  http::NextUrlInBody next_link_{"link[relation=next].url"};
  ServerCapabilities capabilities_;
  std::vector<std::string> tables_;
  // The read cap: when the connector was constructed.
  std::int64_t read_until_micros_;
  std::string read_until_;
  std::mutex continuation_mutex_;
  std::map<std::string, Continuation, std::less<>> continuations_;
};

}  // namespace lakeflow::fhir
