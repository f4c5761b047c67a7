// Must not compile: a struct's fields are laid out byte for byte, so a std::string field cannot
// cross; the error says to use a std::tuple. Expected: "StructWithIndirectField<Person>".
#include <string>

#include "shmrpc/server.hpp"

struct Person {
  std::string name;
  int age;
};

int main() {
  shmrpc::Server server("compile-fail");
  server.def("oldest", []() { return Person{"a", 1}; });
}
