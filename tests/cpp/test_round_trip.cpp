// Every supported type crosses between two processes and comes back intact.

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "server_process.hpp"
#include "shmrpc/client.hpp"

namespace shmrpc::test {
namespace {

class RoundTripTest : public ::testing::Test {
 protected:
  ServerProcess server_{unique_name("roundtrip"), define_test_functions};
  Client client_{server_.name()};
};

template <class T>
void expect_echo(Client& client, const char* function) {
  for (const T value :
       {std::numeric_limits<T>::lowest(), T{0}, T{1}, std::numeric_limits<T>::max()}) {
    EXPECT_EQ(client.call<T>(function, value), value) << function;
  }
}

TEST_F(RoundTripTest, Scalars) {
  EXPECT_TRUE(client_.call<bool>("echo_bool", true));
  EXPECT_FALSE(client_.call<bool>("echo_bool", false));
  expect_echo<std::int8_t>(client_, "echo_i8");
  expect_echo<std::int16_t>(client_, "echo_i16");
  expect_echo<std::int32_t>(client_, "echo_i32");
  expect_echo<std::int64_t>(client_, "echo_i64");
  expect_echo<std::uint8_t>(client_, "echo_u8");
  expect_echo<std::uint16_t>(client_, "echo_u16");
  expect_echo<std::uint32_t>(client_, "echo_u32");
  expect_echo<std::uint64_t>(client_, "echo_u64");
  expect_echo<float>(client_, "echo_f32");
  expect_echo<double>(client_, "echo_f64");
  EXPECT_EQ(client_.call<double>("echo_f64", 0.1), 0.1);
}

TEST_F(RoundTripTest, IntegersWidenAndConvertToTheParameterType) {
  // An int literal fits an int64 or uint8 parameter; an integer converts to a float parameter.
  EXPECT_EQ(client_.call<std::int64_t>("echo_i64", 7), 7);
  EXPECT_EQ(client_.call<std::uint8_t>("echo_u8", 255), 255);
  EXPECT_EQ(client_.call<double>("echo_f64", 3), 3.0);
  EXPECT_EQ(client_.call<float>("echo_f32", 0.5), 0.5F);
}

TEST_F(RoundTripTest, MixedSlotsKeepTheirAlignment) {
  const double sum = client_.call<double>("mixed", true, std::int8_t{-2}, std::uint16_t{300},
                                          -40000, std::uint64_t{1} << 40U, 0.25F, 1e-3);
  EXPECT_DOUBLE_EQ(sum, 1.0 - 2 + 300 - 40000 + 1099511627776.0 + 0.25 + 1e-3);
}

TEST_F(RoundTripTest, FixedArrays) {
  const std::array<std::int32_t, 3> triple{-1, 0, 2147483647};
  EXPECT_EQ((client_.call<std::array<std::int32_t, 3>>("echo_array", triple)), triple);
  const std::array<std::array<double, 2>, 2> matrix{{{1.5, -2.5}, {3.25, 4e300}}};
  EXPECT_EQ((client_.call<std::array<std::array<double, 2>, 2>>("echo_matrix", matrix)), matrix);
}

TEST_F(RoundTripTest, ConstSpansFromOrdinaryMemory) {
  const std::vector<std::int16_t> shorts{-32768, 1, 2, 32767};
  EXPECT_EQ(client_.call<std::int64_t>("sum_i16", shorts), 2);
  const std::array<std::uint64_t, 2> big{std::uint64_t{1} << 63U, 5};
  EXPECT_EQ(client_.call<std::uint64_t>("sum_u64", big), (std::uint64_t{1} << 63U) + 5);
  const std::array<bool, 5> flags{true, false, true, true, false};
  EXPECT_EQ(client_.call<std::int64_t>("count_true", flags), 3);
  const std::vector<std::array<float, 2>> points{{1, 2}, {3, 4}};
  EXPECT_EQ(client_.call<double>("sum_points", points), 10.0);
}

TEST_F(RoundTripTest, EmptySpansAndStrings) {
  EXPECT_EQ(client_.call<std::int64_t>("sum_i16", std::span<const std::int16_t>{}), 0);
  EXPECT_EQ(client_.call<std::uint64_t>("length", ""), 0U);
  EXPECT_EQ(client_.call<std::string>("upper", std::string()), "");
  EXPECT_TRUE(client_.call<std::vector<double>>("iota_f64", 0).empty());
}

TEST_F(RoundTripTest, MutableSpanOfOrdinaryMemoryIsCopiedBack) {
  std::vector<float> values{1, -2, 3};
  client_.call("negate", values);
  EXPECT_EQ(values, (std::vector<float>{-1, 2, -3}));
}

TEST_F(RoundTripTest, SharedArrayIsWrittenInPlaceWithoutCopy) {
  auto values = client_.empty<float>(1000);
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<float>(i);
  }
  const auto heap = client_.heap();
  const auto* data = reinterpret_cast<const std::byte*>(values.data());
  ASSERT_GE(data, heap.data());
  ASSERT_LE(data + values.size() * sizeof(float), heap.data() + heap.size());
  client_.call("negate", values);
  EXPECT_EQ(values[999], -999.0F);
  client_.call("negate", values.span().subspan(10, 5));  // a sub-span of shared memory too
  EXPECT_EQ(values[10], 10.0F);
  EXPECT_EQ(values[15], -15.0F);
}

TEST_F(RoundTripTest, Strings) {
  EXPECT_EQ(client_.call<std::uint64_t>("length", std::string_view("héllo")), 6U);
  EXPECT_EQ(client_.call<std::string>("upper", "shared memory"), "SHARED MEMORY");
  const std::string with_nul("a\0b", 3);
  EXPECT_EQ(client_.call<std::string>("concat", with_nul, std::string("c")),
            std::string("a\0bc", 4));
}

TEST_F(RoundTripTest, VectorResults) {
  const auto values = client_.call<std::vector<double>>("iota_f64", 100000);
  ASSERT_EQ(values.size(), 100000U);
  EXPECT_EQ(values[99999], 99999.0);
  const std::vector<std::uint8_t> bytes{0, 1, 254, 255};
  EXPECT_EQ(client_.call<std::vector<std::uint8_t>>("bytes_of", bytes), bytes);
}

TEST_F(RoundTripTest, VoidFunctions) {
  client_.call("noop");
  client_.call("sleep_ms", 1);
  SUCCEED() << "void calls return";
  EXPECT_EQ(client_.call<std::int64_t>("add", 1, 1), 2);  // and the channel is still usable
}

TEST_F(RoundTripTest, TypedFunctionHandle) {
  auto add = client_.function<std::int64_t(std::int64_t, std::int64_t)>("add");
  std::int64_t total = 0;
  for (std::int64_t i = 0; i < 1000; ++i) {
    total = add(total, i);
  }
  EXPECT_EQ(total, 999 * 1000 / 2);
  auto negate = client_.function<void(std::span<float>)>("negate");
  std::array<float, 2> pair{1, 2};
  negate(pair);
  EXPECT_EQ(pair[1], -2.0F);
}

TEST_F(RoundTripTest, ManyCallsReuseTheHeap) {
  // Every call stages its arguments and result in the heap; none of it may leak.
  const std::vector<std::uint8_t> payload(64 * 1024, 3);
  for (int i = 0; i < 2000; ++i) {
    ASSERT_EQ(client_.call<std::vector<std::uint8_t>>("bytes_of", payload).size(), payload.size());
  }
}

}  // namespace
}  // namespace shmrpc::test
