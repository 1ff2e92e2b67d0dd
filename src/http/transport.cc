#include "lakeflow/http/transport.h"

#include <mutex>

namespace lakeflow::http {
namespace {

std::mutex& transport_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::shared_ptr<Transport>& transport_slot() {
  static std::shared_ptr<Transport> transport;
  return transport;
}

}  // namespace

std::shared_ptr<Transport> process_transport() {
  std::lock_guard lock(transport_mutex());
  return transport_slot();
}

void set_process_transport(std::shared_ptr<Transport> transport) {
  std::lock_guard lock(transport_mutex());
  transport_slot() = std::move(transport);
}

}  // namespace lakeflow::http
