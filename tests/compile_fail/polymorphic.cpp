// Must not compile: a polymorphic type's vtable pointer means nothing in another process.
// Expected: "shmrpc: unsupported type", naming Shape.
#include "shmrpc/server.hpp"

struct Shape {
  virtual ~Shape() = default;
  virtual double area() const { return 0; }
};

int main() {
  shmrpc::Server server("compile-fail");
  server.def("make", [] { return Shape{}; });
}
