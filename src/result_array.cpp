#include "shmrpc/result_array.hpp"

#include <stdexcept>

#include "shmrpc/detail/call_buffers.hpp"

namespace shmrpc::detail {

ResultBuffer make_result_buffer(std::uint64_t bytes) {
  CallBuffers* buffers = current_call_buffers();
  if (buffers == nullptr || buffers->table == nullptr) {
    throw std::logic_error(
        "shmrpc: a ResultArray is made inside a server function's call, for its result");
  }
  if (bytes == 0) {
    return {};
  }
  // Listed before anything else can throw, so that the buffer is released if the call fails.
  buffers->made.reserve(buffers->made.size() + 1);
  Buffer buffer = buffers->make(bytes);
  buffers->made.push_back(buffer.id);
  return {buffer.id, std::move(buffer.mapping)};
}

}  // namespace shmrpc::detail
