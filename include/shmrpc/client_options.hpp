#pragma once
/// How a client waits, checks its server, and whom it trusts: the options of Client and
/// Connection.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>

namespace shmrpc {

struct ClientOptions {
  /// How long a caller spins for the result before sleeping in the kernel. 0 = always sleep.
  /// At most liveness_interval / 2 is used, so that a spin cannot delay a liveness check.
  std::chrono::nanoseconds spin = std::chrono::microseconds(50);
  /// Longest wait for one call; nullopt = as long as the server lives.
  std::optional<std::chrono::nanoseconds> timeout{};
  /// Bounds how long a waiting caller (for a result, for a late call, for a free channel) goes
  /// without checking that the server still lives and runs. It checks liveness_interval / 2 after
  /// the wait began (spin included) and every liveness_interval / 2 after that, so a server that
  /// dies or stops is noticed within liveness_interval / 2 of it plus the time to test its
  /// holder lock and to be scheduled, so within liveness_interval (measured over 20 deaths
  /// spread over an interval, default options: 51 ms at most).
  std::chrono::nanoseconds liveness_interval = std::chrono::milliseconds(100);
  /// How long to wait for a server that is still starting.
  std::chrono::nanoseconds connect_timeout = std::chrono::seconds(1);
  /// The most channels of the server (call slots) one Client holds at once: the calls it may have
  /// in flight. A Client claims one when it connects and more while every held one is busy; a
  /// call that finds all of them busy, or the server without a free channel, waits for one of
  /// its own to be given back (bounded by timeout).
  std::uint32_t max_slots = 8;
  /// Elements of a stream the server may write ahead of the reader (fewer when the channel's
  /// heap has no room for that many): a fast writer waits for a slow reader beyond that.
  std::uint32_t stream_buffer = 64;
  /// When every channel is taken as the client connects: nullopt fails at once with
  /// ChannelsBusyError; a duration waits up to that long for a channel to be released (or its
  /// owner to die). The wait checks the server as a call does (see liveness_interval) and ends
  /// with NoServerError when it died or stops: the connection was never made.
  std::optional<std::chrono::nanoseconds> channel_wait{};
  /// Called by a waiting caller every liveness_interval / 2; may throw to abandon the wait (the
  /// Python client raises KeyboardInterrupt from it). The abandoned call is treated as timed out.
  std::function<void()> interrupt_check{};
  /// The user id whose server segments this client attaches to; nullopt: this process's own
  /// (geteuid). A segment of another owner is refused with std::system_error (EACCES) naming
  /// both uids, so another user cannot pose as our server.
  std::optional<uid_t> server_uid{};
};

}  // namespace shmrpc
