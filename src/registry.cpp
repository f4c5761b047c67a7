#include "shmrpc/registry.hpp"

#include <algorithm>
#include <limits>

#include "shmrpc/layout.hpp"

namespace shmrpc {
namespace {

bool is_identifier(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

constexpr std::size_t kMaxIdentifierLength = 255;

void check_identifier(std::string_view what, std::string_view name) {
  if (!is_identifier(name) || name.size() > kMaxIdentifierLength) {
    throw std::invalid_argument("shmrpc: " + std::string(what) + " '" + std::string(name) +
                                "' is not an identifier (letters, digits and '_', not starting "
                                "with a digit, at most 255 characters)");
  }
}

SlotPlacement place(std::uint64_t& cursor, const TypeInfo& type) {
  cursor = layout::align_up(cursor, type.align);
  const SlotPlacement slot{static_cast<std::uint32_t>(cursor), type.size};
  cursor += type.size;
  if (cursor > std::numeric_limits<std::uint32_t>::max()) {
    throw std::invalid_argument("shmrpc: the arguments of a function take more than 4 GiB");
  }
  return slot;
}

}  // namespace

std::string FunctionDefinition::signature() const {
  return format_signature(name, argument_names, argument_types, *return_type);
}

FunctionDefinition& FunctionRegistry::add(FunctionDefinition definition) {
  check_identifier("function name", definition.name);
  for (const FunctionDefinition& existing : functions_) {
    if (existing.name == definition.name) {
      throw std::invalid_argument("shmrpc: function '" + definition.name +
                                  "' is already registered");
    }
  }
  const std::size_t arity = definition.argument_types.size();
  if (definition.argument_names.empty()) {
    for (std::size_t i = 0; i < arity; ++i) {
      definition.argument_names.push_back("arg" + std::to_string(i));
    }
  }
  if (definition.argument_names.size() != arity) {
    throw std::invalid_argument("shmrpc: function '" + definition.name + "' takes " +
                                std::to_string(arity) + " arguments but " +
                                std::to_string(definition.argument_names.size()) +
                                " argument names were given");
  }
  for (std::size_t i = 0; i < arity; ++i) {
    check_identifier("argument name", definition.argument_names[i]);
    for (std::size_t j = 0; j < i; ++j) {
      if (definition.argument_names[j] == definition.argument_names[i]) {
        throw std::invalid_argument("shmrpc: function '" + definition.name +
                                    "' has two arguments named '" + definition.argument_names[i] +
                                    "'");
      }
    }
  }
  // Arguments first, in order, then the result; each slot at its natural alignment.
  std::uint64_t cursor = 0;
  for (const TypeInfo* type : definition.argument_types) {
    definition.argument_slots.push_back(place(cursor, *type));
  }
  definition.return_slot = place(cursor, *definition.return_type);
  definition.frame_size = static_cast<std::uint32_t>(cursor);
  functions_.push_back(std::move(definition));
  return functions_.back();
}

namespace detail {

std::byte* heap_range(const CallFrame& call, const layout::VarSlot& slot, std::size_t element_size,
                      std::size_t element_align) {
  if (slot.offset > call.heap_size) {
    throw BadRequest("heap offset " + std::to_string(slot.offset) + " is past the end of the " +
                     std::to_string(call.heap_size) + "-byte heap");
  }
  if (slot.length > (call.heap_size - slot.offset) / element_size) {
    throw BadRequest(std::to_string(slot.length) + " elements of " + std::to_string(element_size) +
                     " bytes at heap offset " + std::to_string(slot.offset) +
                     " run past the end of the " + std::to_string(call.heap_size) + "-byte heap");
  }
  if (slot.offset % element_align != 0) {
    throw BadRequest("heap offset " + std::to_string(slot.offset) + " is not aligned to " +
                     std::to_string(element_align) + " bytes");
  }
  return call.heap + slot.offset;
}

void check_bool_bytes(const std::byte* bytes, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    if (std::to_integer<unsigned>(bytes[i]) > 1) {
      throw BadRequest("a bool holds byte " + std::to_string(std::to_integer<unsigned>(bytes[i])) +
                       "; a bool is 0 or 1");
    }
  }
}

void throw_bad_enumerator(const TypeInfo& type, std::uint64_t value) {
  const bool is_signed = type.element != nullptr && type.element->kind >= TypeKind::kInt8 &&
                         type.element->kind <= TypeKind::kInt64;
  const auto text = [&](std::uint64_t bits) {
    return is_signed ? std::to_string(static_cast<std::int64_t>(bits)) : std::to_string(bits);
  };
  std::string allowed;
  for (const MemberInfo& member : type.members) {
    allowed += (allowed.empty() ? "" : ", ") + member.name + " = " + text(member.value);
  }
  throw BadRequest(type.name + " holds " + text(value) + ", which is none of its enumerators (" +
                   allowed + ")");
}

void check_result_window(const CallFrame& call, std::size_t element_align) {
  const bool window_valid = call.result_offset <= call.heap_size &&
                            call.result_capacity <= call.heap_size - call.result_offset &&
                            call.result_offset % element_align == 0;
  if (!window_valid) {
    throw BadRequest("the result window (offset " + std::to_string(call.result_offset) + ", " +
                     std::to_string(call.result_capacity) + " bytes) is not inside the " +
                     std::to_string(call.heap_size) + "-byte heap or is misaligned");
  }
}

layout::VarSlot write_result_bytes(const CallFrame& call, const void* bytes, std::size_t size,
                                   std::size_t element_align) {
  check_result_window(call, element_align);
  if (size > call.result_capacity) {
    throw ResultTooLarge("the result is " + std::to_string(size) + " bytes but only " +
                         std::to_string(call.result_capacity) +
                         " bytes of the channel heap were free for it (heap size " +
                         std::to_string(call.heap_size) + " bytes; see ServerOptions::arena_size)");
  }
  if (size != 0) {
    std::memcpy(call.heap + call.result_offset, bytes, size);
  }
  return {call.result_offset, size};
}

}  // namespace detail
}  // namespace shmrpc
