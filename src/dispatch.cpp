#include "shmrpc/detail/dispatch.hpp"

#include <cxxabi.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <typeinfo>

#include "shmrpc/call_context.hpp"
#include "shmrpc/detail/call_buffers.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/stream.hpp"

namespace shmrpc::detail {
namespace {

using layout::Status;

std::string demangle(const char* mangled) {
  int status = 0;
  const std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

template <std::size_t N>
void copy_text(std::array<char, N>& destination, const std::string& text) noexcept {
  const std::size_t n = std::min(text.size(), N - 1);
  std::memcpy(destination.data(), text.data(), n);
  destination.at(n) = '\0';
}

// Requests that run no function: a client asks for a buffer, or gives one back. Their operands
// lie in the command block (result_offset, result_capacity), never in the frame, so that a client
// may make a buffer while it writes a call's arguments.
Status make_buffer(layout::CommandBlock& block, CallBuffers& buffers) {
  const std::uint64_t size = block.result_capacity;
  if (size == 0) {
    write_failure(block, Status::kBadRequest, "",
                  "a buffer of 0 bytes was asked for; an empty value needs no buffer");
    return Status::kBadRequest;
  }
  block.result_offset = buffers.table->make(buffers.client, size).id;
  block.status = static_cast<std::uint32_t>(Status::kOk);
  return Status::kOk;
}

Status release_buffer(layout::CommandBlock& block, CallBuffers& buffers) {
  buffers.table->release(block.result_offset, buffers.client);
  block.status = static_cast<std::uint32_t>(Status::kOk);
  return Status::kOk;
}

Status buffer_request(layout::CommandBlock& block, CallBuffers* buffers, std::uint32_t index) {
  if (buffers == nullptr || buffers->table == nullptr) {
    write_failure(block, Status::kBadRequest, "", "this server makes no buffers");
    return Status::kBadRequest;
  }
  try {
    return index == layout::kMakeBufferIndex ? make_buffer(block, *buffers)
                                             : release_buffer(block, *buffers);
  } catch (const BadRequest& error) {
    write_failure(block, Status::kBadRequest, "", error.what());
    return Status::kBadRequest;
  } catch (const OutOfSharedMemoryError& error) {
    write_failure(block, Status::kOutOfMemory, "", error.what());
    return Status::kOutOfMemory;
  } catch (const std::length_error& error) {
    // More bytes than a file can hold: no memory could satisfy it either.
    write_failure(block, Status::kOutOfMemory, "", error.what());
    return Status::kOutOfMemory;
  } catch (const std::exception& error) {
    write_failure(block, Status::kRemoteException, demangle(typeid(error).name()), error.what());
    return Status::kRemoteException;
  }
}

// Per thread by design: a server function finds its call's buffers without a parameter.
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables)
thread_local CallBuffers* t_current_call = nullptr;

}  // namespace

CallBuffers* current_call_buffers() noexcept {
  return t_current_call;
}

CurrentCallScope::CurrentCallScope(CallBuffers* buffers) noexcept : previous_(t_current_call) {
  t_current_call = buffers;
}

CurrentCallScope::~CurrentCallScope() {
  t_current_call = previous_;
}

void write_failure(layout::CommandBlock& block, Status status, const std::string& type,
                   const std::string& message) noexcept {
  block.status = static_cast<std::uint32_t>(status);
  copy_text(block.error_type, type);
  copy_text(block.error_message, message);
}

Status dispatch(const std::vector<FunctionDefinition>& functions, layout::CommandBlock& block,
                std::byte* frame, std::byte* heap, std::uint64_t heap_size, CallBuffers* buffers,
                const ServingChannel& channel) noexcept {
  // Each field is read once: the client could rewrite it while the function runs.
  CallContext context(block, channel.segment, channel.index);
  const CallFrame call{.frame = frame,
                       .heap = heap,
                       .heap_size = heap_size,
                       .result_offset = block.result_offset,
                       .result_capacity = block.result_capacity,
                       .buffers = buffers,
                       .context = &context,
                       .stats = channel.stats};
  const std::uint32_t index = block.function_index;
  if (buffers != nullptr) {
    // Acquire pairs with the client's release store when it claimed the channel.
    buffers->client = block.owner.load(std::memory_order_acquire);
  }
  try {
    if (index == layout::kMakeBufferIndex || index == layout::kReleaseBufferIndex) {
      return buffer_request(block, buffers, index);
    }
    if (index >= functions.size()) {
      write_failure(block, Status::kBadRequest, "",
                    fmt::format("function index {} is out of range: the server has {} functions",
                                index, functions.size()));
      return Status::kBadRequest;
    }
    const FunctionDefinition& function = functions[index];
    try {
      if (function.return_type->indirect && !function.streams) {
        // Before the function runs, so that a bad window cannot follow its side effects. A
        // nested result's pieces check the alignment they need again when they are placed.
        const TypeInfo* element = function.return_type->element;
        check_result_window(call, element != nullptr ? element->align : 1);
      }
      {
        // For ResultArrays the function makes (result_array.hpp).
        const CurrentCallScope scope(buffers);
        function.invoke(call);
      }
      block.status = static_cast<std::uint32_t>(Status::kOk);
      return Status::kOk;
    } catch (const StreamCancelled& error) {
      // Nobody reads this: the client stopped reading (its slot waits for this end).
      write_failure(block, Status::kRemoteException, "shmrpc::StreamCancelled", error.what());
      return Status::kRemoteException;
    } catch (const BadRequest& error) {
      write_failure(block, Status::kBadRequest, "",
                    fmt::format("{}: {}", function.name, error.what()));
      return Status::kBadRequest;
    } catch (const ResultTooLarge& error) {
      write_failure(block, Status::kResultTooLarge, "",
                    fmt::format("{}: {}", function.name, error.what()));
      return Status::kResultTooLarge;
    } catch (const OutOfSharedMemoryError& error) {
      // Only the result's buffer raises it; what the function throws itself is its exception.
      write_failure(block, Status::kOutOfMemory, "",
                    fmt::format("{}: {}", function.name, error.what()));
      return Status::kOutOfMemory;
    } catch (const std::exception& error) {
      write_failure(block, Status::kRemoteException, demangle(typeid(error).name()), error.what());
      return Status::kRemoteException;
    } catch (...) {
      write_failure(block, Status::kRemoteException, "unknown",
                    "an exception not derived from std::exception");
      return Status::kRemoteException;
    }
  } catch (...) {
    // Building an error message failed (out of memory): report without text.
    block.status = static_cast<std::uint32_t>(Status::kRemoteException);
    block.error_type.at(0) = '\0';
    block.error_message.at(0) = '\0';
    return Status::kRemoteException;
  }
}

}  // namespace shmrpc::detail
