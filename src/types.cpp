#include "shmrpc/types.hpp"

namespace shmrpc {

bool same_type(const TypeInfo& a, const TypeInfo& b) noexcept {
  if (a.kind != b.kind || a.is_mutable != b.is_mutable || a.count != b.count || a.size != b.size ||
      a.align != b.align) {
    return false;
  }
  if (a.element == nullptr || b.element == nullptr) {
    return a.element == b.element;
  }
  return same_type(*a.element, *b.element);
}

std::string type_name(const TypeInfo& type) {
  const auto element = [&] {
    return type.element != nullptr ? type_name(*type.element) : std::string("?");
  };
  switch (type.kind) {
    case TypeKind::kVoid:
      return "void";
    case TypeKind::kBool:
      return "bool";
    case TypeKind::kInt8:
      return "int8";
    case TypeKind::kInt16:
      return "int16";
    case TypeKind::kInt32:
      return "int32";
    case TypeKind::kInt64:
      return "int64";
    case TypeKind::kUInt8:
      return "uint8";
    case TypeKind::kUInt16:
      return "uint16";
    case TypeKind::kUInt32:
      return "uint32";
    case TypeKind::kUInt64:
      return "uint64";
    case TypeKind::kFloat32:
      return "float32";
    case TypeKind::kFloat64:
      return "float64";
    case TypeKind::kArray:
      return "array<" + element() + ", " + std::to_string(type.count) + ">";
    case TypeKind::kSpan:
      return std::string(type.is_mutable ? "span<" : "span<const ") + element() + ">";
    case TypeKind::kString:
      return "string";
    case TypeKind::kVector:
      return "vector<" + element() + ">";
  }
  return "unknown(" + std::to_string(static_cast<int>(type.kind)) + ")";
}

std::string format_signature(std::string_view name, const std::vector<std::string>& argument_names,
                             const std::vector<const TypeInfo*>& argument_types,
                             const TypeInfo& return_type) {
  std::string text = std::string(name) + "(";
  for (std::size_t i = 0; i < argument_types.size(); ++i) {
    text += (i == 0 ? "" : ", ") + argument_names[i] + ": " + type_name(*argument_types[i]);
  }
  return text + ") -> " + type_name(return_type);
}

}  // namespace shmrpc
