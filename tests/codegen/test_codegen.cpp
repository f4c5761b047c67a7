// Stubs generated at build time by shmrpc_generate_client: demo_client.hpp from
// `server_example --schema`, called against a real server_example; shapes_v1_client.hpp from
// version 1 of shmrpc_codegen_server, used against version 2 (a changed server).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "demo_client.hpp"
#include "server_process.hpp"
#include "shapes_v1_client.hpp"
#include "shmrpc/errors.hpp"
#include "spawned_server.hpp"

namespace shmrpc::test {
namespace {

using ::testing::HasSubstr;

TEST(CodegenTest, StubCallsEveryFunctionOfServerExample) {
  const SpawnedServer server(SHMRPC_SERVER_EXAMPLE, unique_name("codegen"));
  DemoClient demo(server.name());
  static_assert(DemoClient::kServerName == "demo");

  EXPECT_EQ(demo.add(2, 3), 5);
  const std::vector<double> a{1, 2, 3};
  const std::vector<double> b{4, 5, 6};
  EXPECT_DOUBLE_EQ(demo.dot(a, b), 32);

  SharedArray<double> values = demo.client().zeros<double>(3);
  values[0] = 1;
  values[1] = 2;
  values[2] = 3;
  demo.scale(values.span(), 2.0);
  EXPECT_EQ(std::vector<double>(values.begin(), values.end()), (std::vector<double>{2, 4, 6}));

  const std::vector<float> samples{1, 2, 3};
  const std::array<double, 4> stats = demo.stats(samples);
  EXPECT_DOUBLE_EQ(stats[0], 1);
  EXPECT_DOUBLE_EQ(stats[1], 3);
  EXPECT_DOUBLE_EQ(stats[2], 2);
  EXPECT_NEAR(stats[3], std::sqrt(2.0 / 3.0), 1e-12);

  EXPECT_EQ(demo.greet("codegen"), "Hello, codegen!");
  EXPECT_EQ(demo.range(0, 10, 3), (std::vector<std::int64_t>{0, 3, 6, 9}));

  std::vector<demo::Particle> particles{{{0, 0, 1}, {0, 0, 0}, 1.0F}, {{0, 0, 2}, {1, 0, 0}, 3.0F}};
  demo.step(particles, 0.5, demo::Floor::kNone);
  EXPECT_DOUBLE_EQ(particles[1].pos[0], 0.5);
  EXPECT_DOUBLE_EQ(particles[0].vel[2], -0.5 * 9.81);

  const demo::Energy energy = demo.energy(particles);
  EXPECT_GT(energy.kinetic, 0);
  EXPECT_NE(energy.potential, 0);

  const std::optional<demo::Particle> heaviest = demo.heaviest(particles);
  ASSERT_TRUE(heaviest.has_value());
  EXPECT_FLOAT_EQ(heaviest->mass, 3.0F);
  EXPECT_FALSE(demo.heaviest(std::span<const demo::Particle>{}).has_value());

  // A stream: the range of its elements, one frame of particles per step.
  std::int32_t frames = 0;
  for (const std::vector<demo::Particle>& frame : demo.simulate(3, 4, 0.1)) {
    ASSERT_EQ(frame.size(), 3U);
    EXPECT_DOUBLE_EQ(frame[2].pos[0], 0.2 + 0.1 * (frames + 1));  // 1 m/s along x
    ++frames;
  }
  EXPECT_EQ(frames, 4);

  demo.sleep_ms(1);
  try {
    demo.fail("from the stub");
    ADD_FAILURE() << "fail() returned";
  } catch (const RemoteError& error) {
    EXPECT_THAT(error.what(), HasSubstr("from the stub"));
  }
}

TEST(CodegenTest, StubOfOldServerWorksAgainstTheSameVersion) {
  const SpawnedServer server(SHMRPC_CODEGEN_SERVER_V1, unique_name("codegen-v1"));
  old::ShapesV1 shapes(server.name());
  EXPECT_EQ(shapes.add(40, 2), 42);
  EXPECT_DOUBLE_EQ(shapes.norm({3, 4}), 5);
  EXPECT_EQ(shapes.greet("v1"), "Hello, v1!");
}

TEST(CodegenTest, StubOfOldServerFailsAtConnectNamingTheChangedFunctions) {
  const SpawnedServer server(SHMRPC_CODEGEN_SERVER_V2, unique_name("codegen-v2"));
  try {
    const old::ShapesV1 shapes(server.name());
    FAIL() << "a stub of version 1 connected to version 2";
  } catch (const ProtocolError& error) {
    const std::string message = error.what();
    EXPECT_THAT(message, HasSubstr("server '" + server.name() +
                                   "' does not match the stub generated from server 'shapes'"));
    EXPECT_THAT(message, HasSubstr("function 'add' changed\n"
                                   "    stub:   add(a: int64, b: int64) -> int64\n"
                                   "    server: add(a: int64, b: int64, c: int64) -> int64"));
    // Same signature text, other layout: the layout keys show the difference.
    EXPECT_THAT(message,
                HasSubstr("function 'norm' changed\n"
                          "    stub:   norm(p: shapes::Point) -> float64\n"
                          "    server: norm(p: shapes::Point) -> float64\n"
                          "    stub layout:   norm(p: struct shapes::Point {x: float64 @0"));
    EXPECT_THAT(message, HasSubstr("server layout: norm(p: struct shapes::Point {x: float32 @0"));
    EXPECT_THAT(message, ::testing::Not(HasSubstr("'greet'"))) << "greet did not change";
  }
}

}  // namespace
}  // namespace shmrpc::test
