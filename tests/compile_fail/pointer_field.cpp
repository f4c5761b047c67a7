// Must not compile: an aggregate whose field is a pointer (into the client's address space).
// Expected: "shmrpc: unsupported type", naming Node.
#include "shmrpc/server.hpp"

struct Node {
  int value;
  Node* next;
};

int main() {
  shmrpc::Server server("compile-fail");
  server.def("value", [](Node node) { return node.value; });
}
