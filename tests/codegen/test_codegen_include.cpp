// The stub generated with --cpp-include particles.hpp: server_example's own header defines the
// records, and the stub's static_asserts check them against the schema at compile time.

#include <gtest/gtest.h>

#include <vector>

#include "demo_client.hpp"
#include "particles.hpp"
#include "spawned_server.hpp"

namespace shmrpc::test {
namespace {

TEST(CodegenIncludeTest, StubUsesTheUsersRecordTypes) {
  const SpawnedServer server(SHMRPC_SERVER_EXAMPLE,
                             "codegen-include-" + std::to_string(::getpid()));
  DemoClient demo(server.name());
  const std::vector<demo::Particle> particles{{{0, 0, 2}, {0, 0, 0}, 1.0F}};
  const demo::Energy energy = demo.energy(particles);
  EXPECT_DOUBLE_EQ(energy.kinetic, 0);
  EXPECT_DOUBLE_EQ(energy.potential, 2 * demo::kGravity);
  EXPECT_EQ(demo.add(1, 2), 3);
}

}  // namespace
}  // namespace shmrpc::test
