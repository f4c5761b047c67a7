// A realistic shmrpc server: numeric kernels over arrays that stay in shared memory, a particle
// simulation over records (structs, an enum, an optional) and one that streams its frames,
// strings, a slow function and one that throws. Run it as `server_example [NAME]` (default
// "demo"); it serves until SIGINT/SIGTERM.
// `server_example --schema [FILE|-] [NAME]` writes its JSON schema instead (for shmrpc codegen).
// `server_example --help` says so.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
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

#include "particles.hpp"
#include "shmrpc/shmrpc.hpp"

namespace {

using demo::Energy;
using demo::Floor;
using demo::Particle;

// One explicit Euler step under gravity, in place: the particles stay in the caller's memory.
void step(std::span<Particle> particles, double dt, Floor floor) {
  if (!(dt >= 0)) {
    throw std::invalid_argument(fmt::format("step: dt must be >= 0, not {}", dt));
  }
  for (Particle& p : particles) {
    p.vel[2] -= demo::kGravity * dt;
    std::transform(p.pos.begin(), p.pos.end(), p.vel.begin(), p.pos.begin(),
                   [dt](double x, double v) { return x + v * dt; });
    if (floor == Floor::kBounce && p.pos[2] < 0) {
      p.pos[2] = -p.pos[2];
      p.vel[2] = -p.vel[2];
    }
  }
}

Energy energy(std::span<const Particle> particles) {
  Energy total{0, 0};
  for (const Particle& p : particles) {
    const double speed2 = p.vel[0] * p.vel[0] + p.vel[1] * p.vel[1] + p.vel[2] * p.vel[2];
    total.kinetic += 0.5 * p.mass * speed2;
    total.potential += p.mass * demo::kGravity * p.pos[2];
  }
  return total;
}

std::optional<Particle> heaviest(std::span<const Particle> particles) {
  const auto it =
      std::max_element(particles.begin(), particles.end(),
                       [](const Particle& a, const Particle& b) { return a.mass < b.mass; });
  return it == particles.end() ? std::nullopt : std::optional<Particle>(*it);
}

// Checked: a sum beyond int64 is an error for the caller (a RemoteError), not a wrapped value.
std::int64_t add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    throw std::overflow_error(fmt::format("add({}, {}) overflows int64", a, b));
  }
  return sum;
}

double dot(std::span<const double> a, std::span<const double> b) {
  if (a.size() != b.size()) {
    throw std::invalid_argument(
        fmt::format("dot: a has {} elements, b has {}", a.size(), b.size()));
  }
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}

void scale(std::span<double> values, double factor) {
  for (double& value : values) {
    value *= factor;
  }
}

// min, max, mean, population standard deviation.
std::array<double, 4> stats(std::span<const float> values) {
  if (values.empty()) {
    throw std::invalid_argument("stats: no values");
  }
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  double sum = 0;
  for (const float v : values) {
    sum += v;
  }
  const double mean = sum / static_cast<double>(values.size());
  double squares = 0;
  for (const float v : values) {
    squares += (v - mean) * (v - mean);
  }
  return {*lo, *hi, mean, std::sqrt(squares / static_cast<double>(values.size()))};
}

std::string greet(std::string_view name) {
  return fmt::format("Hello, {}!", name);
}

// More values than this (2 GiB) is a mistake rather than a request: the server would build them
// in its own memory first.
constexpr std::uint64_t kMaxRangeValues = std::uint64_t{1} << 28U;

// The count comes first, in unsigned arithmetic that cannot overflow (the distance between two
// int64 fits a uint64), and each value is start + i * step, which lies between start and stop:
// stepping v += step would overflow past the last value and never end.
std::vector<std::int64_t> range(std::int64_t start, std::int64_t stop, std::int64_t step) {
  if (step == 0) {
    throw std::invalid_argument("range: step must not be 0");
  }
  const bool up = step > 0;
  if (up ? start >= stop : start <= stop) {
    return {};
  }
  const auto as_unsigned = [](std::int64_t value) { return static_cast<std::uint64_t>(value); };
  const std::uint64_t distance =
      up ? as_unsigned(stop) - as_unsigned(start) : as_unsigned(start) - as_unsigned(stop);
  const std::uint64_t stride = up ? as_unsigned(step) : 0 - as_unsigned(step);
  const std::uint64_t count = (distance - 1) / stride + 1;
  if (count > kMaxRangeValues) {
    throw std::length_error(
        fmt::format("range({}, {}, {}) would return {} values; at most {} are allowed", start, stop,
                    step, count, kMaxRangeValues));
  }
  std::vector<std::int64_t> values(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    // Modulo 2^64 the sum is exact, and the result fits int64, so converting back is too.
    values[i] = static_cast<std::int64_t>(as_unsigned(start) + i * as_unsigned(step));
  }
  return values;
}

void sleep_ms(std::int32_t milliseconds) {
  std::this_thread::sleep_for(std::chrono::milliseconds(milliseconds));
}

void fail(std::string_view message) {
  throw std::runtime_error(std::string(message));
}

// A 3x3 box blur of an image of any size and layout (C, Fortran or a strided view): each output
// pixel is the mean of its neighbours, the border clamped. The result is made in shared memory
// for the caller and filled in place.
shmrpc::ResultNdArray<float, 2> blur(shmrpc::ArrayView<const float, 2> image) {
  const std::size_t rows = image.shape(0);
  const std::size_t columns = image.shape(1);
  shmrpc::ResultNdArray<float, 2> out({rows, columns});
  if (out.size() == 0) {
    return out;  // a shape like {2^60, 0}: no pixel, however many rows
  }
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < columns; ++j) {
      float sum = 0;
      int n = 0;
      for (std::size_t y = i == 0 ? 0 : i - 1; y <= std::min(i + 1, rows - 1); ++y) {
        for (std::size_t x = j == 0 ? 0 : j - 1; x <= std::min(j + 1, columns - 1); ++x) {
          sum += image(y, x);
          ++n;
        }
      }
      out(i, j) = sum / static_cast<float>(n);
    }
  }
  return out;
}

// The sum of an array of any rank, shape and layout.
double total(shmrpc::ArrayView<const double> values) {
  if (values.empty()) {
    return 0.0;
  }
  double sum = 0;
  std::array<std::size_t, shmrpc::kMaxRank> index{};
  for (;;) {
    sum += values.at(std::span<const std::size_t>(index.data(), values.rank()));
    std::size_t dim = values.rank();
    while (dim > 0 && ++index.at(dim - 1) == values.shape(dim - 1)) {
      index.at(--dim) = 0;
    }
    if (dim == 0) {
      return sum;
    }
  }
}

// The pixels of an image above a level, and a mask of them: two images out of one call, each
// filled in place in shared memory made for the caller.
std::tuple<shmrpc::ResultNdArray<float, 2>, shmrpc::ResultNdArray<std::uint8_t, 2>> segment(
    shmrpc::ArrayView<const float, 2> image, float level) {
  shmrpc::ResultNdArray<float, 2> kept({image.shape(0), image.shape(1)});
  shmrpc::ResultNdArray<std::uint8_t, 2> mask({image.shape(0), image.shape(1)});
  if (kept.size() == 0) {
    return {std::move(kept), std::move(mask)};  // no pixel, however many rows
  }
  for (std::size_t i = 0; i < image.shape(0); ++i) {
    for (std::size_t j = 0; j < image.shape(1); ++j) {
      const bool above = image(i, j) > level;
      kept(i, j) = above ? image(i, j) : 0.0F;
      mask(i, j) = above ? 1 : 0;
    }
  }
  return {std::move(kept), std::move(mask)};
}

// How often each word occurs.
std::map<std::string, std::int64_t> word_counts(const std::vector<std::string>& words) {
  std::map<std::string, std::int64_t> counts;
  for (const std::string& word : words) {
    ++counts[word];
  }
  return counts;
}

// A particle simulation that streams its state: `count` particles in a row, 1 m up, pushed
// sideways at 1 m/s, advanced `steps` times by `dt` seconds under gravity, bouncing on the floor.
// After each step the particles go to the client as one frame, written into shared memory made
// for it: the client reads frame after frame as the simulation runs, while it still runs.
void simulate(shmrpc::Stream<shmrpc::ResultArray<Particle>>& frames, std::int32_t count,
              std::int32_t steps, double dt) {
  if (count < 0 || steps < 0) {
    throw std::invalid_argument(
        fmt::format("simulate: count and steps must be >= 0, not {} and {}", count, steps));
  }
  if (!(dt >= 0)) {
    throw std::invalid_argument(fmt::format("simulate: dt must be >= 0, not {}", dt));
  }
  std::vector<Particle> particles(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < particles.size(); ++i) {
    particles[i] = Particle{{0.1 * static_cast<double>(i), 0, 1}, {1, 0, 0}, 1};
  }
  for (std::int32_t i = 0; i < steps; ++i) {
    step(particles, dt, Floor::kBounce);
    shmrpc::ResultArray<Particle> frame(particles.size());
    std::copy(particles.begin(), particles.end(), frame.data());
    frames.write(frame);  // waits while the client's buffer is full; throws once it stops reading
  }
}

// Registers the example's functions.
void define_functions(shmrpc::Server& server) {
  server.def("add", add, {"a", "b"}, "Sum of two integers.")
      .def("dot", dot, {"a", "b"}, "Dot product of two equally long vectors.")
      .def("scale", scale, {"values", "factor"}, "Multiplies values by factor, in place.")
      .def("stats", stats, {"values"}, "min, max, mean and standard deviation of values.")
      .def("greet", greet, {"name"}, "A greeting for name.")
      .def("range", range, {"start", "stop", "step"}, "start, start + step, ... up to stop.")
      .def("step", step, {"particles", "dt", "floor"},
           "Advances particles by dt seconds under gravity, in place; kBounce reflects them "
           "at z = 0.")
      .def("energy", energy, {"particles"}, "Total kinetic and potential energy.")
      .def("heaviest", heaviest, {"particles"}, "The heaviest particle, or none if empty.")
      .def("sleep_ms", sleep_ms, {"milliseconds"}, "Sleeps, then returns.")
      .def("fail", fail, {"message"}, "Throws std::runtime_error(message).")
      .def("blur", blur, {"image"}, "3x3 box blur of an image, the border clamped.")
      .def("total", total, {"values"}, "Sum of an array of any shape.")
      .def("segment", segment, {"image", "level"},
           "The pixels of image above level (others 0), and a mask of them.")
      .def("word_counts", word_counts, {"words"}, "How often each word occurs.")
      .def("simulate", simulate, {"count", "steps", "dt"},
           "Simulates count particles bouncing under gravity for steps steps of dt seconds; "
           "streams the particles after each step.");
}

// `--schema [FILE|-] [NAME]`: the JSON schema that server NAME publishes, written without
// starting a server, so that a build can generate stubs from it.
int write_schema(int argc, char** argv) {
  const std::string file = argc > 2 ? argv[2] : "-";
  const std::string name = argc > 3 ? argv[3] : "demo";
  shmrpc::Server server(name);
  define_functions(server);
  const std::string json = shmrpc::schema_json(server.registry(), name);
  if (file == "-") {
    std::cout << json << std::flush;
    return std::cout ? 0 : 1;
  }
  std::ofstream out(file, std::ios::binary);
  out << json;
  out.close();
  if (!out) {
    std::cerr << "server_example: cannot write " << file << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view first = argc > 1 ? argv[1] : "";
  if (first == "--schema" && argc <= 4) {
    try {
      return write_schema(argc, argv);
    } catch (const std::exception& error) {
      std::cerr << "server_example: " << error.what() << "\n";
      return 1;
    }
  }
  if (first == "--help" || first == "-h" || argc > 2) {
    std::printf(
        "usage: server_example [NAME]\n  Serves the example functions as shmrpc server "
        "NAME (default: demo) until SIGINT or SIGTERM.\n"
        "usage: server_example --schema [FILE|-] [NAME]\n  Writes the JSON schema that server "
        "NAME (default: demo) publishes to FILE (default: stdout), without serving.\n");
    return argc > 2 ? 2 : 0;
  }
  const std::string name = argc > 1 ? argv[1] : "demo";
  try {
    shmrpc::Server server(name);
    define_functions(server);
    server.start();
    std::cout << "shmrpc server '" << name << "' (pid " << ::getpid() << ") serves "
              << server.registry().functions().size() << " functions on "
              << server.options().channels << " channels:\n";
    for (const shmrpc::FunctionDefinition& function : server.registry().functions()) {
      std::cout << "  " << function.signature() << "\n";
    }
    std::cout << std::flush;
    server.run({.stop_on_signals = true});
    std::cout << "shmrpc server '" << name << "' stopped\n";
  } catch (const std::exception& error) {
    std::cerr << "server_example: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
