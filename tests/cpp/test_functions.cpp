// The functions of the test server: one or more per supported type, plus failure and timing
// helpers.

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <map>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "../cancellable.hpp"
#include "../nested_functions.hpp"
#include "../rendezvous.hpp"
#include "server_process.hpp"
#include "shmrpc/result_array.hpp"

namespace shmrpc::test {
namespace {

template <class T>
T echo(T value) {
  return value;
}

}  // namespace

void define_test_functions(Server& server) {
  server.def("noop", [] {})
      .def(
          "add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"a", "b"}, "a + b")
      .def("echo_bool", echo<bool>)
      .def("echo_i8", echo<std::int8_t>)
      .def("echo_i16", echo<std::int16_t>)
      .def("echo_i32", echo<std::int32_t>)
      .def("echo_i64", echo<std::int64_t>)
      .def("echo_u8", echo<std::uint8_t>)
      .def("echo_u16", echo<std::uint16_t>)
      .def("echo_u32", echo<std::uint32_t>)
      .def("echo_u64", echo<std::uint64_t>)
      .def("echo_f32", echo<float>)
      .def("echo_f64", echo<double>)
      .def("echo_array", echo<std::array<std::int32_t, 3>>)
      .def("echo_matrix", echo<std::array<std::array<double, 2>, 2>>)
      .def("mixed",
           [](bool b, std::int8_t i8, std::uint16_t u16, std::int32_t i32, std::uint64_t u64,
              float f, double d) {
             return (b ? 1.0 : 0.0) + i8 + u16 + i32 + static_cast<double>(u64) + f + d;
           },
           {"b", "i8", "u16", "i32", "u64", "f", "d"})
      .def("sum_i16",
           [](std::span<const std::int16_t> v) {
             return std::accumulate(v.begin(), v.end(), std::int64_t{0});
           })
      .def("sum_u64",
           [](std::span<const std::uint64_t> v) {
             return std::accumulate(v.begin(), v.end(), std::uint64_t{0});
           })
      .def("count_true",
           [](std::span<const bool> v) {
             return static_cast<std::int64_t>(std::count(v.begin(), v.end(), true));
           })
      .def("sum_points",
           [](std::span<const std::array<float, 2>> points) {
             double sum = 0;
             for (const auto& p : points) {
               sum += p[0] + p[1];
             }
             return sum;
           })
      .def("negate",
           [](std::span<float> v) {
             for (float& x : v) {
               x = -x;
             }
           })
      .def("length", [](std::string_view s) { return static_cast<std::uint64_t>(s.size()); })
      .def("upper",
           [](std::string s) {
             for (char& c : s) {
               c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
             }
             return s;
           })
      .def("concat", [](std::string_view a, const std::string& b) { return std::string(a) + b; })
      .def("iota_f64",
           [](std::int32_t n) {
             std::vector<double> v(static_cast<std::size_t>(n));
             std::iota(v.begin(), v.end(), 0.0);
             return v;
           })
      .def("bytes_of",
           [](std::span<const std::uint8_t> v) {
             return std::vector<std::uint8_t>(v.begin(), v.end());
           })
      .def("big_result",
           [](std::uint64_t bytes) { return std::vector<std::uint8_t>(bytes, std::uint8_t{7}); })
      // Position-sensitive, so that bytes moved or cut off in transit are seen.
      .def("checksum",
           [](std::span<const std::uint8_t> bytes) {
             std::uint64_t sum = 0;
             for (std::size_t i = 0; i < bytes.size(); ++i) {
               sum += std::uint64_t{bytes[i]} * (i % 251 + 1);
             }
             return sum;
           })
      .def("pattern",
           [](std::uint64_t bytes) {
             std::vector<std::uint8_t> out(bytes);
             for (std::size_t i = 0; i < out.size(); ++i) {
               out[i] = static_cast<std::uint8_t>(i % 253);
             }
             return out;
           })
      .def("ramp",
           [](std::uint64_t n) {
             ResultArray<double> out(n);  // filled in place in the client's buffer
             for (std::size_t i = 0; i < n; ++i) {
               out[i] = static_cast<double>(i);
             }
             return out;
           })
      .def("drop_result_array",
           [](std::uint64_t n, bool fail) {
             const ResultArray<std::uint8_t> unused(n);  // made, then not returned
             if (fail) {
               throw std::runtime_error("failed after making a ResultArray");
             }
             return std::vector<std::uint8_t>(3, 1);
           })
      .def("nd_total",
           [](ArrayView<const double> values) {
             double sum = 0;
             std::vector<std::size_t> index(values.rank());
             for (std::size_t n = 0; n < values.size(); ++n) {
               sum += values.at(index);
               for (std::size_t d = values.rank(); d-- > 0;) {
                 if (++index[d] < values.shape(d)) {
                   break;
                 }
                 index[d] = 0;
               }
             }
             return sum;
           })
      .def("nd_negate",
           [](ArrayView<float, 2> values) {
             if (values.empty()) {
               return;  // a shape like {2^60, 0}: no element, however many rows
             }
             for (std::size_t i = 0; i < values.shape(0); ++i) {
               for (std::size_t j = 0; j < values.shape(1); ++j) {
                 values(i, j) = -values(i, j);
               }
             }
           })
      .def("nd_ramp",
           [](std::uint64_t a, std::uint64_t b, std::uint64_t c) {
             ResultNdArray<std::int32_t, 3> out({a, b, c});
             for (std::size_t i = 0; i < out.size(); ++i) {
               out.data()[i] = static_cast<std::int32_t>(i);
             }
             return out;
           })
      .def("fill_bytes", [](std::span<std::uint8_t> bytes,
                            std::uint8_t value) { std::fill(bytes.begin(), bytes.end(), value); })
      .def("sleep_ms",
           [](std::int32_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); })
      .def("fail", [](std::string message) { throw std::runtime_error(message); })
      .def("fail_invalid",
           [](std::int32_t x) -> std::int32_t {
             throw std::invalid_argument("bad x = " + std::to_string(x));
           })
      .def("fail_int", []() { throw 42; })
      .def("rendezvous", rendezvous, {"parties", "timeout_ms"})
      .def("wait_for_cancel", wait_for_cancel, {"max_ms"})
      .def("last_cancel_outcome", last_cancel_outcome)
      .def("call_info", call_info);
  define_nested_functions(server);
}

}  // namespace shmrpc::test
