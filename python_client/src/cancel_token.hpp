#pragma once
/// CancelToken: abandons, from any thread, the call or stream wait it was passed to (an asyncio
/// task that was cancelled). The waiting thread's interrupt check (check_signals) looks at the
/// token of the scope it runs in.

#include <pybind11/pybind11.h>

#include <atomic>
#include <memory>

namespace shmrpc::python {

struct CancelToken {
  std::shared_ptr<std::atomic<bool>> flag = std::make_shared<std::atomic<bool>>(false);
};

/// Makes `token` this thread's for the scope's life (nested scopes restore the outer one).
class CancelScope {
 public:
  explicit CancelScope(const CancelToken& token) noexcept;
  ~CancelScope();
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;
  CancelScope(CancelScope&&) = delete;
  CancelScope& operator=(CancelScope&&) = delete;

 private:
  std::shared_ptr<std::atomic<bool>> flag_;  // held for the scope
  const std::atomic<bool>* outer_;
};

/// Whether the token of this thread's innermost CancelScope was cancelled.
bool current_call_cancelled() noexcept;

void bind_cancel_token(pybind11::module_& module);

}  // namespace shmrpc::python
