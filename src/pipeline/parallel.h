// Work spread over threads: the runner's partitioned reads (one table's partitions read at once).
#pragma once

#include <cstddef>
#include <functional>

namespace lakeflow::pipeline {

// Calls `work(item, worker)` for every item in [0, count), on up to `workers` threads (at least
// one; worker 0 is the calling thread, the others are started here). Items are taken in order by
// whichever worker is free; `worker` says which one runs it, so per-worker state (a connector of
// its own) needs no locking. After an item throws, no new item starts; once every thread stopped,
// the first exception is rethrown.
void for_each_parallel(std::size_t count, std::size_t workers,
                       const std::function<void(std::size_t item, std::size_t worker)>& work);

}  // namespace lakeflow::pipeline
