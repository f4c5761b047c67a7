#pragma once
// What every benchmark program of bench/ shares: pinning, timing a round trip, forking a peer,
// the command line and the result lines that bench/run.py collects.
//
// Every program takes
//   --iterations N    round trips per case (each program has its own default)
//   --smoke           a few iterations of every case and the smallest payloads only: the test
//                     command runs this so that the benchmarks keep building and running
//   --max-bytes N     skip payloads larger than N bytes
// and prints one JSON object per case on stdout (human-readable text goes to stderr):
//   {"case": "pipe ping-pong", "transport": "pipe", "client": "C++", "payload_bytes": 16,
//    "iterations": 20000, "median_ns": 11034.0, "p99_ns": 17012.0, "pinned": "client cpu0,
//    server cpu1", "note": ""}
// A throughput case adds "calls_per_s" and "clients"; a stream case "elements" (per stream),
// "elements_per_s" and "bytes_per_s". A case timed in interleaved rounds next to a base case
// (measure_rounds) adds "round_ratio", the median over the rounds of its median divided by the
// base's median of the same round, "ratio_base", what that base is, and where given the lowest
// and highest round's ratio, "ratio_low" and "ratio_high". A case that cannot run prints
// "skipped": "why" instead of figures.

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

/// The command line every benchmark program takes.
struct Options {
  int iterations = 0;
  bool smoke = false;
  std::uint64_t max_bytes = std::uint64_t{1} << 40;
};

/// Parses --iterations, --smoke and --max-bytes; exits with a usage line on anything else.
inline Options parse_options(int argc, char** argv, int default_iterations) {
  Options options;
  options.iterations = default_iterations;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--smoke") {
      options.smoke = true;
    } else if (arg == "--iterations" && i + 1 < argc) {
      options.iterations = std::atoi(argv[++i]);
    } else if (arg == "--max-bytes" && i + 1 < argc) {
      options.max_bytes = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: %s [--iterations N] [--smoke] [--max-bytes N]\n", argv[0]);
      std::exit(2);
    }
  }
  if (options.iterations <= 0) {
    std::fprintf(stderr, "%s: --iterations must be positive\n", argv[0]);
    std::exit(2);
  }
  if (options.smoke) {
    options.iterations = std::min(options.iterations, 50);
  }
  return options;
}

/// Iterations for a round trip that moves `bytes`: fewer for large payloads, so that a case
/// takes about as long as a small one would with `iterations` (at a few GB/s), at least 5.
inline int iterations_for(const Options& options, std::uint64_t bytes) {
  const std::uint64_t budget = std::uint64_t{1} << 30;  // bytes per case, about 0.3 s of memcpy
  const auto most = static_cast<std::uint64_t>(options.iterations);
  const std::uint64_t by_size = bytes == 0 ? most : budget / bytes;
  return static_cast<int>(
      std::clamp<std::uint64_t>(by_size, std::min<std::uint64_t>(5, most), most));
}

/// Whether two CPUs are there to pin client and server apart.
inline bool can_pin() {
  return std::thread::hardware_concurrency() >= 2;
}

/// Pins the calling process (thread) to `cpu` when the machine has two CPUs or more.
inline void pin_to(int cpu) {
  if (!can_pin()) {
    return;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu) % std::thread::hardware_concurrency(), &set);
  sched_setaffinity(0, sizeof set, &set);
}

/// How the pair was placed, for the "pinned" column.
inline std::string pinning() {
  return can_pin() ? "client cpu0, server cpu1" : "not pinned (1 CPU)";
}

/// Median and 99th percentile of one round trip.
struct Figures {
  double median_ns = 0;
  double p99_ns = 0;
};

/// Times `round_trip` `iterations` times after a warm-up of a tenth as many.
inline Figures measure(int iterations, const std::function<void()>& round_trip) {
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(iterations));
  for (int i = 0; i < std::max(1, iterations / 10); ++i) {
    round_trip();
  }
  for (int i = 0; i < iterations; ++i) {
    const auto start = Clock::now();
    round_trip();
    samples.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count());
  }
  std::sort(samples.begin(), samples.end());
  return {samples[samples.size() / 2], samples[samples.size() * 99 / 100]};
}

/// Times one round trip of `round_trip`, in nanoseconds.
inline double time_once(const std::function<void()>& round_trip) {
  const auto start = Clock::now();
  round_trip();
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count();
}

/// One case of measure_rounds: how many round trips in all, and one round trip that returns its
/// own duration in ns (so that it can leave its cleanup out of the time; see timed()).
struct RoundCase {
  int iterations;
  std::function<double()> round_trip;
};

/// Wraps a round trip that is timed whole.
inline std::function<double()> timed(std::function<void()> round_trip) {
  return [round_trip = std::move(round_trip)] { return time_once(round_trip); };
}

/// What measure_rounds found: per case its figures over all rounds and its median per round.
struct Rounds {
  std::vector<Figures> figures;
  std::vector<std::vector<double>> round_medians;  // [case][round]

  /// `of(medians of the cases in that round)` for every round, sorted: a ratio taken within
  /// each round, so that a slow phase of a noisy machine hits both sides of it.
  std::vector<double> over_rounds(
      const std::function<double(const std::vector<double>&)>& of) const {
    std::vector<double> values;
    for (std::size_t round = 0; round < round_medians.front().size(); ++round) {
      std::vector<double> medians;
      for (const auto& per_case : round_medians) {
        medians.push_back(per_case[round]);
      }
      values.push_back(of(medians));
    }
    std::sort(values.begin(), values.end());
    return values;
  }
  /// The median over the rounds of `of(medians of the cases in that round)`.
  double median_over_rounds(const std::function<double(const std::vector<double>&)>& of) const {
    const std::vector<double> values = over_rounds(of);
    return values[values.size() / 2];
  }
  /// The median over the rounds of case `number`'s median over case `base`'s.
  double ratio(std::size_t number, std::size_t base) const {
    return median_over_rounds([&](const std::vector<double>& m) { return m[number] / m[base]; });
  }
};

/// Times `cases` in `rounds` interleaved rounds: after one warm-up of each (a tenth of its
/// iterations, at least one), round r runs each case in turn for its share of its iterations
/// (at least one). The machine is shared and noisy: a ratio of two cases is read per round.
inline Rounds measure_rounds(int rounds, const std::vector<RoundCase>& cases) {
  Rounds out;
  std::vector<std::vector<double>> samples(cases.size());
  out.round_medians.resize(cases.size());
  for (const RoundCase& c : cases) {
    for (int i = 0; i < std::max(1, c.iterations / 10); ++i) {
      c.round_trip();
    }
  }
  for (int round = 0; round < rounds; ++round) {
    for (std::size_t number = 0; number < cases.size(); ++number) {
      const RoundCase& c = cases[number];
      std::vector<double> round_samples;
      for (int i = 0; i < std::max(1, c.iterations / rounds); ++i) {
        round_samples.push_back(c.round_trip());
      }
      samples[number].insert(samples[number].end(), round_samples.begin(), round_samples.end());
      std::sort(round_samples.begin(), round_samples.end());
      out.round_medians[number].push_back(round_samples[round_samples.size() / 2]);
    }
  }
  for (std::vector<double>& all : samples) {
    std::sort(all.begin(), all.end());
    out.figures.push_back({all[all.size() / 2], all[all.size() * 99 / 100]});
  }
  return out;
}

/// The rounds of measure_rounds in a full run (fewer iterations than rounds: one per round).
inline constexpr int kRounds = 5;

/// A forked peer process (a server of a baseline), pinned to CPU 1.
class Peer {
 public:
  /// Forks; the child pins itself to CPU 1, runs `body` and exits.
  explicit Peer(const std::function<void()>& body) : pid_(fork()) {
    if (pid_ == 0) {
      pin_to(1);
      body();
      _exit(0);
    }
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;
  /// Kills the peer (SIGKILL: baselines' servers loop forever) and reaps it.
  ~Peer() { stop(SIGKILL); }

  /// Sends `signal` and waits for the peer to end.
  void stop(int signal) {
    if (pid_ > 0) {
      kill(pid_, signal);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

/// Escapes `text` for a JSON string.
inline std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

/// One case's identity: what bench/run.py groups and labels rows by.
struct Case {
  Case(std::string case_name, std::string case_transport, std::uint64_t bytes = 16,
       std::string case_note = {})
      : name(std::move(case_name)),
        transport(std::move(case_transport)),
        payload_bytes(bytes),
        note(std::move(case_note)) {}

  std::string name;       ///< e.g. "shmrpc null call, spinning"
  std::string transport;  ///< e.g. "shmrpc", "pipe", "unix socket", "zeromq", "grpc"
  std::uint64_t payload_bytes;
  std::string note;
};

/// A case's ratio to a base case timed in the same rounds (Rounds::ratio), for its result line.
struct RoundRatio {
  RoundRatio(std::string ratio_base, double ratio_value,
             std::optional<std::pair<double, double>> ratio_spread = std::nullopt)
      : base(std::move(ratio_base)), value(ratio_value), spread(ratio_spread) {}

  std::string base;  ///< what the ratio is taken against, e.g. "null call"
  double value = 0;
  std::optional<std::pair<double, double>> spread;  ///< the lowest and highest round's ratio
};

/// The median and the spread over the rounds of `of` (see Rounds::over_rounds), against `base`.
inline RoundRatio ratio_in_rounds(const Rounds& rounds, std::string base,
                                  const std::function<double(const std::vector<double>&)>& of) {
  const std::vector<double> values = rounds.over_rounds(of);
  return {std::move(base), values[values.size() / 2], std::pair(values.front(), values.back())};
}

/// The JSON fields of a ratio in rounds (empty without one): round_ratio, ratio_base and, with
/// a spread, ratio_low and ratio_high.
inline std::string ratio_fields(const std::optional<RoundRatio>& ratio) {
  if (!ratio) {
    return {};
  }
  std::string fields = ", \"round_ratio\": " + std::to_string(ratio->value) +
                       ", \"ratio_base\": " + json_string(ratio->base);
  if (ratio->spread) {
    fields += ", \"ratio_low\": " + std::to_string(ratio->spread->first) +
              ", \"ratio_high\": " + std::to_string(ratio->spread->second);
  }
  return fields;
}

/// Prints the result line of a latency case, with its ratio to a base case when given.
inline void report(const Case& c, int iterations, Figures figures,
                   const std::optional<RoundRatio>& ratio = std::nullopt) {
  const std::string extra = ratio_fields(ratio);
  std::printf(
      "{\"case\": %s, \"transport\": %s, \"client\": \"C++\", \"payload_bytes\": %llu, "
      "\"iterations\": %d, \"median_ns\": %.1f, \"p99_ns\": %.1f, \"pinned\": %s, "
      "\"note\": %s%s}\n",
      json_string(c.name).c_str(), json_string(c.transport).c_str(),
      static_cast<unsigned long long>(c.payload_bytes), iterations, figures.median_ns,
      figures.p99_ns, json_string(pinning()).c_str(), json_string(c.note).c_str(), extra.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "%-48s %10.0f ns median %10.0f ns p99\n", c.name.c_str(), figures.median_ns,
               figures.p99_ns);
}

/// Prints the result line of a throughput case: `calls` by `clients` processes (or threads) in
/// `seconds`, with its ratio to a base case when given (calls per second over the base's).
inline void report_throughput(const Case& c, int clients, std::uint64_t calls, double seconds,
                              const std::optional<RoundRatio>& ratio = std::nullopt) {
  const double per_s = static_cast<double>(calls) / seconds;
  const std::string in_rounds = ratio_fields(ratio);
  std::printf(
      "{\"case\": %s, \"transport\": %s, \"client\": \"C++\", \"payload_bytes\": %llu, "
      "\"clients\": %d, \"iterations\": %llu, \"calls_per_s\": %.0f, \"pinned\": %s, "
      "\"note\": %s%s}\n",
      json_string(c.name).c_str(), json_string(c.transport).c_str(),
      static_cast<unsigned long long>(c.payload_bytes), clients,
      static_cast<unsigned long long>(calls), per_s, json_string("not pinned").c_str(),
      json_string(c.note).c_str(), in_rounds.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "%-48s %10.0f calls/s\n", c.name.c_str(), per_s);
}

/// Prints the result line of a stream case: `elements` elements of `payload_bytes` each in one
/// stream (or one batch of calls, its base), `figures` the time of one stream over `streams`
/// streams, with its ratio to a base case when given. Adds "elements", "elements_per_s" and
/// "bytes_per_s" (over the median), which put the line into run.py's stream table.
inline void report_stream(const Case& c, int streams, std::uint64_t elements, Figures figures,
                          const std::optional<RoundRatio>& ratio = std::nullopt) {
  const double per_s = static_cast<double>(elements) * 1e9 / figures.median_ns;
  std::printf(
      "{\"case\": %s, \"transport\": %s, \"client\": \"C++\", \"payload_bytes\": %llu, "
      "\"elements\": %llu, \"iterations\": %d, \"median_ns\": %.1f, \"p99_ns\": %.1f, "
      "\"elements_per_s\": %.1f, \"bytes_per_s\": %.1f, \"pinned\": %s, \"note\": %s%s}\n",
      json_string(c.name).c_str(), json_string(c.transport).c_str(),
      static_cast<unsigned long long>(c.payload_bytes), static_cast<unsigned long long>(elements),
      streams, figures.median_ns, figures.p99_ns, per_s,
      per_s * static_cast<double>(c.payload_bytes), json_string(pinning()).c_str(),
      json_string(c.note).c_str(), ratio_fields(ratio).c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "%-48s %14.0f elements/s %8.2f GB/s\n", c.name.c_str(), per_s,
               per_s * static_cast<double>(c.payload_bytes) / 1e9);
}

/// Elements per stream of the small-element stream cases (C++ and gRPC alike): enough that the
/// call's start and end are a small part of it; a few with --smoke.
inline std::uint64_t stream_elements(const Options& options) {
  return options.smoke ? 100 : 10000;
}

/// Prints the result line of a case that could not run, and why.
inline void report_skipped(const Case& c, std::string_view why) {
  std::printf(
      "{\"case\": %s, \"transport\": %s, \"client\": \"C++\", \"payload_bytes\": %llu, "
      "\"skipped\": %s}\n",
      json_string(c.name).c_str(), json_string(c.transport).c_str(),
      static_cast<unsigned long long>(c.payload_bytes), json_string(why).c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "%-48s skipped: %.*s\n", c.name.c_str(), static_cast<int>(why.size()),
               why.data());
}

/// The payload sizes of the array cases: 1 KiB, 1 MiB, 16 MiB, 256 MiB and 1 GiB (the smallest
/// only with --smoke), up to --max-bytes.
inline std::vector<std::uint64_t> payload_sizes(const Options& options) {
  std::vector<std::uint64_t> sizes;
  for (const std::uint64_t size :
       {std::uint64_t{1} << 10, std::uint64_t{1} << 20, std::uint64_t{16} << 20,
        std::uint64_t{256} << 20, std::uint64_t{1} << 30}) {
    if (size <= options.max_bytes && (!options.smoke || sizes.empty())) {
      sizes.push_back(size);
    }
  }
  return sizes;
}

}  // namespace bench
