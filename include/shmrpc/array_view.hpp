#pragma once
/// ArrayView: a non-owning n-dimensional view of elements (numpy's ndarray without the ownership):
/// a data pointer, a shape and strides in elements, all held inline so that a view is copied by
/// value like std::span. Fixed rank (ArrayView<T, 2>) or rank known at run time (ArrayView<T>).

#include <algorithm>
#include <array>
#include <cassert>
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace shmrpc {

/// The Rank of an ArrayView whose rank is known only at run time.
inline constexpr std::size_t kDynamicRank = std::dynamic_extent;
/// The most dimensions an array may have on the wire. numpy allows more; shmrpc refuses them.
inline constexpr std::size_t kMaxRank = 8;

namespace detail {

/// The rank field of a fixed-rank view: empty, since the rank is the template argument.
struct StaticRank {};

/// A view of From converts to a view of To: the same element type, or To adds const.
template <class From, class To>
concept AddsConstOnly = std::is_same_v<To, From> || std::is_same_v<To, const From>;

/// Writes the C-order (row-major) strides of `shape` into `strides` (of the same length). Like
/// numpy, an extent of 0 counts as 1, so that the strides of an empty array stay distinct.
constexpr void fill_c_strides(std::span<const std::size_t> shape,
                              std::span<std::ptrdiff_t> strides) noexcept {
  std::ptrdiff_t step = 1;
  for (std::size_t k = shape.size(); k-- > 0;) {
    strides[k] = step;
    step *= static_cast<std::ptrdiff_t>(std::max<std::size_t>(shape[k], 1));
  }
}

[[noreturn]] inline void throw_bad_shape(std::size_t extents, std::size_t rank) {
  if (rank == kDynamicRank) {
    throw std::invalid_argument(
        "shmrpc: a shape of length " + std::to_string(extents) +
        " was given; an array has at most kMaxRank = " + std::to_string(kMaxRank) + " dimensions");
  }
  throw std::invalid_argument("shmrpc: a shape of length " + std::to_string(extents) +
                              " was given for an ArrayView of rank " + std::to_string(rank) +
                              "; give one extent per dimension");
}

}  // namespace detail

/// The C-order (row-major) strides, in elements, of an array of `shape`: the last index moves
/// fastest. An extent of 0 counts as 1, as in numpy.
template <std::size_t N>
constexpr std::array<std::ptrdiff_t, N> c_strides(
    const std::array<std::size_t, N>& shape) noexcept {
  std::array<std::ptrdiff_t, N> strides{};
  detail::fill_c_strides(shape, strides);
  return strides;
}

/// A view of the elements of an n-dimensional array that lies elsewhere (a numpy array's buffer,
/// a span argument in a channel heap); it owns nothing, and the caller keeps the memory alive.
/// `T` may be const: ArrayView<const float, 2> reads, ArrayView<float, 2> writes. `Rank` is
/// 1..kMaxRank, or kDynamicRank for a rank chosen at run time (0..kMaxRank; rank 0 is a scalar,
/// one element). Element (i0, ..., in) lies at data() + i0 * stride(0) + ... + in * stride(n);
/// strides count elements, not bytes, and may be negative (numpy's a[::-1]). Like std::span, the
/// view is shallow: a const view still writes through a mutable T. Any thread may use it; access
/// to the elements is the caller's to synchronise.
template <class T, std::size_t Rank = kDynamicRank>
class ArrayView {
  static constexpr bool kDynamic = Rank == kDynamicRank;
  static constexpr std::size_t kCapacity = kDynamic ? kMaxRank : Rank;
  static_assert(kDynamic || (Rank >= 1 && Rank <= kMaxRank),
                "ArrayView: Rank must be 1..kMaxRank, or kDynamicRank (a scalar is rank 0)");
  static_assert(std::is_object_v<T>, "ArrayView: T must be an object type (not a reference)");

 public:
  /// An empty view: null data, every extent 0, so size() == 0 and empty(). A dynamic-rank view
  /// is of rank 1 (shape {0}), not rank 0, which would be a scalar of one (absent) element.
  constexpr ArrayView() noexcept {
    if constexpr (kDynamic) {
      rank_ = 1;
    }
  }

  /// A C-ordered (row-major) view of `shape`, strides computed. Throws std::invalid_argument when
  /// shape has not Rank extents (or, for kDynamicRank, more than kMaxRank).
  constexpr ArrayView(T* data, std::span<const std::size_t> shape) : data_(data) {
    set_shape(shape);
    detail::fill_c_strides(shape, std::span(strides_.data(), shape.size()));
  }

  /// A view with the given strides, in elements. Throws std::invalid_argument as above, and when
  /// strides and shape differ in length. The caller vouches that every element lies in memory.
  constexpr ArrayView(T* data, std::span<const std::size_t> shape,
                      std::span<const std::ptrdiff_t> strides)
      : data_(data) {
    if (strides.size() != shape.size()) {
      throw std::invalid_argument("shmrpc: strides of length " + std::to_string(strides.size()) +
                                  " were given for a shape of length " +
                                  std::to_string(shape.size()) + "; give one stride per extent");
    }
    set_shape(shape);
    std::copy(strides.begin(), strides.end(), strides_.begin());
  }

  /// Fixed rank, so that `ArrayView<float, 2> v(p, {3, 4})` works and cannot throw.
  constexpr ArrayView(T* data, const std::array<std::size_t, kCapacity>& shape) noexcept
      requires(!kDynamic)
      : data_(data), shape_(shape), strides_(c_strides(shape)) {}
  /// Fixed rank with strides: `ArrayView<float, 2> v(p, {3, 4}, {1, 3})` (F order).
  constexpr ArrayView(T* data, const std::array<std::size_t, kCapacity>& shape,
                      const std::array<std::ptrdiff_t, kCapacity>& strides) noexcept
      requires(!kDynamic)
      : data_(data), shape_(shape), strides_(strides) {}

  /// Dynamic rank from a braced list: `ArrayView<float> v(p, {2, 3, 4})`. Throws as the span form.
  constexpr ArrayView(T* data, std::initializer_list<std::size_t> shape) requires(kDynamic)
      : ArrayView(data, std::span(shape.begin(), shape.size())) {}
  /// Dynamic rank from braced lists, with strides. Throws as the span form.
  constexpr ArrayView(T* data, std::initializer_list<std::size_t> shape,
                      std::initializer_list<std::ptrdiff_t> strides) requires(kDynamic)
      : ArrayView(data, std::span(shape.begin(), shape.size()),
                  std::span(strides.begin(), strides.size())) {}

  /// Implicit, cannot fail: mutable to const (not back), and fixed rank to dynamic rank.
  template <detail::AddsConstOnly<T> U, std::size_t OtherRank>
  constexpr ArrayView(const ArrayView<U, OtherRank>& other) noexcept
      requires(kDynamic || OtherRank == Rank)
      : data_(other.data()) {
    if constexpr (kDynamic) {
      rank_ = other.shape().size();
    }
    std::copy(other.shape().begin(), other.shape().end(), shape_.begin());
    std::copy(other.strides().begin(), other.strides().end(), strides_.begin());
  }

  /// Dynamic rank to fixed rank, e.g. a handler's argument to the rank it needs. Throws
  /// std::invalid_argument when other.rank() != Rank.
  template <detail::AddsConstOnly<T> U>
  static ArrayView from(const ArrayView<U, kDynamicRank>& other) requires(!kDynamic) {
    if (other.rank() != Rank) {
      throw std::invalid_argument("shmrpc: an array of rank " + std::to_string(other.rank()) +
                                  " was given where rank " + std::to_string(Rank) + " is expected");
    }
    return ArrayView(other.data(), other.shape(), other.strides());
  }

  /// The element at index 0 in every dimension (not the lowest address if a stride is negative).
  constexpr T* data() const noexcept { return data_; }
  /// The number of dimensions.
  static constexpr std::size_t rank() noexcept requires(!kDynamic) { return Rank; }
  /// The number of dimensions, 0..kMaxRank.
  constexpr std::size_t rank() const noexcept requires(kDynamic) { return rank_; }
  /// The extent of every dimension, rank() of them.
  constexpr std::span<const std::size_t> shape() const noexcept { return {shape_.data(), rank()}; }
  /// The extent of dimension `i` < rank() (unchecked; asserted in debug builds).
  constexpr std::size_t shape(std::size_t i) const noexcept {
    assert(i < rank());
    return shape()[i];
  }
  /// The stride of every dimension in elements, rank() of them.
  constexpr std::span<const std::ptrdiff_t> strides() const noexcept {
    return {strides_.data(), rank()};
  }
  /// The stride of dimension `i` < rank() in elements (unchecked; asserted in debug builds).
  constexpr std::ptrdiff_t stride(std::size_t i) const noexcept {
    assert(i < rank());
    return strides()[i];
  }
  /// The number of elements: the product of the extents, 1 for rank 0.
  constexpr std::size_t size() const noexcept {
    std::size_t n = 1;
    for (const std::size_t extent : shape()) {
      n *= extent;
    }
    return n;
  }
  /// Whether some extent is 0.
  constexpr bool empty() const noexcept { return size() == 0; }

  /// numpy's C_CONTIGUOUS: the elements fill size() consecutive places in row-major order.
  /// A dimension of extent 1 may have any stride; an empty array is contiguous.
  constexpr bool is_c_contiguous() const noexcept { return contiguous(false); }
  /// numpy's F_CONTIGUOUS: as is_c_contiguous(), in column-major order.
  constexpr bool is_f_contiguous() const noexcept { return contiguous(true); }

  /// The element at (index...), exactly Rank indices; unchecked, like std::mdspan. Fixed rank
  /// only (a dynamic-rank view has at()).
  template <std::convertible_to<std::size_t>... Index>
  constexpr T& operator()(Index... index) const noexcept requires(sizeof...(Index) == Rank) {
    const std::array<std::size_t, Rank> at_index{static_cast<std::size_t>(index)...};
    return data_[offset(at_index)];
  }
  /// The element at `i` of a rank-1 view; unchecked.
  constexpr T& operator[](std::size_t i) const noexcept requires(Rank == 1) {
    return data_[static_cast<std::ptrdiff_t>(i) * strides_[0]];
  }

  /// The element at `index`, checked: throws std::out_of_range when index has not rank()
  /// entries, or an entry is not below its extent (the message names the index and the extent).
  T& at(std::span<const std::size_t> index) const {
    if (index.size() != rank()) {
      throw std::out_of_range("shmrpc: an index of length " + std::to_string(index.size()) +
                              " was given for an array of rank " + std::to_string(rank()));
    }
    const std::span<const std::size_t> extents = shape();
    for (std::size_t k = 0; k < index.size(); ++k) {
      if (index[k] >= extents[k]) {
        throw std::out_of_range("shmrpc: index " + std::to_string(index[k]) +
                                " is out of range for dimension " + std::to_string(k) +
                                " of extent " + std::to_string(extents[k]));
      }
    }
    return data_[offset(index)];
  }
  /// at(i0, i1, ...): as above. A fixed-rank view takes exactly Rank indices (a compile error
  /// otherwise); a dynamic one checks the count at run time.
  template <std::convertible_to<std::size_t>... Index>
  T& at(Index... index) const requires(kDynamic || sizeof...(Index) == Rank) {
    const std::array<std::size_t, sizeof...(Index)> at_index{static_cast<std::size_t>(index)...};
    return at(std::span<const std::size_t>(at_index));
  }

  /// The elements in C order as one span. Throws std::logic_error unless is_c_contiguous().
  std::span<T> span() const {
    if (!is_c_contiguous()) {
      throw std::logic_error(
          "shmrpc: span() needs a C-contiguous array, and this view is strided; use at() or "
          "operator(), or copy the elements");
    }
    return {data_, size()};
  }

 private:
  constexpr void set_shape(std::span<const std::size_t> shape) {
    if (kDynamic ? shape.size() > kMaxRank : shape.size() != Rank) {
      detail::throw_bad_shape(shape.size(), Rank);
    }
    if constexpr (kDynamic) {
      rank_ = shape.size();
    }
    std::copy(shape.begin(), shape.end(), shape_.begin());
  }

  constexpr std::ptrdiff_t offset(std::span<const std::size_t> index) const noexcept {
    const std::span<const std::ptrdiff_t> steps = strides();
    std::ptrdiff_t sum = 0;
    for (std::size_t k = 0; k < index.size(); ++k) {
      sum += static_cast<std::ptrdiff_t>(index[k]) * steps[k];
    }
    return sum;
  }

  // numpy's rule (_UpdateContiguousFlags): skipping extent-1 dimensions, each stride is the
  // product of the extents that move faster than it.
  constexpr bool contiguous(bool column_major) const noexcept {
    if (empty()) {
      return true;
    }
    const std::span<const std::size_t> extents = shape();
    const std::span<const std::ptrdiff_t> steps = strides();
    std::ptrdiff_t expected = 1;
    for (std::size_t n = 0; n < rank(); ++n) {
      const std::size_t k = column_major ? n : rank() - 1 - n;
      if (extents[k] != 1) {
        if (steps[k] != expected) {
          return false;
        }
        expected *= static_cast<std::ptrdiff_t>(extents[k]);
      }
    }
    return true;
  }

  T* data_ = nullptr;
  std::array<std::size_t, kCapacity> shape_{};
  std::array<std::ptrdiff_t, kCapacity> strides_{};
  [[no_unique_address]] std::conditional_t<kDynamic, std::size_t, detail::StaticRank> rank_{};
};

}  // namespace shmrpc
