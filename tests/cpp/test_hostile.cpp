// A hostile client: it maps the segment itself and writes raw, malformed requests into its own
// channel. Each such call must fail alone (kFailed, Status::kBadRequest) while the server process
// lives on and keeps serving its neighbour, and the attacker's channel keeps working.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "await_state.hpp"
#include "server_process.hpp"
#include "shmrpc/client.hpp"
#include "shmrpc/detail/call_protocol.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/probe.hpp"
#include "shmrpc/schema.hpp"
#include "shmrpc/segment.hpp"
#include "shmrpc/shared_array.hpp"

namespace shmrpc::test {
namespace {

using detail::CallState;
using layout::Status;
using testing::HasSubstr;

constexpr auto kCallPatience = std::chrono::seconds(5);

class HostileTest : public testing::Test {
 protected:
  HostileTest()
      : server_(unique_name("hostile"), define_test_functions,
                {.channels = 4, .arena_size = std::uint64_t{1} << 20U}),
        neighbour_(server_.name()),
        attacker_(server_.name()),
        segment_(Segment::open(server_.name())),
        header_(*reinterpret_cast<const layout::SegmentHeader*>(segment_.data())),
        base_(segment_.data() + header_.channel_table_offset +
              attacker_.channel() * header_.channel_stride) {}

  layout::CommandBlock& block() const { return *reinterpret_cast<layout::CommandBlock*>(base_); }
  std::byte* frame() const { return base_ + layout::kFrameOffset; }
  std::byte* heap() const { return base_ + header_.heap_offset; }
  std::uint64_t heap_size() const { return header_.heap_size; }

  const FunctionSchema& function(std::string_view name) const {
    const FunctionSchema* function = attacker_.schema().find(name);
    if (function == nullptr) {
      throw std::invalid_argument("the test server has no function " + std::string(name));
    }
    return *function;
  }
  std::uint32_t argument_offset(std::string_view name, std::size_t index) const {
    return function(name).arguments.at(index).offset;
  }

  template <class T>
  void put(std::uint32_t offset, const T& value) const {
    std::memcpy(frame() + offset, &value, sizeof value);
  }
  template <class T>
  T get(std::uint32_t offset) const {
    T value;
    std::memcpy(&value, frame() + offset, sizeof value);
    return value;
  }

  // Posts the request written to the frame for function `index` and waits for its end, as a
  // client would; nullopt if the server did not answer within kCallPatience.
  std::optional<CallState> raw_call(std::uint32_t index) const {
    block().function_index = index;
    detail::post_state(block().state, CallState::kRequest);  // release: the frame bytes
    return test::await_state(block().state, detail::WaitFor::kCompletion,
                             std::chrono::microseconds(50),
                             std::chrono::steady_clock::now() + kCallPatience);
  }
  std::optional<CallState> raw_call(std::string_view name) const {
    return raw_call(function(name).index);
  }

  Status status() const { return static_cast<Status>(block().status); }
  std::string error_message() const {
    const auto& text = block().error_message;
    return {text.data(), strnlen(text.data(), text.size())};
  }

  // The call just made was rejected as a bad request whose message contains `text`.
  void expect_rejected(const std::optional<CallState>& state, const std::string& text) const {
    ASSERT_EQ(state, CallState::kFailed) << "the server did not fail the call";
    EXPECT_EQ(status(), Status::kBadRequest);
    EXPECT_THAT(error_message(), HasSubstr(text));
  }

  // The server lives, serves the neighbour, and serves the attacker's own channel again.
  void expect_still_serving() {
    EXPECT_EQ(::kill(server_.pid(), 0), 0) << "the server process died";
    EXPECT_EQ(probe_server(server_.name()).liveness, Liveness::kAlive);
    EXPECT_EQ(neighbour_.call<std::int64_t>("add", 2, 3), 5);
    EXPECT_EQ(attacker_.call<std::int64_t>("add", 20, 22), 42);
  }

  ServerProcess server_;
  Client neighbour_;
  Client attacker_;
  Segment segment_;  // the attacker's own mapping of the whole segment
  const layout::SegmentHeader& header_;
  std::byte* base_;  // the attacker's channel
};

// The control: raw requests written the way this fixture writes them do succeed, so the failures
// below come from the malformed bytes alone.
TEST_F(HostileTest, WellFormedRawRequestsSucceed) {
  ASSERT_NE(attacker_.channel(), neighbour_.channel());
  put(argument_offset("add", 0), std::int64_t{40});
  put(argument_offset("add", 1), std::int64_t{2});
  ASSERT_EQ(raw_call("add"), CallState::kDone);
  EXPECT_EQ(get<std::int64_t>(function("add").return_offset), 42);

  const std::vector<std::int16_t> values{1, 2, 3, -4};
  std::memcpy(heap() + 64, values.data(), values.size() * sizeof(std::int16_t));
  put(argument_offset("sum_i16", 0), layout::VarSlot{64, values.size(), 0});
  ASSERT_EQ(raw_call("sum_i16"), CallState::kDone);
  EXPECT_EQ(get<std::int64_t>(function("sum_i16").return_offset), 2);

  put(argument_offset("iota_f64", 0), std::int32_t{3});
  block().result_offset = 1024;
  block().result_capacity = 1024;
  ASSERT_EQ(raw_call("iota_f64"), CallState::kDone);
  const auto slot = get<layout::VarSlot>(function("iota_f64").return_offset);
  EXPECT_EQ(slot.offset, 1024U);
  EXPECT_EQ(slot.length, 3U);
  double last = 0;
  std::memcpy(&last, heap() + 1024 + 2 * sizeof(double), sizeof last);
  EXPECT_EQ(last, 2.0);
  expect_still_serving();
}

TEST_F(HostileTest, FunctionIndexPastTheEndFailsOnlyThatCall) {
  const auto count = static_cast<std::uint32_t>(attacker_.schema().functions().size());
  expect_rejected(raw_call(count), "out of range");
  expect_rejected(raw_call(std::numeric_limits<std::uint32_t>::max()), "out of range");
  expect_still_serving();
}

TEST_F(HostileTest, SpanOffsetPastTheHeapFailsOnlyThatCall) {
  put(argument_offset("sum_i16", 0), layout::VarSlot{heap_size() + 64, 1, 0});
  expect_rejected(raw_call("sum_i16"), "past the end");
  put(argument_offset("negate", 0),
      layout::VarSlot{std::numeric_limits<std::uint64_t>::max(), 1, 0});
  expect_rejected(raw_call("negate"), "past the end");
  expect_still_serving();
}

TEST_F(HostileTest, OverflowingSpanLengthFailsOnlyThatCall) {
  put(argument_offset("sum_i16", 0),
      layout::VarSlot{0, std::numeric_limits<std::uint64_t>::max() / 2, 0});
  expect_rejected(raw_call("sum_i16"), "run past the end");
  put(argument_offset("sum_u64", 0),
      layout::VarSlot{8, std::numeric_limits<std::uint64_t>::max(), 0});
  expect_rejected(raw_call("sum_u64"), "run past the end");
  expect_still_serving();
}

TEST_F(HostileTest, MisalignedSpanOffsetFailsOnlyThatCall) {
  put(argument_offset("sum_i16", 0), layout::VarSlot{1, 2, 0});
  expect_rejected(raw_call("sum_i16"), "not aligned");
  expect_still_serving();
}

TEST_F(HostileTest, StringPastTheHeapFailsOnlyThatCall) {
  put(argument_offset("length", 0), layout::VarSlot{heap_size() + 1, 4, 0});
  expect_rejected(raw_call("length"), "past the end");
  // A std::string argument is copied by the server: a huge length must not become an allocation.
  put(argument_offset("upper", 0), layout::VarSlot{0, heap_size() + 1, 0});
  expect_rejected(raw_call("upper"), "run past the end");
  expect_still_serving();
}

TEST_F(HostileTest, BoolByteOtherThanZeroOrOneFailsOnlyThatCall) {
  put(argument_offset("echo_bool", 0), std::uint8_t{7});
  expect_rejected(raw_call("echo_bool"), "a bool holds byte 7");
  const std::vector<std::uint8_t> bools{1, 0, 2};
  std::memcpy(heap() + 128, bools.data(), bools.size());
  put(argument_offset("count_true", 0), layout::VarSlot{128, bools.size(), 0});
  expect_rejected(raw_call("count_true"), "a bool holds byte 2");
  expect_still_serving();
}

TEST_F(HostileTest, ResultWindowOutsideTheHeapFailsOnlyThatCall) {
  put(argument_offset("iota_f64", 0), std::int32_t{4});
  block().result_offset = heap_size() + 64;
  block().result_capacity = 64;
  expect_rejected(raw_call("iota_f64"), "result window");
  block().result_offset = 64;
  block().result_capacity = std::numeric_limits<std::uint64_t>::max();
  expect_rejected(raw_call("iota_f64"), "result window");
  block().result_offset = 3;  // misaligned for float64
  block().result_capacity = 256;
  expect_rejected(raw_call("iota_f64"), "misaligned");
  expect_still_serving();
}

TEST_F(HostileTest, GarbageStateIsIgnoredAndTheChannelRecovers) {
  constexpr std::uint32_t kGarbage = 0x1234;
  // Through post_state, so a sleeping channel thread is woken and has to look at the garbage.
  detail::post_state(block().state, static_cast<CallState>(kGarbage));
  // Give the channel thread time to spin, sleep and wake on it (not a timing assertion).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(detail::state_of(block().state.load()), static_cast<CallState>(kGarbage))
      << "the server moved a state it does not own";
  EXPECT_EQ(::kill(server_.pid(), 0), 0);
  EXPECT_EQ(neighbour_.call<std::int64_t>("add", 2, 3), 5);
  // A valid request afterwards is served.
  put(argument_offset("add", 0), std::int64_t{-1});
  put(argument_offset("add", 1), std::int64_t{-2});
  ASSERT_EQ(raw_call("add"), CallState::kDone);
  EXPECT_EQ(get<std::int64_t>(function("add").return_offset), -3);
  expect_still_serving();
}

TEST_F(HostileTest, BufferHandlesAreCheckedBeforeTheirBytesAreRead) {
  block().result_capacity = 4096;
  ASSERT_EQ(raw_call(layout::kMakeBufferIndex), CallState::kDone) << error_message();
  const std::uint64_t id = block().result_offset;
  const Segment buffer = Segment::open_buffer(server_.name(), id);
  ASSERT_EQ(buffer.size(), 4096U);
  const std::vector<std::int16_t> values{5, 6, 7};
  std::memcpy(buffer.data() + 64, values.data(), values.size() * sizeof(std::int16_t));
  put(argument_offset("sum_i16", 0), layout::VarSlot{64, values.size(), id});
  ASSERT_EQ(raw_call("sum_i16"), CallState::kDone) << error_message();  // the control
  EXPECT_EQ(get<std::int64_t>(function("sum_i16").return_offset), 18);

  put(argument_offset("sum_i16", 0), layout::VarSlot{0, 1, id + 1000});
  expect_rejected(raw_call("sum_i16"), "does not exist");
  put(argument_offset("sum_i16", 0), layout::VarSlot{4000, 49, id});
  expect_rejected(raw_call("sum_i16"), "run past the end of buffer");
  put(argument_offset("sum_i16", 0), layout::VarSlot{3, 2, id});
  expect_rejected(raw_call("sum_i16"), "not aligned to 2 bytes");
  put(argument_offset("sum_u64", 0),
      layout::VarSlot{8, std::numeric_limits<std::uint64_t>::max() / 4, id});
  expect_rejected(raw_call("sum_u64"), "more bytes than a buffer can hold");
  put(argument_offset("sum_i16", 0),
      layout::VarSlot{std::numeric_limits<std::uint64_t>::max() - 1, 1, id});
  expect_rejected(raw_call("sum_i16"), "overflows 64 bits");
  const std::vector<std::uint8_t> bools{1, 0, 2};
  std::memcpy(buffer.data() + 128, bools.data(), bools.size());
  put(argument_offset("count_true", 0), layout::VarSlot{128, bools.size(), id});
  expect_rejected(raw_call("count_true"), "a bool holds byte 2");
  expect_still_serving();
}

// The server remembers the buffer a channel's calls found last, so that passing it again takes
// no lock: one call may still name several buffers, and a released one is unknown at once.
TEST_F(HostileTest, ABufferFoundBeforeIsUnknownOnceReleased) {
  const auto make = [&] {
    block().result_capacity = 4096;
    EXPECT_EQ(raw_call(layout::kMakeBufferIndex), CallState::kDone) << error_message();
    return block().result_offset;
  };
  const std::uint64_t first = make();
  const std::uint64_t second = make();
  const Segment first_bytes = Segment::open_buffer(server_.name(), first);
  const Segment second_bytes = Segment::open_buffer(server_.name(), second);
  std::memcpy(first_bytes.data(), "ab", 2);
  std::memcpy(second_bytes.data(), "cd", 2);
  // join(words, separator) with each word in its own buffer.
  const std::array words{layout::VarSlot{.offset = 0, .length = 2, .buffer = first},
                         layout::VarSlot{.offset = 0, .length = 2, .buffer = second}};
  std::memcpy(heap(), words.data(), sizeof words);
  put(argument_offset("join", 0), layout::VarSlot{.offset = 0, .length = 2, .buffer = 0});
  put(argument_offset("join", 1), layout::VarSlot{});
  block().result_offset = 4096;
  block().result_capacity = 4096;
  ASSERT_EQ(raw_call("join"), CallState::kDone) << error_message();
  const auto text = get<layout::VarSlot>(function("join").return_offset);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(heap() + text.offset), text.length),
            "abcd");

  put(argument_offset("sum_i16", 0), layout::VarSlot{.offset = 0, .length = 1, .buffer = first});
  ASSERT_EQ(raw_call("sum_i16"), CallState::kDone) << error_message();
  ASSERT_EQ(raw_call("sum_i16"), CallState::kDone) << error_message();  // found again
  block().result_offset = first;
  ASSERT_EQ(raw_call(layout::kReleaseBufferIndex), CallState::kDone) << error_message();
  put(argument_offset("sum_i16", 0), layout::VarSlot{.offset = 0, .length = 1, .buffer = first});
  expect_rejected(raw_call("sum_i16"), "does not exist");
  put(argument_offset("sum_i16", 0), layout::VarSlot{.offset = 0, .length = 1, .buffer = second});
  ASSERT_EQ(raw_call("sum_i16"), CallState::kDone) << error_message();
  expect_still_serving();
}

TEST_F(HostileTest, BufferRequestsAreCheckedAndFailAlone) {
  block().result_capacity = 0;
  expect_rejected(raw_call(layout::kMakeBufferIndex), "a buffer of 0 bytes");
  block().result_capacity = std::uint64_t{1} << 50U;  // a PiB: more than /dev/shm holds
  ASSERT_EQ(raw_call(layout::kMakeBufferIndex), CallState::kFailed);
  EXPECT_EQ(status(), Status::kOutOfMemory);
  EXPECT_THAT(error_message(), HasSubstr("cannot make a buffer of 1125899906842624 bytes"));
  block().result_offset = 123456;
  expect_rejected(raw_call(layout::kReleaseBufferIndex), "does not exist");
  // Another client's buffer: the neighbour's array, released with a forged owner word.
  const SharedArray<std::uint8_t> theirs = neighbour_.zeros<std::uint8_t>(1U << 20U);
  block().result_capacity = 4096;
  ASSERT_EQ(raw_call(layout::kMakeBufferIndex), CallState::kDone);
  const std::uint64_t ours = block().result_offset;
  const std::uint64_t owner = block().owner.load();
  block().owner.store(owner + 1);  // not the owner of `ours` any more
  block().result_offset = ours;
  expect_rejected(raw_call(layout::kReleaseBufferIndex), "only its owner may release it");
  block().owner.store(owner);
  ASSERT_EQ(raw_call(layout::kReleaseBufferIndex), CallState::kDone) << error_message();
  expect_rejected(raw_call(layout::kReleaseBufferIndex), "does not exist");  // twice
  EXPECT_EQ(neighbour_.call<std::uint64_t>("checksum", theirs.span()), 0U);
  expect_still_serving();
}

// Nested values: every handle at every level is checked like an argument's (a vector of
// strings is a handle to string handles).
TEST_F(HostileTest, NestedHandlesAreCheckedAtEveryLevel) {
  const std::uint32_t words = argument_offset("join", 0);
  const std::uint32_t separator = argument_offset("join", 1);
  const auto join_with = [&](layout::VarSlot list, std::vector<layout::VarSlot> elements) {
    for (std::size_t i = 0; i < elements.size(); ++i) {
      std::memcpy(heap() + i * sizeof(layout::VarSlot), &elements[i], sizeof(layout::VarSlot));
    }
    std::memcpy(heap() + 1024, "ab", 2);
    put(words, list);
    put(separator, layout::VarSlot{});
    block().result_offset = 4096;
    block().result_capacity = 4096;
    return raw_call("join");
  };
  const layout::VarSlot two{.offset = 0, .length = 2, .buffer = 0};
  const layout::VarSlot text{.offset = 1024, .length = 2, .buffer = 0};
  ASSERT_EQ(join_with(two, {text, text}), CallState::kDone);
  expect_rejected(join_with(two, {text, {.offset = heap_size(), .length = 1, .buffer = 0}}),
                  "past the end");
  expect_rejected(join_with(two, {{.offset = 0, .length = 1, .buffer = 77}, text}), "buffer 77");
  expect_rejected(join_with({.offset = heap_size() - 8, .length = 1, .buffer = 0}, {}),
                  "past the end");
  expect_rejected(join_with({.offset = 4, .length = 1, .buffer = 0}, {}), "not aligned");
  expect_still_serving();
}

TEST_F(HostileTest, HandlesThatShareBytesCannotMultiplyTheWork) {
  // A vector of 1,000 handles to one vector of 1,000 handles to one string: 50 KB of handles
  // that would decode as 26 MB, more than the heap they lie in holds.
  constexpr std::size_t kFanOut = 1000;
  const std::size_t inner = 32 * 1024;
  const std::size_t text = 64 * 1024;
  std::memcpy(heap() + text, "ab", 2);
  for (std::size_t i = 0; i < kFanOut; ++i) {
    const layout::VarSlot to_inner{.offset = inner, .length = kFanOut, .buffer = 0};
    const layout::VarSlot to_text{.offset = text, .length = 2, .buffer = 0};
    std::memcpy(heap() + i * sizeof to_inner, &to_inner, sizeof to_inner);
    std::memcpy(heap() + inner + i * sizeof to_text, &to_text, sizeof to_text);
  }
  put(argument_offset("echo_groups", 0),
      layout::VarSlot{.offset = 0, .length = kFanOut, .buffer = 0});
  block().result_offset = 128 * 1024;
  block().result_capacity = 4096;
  expect_rejected(raw_call("echo_groups"), "its pieces overlap");
  expect_still_serving();
}

TEST_F(HostileTest, AMapWithARepeatedKeyIsRefused) {
  // Two entries {"a": []}: a string handle and a vector handle each, 48 bytes an entry.
  std::memcpy(heap() + 1024, "a", 1);
  const layout::VarSlot key{.offset = 1024, .length = 1, .buffer = 0};
  const layout::VarSlot empty{};
  for (std::size_t i = 0; i < 2; ++i) {
    std::memcpy(heap() + i * 48, &key, sizeof key);
    std::memcpy(heap() + i * 48 + 24, &empty, sizeof empty);
  }
  put(argument_offset("totals", 0), layout::VarSlot{.offset = 0, .length = 2, .buffer = 0});
  block().result_offset = 4096;
  block().result_capacity = 4096;
  expect_rejected(raw_call("totals"), "entry 1 of a map repeats the key");
  expect_still_serving();
}

}  // namespace
}  // namespace shmrpc::test
