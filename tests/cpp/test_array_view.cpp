// ArrayView: C-order strides, element access against offsets computed by hand (C order, F order,
// strided and reversed views), the conversions it allows and the ones it refuses (at compile time
// or with an exception), numpy's contiguity rules, and the checked accessors' errors.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "shmrpc/array_view.hpp"

namespace shmrpc::test {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// --- Compile-time properties ---------------------------------------------------------------------

// Cheap to pass by value: a pointer and two inline arrays, no rank field for a fixed rank.
static_assert(std::is_trivially_copyable_v<ArrayView<float, 2>>);
static_assert(std::is_trivially_copyable_v<ArrayView<const double>>);
static_assert(sizeof(ArrayView<float, 2>) ==
              sizeof(float*) + 2 * sizeof(std::size_t) + 2 * sizeof(std::ptrdiff_t));

// Mutable converts to const and fixed to dynamic rank, implicitly; never the other way.
static_assert(std::is_convertible_v<ArrayView<float, 2>, ArrayView<const float, 2>>);
static_assert(!std::is_convertible_v<ArrayView<const float, 2>, ArrayView<float, 2>>);
static_assert(!std::is_constructible_v<ArrayView<float, 2>, ArrayView<const float, 2>>);
static_assert(std::is_convertible_v<ArrayView<float, 2>, ArrayView<const float>>);
static_assert(!std::is_convertible_v<ArrayView<float>, ArrayView<float, 2>>);
static_assert(!std::is_convertible_v<ArrayView<float, 3>, ArrayView<float, 2>>);

// operator() takes exactly Rank indices; operator[] exists for rank 1 only.
template <class View, class... Index>
concept CallableWith = requires(View view, Index... index) {
  view(index...);
};
template <class View>
concept Subscriptable = requires(View view) {
  view[0];
};
static_assert(CallableWith<ArrayView<float, 2>, std::size_t, std::size_t>);
static_assert(CallableWith<ArrayView<float, 2>, int, int>);
static_assert(!CallableWith<ArrayView<float, 2>, std::size_t>);
static_assert(!CallableWith<ArrayView<float, 2>, std::size_t, std::size_t, std::size_t>);
static_assert(!CallableWith<ArrayView<float>, std::size_t, std::size_t>);
static_assert(Subscriptable<ArrayView<float, 1>>);
static_assert(!Subscriptable<ArrayView<float, 2>>);
static_assert(
    std::is_same_v<decltype(std::declval<ArrayView<const float, 2>>()(0, 0)), const float&>);

static_assert(ArrayView<float, 3>::rank() == 3);
static_assert(c_strides(std::array<std::size_t, 3>{2, 3, 4}) ==
              std::array<std::ptrdiff_t, 3>{12, 4, 1});

// Runs `call`, expects exception E and returns its message.
template <class E, class Call>
std::string message_of(Call&& call) {
  try {
    call();
  } catch (const E& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected an exception";
  return {};
}

// 0, 1, 2, ... so that an element's value is its offset from the start of the buffer.
std::vector<float> iota(std::size_t n) {
  std::vector<float> values(n);
  std::iota(values.begin(), values.end(), 0.0F);
  return values;
}

// --- Strides -------------------------------------------------------------------------------------

TEST(ArrayViewTest, CStridesOfAOneDimensionalShape) {
  EXPECT_THAT(c_strides(std::array<std::size_t, 1>{5}), ElementsAre(1));
}

TEST(ArrayViewTest, CStridesOfATwoDimensionalShape) {
  EXPECT_THAT(c_strides(std::array<std::size_t, 2>{3, 4}), ElementsAre(4, 1));
}

TEST(ArrayViewTest, CStridesOfAThreeDimensionalShape) {
  EXPECT_THAT(c_strides(std::array<std::size_t, 3>{2, 3, 4}), ElementsAre(12, 4, 1));
}

TEST(ArrayViewTest, CStridesCountAZeroExtentAsOneLikeNumpy) {
  EXPECT_THAT(c_strides(std::array<std::size_t, 3>{3, 0, 2}), ElementsAre(2, 2, 1));
}

TEST(ArrayViewTest, ConstructorsFromAShapeComputeCStrides) {
  std::vector<float> buffer = iota(24);
  const ArrayView<float, 3> fixed(buffer.data(), {2, 3, 4});
  EXPECT_THAT(fixed.shape(), ElementsAre(2U, 3U, 4U));
  EXPECT_THAT(fixed.strides(), ElementsAre(12, 4, 1));
  const ArrayView<float> dynamic(buffer.data(), {2, 3, 4});
  EXPECT_EQ(dynamic.rank(), 3U);
  EXPECT_THAT(dynamic.strides(), ElementsAre(12, 4, 1));
  const std::vector<std::size_t> shape{6, 4};
  const ArrayView<float, 2> from_span(buffer.data(), shape);
  EXPECT_THAT(from_span.strides(), ElementsAre(4, 1));
  EXPECT_EQ(from_span.shape(0), 6U);
  EXPECT_EQ(from_span.stride(0), 4);
  EXPECT_EQ(from_span.size(), 24U);
}

// --- Element access ------------------------------------------------------------------------------

TEST(ArrayViewTest, ElementAccessInCOrderMatchesTheOffset) {
  std::vector<float> buffer = iota(12);
  const ArrayView<float, 2> view(buffer.data(), {3, 4});
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 4; ++j) {
      EXPECT_EQ(&view(i, j), &buffer[i * 4 + j]);
      EXPECT_EQ(&view.at(i, j), &buffer[i * 4 + j]);
    }
  }
}

TEST(ArrayViewTest, ElementAccessInFOrderMatchesTheOffset) {
  constexpr std::size_t kRows = 3;
  std::vector<float> buffer = iota(12);
  const ArrayView<float, 2> view(buffer.data(), {kRows, 4}, {1, kRows});
  for (std::size_t i = 0; i < kRows; ++i) {
    for (std::size_t j = 0; j < 4; ++j) {
      EXPECT_EQ(&view(i, j), &buffer[i + j * kRows]);
      EXPECT_EQ(&view.at(i, j), &buffer[i + j * kRows]);
    }
  }
}

TEST(ArrayViewTest, EverySecondColumnIsAStridedView) {
  std::vector<float> buffer = iota(12);  // 3 x 4, C order; the view is a[:, ::2]
  const ArrayView<float, 2> view(buffer.data(), {3, 2}, {4, 2});
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 2; ++j) {
      EXPECT_EQ(&view(i, j), &buffer[i * 4 + j * 2]);
    }
  }
}

TEST(ArrayViewTest, NegativeStrideReversesTheElements) {
  std::vector<float> buffer = iota(5);  // the view is a[::-1]
  const ArrayView<float, 1> view(&buffer[4], {5}, {-1});
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(&view[i], &buffer[4 - i]);
    EXPECT_EQ(&view.at(i), &buffer[4 - i]);
  }
  EXPECT_FALSE(view.is_c_contiguous());
}

TEST(ArrayViewTest, DynamicRankAtMatchesTheOffset) {
  std::vector<float> buffer = iota(24);
  const ArrayView<const float> view(buffer.data(), {2, 3, 4});
  EXPECT_EQ(view.at(1, 2, 3), 23.0F);
  const std::array<std::size_t, 3> index{1, 0, 2};
  EXPECT_EQ(&view.at(index), &buffer[12 + 2]);
}

TEST(ArrayViewTest, WritesThroughAMutableView) {
  std::vector<float> buffer(6);
  const ArrayView<float, 2> view(buffer.data(), {2, 3});
  view(1, 2) = 7.0F;
  view.at(0, 1) = 3.0F;
  EXPECT_THAT(buffer, ElementsAre(0.0F, 3.0F, 0.0F, 0.0F, 0.0F, 7.0F));
}

TEST(ArrayViewTest, RankZeroIsAScalar) {
  float value = 2.5F;
  const ArrayView<float> scalar(&value, {});
  EXPECT_EQ(scalar.rank(), 0U);
  EXPECT_EQ(scalar.size(), 1U);
  EXPECT_FALSE(scalar.empty());
  EXPECT_EQ(&scalar.at(), &value);
  EXPECT_TRUE(scalar.is_c_contiguous());
  EXPECT_TRUE(scalar.is_f_contiguous());
  EXPECT_EQ(scalar.span().size(), 1U);
}

TEST(ArrayViewTest, DefaultConstructedViewsAreEmpty) {
  const ArrayView<float, 2> fixed;
  EXPECT_EQ(fixed.data(), nullptr);
  EXPECT_THAT(fixed.shape(), ElementsAre(0U, 0U));
  EXPECT_TRUE(fixed.empty());
  // A default dynamic-rank view has rank 1 and no elements, not rank 0 (a scalar of one element).
  const ArrayView<float> dynamic;
  EXPECT_EQ(dynamic.data(), nullptr);
  EXPECT_EQ(dynamic.rank(), 1U);
  EXPECT_THAT(dynamic.shape(), ElementsAre(0U));
  EXPECT_TRUE(dynamic.empty());
  EXPECT_TRUE(dynamic.span().empty());
}

// --- Conversions ---------------------------------------------------------------------------------

TEST(ArrayViewTest, MutableConvertsToConst) {
  std::vector<float> buffer = iota(12);
  const ArrayView<float, 2> view(buffer.data(), {3, 4}, {1, 3});
  const ArrayView<const float, 2> read_only = view;
  EXPECT_EQ(read_only.data(), buffer.data());
  EXPECT_THAT(read_only.shape(), ElementsAre(3U, 4U));
  EXPECT_THAT(read_only.strides(), ElementsAre(1, 3));
  EXPECT_EQ(read_only(2, 1), 5.0F);
}

TEST(ArrayViewTest, FixedRankConvertsToDynamicRank) {
  std::vector<float> buffer = iota(12);
  const ArrayView<float, 2> view(buffer.data(), {3, 4}, {8, 2});
  const ArrayView<float> dynamic = view;
  EXPECT_EQ(dynamic.rank(), 2U);
  EXPECT_EQ(dynamic.data(), buffer.data());
  EXPECT_THAT(dynamic.shape(), ElementsAre(3U, 4U));
  EXPECT_THAT(dynamic.strides(), ElementsAre(8, 2));
  const ArrayView<const float> read_only = view;
  EXPECT_EQ(&read_only.at(1, 1), &buffer[10]);
}

TEST(ArrayViewTest, DynamicRankConvertsToFixedRankWithFrom) {
  std::vector<float> buffer = iota(12);
  const ArrayView<float> dynamic(buffer.data(), {4, 3}, {1, 4});
  const auto fixed = ArrayView<float, 2>::from(dynamic);
  EXPECT_THAT(fixed.shape(), ElementsAre(4U, 3U));
  EXPECT_THAT(fixed.strides(), ElementsAre(1, 4));
  EXPECT_EQ(&fixed(3, 2), &buffer[11]);
  const auto read_only = ArrayView<const float, 2>::from(dynamic);
  EXPECT_EQ(read_only.data(), buffer.data());
}

TEST(ArrayViewTest, FromThrowsWhenTheRankDiffers) {
  std::vector<float> buffer = iota(24);
  const ArrayView<float> dynamic(buffer.data(), {2, 3, 4});
  EXPECT_THAT(message_of<std::invalid_argument>([&] { (void)ArrayView<float, 2>::from(dynamic); }),
              AllOf(HasSubstr("shmrpc: "), HasSubstr("rank 3"), HasSubstr("rank 2 is expected")));
}

// --- Invalid shapes ------------------------------------------------------------------------------

TEST(ArrayViewTest, ShapeOfTheWrongLengthThrows) {
  std::vector<float> buffer = iota(24);
  const std::vector<std::size_t> shape{2, 3, 4};
  EXPECT_THAT(
      message_of<std::invalid_argument>([&] { (void)ArrayView<float, 2>(buffer.data(), shape); }),
      AllOf(HasSubstr("shmrpc: a shape of length 3"), HasSubstr("rank 2")));
}

TEST(ArrayViewTest, RankAboveMaxRankThrows) {
  std::vector<float> buffer(1);
  const std::vector<std::size_t> most(kMaxRank, 1);
  EXPECT_EQ(ArrayView<float>(buffer.data(), most).rank(), kMaxRank);
  const std::vector<std::size_t> too_many(kMaxRank + 1, 1);
  EXPECT_THAT(
      message_of<std::invalid_argument>([&] { (void)ArrayView<float>(buffer.data(), too_many); }),
      AllOf(HasSubstr("shmrpc: a shape of length 9"), HasSubstr("at most kMaxRank = 8")));
}

TEST(ArrayViewTest, StridesOfTheWrongLengthThrow) {
  std::vector<float> buffer = iota(12);
  const std::vector<std::size_t> shape{3, 4};
  const std::vector<std::ptrdiff_t> strides{4, 1, 1};
  EXPECT_THAT(message_of<std::invalid_argument>(
                  [&] { (void)ArrayView<float>(buffer.data(), shape, strides); }),
              HasSubstr("shmrpc: strides of length 3 were given for a shape of length 2"));
  EXPECT_THROW((void)ArrayView<float>(buffer.data(), {3, 4}, {1}), std::invalid_argument);
}

// --- Contiguity ----------------------------------------------------------------------------------

TEST(ArrayViewTest, ContiguityOfCOrderFOrderAndStridedViews) {
  std::vector<float> buffer = iota(12);
  const ArrayView<float, 2> c_order(buffer.data(), {3, 4});
  EXPECT_TRUE(c_order.is_c_contiguous());
  EXPECT_FALSE(c_order.is_f_contiguous());
  const ArrayView<float, 2> f_order(buffer.data(), {3, 4}, {1, 3});
  EXPECT_FALSE(f_order.is_c_contiguous());
  EXPECT_TRUE(f_order.is_f_contiguous());
  const ArrayView<float, 2> strided(buffer.data(), {3, 2}, {4, 2});
  EXPECT_FALSE(strided.is_c_contiguous());
  EXPECT_FALSE(strided.is_f_contiguous());
  const ArrayView<float, 1> line(buffer.data(), {12});
  EXPECT_TRUE(line.is_c_contiguous());
  EXPECT_TRUE(line.is_f_contiguous());
}

TEST(ArrayViewTest, DimensionsOfExtentOneMayHaveAnyStride) {
  std::vector<float> buffer = iota(12);
  const ArrayView<float, 3> middle(buffer.data(), {3, 1, 4}, {4, 999, 1});
  EXPECT_TRUE(middle.is_c_contiguous());
  EXPECT_FALSE(middle.is_f_contiguous());
  // A row vector is both, whatever the stride of its single row.
  const ArrayView<float, 2> row(buffer.data(), {1, 12}, {-7, 1});
  EXPECT_TRUE(row.is_c_contiguous());
  EXPECT_TRUE(row.is_f_contiguous());
}

TEST(ArrayViewTest, EmptyArraysAreContiguous) {
  std::vector<float> buffer(1);
  const ArrayView<float, 2> none(buffer.data(), {3, 0}, {5, 7});
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(none.is_c_contiguous());
  EXPECT_TRUE(none.is_f_contiguous());
  EXPECT_TRUE(none.span().empty());
}

// --- Checked access and span() -------------------------------------------------------------------

TEST(ArrayViewTest, AtThrowsOnAnIndexPastTheExtent) {
  std::vector<float> buffer = iota(12);
  const ArrayView<float, 2> view(buffer.data(), {3, 4});
  EXPECT_THAT(message_of<std::out_of_range>([&] { (void)view.at(2, 4); }),
              HasSubstr("shmrpc: index 4 is out of range for dimension 1 of extent 4"));
  EXPECT_THAT(message_of<std::out_of_range>([&] { (void)view.at(3, 0); }),
              HasSubstr("index 3 is out of range for dimension 0 of extent 3"));
}

TEST(ArrayViewTest, AtThrowsOnTheWrongNumberOfIndices) {
  std::vector<float> buffer = iota(12);
  const ArrayView<float, 2> fixed(buffer.data(), {3, 4});
  const std::array<std::size_t, 3> three{0, 0, 0};
  EXPECT_THAT(message_of<std::out_of_range>([&] { (void)fixed.at(three); }),
              HasSubstr("shmrpc: an index of length 3 was given for an array of rank 2"));
  const ArrayView<float> dynamic = fixed;
  EXPECT_THAT(message_of<std::out_of_range>([&] { (void)dynamic.at(1); }),
              HasSubstr("shmrpc: an index of length 1 was given for an array of rank 2"));
}

TEST(ArrayViewTest, SpanOfAContiguousView) {
  std::vector<float> buffer = iota(12);
  const ArrayView<const float, 2> view(buffer.data(), {3, 4});
  const std::span<const float> elements = view.span();
  EXPECT_EQ(elements.data(), buffer.data());
  EXPECT_EQ(elements.size(), 12U);
}

TEST(ArrayViewTest, SpanOfAStridedViewThrows) {
  std::vector<float> buffer = iota(12);
  const ArrayView<float, 2> f_order(buffer.data(), {3, 4}, {1, 3});
  EXPECT_THAT(message_of<std::logic_error>([&] { (void)f_order.span(); }),
              HasSubstr("shmrpc: span() needs a C-contiguous array"));
}

}  // namespace
}  // namespace shmrpc::test
