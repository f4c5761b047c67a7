# shmrpc_set_warnings(<target>)
#
# Turns on the project's warnings for <target>'s own sources (PRIVATE: consumers and the
# installed package are not affected). With SHMRPC_WERROR=ON (scripts/build.sh and CI set it)
# every warning is an error.

option(SHMRPC_WERROR "Treat compiler warnings as errors" OFF)

function(shmrpc_set_warnings target)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    return()
  endif()
  target_compile_options(${target} PRIVATE
    -Wall
    -Wextra
    -Wpedantic
    -Wshadow
    -Wconversion
    -Wsign-conversion
    -Wnon-virtual-dtor
    -Wold-style-cast
    -Woverloaded-virtual)
  if(SHMRPC_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
