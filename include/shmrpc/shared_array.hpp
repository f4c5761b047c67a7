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
struct ResultMemory;
}  // namespace detail

/// A block of shared memory a client keeps (SharedBlock), freed through its connection when the
/// last array over it goes. Arrays of one nested result may share one.
class KeptBlock {
 public:
  KeptBlock(std::shared_ptr<Connection> connection, SharedBlock block) noexcept
      : connection_(std::move(connection)), block_(std::move(block)) {}
  ~KeptBlock() { connection_->free_block(block_); }
  KeptBlock(const KeptBlock&) = delete;
  KeptBlock& operator=(const KeptBlock&) = delete;
  KeptBlock(KeptBlock&&) = delete;
  KeptBlock& operator=(KeptBlock&&) = delete;

  const SharedBlock& block() const noexcept { return block_; }

 private:
  std::shared_ptr<Connection> connection_;
  SharedBlock block_;
};

/// An array in shared memory the client holds. Passing it (or a span of it) to a call copies
/// nothing, and a function that takes std::span<T> writes into it in place. Keeps the connection
/// alive. May be destroyed on any thread; its block is not reused while a call that timed out or
/// was interrupted may still run (the server may still write into the array).
template <class T>
class SharedArray {
 public:
  using value_type = T;

  SharedArray(SharedArray&& other) noexcept
      : block_(std::move(other.block_)),
        data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)) {}
  SharedArray& operator=(SharedArray&& other) noexcept {
    block_ = std::move(other.block_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }
  SharedArray(const SharedArray&) = delete;
  SharedArray& operator=(const SharedArray&) = delete;
  ~SharedArray() = default;

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
  friend struct detail::ResultMemory;
  template <class U, std::size_t Rank>
  friend class SharedNdArray;
  SharedArray(std::shared_ptr<Connection> connection, SharedBlock block, std::size_t size)
      : block_(std::make_shared<const KeptBlock>(std::move(connection), std::move(block))),
        data_(reinterpret_cast<T*>(block_->block().data)),
        size_(size) {}
  // `size` elements at `data`, inside `block` (null for an empty array).
  SharedArray(std::shared_ptr<const KeptBlock> block, T* data, std::size_t size) noexcept
      : block_(std::move(block)), data_(data), size_(size) {}
  bool in_heap() const noexcept { return !block_ || block_->block().in_heap(); }

  std::shared_ptr<const KeptBlock> block_;
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
  friend struct detail::ResultMemory;
  SharedNdArray(SharedArray<T> elements, std::span<const std::size_t> shape)
      : elements_(std::move(elements)), view_(elements_.data(), shape) {}

  SharedArray<T> elements_;
  ArrayView<T, Rank> view_;
};

}  // namespace shmrpc
