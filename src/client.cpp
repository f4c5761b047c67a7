#include "shmrpc/client.hpp"

#include <fmt/format.h>

namespace shmrpc {

Client::Client(std::string_view name, const ClientOptions& options)
    : slots_(std::make_shared<CallSlots>(name, options)) {}

const FunctionSchema& Client::checked_function(std::string_view name, std::size_t arity,
                                               const Described& expected) const {
  const FunctionSchema* function = schema().find(name);
  if (function == nullptr) {
    throw std::invalid_argument(fmt::format("shmrpc: server '{}' has no function '{}'; it has: {}",
                                            server_name(), name, schema().function_names()));
  }
  bool same = arity == function->arguments.size() && expected.streams == function->streams &&
              same_type(*expected.result, *function->return_type);
  for (std::size_t i = 0; same && i < arity; ++i) {
    same = same_type(*expected.arguments[i], *function->arguments[i].type);
  }
  if (!same) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < expected.arguments.size(); ++i) {
      names.push_back(i < function->arguments.size() ? function->arguments[i].name
                                                     : fmt::format("arg{}", i));
    }
    throw std::invalid_argument(fmt::format(
        "shmrpc: function '{}' of server '{}' has the signature {}, but the caller expects {}",
        name, server_name(), function->signature,
        format_signature(name, names, expected.arguments, *expected.result, expected.streams)));
  }
  return *function;
}

void Client::reconnect() {
  const Connection& first = slots_->first();
  ClientOptions options = first.options();
  options.max_slots = slots_->max_slots();
  slots_ = std::make_shared<CallSlots>(first.server_name(), options);
}

}  // namespace shmrpc
