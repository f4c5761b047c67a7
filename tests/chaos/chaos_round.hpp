#pragma once
// One randomized round of the chaos suite: 2-3 server names, a server and 1-3 clients on each,
// then random SIGKILLs, SIGTERMs, SIGSTOP/SIGCONTs, restarts and racing starts of servers and
// clients until the round's time is up; then Harness::finish. Every choice comes from the round's
// seed, so a seed replays the same plan (the timing of the processes still varies).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "chaos_harness.hpp"

namespace shmrpc::chaos {

/// What a round does more of. Rounds take the three in turn, so that even a short run has each.
enum class Focus : std::uint8_t {
  kLongCall,      ///< one client calls slow(60 s) early; servers are SIGTERMed rather than killed
  kRacingStarts,  ///< servers SIGKILLed and restarted by two or three at once over their segment
  kMixed,         ///< everything at similar rates
};

struct RoundPlan {
  int index = 0;
  std::uint64_t seed = 0;
  Focus focus = Focus::kMixed;
  Milliseconds length{1500};
};

/// Round `index` of the run with seed `run_seed`.
RoundPlan plan_round(std::uint64_t run_seed, int index);

/// "round 3 (seed 0x..., racing-starts, 1500 ms)".
std::string describe(const RoundPlan& plan);

struct RoundReport {
  std::vector<Finding> findings;
  RoundStats stats;
  std::size_t names = 0;
};

RoundReport run_round(const RoundPlan& plan, const Bounds& bounds);

}  // namespace shmrpc::chaos
