// Calls every function of server_example from C++ and checks each answer.
// Run it as `client_example [NAME]` while `server_example [NAME]` runs.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <map>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "particles.hpp"
#include "shmrpc/shmrpc.hpp"

namespace {

// Prints one line per check and counts the failed ones.
class Checks {
 public:
  void operator()(bool ok, const std::string& what) {
    std::cout << (ok ? "ok   " : "FAIL ") << what << "\n";
    failures_ += ok ? 0 : 1;
  }
  int failures() const noexcept { return failures_; }

 private:
  int failures_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string name = argc > 1 ? argv[1] : "demo";
  Checks check;
  try {
    shmrpc::Client client(name);
    std::cout << "connected to '" << name << "' on channel " << client.channel() << "\n";

    check(client.call<std::int64_t>("add", 2, 3) == 5, "add(2, 3) = 5");

    // An ordinary vector is copied into shared memory once.
    const std::vector<double> a{1, 2, 3};
    const std::vector<double> b{4, 5, 6};
    check(client.call<double>("dot", a, b) == 32.0, "dot([1,2,3], [4,5,6]) = 32");

    // An array created in the channel heap crosses without a copy and is scaled in place.
    auto values = client.zeros<double>(4);
    for (std::size_t i = 0; i < values.size(); ++i) {
      values[i] = static_cast<double>(i);
    }
    client.call("scale", values, 2.5);
    check(values[3] == 7.5, "scale(shared [0,1,2,3], 2.5) -> [0,2.5,5,7.5] in place");

    // A typed handle checks the signature once.
    auto stats = client.function<std::array<double, 4>(std::span<const float>)>("stats");
    const std::vector<float> samples{1, 2, 3, 4};
    const auto s = stats(samples);
    check(s[0] == 1 && s[1] == 4 && s[2] == 2.5 && std::abs(s[3] - std::sqrt(1.25)) < 1e-12,
          "stats([1,2,3,4]) = {1, 4, 2.5, 1.118}");

    check(client.call<std::string>("greet", "shmrpc") == "Hello, shmrpc!", "greet");
    check(client.call<std::vector<std::int64_t>>("range", 0, 10, 3) ==
              std::vector<std::int64_t>{0, 3, 6, 9},
          "range(0, 10, 3) = [0, 3, 6, 9]");
    // Records: a span of structs in shared memory, stepped in place; a struct and an optional
    // struct back. particles.hpp is the header the server shares with its C++ clients.
    auto particles = client.zeros<demo::Particle>(2);
    particles[0] = {{0, 0, 10}, {1, 0, 0}, 2};
    particles[1] = {{0, 0, 0}, {0, 0, 5}, 1};
    const auto before = client.call<demo::Energy>("energy", particles);
    for (int i = 0; i < 100; ++i) {
      client.call("step", particles, 0.001, demo::Floor::kBounce);
    }
    const auto after = client.call<demo::Energy>("energy", particles);
    check(particles[0].pos[0] > 0.099 && particles[0].pos[2] < 10,
          "step(particles, 0.001, kBounce) x 100 moved them in place");
    check(std::abs((after.kinetic + after.potential) - (before.kinetic + before.potential)) < 1.0,
          "energy is about conserved");
    const auto heaviest = client.call<std::optional<demo::Particle>>("heaviest", particles);
    check(heaviest && heaviest->mass == 2, "heaviest(particles) has mass 2");
    check(
        !client.call<std::optional<demo::Particle>>("heaviest", std::span<const demo::Particle>{}),
        "heaviest([]) is none");

    // A 2-D image in, a 2-D image out: the result stays where the server wrote it.
    std::vector<float> pixels(std::size_t{24}, 1.0F);  // 4 x 6
    pixels[0] = 10.0F;
    const shmrpc::ArrayView<const float, 2> image(pixels.data(), {4, 6});
    const auto blurred = client.call<shmrpc::SharedNdArray<float, 2>>("blur", image);
    check(blurred.shape()[0] == 4 && blurred.shape()[1] == 6 && blurred(0, 0) == 13.0F / 4 &&
              blurred(3, 5) == 1.0F,
          "blur(4x6 image) is a 4x6 image, the corner the mean of its 4 neighbours");
    // Any rank and layout: every other column of a 4x6 matrix, as a strided view.
    std::vector<double> matrix(std::size_t{24});  // 4 x 6
    std::iota(matrix.begin(), matrix.end(), 0.0);
    const std::array<std::ptrdiff_t, 2> every_other_column{6, 2};
    const shmrpc::ArrayView<const double, 2> columns(matrix.data(), {4, 3}, every_other_column);
    check(client.call<double>("total", columns) == 132.0,
          "total(every other column of a 4x6 matrix) = 132");
    const std::vector<double> cube(std::size_t{24}, 0.5);  // 2 x 3 x 4
    check(client.call<double>("total",
                              shmrpc::ArrayView<const double, 3>(cube.data(), {2, 3, 4})) == 12.0,
          "total(2x3x4 of 0.5) = 12");

    // Two images out of one call, and a map: values that nest.
    const auto [kept, mask] = client.call<
        std::tuple<shmrpc::SharedNdArray<float, 2>, shmrpc::SharedNdArray<std::uint8_t, 2>>>(
        "segment", image, 5.0F);
    check(kept(0, 0) == 10.0F && kept(0, 1) == 0.0F && mask(0, 0) == 1 && mask(3, 5) == 0,
          "segment(image, 5) keeps the one bright pixel and masks it");
    const auto counts = client.call<std::map<std::string, std::int64_t>>(
        "word_counts", std::vector<std::string>{"to", "be", "or", "not", "to", "be"});
    check(counts.size() == 4 && counts.at("to") == 2 && counts.at("not") == 1,
          "word_counts(to be or not to be) counts 4 words");

    // A stream: the frames of a simulation as it runs, read as a range. The array of each frame
    // lies in shared memory the server filled; SharedArray reads it there.
    int frames = 0;
    double lowest = 1.0;
    for (const auto& frame :
         client.stream<shmrpc::SharedArray<demo::Particle>>("simulate", 2, 50, 0.05)) {
      lowest = std::min(lowest, frame[0].pos[2]);
      ++frames;
    }
    check(frames == 50 && lowest >= 0.0 && lowest < 0.5,
          fmt::format("simulate(2, 50, 0.05) streams 50 frames of particles that fall and bounce "
                      "(lowest {:.3f} m)",
                      lowest));

    client.call("sleep_ms", 20);
    check(true, "sleep_ms(20) returned");

    try {
      client.call("fail", "on purpose");
      check(false, "fail throws");
    } catch (const shmrpc::RemoteError& error) {
      check(error.remote_type() == "std::runtime_error" && error.remote_message() == "on purpose",
            fmt::format("fail throws RemoteError: {}", error.what()));
    }
  } catch (const std::exception& error) {
    std::cerr << "client_example: " << error.what() << "\n";
    return 1;
  }
  std::cout << (check.failures() == 0 ? "all calls ok" : "some calls failed") << "\n";
  return check.failures() == 0 ? 0 : 1;
}
