#pragma once
/// Server side of layout.hpp: lays out a segment for a set of functions and writes its header and
/// metadata tables. Schema (schema.hpp) is the reading side.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "shmrpc/detail/process.hpp"
#include "shmrpc/registry.hpp"
#include "shmrpc/schema.hpp"

namespace shmrpc::detail {

/// Sizes and offsets of every part of a segment, and the bytes of its metadata tables.
struct SegmentPlan {
  std::uint64_t function_table_offset = 0;
  std::uint32_t function_count = 0;
  std::uint64_t argument_table_offset = 0;
  std::uint32_t argument_count = 0;
  std::uint64_t type_table_offset = 0;
  std::uint32_t type_count = 0;
  std::uint64_t member_table_offset = 0;
  std::uint32_t member_count = 0;
  std::uint64_t string_table_offset = 0;
  std::uint32_t string_table_size = 0;
  std::uint64_t stats_offset = 0;  ///< the call statistics, before the channels (detail/stats.hpp)
  std::uint64_t stats_size = 0;
  ChannelGeometry channels;
  std::uint64_t segment_size = 0;
  std::uint64_t layout_hash = 0;
  /// Bytes from the end of the header to the stats region.
  std::vector<std::byte> metadata;
};

/// Lays out `functions` with `channel_count` channels whose frame and heap take `arena_size`
/// bytes. Throws std::invalid_argument when the frame leaves less than a page of heap.
SegmentPlan plan_segment(const std::vector<FunctionDefinition>& functions,
                         std::uint32_t channel_count, std::uint64_t arena_size);

/// Writes the header (state kStarting) and the metadata into a zero-filled segment.
void write_segment(std::byte* segment, const SegmentPlan& plan, ProcessIdentity server);

}  // namespace shmrpc::detail
