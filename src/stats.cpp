#include "shmrpc/detail/stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "shmrpc/errors.hpp"

namespace shmrpc::detail {

std::vector<FunctionStats> read_stats(const std::byte* segment, std::size_t size,
                                      std::string_view server) {
  const auto fail = [&](std::string_view what) {
    throw ProtocolError(
        fmt::format("shmrpc: stats region of server '{}' is malformed: {}", server, what));
  };
  if (size < sizeof(layout::SegmentHeader)) {
    fail("the segment is smaller than a header");
  }
  const auto& header = *reinterpret_cast<const layout::SegmentHeader*>(segment);
  if (header.magic != layout::kMagic || header.format_version != layout::kFormatVersion) {
    fail(fmt::format("the segment is not a version {} segment", layout::kFormatVersion));
  }
  if (header.stats_size == 0) {
    return {};
  }
  const std::uint64_t expected = stats_region_size(header.channel_count, header.function_count);
  if (header.stats_record_size != sizeof(layout::StatsRecord) ||
      header.stats_bucket_count != layout::kStatsBuckets) {
    fail(fmt::format("records of {} bytes with {} buckets; this reader knows {} bytes with {}",
                     header.stats_record_size, header.stats_bucket_count,
                     sizeof(layout::StatsRecord), layout::kStatsBuckets));
  }
  if (header.stats_size != expected || header.stats_offset % layout::kCacheLine != 0 ||
      header.stats_offset < sizeof(layout::SegmentHeader) || header.stats_offset > size ||
      header.stats_size > size - header.stats_offset) {
    fail(fmt::format(
        "offset {} and size {} do not fit {} channels x {} functions in the {}-byte "
        "segment",
        header.stats_offset, header.stats_size, header.channel_count, header.function_count, size));
  }
  const auto* records = reinterpret_cast<const layout::StatsRecord*>(segment + header.stats_offset);
  std::vector<FunctionStats> stats(header.function_count);
  for (std::uint32_t channel = 0; channel < header.channel_count; ++channel) {
    for (std::uint32_t function = 0; function < header.function_count; ++function) {
      const layout::StatsRecord& record =
          records[std::size_t{channel} * header.function_count + function];
      FunctionStats& sum = stats[function];
      // Relaxed: statistics, no ordering with anything else (pairs with record_call's stores).
      sum.calls += record.calls.load(std::memory_order_relaxed);
      sum.errors += record.errors.load(std::memory_order_relaxed);
      sum.timed += record.timed.load(std::memory_order_relaxed);
      sum.total_ns += record.total_ns.load(std::memory_order_relaxed);
      sum.max_ns = std::max(sum.max_ns, record.max_ns.load(std::memory_order_relaxed));
      sum.elements += record.elements.load(std::memory_order_relaxed);
      sum.element_bytes += record.element_bytes.load(std::memory_order_relaxed);
      for (std::size_t b = 0; b < layout::kStatsBuckets; ++b) {
        sum.buckets.at(b) += record.buckets.at(b).load(std::memory_order_relaxed);
      }
    }
  }
  return stats;
}

}  // namespace shmrpc::detail
