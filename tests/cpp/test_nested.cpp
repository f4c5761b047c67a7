// Values that nest, through a real server (docs/SPEC.md, section 6.7): vectors of strings and of
// vectors, maps, optionals and tuples holding strings and arrays, several arrays out of one call;
// results larger than the heap window and kept across many calls. Hostile nested handles are in
// test_hostile.cpp.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "server_process.hpp"
#include "shmrpc/client.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/shared_array.hpp"

namespace shmrpc::test {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using Words = std::vector<std::string>;

class NestedTest : public testing::Test {
 protected:
  ServerProcess server_{unique_name("nest"), define_test_functions};
  Client client_{server_.name()};
};

TEST_F(NestedTest, VectorsOfStringsCrossBothWays) {
  EXPECT_EQ(client_.call<std::string>("join", Words{"a", "", "bc"}, "-"), "a--bc");
  EXPECT_EQ(client_.call<std::string>("join", Words{}, "-"), "");
  EXPECT_THAT(client_.call<Words>("split", "to be or"), ElementsAre("to", "be", "or"));
  EXPECT_THAT(client_.call<Words>("split", ""), ElementsAre(""));
  const std::vector<Words> groups{{"x"}, {}, {"y", std::string(100, 'z')}};
  EXPECT_EQ(client_.call<std::vector<Words>>("echo_groups", groups), groups);
}

TEST_F(NestedTest, MapsCrossAsOrderedEntries) {
  const auto lengths = client_.call<std::map<std::string, std::int64_t>>(
      "word_lengths", Words{"three", "one", "three"});
  EXPECT_EQ(lengths, (std::map<std::string, std::int64_t>{{"one", 3}, {"three", 5}}));
  const std::map<std::string, std::vector<double>> series{{"a", {1, 2, 3}}, {"b", {}}};
  EXPECT_EQ((client_.call<std::map<std::string, double>>("totals", series)),
            (std::map<std::string, double>{{"a", 6.0}, {"b", 0.0}}));
  const std::map<std::int32_t, std::string> names{{-1, "minus one"}, {2, "two"}};
  EXPECT_EQ((client_.call<std::map<std::int32_t, std::string>>("number_names", names)), names);
  EXPECT_TRUE((client_
                   .call<std::map<std::int32_t, std::string>>("number_names",
                                                              std::map<std::int32_t, std::string>{})
                   .empty()));
}

TEST_F(NestedTest, OptionalsAndTuplesHoldStringsAndVectors) {
  EXPECT_EQ(client_.call<std::optional<std::string>>("shout", std::optional<std::string>("hi")),
            "HI");
  EXPECT_EQ(client_.call<std::optional<std::string>>("shout", std::optional<std::string>()),
            std::nullopt);
  const std::vector<double> values{1.5, -2.0, 4.0};
  const auto [text, reversed, largest] =
      client_.call<std::tuple<std::string, std::vector<double>, std::optional<double>>>(
          "describe", std::span<const double>(values));
  EXPECT_EQ(text, "3 values");
  EXPECT_THAT(reversed, ElementsAre(4.0, -2.0, 1.5));
  EXPECT_EQ(largest, 4.0);
  EXPECT_EQ((client_.call<std::pair<std::string, std::int32_t>>(
                "tag", std::pair<std::string, std::int32_t>("id", 7))),
            (std::pair<std::string, std::int32_t>("id", 7)));
}

TEST_F(NestedTest, AnImageAndItsMaskComeBackFromOneCall) {
  std::vector<float> pixels{0.5F, 2.0F, 3.0F, 0.0F, 1.5F, 9.0F};
  const ArrayView<const float, 2> image(pixels.data(), {2, 3});
  auto [clipped, mask] =
      client_.call<std::tuple<SharedNdArray<float, 2>, SharedNdArray<std::uint8_t, 2>>>(
          "threshold", image, 1.0F);
  ASSERT_THAT(clipped.shape(), ElementsAre(2, 3));
  ASSERT_THAT(mask.shape(), ElementsAre(2, 3));
  EXPECT_EQ(clipped(0, 0), 0.0F);
  EXPECT_EQ(clipped(0, 1), 2.0F);
  EXPECT_EQ(clipped(1, 2), 9.0F);
  EXPECT_THAT(std::vector<std::uint8_t>(mask.data(), mask.data() + mask.size()),
              ElementsAre(0, 1, 1, 0, 1, 1));
  // Each array lies in a buffer of its own that the client now holds.
  const auto image_block = client_.connection()->locate(clipped.data(), sizeof(float));
  const auto mask_block = client_.connection()->locate(mask.data(), 1);
  ASSERT_TRUE(image_block && mask_block);
  EXPECT_NE(image_block->buffer, layout::kHeapBuffer);
  EXPECT_NE(image_block->buffer, mask_block->buffer);
}

TEST_F(NestedTest, ResultsLargerThanTheWindowGoIntoOneBuffer) {
  // 100,000 words of 40 bytes: about 6 MB of handles and text, more than a default heap.
  const std::string word(40, 'w');
  const Words words = client_.call<Words>("repeat_word", word, std::uint64_t{100'000});
  ASSERT_EQ(words.size(), 100'000U);
  EXPECT_EQ(words.front(), word);
  EXPECT_EQ(words.back(), word);
  // And as large an argument: staged in one scratch buffer.
  EXPECT_EQ(client_.call<std::string>("join", words, "").size(), 4'000'000U);
}

TEST_F(NestedTest, NestedResultsKeptAcrossManyCallsDoNotRunOut) {
  std::vector<std::tuple<SharedNdArray<float, 2>, SharedNdArray<std::uint8_t, 2>>> kept;
  std::vector<float> pixels(64 * 64, 2.0F);
  for (int i = 0; i < 1000; ++i) {
    auto result = client_.call<std::tuple<SharedNdArray<float, 2>, SharedNdArray<std::uint8_t, 2>>>(
        "threshold", ArrayView<const float, 2>(pixels.data(), {64, 64}), 1.0F);
    if (i % 100 == 0) {
      kept.push_back(std::move(result));  // some kept, the rest dropped and given back
    }
  }
  ASSERT_EQ(kept.size(), 10U);
  for (const auto& [clipped, mask] : kept) {
    EXPECT_EQ(clipped(63, 63), 2.0F);
    EXPECT_EQ(mask(0, 0), 1);
  }
  EXPECT_EQ(client_.call<std::string>("join", Words{"still", "serving"}, " "), "still serving");
}

TEST_F(NestedTest, AWrongNestedTypeIsRefusedBeforeTheCall) {
  EXPECT_THROW((void)client_.call<std::string>("join", std::vector<std::vector<std::string>>{}, ""),
               std::invalid_argument);
  using Lengths = std::map<std::string, std::int32_t>;  // the function returns int64 lengths
  EXPECT_THROW((void)client_.call<Lengths>("word_lengths", Words{}), std::invalid_argument);
}

}  // namespace
}  // namespace shmrpc::test
