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
// Table options: page_size (_count, default 100, 1..1000), max_records_per_batch (the SDK's batch
// rule, lakeflow/connector.h), page_delay (a pause between the table's page requests, 0 to 60s,
// default 0; fhir_page_pacer.h), profile (base_r4, the default, or uk_core: extracted profile
// columns, fhir_profile.h). connector_spec.yaml lists every option; the framework rejects others.
//
// Reads: GET
// [base]/[type]?_sort=_lastUpdated&_count=N&_lastUpdated=ge<cursor>&_lastUpdated=le<cap>, every
// page a fresh search from the position (keyset paging, fhir_keyset.h), so writes during a read
// cannot shift a later page; the position is exact at ties (see fhir_position.h); the cap is the
// time the connector was constructed, so a read terminates while the server keeps changing.
// Deletes: types whose CapabilityStatement entry has history-type are cdc_with_deletes and
// read_table_deletes reads DELETE entries of GET [base]/[type]/_history?_since=<position>, paged
// the same way over every history entry when the server lists history oldest first; a server
// listing it newest first is read whole since the position once per run, its deletions ordered
// here and handed out a batch per call. Other types are cdc. Types the server searches but not by
// _lastUpdated (its CapabilityStatement lists search parameters without it) are snapshot tables:
// GET [base]/[type]?_count=N, every page, on every read; the pipeline deletes what a snapshot no
// longer holds.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fhir_bundle.h"
#include "fhir_capability.h"
#include "fhir_keyset.h"
#include "fhir_page_pacer.h"
#include "fhir_position.h"
#include "fhir_profile.h"
#include "lakeflow/connector.h"
#include "lakeflow/http/client.h"
#include "lakeflow/http/pagination.h"

namespace lakeflow::fhir {

// The HTTP toolkit options (http.*, auth.*) for the connector's options (already checked against
// connector_spec.yaml). Throws ConfigError for a missing option or an auth_type without its
// parameters.
Options http_options(const Options& options);

class FhirConnector : public LakeflowConnect {
 public:
  explicit FhirConnector(const Options& options);

  // One entry of a type history: a create, update or delete of `id` at `last_modified`.
  struct HistoryItem {
    std::int64_t micros = 0;
    std::string last_modified;
    std::string id;
    std::string key;  // unique within an instant: the id of a delete, "<METHOD> <id>" otherwise
    bool deleted = false;
  };

 protected:
  std::vector<std::string> do_list_tables() override;
  StructType do_get_table_schema(const TableContext& context) override;
  TableMetadata do_read_table_metadata(const TableContext& context) override;
  ReadResult do_read_table(const ReadContext& context) override;
  ReadResult do_read_table_deletes(const ReadContext& context) override;

 private:
  struct ReadSettings {
    std::int64_t page_size;
    std::int64_t max_records;
    std::chrono::milliseconds page_delay;
    Profile profile;
  };
  static ReadSettings read_settings(const TableContext& context);
  static ReadSettings read_settings(const ReadContext& context);
  // The next page of `pages`, after the table's page_delay (fhir_page_pacer.h).
  std::optional<http::Response> next_page(std::string_view table, const ReadSettings& settings,
                                          http::PageReader& pages);
  // A type the server searches but not by _lastUpdated: every resource, a page per batch.
  ReadResult read_snapshot(std::string_view table, const ReadSettings& settings);
  bool has_type_history(std::string_view table) const;

  // A tie group paged by next links that a read stopped inside: where the next read of the run
  // continues, if it starts from the offset `offset`.
  struct TieContinuation {
    std::string offset;  // canonical JSON of the end offset
    std::int64_t page_size = 0;
    TiePage page;
  };
  // Deletions read from a newest-first history, ordered, that later reads of the run hand out.
  struct PendingDeletions {
    std::string offset;  // canonical JSON of the end offset they continue
    TiePosition position;
    std::vector<HistoryItem> deletions;
    std::optional<HistoryItem> newest;  // the newest history entry up to the cap
  };

  // Reads every history page since `start` (the first one given when already fetched).
  ReadResult read_deletes_newest_first(std::string_view table, const Offset& start,
                                       const ReadSettings& settings, BundlePages& bundle_pages,
                                       std::optional<http::Response> first_page);
  ReadResult next_pending_batch(std::string_view table, const Offset& start,
                                const ReadSettings& settings, PendingDeletions pending);
  std::optional<ReadResult> take_pending_deletions(std::string_view table, const Offset& start,
                                                   const ReadSettings& settings);
  bool history_newest_first(std::string_view table);
  std::optional<TiePage> take_tie_page(const std::string& key, const Offset& start,
                                       std::int64_t page_size);
  void keep_tie_page(const std::string& key, const Offset& end, std::int64_t page_size,
                     TiePage page);
  // Throws SourceError when a search result shows that the server ignored _lastUpdated or _sort.
  void check_search_result(std::string_view table, const BundleEntry::Header& header,
                           std::int64_t micros, std::optional<std::int64_t> query_lower,
                           std::optional<std::int64_t> previous, std::string_view url) const;

  std::string base_url_;  // without a trailing '/'
  std::shared_ptr<http::HttpClient> client_;
  ServerCapabilities capabilities_;
  std::vector<std::string> tables_;
  // The read cap (LakeflowConnect::read_cap(): when the connector was constructed).
  std::int64_t read_until_micros_;
  std::string read_until_;
  std::mutex state_mutex_;
  std::map<std::string, TieContinuation, std::less<>> tie_pages_;  // by table or table/_history
  std::map<std::string, PendingDeletions, std::less<>> pending_deletions_;
  std::set<std::string, std::less<>> newest_first_history_;
  // Shared with snapshot streams, which may outlive a read call.
  std::shared_ptr<PagePacer> pacer_ = std::make_shared<PagePacer>();
};

}  // namespace lakeflow::fhir
