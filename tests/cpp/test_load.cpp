// Many client processes, many calls, every argument and result checksummed: no call is lost,
// duplicated, reordered or corrupted.

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "server_process.hpp"
#include "shmrpc/client.hpp"
#include "shmrpc/detail/hash.hpp"

namespace shmrpc::test {
namespace {

constexpr std::size_t kMaxClients = 16;
constexpr std::size_t kPayloadBytes = 48;

std::uint64_t checksum(std::uint32_t client, std::uint64_t sequence,
                       std::span<const std::uint8_t> payload) {
  std::string text = std::to_string(client) + ":" + std::to_string(sequence) + ":";
  text.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  return detail::fnv1a(text);
}

// Server side: the next sequence number expected from each client, and what went wrong.
std::array<std::atomic<std::uint64_t>, kMaxClients> g_next{};
std::atomic<std::uint64_t> g_out_of_order{0};

void define_load_functions(Server& server) {
  server
      .def("checksum",
           [](std::uint32_t client, std::uint64_t sequence, std::span<const std::uint8_t> payload) {
             if (client >= kMaxClients) {
               throw std::out_of_range("client id");
             }
             // A lost call leaves a gap, a duplicated one repeats: both break the sequence.
             if (g_next.at(client).exchange(sequence + 1) != sequence) {
               g_out_of_order.fetch_add(1);
             }
             return checksum(client, sequence, payload);
           },
           {"client", "sequence", "payload"})
      .def("report", [](std::uint32_t client) {
        return std::array<std::uint64_t, 2>{g_next.at(client).load(), g_out_of_order.load()};
      });
}

// Calls per client process; SHMRPC_LOAD_CALLS overrides (e.g. 2000 for a quick run).
std::uint64_t calls_per_client() {
  const char* text = std::getenv("SHMRPC_LOAD_CALLS");
  return text != nullptr ? std::strtoull(text, nullptr, 10) : 200'000;
}

TEST(LoadTest, EightClientProcessesLoseNothing) {
  constexpr std::uint32_t kClients = 8;
  const std::uint64_t calls = calls_per_client();
  ServerProcess server(unique_name("load"), define_load_functions,
                       ServerOptions{.channels = kClients});
  std::vector<pid_t> children;
  for (std::uint32_t id = 0; id < kClients; ++id) {
    children.push_back(start_child([&, id] {
      Client client(server.name());
      std::array<std::uint8_t, kPayloadBytes> payload{};
      for (std::uint64_t sequence = 0; sequence < calls; ++sequence) {
        for (std::size_t i = 0; i < payload.size(); ++i) {
          payload.at(i) = static_cast<std::uint8_t>(sequence * 31 + i * 7 + id);
        }
        const auto sum = client.call<std::uint64_t>("checksum", id, sequence, payload);
        if (sum != checksum(id, sequence, payload)) {
          return 1;  // corrupted argument or result
        }
      }
      const auto report = client.call<std::array<std::uint64_t, 2>>("report", id);
      return report[0] == calls && report[1] == 0 ? 0 : 2;  // lost, duplicated or reordered
    }));
  }
  std::vector<int> exit_codes;
  for (const pid_t child : children) {
    exit_codes.push_back(wait_child(child, std::chrono::seconds(500)));
  }
  EXPECT_EQ(exit_codes, std::vector<int>(kClients, 0))
      << "1 = a corrupted checksum, 2 = lost, duplicated or reordered calls";
}

}  // namespace
}  // namespace shmrpc::test
