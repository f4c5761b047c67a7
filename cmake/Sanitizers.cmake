# shmrpc_apply_sanitizers(<target>)
#
# Builds <target> with the sanitizers named in the cache variable SHMRPC_SANITIZE:
#   ""                   none (the default)
#   "address,undefined"  AddressSanitizer (with LeakSanitizer) + UndefinedBehaviorSanitizer
#   "thread"             ThreadSanitizer
# Undefined behaviour is fatal (-fno-sanitize-recover=undefined), so a test that hits it fails.
# On a library the flags are PUBLIC, so every consumer (tests, examples) compiles and links with
# the same sanitizer runtime; they are kept out of the installed package (BUILD_INTERFACE).

set(SHMRPC_SANITIZE "" CACHE STRING "Sanitizers: empty, address,undefined, or thread")
set_property(CACHE SHMRPC_SANITIZE PROPERTY STRINGS "" "address,undefined" "thread")

function(shmrpc_apply_sanitizers target)
  if(SHMRPC_SANITIZE STREQUAL "")
    return()
  endif()
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    message(FATAL_ERROR "SHMRPC_SANITIZE needs GCC or Clang, not ${CMAKE_CXX_COMPILER_ID}")
  endif()

  string(REPLACE "," ";" sanitizers "${SHMRPC_SANITIZE}")
  foreach(sanitizer IN LISTS sanitizers)
    if(NOT sanitizer MATCHES "^(address|undefined|thread|leak)$")
      message(FATAL_ERROR "SHMRPC_SANITIZE: unknown sanitizer '${sanitizer}' "
                          "(use \"\", \"address,undefined\" or \"thread\")")
    endif()
  endforeach()
  if("thread" IN_LIST sanitizers AND ("address" IN_LIST sanitizers OR "leak" IN_LIST sanitizers))
    message(FATAL_ERROR "SHMRPC_SANITIZE: thread cannot be combined with address or leak")
  endif()

  set(flags "-fsanitize=${SHMRPC_SANITIZE}" -fno-omit-frame-pointer)
  if("undefined" IN_LIST sanitizers)
    list(APPEND flags -fno-sanitize-recover=undefined)
  endif()

  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    set(scope INTERFACE)
  elseif(type MATCHES "^(STATIC|SHARED|MODULE|OBJECT)_LIBRARY$")
    set(scope PUBLIC)
  else()
    set(scope PRIVATE)
  endif()
  target_compile_options(${target} ${scope} "$<BUILD_INTERFACE:${flags}>")
  target_link_options(${target} ${scope} "$<BUILD_INTERFACE:${flags}>")
endfunction()
