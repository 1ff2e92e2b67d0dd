// The `github` connector: reads one GitHub repository through GitHub's REST API (api.github.com,
// or a GitHub Enterprise Server's https://HOST/api/v3).
//
// Connection options (connector_spec.yaml; README.md documents each):
//   owner, repo          the repository (`octocat`, `hello-world`); repositories lists the
//                        owner's repositories
//   token                a personal access token (classic or fine-grained) or an installation
//                        token, sent as `Authorization: Bearer` (secret)
//   app_id, installation_id, app_private_key
//                        instead of token: a GitHub App; the connector signs an RS256 JWT with
//                        the app's private key (secret) and exchanges it for an installation
//                        token (POST /app/installations/{id}/access_tokens)
//   base_url             https://api.github.com (default) or a GHES API root
// Table options: max_records_per_batch (the SDK's), page_size (1-100, default 100).
//
// Tables and offsets:
//   issues, issue_comments   cdc on updated_at: `since` and ascending sort by updated_at
//   pull_requests            cdc on updated_at: no `since` parameter; read newest first until
//                            older than the offset, delivered oldest first
//   commits                  cdc on commit.committer.date: `since`/`until`, delivered oldest first
//   repositories, releases, contributors   snapshot (one call reads all)
// Incremental offsets are the SDK's cursor with ties (lakeflow/cursor.h), keyed by id (sha for
// commits). Reads stop at the connector's construction time (ReadContext::read_cap).
// Pull requests are not issues here: the issues table drops records with a `pull_request` member.
// Deletes: GitHub's REST API exposes no list of deleted issues, comments or commits; the snapshot
// tables reflect deletions on every read, the cdc tables never see them.
//
// Pagination follows the `Link` header's rel="next". Rate limits: the HTTP toolkit slows down on
// X-RateLimit-* headers and waits out a 403/429 with X-RateLimit-Remaining 0 or Retry-After.
//
// Records are GitHub's JSON objects as returned.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/connector.h"
#include "lakeflow/http/client.h"

namespace lakeflow::github {

class GithubConnector : public LakeflowConnect {
 public:
  // Throws ConfigError naming a missing or invalid option; HttpError when an app's installation
  // token cannot be obtained.
  explicit GithubConnector(const Options& options);

 protected:
  std::vector<std::string> do_list_tables() override;
  StructType do_get_table_schema(const TableContext& context) override;
  TableMetadata do_read_table_metadata(const TableContext& context) override;
  ReadResult do_read_table(const ReadContext& context) override;

 private:
  struct Incremental;
  ReadResult read_snapshot(const ReadContext& context, const std::string& url);
  ReadResult read_incremental(const ReadContext& context, const Incremental& table);
  std::string repo_url(std::string_view path) const;

  std::string base_url_;
  std::string owner_;
  std::string repo_;
  std::shared_ptr<http::HttpClient> client_;
};

}  // namespace lakeflow::github
