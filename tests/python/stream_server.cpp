// A server of streaming functions for the Python client's tests (test_streams.py): scalars,
// records, strings, arrays in place, an error after some elements, and a stream that runs
// until its reader stops, whose writer reports what it saw.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>

#include "shmrpc/result_array.hpp"
#include "shmrpc/shmrpc.hpp"

namespace {

// What the last `endless` stream saw: elements written, and 1 once its reader stopped.
std::atomic<std::int64_t> g_written{0};
std::atomic<std::int32_t> g_cancelled{0};

void define_functions(shmrpc::Server& server) {
  server.def(
      "count",
      [](shmrpc::Stream<std::int64_t>& out, std::int64_t n) {
        for (std::int64_t i = 0; i < n; ++i) {
          out.write(i);
        }
      },
      {"n"}, "0, 1, ..., n - 1.");
  server.def(
      "pairs",
      [](shmrpc::Stream<std::tuple<std::int64_t, double>>& out, std::int64_t n) {
        for (std::int64_t i = 0; i < n; ++i) {
          out.write({i, static_cast<double>(i) / 2});
        }
      },
      {"n"}, "(i, i / 2) for i below n.");
  server.def(
      "words",
      [](shmrpc::Stream<std::string>& out, std::int64_t n) {
        for (std::int64_t i = 0; i < n; ++i) {
          out.write(std::string(static_cast<std::size_t>(i * 97 % 3000),
                                static_cast<char>('a' + i % 26)));
        }
      },
      {"n"}, "Strings of i * 97 % 3000 letters.");
  server.def(
      "ramps",
      [](shmrpc::Stream<shmrpc::ResultArray<float>>& out, std::int64_t n, std::uint64_t size) {
        for (std::int64_t i = 0; i < n; ++i) {
          shmrpc::ResultArray<float> ramp(size);
          for (std::uint64_t k = 0; k < size; ++k) {
            ramp.data()[k] = static_cast<float>(i) + static_cast<float>(k);
          }
          out.write(ramp);
        }
      },
      {"n", "size"}, "Arrays i, i + 1, ..., filled in place.");
  server.def(
      "small_arrays",
      [](shmrpc::Stream<std::vector<std::int32_t>>& out, std::int64_t n) {
        for (std::int64_t i = 0; i < n; ++i) {
          out.write(std::vector<std::int32_t>(8, static_cast<std::int32_t>(i)));
        }
      },
      {"n"}, "Eight copies of i: small arrays that lie in the ring.");
  server.def(
      "fail_after",
      [](shmrpc::Stream<std::int64_t>& out, std::int64_t n) {
        for (std::int64_t i = 0; i < n; ++i) {
          out.write(i);
        }
        throw std::runtime_error("no more");
      },
      {"n"}, "n elements, then an error.");
  server.def(
      "endless",
      [](shmrpc::Stream<std::int64_t>& out) {
        g_written = 0;
        g_cancelled = 0;
        try {
          for (std::int64_t i = 0;; ++i) {
            out.write(i);
            g_written = i + 1;
          }
        } catch (const shmrpc::StreamCancelled&) {
          g_cancelled = 1;
          throw;
        }
      },
      "0, 1, 2, ... until the reader stops.");
  server.def(
      "ticks",
      [](shmrpc::Stream<std::int64_t>& out) {
        g_cancelled = 0;
        try {
          for (std::int64_t i = 0;; ++i) {
            out.write(i);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
        } catch (const shmrpc::StreamCancelled&) {
          g_cancelled = 1;
          throw;
        }
      },
      "0, 1, 2, ... every 20 ms until the reader stops.");
  server.def(
      "written", [] { return g_written.load(); }, "Elements the last endless wrote.");
  server.def(
      "cancelled", [] { return g_cancelled.load(); }, "1 once endless saw its stop.");
  server.def("add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"a", "b"});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || std::string_view(argv[1]).starts_with("-")) {
    std::cerr << "usage: shmrpc_py_stream_server NAME\n";
    return 2;
  }
  try {
    shmrpc::Server server{std::string(argv[1])};
    define_functions(server);
    server.run({.stop_on_signals = true});
  } catch (const std::exception& error) {
    std::cerr << "shmrpc_py_stream_server: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
