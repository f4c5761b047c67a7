// Baselines over kernel byte streams: a pipe pair and a Unix-domain stream socket pair, each
// between this process (the client, CPU 0) and a forked server (CPU 1), doing the work every
// transport of the comparison does (bench/README.md):
//   null   the client sends two int64 (a, b), the server replies with a + b
//   array  the client sends N bytes of float64 behind an 8-byte length, the server reads all
//          of them into its own buffer and replies with the number of elements
//
//   bench_transports [--iterations N] [--smoke] [--max-bytes N]     (default 20000)

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

// A failed syscall in a benchmark is a broken setup, not a figure: say which and stop.
[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "bench_transports: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// Reads exactly `size` bytes; false on end of file (the other side closed).
bool read_all(int fd, void* data, std::size_t size) {
  auto* at = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = read(fd, at, size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      die("read");
    }
    if (n == 0) {
      return false;
    }
    at += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Writes all of `count` buffers, resuming after partial writes (one syscall when it fits).
void write_all(int fd, std::array<iovec, 2> parts, int count) {
  iovec* at = parts.data();
  while (count > 0) {
    ssize_t n = writev(fd, at, count);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      die("writev");
    }
    while (count > 0 && static_cast<std::size_t>(n) >= at->iov_len) {
      n -= static_cast<ssize_t>(at->iov_len);
      ++at;
      --count;
    }
    if (count > 0) {
      at->iov_base = static_cast<char*>(at->iov_base) + n;
      at->iov_len -= static_cast<std::size_t>(n);
    }
  }
}

void write_all(int fd, const void* data, std::size_t size) {
  write_all(fd, {iovec{const_cast<void*>(data), size}, iovec{}}, 1);
}

// The two ends of a duplex byte stream, as seen by one side.
struct Ends {
  int in;
  int out;
};

// The server of a null case: answers (a, b) with a + b until the client closes.
void serve_null(Ends ends) {
  std::array<std::int64_t, 2> request{};
  while (read_all(ends.in, request.data(), sizeof request)) {
    const std::int64_t sum = request[0] + request[1];
    write_all(ends.out, &sum, sizeof sum);
  }
}

// The server of an array case: reads the length, then all the bytes into a buffer allocated
// once, and answers with the number of float64 received.
void serve_array(Ends ends, std::uint64_t max_bytes) {
  std::vector<double> buffer(max_bytes / sizeof(double));
  std::uint64_t size = 0;
  while (read_all(ends.in, &size, sizeof size)) {
    if (size > max_bytes || !read_all(ends.in, buffer.data(), size)) {
      return;
    }
    const auto count = static_cast<std::int64_t>(size / sizeof(double));
    write_all(ends.out, &count, sizeof count);
  }
}

// A transport: makes a connected pair of Ends (client's, server's) for one case.
struct Transport {
  std::string name;
  std::string note;
  bool (*connect)(Ends& client, Ends& server);
};

bool make_pipes(Ends& client, Ends& server) {
  std::array<int, 2> up{};
  std::array<int, 2> down{};
  if (pipe2(up.data(), O_CLOEXEC) != 0 || pipe2(down.data(), O_CLOEXEC) != 0) {
    die("pipe2");
  }
  // A larger pipe buffer is what a user moving megabytes would ask for; refused beyond
  // /proc/sys/fs/pipe-max-size, which is fine (the loops handle any size).
  for (const int fd : {up[1], down[1]}) {
    fcntl(fd, F_SETPIPE_SZ, 1 << 20);
  }
  client = {down[0], up[1]};
  server = {up[0], down[1]};
  return true;
}

bool make_socket_pair(Ends& client, Ends& server) {
  std::array<int, 2> fds{};
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()) != 0) {
    die("socketpair");
  }
  client = {fds[0], fds[0]};
  server = {fds[1], fds[1]};
  return true;
}

void close_ends(Ends ends) {
  close(ends.in);
  if (ends.out != ends.in) {
    close(ends.out);
  }
}

// Forks the server over a fresh pair, times `round_trip` on the client's ends, closes them
// (the server ends on end of file) and reaps the server.
template <typename Serve, typename RoundTrip>
bench::Figures run_case(const Transport& transport, int iterations, Serve serve,
                        RoundTrip round_trip) {
  Ends client{};
  Ends server{};
  transport.connect(client, server);
  bench::Peer peer([&] {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a client that crashed
    close_ends(client);
    serve(server);
  });
  close_ends(server);
  const bench::Figures figures = bench::measure(iterations, [&] { round_trip(client); });
  close_ends(client);
  return figures;
}

void run_transport(const Transport& transport, const bench::Options& options) {
  {
    const bench::Case c{transport.name + " ping-pong", transport.name, 16, transport.note};
    std::int64_t sum = 0;
    const bench::Figures figures =
        run_case(transport, options.iterations, serve_null, [&](Ends ends) {
          const std::array<std::int64_t, 2> request{sum, 1};
          write_all(ends.out, request.data(), sizeof request);
          std::int64_t reply = 0;
          if (!read_all(ends.in, &reply, sizeof reply) || reply != sum + 1) {
            std::fprintf(stderr, "bench_transports: wrong reply\n");
            std::exit(1);
          }
          sum = reply;
        });
    bench::report(c, options.iterations, figures);
  }
  for (const std::uint64_t bytes : bench::payload_sizes(options)) {
    const bench::Case c{transport.name + " array", transport.name, bytes, transport.note};
    const std::vector<double> data(bytes / sizeof(double), 1.0);
    const int iterations = bench::iterations_for(options, bytes);
    const bench::Figures figures = run_case(
        transport, iterations, [&](Ends ends) { serve_array(ends, bytes); },
        [&](Ends ends) {
          std::uint64_t size = bytes;
          write_all(ends.out,
                    {iovec{&size, sizeof size}, iovec{const_cast<double*>(data.data()), bytes}}, 2);
          std::int64_t count = 0;
          if (!read_all(ends.in, &count, sizeof count) ||
              count != static_cast<std::int64_t>(data.size())) {
            std::fprintf(stderr, "bench_transports: wrong reply\n");
            std::exit(1);
          }
        });
    bench::report(c, iterations, figures);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Options options = bench::parse_options(argc, argv, 20000);
  signal(SIGPIPE, SIG_IGN);  // a dead server shows as EPIPE, reported by die()
  bench::pin_to(0);
  run_transport({"pipe", "two pipes, 1 MiB pipe buffers", make_pipes}, options);
  run_transport({"unix socket", "socketpair(AF_UNIX, SOCK_STREAM)", make_socket_pair}, options);
  return 0;
}
