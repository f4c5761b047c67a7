#pragma once
/// SharedArray: an array in shared memory a client holds (its channel heap when small, else a
/// buffer segment of its own), passed to calls without a copy.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

#include "shmrpc/array_view.hpp"
#include "shmrpc/connection.hpp"

namespace shmrpc {

template <class T, std::size_t Rank>
class SharedNdArray;
class DynamicCall;
namespace detail {
template <class R>
R read_result(DynamicCall& call);
}  // namespace detail

/// An array in shared memory the client holds. Passing it (or a span of it) to a call copies
/// nothing, and a function that takes std::span<T> writes into it in place. Keeps the connection
/// alive. May be destroyed on any thread; its block is not reused while a call that timed out or
/// was interrupted may still run (the server may still write into the array).
template <class T>
class SharedArray {
 public:
  using value_type = T;

  SharedArray(SharedArray&& other) noexcept
      : connection_(std::move(other.connection_)),
        block_(std::move(other.block_)),
        data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)) {}
  SharedArray& operator=(SharedArray&& other) noexcept {
    if (this != &other) {
      release();
      connection_ = std::move(other.connection_);
      block_ = std::move(other.block_);
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  SharedArray(const SharedArray&) = delete;
  SharedArray& operator=(const SharedArray&) = delete;
  ~SharedArray() { release(); }

  T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  T* begin() const noexcept { return data_; }
  T* end() const noexcept { return data_ + size_; }
  T& operator[](std::size_t i) const noexcept { return data_[i]; }
  std::span<T> span() const noexcept { return {data_, size_}; }

 private:
  friend class Client;
  template <class R>
  friend R detail::read_result(DynamicCall& call);
  template <class U, std::size_t Rank>
  friend class SharedNdArray;
  SharedArray(std::shared_ptr<Connection> connection, SharedBlock block, std::size_t size)
      : connection_(std::move(connection)),
        block_(std::move(block)),
        data_(reinterpret_cast<T*>(block_.data)),
        size_(size) {}
  void release() noexcept {
    if (connection_) {
      connection_->free_block(block_);
      connection_.reset();
    }
  }

  std::shared_ptr<Connection> connection_;
  SharedBlock block_;
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

/// An n-dimensional array result a client keeps where the server wrote it (an ndarray result,
/// e.g. of a ResultNdArray): C-ordered, in the channel heap or a buffer the client owns; no
/// copy. Owns its block like SharedArray. Client side: client.call<SharedNdArray<float, 2>>(...).
template <class T, std::size_t Rank = kDynamicRank>
class SharedNdArray {
 public:
  using element_type = T;

  const ArrayView<T, Rank>& view() const noexcept { return view_; }
  T* data() const noexcept { return view_.data(); }
  std::span<const std::size_t> shape() const noexcept { return view_.shape(); }
  std::size_t size() const noexcept { return view_.size(); }
  template <class... Index>
  T& operator()(Index... index) const noexcept requires(sizeof...(Index) == Rank) {
    return view_(index...);
  }

 private:
  template <class R>
  friend R detail::read_result(DynamicCall& call);
  SharedNdArray(SharedArray<T> elements, std::span<const std::size_t> shape)
      : elements_(std::move(elements)), view_(elements_.data(), shape) {}

  SharedArray<T> elements_;
  ArrayView<T, Rank> view_;
};

}  // namespace shmrpc
