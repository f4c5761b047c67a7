// Must not compile: an enum without SHMRPC_ENUM, whose enumerators the metadata could not carry.
// Expected: "an enum crosses only with its enumerators declared", naming Colour.
#include "shmrpc/server.hpp"

enum class Colour { kRed, kGreen };

int main() {
  shmrpc::Server server("compile-fail");
  server.def("next", [](Colour colour) { return colour; });
}
