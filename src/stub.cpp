#include "shmrpc/stub.hpp"

#include <fmt/format.h>

#include <iterator>
#include <string>

#include "shmrpc/errors.hpp"

namespace shmrpc {

void check_stub(const Schema& schema, std::string_view server_name, std::string_view stub_source,
                std::uint64_t layout_hash, std::span<const StubFunction> functions) {
  if (schema.layout_hash() == layout_hash) {
    return;  // the same functions in the same order: nothing can differ
  }
  std::string problems;
  const auto out = std::back_inserter(problems);
  for (const StubFunction& expected : functions) {
    const FunctionSchema* actual = schema.find(expected.name);
    if (actual == nullptr) {
      fmt::format_to(out, "\n  function '{}' is missing\n    stub:   {}", expected.name,
                     expected.signature);
    } else if (actual->signature_hash != expected.signature_hash) {
      fmt::format_to(out, "\n  function '{}' changed\n    stub:   {}\n    server: {}",
                     expected.name, expected.signature, actual->signature);
      if (actual->signature == expected.signature) {
        // Same names and display types: a struct or enum changed, which only the layout shows.
        fmt::format_to(out, "\n    stub layout:   {}\n    server layout: {}", expected.layout,
                       actual->layout);
      }
    }
  }
  if (problems.empty()) {
    return;  // the server has more functions, or another order; the stub's are all there
  }
  throw ProtocolError(fmt::format(
      "shmrpc: server '{}' does not match the stub generated from {}:{}\nRegenerate the stub from "
      "the server's schema (shmrpc schema NAME).",
      server_name, stub_source, problems));
}

}  // namespace shmrpc
