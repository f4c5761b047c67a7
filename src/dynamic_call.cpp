#include "shmrpc/dynamic_call.hpp"

#include <fmt/format.h>

#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

#include "shmrpc/errors.hpp"
#include "shmrpc/value_codec.hpp"

namespace shmrpc {

using layout::Status;

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
  for (const std::uint64_t block : blocks_) {
    connection_.free_block(block);  // deferred if the call is late
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

std::uint64_t DynamicCall::stage(std::size_t index, const void* data, std::size_t bytes) {
  const auto offset = connection_.allocator().allocate(bytes);
  if (!offset) {
    const auto& allocator = connection_.allocator();
    throw std::length_error(fmt::format(
        "shmrpc: argument {} ('{}') of {} is {} bytes, but the channel heap has {} bytes free in "
        "one piece (heap size {} bytes; raise ServerOptions::arena_size)",
        index + 1, function_.arguments[index].name, function_.name, bytes, allocator.largest_free(),
        allocator.size()));
  }
  blocks_.push_back(*offset);
  if (bytes != 0) {
    std::memcpy(connection_.heap() + *offset, data, bytes);
  }
  return *offset;
}

void DynamicCall::put_span(std::size_t index, const TypeInfo& element, void* data,
                           std::size_t count, bool writable) {
  const TypeInfo& wanted = parameter(index);
  if (wanted.kind != TypeKind::kSpan || !same_type(*wanted.element, element)) {
    type_error(index, fmt::format("a range of {}", type_name(element)));
  }
  if (wanted.is_mutable && !writable) {
    type_error(index, "a read-only range (the function writes to it: pass a mutable range)");
  }
  const std::size_t bytes = count * element.size;
  layout::VarSlot var{0, count};
  if (count == 0) {
    var.offset = 0;
  } else if (connection_.in_heap(data, bytes)) {
    var.offset = static_cast<std::uint64_t>(static_cast<std::byte*>(data) - connection_.heap());
  } else {
    var.offset = stage(index, data, bytes);
    if (wanted.is_mutable) {
      copy_backs_.push_back({var.offset, data, bytes});
    }
  }
  store(slot(index), var);
}

void DynamicCall::put_string(std::size_t index, std::string_view text) {
  if (parameter(index).kind != TypeKind::kString) {
    type_error(index, "a string");
  }
  const layout::VarSlot var{text.empty() ? 0 : stage(index, text.data(), text.size()), text.size()};
  store(slot(index), var);
}

void DynamicCall::execute() {
  layout::CommandBlock& block = connection_.block();
  if (is_variable(function_.return_type->kind)) {
    const auto window = connection_.allocator().allocate_largest();
    if (window) {
      blocks_.push_back(window->first);
      window_ = window->first;
    }
    block.result_offset = window ? window->first : 0;
    block.result_capacity = window ? window->second : 0;
  }
  const auto state = connection_.run(function_, deadline_);
  if (!state) {
    throw TimeoutError(
        fmt::format("shmrpc: call to '{}' on server '{}' timed out before the server took it",
                    function_.name, connection_.server_name()));
  }
  if (*state == layout::CallState::kDone) {
    for (const CopyBack& copy : copy_backs_) {
      std::memcpy(copy.destination, connection_.heap() + copy.offset, copy.bytes);
    }
    return;
  }
  // The server wrote status and text before posting kFailed (acquire in run()).
  const auto status = static_cast<Status>(block.status);
  const auto text = [](const auto& chars) {
    return std::string(chars.data(), strnlen(chars.data(), chars.size()));
  };
  const std::string type = text(block.error_type);
  const std::string message = text(block.error_message);
  switch (status) {
    case Status::kRemoteException:
      throw RemoteError(function_.name, type, message);
    case Status::kResultTooLarge:
      throw std::length_error(fmt::format("shmrpc: {}", message));
    case Status::kServerStopping:
      throw ServerGoneError(fmt::format("shmrpc: {}", message));
    case Status::kBadRequest:
      throw ProtocolError(fmt::format("shmrpc: server '{}' rejected the request: {}",
                                      connection_.server_name(), message));
    case Status::kOk:
      break;
  }
  throw ProtocolError(fmt::format("shmrpc: server '{}' failed a call with unknown status {}",
                                  connection_.server_name(), static_cast<std::uint32_t>(status)));
}

const std::byte* DynamicCall::result_slot() const noexcept {
  return connection_.frame() + function_.return_offset;
}

std::span<const std::byte> DynamicCall::result_bytes() const {
  layout::VarSlot var{};
  std::memcpy(&var, result_slot(), sizeof var);
  const std::uint64_t element_size =
      function_.return_type->element != nullptr ? function_.return_type->element->size : 1;
  const std::uint64_t capacity = connection_.block().result_capacity;
  const bool valid = window_ && var.offset == *window_ && var.length <= capacity / element_size;
  if (!valid && var.length != 0) {
    throw ProtocolError(fmt::format(
        "shmrpc: server '{}' returned a result of {} elements outside the offered window",
        connection_.server_name(), var.length));
  }
  if (var.length == 0) {
    return {};
  }
  return {connection_.heap() + var.offset, var.length * element_size};
}

std::uint64_t DynamicCall::keep_result_block() {
  const std::uint64_t offset = window_.value();
  std::erase(blocks_, offset);
  connection_.allocator().shrink(offset, result_bytes().size());
  window_.reset();
  return offset;
}

}  // namespace shmrpc
