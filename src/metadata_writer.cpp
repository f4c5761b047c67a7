#include "shmrpc/detail/metadata_writer.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "shmrpc/detail/hash.hpp"
#include "shmrpc/detail/stats.hpp"
#include "shmrpc/layout.hpp"

namespace shmrpc::detail {
namespace {

constexpr std::uint64_t kMinHeapSize = 4096;

class StringTable {
 public:
  StringTable() { bytes_.push_back('\0'); }  // offset 0 is the empty string

  std::uint32_t add(const std::string& text) {
    if (text.empty()) {
      return 0;
    }
    const auto [it, inserted] =
        offsets_.try_emplace(text, static_cast<std::uint32_t>(bytes_.size()));
    if (inserted) {
      bytes_.insert(bytes_.end(), text.begin(), text.end());
      bytes_.push_back('\0');
    }
    return it->second;
  }

  const std::vector<char>& bytes() const noexcept { return bytes_; }

 private:
  std::vector<char> bytes_;
  std::unordered_map<std::string, std::uint32_t> offsets_;
};

class TypeTable {
 public:
  explicit TypeTable(StringTable& strings) : strings_(strings) {}

  // Index of `type`, adding it (after its element) the first time it is seen.
  std::uint32_t add(const TypeInfo& type) {
    for (std::uint32_t i = 0; i < infos_.size(); ++i) {
      if (same_type(*infos_[i], type)) {
        return i;
      }
    }
    const std::uint32_t element = type.element != nullptr ? add(*type.element) : layout::kNoType;
    std::vector<layout::MemberDesc> members;
    for (const MemberInfo& member : type.members) {
      members.push_back({strings_.add(member.name),
                         member.type != nullptr ? add(*member.type) : layout::kNoType,
                         member.value});
    }
    layout::TypeDesc desc{};
    desc.kind = static_cast<std::uint8_t>(type.kind);
    desc.flags = type.is_mutable ? layout::kTypeMutable : 0;
    desc.element = element;
    desc.count = members.empty() ? type.count : members.size();
    desc.size = type.size;
    desc.align = type.align;
    desc.name = strings_.add(type.name.empty() ? type_name(type) : type.name);
    desc.first_member = members.empty() ? 0 : static_cast<std::uint32_t>(members_.size());
    members_.insert(members_.end(), members.begin(), members.end());
    infos_.push_back(&type);
    descs_.push_back(desc);
    return static_cast<std::uint32_t>(descs_.size() - 1);
  }

  const std::vector<layout::TypeDesc>& descs() const noexcept { return descs_; }
  const std::vector<layout::MemberDesc>& members() const noexcept { return members_; }

 private:
  StringTable& strings_;
  std::vector<const TypeInfo*> infos_;
  std::vector<layout::TypeDesc> descs_;
  std::vector<layout::MemberDesc> members_;
};

template <class T>
void append(std::vector<std::byte>& out, const std::vector<T>& items) {
  const auto* bytes = reinterpret_cast<const std::byte*>(items.data());
  out.insert(out.end(), bytes, bytes + items.size() * sizeof(T));
}

void pad_to(std::vector<std::byte>& out, std::uint64_t base, std::uint64_t alignment) {
  out.resize(layout::align_up(base + out.size(), alignment) - base);
}

}  // namespace

SegmentPlan plan_segment(const std::vector<FunctionDefinition>& functions,
                         std::uint32_t channel_count, std::uint64_t arena_size) {
  if (channel_count == 0) {
    throw std::invalid_argument("shmrpc: a server needs at least one channel");
  }
  StringTable strings;
  TypeTable types(strings);
  std::vector<layout::FunctionMetadata> function_table;
  std::vector<layout::ArgumentMetadata> argument_table;
  LayoutHasher layout_hash;
  std::uint32_t frame_size = 0;
  for (const FunctionDefinition& function : functions) {
    const std::string signature = function.signature();
    const std::string layout_key =
        format_layout_key(function.name, function.argument_names, function.argument_types,
                          *function.return_type, function.streams);
    layout::FunctionMetadata entry{};
    entry.name = strings.add(function.name);
    entry.doc = strings.add(function.doc);
    entry.first_argument = static_cast<std::uint32_t>(argument_table.size());
    entry.arity = static_cast<std::uint32_t>(function.argument_types.size());
    entry.return_type = types.add(*function.return_type);
    entry.return_offset = function.return_slot.offset;
    entry.return_size = function.return_slot.size;
    entry.frame_size = function.frame_size;
    entry.signature_hash = fnv1a(layout_key);
    entry.signature = strings.add(signature);
    entry.flags = function.streams ? layout::kFunctionStreams : 0;
    for (std::size_t i = 0; i < function.argument_types.size(); ++i) {
      argument_table.push_back(
          {strings.add(function.argument_names[i]), types.add(*function.argument_types[i]),
           function.argument_slots[i].offset, function.argument_slots[i].size});
    }
    function_table.push_back(entry);
    layout_hash.add(layout_key);
    frame_size = std::max(frame_size, function.frame_size);
  }

  SegmentPlan plan;
  constexpr std::uint64_t kBase = sizeof(layout::SegmentHeader);
  std::vector<std::byte>& out = plan.metadata;
  plan.function_table_offset = kBase;
  plan.function_count = static_cast<std::uint32_t>(function_table.size());
  append(out, function_table);
  plan.argument_table_offset = kBase + out.size();
  plan.argument_count = static_cast<std::uint32_t>(argument_table.size());
  append(out, argument_table);
  plan.type_table_offset = kBase + out.size();
  plan.type_count = static_cast<std::uint32_t>(types.descs().size());
  append(out, types.descs());
  plan.member_table_offset = kBase + out.size();
  plan.member_count = static_cast<std::uint32_t>(types.members().size());
  append(out, types.members());
  plan.string_table_offset = kBase + out.size();
  plan.string_table_size = static_cast<std::uint32_t>(strings.bytes().size());
  const auto* string_bytes = reinterpret_cast<const std::byte*>(strings.bytes().data());
  out.insert(out.end(), string_bytes, string_bytes + strings.bytes().size());
  pad_to(out, kBase, layout::kCacheLine);

  plan.stats_offset = kBase + out.size();
  plan.stats_size = stats_region_size(channel_count, plan.function_count);

  ChannelGeometry& channels = plan.channels;
  channels.table_offset = plan.stats_offset + plan.stats_size;
  channels.count = channel_count;
  channels.frame_size = frame_size;
  channels.heap_offset = layout::align_up(layout::kFrameOffset + frame_size, layout::kCacheLine);
  const std::uint64_t arena = layout::align_up(arena_size, layout::kCacheLine);
  const std::uint64_t frame_part = channels.heap_offset - layout::kFrameOffset;
  if (arena < frame_part + kMinHeapSize) {
    throw std::invalid_argument(
        fmt::format("shmrpc: arena_size {} bytes leaves less than {} bytes of heap after the "
                    "{}-byte call frame",
                    arena_size, kMinHeapSize, frame_part));
  }
  // Whole cache lines of heap, so that every channel starts on a line.
  channels.heap_size = (arena - frame_part) / layout::kCacheLine * layout::kCacheLine;
  channels.stride = channels.heap_offset + channels.heap_size;
  plan.segment_size = channels.table_offset + channels.stride * channel_count;
  plan.layout_hash = layout_hash.value();
  return plan;
}

void write_segment(std::byte* segment, const SegmentPlan& plan, ProcessIdentity server) {
  auto& header = *reinterpret_cast<layout::SegmentHeader*>(segment);
  header.format_version = layout::kFormatVersion;
  header.header_size = sizeof(layout::SegmentHeader);
  header.segment_size = plan.segment_size;
  header.layout_hash = plan.layout_hash;
  header.function_table_offset = plan.function_table_offset;
  header.function_count = plan.function_count;
  header.argument_count = plan.argument_count;
  header.argument_table_offset = plan.argument_table_offset;
  header.type_table_offset = plan.type_table_offset;
  header.type_count = plan.type_count;
  header.member_table_offset = plan.member_table_offset;
  header.member_count = plan.member_count;
  header.string_table_size = plan.string_table_size;
  header.string_table_offset = plan.string_table_offset;
  header.channel_table_offset = plan.channels.table_offset;
  header.channel_count = plan.channels.count;
  header.frame_size = plan.channels.frame_size;
  header.channel_stride = plan.channels.stride;
  header.heap_offset = plan.channels.heap_offset;
  header.heap_size = plan.channels.heap_size;
  header.stats_offset = plan.stats_offset;
  header.stats_size = plan.stats_size;
  header.stats_record_size = sizeof(layout::StatsRecord);
  header.stats_bucket_count = layout::kStatsBuckets;
  header.server_pid = server.pid;
  header.server_start_time = server.start_time;
  header.server_pid_namespace = detail::current_pid_namespace();
  header.created_unix_ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  std::memcpy(segment + sizeof(layout::SegmentHeader), plan.metadata.data(), plan.metadata.size());
  // The magic number goes last, with release: a reader that sees it also finds the server's
  // identity. Readers trust the rest only after state becomes kReady (release in the server,
  // acquire in readers).
  std::atomic_ref<std::uint64_t>(header.magic).store(layout::kMagic, std::memory_order_release);
}

}  // namespace shmrpc::detail
