// statusz shared registries: one registry for a pool of worker processes.
//
// A Registry made with RegistryOptions::shared = "NAME" (Python:
// statusz.Registry(shared="NAME")) counts its meters, counters and keyed
// counters into a shared-memory store (/dev/shm/statusz.NAME, mode 0600) that
// every process of the same user opening the same name counts into too; any
// of them renders the whole pool: counts summed, one Dropwizard EWMA per
// meter computed from the summed count, counters aggregated by the
// CounterMode chosen at registration (sum, max, min, live-sum), keyed
// counters merged under one max_keys (the first registration's; overflow and
// dropped() as a private KeyedCounter's). Gauges and probes are evaluated by
// the rendering process (they are functions of that process's state: a pool
// value would need every process to answer each read). Histograms and timers
// are not shared: asking a shared registry for one throws std::logic_error.
// Capacity (SharedLimits, RegistryOptions::shared_limits; the same in every
// process, or SharedStoreError): slots (counting threads alive at once),
// cells (1 per meter or counter, max_keys + 2 per keyed counter), entries
// (metrics) and key bytes (264 per max_keys), reserved at registration: a
// registration that does not fit throws SharedStoreError, an inc() never
// loses a count to capacity.
// The design, costs and guarantees: detail/shm.hpp.
//
// Cost: mark()/inc() as on a private registry (one add to a cell the thread
// owns, no lock, no syscall) once the thread has claimed its slot (its first
// count, under the store's process-shared mutex); a keyed inc() of a key the
// pool has is the private probe then that add; a key new to the pool is
// inserted under the mutex. Reads take that mutex and cost O(slots x
// metrics); a render first reaps dead processes' slots.
// Thread-safety: as Registry.
#pragma once

#include <string_view>

#include "detail/shm.hpp"

namespace statusz {

// Unlinks the shared store NAME (e.g. when a pool starts, to count from
// zero); false if there was none. Processes that have it open keep counting
// into the unlinked store. Throws std::invalid_argument for a bad name.
inline bool remove_shared(std::string_view name) {
  return detail::SharedStore::remove(name);
}

// The file backing the shared store NAME.
inline std::string shared_path(std::string_view name) {
  return detail::SharedStore::path_of(name);
}

}  // namespace statusz
