// Baseline: ZeroMQ REQ/REP over ipc (a Unix socket in the abstract namespace, so that nothing
// is left in the file system even when a run is killed), between this process (the client,
// CPU 0) and a forked server (CPU 1), doing the work of every transport (bench/README.md):
//   null   the request is two int64 (a, b), the reply a + b
//   array  the request is N bytes of float64 (zmq_send copies the caller's buffer into a
//          message, as a plain user's code would), the reply the number of elements received
//
//   bench_zmq [--iterations N] [--smoke] [--max-bytes N]     (default 20000)

#include <sys/prctl.h>
#include <unistd.h>
#include <zmq.h>

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

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "bench_zmq: %s: %s\n", what, zmq_strerror(zmq_errno()));
  std::exit(1);
}

// The server: one REP socket; a 16-byte request is a null call, anything else an array.
// Runs until killed (the context is its own, made after the fork).
void serve(const std::string& endpoint) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a client that crashed
  void* context = zmq_ctx_new();
  void* socket = zmq_socket(context, ZMQ_REP);
  if (zmq_bind(socket, endpoint.c_str()) != 0) {
    die("zmq_bind");
  }
  zmq_msg_t request;
  zmq_msg_init(&request);
  for (;;) {
    if (zmq_msg_recv(&request, socket, 0) < 0) {
      if (zmq_errno() == EINTR) {
        continue;
      }
      die("zmq_msg_recv");
    }
    const std::size_t size = zmq_msg_size(&request);
    std::int64_t reply = 0;
    if (size == 2 * sizeof(std::int64_t)) {
      std::array<std::int64_t, 2> operands{};
      std::memcpy(operands.data(), zmq_msg_data(&request), sizeof operands);
      reply = operands[0] + operands[1];
    } else {
      reply = static_cast<std::int64_t>(size / sizeof(double));
    }
    if (zmq_send(socket, &reply, sizeof reply, 0) < 0) {
      die("zmq_send");
    }
  }
}

// The client's side of one case: a REQ socket in a context of its own, so that no ZeroMQ
// thread exists when the next case forks its server.
class Requester {
 public:
  explicit Requester(const std::string& endpoint)
      : context_(zmq_ctx_new()), socket_(zmq_socket(context_, ZMQ_REQ)) {
    // REQ connects before the server binds, and retries until it does.
    if (zmq_connect(socket_, endpoint.c_str()) != 0) {
      die("zmq_connect");
    }
  }
  Requester(const Requester&) = delete;
  Requester& operator=(const Requester&) = delete;
  ~Requester() {
    const int linger = 0;
    zmq_setsockopt(socket_, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(socket_);
    zmq_ctx_term(context_);
  }

  // Sends `size` bytes and returns the int64 reply.
  std::int64_t call(const void* data, std::size_t size) {
    if (zmq_send(socket_, data, size, 0) < 0) {
      die("zmq_send");
    }
    std::int64_t reply = 0;
    if (zmq_recv(socket_, &reply, sizeof reply, 0) != sizeof reply) {
      die("zmq_recv");
    }
    return reply;
  }

 private:
  void* context_;
  void* socket_;
};

}  // namespace

int main(int argc, char** argv) {
  const bench::Options options = bench::parse_options(argc, argv, 20000);
  bench::pin_to(0);
  const std::string endpoint = "ipc://@shmrpc-bench-zmq-" + std::to_string(getpid());
  const std::string note = "REQ/REP, ipc (abstract Unix socket)";
  {
    const bench::Case c{"zeromq ping-pong", "zeromq", 16, note};
    const bench::Peer server([&] { serve(endpoint); });
    Requester requester(endpoint);
    std::int64_t sum = 0;
    const bench::Figures figures = bench::measure(options.iterations, [&] {
      const std::array<std::int64_t, 2> request{sum, 1};
      const std::int64_t reply = requester.call(request.data(), sizeof request);
      if (reply != sum + 1) {
        std::fprintf(stderr, "bench_zmq: wrong reply\n");
        std::exit(1);
      }
      sum = reply;
    });
    bench::report(c, options.iterations, figures);
  }
  for (const std::uint64_t bytes : bench::payload_sizes(options)) {
    const bench::Case c{"zeromq array", "zeromq", bytes, note};
    const std::vector<double> data(bytes / sizeof(double), 1.0);
    const int iterations = bench::iterations_for(options, bytes);
    const bench::Peer server([&] { serve(endpoint); });
    Requester requester(endpoint);
    const bench::Figures figures = bench::measure(iterations, [&] {
      if (requester.call(data.data(), bytes) != static_cast<std::int64_t>(data.size())) {
        std::fprintf(stderr, "bench_zmq: wrong reply\n");
        std::exit(1);
      }
    });
    bench::report(c, iterations, figures);
  }
  return 0;
}
