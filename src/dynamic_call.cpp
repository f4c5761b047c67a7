#include "shmrpc/dynamic_call.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

#include "shmrpc/detail/typed_call.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/value_codec.hpp"

namespace shmrpc {

namespace {

template <class T>
void store(std::byte* slot, T value) {
  std::memcpy(slot, &value, sizeof value);
}

}  // namespace

DynamicCall::DynamicCall(Connection& connection, const FunctionSchema& function)
    : connection_(connection), function_(function), deadline_(connection.call_deadline()) {
  connection_.prepare(deadline_);
}

DynamicCall::~DynamicCall() {
  // Each deferred if the call is late: the server may still use them.
  for (const std::uint64_t block : blocks_) {
    connection_.free_block(
        {.buffer = layout::kHeapBuffer, .offset = block, .data = nullptr, .mapping = {}});
  }
  for (SharedBlock& scratch : scratch_) {
    connection_.return_scratch(std::move(scratch));
  }
  free_result_buffers();
}

void DynamicCall::free_result_buffers() noexcept {
  for (ResultBuffer& buffer : result_buffers_) {
    if (!buffer.kept) {
      connection_.free_block(buffer.block);
    }
  }
}

void DynamicCall::type_error(std::size_t index, std::string_view given) const {
  const ArgumentSchema& argument = function_.arguments[index];
  throw std::invalid_argument(
      fmt::format("shmrpc: argument {} ('{}') of {} is {}, but {} was given", index + 1,
                  argument.name, function_.signature, type_name(*argument.type), given));
}

void DynamicCall::range_error(std::size_t index, std::string_view value,
                              std::string_view allowed) const {
  throw std::out_of_range(fmt::format("shmrpc: argument {} ('{}') of {}: {} does not fit {}{}",
                                      index + 1, function_.arguments[index].name, function_.name,
                                      value, type_name(parameter(index)), allowed));
}

std::byte* DynamicCall::slot(std::size_t index) const {
  return connection_.frame() + function_.arguments[index].offset;
}

void DynamicCall::put_bool(std::size_t index, bool value) {
  if (parameter(index).kind != TypeKind::kBool) {
    type_error(index, "a bool");
  }
  store(slot(index), value);
}

template <class Integer>
void DynamicCall::put_integer(std::size_t index, Integer value) {
  const TypeKind kind = parameter(index).kind;
  if (!is_integer(kind) && !is_floating(kind)) {
    type_error(index, "an integer");
  }
  if (!encode_integer(kind, value, slot(index))) {
    range_error(index, fmt::format("{}", value));
  }
}

void DynamicCall::put_int(std::size_t index, std::int64_t value) {
  put_integer(index, value);
}

void DynamicCall::put_uint(std::size_t index, std::uint64_t value) {
  put_integer(index, value);
}

void DynamicCall::put_float(std::size_t index, double value) {
  if (!is_floating(parameter(index).kind)) {
    type_error(index, "a floating-point number");
  }
  if (!encode_float(parameter(index).kind, value, slot(index))) {
    range_error(index, fmt::format("{}", value), fmt::format(" ({})", kFloat32Range));
  }
}

void DynamicCall::put_fixed(std::size_t index, const TypeInfo& type, void* data, bool writable) {
  const TypeInfo& wanted = parameter(index);
  if (wanted.kind == TypeKind::kSpan && type.kind == TypeKind::kArray) {
    put_span(index, *type.element, data, type.count, writable);
    return;
  }
  if (!same_type(wanted, type)) {
    type_error(index, fmt::format("an {}", type_name(type)));
  }
  std::memcpy(slot(index), data, type.size);
}

void DynamicCall::put_value(std::size_t index, const TypeInfo& type, const void* bytes) {
  if (!same_type(parameter(index), type)) {
    type_error(index, fmt::format("a {}", type_name(type)));
  }
  std::memcpy(slot(index), bytes, type.size);
}

DynamicCall::Staged DynamicCall::stage(const void* data, std::size_t bytes) {
  std::optional<std::uint64_t> offset;
  if (bytes <= connection_.inline_limit()) {
    offset = connection_.allocator().allocate(bytes);
  }
  layout::VarSlot slot{};
  std::byte* destination = nullptr;
  if (offset) {
    blocks_.push_back(*offset);
    slot = {.offset = *offset, .length = 0, .buffer = layout::kHeapBuffer};
    destination = connection_.heap() + *offset;
  } else {
    SharedBlock& scratch = scratch_.emplace_back(connection_.take_scratch(bytes));
    slot = {.offset = 0, .length = 0, .buffer = scratch.buffer};
    destination = scratch.data;
  }
  if (bytes != 0 && data != nullptr) {
    std::memcpy(destination, data, bytes);
  }
  return {slot, destination};
}

namespace {

// Calls visit(byte offset of the element) for every element of an array of `shape` and
// `byte_strides`, in C order.
template <class Visit>
void for_each_element(std::span<const std::size_t> shape,
                      std::span<const std::ptrdiff_t> byte_strides, Visit&& visit) {
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) {
    return;
  }
  std::array<std::size_t, layout::kMaxRank> index{};
  std::ptrdiff_t offset = 0;
  for (;;) {
    visit(offset);
    std::size_t dim = shape.size();
    for (;;) {
      if (dim == 0) {
        return;
      }
      --dim;
      if (++index.at(dim) < shape[dim]) {
        offset += byte_strides[dim];
        break;
      }
      offset -= byte_strides[dim] * static_cast<std::ptrdiff_t>(shape[dim] - 1);
      index.at(dim) = 0;
    }
  }
}

}  // namespace

namespace {

// What an array of `shape` and `strides` (in elements) spans: its element count, its strides in
// bytes, and the bytes it reaches relative to element [0, ..., 0], [low, high).
struct NdReach {
  std::size_t count = 1;
  std::ptrdiff_t low = 0;
  std::ptrdiff_t high = 0;
  std::vector<std::ptrdiff_t> byte_strides;
};

NdReach nd_reach(std::span<const std::size_t> shape, std::span<const std::ptrdiff_t> strides,
                 std::ptrdiff_t element_size) {
  NdReach reach{.count = 1, .low = 0, .high = element_size, .byte_strides = {}};
  reach.byte_strides.resize(shape.size());
  for (std::size_t i = 0; i < shape.size(); ++i) {
    reach.count *= shape[i];
    reach.byte_strides[i] = strides[i] * element_size;
    if (shape[i] != 0) {
      const std::ptrdiff_t step = static_cast<std::ptrdiff_t>(shape[i] - 1) * reach.byte_strides[i];
      (step < 0 ? reach.low : reach.high) += step;
    }
  }
  return reach;
}

// Writes the C-ordered byte strides of `shape` into `nd`; true when `byte_strides` are those.
bool write_c_strides(std::span<const std::size_t> shape,
                     std::span<const std::ptrdiff_t> byte_strides, std::ptrdiff_t element_size,
                     layout::NdSlot& nd) {
  bool same = true;
  std::ptrdiff_t stride = element_size;
  for (std::size_t i = shape.size(); i-- > 0;) {
    nd.strides.at(i) = stride;
    same = same && (shape[i] == 1 || byte_strides[i] == stride);
    stride *= static_cast<std::ptrdiff_t>(std::max<std::size_t>(shape[i], 1));
  }
  return same;
}

}  // namespace

void DynamicCall::put_ndarray(std::size_t index, const TypeInfo& element, void* data,
                              std::span<const std::size_t> shape,
                              std::span<const std::ptrdiff_t> strides, bool writable) {
  const TypeInfo& wanted = parameter(index);
  if (wanted.kind != TypeKind::kNdArray || !same_type(*wanted.element, element)) {
    type_error(index, fmt::format("an array of {}", type_name(element)));
  }
  if (shape.size() > layout::kMaxRank || strides.size() != shape.size() ||
      (wanted.count != 0 && shape.size() != wanted.count)) {
    type_error(index, fmt::format("an array of rank {}", shape.size()));
  }
  if (wanted.is_mutable && !writable) {
    type_error(index, "a read-only array (the function writes to it: pass a writable one)");
  }
  const auto element_size = static_cast<std::ptrdiff_t>(element.size);
  NdReach reach = nd_reach(shape, strides, element_size);
  layout::NdSlot nd{};
  nd.rank = static_cast<std::uint32_t>(shape.size());
  std::copy(shape.begin(), shape.end(), nd.shape.begin());
  nd.data.length = reach.count;
  auto* first = static_cast<std::byte*>(data);
  const auto found =
      reach.count == 0
          ? std::nullopt
          : connection_.locate(first + reach.low, static_cast<std::size_t>(reach.high - reach.low));
  if (reach.count == 0 || found) {
    // In shared memory: passed as it lies, strides and all.
    if (found) {
      nd.data.offset = found->offset + static_cast<std::uint64_t>(-reach.low);
      nd.data.buffer = found->buffer;
    }
    std::copy(reach.byte_strides.begin(), reach.byte_strides.end(), nd.strides.begin());
    store(slot(index), nd);
    return;
  }
  // Copied once, C-ordered, into the heap or a scratch buffer.
  const Staged staged = stage(nullptr, reach.count * element.size);
  nd.data.offset = staged.slot.offset;
  nd.data.buffer = staged.slot.buffer;
  if (write_c_strides(shape, reach.byte_strides, element_size, nd)) {
    std::memcpy(staged.bytes, first, reach.count * element.size);
  } else {
    std::byte* out = staged.bytes;
    for_each_element(shape, reach.byte_strides, [&](std::ptrdiff_t offset) {
      std::memcpy(out, first + offset, element.size);
      out += element.size;
    });
  }
  if (wanted.is_mutable) {
    nd_copy_backs_.push_back({staged.bytes, first, std::vector(shape.begin(), shape.end()),
                              std::move(reach.byte_strides), element.size});
  }
  store(slot(index), nd);
}

void DynamicCall::put_span(std::size_t index, const TypeInfo& element, void* data,
                           std::size_t count, bool writable) {
  const TypeInfo& wanted = parameter(index);
  const bool takes_range = wanted.kind == TypeKind::kSpan ||
                           (wanted.kind == TypeKind::kVector && is_fixed(wanted.element->kind));
  if (!takes_range || !same_type(*wanted.element, element)) {
    type_error(index, fmt::format("a range of {}", type_name(element)));
  }
  if (wanted.is_mutable && !writable) {
    type_error(index, "a read-only range (the function writes to it: pass a mutable range)");
  }
  const std::size_t bytes = count * element.size;
  layout::VarSlot var{};
  if (count != 0) {
    if (const auto found = connection_.locate(data, bytes)) {
      var = *found;  // already in shared memory: passed where it lies
    } else {
      const Staged staged = stage(data, bytes);
      var = staged.slot;
      if (wanted.is_mutable) {
        copy_backs_.push_back({staged.bytes, data, bytes});
      }
    }
  }
  var.length = count;
  store(slot(index), var);
}

void DynamicCall::put_string(std::size_t index, std::string_view text) {
  if (parameter(index).kind != TypeKind::kString) {
    type_error(index, "a string");
  }
  layout::VarSlot var{};
  if (!text.empty()) {
    var = stage(text.data(), text.size()).slot;
  }
  var.length = text.size();
  store(slot(index), var);
}

void DynamicCall::put_pieces(std::size_t index, const TypeInfo& type, std::byte* slot_bytes,
                             const PieceWriter& pieces) {
  if (!same_type(parameter(index), type)) {
    type_error(index, fmt::format("a {}", type_name(type)));
  }
  if (pieces.size() == 0) {
    pieces.place(layout::kHeapBuffer, 0, nullptr);
  } else {
    // Heap blocks and scratch buffers start at 64 bytes or more, aligned for every piece.
    const Staged staged = stage(nullptr, pieces.size());
    pieces.place(staged.slot.buffer, staged.slot.offset, staged.bytes);
  }
  std::memcpy(slot(index), slot_bytes, type.size);
}

void DynamicCall::execute() {
  start();
  finish();
}

void DynamicCall::start() {
  if (function_.streams) {
    throw std::logic_error(fmt::format(
        "shmrpc: {} streams; read it with start_stream() and next_element()", function_.signature));
  }
  layout::CommandBlock& block = connection_.block();
  if (function_.return_type->indirect) {
    const auto window = connection_.allocator().allocate_largest();
    if (window) {
      blocks_.push_back(window->first);
      window_ = window->first;
    }
    block.result_offset = window ? window->first : 0;
    block.result_capacity = window ? window->second : 0;
    window_capacity_ = block.result_capacity;
    window_data_ = window ? connection_.heap() + window->first : nullptr;
  }
  connection_.post(function_, deadline_);
}

void DynamicCall::finish() {
  const auto state = connection_.await_end(function_.name, deadline_);
  if (!state) {
    throw TimeoutError(
        fmt::format("shmrpc: call to '{}' on server '{}' timed out before the server took it",
                    function_.name, connection_.server_name()));
  }
  if (*state != layout::CallState::kDone) {
    connection_.throw_failure(function_.name);
  }
  for (const CopyBack& copy : copy_backs_) {
    std::memcpy(copy.destination, copy.source, copy.bytes);
  }
  for (const NdCopyBack& copy : nd_copy_backs_) {
    const std::byte* in = copy.source;
    for_each_element(copy.shape, copy.byte_strides, [&](std::ptrdiff_t offset) {
      std::memcpy(copy.destination + offset, in, copy.element_size);
      in += copy.element_size;
    });
  }
  if (function_.return_type->indirect && !stream_) {
    resolve_result();
  }
}

namespace {

// Bytes of one element a handle of `type` counts: a string's byte, a vector's element, a map's
// entry, an ndarray's number.
std::uint64_t unit_size(const TypeInfo& type) {
  if (type.kind == TypeKind::kMap) {
    return map_entry_layout(type).size;
  }
  return type.element != nullptr ? type.element->size : 1;
}

}  // namespace

void DynamicCall::resolve_result() {
  const TypeInfo& type = *function_.return_type;
  try {
    claim_pieces(type, result_slot());
  } catch (const InvalidValue& error) {
    throw ProtocolError(fmt::format("shmrpc: {} returned an invalid {}: {}", function_.name,
                                    type_name(type), error.what()));
  }
}

void DynamicCall::claim_pieces(const TypeInfo& type, const std::byte* bytes) {
  if (!type.indirect) {
    return;
  }
  if (is_variable(type.kind)) {
    layout::VarSlot var{};
    std::memcpy(&var, bytes, sizeof var);
    const std::uint64_t unit = unit_size(type);
    const std::span<const std::byte> piece = claim_piece(var, unit);
    const std::byte* at = piece.data();
    const bool nested = (type.kind == TypeKind::kVector && type.element->indirect) ||
                        (type.kind == TypeKind::kMap &&
                         (type.members[0].type->indirect || type.members[1].type->indirect));
    for (std::uint64_t i = 0; nested && i < var.length; ++i, at += unit) {
      if (type.kind == TypeKind::kVector) {
        claim_pieces(*type.element, at);
      } else {
        claim_pieces(*type.members[0].type, at + type.members[0].value);
        claim_pieces(*type.members[1].type, at + type.members[1].value);
      }
    }
    return;
  }
  if (type.kind == TypeKind::kOptional) {
    if (const std::byte* value = optional_value(type, bytes)) {
      claim_pieces(*type.element, value);
    }
    return;
  }
  for (const MemberInfo& member : type.members) {  // a tuple
    claim_pieces(*member.type, bytes + member.value);
  }
}

std::span<const std::byte> DynamicCall::claim_piece(const layout::VarSlot& var,
                                                    std::size_t element_size) {
  const bool known =
      var.buffer == layout::kHeapBuffer ||
      std::any_of(result_buffers_.begin(), result_buffers_.end(),
                  [&](const ResultBuffer& b) { return b.block.buffer == var.buffer; });
  if (!known && var.length != 0) {
    // A buffer the server made for this client: ours to free from here on, whatever else fails.
    ResultBuffer& made = result_buffers_.emplace_back();
    made.block = SharedBlock{.buffer = var.buffer, .offset = 0, .data = nullptr, .mapping = {}};
    made.block.mapping = connection_.map_buffer(var.buffer, 0);
    made.block.data = made.block.mapping->data();
  }
  const auto found = find_piece(var, element_size);
  if (!found) {
    throw ProtocolError(fmt::format(
        "shmrpc: server '{}' returned {} elements of {} bytes at offset {} of {}, outside the "
        "memory it was given for the result",
        connection_.server_name(), var.length, element_size, var.offset,
        var.buffer == layout::kHeapBuffer ? "the heap" : fmt::format("buffer {}", var.buffer)));
  }
  if (var.buffer == layout::kHeapBuffer && var.length != 0) {
    window_used_ = std::max(window_used_, var.offset - *window_ + found->size());
  }
  return *found;
}

std::optional<std::span<const std::byte>> DynamicCall::find_piece(const layout::VarSlot& var,
                                                                  std::size_t element_size) const {
  if (var.length == 0) {
    return std::span<const std::byte>{};
  }
  if (var.length > std::numeric_limits<std::uint64_t>::max() / element_size) {
    return std::nullopt;
  }
  const std::uint64_t bytes = var.length * element_size;
  if (var.buffer == layout::kHeapBuffer) {
    const std::uint64_t capacity = window_capacity_;
    if (!window_ || var.offset < *window_ || var.offset - *window_ > capacity ||
        bytes > capacity - (var.offset - *window_)) {
      return std::nullopt;
    }
    return std::span<const std::byte>(window_data_ + (var.offset - *window_), bytes);
  }
  for (const ResultBuffer& buffer : result_buffers_) {
    if (buffer.block.buffer == var.buffer) {
      const std::uint64_t size = buffer.block.mapping->size();
      if (var.offset > size || bytes > size - var.offset) {
        return std::nullopt;
      }
      return std::span<const std::byte>(buffer.block.data + var.offset, bytes);
    }
  }
  return std::nullopt;
}

std::span<const std::byte> DynamicCall::result_piece(const layout::VarSlot& slot,
                                                     std::size_t element_size) const {
  const auto found = find_piece(slot, element_size);
  if (!found) {
    throw ProtocolError(
        fmt::format("shmrpc: server '{}' changed the result of '{}' while it was read",
                    connection_.server_name(), function_.name));
  }
  return *found;
}

const std::byte* DynamicCall::result_slot() const noexcept {
  if (stream_) {
    return connection_.heap() + stream_->entries +
           std::uint64_t{stream_->read % stream_->capacity} * stream_->entry_size;
  }
  return connection_.frame() + function_.return_offset;
}

SharedBlock DynamicCall::keep_result_block(std::uint64_t buffer) {
  if (buffer != layout::kHeapBuffer) {
    for (ResultBuffer& made : result_buffers_) {
      if (made.block.buffer == buffer && !made.kept) {
        made.kept = true;
        return made.block;
      }
    }
    throw std::logic_error(fmt::format("shmrpc: the result holds no buffer {} to keep", buffer));
  }
  if (!window_ || window_kept_) {
    throw std::logic_error("shmrpc: the result holds no heap block to keep");
  }
  window_kept_ = true;
  if (stream_) {
    return keep_element_window();
  }
  const std::uint64_t offset = *window_;
  std::erase(blocks_, offset);
  connection_.allocator().shrink(offset, window_used_);
  return {.buffer = layout::kHeapBuffer,
          .offset = offset,
          .data = connection_.heap() + offset,
          .mapping = {}};
}

std::array<std::size_t, layout::kMaxRank> result_shape(const FunctionSchema& function,
                                                       const TypeInfo& type,
                                                       const layout::NdSlot& slot,
                                                       std::size_t bytes) {
  const std::uint64_t element_size = type.element->size;
  std::array<std::size_t, layout::kMaxRank> shape{};
  bool valid = slot.rank <= layout::kMaxRank && (type.count == 0 || slot.rank == type.count);
  const std::size_t rank = valid ? slot.rank : 0;
  std::uint64_t count = 1;
  for (std::size_t i = 0; i < rank; ++i) {
    shape.at(i) = slot.shape.at(i);
    valid = valid && !__builtin_mul_overflow(count, slot.shape.at(i), &count);
  }
  // C order, unless the array is empty (its strides are 0 then: nothing to reach).
  std::uint64_t stride = element_size;
  for (std::size_t i = rank; count != 0 && i-- > 0;) {
    valid =
        valid && (slot.shape.at(i) <= 1 || slot.strides.at(i) == static_cast<std::int64_t>(stride));
    stride *= std::max<std::uint64_t>(slot.shape.at(i), 1);  // <= count * element_size: no overflow
  }
  std::uint64_t total = 0;
  if (!valid || __builtin_mul_overflow(count, element_size, &total) || total != bytes) {
    throw ProtocolError(
        fmt::format("shmrpc: {} returned an array of rank {} whose shape and "
                    "strides do not describe its {} bytes in C order",
                    function.name, slot.rank, bytes));
  }
  return shape;
}

namespace detail {

void ResultMemory::repeated_key(std::size_t entry) {
  throw InvalidValue(fmt::format("entry {} of a map repeats the key of an earlier entry", entry));
}

std::shared_ptr<const KeptBlock> ResultMemory::keep(std::uint64_t buffer) {
  for (const auto& [id, block] : kept) {
    if (id == buffer) {
      return block;
    }
  }
  auto block = std::make_shared<const KeptBlock>(call.connection().shared_from_this(),
                                                 call.keep_result_block(buffer));
  kept.emplace_back(buffer, block);
  return block;
}

}  // namespace detail
}  // namespace shmrpc
