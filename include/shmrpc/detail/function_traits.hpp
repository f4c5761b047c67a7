#pragma once
/// Signature of anything callable with one non-template call operator: function pointers,
/// lambdas (capturing or not), std::function, other function objects.

#include <type_traits>

namespace shmrpc::detail {

template <class R, class... A>
struct Signature {
  using Return = R;
  static constexpr std::size_t kArity = sizeof...(A);
};

template <class F>
struct FunctionTraits : FunctionTraits<decltype(&std::remove_cvref_t<F>::operator())> {};

template <class R, class... A>
struct FunctionTraits<R (*)(A...)> : Signature<R, A...> {
  template <template <class...> class Apply>
  using Into = Apply<R, A...>;
};
template <class R, class... A>
struct FunctionTraits<R (*)(A...) noexcept> : FunctionTraits<R (*)(A...)> {};
template <class R, class... A>
struct FunctionTraits<R(A...)> : FunctionTraits<R (*)(A...)> {};

// Call operators of lambdas and function objects.
template <class C, class R, class... A>
struct FunctionTraits<R (C::*)(A...)> : FunctionTraits<R (*)(A...)> {};
template <class C, class R, class... A>
struct FunctionTraits<R (C::*)(A...) const> : FunctionTraits<R (*)(A...)> {};
template <class C, class R, class... A>
struct FunctionTraits<R (C::*)(A...) noexcept> : FunctionTraits<R (*)(A...)> {};
template <class C, class R, class... A>
struct FunctionTraits<R (C::*)(A...) const noexcept> : FunctionTraits<R (*)(A...)> {};

}  // namespace shmrpc::detail
