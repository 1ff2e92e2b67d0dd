// The hl7v2 connector's second source (`source_type: gcp`): the messages of a Google Cloud
// Healthcare API HL7v2 store, listed with `projects.locations.datasets.hl7V2Stores.messages.list`
// (view RAW_ONLY: each message's ER7 text, base64 in `data`, with its `name` and `sendTime`). The
// text goes through the same splitter, parser and record builders as a file's (hl7v2_table_read.h),
// so the tables are the same; a row's `source_file` is the message's ID in the store and
// `message_position` its byte offset in the message's data (0 but for data holding several).
//
// Incremental by send time, keyset style (hl7v2_api_doc.md, "Read API"; DESIGN.md §6): the store
// filters and orders by `sendTime` (MSH-7 as the store read it), which no other field offers, so
// every read call is a fresh query
//   filter = sendTime >= "<cursor>" AND sendTime < "<cap>" [AND (<option filter>)]
//   orderBy = sendTime, paged by pageToken within the call,
// and skips what the offset says it delivered at the cursor instant (lakeflow/cursor.h): the
// boundary instant is read again on purpose, so a message with the cursor's send time that reached
// the store during the previous read is read, and none is read twice. The cap is the connector's
// read cap less `max_arrival_delay`: a message whose send time lies within that delay of now may
// not be in the store (or its filter index) yet, so the next run reads that stretch instead.
//
// Offsets: `{"cursor": "<sendTime>", "ids": ["<message id>", ...]}` (lakeflow/cursor.h), plus
// `"partial": {"id", "send_time", "position", "segment"}` when a read call ended inside a message
// (its units before byte `position`, and its segments before `segment` in the unit there, are
// read). `{}` reads from the first message.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "hl7v2_table_read.h"
#include "lakeflow/connector.h"
#include "lakeflow/cursor.h"
#include "lakeflow/http/client.h"
#include "lakeflow/json.h"
#include "lakeflow/options.h"

namespace lakeflow::hl7v2 {

class GcpStore {
 public:
  // Reads the gcp connection options (project_id, location, dataset_id, hl7v2_store_id, one of
  // access_token and service_account_json, and optionally base_url, filter, max_arrival_delay).
  // With service_account_json the connector signs a JWT bearer grant with the account's key and
  // renews the token before it expires (lakeflow/http/auth.h, GoogleServiceAccount). Throws
  // ConfigError naming a missing or bad option.
  explicit GcpStore(const Options& options);

  // One read call of `table` (see the file comment). Throws ConfigError for an offset of another
  // shape, http::HttpError (code kAccess for 401 and 403) naming the store and what to check when
  // the store refuses the request, SourceError when it answers something unusable.
  ReadResult read(const TableKind& table, const ReadContext& context);

  // The store's resource name, `projects/<p>/locations/<l>/datasets/<d>/hl7V2Stores/<s>`.
  const std::string& store_name() const { return store_name_; }

  // Where a read call ended inside a message: the message, its send time and where to resume.
  struct Partial {
    std::string id;
    std::string send_time;
    std::int64_t order = 0;
    std::uint64_t position = 0;
    std::size_t segment = 0;
  };

 private:
  // A message of a listing page: its ID, send time (as written and ordered) and data.
  struct ListedMessage {
    std::string id;
    std::string send_time;
    std::int64_t order = 0;
    const JsonValue* data = nullptr;  // base64 of the ER7 text; may be absent
  };

  // GETs one page of the listing; rethrows the store's refusals with what to check.
  http::Response get_page(const std::string& url) const;
  // Reads a listed message's name and sendTime; throws SourceError for a message without them or
  // one listed out of send-time order (before `cursor`).
  ListedMessage listed_message(const JsonValue& message, const TieCursor& cursor) const;
  // Adds the table's rows of `listed` (from `partial` when it names this message). Returns true
  // when the message is finished; false when the batch filled inside it, with `partial` set.
  static bool take_message(TableRead& read, const ListedMessage& listed,
                           std::optional<Partial>& partial);

  std::shared_ptr<http::HttpClient> client_;
  std::string store_name_;
  std::string messages_url_;  // <base_url>/<store_name_>/messages
  std::string filter_;        // the option `filter`, or empty
  std::chrono::milliseconds max_arrival_delay_{0};
  bool service_account_ = false;  // authenticated with service_account_json
};

}  // namespace lakeflow::hl7v2
