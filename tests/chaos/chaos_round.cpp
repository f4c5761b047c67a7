#include "chaos_round.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <optional>

#include "chaos_functions.hpp"

namespace shmrpc::chaos {
namespace {

enum class Action : std::uint8_t {
  kKillServer,
  kTermServer,
  kStopServer,
  kContender,  // a second server of a live name, which must be refused
  kRace,       // SIGKILL a name's server, then start two or three at the same instant
  kKillClient,
  kTermClient,
  kStopClient,
  kStartClient,
  kNothing,
};

constexpr std::size_t kActions = 10;

// Relative weights of the actions, in the order of Action, per focus.
constexpr std::array<unsigned, kActions> weights(Focus focus) {
  switch (focus) {
    case Focus::kLongCall:
      return {2, 3, 2, 2, 1, 2, 1, 2, 2, 3};
    case Focus::kRacingStarts:
      return {1, 1, 1, 1, 8, 1, 0, 1, 1, 2};
    case Focus::kMixed:
      break;
  }
  return {3, 3, 2, 2, 2, 2, 1, 2, 2, 3};
}

constexpr std::string_view focus_name(Focus focus) {
  switch (focus) {
    case Focus::kLongCall:
      return "long-call";
    case Focus::kRacingStarts:
      return "racing-starts";
    case Focus::kMixed:
      break;
  }
  return "mixed";
}

// Live clients per name at most; a server has 2, 3 or 8 channels, so some clients wait for one.
constexpr std::size_t kMaxClientsPerName = 4;

struct NameState {
  std::string name;
  std::uint32_t channels = 0;
};

class Round {
 public:
  Round(const RoundPlan& plan, const Bounds& bounds)
      : plan_(plan), harness_(bounds, describe(plan)), rng_(plan.seed) {}

  RoundReport run() {
    const std::size_t names = 2 + rng_.below(2);
    constexpr std::array<std::uint32_t, 3> kChannels = {2, 3, 8};
    for (std::size_t i = 0; i < names; ++i) {
      names_.push_back({harness_.new_name(), kChannels.at(rng_.below(kChannels.size()))});
      harness_.start_server(names_.back().name, {.channels = names_.back().channels});
    }
    // The long call: early in the round, by a client that no action kills.
    std::optional<std::size_t> long_caller;
    if (plan_.focus == Focus::kLongCall) {
      long_caller = 0;
      protected_name_ = names_.front().name;
    } else if (plan_.focus == Focus::kMixed && rng_.percent(25)) {
      long_caller = rng_.below(names_.size());
    }
    for (std::size_t i = 0; i < names_.size(); ++i) {
      const std::size_t clients = 1 + rng_.below(3);
      for (std::size_t k = 0; k < clients; ++k) {
        ClientConfig config = client_config(names_[i]);
        if (k == 0 && long_caller == i) {
          config.long_call_after = Milliseconds(rng_.between(50, 300));
        }
        harness_.start_client(config);
      }
    }
    const Clock::time_point end = Clock::now() + plan_.length;
    const auto table = weights(plan_.focus);
    unsigned total = 0;
    for (const unsigned weight : table) {
      total += weight;
    }
    while (Clock::now() < end) {
      harness_.run_for(Milliseconds(rng_.between(5, 30) * harness_.bounds().pace));
      auto pick = static_cast<unsigned>(rng_.below(total));
      std::size_t action = 0;
      while (pick >= table.at(action)) {
        pick -= table.at(action);
        ++action;
      }
      act(static_cast<Action>(action));
      keep_alive();
    }
    harness_.finish();
    return {harness_.findings(), harness_.stats(), names_.size()};
  }

 private:
  ClientConfig client_config(const NameState& name) {
    ClientConfig config;
    config.name = name.name;
    config.seed = rng_.next();
    config.timeout = Milliseconds(rng_.between(100, 400));
    config.liveness = Milliseconds(rng_.between(20, 100));
    config.connect_timeout = harness_.bounds().connect_timeout;
    if (rng_.percent(50)) {
      config.channel_wait = harness_.bounds().channel_wait;
    }
    config.use_reconnect = rng_.percent(50);
    return config;
  }

  template <class Predicate>
  std::optional<std::size_t> pick_server(Predicate predicate) {
    std::vector<std::size_t> candidates;
    for (std::size_t id = 0; id < harness_.servers().size(); ++id) {
      if (predicate(harness_.servers()[id])) {
        candidates.push_back(id);
      }
    }
    if (candidates.empty()) {
      return std::nullopt;
    }
    return candidates.at(rng_.below(candidates.size()));
  }

  // A client that actions may signal: not the long caller.
  std::optional<std::size_t> pick_client(bool include_stopped) {
    std::vector<std::size_t> candidates;
    for (std::size_t id = 0; id < harness_.clients().size(); ++id) {
      const ClientChild& client = harness_.clients()[id];
      if (!client.gone() && !client.config.long_call_after &&
          (include_stopped || !client.cont_at)) {
        candidates.push_back(id);
      }
    }
    if (candidates.empty()) {
      return std::nullopt;
    }
    return candidates.at(rng_.below(candidates.size()));
  }

  NameState& pick_name() { return names_.at(rng_.below(names_.size())); }

  std::size_t live_clients(const std::string& name) const {
    std::size_t count = 0;
    for (const ClientChild& client : harness_.clients()) {
      if (client.config.name == name && !client.gone()) {
        ++count;
      }
    }
    return count;
  }

  // A server of `name` serves, starts or is stopping: starting another now is pointless.
  bool has_server(const std::string& name) const {
    return std::ranges::any_of(harness_.servers(), [&](const ServerChild& server) {
      return server.name == name &&
             (server.serving() || server.starting() || (server.termed_at && !server.gone()));
    });
  }

  void act(Action action) {
    switch (action) {
      case Action::kKillServer: {
        const bool starting = rng_.percent(10);
        if (const auto id = pick_server([&](const ServerChild& server) {
              return server.name != protected_name_ &&
                     (starting ? server.starting() : server.serving());
            })) {
          harness_.kill_server(*id);
        }
        return;
      }
      case Action::kTermServer:
        if (const auto id = pick_server([](const ServerChild& s) { return s.serving(); })) {
          harness_.term_server(*id);
        }
        return;
      case Action::kStopServer:
        if (const auto id =
                pick_server([](const ServerChild& s) { return s.serving() && !s.cont_at; })) {
          harness_.stop_server(*id, Milliseconds(rng_.between(20, 600)));
        }
        return;
      case Action::kContender:
        if (const auto id = pick_server([](const ServerChild& s) { return s.serving(); })) {
          const std::string name = harness_.servers()[*id].name;
          harness_.start_server(name, {.channels = 2});
        }
        return;
      case Action::kRace:
        race();
        return;
      case Action::kKillClient:
        if (const auto id = pick_client(true)) {
          harness_.kill_client(*id);
        }
        return;
      case Action::kTermClient:
        if (const auto id = pick_client(true)) {
          harness_.term_client(*id);
        }
        return;
      case Action::kStopClient:
        if (const auto id = pick_client(false)) {
          harness_.stop_client(*id, Milliseconds(rng_.between(20, 800)));
        }
        return;
      case Action::kStartClient: {
        const NameState& name = pick_name();
        if (live_clients(name.name) < kMaxClientsPerName) {
          harness_.start_client(client_config(name));
        }
        return;
      }
      case Action::kNothing:
        return;
    }
  }

  // SIGKILL the name's server, leaving its segment, and start two or three at the same instant:
  // exactly one may win the name.
  void race() {
    const NameState& name = pick_name();
    if (name.name == protected_name_) {
      return;
    }
    for (const ServerChild& server : harness_.servers()) {
      if (server.name == name.name && (server.starting() || (server.termed_at && !server.gone()))) {
        return;  // let that one settle first
      }
    }
    for (std::size_t id = 0; id < harness_.servers().size(); ++id) {
      const ServerChild& server = harness_.servers()[id];
      if (server.name == name.name && server.serving()) {
        harness_.kill_server(id);
      }
    }
    // Three racers give a lost race (two winners) more chances than two do.
    const std::size_t racers = plan_.focus == Focus::kRacingStarts ? 3 : 2 + rng_.below(2);
    harness_.race_servers(name.name, racers, name.channels, rng_);
  }

  // Every name has a server (restarted at once after a kill or stop) and a client.
  void keep_alive() {
    for (const NameState& name : names_) {
      if (!has_server(name.name)) {
        harness_.start_server(name.name, {.channels = name.channels});
      }
      if (live_clients(name.name) == 0) {
        harness_.start_client(client_config(name));
      }
    }
  }

  RoundPlan plan_;
  Harness harness_;
  Rng rng_;
  std::vector<NameState> names_;
  std::string protected_name_;
};

}  // namespace

RoundPlan plan_round(std::uint64_t run_seed, int index) {
  RoundPlan plan;
  plan.index = index;
  plan.seed = mix(run_seed ^ mix(static_cast<std::uint64_t>(index)));
  constexpr std::array kFocuses = {Focus::kLongCall, Focus::kRacingStarts, Focus::kMixed};
  plan.focus = kFocuses.at(static_cast<std::size_t>(index) % kFocuses.size());
  Rng rng(plan.seed ^ 1U);
  plan.length = Milliseconds(rng.between(1000, 2000));
  return plan;
}

std::string describe(const RoundPlan& plan) {
  std::array<char, 96> text{};
  (void)std::snprintf(text.data(), text.size(), "round %d (seed 0x%016llx, %s, %lld ms)",
                      plan.index, static_cast<unsigned long long>(plan.seed),
                      std::string(focus_name(plan.focus)).c_str(),
                      static_cast<long long>(plan.length.count()));
  return text.data();
}

RoundReport run_round(const RoundPlan& plan, const Bounds& bounds) {
  Round round(plan, bounds);
  return round.run();
}

}  // namespace shmrpc::chaos
