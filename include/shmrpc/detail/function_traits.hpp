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

#define SHMRPC_MEMBER_TRAITS(QUALIFIERS)  \
  template <class C, class R, class... A> \
  struct FunctionTraits<R (C::*)(A...) QUALIFIERS> : FunctionTraits<R (*)(A...)> {};
SHMRPC_MEMBER_TRAITS()
SHMRPC_MEMBER_TRAITS(const)
SHMRPC_MEMBER_TRAITS(noexcept)
SHMRPC_MEMBER_TRAITS(const noexcept)
SHMRPC_MEMBER_TRAITS(&)
SHMRPC_MEMBER_TRAITS(const&)
#undef SHMRPC_MEMBER_TRAITS

}  // namespace shmrpc::detail
