// The simulated Cloud Healthcare API HL7v2 store the gcp source's tests read (test/simulator/
// endpoints.yaml): its messages, made from the sample messages in test/messages/ (one store message
// per HL7 message, segments ending in CR as the store keeps them), with malformed ones among them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lakeflow/http/simulator.h"
#include "lakeflow/json.h"
#include "lakeflow/options.h"

namespace lakeflow::hl7v2::test {

inline constexpr std::string_view kStoreName =
    "projects/sim-project/locations/us-central1/datasets/sim-dataset/hl7V2Stores/sim-store";

// One message of the store.
struct StoreMessage {
  std::string id;         // the last part of its resource name
  std::string text;       // the ER7 text (or any bytes: `data` is their base64)
  std::string send_time;  // RFC 3339
  bool base64 = true;     // false: `data` holds `text` as is (not base64)
};

// Connection options for the simulated store (the token is a stand-in the simulator accepts).
Options store_options();

// The sample messages, one store message per HL7 message (and one per stray text), sent a minute
// apart from 2024-03-01T08:00:00Z with some sharing a send time, plus one whose data is not base64.
std::vector<StoreMessage> sample_store_messages();

// The store's JSON for `message` (messages.list, view RAW_ONLY).
JsonValue store_record(const StoreMessage& message);

// Google's token endpoint's answer in the simulation (a stand-in token).
JsonValue token_answer();

// A simulated store from test/simulator/endpoints.yaml holding `messages` (and the token
// endpoint).
std::shared_ptr<http::SimulatedSource> simulated_store(const std::vector<StoreMessage>& messages);

// Writes endpoints.yaml and corpus/messages.json (the sample messages) into `dir`, for the
// conformance suite's simulate mode.
void write_simulator_folder(const std::string& dir);

}  // namespace lakeflow::hl7v2::test
