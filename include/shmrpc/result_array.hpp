#pragma once
/// ResultArray: an array a server function fills in place in shared memory and returns with no
/// copy.
///
///   server.def("ramp", [](std::uint64_t n) {
///     shmrpc::ResultArray<double> out(n);  // a buffer made for the calling client
///     for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<double>(i);
///     return out;                          // crosses as it lies: vector<float64> on the wire
///   });
///
/// On the wire it is a vector<T> result (docs/SPEC.md, section 6.6): clients see no difference
/// from a std::vector<T> result except that nothing was copied. A C++ client receives it as a
/// std::vector<T> (one copy) or a SharedArray<T> (none); Python as a numpy array over the buffer.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

#include "shmrpc/array_view.hpp"
#include "shmrpc/segment.hpp"

namespace shmrpc {
namespace detail {

/// A buffer made for the calling client's result: its id and mapping (null for an empty one).
struct ResultBuffer {
  std::uint64_t id = 0;
  std::shared_ptr<const Segment> mapping;
};

/// Makes a buffer of `bytes` for the result of the call this thread runs (CallBuffers::made;
/// released after the call unless its result names it). No buffer for 0 bytes. Throws
/// std::logic_error outside a registered function's call, OutOfSharedMemoryError.
ResultBuffer make_result_buffer(std::uint64_t bytes);

}  // namespace detail

template <class T>
class ResultArray {
  static_assert(std::is_trivially_copyable_v<T> && !std::is_same_v<T, bool>,
                "shmrpc: a ResultArray holds plain values (numbers, enums, structs), not bools");

 public:
  using value_type = T;

  /// `size` value-initialized (zero) elements in a buffer made for the calling client. Server
  /// side, only inside a registered function's call, on its thread. Throws std::logic_error
  /// outside a call, OutOfSharedMemoryError when /dev/shm or the client's quota has no room.
  explicit ResultArray(std::size_t size)
      : buffer_(detail::make_result_buffer(size * sizeof(T))),
        data_(buffer_.mapping ? reinterpret_cast<T*>(buffer_.mapping->data()) : nullptr),
        size_(size) {}

  T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  T* begin() const noexcept { return data_; }
  T* end() const noexcept { return data_ + size_; }
  T& operator[](std::size_t i) const noexcept { return data_[i]; }
  std::span<T> span() const noexcept { return {data_, size_}; }

  /// The buffer's id (0 when empty), for the frame codec.
  std::uint64_t buffer_id() const noexcept { return buffer_.id; }

 private:
  detail::ResultBuffer buffer_;
  T* data_;
  std::size_t size_;
};

/// An n-dimensional result a server function fills in place and returns with no copy: C-ordered
/// in a buffer made for the calling client, an ndarray on the wire (a numpy array of that shape
/// in Python). Rank fixed (ResultNdArray<float, 2>) or dynamic (kDynamicRank).
///
///   server.def("blur", [](shmrpc::ArrayView<const float, 2> image) {
///     shmrpc::ResultNdArray<float, 2> out({image.shape(0), image.shape(1)});
///     ... out(i, j) = ...;
///     return out;
///   });
template <class T, std::size_t Rank = kDynamicRank>
class ResultNdArray {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>,
                "shmrpc: a ResultNdArray holds numbers (integers, floats, complex)");

 public:
  using element_type = T;

  /// An array of `shape`, zero-filled, in a buffer made for the calling client. Server side,
  /// only inside a registered function's call. Throws std::invalid_argument for a shape of the
  /// wrong rank (or more than kMaxRank dimensions), std::logic_error outside a call,
  /// OutOfSharedMemoryError.
  explicit ResultNdArray(std::span<const std::size_t> shape)
      : view_(nullptr, shape), buffer_(detail::make_result_buffer(view_.size() * sizeof(T))) {
    if (buffer_.mapping) {
      view_ = ArrayView<T, Rank>(reinterpret_cast<T*>(buffer_.mapping->data()), shape);
    }
  }
  ResultNdArray(std::initializer_list<std::size_t> shape)
      : ResultNdArray(std::span<const std::size_t>(shape.begin(), shape.size())) {}

  /// The elements, C-ordered: view()(i, j), view().data(), view().span().
  const ArrayView<T, Rank>& view() const noexcept { return view_; }
  T* data() const noexcept { return view_.data(); }
  std::size_t size() const noexcept { return view_.size(); }
  template <class... Index>
  T& operator()(Index... index) const noexcept requires(sizeof...(Index) == Rank) {
    return view_(index...);
  }

  /// The buffer's id (0 when empty), for the frame codec.
  std::uint64_t buffer_id() const noexcept { return buffer_.id; }

 private:
  ArrayView<T, Rank> view_;
  detail::ResultBuffer buffer_;
};

}  // namespace shmrpc
