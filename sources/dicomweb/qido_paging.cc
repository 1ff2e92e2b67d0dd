#include "qido_paging.h"

#include <algorithm>

namespace lakeflow::dicomweb {

PageRequest next_request(const ListPosition& position, std::int64_t page_size) {
  const auto anchors = static_cast<std::int64_t>(position.anchors.size());
  const std::int64_t before = std::min(anchors, position.consumed);
  return PageRequest{position.consumed - before, page_size + before};
}

std::optional<std::size_t> first_new(const ListPosition& position,
                                     std::span<const std::string_view> keys) {
  if (position.consumed == 0) return 0;
  for (auto anchor = position.anchors.rbegin(); anchor != position.anchors.rend(); ++anchor) {
    // The last occurrence: a server may list a result twice across a shift, never within a page.
    const auto found = std::find(keys.rbegin(), keys.rend(), std::string_view(*anchor));
    if (found != keys.rend()) return static_cast<std::size_t>(keys.rend() - found);
  }
  return std::nullopt;
}

bool is_anchor(const ListPosition& position, std::string_view key) {
  return std::find(position.anchors.begin(), position.anchors.end(), key) != position.anchors.end();
}

void advance(ListPosition& position, const PageRequest& request, std::size_t index,
             std::string_view key) {
  position.consumed = request.offset + static_cast<std::int64_t>(index) + 1;
  position.anchors.emplace_back(key);
  if (position.anchors.size() > kAnchors) position.anchors.erase(position.anchors.begin());
}

}  // namespace lakeflow::dicomweb
