#include "cancel_token.hpp"

#include <utility>

namespace py = pybind11;

namespace shmrpc::python {
namespace {

// The cancel flag of the call this thread makes in a CancelScope, or null.
const std::atomic<bool>*& current_cancel_flag() noexcept {
  thread_local const std::atomic<bool>* flag = nullptr;  // constant-initialised: no guard
  return flag;
}

}  // namespace

CancelScope::CancelScope(const CancelToken& token) noexcept
    : flag_(token.flag), outer_(std::exchange(current_cancel_flag(), token.flag.get())) {}

CancelScope::~CancelScope() {
  current_cancel_flag() = outer_;
}

bool current_call_cancelled() noexcept {
  const std::atomic<bool>* cancel = current_cancel_flag();
  return cancel != nullptr && cancel->load(std::memory_order_relaxed);
}

void bind_cancel_token(py::module_& module) {
  py::class_<CancelToken>(module, "CancelToken",
                          "Abandons the call or stream wait it was passed to "
                          "(Connection.call_cancellable, Stream.next).")
      .def(py::init<>())
      .def(
          "cancel", [](CancelToken& self) { self.flag->store(true, std::memory_order_relaxed); },
          "Abandons the call from any thread: it raises asyncio.CancelledError within half a "
          "liveness interval; the server finishes it while its slot is set aside.")
      .def_property_readonly("cancelled",
                             [](const CancelToken& self) { return self.flag->load(); });
}

}  // namespace shmrpc::python
