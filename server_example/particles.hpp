#pragma once
// The records of server_example's particle functions. A C++ client includes this header too, so
// that both sides name the same types (demo::Particle, ...) with the same layout; a Python
// client needs no header: it reads the layout from the server's metadata.

#include <array>
#include <cstdint>

#include "shmrpc/reflect.hpp"

namespace demo {

// Records cross as the compiler lays them out; SHMRPC_FIELDS names their fields for clients.
struct Particle {
  std::array<double, 3> pos;  // m
  std::array<double, 3> vel;  // m/s
  float mass;                 // kg
};
SHMRPC_FIELDS(Particle, pos, vel, mass);

struct Energy {
  double kinetic;    // J
  double potential;  // J, relative to z = 0
};
SHMRPC_FIELDS(Energy, kinetic, potential);

enum class Floor : std::uint8_t { kNone, kBounce };
SHMRPC_ENUM(Floor, kNone, kBounce);

constexpr double kGravity = 9.81;  // m/s^2, along -z

}  // namespace demo
