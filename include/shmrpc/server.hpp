#pragma once
/// The server: publishes a FunctionRegistry through a named segment and serves its channels.
///
///   shmrpc::Server server("demo");
///   server.def("add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"a", "b"}, "Sum");
///   server.run({.stop_on_signals = true});   // or start() and carry on with your own main loop

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "shmrpc/registry.hpp"
#include "shmrpc/segment.hpp"

namespace shmrpc {

struct ServerOptions {
  /// Channels, i.e. calls that can be in flight at once, of all clients together (a Client holds
  /// one to ClientOptions::max_slots of them). Each has its own serving thread, so calls on
  /// different channels run in parallel; an idle one sleeps.
  std::uint32_t channels = 64;
  /// Bytes per channel for the call frame and the inline heap, committed at start. The heap holds
  /// small arrays and strings; larger ones go into buffer segments made when they are needed
  /// (docs/SPEC.md, section 6.6), so this bounds nothing but what crosses without a buffer.
  std::uint64_t arena_size = std::uint64_t{256} << 10U;
  /// Bytes of buffers one client may hold at once (arguments it made, results it keeps); 0 means
  /// no limit but /dev/shm. A request past it fails with OutOfSharedMemoryError, as a full
  /// /dev/shm does.
  std::uint64_t client_buffer_quota = 0;
  /// Permission bits of the segment file: by default only the server's user may attach. Read and
  /// write bits only (a subset of 0666) and at least 0600: the server's own user needs both.
  mode_t mode = 0600;
  /// Group that owns the segment file; with mode 0660 its members may attach too. nullopt: the
  /// server's own group. The server's user must be a member (else start() fails with EPERM).
  std::optional<gid_t> group{};
  /// How long a channel thread keeps spinning for the next call after serving one, before it
  /// sleeps in the kernel. 0 = always sleep (lowest CPU use, a futex wake-up per call). No more
  /// channel threads spin at once than half the machine's cores (at least one); the others sleep
  /// at once, leaving the other half to the clients' spinning calls.
  std::chrono::nanoseconds spin = std::chrono::microseconds(50);
  /// How long stop() lets calls in flight finish. A call still running after it is abandoned: its
  /// client gets ServerGoneError, the segment is removed, and the function goes on in its thread
  /// until it returns (or the process exits), writing into memory nobody reads any more.
  std::chrono::nanoseconds stop_grace = std::chrono::seconds(5);
};

struct RunOptions {
  /// Stop on SIGINT or SIGTERM. The previous handlers are restored when run() returns.
  bool stop_on_signals = false;
};

class Server {
 public:
  /// Validates `name` and `options.mode` (std::invalid_argument). Creates nothing until start().
  explicit Server(std::string name, ServerOptions options = {});
  /// Stops the server if it runs.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  Server(Server&&) = delete;
  Server& operator=(Server&&) = delete;

  /// Registers a function; see FunctionRegistry::def. Only before start() (std::logic_error).
  template <class F>
  Server& def(std::string name, F&& function, std::vector<std::string> argument_names = {},
              std::string doc = {}) {
    check_not_started();
    registry_->def(std::move(name), std::forward<F>(function), std::move(argument_names),
                   std::move(doc));
    return *this;
  }
  template <class F, class Doc>
  requires std::is_convertible_v<const Doc&, std::string_view> Server& def(std::string name,
                                                                           F&& function,
                                                                           const Doc& doc) {
    return def(std::move(name), std::forward<F>(function), {}, std::string(std::string_view(doc)));
  }

  /// Creates the segment, publishes the functions and starts one thread per channel; returns at
  /// once. Throws shmrpc::Error when a live server already has the name (naming its pid),
  /// std::system_error when /dev/shm has no room or the name is another user's file (naming the
  /// owner) or not a regular file, std::invalid_argument for bad options. A segment left by a
  /// dead or stopped server is replaced; of several servers starting at once one wins.
  void start();

  /// start()s if needed, then blocks until stop() is called from another thread or, with
  /// stop_on_signals, SIGINT/SIGTERM arrives; then stops.
  void run(RunOptions options = {});

  /// Takes no new calls, lets the calls in flight finish for up to options().stop_grace (then
  /// abandons them), fails calls that were waiting with "server is stopping", and removes the
  /// segment if it is still its own. Returns within stop_grace plus a few milliseconds.
  /// Idempotent; safe from any thread.
  void stop() noexcept;

  bool running() const noexcept { return running_.load(std::memory_order_acquire); }
  const std::string& name() const noexcept { return name_; }
  const ServerOptions& options() const noexcept { return options_; }
  const FunctionRegistry& registry() const noexcept { return *registry_; }

 private:
  class Serving;  // what the channel threads use; outlives the Server while abandoned calls run

  void check_not_started() const;

  std::string name_;
  ServerOptions options_;
  std::shared_ptr<FunctionRegistry> registry_ = std::make_shared<FunctionRegistry>();
  std::mutex lifecycle_;
  std::shared_ptr<Serving> serving_;
  std::vector<std::thread> threads_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<std::uint32_t> stop_requested_{0};  // futex word run() sleeps on
};

}  // namespace shmrpc
