// libFuzzer target: the server's decoding of a request. Every input is a client's request (see
// dispatch_input.hpp for the byte map) laid out in a CommandBlock, a call frame and a heap, each
// allocated on its own and sized exactly, so that AddressSanitizer reports any access outside
// them; detail::dispatch then runs it against fuzz_functions(), with a real buffer table holding
// two buffers the request may name (and the buffers it makes itself). Besides surviving, the
// server must keep the rules of docs/SPEC.md sections 6.2, 6.6, 7.2 and 10.3 checked below; a
// broken rule aborts with a message.

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dispatch_input.hpp"
#include "fuzz_functions.hpp"
#include "shmrpc/detail/buffer_table.hpp"
#include "shmrpc/detail/call_buffers.hpp"
#include "shmrpc/detail/dispatch.hpp"
#include "shmrpc/layout.hpp"
#include "shmrpc/types.hpp"

namespace {

using shmrpc::FunctionDefinition;
using shmrpc::layout::Status;

// Owner words (pid in the low 32 bits, never 0): the input's client, and the owner of the two
// buffers every input may name.
constexpr std::uint64_t kFuzzClient = 0x0000'0001'0000'0042;
constexpr std::uint64_t kOtherClient = 0x0000'0002'0000'0043;

// The process's buffer table, with buffers 1 and 2 (kFixedBufferSizes) owned by kOtherClient.
// Its files are removed at exit, when the table is destroyed.
shmrpc::detail::BufferTable& buffer_table() {
  struct Fixed {
    Fixed()
        : table("fuzz-dispatch-" + std::to_string(::getpid()), 0600, static_cast<gid_t>(-1),
                shmrpc::fuzz::kBufferQuota) {
      for (const std::uint64_t size : shmrpc::fuzz::kFixedBufferSizes) {
        table.make(kOtherClient, size);
      }
    }
    shmrpc::detail::BufferTable table;
  };
  static Fixed fixed;
  return fixed.table;
}

[[noreturn]] void violation(const char* rule) {
  std::fprintf(stderr, "fuzz_dispatch: the server broke a rule: %s\n", rule);
  std::abort();
}

void require(bool ok, const char* rule) {
  if (!ok) {
    violation(rule);
  }
}

// Reads an input front to back; past its end every byte reads as zero.
class InputReader {
 public:
  InputReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  // Copies the next `count` bytes to `out`, zero-filling what the input lacks.
  void read(void* out, std::size_t count) {
    const std::size_t available = std::min(count, size_ - position_);
    if (available != 0) {
      std::memcpy(out, data_ + position_, available);
    }
    std::memset(static_cast<std::byte*>(out) + available, 0, count - available);
    position_ += available;
  }

  template <class T>
  T read() {
    T value{};
    read(&value, sizeof value);
    return value;
  }

  std::size_t remaining() const { return size_ - position_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t position_ = 0;
};

// Exactly `size` bytes at the given alignment (a channel's heap is 64-byte aligned, the frame 16):
// ASan's redzone starts right after the last byte.
class Buffer {
 public:
  Buffer(std::size_t size, std::size_t alignment)
      : alignment_(alignment),
        data_(static_cast<std::byte*>(::operator new (size, std::align_val_t{alignment}))),
        size_(size) {}
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { ::operator delete (data_, std::align_val_t{alignment_}); }

  std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  std::size_t alignment_;
  std::byte* data_;
  std::size_t size_;
};

bool is_terminated(const char* text, std::size_t capacity) {
  return std::memchr(text, '\0', capacity) != nullptr;
}

// True when `a` and `b` hold the same bytes outside [skip_begin, skip_end).
bool same_outside(const std::byte* a, const std::byte* b, std::size_t size, std::size_t skip_begin,
                  std::size_t skip_end) {
  skip_begin = std::min(skip_begin, size);
  skip_end = std::min(std::max(skip_end, skip_begin), size);
  // std::equal, not memcmp: the buffers of an empty frame may be null.
  return std::equal(a, a + skip_begin, b) && std::equal(a + skip_end, a + size, b + skip_end);
}

bool has_mutable_span(const FunctionDefinition& function) {
  for (const shmrpc::TypeInfo* type : function.argument_types) {
    if (type->is_mutable) {
      return true;
    }
  }
  return false;
}

// True when [offset, offset + size) lies inside [0, limit), without overflow.
bool fits(std::uint64_t offset, std::uint64_t size, std::uint64_t limit) {
  return offset <= limit && size <= limit - offset;
}

// A string, an ndarray or a vector of fixed-size elements: one piece, copied into the window or a
// buffer (or made in a buffer), which the slot's handle points to.
bool is_flat_result(const shmrpc::TypeInfo& type) {
  return type.kind == shmrpc::TypeKind::kString || type.kind == shmrpc::TypeKind::kNdArray ||
         (type.kind == shmrpc::TypeKind::kVector && shmrpc::is_fixed(type.element->kind));
}

// Section 6.7: the handles of a nested result (a vector of strings, a map, a tuple of a string
// and a vector or of ndarrays, ...), followed to every level as a client follows them. The pieces
// lie in one block, the result window or one new buffer; an ndarray in a new buffer of its own.
class ResultHandles {
 public:
  ResultHandles(const Buffer& heap, std::uint64_t window_offset, std::uint64_t window_capacity)
      : heap_(heap), window_offset_(window_offset), window_capacity_(window_capacity) {}

  // Checks the value of `type` whose slot bytes are at `bytes`, and all it points to.
  void check(const shmrpc::TypeInfo& type, const std::byte* bytes) {
    using shmrpc::TypeKind;
    switch (type.kind) {
      case TypeKind::kString:
        (void)piece(load<shmrpc::layout::VarSlot>(bytes), 1, 1);
        return;
      case TypeKind::kVector: {
        const shmrpc::TypeInfo& element = *type.element;
        const auto slot = load<shmrpc::layout::VarSlot>(bytes);
        const std::byte* data = piece(slot, element.size, element.align);
        for (std::uint64_t i = 0; element.indirect && i < slot.length; ++i) {
          check(element, data + i * element.size);
        }
        return;
      }
      case TypeKind::kMap: {
        const shmrpc::ValueLayout entry = shmrpc::map_entry_layout(type);
        const auto slot = load<shmrpc::layout::VarSlot>(bytes);
        const std::byte* data = piece(slot, entry.size, entry.align);
        for (std::uint64_t i = 0; i < slot.length; ++i) {
          members(type, data + i * entry.size);
        }
        return;
      }
      case TypeKind::kOptional: {
        const auto flag = std::to_integer<std::uint8_t>(bytes[0]);
        require(flag <= 1, "an optional result's flag is 0 or 1");
        if (flag == 1 && type.element->indirect) {
          check(*type.element, bytes + shmrpc::optional_value_offset(type.element->align));
        }
        return;
      }
      case TypeKind::kTuple:
        members(type, bytes);
        return;
      case TypeKind::kNdArray: {
        const auto slot = load<shmrpc::layout::NdSlot>(bytes);
        if (slot.data.length != 0 || slot.data.buffer != shmrpc::layout::kHeapBuffer) {
          require(slot.data.buffer > 2 && slot.data.offset == 0 &&
                      (!block_ || slot.data.buffer != *block_),
                  "an ndarray in a result is a new buffer of its own, the array at its start");
          (void)find(slot.data.buffer, 0, slot.data.length * type.element->size,
                     type.element->align);
        }
        return;
      }
      default:
        require(!type.indirect, "a result's handles are those of its type");
        return;
    }
  }

  // The pieces lie in the result window (so the server may have written all of it).
  bool in_heap() const { return block_ == shmrpc::layout::kHeapBuffer; }

 private:
  template <class T>
  static T load(const std::byte* bytes) {
    T value{};
    std::memcpy(&value, bytes, sizeof value);
    return value;
  }

  void members(const shmrpc::TypeInfo& type, const std::byte* bytes) {
    for (const shmrpc::MemberInfo& member : type.members) {
      if (member.type->indirect) {
        check(*member.type, bytes + member.value);
      }
    }
  }

  // `slot.length` elements of `size` bytes aligned to `align`: where they are.
  const std::byte* piece(const shmrpc::layout::VarSlot& slot, std::uint64_t size,
                         std::uint64_t align) {
    if (slot.length == 0) {
      require(slot.offset == 0 && slot.buffer == 0, "an empty piece's handle is {0, 0, 0}");
      return nullptr;
    }
    if (!block_) {
      block_ = slot.buffer;
      require(slot.buffer == shmrpc::layout::kHeapBuffer || slot.buffer > 2,
              "a nested result's block is the result window or a new buffer");
    }
    require(slot.buffer == *block_, "the pieces of a nested result lie in one block");
    require(slot.length <= UINT64_MAX / size, "a piece's length in bytes fits 64 bits");
    const std::uint64_t bytes = slot.length * size;
    if (slot.buffer != shmrpc::layout::kHeapBuffer) {
      return find(slot.buffer, slot.offset, bytes, align);
    }
    require(slot.offset >= window_offset_ &&
                fits(slot.offset - window_offset_, bytes, window_capacity_) &&
                fits(slot.offset, bytes, heap_.size()),
            "a piece of a nested result in the heap lies in the result window");
    require(slot.offset % align == 0, "a piece of a nested result is aligned");
    return heap_.data() + slot.offset;
  }

  const std::byte* find(std::uint64_t id, std::uint64_t offset, std::uint64_t bytes,
                        std::uint64_t align) {
    shmrpc::detail::BufferRange range;
    try {
      range = buffer_table().find(id, offset, bytes, align);
    } catch (const std::exception&) {
      violation("a handle of a result into a buffer lies inside it");
    }
    held_.push_back(range.mapping);
    return range.data;
  }

  const Buffer& heap_;
  std::uint64_t window_offset_;
  std::uint64_t window_capacity_;
  std::optional<std::uint64_t> block_;  // kHeapBuffer or a buffer id, once a piece is seen
  std::vector<std::shared_ptr<const shmrpc::Segment>> held_;
};

// The rules for a call that ended with `status`, given the request it was handed.
void check_outcome(const FunctionDefinition* function, Status status,
                   const shmrpc::layout::CommandBlock& block, std::uint64_t result_offset,
                   std::uint64_t result_capacity, const Buffer& frame, const Buffer& heap,
                   const std::vector<std::byte>& frame_before,
                   const std::vector<std::byte>& heap_before) {
  const auto code = static_cast<std::uint32_t>(status);
  require(
      code <= static_cast<std::uint32_t>(Status::kOutOfMemory) && status != Status::kServerStopping,
      "dispatch returns kOk, kRemoteException, kBadRequest, kResultTooLarge or kOutOfMemory");
  require(block.status == code, "CommandBlock::status holds the returned status");
  if (status != Status::kOk) {
    require(is_terminated(block.error_type.data(), block.error_type.size()),
            "error_type is NUL-terminated");
    require(is_terminated(block.error_message.data(), block.error_message.size()),
            "error_message is NUL-terminated");
  }
  const bool buffer_request = block.function_index == shmrpc::layout::kMakeBufferIndex ||
                              block.function_index == shmrpc::layout::kReleaseBufferIndex;
  if (buffer_request) {
    require(
        status == Status::kOk || status == Status::kBadRequest || status == Status::kOutOfMemory,
        "a buffer request ends in kOk, kBadRequest or kOutOfMemory");
    require(status != Status::kOk || block.function_index != shmrpc::layout::kMakeBufferIndex ||
                (result_capacity <= shmrpc::fuzz::kBufferQuota && block.result_offset > 2),
            "a buffer is made within the quota, under a new id");
    require(block.function_index != shmrpc::layout::kReleaseBufferIndex || status != Status::kOk,
            "no input's client owns a buffer it could release");
  } else if (function == nullptr) {
    require(status == Status::kBadRequest, "an index out of range is kBadRequest");
  } else if (status == Status::kBadRequest || status == Status::kResultTooLarge) {
    const std::string_view message(block.error_message.data());
    require(message.starts_with(function->name + ": "),
            "a kBadRequest / kResultTooLarge message starts with the function's name");
    require(block.error_type[0] == '\0', "kBadRequest / kResultTooLarge leave error_type empty");
  }

  // The server writes the result slot of the frame and nothing else of it.
  const std::size_t slot_begin = function != nullptr ? function->return_slot.offset : 0;
  const std::size_t slot_end = function != nullptr ? slot_begin + function->return_slot.size : 0;
  require(same_outside(frame.data(), frame_before.data(), frame.size(), slot_begin, slot_end),
          "the server writes no frame bytes but the result slot");

  // Only the result (at most the window) and what mutable spans point at may change in the heap.
  std::size_t written_begin = 0;
  std::size_t written_end = 0;
  if (status == Status::kOk && function != nullptr && function->return_type->indirect &&
      !is_flat_result(*function->return_type)) {
    ResultHandles handles(heap, result_offset, result_capacity);
    handles.check(*function->return_type, frame.data() + function->return_slot.offset);
    if (handles.in_heap()) {
      written_begin = result_offset;
      written_end = result_offset + result_capacity;  // inside the heap: window checked
    }
  } else if (status == Status::kOk && function != nullptr &&
             shmrpc::is_variable(function->return_type->kind)) {
    // Section 10.4: what a client accepts as a string or vector result.
    shmrpc::layout::VarSlot slot{};
    std::memcpy(&slot, frame.data() + function->return_slot.offset, sizeof slot);
    const shmrpc::TypeInfo* element = function->return_type->element;
    const std::uint64_t element_size = element != nullptr ? element->size : 1;
    if (slot.buffer != shmrpc::layout::kHeapBuffer) {
      require(slot.offset == 0 && slot.buffer > 2,
              "a result buffer is a new buffer, the result at its start");
      // An ndarray result is made in place in a buffer (ResultNdArray) whatever its size.
      require(function->return_type->kind == shmrpc::TypeKind::kNdArray ||
                  slot.length > result_capacity / element_size,
              "a copied result goes into a buffer only when it does not fit the window");
      buffer_table().find(slot.buffer, 0, slot.length * element_size, 1);  // throws if too small
    } else {
      require(slot.length == 0 || slot.offset == result_offset,
              "a string / vector result starts at the start of the result window");
      require(slot.length <= result_capacity / element_size,
              "a string / vector result fits the result window");
      written_begin = slot.offset;
      written_end = slot.offset + slot.length * element_size;  // inside the heap: window checked
    }
  }
  if (function == nullptr || !has_mutable_span(*function)) {
    require(same_outside(heap.data(), heap_before.data(), heap.size(), written_begin, written_end),
            "the server writes no heap bytes but the result and mutable spans");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<FunctionDefinition>& functions = shmrpc::fuzz::fuzz_functions();
  InputReader input(data, size);
  const std::uint32_t index = shmrpc::fuzz::function_index(input.read<std::uint8_t>());
  const std::uint64_t heap_size = shmrpc::fuzz::heap_size(input.read<std::uint8_t>());
  const auto result_offset = input.read<std::uint64_t>();
  const auto result_capacity = input.read<std::uint64_t>();
  const FunctionDefinition* function = index < functions.size() ? &functions[index] : nullptr;

  // Zeroed like a fresh channel, except the fields the server must write: garbage there shows
  // a status or an error text left unwritten.
  auto block = std::make_unique<shmrpc::layout::CommandBlock>();
  block->error_type.fill('?');
  block->error_message.fill('?');
  block->status = 0xDEAD'BEEFU;
  block->function_index = index;
  block->result_offset = result_offset;
  block->result_capacity = result_capacity;

  const Buffer frame(shmrpc::fuzz::frame_size(functions, index), 16);
  input.read(frame.data(), frame.size());
  const Buffer heap(heap_size, shmrpc::layout::kCacheLine);
  input.read(heap.data(), heap.size());
  const std::vector<std::byte> frame_before(frame.data(), frame.data() + frame.size());
  const std::vector<std::byte> heap_before(heap.data(), heap.data() + heap.size());

  shmrpc::CallBuffers buffers{.table = &buffer_table(), .client = 0, .held = {}, .made = {}};
  block->owner.store(kFuzzClient, std::memory_order_relaxed);
  const Status status =
      shmrpc::detail::dispatch(functions, *block, frame.data(), heap.data(), heap_size, &buffers);
  buffers.end_call(status == Status::kOk);
  require(buffers.client == kFuzzClient, "the buffers of a call belong to the channel's owner");
  check_outcome(function, status, *block, result_offset, result_capacity, frame, heap, frame_before,
                heap_before);
  // The next input starts from the two fixed buffers again.
  buffer_table().release_owner(kFuzzClient);
  require(buffer_table().count() == 2, "only the client's own buffers were released");
  return 0;
}
