#pragma once
// Structs, enums, optionals, tuples and complex numbers for the tests, and the functions that
// take and return them. The C++ tests (tests/cpp/test_records.cpp) and the Python type server
// (tests/python/type_server.cpp) register the same functions, so both clients are tested
// against the same wire types across two processes.

#include <array>
#include <complex>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "shmrpc/server.hpp"

namespace shmrpc::test {

enum class Side : std::uint8_t { kBuy = 1, kSell = 2 };
SHMRPC_ENUM(Side, kBuy, kSell);

// Unscoped, signed, with a negative enumerator.
enum Level : std::int32_t { kLow = -1, kMid = 0, kHigh = 7 };
SHMRPC_ENUM(Level, kLow, kMid, kHigh);

struct Order {
  std::uint64_t id;
  Side side;
  double price;
  std::int32_t quantity;
  bool active;
};
SHMRPC_FIELDS(Order, id, side, price, quantity, active);

struct Particle {
  std::array<double, 3> pos;
  std::array<double, 3> vel;
  float mass;
};
SHMRPC_FIELDS(Particle, pos, vel, mass);

// Nested aggregates and arrays of them.
struct Box {
  Particle corner;
  std::array<Particle, 2> pair;
  Level level;
  std::complex<double> phase;
};
SHMRPC_FIELDS(Box, corner, pair, level, phase);

// No SHMRPC_FIELDS: its fields are f0 and f1.
struct Anonymous {
  std::int16_t a;
  double b;
};

inline void step(std::span<Particle> particles, double dt) {
  for (Particle& p : particles) {
    for (std::size_t i = 0; i < 3; ++i) {
      p.pos[i] += p.vel[i] * dt;
    }
  }
}

inline double total_mass(std::span<const Particle> particles) {
  double mass = 0;
  for (const Particle& p : particles) {
    mass += p.mass;
  }
  return mass;
}

inline std::vector<Particle> line_of(std::int32_t count) {
  std::vector<Particle> particles(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < particles.size(); ++i) {
    particles[i] = Particle{{static_cast<double>(i), 0, 0}, {1, 0, 0}, 1.5F};
  }
  return particles;
}

inline Order fill(Order order, std::int32_t filled) {
  if (filled < 0) {
    throw std::invalid_argument("fill: " + std::to_string(filled) + " is negative");
  }
  if (filled > order.quantity) {
    throw std::invalid_argument("fill: " + std::to_string(filled) + " is more than the " +
                                std::to_string(order.quantity) + " ordered");
  }
  order.quantity -= filled;
  order.active = order.quantity > 0;
  return order;
}

inline Side opposite(Side side) {
  return side == Side::kBuy ? Side::kSell : Side::kBuy;
}

inline std::optional<double> best_price(std::span<const Order> orders, Side side) {
  std::optional<double> best;
  for (const Order& order : orders) {
    if (order.side == side && order.active &&
        (!best || (side == Side::kBuy ? order.price > *best : order.price < *best))) {
      best = order.price;
    }
  }
  return best;
}

inline std::int64_t or_zero(std::optional<std::int64_t> value) {
  return value.value_or(0);
}

inline std::pair<std::int64_t, std::int64_t> divmod(std::int64_t a, std::int64_t b) {
  if (b == 0) {
    throw std::domain_error("divmod: division by zero");
  }
  return {a / b, a % b};
}

inline std::tuple<std::int8_t, double, Side> triple(std::tuple<std::int8_t, double, Side> value) {
  return value;
}

inline std::complex<double> rotate(std::complex<double> z, std::complex<float> by) {
  return z * std::complex<double>(by);
}

inline std::complex<double> sum_complex(std::span<const std::complex<double>> values) {
  std::complex<double> sum = 0;
  for (const auto& value : values) {
    sum += value;
  }
  return sum;
}

inline Box make_box(Level level) {
  return Box{Particle{{1, 2, 3}, {4, 5, 6}, 7},
             {Particle{{0, 0, 1}, {0, 0, 0}, 1}, Particle{{0, 0, 2}, {0, 0, 0}, 2}},
             level,
             {0, 1}};
}

inline Level level_of(Box box) {
  return box.level;
}

inline Anonymous swap_anonymous(Anonymous value) {
  return {static_cast<std::int16_t>(value.b), static_cast<double>(value.a)};
}

inline std::vector<Side> sides(std::int32_t count) {
  std::vector<Side> result;
  for (std::int32_t i = 0; i < count; ++i) {
    result.push_back(i % 2 == 0 ? Side::kBuy : Side::kSell);
  }
  return result;
}

inline std::int64_t count_side(std::span<const Side> values, Side side) {
  std::int64_t count = 0;
  for (const Side value : values) {
    count += value == side ? 1 : 0;
  }
  return count;
}

inline void define_record_functions(Server& server) {
  server.def("step", step, {"particles", "dt"}, "Moves every particle by vel * dt, in place.")
      .def("total_mass", total_mass, {"particles"}, "Sum of the particles' masses.")
      .def("line_of", line_of, {"count"}, "count particles on the x axis, moving along it.")
      .def("fill", fill, {"order", "filled"}, "The order after `filled` units were filled.")
      .def("opposite", opposite, {"side"}, "The other side.")
      .def("best_price", best_price, {"orders", "side"},
           "The best active price on one side, or none.")
      .def("or_zero", or_zero, {"value"}, "The value, or 0 when there is none.")
      .def("divmod", divmod, {"a", "b"}, "(a / b, a % b).")
      .def("triple", triple, {"value"}, "The tuple, as it came.")
      .def("rotate", rotate, {"z", "by"}, "z * by.")
      .def("sum_complex", sum_complex, {"values"}, "Sum of complex numbers.")
      .def("make_box", make_box, {"level"}, "A box of particles at a level.")
      .def("level_of", level_of, {"box"}, "The box's level.")
      .def("swap_anonymous", swap_anonymous, {"value"}, "{b, a} of a struct without names.")
      .def("sides", sides, {"count"}, "kBuy, kSell, kBuy, ...")
      .def("count_side", count_side, {"values", "side"}, "How many values are `side`.");
}

}  // namespace shmrpc::test
