#include <gtest/gtest.h>

#include "server_process.hpp"
#include "shmrpc/client.hpp"

namespace shmrpc::test {

TEST(SmokeTest, AddAcrossProcesses) {
  ServerProcess server(unique_name("smoke"), define_test_functions);
  Client client(server.name());
  EXPECT_EQ(client.call<std::int64_t>("add", 2, 3), 5);
}

}  // namespace shmrpc::test
