// Must not compile: a class with private members is no aggregate, so its fields cannot be
// reflected. Expected: "shmrpc: unsupported type", naming Secret.
#include "shmrpc/server.hpp"

class Secret {
 public:
  int value() const { return value_; }

 private:
  int value_ = 0;
};

int main() {
  shmrpc::Server server("compile-fail");
  server.def("reveal", [](Secret secret) { return secret.value(); });
}
