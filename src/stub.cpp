#include "shmrpc/stub.hpp"

#include <string>

#include "shmrpc/errors.hpp"

namespace shmrpc {

void check_stub(const Schema& schema, std::string_view server_name, std::string_view stub_source,
                std::uint64_t layout_hash, std::span<const StubFunction> functions) {
  if (schema.layout_hash() == layout_hash) {
    return;  // the same functions in the same order: nothing can differ
  }
  std::string problems;
  for (const StubFunction& expected : functions) {
    const FunctionSchema* actual = schema.find(expected.name);
    if (actual == nullptr) {
      problems += "\n  function '" + std::string(expected.name) +
                  "' is missing\n    stub:   " + std::string(expected.signature);
    } else if (actual->signature_hash != expected.signature_hash) {
      problems += "\n  function '" + std::string(expected.name) +
                  "' changed\n    stub:   " + std::string(expected.signature) +
                  "\n    server: " + actual->signature;
      if (actual->signature == expected.signature) {
        // Same names and display types: a struct or enum changed, which only the layout shows.
        problems += "\n    stub layout:   " + std::string(expected.layout) +
                    "\n    server layout: " + actual->layout;
      }
    }
  }
  if (problems.empty()) {
    return;  // the server has more functions, or another order; the stub's are all there
  }
  throw ProtocolError("shmrpc: server '" + std::string(server_name) +
                      "' does not match the stub generated from " + std::string(stub_source) + ":" +
                      problems +
                      "\nRegenerate the stub from the server's schema (shmrpc schema NAME).");
}

}  // namespace shmrpc
