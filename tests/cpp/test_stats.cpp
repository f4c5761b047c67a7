// The call statistics the server keeps in shared memory (detail/stats.hpp).

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "shmrpc/detail/metadata_writer.hpp"
#include "shmrpc/detail/stats.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/registry.hpp"

namespace shmrpc::test {

TEST(StatsTest, LatencyBucketIsFloorOfLog2) {
  EXPECT_EQ(detail::latency_bucket(0), 0U);
  EXPECT_EQ(detail::latency_bucket(1), 0U);
  EXPECT_EQ(detail::latency_bucket(2), 1U);
  EXPECT_EQ(detail::latency_bucket(3), 1U);
  EXPECT_EQ(detail::latency_bucket(1024), 10U);
  EXPECT_EQ(detail::latency_bucket(2047), 10U);
  EXPECT_EQ(detail::latency_bucket(UINT64_MAX), layout::kStatsBuckets - 1);
}

TEST(StatsTest, RecordCountsCallsErrorsAndTimedLatencies) {
  layout::StatsRecord record{};
  detail::record_call(record, false, true, 100);
  detail::record_call(record, true, true, 5000);
  detail::record_call(record, false, false, 0);
  EXPECT_EQ(record.calls.load(), 3U);
  EXPECT_EQ(record.errors.load(), 1U);
  EXPECT_EQ(record.timed.load(), 2U);
  EXPECT_EQ(record.total_ns.load(), 5100U);
  EXPECT_EQ(record.max_ns.load(), 5000U);
  EXPECT_EQ(record.buckets.at(6).load(), 1U);   // 64 <= 100 < 128
  EXPECT_EQ(record.buckets.at(12).load(), 1U);  // 4096 <= 5000 < 8192
}

TEST(StatsTest, FastFunctionsAreTimedBySample) {
  layout::StatsRecord record{};
  int timed = 0;
  for (int call = 0; call < 64 * 100; ++call) {
    const bool time = detail::should_time(record);
    timed += time ? 1 : 0;
    detail::record_call(record, false, time, time ? 100 : 0);
  }
  EXPECT_EQ(timed, 64 + 99);  // all of the first 64, then one in 64
}

TEST(StatsTest, SlowFunctionsAreAlwaysTimed) {
  layout::StatsRecord record{};
  for (int call = 0; call < 1000; ++call) {
    ASSERT_TRUE(detail::should_time(record)) << call;
    detail::record_call(record, false, true, detail::kStatsTimeAllAboveNs);
  }
}

TEST(StatsTest, ReadStatsRejectsARegionOutsideTheSegment) {
  FunctionRegistry registry;
  registry.def("add", [](std::int64_t a, std::int64_t b) { return a + b; });
  const detail::SegmentPlan plan = detail::plan_segment(registry.functions(), 2, 8192);
  std::vector<std::uint64_t> words(plan.segment_size / 8 + 1);
  auto* segment = reinterpret_cast<std::byte*>(words.data());
  detail::write_segment(segment, plan, detail::current_process());
  EXPECT_EQ(detail::read_stats(segment, plan.segment_size, "t").size(), 1U);
  auto& header = *reinterpret_cast<layout::SegmentHeader*>(segment);
  header.stats_offset = plan.segment_size - 64;
  EXPECT_THROW((void)detail::read_stats(segment, plan.segment_size, "t"), ProtocolError);
  header.stats_offset = plan.stats_offset;
  header.stats_record_size = 128;
  EXPECT_THROW((void)detail::read_stats(segment, plan.segment_size, "t"), ProtocolError);
  header.stats_size = 0;  // no statistics at all is fine
  EXPECT_TRUE(detail::read_stats(segment, plan.segment_size, "t").empty());
}

}  // namespace shmrpc::test
