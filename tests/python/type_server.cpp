// A real shmrpc server for the Python tests of the type mapping: one function per wire type that
// server_example does not cover (bool spans, arrays of arrays, small and unsigned integers,
// float32, fixed arrays in and out, vectors of arrays, empty results), one named like a
// Client method, a slow writer into an array (late calls), and the record, enum, optional, tuple
// and complex functions of tests/record_types.hpp. Run as `shmrpc_py_type_server NAME`; serves
// until SIGINT/SIGTERM. `shmrpc_py_type_server --schema FILE` writes the JSON schema of server
// "types" instead (tests/codegen/golden/types.json), without making a segment.

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../cancellable.hpp"
#include "../nested_functions.hpp"
#include "../record_types.hpp"
#include "../rendezvous.hpp"
#include "shmrpc/schema_json.hpp"
#include "shmrpc/shmrpc.hpp"

namespace {

using Point = std::array<float, 2>;

std::int64_t count_true(std::span<const bool> flags) {
  std::int64_t count = 0;
  for (const bool flag : flags) {
    count += flag ? 1 : 0;
  }
  return count;
}

void flip(std::span<bool> flags) {
  for (bool& flag : flags) {
    flag = !flag;
  }
}

Point centroid(std::span<const Point> points) {
  Point sum{0, 0};
  for (const Point& point : points) {
    sum[0] += point[0];
    sum[1] += point[1];
  }
  const auto n = static_cast<float>(points.empty() ? 1 : points.size());
  return {sum[0] / n, sum[1] / n};
}

void translate(std::span<Point> points, Point offset) {
  for (Point& point : points) {
    point[0] += offset[0];
    point[1] += offset[1];
  }
}

std::vector<Point> square(float side) {
  return {{0, 0}, {side, 0}, {side, side}, {0, side}};
}

std::array<std::array<std::int32_t, 3>, 2> matrix() {
  return {{{1, 2, 3}, {4, 5, 6}}};
}

std::uint64_t sum_u16(std::span<const std::uint16_t> values) {
  std::uint64_t sum = 0;
  for (const std::uint16_t value : values) {
    sum += value;
  }
  return sum;
}

std::int8_t negate_i8(std::int8_t value) {
  return static_cast<std::int8_t>(-value);
}

template <class T>
T echo(T value) {
  return value;
}

std::int32_t echo_plus_one(std::int32_t value) {
  return value + 1;
}

float half(float value) {
  return value / 2;
}

bool invert(bool value) {
  return !value;
}

std::array<double, 3> reverse(std::array<double, 3> values) {
  return {values[2], values[1], values[0]};
}

std::uint64_t length(std::string_view text) {
  return text.size();
}

std::vector<double> nothing() {
  return {};
}

std::string empty_text() {
  return {};
}

std::vector<std::uint8_t> bytes(std::uint32_t count) {
  return std::vector<std::uint8_t>(count, 7);
}

// Fills `values` with `value` over and over for `ms` milliseconds, and once more at the end.
void fill_slowly(std::span<double> values, double value, std::uint32_t ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  do {
    std::fill(values.begin(), values.end(), value);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  } while (std::chrono::steady_clock::now() < end);
  std::fill(values.begin(), values.end(), value);
}

void define_functions(shmrpc::Server& server) {
  server.def("count_true", count_true, {"flags"}, "How many flags are true.")
      .def("flip", flip, {"flags"}, "Negates every flag, in place.")
      .def("centroid", centroid, {"points"}, "Mean of (x, y) points.")
      .def("translate", translate, {"points", "offset"}, "Moves every point by offset.")
      .def("square", square, {"side"}, "Corners of a square.")
      .def("matrix", matrix, "A 2x3 int32 matrix.")
      .def("sum_u16", sum_u16, {"values"}, "Sum of uint16 values.")
      .def("negate_i8", negate_i8, {"value"}, "-value.")
      .def("echo_u8", echo<std::uint8_t>, {"value"}, "value.")
      .def("echo_u64", echo<std::uint64_t>, {"value"}, "value.")
      .def("half", half, {"value"}, "value / 2.")
      .def("invert", invert, {"value"}, "!value.")
      .def("reverse", reverse, {"values"}, "values back to front.")
      .def("length", length, {"text"}, "Bytes of text.")
      .def("nothing", nothing, "An empty vector.")
      .def("empty_text", empty_text, "An empty string.")
      .def("bytes", bytes, {"count"}, "count bytes of 7.")
      .def("fill_slowly", fill_slowly, {"values", "value", "ms"},
           "Keeps filling values with value for ms milliseconds.")
      .def("close", echo_plus_one, {"value"}, "value + 1; named like Client.close.")
      .def("keyword", echo<std::int32_t>, {"lambda"}, "An argument named like a Python keyword.")
      .def("rendezvous", shmrpc::test::rendezvous, {"parties", "timeout_ms"},
           "True once that many calls are inside at the same time.")
      .def("wait_for_cancel", shmrpc::test::wait_for_cancel, {"max_ms"},
           "Runs up to max_ms; True once its client gave the call up.")
      .def("last_cancel_outcome", shmrpc::test::last_cancel_outcome,
           "How the last wait_for_cancel ended: 0 not yet, 1 cancelled, 2 ran out.")
      .def("call_info", shmrpc::test::call_info,
           "(caller pid, ms left until the call's deadline or -1).");
  shmrpc::test::define_record_functions(server);
  shmrpc::test::define_nested_functions(server);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view first = argc > 1 ? argv[1] : "";
  try {
    if (first == "--schema" && argc == 3) {
      shmrpc::Server server("types");
      define_functions(server);
      std::ofstream out(argv[2], std::ios::binary);
      out << shmrpc::schema_json(server.registry(), "types");
      return out ? 0 : 1;
    }
    if (argc != 2 || first.starts_with("-")) {
      std::cerr << "usage: shmrpc_py_type_server NAME | --schema FILE\n";
      return 2;
    }
    shmrpc::Server server{std::string(first)};
    define_functions(server);
    server.run({.stop_on_signals = true});
  } catch (const std::exception& error) {
    std::cerr << "shmrpc_py_type_server: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
