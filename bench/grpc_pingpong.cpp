// Baseline: gRPC unary calls over a Unix socket (abstract namespace, so that nothing is left in
// the file system even when a run is killed), synchronous server and client stub, between this
// process (the client, CPU 0) and a forked server (CPU 1). The work is every transport's
// (bench/README.md):
//   null   Add(a, b) returns a + b
//   array  Count(N bytes of float64 in a bytes field, copied from the caller's buffer into the
//          request as a user would) returns the number of elements received
//   stream Sequence(n) streams 0, 1, ..., n - 1 (server streaming, one int64 message each),
//          n as in shmrpc's stream case (bench/stream_call.cpp)
//
//   bench_grpc [--iterations N] [--smoke] [--max-bytes N]     (default 20000)
//
// The server is forked once, before this process touches gRPC: gRPC's threads do not survive a
// fork.

#include <grpcpp/grpcpp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"
#include "pingpong.grpc.pb.h"

namespace {

namespace pb = shmrpc::bench;

class PingPongService final : public pb::PingPong::Service {
 public:
  grpc::Status Add(grpc::ServerContext* /*context*/, const pb::AddRequest* request,
                   pb::AddReply* reply) override {
    reply->set_sum(request->a() + request->b());
    return grpc::Status::OK;
  }
  grpc::Status Count(grpc::ServerContext* /*context*/, const pb::ArrayRequest* request,
                     pb::CountReply* reply) override {
    reply->set_count(static_cast<std::int64_t>(request->data().size() / sizeof(double)));
    return grpc::Status::OK;
  }
  grpc::Status Sequence(grpc::ServerContext* /*context*/, const pb::SequenceRequest* request,
                        grpc::ServerWriter<pb::Element>* writer) override {
    pb::Element element;
    for (std::int64_t i = 0; i < request->n(); ++i) {
      element.set_value(i);
      if (!writer->Write(element)) {
        break;  // the client has gone
      }
    }
    return grpc::Status::OK;
  }
};

// Runs the server until killed.
void serve(const std::string& address) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a client that crashed
  PingPongService service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(INT_MAX);  // the 256 MiB and 1 GiB cases
  builder.SetMaxSendMessageSize(INT_MAX);
  const std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "bench_grpc: the server could not listen on %s\n", address.c_str());
    std::exit(1);
  }
  server->Wait();
}

[[noreturn]] void fail(const char* what, const grpc::Status& status) {
  std::fprintf(stderr, "bench_grpc: %s: %s\n", what, status.error_message().c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Options options = bench::parse_options(argc, argv, 20000);
  bench::pin_to(0);
  const std::string address = "unix-abstract:shmrpc-bench-grpc-" + std::to_string(getpid());
  const std::string note = "unary, sync, Unix socket (abstract), protobuf";
  const bench::Peer server([&] { serve(address); });

  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(INT_MAX);
  arguments.SetMaxSendMessageSize(INT_MAX);
  const auto channel =
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(30))) {
    std::fprintf(stderr, "bench_grpc: no server on %s\n", address.c_str());
    return 1;
  }
  const std::unique_ptr<pb::PingPong::Stub> stub = pb::PingPong::NewStub(channel);

  {
    const bench::Case c{"grpc ping-pong", "grpc", 16, note};
    std::int64_t sum = 0;
    const bench::Figures figures = bench::measure(options.iterations, [&] {
      grpc::ClientContext context;
      pb::AddRequest request;
      request.set_a(sum);
      request.set_b(1);
      pb::AddReply reply;
      const grpc::Status status = stub->Add(&context, request, &reply);
      if (!status.ok() || reply.sum() != sum + 1) {
        fail("Add", status);
      }
      sum = reply.sum();
    });
    bench::report(c, options.iterations, figures);
  }
  {
    const bench::Case c{"grpc server stream of int64", "grpc stream", sizeof(std::int64_t),
                        "server streaming, sync, Unix socket (abstract), protobuf"};
    const auto n = static_cast<std::int64_t>(bench::stream_elements(options));
    // As many streams as stream_call times of shmrpc's (its default --iterations).
    const int streams = std::max(bench::kRounds, std::min(options.iterations, 100));
    const bench::Figures figures = bench::measure(streams, [&] {
      grpc::ClientContext context;
      pb::SequenceRequest request;
      request.set_n(n);
      const std::unique_ptr<grpc::ClientReader<pb::Element>> reader =
          stub->Sequence(&context, request);
      pb::Element element;
      std::int64_t sum = 0;
      while (reader->Read(&element)) {
        sum += element.value();
      }
      if (const grpc::Status status = reader->Finish(); !status.ok() || sum != n * (n - 1) / 2) {
        fail("Sequence", status);
      }
    });
    bench::report_stream(c, streams, static_cast<std::uint64_t>(n), figures);
  }
  for (const std::uint64_t bytes : bench::payload_sizes(options)) {
    const bench::Case c{"grpc array", "grpc", bytes, note};
    const std::vector<double> data(bytes / sizeof(double), 1.0);
    const int iterations = bench::iterations_for(options, bytes);
    pb::ArrayRequest request;
    const auto count = [&] {
      grpc::ClientContext context;
      request.set_data(reinterpret_cast<const char*>(data.data()), bytes);
      pb::CountReply reply;
      const grpc::Status status = stub->Count(&context, request, &reply);
      return status.ok() && reply.count() == static_cast<std::int64_t>(data.size())
                 ? grpc::Status::OK
                 : (status.ok() ? grpc::Status(grpc::StatusCode::INTERNAL, "wrong count") : status);
    };
    // A size gRPC or protobuf refuses (messages are limited to 2 GiB) is a row of the table
    // saying so, not a failed run.
    if (const grpc::Status probe = count(); !probe.ok()) {
      bench::report_skipped(c, "gRPC refused it: " + probe.error_message());
      continue;
    }
    const bench::Figures figures = bench::measure(iterations, [&] {
      if (const grpc::Status status = count(); !status.ok()) {
        fail("Count", status);
      }
    });
    bench::report(c, iterations, figures);
  }
  return 0;
}
