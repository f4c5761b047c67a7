#include "shmrpc/detail/call_scope.hpp"

#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

#include "shmrpc/errors.hpp"

namespace shmrpc::detail {
namespace {

using layout::Status;

template <class T>
void store(std::byte* slot, T value) {
  std::memcpy(slot, &value, sizeof value);
}

template <class Wire, class Value>
bool store_integer(std::byte* slot, Value value) {
  if (!std::in_range<Wire>(value)) {
    return false;
  }
  store(slot, static_cast<Wire>(value));
  return true;
}

// Writes integer `value` as wire kind `kind`; false when it does not fit.
template <class Value>
bool store_integer_as(TypeKind kind, std::byte* slot, Value value) {
  switch (kind) {
    case TypeKind::kInt8:
      return store_integer<std::int8_t>(slot, value);
    case TypeKind::kInt16:
      return store_integer<std::int16_t>(slot, value);
    case TypeKind::kInt32:
      return store_integer<std::int32_t>(slot, value);
    case TypeKind::kInt64:
      return store_integer<std::int64_t>(slot, value);
    case TypeKind::kUInt8:
      return store_integer<std::uint8_t>(slot, value);
    case TypeKind::kUInt16:
      return store_integer<std::uint16_t>(slot, value);
    case TypeKind::kUInt32:
      return store_integer<std::uint32_t>(slot, value);
    case TypeKind::kUInt64:
      return store_integer<std::uint64_t>(slot, value);
    case TypeKind::kFloat32:
      store(slot, static_cast<float>(value));
      return true;
    case TypeKind::kFloat64:
      store(slot, static_cast<double>(value));
      return true;
    default:
      return false;
  }
}

bool is_float(TypeKind kind) {
  return kind == TypeKind::kFloat32 || kind == TypeKind::kFloat64;
}

}  // namespace

CallScope::CallScope(Connection& connection, const FunctionSchema& function)
    : connection_(connection), function_(function), deadline_(connection.call_deadline()) {
  connection_.prepare(deadline_);
}

CallScope::~CallScope() {
  for (const std::uint64_t block : blocks_) {
    connection_.free_block(block);  // deferred if the call is late
  }
}

void CallScope::type_error(std::size_t index, std::string_view given) const {
  const ArgumentSchema& argument = function_.arguments[index];
  throw std::invalid_argument("shmrpc: argument " + std::to_string(index + 1) + " ('" +
                              argument.name + "') of " + function_.signature + " is " +
                              type_name(*argument.type) + ", but " + std::string(given) +
                              " was given");
}

std::byte* CallScope::slot(std::size_t index) const {
  return connection_.frame() + function_.arguments[index].offset;
}

void CallScope::put_bool(std::size_t index, bool value) {
  if (parameter(index).kind != TypeKind::kBool) {
    type_error(index, "a bool");
  }
  store(slot(index), value);
}

void CallScope::put_int(std::size_t index, std::int64_t value) {
  const TypeKind kind = parameter(index).kind;
  if (!is_integer(kind) && !is_float(kind)) {
    type_error(index, "an integer");
  }
  if (!store_integer_as(kind, slot(index), value)) {
    throw std::out_of_range("shmrpc: argument " + std::to_string(index + 1) + " ('" +
                            function_.arguments[index].name + "') of " + function_.name + ": " +
                            std::to_string(value) + " does not fit " + type_name(parameter(index)));
  }
}

void CallScope::put_uint(std::size_t index, std::uint64_t value) {
  const TypeKind kind = parameter(index).kind;
  if (!is_integer(kind) && !is_float(kind)) {
    type_error(index, "an integer");
  }
  if (!store_integer_as(kind, slot(index), value)) {
    throw std::out_of_range("shmrpc: argument " + std::to_string(index + 1) + " ('" +
                            function_.arguments[index].name + "') of " + function_.name + ": " +
                            std::to_string(value) + " does not fit " + type_name(parameter(index)));
  }
}

void CallScope::put_float(std::size_t index, double value) {
  const TypeKind kind = parameter(index).kind;
  if (kind == TypeKind::kFloat64) {
    store(slot(index), value);
  } else if (kind == TypeKind::kFloat32) {
    store(slot(index), static_cast<float>(value));
  } else {
    type_error(index, "a floating-point number");
  }
}

void CallScope::put_fixed(std::size_t index, const TypeInfo& type, void* data, bool writable) {
  const TypeInfo& wanted = parameter(index);
  if (wanted.kind == TypeKind::kSpan && type.kind == TypeKind::kArray) {
    put_span(index, *type.element, data, type.count, writable);
    return;
  }
  if (!same_type(wanted, type)) {
    type_error(index, "an " + type_name(type));
  }
  std::memcpy(slot(index), data, type.size);
}

void CallScope::put_value(std::size_t index, const TypeInfo& type, const void* bytes) {
  if (!same_type(parameter(index), type)) {
    type_error(index, "a " + type_name(type));
  }
  std::memcpy(slot(index), bytes, type.size);
}

std::uint64_t CallScope::stage(std::size_t index, const void* data, std::size_t bytes) {
  const auto offset = connection_.allocator().allocate(bytes);
  if (!offset) {
    const auto& allocator = connection_.allocator();
    throw std::length_error(
        "shmrpc: argument " + std::to_string(index + 1) + " ('" + function_.arguments[index].name +
        "') of " + function_.name + " is " + std::to_string(bytes) +
        " bytes, but the channel heap has " + std::to_string(allocator.largest_free()) +
        " bytes free in one piece (heap size " + std::to_string(allocator.size()) +
        " bytes; raise ServerOptions::arena_size)");
  }
  blocks_.push_back(*offset);
  if (bytes != 0) {
    std::memcpy(connection_.heap() + *offset, data, bytes);
  }
  return *offset;
}

void CallScope::put_span(std::size_t index, const TypeInfo& element, void* data, std::size_t count,
                         bool writable) {
  const TypeInfo& wanted = parameter(index);
  if (wanted.kind != TypeKind::kSpan || !same_type(*wanted.element, element)) {
    type_error(index, "a range of " + type_name(element));
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

void CallScope::put_string(std::size_t index, std::string_view text) {
  if (parameter(index).kind != TypeKind::kString) {
    type_error(index, "a string");
  }
  const layout::VarSlot var{text.empty() ? 0 : stage(index, text.data(), text.size()), text.size()};
  store(slot(index), var);
}

void CallScope::execute() {
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
    throw TimeoutError("shmrpc: call to '" + function_.name + "' on server '" +
                       connection_.server_name() + "' timed out before the server took it");
  }
  if (*state == CallState::kDone) {
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
      throw std::length_error("shmrpc: " + message);
    case Status::kServerStopping:
      throw ServerGoneError("shmrpc: " + message);
    case Status::kBadRequest:
      throw ProtocolError("shmrpc: server '" + connection_.server_name() +
                          "' rejected the request: " + message);
    case Status::kOk:
      break;
  }
  throw ProtocolError("shmrpc: server '" + connection_.server_name() +
                      "' failed a call with unknown status " +
                      std::to_string(static_cast<std::uint32_t>(status)));
}

const std::byte* CallScope::result_slot() const noexcept {
  return connection_.frame() + function_.return_offset;
}

std::span<const std::byte> CallScope::result_bytes() const {
  layout::VarSlot var{};
  std::memcpy(&var, result_slot(), sizeof var);
  const std::uint64_t element_size =
      function_.return_type->element != nullptr ? function_.return_type->element->size : 1;
  const std::uint64_t capacity = connection_.block().result_capacity;
  const bool valid = window_ && var.offset == *window_ && var.length <= capacity / element_size;
  if (!valid && var.length != 0) {
    throw ProtocolError("shmrpc: server '" + connection_.server_name() + "' returned a result of " +
                        std::to_string(var.length) + " elements outside the offered window");
  }
  if (var.length == 0) {
    return {};
  }
  return {connection_.heap() + var.offset, var.length * element_size};
}

std::uint64_t CallScope::keep_result_block() {
  const std::uint64_t offset = window_.value();
  std::erase(blocks_, offset);
  connection_.allocator().shrink(offset, result_bytes().size());
  window_.reset();
  return offset;
}

}  // namespace shmrpc::detail
