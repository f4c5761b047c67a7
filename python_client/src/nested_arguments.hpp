#pragma once
/// Python values as nested arguments (docs/SPEC.md, section 6.7): a str for a string, a sequence
/// for a vector (a numpy array of the element's dtype passes its bytes as they are), a mapping
/// for a map, None or a value for an optional, a sequence for a tuple, a numpy array (or what
/// numpy.asarray takes) for an ndarray; at any depth. Fixed parts go through values.hpp.

#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>
#include <vector>

#include "numpy_types.hpp"
#include "shmrpc/piece_writer.hpp"
#include "shmrpc/types.hpp"

namespace shmrpc::python {

/// Encodes one nested value: its slot bytes, and its pieces for DynamicCall::put_pieces.
class NestedArgument {
 public:
  explicit NestedArgument(TypeMapper& types) : types_(types) {}

  /// Writes `value` as a value of `type` at `out` (type.size bytes), adding its pieces. `where`
  /// names the value in errors. Throws as encode_value (values.hpp).
  void encode(const TypeInfo& type, pybind11::handle value, std::byte* out,
              const std::string& where);

  const PieceWriter& pieces() const noexcept { return pieces_; }

 private:
  void string(pybind11::handle value, std::byte* out, const std::string& where);
  void vector(const TypeInfo& type, pybind11::handle value, std::byte* out,
              const std::string& where);
  void map(const TypeInfo& type, pybind11::handle value, std::byte* out, const std::string& where);
  void ndarray(const TypeInfo& type, pybind11::handle value, std::byte* out,
               const std::string& where);
  void tuple(const TypeInfo& type, pybind11::handle value, std::byte* out,
             const std::string& where);
  // The items of a sequence argument (not a str or bytes), or TypeError naming what `type` takes.
  pybind11::sequence items(const TypeInfo& type, pybind11::handle value, const std::string& where,
                           const char* wanted);

  TypeMapper& types_;
  PieceWriter pieces_;
  std::vector<pybind11::object> alive_;  // objects whose bytes the pieces copy when placed
};

}  // namespace shmrpc::python
