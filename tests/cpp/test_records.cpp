// Structs, enums, optionals, tuples and complex numbers cross between two processes: through the
// typed C++ client, in spans and vectors, and checked by the server when the bytes are invalid.

#include <gtest/gtest.h>

#include <array>
#include <complex>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../record_types.hpp"
#include "server_process.hpp"
#include "shmrpc/client.hpp"

namespace shmrpc::test {
namespace {

class RecordsTest : public ::testing::Test {
 protected:
  ServerProcess server_{unique_name("records"), define_record_functions};
  Client client_{server_.name()};

  // Calls `function` with one argument written as raw bytes of `type`: bytes no C++ client
  // would write, to see the server refuse them.
  void call_with_bytes(const char* function, const TypeInfo& type, const void* bytes,
                       const std::vector<std::function<void(DynamicCall&)>>& rest = {}) {
    const FunctionSchema* schema = client_.schema().find(function);
    ASSERT_NE(schema, nullptr);
    DynamicCall call(*client_.connection(), *schema);
    call.put_value(0, type, bytes);
    for (const auto& put : rest) {
      put(call);
    }
    call.execute();
  }
};

TEST_F(RecordsTest, StructArgumentAndResult) {
  const Order order{42, Side::kSell, 101.25, 10, true};
  const auto filled = client_.call<Order>("fill", order, 4);
  EXPECT_EQ(filled.id, 42U);
  EXPECT_EQ(filled.side, Side::kSell);
  EXPECT_EQ(filled.price, 101.25);
  EXPECT_EQ(filled.quantity, 6);
  EXPECT_TRUE(filled.active);
  EXPECT_FALSE(client_.call<Order>("fill", order, 10).active);
  EXPECT_THROW(client_.call<Order>("fill", order, 11), RemoteError);
}

TEST_F(RecordsTest, NestedStructsWithArraysEnumsAndComplex) {
  const auto box = client_.call<Box>("make_box", kHigh);
  EXPECT_EQ(box.corner.pos, (std::array<double, 3>{1, 2, 3}));
  EXPECT_EQ(box.corner.mass, 7.0F);
  EXPECT_EQ(box.pair[1].pos[2], 2.0);
  EXPECT_EQ(box.level, kHigh);
  EXPECT_EQ(box.phase, std::complex<double>(0, 1));
  EXPECT_EQ(client_.call<Level>("level_of", box), kHigh);
  EXPECT_EQ(client_.call<Level>("level_of", client_.call<Box>("make_box", kLow)), kLow);
}

TEST_F(RecordsTest, SpanOfStructsIsWrittenInPlace) {
  std::vector<Particle> ordinary = client_.call<std::vector<Particle>>("line_of", 3);
  ASSERT_EQ(ordinary.size(), 3U);
  EXPECT_EQ(ordinary[2].pos[0], 2.0);
  client_.call("step", ordinary, 0.5);  // copied in and back
  EXPECT_EQ(ordinary[2].pos[0], 2.5);
  EXPECT_EQ(client_.call<double>("total_mass", ordinary), 4.5);

  auto shared = client_.zeros<Particle>(2);  // in the channel heap: no copy
  shared[1].vel = {0, 2, 0};
  shared[1].mass = 3;
  client_.call("step", shared, 1.5);
  EXPECT_EQ(shared[1].pos[1], 3.0);
  EXPECT_EQ(client_.call<double>("total_mass", shared), 3.0);
}

TEST_F(RecordsTest, EnumsInAndOut) {
  EXPECT_EQ(client_.call<Side>("opposite", Side::kBuy), Side::kSell);
  const auto values = client_.call<std::vector<Side>>("sides", 5);
  EXPECT_EQ(values,
            (std::vector<Side>{Side::kBuy, Side::kSell, Side::kBuy, Side::kSell, Side::kBuy}));
  EXPECT_EQ(client_.call<std::int64_t>("count_side", values, Side::kBuy), 3);
}

TEST_F(RecordsTest, Optionals) {
  const std::vector<Order> book{{1, Side::kBuy, 99.5, 1, true},
                                {2, Side::kBuy, 100.0, 1, true},
                                {3, Side::kBuy, 100.5, 1, false},
                                {4, Side::kSell, 101.0, 1, true}};
  EXPECT_EQ(client_.call<std::optional<double>>("best_price", book, Side::kBuy), 100.0);
  EXPECT_EQ(client_.call<std::optional<double>>("best_price", book, Side::kSell), 101.0);
  EXPECT_EQ(
      client_.call<std::optional<double>>("best_price", std::span<const Order>{}, Side::kSell),
      std::nullopt);
  EXPECT_EQ(client_.call<std::int64_t>("or_zero", std::optional<std::int64_t>{-5}), -5);
  EXPECT_EQ(client_.call<std::int64_t>("or_zero", std::optional<std::int64_t>{}), 0);
}

TEST_F(RecordsTest, TuplesAndPairs) {
  EXPECT_EQ((client_.call<std::pair<std::int64_t, std::int64_t>>("divmod", 17, 5)),
            (std::pair<std::int64_t, std::int64_t>{3, 2}));
  const std::tuple<std::int8_t, double, Side> value{-7, 2.5, Side::kSell};
  EXPECT_EQ((client_.call<std::tuple<std::int8_t, double, Side>>("triple", value)), value);
}

TEST_F(RecordsTest, ComplexNumbers) {
  EXPECT_EQ(client_.call<std::complex<double>>("rotate", std::complex<double>(1, 2),
                                               std::complex<float>(0, 1)),
            std::complex<double>(-2, 1));
  const std::vector<std::complex<double>> values{{1, 1}, {2, -3}};
  EXPECT_EQ(client_.call<std::complex<double>>("sum_complex", values), std::complex<double>(3, -2));
}

TEST_F(RecordsTest, StructWithoutNamesHasPositionalFieldNames) {
  const TypeInfo& type = type_info_of<Anonymous>();
  ASSERT_EQ(type.members.size(), 2U);
  EXPECT_EQ(type.members[0].name, "f0");
  EXPECT_EQ(type.members[1].name, "f1");
  const auto swapped = client_.call<Anonymous>("swap_anonymous", Anonymous{3, 4.0});
  EXPECT_EQ(swapped.a, 4);
  EXPECT_EQ(swapped.b, 3.0);
}

TEST_F(RecordsTest, MetadataDescribesTypesCompletely) {
  const FunctionSchema* make_box = client_.schema().find("make_box");
  ASSERT_NE(make_box, nullptr);
  const TypeInfo& box = *make_box->return_type;
  // The type read back from the segment is the one the compiler describes, member for member.
  EXPECT_TRUE(same_type(box, type_info_of<Box>()));
  EXPECT_EQ(box.name, "shmrpc::test::Box");
  EXPECT_EQ(box.size, sizeof(Box));
  ASSERT_EQ(box.members.size(), 4U);
  EXPECT_EQ(box.members[1].name, "pair");
  EXPECT_EQ(box.members[1].value, offsetof(Box, pair));
  EXPECT_EQ(box.members[3].value, offsetof(Box, phase));
  const TypeInfo& level = *box.members[2].type;
  ASSERT_EQ(level.kind, TypeKind::kEnum);
  ASSERT_EQ(level.members.size(), 3U);
  EXPECT_EQ(level.members[0].name, "kLow");
  EXPECT_EQ(static_cast<std::int64_t>(level.members[0].value), -1);
  EXPECT_EQ(level.element->kind, TypeKind::kInt32);
  EXPECT_EQ(make_box->signature, "make_box(level: shmrpc::test::Level) -> shmrpc::test::Box");
}

TEST_F(RecordsTest, WrongStructTypeIsRefusedBeforeSending) {
  try {
    client_.call<Order>("fill", Particle{}, 1);
    FAIL() << "a Particle is not an Order";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(
        std::string(error.what()).find("is shmrpc::test::Order, but a shmrpc::test::Particle"),
        std::string::npos)
        << error.what();
  }
}

TEST_F(RecordsTest, ServerRefusesAnInvalidEnumerator) {
  const std::uint8_t bad = 9;
  try {
    call_with_bytes("opposite", type_info_of<Side>(), &bad);
    FAIL() << "9 is no Side";
  } catch (const ProtocolError& error) {
    EXPECT_NE(std::string(error.what()).find("holds 9, which is none of its enumerators (kBuy = 1"),
              std::string::npos)
        << error.what();
  }
  EXPECT_EQ(client_.call<Side>("opposite", Side::kSell), Side::kBuy);  // the channel still works
}

TEST_F(RecordsTest, ServerRefusesAnInvalidBoolInsideAStruct) {
  std::array<std::byte, sizeof(Order)> bytes{};
  const Order order{1, Side::kBuy, 1.0, 5, true};
  std::memcpy(bytes.data(), &order, sizeof order);
  bytes[offsetof(Order, active)] = std::byte{2};
  EXPECT_THROW(call_with_bytes("fill", type_info_of<Order>(), bytes.data(),
                               {[](DynamicCall& call) { call.put_int(1, 1); }}),
               ProtocolError);
}

TEST_F(RecordsTest, ServerRefusesAnInvalidOptionalFlag) {
  std::array<std::byte, 16> bytes{};
  bytes[0] = std::byte{3};
  try {
    call_with_bytes("or_zero", type_info_of<std::optional<std::int64_t>>(), bytes.data());
    FAIL() << "3 is no has-value flag";
  } catch (const ProtocolError& error) {
    EXPECT_NE(std::string(error.what()).find("has-value flag"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace shmrpc::test
