#include "numpy_types.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_set>

namespace py = pybind11;

namespace shmrpc::python {

NumpyShape numpy_shape(const TypeInfo& type) {
  NumpyShape shape;
  const TypeInfo* level = &type;
  while (kind_traits(level->kind).size_rule == SizeRule::kRepeated) {
    shape.dims.push_back(static_cast<py::ssize_t>(level->count));
    level = level->element;
  }
  if (!is_fixed(level->kind)) {
    throw std::logic_error(fmt::format("shmrpc: {} has no numpy dtype", type_name(type)));
  }
  shape.scalar = level;
  return shape;
}

bool is_plain_number(const TypeInfo& type) {
  return is_scalar(type.kind);
}

namespace {

py::dtype scalar_dtype(TypeKind kind) {
  const std::string_view numpy = kind_traits(kind).numpy;
  if (numpy.empty()) {
    throw std::logic_error(fmt::format("shmrpc: {} is not a scalar type", kind_traits(kind).name));
  }
  return py::dtype(std::string(numpy));
}

// The package's name for a kind: the Python class of a scalar's or string's values ("int",
// "str"), else the wire name ("void", "array", "struct").
std::string_view category(TypeKind kind) {
  const KindTraits& traits = kind_traits(kind);
  return traits.kind_class == KindClass::kVoid || traits.python.empty() ? traits.name
                                                                        : traits.python;
}

}  // namespace

const py::dtype& TypeMapper::dtype(const TypeInfo& type) {
  const auto found = dtypes_.find(&type);
  if (found != dtypes_.end()) {
    return found->second;
  }
  // By the kind's layout (type_kinds.hpp): numpy lays out a dtype as the server laid out the type.
  const SizeRule rule = kind_traits(type.kind).size_rule;
  py::dtype made;
  if (rule == SizeRule::kRepeated) {
    const NumpyShape shape = numpy_shape(type);
    made =
        py::dtype::from_args(py::make_tuple(dtype(*shape.scalar), py::tuple(py::cast(shape.dims))));
  } else if (rule == SizeRule::kUnderlying) {
    made = dtype(*type.element);
  } else if (rule == SizeRule::kFieldLayout) {
    py::list names;
    py::list formats;
    py::list offsets;
    for (const MemberInfo& field : type.members) {
      names.append(field.name);
      formats.append(dtype(*field.type));
      offsets.append(field.value);
    }
    py::dict spec;
    spec["names"] = names;
    spec["formats"] = formats;
    spec["offsets"] = offsets;
    spec["itemsize"] = type.size;
    made = py::dtype::from_args(spec);
    if (made.itemsize() != static_cast<py::ssize_t>(type.size)) {
      throw std::logic_error(fmt::format("shmrpc: numpy lays out {} in {} bytes, the server in {}",
                                         type.name, made.itemsize(), type.size));
    }
  } else {
    made = scalar_dtype(type.kind);
  }
  return dtypes_.emplace(&type, std::move(made)).first->second;
}

py::object TypeMapper::python_class(const TypeInfo& type) const {
  if (!classes_.contains(type.name)) {
    throw std::logic_error(fmt::format("shmrpc: no Python class for {}", type.name));
  }
  return classes_[py::str(type.name)];
}

py::dict describe_type(const TypeInfo& type, TypeMapper& types) {
  py::dict description;
  description["name"] = type_name(type);
  description["category"] = category(type.kind);
  description["mutable"] = type.is_mutable;
  description["dtype"] = py::none();
  description["dims"] = py::none();
  description["type"] = py::none();
  description["element"] = py::none();
  description["elements"] = py::none();
  const KindTraits& traits = kind_traits(type.kind);
  const TypeInfo* fixed = nullptr;
  if (is_fixed(type.kind)) {
    fixed = &type;
  } else if (is_variable(type.kind) && type.element != nullptr && is_fixed(type.element->kind)) {
    fixed = type.element;  // the elements in the heap; a string has none
  }
  if (fixed != nullptr) {
    const NumpyShape shape = numpy_shape(*fixed);
    description["dtype"] = types.dtype(*shape.scalar);
    description["dims"] = py::tuple(py::cast(shape.dims));
    if (is_named(shape.scalar->kind)) {
      description["type"] = shape.scalar->name;
    }
  }
  if (type.element != nullptr && (traits.storage == Storage::kComposite || fixed == nullptr)) {
    description["element"] = describe_type(*type.element, types);
  } else if (traits.members == Members::kElements) {
    py::list elements;
    for (const MemberInfo& element : type.members) {
      elements.append(describe_type(*element.type, types));
    }
    description["elements"] = py::tuple(elements);
  }
  return description;
}

namespace {

void collect_named(const TypeInfo& type, std::unordered_set<const TypeInfo*>& seen, py::list& out,
                   TypeMapper& types) {
  if (type.element != nullptr) {
    collect_named(*type.element, seen, out, types);
  }
  for (const MemberInfo& member : type.members) {
    if (member.type != nullptr) {
      collect_named(*member.type, seen, out, types);
    }
  }
  if (!is_named(type.kind) || !seen.insert(&type).second) {
    return;
  }
  py::dict entry;
  entry["kind"] = category(type.kind);
  entry["name"] = type.name;
  entry["size"] = type.size;
  entry["align"] = type.align;
  entry["dtype"] = types.dtype(type);
  const bool fields = kind_traits(type.kind).members == Members::kFields;
  py::list members;
  for (const MemberInfo& member : type.members) {
    if (fields) {
      members.append(py::make_tuple(member.name, member.value, describe_type(*member.type, types)));
    } else if (is_signed_integer(type.element->kind)) {
      members.append(py::make_tuple(member.name, static_cast<std::int64_t>(member.value)));
    } else {
      members.append(py::make_tuple(member.name, member.value));
    }
  }
  entry[fields ? "fields" : "members"] = members;
  out.append(entry);
}

}  // namespace

py::list describe_named_types(const std::vector<const TypeInfo*>& roots, TypeMapper& types) {
  std::unordered_set<const TypeInfo*> seen;
  py::list out;
  for (const TypeInfo* root : roots) {
    collect_named(*root, seen, out, types);
  }
  return out;
}

}  // namespace shmrpc::python
