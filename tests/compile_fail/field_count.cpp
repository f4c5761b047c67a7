// Must not compile: SHMRPC_FIELDS names one of two fields.
// Expected: "must name every field of Point, in declaration order".
#include "shmrpc/server.hpp"

struct Point {
  double x;
  double y;
};
SHMRPC_FIELDS(Point, x);

int main() {}
