#include "inspect.hpp"

#include <pybind11/stl.h>  // every file that converts STL types must see the same casters

#include <string>

#include "shmrpc/detail/buffer_table.hpp"
#include "shmrpc/inspect.hpp"
#include "shmrpc/schema_json.hpp"

namespace py = pybind11;

namespace shmrpc::python {
namespace {

const char* liveness_name(Liveness liveness) {
  switch (liveness) {
    case Liveness::kNone:
      return "none";
    case Liveness::kStarting:
      return "starting";
    case Liveness::kAlive:
      return "alive";
    case Liveness::kDead:
      return "dead";
  }
  return "unknown";
}

const char* state_name(layout::ServerState state) {
  switch (state) {
    case layout::ServerState::kStarting:
      return "starting";
    case layout::ServerState::kReady:
      return "ready";
    case layout::ServerState::kStopping:
      return "stopping";
    case layout::ServerState::kStopped:
      return "stopped";
  }
  return "unknown";
}

const char* call_state_name(layout::CallState state) {
  switch (state) {
    case layout::CallState::kIdle:
      return "idle";
    case layout::CallState::kRequest:
      return "request";
    case layout::CallState::kRunning:
      return "running";
    case layout::CallState::kDone:
      return "done";
    case layout::CallState::kFailed:
      return "failed";
  }
  return "unknown";
}

const char* outcome_name(CleanOutcome outcome) {
  switch (outcome) {
    case CleanOutcome::kRemoved:
      return "removed";
    case CleanOutcome::kAlive:
      return "alive";
    case CleanOutcome::kStarting:
      return "starting";
    case CleanOutcome::kUnknown:
      return "unknown";
    case CleanOutcome::kGone:
      return "gone";
    case CleanOutcome::kReplaced:
      return "replaced";
  }
  return "unknown";
}

py::dict inspection_dict(const SegmentInspection& seen) {
  py::list channels;
  for (const ChannelInspection& channel : seen.channels) {
    py::dict entry;
    entry["index"] = channel.index;
    entry["owner_pid"] = channel.owner_pid;
    entry["owner_alive"] = channel.owner_alive;
    entry["state"] = call_state_name(channel.call_state);
    entry["function_index"] = channel.function_index;
    channels.append(entry);
  }
  py::dict result;
  result["name"] = seen.name;
  result["file_size"] = seen.file_size;
  result["modified_unix_ms"] = seen.modified_unix_ms;
  result["liveness"] = liveness_name(seen.liveness);
  result["known_format"] = seen.known_format;
  result["format_version"] = seen.format_version;
  result["problem"] = seen.problem;
  result["state"] = seen.known_format ? py::object(py::str(state_name(seen.state))) : py::none();
  result["server_pid"] = seen.server_pid;
  result["server_start_time"] = seen.server_start_time;
  result["created_unix_ms"] = seen.created_unix_ms;
  result["function_count"] = seen.function_count;
  result["channel_count"] = seen.channel_count;
  result["channels_in_use"] = seen.channels_in_use;
  result["segment_size"] = seen.segment_size;
  result["channels"] = channels;
  return result;
}

py::list stats_list(const std::string& name) {
  const SegmentInspector inspector(name);
  const Schema schema = inspector.schema();
  const std::vector<FunctionStats> stats = inspector.stats();
  py::list result;
  for (std::size_t i = 0; i < stats.size() && i < schema.functions().size(); ++i) {
    const FunctionStats& s = stats[i];
    py::dict entry;
    entry["name"] = schema.functions()[i].name;
    entry["calls"] = s.calls;
    entry["errors"] = s.errors;
    entry["timed"] = s.timed;
    entry["total_ns"] = s.total_ns;
    entry["max_ns"] = s.max_ns;
    entry["buckets"] = py::cast(std::vector<std::uint64_t>(s.buckets.begin(), s.buckets.end()));
    entry["streams"] = schema.functions()[i].streams;
    entry["elements"] = s.elements;
    entry["element_bytes"] = s.element_bytes;
    result.append(entry);
  }
  return result;
}

}  // namespace

void bind_inspect(py::module_& module) {
  module.def("list_segments", &list_segments, "Names of the shmrpc segments in /dev/shm, sorted.");
  module.def(
      "inspect_segment",
      [](const std::string& name) { return inspection_dict(inspect_segment(name)); },
      py::arg("name"),
      "Header, liveness and channels of a segment, read-only; liveness 'none' when there is "
      "none.");
  module.def(
      "segment_schema_json",
      [](const std::string& name) {
        const SegmentInspector inspector(name);
        return schema_json(inspector.schema(), name);
      },
      py::arg("name"), "The server's schema as a JSON document.");
  module.def("segment_stats", &stats_list, py::arg("name"),
             "Call statistics per function, summed over channels; for a function that streams, "
             "also the elements it wrote and their bytes.");
  module.def(
      "remove_dead_segment",
      [](const std::string& name, std::int64_t starting_grace_ms) {
        return outcome_name(remove_dead_segment(name, starting_grace_ms));
      },
      py::arg("name"), py::arg("starting_grace_ms"),
      "Unlinks the segment if its server is dead; returns what it did.");
  module.def("remove_buffer_leftovers", &detail::BufferTable::remove_leftovers, py::arg("name"),
             "Unlinks every buffer file shmrpc.NAME@<digits> and returns how many; call it only "
             "once no live server holds the name.");
  module.def("kinds_json", &kinds_json,
             "The wire-type kinds table (include/shmrpc/type_kinds.hpp) as a JSON object.");
  module.attr("STATS_BUCKETS") = layout::kStatsBuckets;
  module.attr("FORMAT_VERSION") = layout::kFormatVersion;
}

}  // namespace shmrpc::python
