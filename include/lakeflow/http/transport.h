// Where an HttpClient's requests go: the network (the default), or a test stand-in that records,
// replays or simulates the source (see test_mode.h). The client keeps everything else: retries,
// rate limits, auth, redirects and redaction happen the same way whatever the transport, so a
// connector behaves identically in every test mode.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "lakeflow/http/message.h"

namespace lakeflow::http {

class Redactor;

// One response as a transport returns it: no retries, no redirects followed.
struct WireResponse {
  int status = 0;
  Headers headers;  // names lower-cased
  std::string body;
};

// Sends a request over the network once. nullopt when no response arrived (a network failure the
// client reports and retries itself).
using LiveExchange = std::function<std::optional<WireResponse>(const Request& wire)>;

class Transport {
 public:
  virtual ~Transport() = default;
  // Answers one request exactly as the client would put it on the wire (credentials included).
  // `redactor` is the client's: whatever a transport stores passes through it first. `live` sends
  // the request over the network; a stand-in never calls it. Returns nullopt for a network
  // failure. Throws an Error for a request the transport cannot answer (an unmatched replay);
  // the client does not retry it.
  virtual std::optional<WireResponse> exchange(const Request& wire, const Redactor& redactor,
                                               const LiveExchange& live) = 0;
};

// The transport new clients take by default (ClientContext::transport): null means the network.
// Set by the conformance suite for the test mode; thread-safe.
std::shared_ptr<Transport> process_transport();
void set_process_transport(std::shared_ptr<Transport> transport);

}  // namespace lakeflow::http
