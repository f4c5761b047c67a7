#pragma once
/// The call statistics a server keeps per function (docs/SPEC.md, "Statistics"), as a reader sees
/// them: SegmentInspector::stats() (inspect.hpp).

#include <array>
#include <cstdint>

#include "shmrpc/layout.hpp"

namespace shmrpc {

/// Statistics of one function, summed over channels.
struct FunctionStats {
  std::uint64_t calls = 0;
  std::uint64_t errors = 0;
  std::uint64_t timed = 0;
  std::uint64_t total_ns = 0;
  std::uint64_t max_ns = 0;
  std::array<std::uint64_t, layout::kStatsBuckets> buckets{};
  std::uint64_t elements = 0;       ///< elements a stream function wrote
  std::uint64_t element_bytes = 0;  ///< bytes of those elements
};

}  // namespace shmrpc
