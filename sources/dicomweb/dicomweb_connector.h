// The DICOMweb connector: imaging metadata from a VNA or PACS through QIDO-RS (DICOM PS3.18 §10.6),
// one table per level of the DICOM information model: `studies`, `series`, `instances`; and
// `instance_metadata`, every attribute of each instance from WADO-RS RetrieveMetadata of its
// series.
//
// Connection options (upstream's names):
//   base_url         the DICOMweb root, the one /studies lives under, e.g.
//                    http://localhost:8042/dicom-web (required; no credentials in it)
//   username, password  HTTP Basic authentication (both, or neither)
//   token            a bearer token ("Authorization: Bearer <token>"); not with username/password
//   connection_name  stored in every row's connection_name (default: base_url)
//   http.*           the HTTP toolkit's options (retries, timeouts, rate limits, TLS, proxy)
// Table options: page_size (results per QIDO-RS request, 1..10000, default 100),
// max_records_per_batch (the SDK's rule), starting_date (YYYYMMDD: the first sync reads studies
// from that study date on; default every study), lookback_days (0..36500, default 1: how many days
// before the previous sync's date a sync reads again), study_qido_filters, series_qido_filters,
// instance_qido_filters (JSON objects of more QIDO-RS query parameters: matching attributes,
// fuzzymatching, includefield). Upstream's window_days, num_partitions and max_concurrent_downloads
// are accepted and change nothing here; its fetch_dicom_files and fetch_metadata must be false
// (files are not downloaded) and wado_mode and dicom_volume_path are accepted with them.
//
// Reads: GET {base_url}/{studies|series|instances}?includefield=...&limit=&offset= (plus
// StudyDate=<from>- after the first sync and the filters), paged by qido_paging.h, so stores and
// deletes on the server during a read neither skip nor repeat a result. A sync ("pass") reads the
// whole list once; its end offset records the study date it started on. The next connector instance
// (the next run) starts a new pass from that date minus lookback_days; the instance that completed
// a pass returns its offset unchanged, so a run converges.
//
// instance_metadata pages through the series search the same way and asks for
// {base_url}/studies/{study}/series/{series}/metadata for each series found.
//
// Offsets: `{"pass": {"from": "YYYYMMDD" or "", "consumed": n, "anchors": [uid, ...]},
// "through": "YYYYMMDD", "run": "<instant>"}` while a pass is under way; `{"through", "run"}` once
// it completed (`through`: the UTC date the pass started; `run`: the connector instance).
// instance_metadata adds `"series": {"uid", "after"}` to the pass when a read call ended inside a
// series: its instances after SOP Instance UID `after` come next.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dicom_json.h"
#include "lakeflow/connector.h"
#include "lakeflow/http/client.h"

namespace lakeflow::dicomweb {

struct TableDefinition;

class DicomwebConnector : public LakeflowConnect {
 public:
  // Throws ConfigError for a missing or bad base_url, contradictory credentials, credentials the
  // server refuses (HTTP 401/403) or a base_url that does not answer a QIDO-RS search;
  // SourceError when the server cannot be reached.
  explicit DicomwebConnector(const Options& options);

 protected:
  std::vector<std::string> do_list_tables() override;
  StructType do_get_table_schema(const TableContext& context) override;
  TableMetadata do_read_table_metadata(const TableContext& context) override;
  // Throws ConfigError for an offset of another shape, SourceError when the server fails.
  ReadResult do_read_table(const ReadContext& context) override;

 private:
  struct Settings;
  struct PassStart;
  // One walk through a QIDO-RS result list: `list` names the search, `visit` takes each new result
  // (adding rows to the page's batch or to `out`) and returns false to stop before it.
  struct ListWalk {
    std::string_view table;
    const Settings* settings = nullptr;
    const TableDefinition* list = nullptr;
    std::function<std::int64_t()> page_size;  // 0: the read call is full
    std::function<bool(RecordBatch& page, std::string_view object, ObjectMembers& members,
                       std::vector<RecordBatch>& out)>
        visit;
  };
  struct ListRead {
    bool exhausted = false;  // the list ended: the pass is complete
    int restarts = 0;
  };
  Settings settings(const TableContext& context) const;
  // One small search proves base_url and the credentials (`auth` names them for messages) before
  // any table is read: ConfigError for 401/403/404/405 or an answer that is not DICOM JSON.
  void check_endpoint(std::string_view auth) const;
  PassStart pass_start(const ReadContext& context, const Settings& settings) const;
  ListRead walk_list(const ListWalk& walk, PassStart& pass,
                     std::vector<RecordBatch>& batches) const;
  void append_row(RecordBatch& batch, std::string_view object, ObjectMembers& members) const;
  // instance_metadata: the rows of one series (WADO-RS metadata) after the pass's position inside
  // it, while `room` lasts. Returns false when the series was not finished.
  bool read_series_metadata(const TableDefinition& table, std::string_view series, PassStart& pass,
                            std::int64_t& room, std::vector<RecordBatch>& out) const;
  std::string search_url(const TableDefinition& table, const Settings& settings,
                         const std::string& from, std::int64_t offset, std::int64_t limit) const;

  std::string base_url_;
  std::string connection_name_json_;  // `"connection_name":"..."`
  std::string run_;                   // this instance's read cap, naming the passes it completes
  std::string today_;                 // the read cap's UTC date, YYYYMMDD
  std::shared_ptr<http::HttpClient> client_;
};

}  // namespace lakeflow::dicomweb
