// n-dimensional arrays through a real server: ArrayView arguments in C, Fortran and strided
// layouts, copied or passed where they lie in shared memory, written in place, ResultNdArray
// results kept as SharedNdArrays, and hostile NdSlots rejected (docs/SPEC.md, sections 6.4 and
// 10.3).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "await_state.hpp"
#include "server_process.hpp"
#include "shmrpc/client.hpp"
#include "shmrpc/detail/call_protocol.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/segment.hpp"
#include "shmrpc/shared_array.hpp"

namespace shmrpc::test {
namespace {

using testing::HasSubstr;
using Ramp = SharedNdArray<std::int32_t, 3>;
using Flat = SharedNdArray<std::int32_t, 2>;

class NdArrayTest : public testing::Test {
 protected:
  ServerProcess server_{unique_name("nd"), define_test_functions};
  Client client_{server_.name()};
};

TEST_F(NdArrayTest, ArraysOfAnyRankAndLayoutAreReadAsTheyAre) {
  std::vector<double> values(4 * 6);
  std::iota(values.begin(), values.end(), 0.0);  // 0 .. 23, sum 276
  const ArrayView<const double, 2> c_order(values.data(), {4, 6});
  EXPECT_EQ(client_.call<double>("nd_total", c_order), 276.0);
  const std::array<std::ptrdiff_t, 2> fortran{1, 4};
  EXPECT_EQ(
      client_.call<double>("nd_total", ArrayView<const double, 2>(values.data(), {4, 6}, fortran)),
      276.0);
  // Every other column (0, 2, 4 of each row): 132.
  const std::array<std::ptrdiff_t, 2> every_other{6, 2};
  EXPECT_EQ(client_.call<double>("nd_total",
                                 ArrayView<const double, 2>(values.data(), {4, 3}, every_other)),
            132.0);
  // Rows backwards (a negative stride): element [0, 0] is the last row's first.
  const std::array<std::ptrdiff_t, 2> reversed{-6, 1};
  EXPECT_EQ(client_.call<double>("nd_total",
                                 ArrayView<const double, 2>(values.data() + 18, {4, 6}, reversed)),
            276.0);
  EXPECT_EQ(client_.call<double>("nd_total", ArrayView<const double, 3>(values.data(), {2, 3, 4})),
            276.0);
  EXPECT_EQ(client_.call<double>("nd_total", ArrayView<const double, 1>(values.data(), {0})), 0.0);
}

TEST_F(NdArrayTest, AStridedViewOfSharedMemoryIsWrittenInPlace) {
  SharedArray<float> shared = client_.zeros<float>(512 * 512);  // a buffer: 1 MiB
  std::fill(shared.begin(), shared.end(), 1.0F);
  const std::size_t mapped = client_.connection()->mapped_buffers();
  const std::array<std::ptrdiff_t, 2> every_other{2 * 512, 2};  // rows 0, 2, ...; columns 0, 2..
  client_.call("nd_negate", ArrayView<float, 2>(shared.data(), {256, 256}, every_other));
  EXPECT_EQ(shared[0], -1.0F);
  EXPECT_EQ(shared[1], 1.0F);
  EXPECT_EQ(shared[512], 1.0F);
  EXPECT_EQ(shared[2 * 512 + 2], -1.0F);
  EXPECT_EQ(std::count(shared.begin(), shared.end(), -1.0F), 256 * 256);
  EXPECT_EQ(client_.connection()->mapped_buffers(), mapped) << "no scratch buffer: no copy";
}

TEST_F(NdArrayTest, AnOrdinaryStridedArrayIsCopiedAndCopiedBack) {
  std::vector<float> values(6 * 8, 2.0F);
  const std::array<std::ptrdiff_t, 2> fortran_like{1, 6};  // 6 x 8, column-major
  client_.call("nd_negate", ArrayView<float, 2>(values.data(), {6, 8}, fortran_like));
  EXPECT_EQ(std::count(values.begin(), values.end(), -2.0F), 48);
  const std::array<std::ptrdiff_t, 2> diagonal_ish{9, 1};  // 5 rows of 1, stepping 9
  client_.call("nd_negate", ArrayView<float, 2>(values.data(), {5, 1}, diagonal_ish));
  EXPECT_EQ(std::count(values.begin(), values.end(), 2.0F), 5);
  EXPECT_EQ(values[9], 2.0F);
  EXPECT_EQ(values[1], -2.0F);
}

TEST_F(NdArrayTest, AResultNdArrayIsKeptWithItsShape) {
  const auto small = client_.call<Ramp>("nd_ramp", 2U, 3U, 4U);
  EXPECT_THAT(std::vector(small.shape().begin(), small.shape().end()),
              testing::ElementsAre(2U, 3U, 4U));
  EXPECT_EQ(small(1, 2, 3), 23);
  const auto large = client_.call<Ramp>("nd_ramp", 64U, 64U, 256U);
  EXPECT_EQ(large(63, 63, 255), 64 * 64 * 256 - 1);  // 4 MiB: in a buffer
  EXPECT_EQ(client_.call<Ramp>("nd_ramp", 0U, 3U, 4U).size(), 0U);
  EXPECT_THROW((void)client_.call<Flat>("nd_ramp", 1U, 1U, 1U), std::invalid_argument);
}

TEST_F(NdArrayTest, TheWrongRankOrTypeIsRefusedBeforeAnythingIsSent) {
  std::vector<float> values(8);
  EXPECT_THROW(client_.call("nd_negate", ArrayView<float, 3>(values.data(), {2, 2, 2})),
               std::invalid_argument);
  EXPECT_THROW(client_.call("nd_negate", ArrayView<const float, 2>(values.data(), {2, 4})),
               std::invalid_argument);
  EXPECT_EQ(client_.call<std::int64_t>("add", 2, 3), 5);
}

// Hostile NdSlots, written raw into this client's own channel.
class HostileNdArrayTest : public NdArrayTest {
 protected:
  HostileNdArrayTest()
      : segment_(Segment::open(server_.name())),
        header_(*reinterpret_cast<const layout::SegmentHeader*>(segment_.data())),
        base_(segment_.data() + header_.channel_table_offset +
              client_.channel() * header_.channel_stride) {}

  layout::CommandBlock& block() const { return *reinterpret_cast<layout::CommandBlock*>(base_); }

  // Sends nd_total with `slot` as its argument; the error message, or "" when it succeeded.
  std::string send(const layout::NdSlot& slot) const {
    const FunctionSchema& function = *client_.schema().find("nd_total");
    std::memcpy(base_ + layout::kFrameOffset + function.arguments[0].offset, &slot, sizeof slot);
    block().function_index = function.index;
    detail::post_state(block().state, detail::CallState::kRequest);
    const auto state = test::await_state(
        block().state, detail::WaitFor::kCompletion, std::chrono::microseconds(50),
        std::chrono::steady_clock::now() + std::chrono::seconds(20));
    EXPECT_TRUE(state.has_value()) << "the server did not answer within 20 s";
    if (state == detail::CallState::kDone) {
      return "";
    }
    EXPECT_EQ(block().status, static_cast<std::uint32_t>(layout::Status::kBadRequest));
    return {block().error_message.data()};
  }

  // A 2 x 3 float64 array at heap offset 64, C-ordered.
  static layout::NdSlot valid() {
    layout::NdSlot slot{};
    slot.data = {.offset = 64, .length = 6, .buffer = 0};
    slot.rank = 2;
    slot.shape = {2, 3};
    slot.strides = {24, 8};
    return slot;
  }

  Segment segment_;
  const layout::SegmentHeader& header_;
  std::byte* base_;
};

TEST_F(HostileNdArrayTest, EveryFieldOfAnNdSlotIsChecked) {
  EXPECT_EQ(send(valid()), "");  // the control
  layout::NdSlot slot = valid();
  slot.rank = 9;
  EXPECT_THAT(send(slot), HasSubstr("rank 9"));
  slot = valid();
  slot.data.length = 7;
  EXPECT_THAT(send(slot), HasSubstr("the shape holds 6 elements but the array says 7"));
  slot = valid();
  slot.strides[1] = 4;
  EXPECT_THAT(send(slot), HasSubstr("not a whole number of 8-byte elements"));
  slot = valid();
  slot.strides[0] = -24;  // row 1 would lie before the heap: 64 - 24 is fine, so start at 8
  slot.data.offset = 8;
  EXPECT_THAT(send(slot), HasSubstr("reach before the start"));
  slot = valid();
  slot.data.offset = header_.heap_size - 40;
  EXPECT_THAT(send(slot), HasSubstr("past the end"));
  slot = valid();
  slot.data.offset = 68;
  EXPECT_THAT(send(slot), HasSubstr("not aligned"));
  slot = valid();
  slot.shape = {std::uint64_t{1} << 40U, std::uint64_t{1} << 40U};
  slot.data.length = 0;
  EXPECT_THAT(send(slot), HasSubstr("2^64"));
  slot = valid();
  slot.strides[0] = std::numeric_limits<std::int64_t>::max() / 8 * 8;
  EXPECT_THAT(send(slot), HasSubstr("run past the end"));
  slot.shape = {6, 1};  // five steps of 2^63 bytes
  EXPECT_THAT(send(slot), HasSubstr("past 2^64 bytes"));
  slot = valid();
  slot.data.buffer = 12345;
  EXPECT_THAT(send(slot), HasSubstr("does not exist"));
  EXPECT_EQ(send(valid()), "");
  EXPECT_EQ(client_.call<std::int64_t>("add", 2, 3), 5);
}

}  // namespace
}  // namespace shmrpc::test
