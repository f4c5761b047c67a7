// The read-only inspection of segments (with the call statistics a server keeps) and the schema
// JSON that the shmrpc command line shows.

#include <gtest/gtest.h>

#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include "server_process.hpp"
#include "shmrpc/client.hpp"
#include "shmrpc/detail/metadata_writer.hpp"
#include "shmrpc/detail/stats.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/inspect.hpp"
#include "shmrpc/schema_json.hpp"

namespace shmrpc::test {
namespace {

std::uint32_t index_of(const Schema& schema, std::string_view name) {
  const FunctionSchema* function = schema.find(name);
  EXPECT_NE(function, nullptr) << name;
  return function != nullptr ? function->index : 0;
}

}  // namespace

TEST(StatsTest, ServerCountsEveryCallPerFunction) {
  ServerProcess server(unique_name("stats"), define_test_functions);
  {
    Client client(server.name());
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(client.call<std::int64_t>("add", i, 1), i + 1);
    }
    EXPECT_THROW(client.call("fail", "boom"), RemoteError);
    EXPECT_THROW(client.call("fail", "again"), RemoteError);
  }
  const SegmentInspector inspector(server.name());
  const Schema schema = inspector.schema();
  const std::vector<FunctionStats> stats = inspector.stats();
  ASSERT_EQ(stats.size(), schema.functions().size());
  const FunctionStats& add = stats.at(index_of(schema, "add"));
  EXPECT_EQ(add.calls, 5U);
  EXPECT_EQ(add.errors, 0U);
  EXPECT_EQ(add.timed, 5U);
  EXPECT_GT(add.total_ns, 0U);
  std::uint64_t in_buckets = 0;
  for (const std::uint64_t count : add.buckets) {
    in_buckets += count;
  }
  EXPECT_EQ(in_buckets, 5U);
  const FunctionStats& fail = stats.at(index_of(schema, "fail"));
  EXPECT_EQ(fail.calls, 2U);
  EXPECT_EQ(fail.errors, 2U);
  EXPECT_EQ(stats.at(index_of(schema, "sleep_ms")).calls, 0U);
}

TEST(InspectTest, ListsALiveServerWithItsPidAndChannels) {
  ServerProcess server(unique_name("inspect"), define_test_functions, {.channels = 3});
  Client client(server.name());
  const std::vector<std::string> names = list_segments();
  EXPECT_NE(std::find(names.begin(), names.end(), server.name()), names.end());
  const SegmentInspection seen = inspect_segment(server.name());
  EXPECT_EQ(seen.liveness, Liveness::kAlive);
  EXPECT_TRUE(seen.known_format);
  EXPECT_TRUE(seen.problem.empty()) << seen.problem;
  EXPECT_EQ(seen.format_version, layout::kFormatVersion);
  EXPECT_EQ(seen.server_pid, server.pid());
  EXPECT_EQ(seen.state, layout::ServerState::kReady);
  EXPECT_EQ(seen.channel_count, 3U);
  EXPECT_EQ(seen.channels_in_use, 1U);
  ASSERT_EQ(seen.channels.size(), 3U);
  EXPECT_EQ(seen.channels.at(client.channel()).owner_pid, ::getpid());
  EXPECT_TRUE(seen.channels.at(client.channel()).owner_alive);
  EXPECT_EQ(seen.file_size, seen.segment_size);
  EXPECT_EQ(remove_dead_segment(server.name(), 0), CleanOutcome::kAlive);
}

TEST(InspectTest, RemovesOnlyTheSegmentOfADeadServer) {
  ServerProcess server(unique_name("dead"), define_test_functions);
  server.kill(SIGKILL);
  EXPECT_EQ(inspect_segment(server.name()).liveness, Liveness::kDead);
  EXPECT_EQ(remove_dead_segment(server.name(), 0), CleanOutcome::kRemoved);
  EXPECT_EQ(inspect_segment(server.name()).liveness, Liveness::kNone);
  EXPECT_EQ(remove_dead_segment(server.name(), 0), CleanOutcome::kGone);
}

TEST(InspectTest, MissingSegmentIsNoServer) {
  EXPECT_EQ(inspect_segment(unique_name("missing")).liveness, Liveness::kNone);
  EXPECT_THROW(SegmentInspector(unique_name("missing")), NoServerError);
}

TEST(SchemaJsonTest, DescribesFunctionsAndEscapesStrings) {
  FunctionRegistry registry;
  registry.def(
      "add", [](std::int64_t a, std::int64_t b) { return a + b; }, {"a", "b"},
      "Sum of \"a\" and b.\n\tTab\x01");
  registry.def("scale", [](std::span<double> values, double) { (void)values; },
               {"values", "factor"});
  registry.def("first", [](const std::array<float, 3>& v) { return std::vector<float>{v[0]}; },
               {"v"});
  const detail::SegmentPlan plan = detail::plan_segment(registry.functions(), 1, 8192);
  std::vector<std::uint64_t> words(plan.segment_size / 8 + 1);
  auto* segment = reinterpret_cast<std::byte*>(words.data());
  detail::write_segment(segment, plan, detail::current_process());
  const std::string json = schema_json(Schema::read(segment, plan.segment_size, "demo"), "demo");
  EXPECT_TRUE(
      json.starts_with("{\n  \"format\": \"shmrpc-schema\",\n  \"format_version\": 1,\n"
                       "  \"server\": \"demo\",\n  \"layout_hash\": \"0x"));
  EXPECT_NE(json.find("  \"types\": {},\n  \"kinds\": {\n"), std::string::npos);
  // The kinds table (type_kinds.hpp) closes the document, one entry per kind.
  EXPECT_NE(json.find(R"("int16": {
      "class": "signed_integer",
      "storage": "fixed",
      "size": 2,
      "min": -32768,
      "max": 32767,
      "numpy": "int16",
      "python": "int",
      "cxx": "std::int16_t"
    })"),
            std::string::npos);
  EXPECT_TRUE(json.ends_with("      \"cxx\": \"\"\n    }\n  }\n}\n"));
  EXPECT_NE(json.find(R"("doc": "Sum of \"a\" and b.\n\tTab\u0001")"), std::string::npos);
  EXPECT_NE(json.find(R"("signature": "add(a: int64, b: int64) -> int64")"), std::string::npos);
  EXPECT_NE(json.find("\"kind\": \"int64\",\n"), std::string::npos);
  EXPECT_NE(json.find("\"mutable\": true"), std::string::npos);
  EXPECT_NE(json.find("\"count\": 3"), std::string::npos);
  EXPECT_NE(json.find("\"kind\": \"vector\""), std::string::npos);
  EXPECT_NE(json.find("\"kind\": \"void\",\n"), std::string::npos);
  EXPECT_EQ(json, schema_json(Schema::read(segment, plan.segment_size, "demo"), "demo"));
}

}  // namespace shmrpc::test
