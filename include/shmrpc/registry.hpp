#pragma once
/// FunctionRegistry: turns ordinary C++ callables into published functions.
///
/// For a callable R(A...) the templates below compute, at registration, the wire type of every
/// argument and of the result, and build a type-erased invoker that reads the arguments in place
/// from a channel's frame and heap, calls the function and writes the result slot. Slot offsets
/// in the frame are laid out from the types' sizes and alignments.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "shmrpc/call_context.hpp"
#include "shmrpc/call_frame.hpp"
#include "shmrpc/detail/frame_codec.hpp"
#include "shmrpc/detail/function_traits.hpp"
#include "shmrpc/stream.hpp"
#include "shmrpc/types.hpp"

namespace shmrpc {

/// Where a value lives in the call frame.
struct SlotPlacement {
  std::uint32_t offset = 0;
  std::uint32_t size = 0;
};

/// One registered function: its description and its invoker.
struct FunctionDefinition {
  std::string name;
  std::string doc;
  std::vector<std::string> argument_names;
  std::vector<const TypeInfo*> argument_types;
  const TypeInfo* return_type = nullptr;
  std::vector<SlotPlacement> argument_slots;  ///< filled in by FunctionRegistry
  SlotPlacement return_slot;                  ///< filled in by FunctionRegistry
  std::uint32_t frame_size = 0;               ///< filled in by FunctionRegistry
  /// It takes a Stream<T>& and writes elements of return_type (stream.hpp).
  bool streams = false;
  /// Decodes the arguments, calls the function, encodes the result. Throws whatever the function
  /// throws, BadRequest and ResultTooLarge (call_frame.hpp).
  std::function<void(const CallFrame&)> invoke;

  /// "dot(a: span<const float64>, b: span<const float64>) -> float64"
  std::string signature() const;
};

namespace detail {

// A parameter `CallContext&` (or `const CallContext&`): the server's, not part of the signature.
template <class A>
inline constexpr bool kIsCallContext =
    std::is_lvalue_reference_v<A>&& std::is_same_v<std::remove_cvref_t<A>, CallContext>;

// A parameter `Stream<T>&`: the writer of a streaming function, not part of the signature.
template <class A>
inline constexpr bool kIsStream =
    std::is_lvalue_reference_v<A>&& IsStream<std::remove_cvref_t<A>>::value &&
    !std::is_const_v<std::remove_reference_t<A>>;

template <class A>
constexpr void check_argument_type() {
  static_assert(!std::is_same_v<std::remove_cvref_t<A>, CallContext>,
                "shmrpc: a CallContext parameter must be the first one, taken by reference "
                "(CallContext& or const CallContext&)");
  static_assert(!IsStream<std::remove_cvref_t<A>>::value,
                "shmrpc: a Stream<T> parameter must be the first one, or come right after a "
                "CallContext&, taken by non-const reference (Stream<T>&)");
  using V = ArgumentValue<A>;
  static_assert(!std::is_lvalue_reference_v<A> || std::is_const_v<std::remove_reference_t<A>>,
                "shmrpc: a function parameter is a non-const reference; take std::span<T> for "
                "values the function writes in place");
  static_assert(!IsResultArray<V>::value,
                "shmrpc: ResultArray is a result type; take arrays as std::span<const T> (a view, "
                "no copy) or std::vector<T> (a copy)");
  static_assert(!std::is_void_v<V>);
  (void)type_info_of<V>();  // unsupported types fail here, naming the type
}

template <class R>
constexpr void check_return_type() {
  static_assert(!std::is_reference_v<R>, "shmrpc: return values, not references");
  static_assert(!IsDynamicSpan<R>::value && !std::is_same_v<R, std::string_view>,
                "shmrpc: a function returns std::vector<T> or std::string, not a view (a span or "
                "string_view would point into server memory)");
  (void)type_info_of<R>();
}

template <bool WithContext, class R, class... A>
struct InvokerFactory {
  template <class F>
  static std::function<void(const CallFrame&)> make(F function,
                                                    const std::vector<SlotPlacement>& slots,
                                                    SlotPlacement result) {
    std::array<std::uint32_t, sizeof...(A)> offsets{};
    for (std::size_t i = 0; i < offsets.size(); ++i) {
      offsets.at(i) = slots[i].offset;
    }
    return [function = std::move(function), offsets,
            result = result.offset](const CallFrame& call) mutable {
      invoke(function, call, offsets, result, std::index_sequence_for<A...>{});
    };
  }

  template <class F, std::size_t... I>
  static void invoke(F& function, const CallFrame& call,
                     const std::array<std::uint32_t, sizeof...(A)>& offsets,
                     std::uint32_t result_offset, std::index_sequence<I...> /*indices*/) {
    const auto call_function = [&](auto&&... arguments) -> decltype(auto) {
      if constexpr (WithContext) {
        return std::invoke(function, *call.context,
                           std::forward<decltype(arguments)>(arguments)...);
      } else {
        return std::invoke(function, std::forward<decltype(arguments)>(arguments)...);
      }
    };
    if constexpr (std::is_void_v<R>) {
      call_function(decode_argument<ArgumentValue<A>>(call, offsets[I])...);
    } else {
      encode_result<R>(call, result_offset,
                       call_function(decode_argument<ArgumentValue<A>>(call, offsets[I])...));
    }
  }
};

// The invoker of a streaming function: the ring is checked and the arguments decoded before the
// function runs; its return (or exception) ends the stream.
template <bool WithContext, class T, class... A>
struct StreamInvokerFactory {
  template <class F>
  static std::function<void(const CallFrame&)> make(F function,
                                                    const std::vector<SlotPlacement>& slots,
                                                    SlotPlacement /*result*/) {
    std::array<std::uint32_t, sizeof...(A)> offsets{};
    for (std::size_t i = 0; i < offsets.size(); ++i) {
      offsets.at(i) = slots[i].offset;
    }
    return [function = std::move(function), offsets](const CallFrame& call) mutable {
      invoke(function, call, offsets, std::index_sequence_for<A...>{});
    };
  }

  template <class F, std::size_t... I>
  static void invoke(F& function, const CallFrame& call,
                     const std::array<std::uint32_t, sizeof...(A)>& offsets,
                     std::index_sequence<I...> /*indices*/) {
    const TypeInfo& element = type_info_of<T>();
    StreamWriter writer(call, element.size, element.align);
    Stream<T> stream(writer);
    if constexpr (WithContext) {
      std::invoke(function, *call.context, stream,
                  decode_argument<ArgumentValue<A>>(call, offsets[I])...);
    } else {
      std::invoke(function, stream, decode_argument<ArgumentValue<A>>(call, offsets[I])...);
    }
    writer.end();
  }
};

template <class R, class... A>
struct DescribeSignature {
  static const TypeInfo* result() { return &type_info_of<std::remove_cv_t<R>>(); }
  static std::vector<const TypeInfo*> arguments() { return {&type_info_of<ArgumentValue<A>>()...}; }
  static constexpr void check() {
    check_return_type<R>();
    (check_argument_type<A>(), ...);
  }
};

// What the clients see of a server function R(A...), and how it is invoked: without a leading
// CallContext parameter, which the invoker passes itself.
template <class R, class... A>
struct ServerSignature {
  using Describe = DescribeSignature<R, A...>;
  using Factory = InvokerFactory<false, R, A...>;
  static constexpr bool kStreams = false;
};
template <class R, class First, class... A>
requires kIsCallContext<First>
struct ServerSignature<R, First, A...> {
  using Describe = DescribeSignature<R, A...>;
  using Factory = InvokerFactory<true, R, A...>;
  static constexpr bool kStreams = false;
};
// A streaming function, R(Stream<T>&, A...) or R(CallContext&, Stream<T>&, A...): clients see
// A... -> stream<T>.
template <class R, class Writer, class... A>
struct StreamSignature {
  static_assert(std::is_void_v<R>,
                "shmrpc: a function that takes a Stream<T>& returns void: its elements are its "
                "result, and its return ends the stream");
  using Element = typename IsStream<std::remove_cvref_t<Writer>>::Element;
  static_assert(!std::is_void_v<Element>, "shmrpc: a Stream<void> has no elements to write");
  using Describe = DescribeSignature<Element, A...>;
  static constexpr bool kStreams = true;
};
template <class R, class First, class... A>
requires kIsStream<First>
struct ServerSignature<R, First, A...> : StreamSignature<R, First, A...> {
  using Factory =
      StreamInvokerFactory<false, typename StreamSignature<R, First, A...>::Element, A...>;
};
template <class R, class Context, class Writer, class... A>
requires kIsCallContext<Context> && kIsStream<Writer>
struct ServerSignature<R, Context, Writer, A...> : StreamSignature<R, Writer, A...> {
  using Factory =
      StreamInvokerFactory<true, typename StreamSignature<R, Writer, A...>::Element, A...>;
};

}  // namespace detail

/// The functions a server publishes. Not thread-safe: register before the server starts.
class FunctionRegistry {
 public:
  /// Registers `function` under `name` (letters, digits, '_'; not starting with a digit).
  /// `argument_names` names every argument or none (then "arg0", "arg1", ...). The function may be
  /// called from several channel threads at once. Throws std::invalid_argument for a bad or
  /// duplicate name or a wrong number of argument names.
  template <class F>
  const FunctionDefinition& def(std::string name, F&& function,
                                std::vector<std::string> argument_names = {},
                                std::string doc = {}) {
    using Traits = detail::FunctionTraits<std::decay_t<F>>;
    using Server = typename Traits::template Into<detail::ServerSignature>;
    using Describe = typename Server::Describe;
    using Factory = typename Server::Factory;
    Describe::check();
    FunctionDefinition definition;
    definition.name = std::move(name);
    definition.doc = std::move(doc);
    definition.argument_names = std::move(argument_names);
    definition.argument_types = Describe::arguments();
    definition.return_type = Describe::result();
    definition.streams = Server::kStreams;
    FunctionDefinition& added = add(std::move(definition));
    added.invoke = Factory::make(std::decay_t<F>(std::forward<F>(function)), added.argument_slots,
                                 added.return_slot);
    return added;
  }

  /// Same, with a doc string and default argument names. (A template, so that a braced list
  /// of one name, def("f", f, {"x"}), still names the argument rather than becoming the doc.)
  template <class F, class Doc>
  requires std::is_convertible_v<const Doc&, std::string_view>
  const FunctionDefinition& def(std::string name, F&& function, const Doc& doc) {
    return def(std::move(name), std::forward<F>(function), {}, std::string(std::string_view(doc)));
  }

  const std::vector<FunctionDefinition>& functions() const noexcept { return functions_; }

 private:
  // Validates the names, lays out the frame slots and appends the definition.
  FunctionDefinition& add(FunctionDefinition definition);

  std::vector<FunctionDefinition> functions_;
};

}  // namespace shmrpc
