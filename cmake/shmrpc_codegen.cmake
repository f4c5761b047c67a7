# shmrpc_generate_client: a typed C++ client header generated from a server's JSON schema at
# build time (codegen/shmrpc-codegen; see README.md, "Codegen").
#
#   shmrpc_generate_client(<target> SCHEMA <file>
#                          [HEADER <out.hpp>] [CLASS <name>] [NAMESPACE <ns>]
#                          [INCLUDES <header>...] [DEPENDS <file or target>...])
#
# Generates HEADER (default: ${CMAKE_CURRENT_BINARY_DIR}/shmrpc_generated/<schema stem>_client.hpp)
# from SCHEMA whenever the schema or the generator changes, and makes it available to <target>:
# its directory is added to the target's include directories, so `#include "<name>.hpp"` finds
# it. Call it in the directory that defines <target>. CLASS names the client class (default from
# the server name: demo -> DemoClient), NAMESPACE puts it into a namespace, INCLUDES names user
# headers that define the structs and enums (instead of the header defining them), DEPENDS adds
# dependencies (e.g. the custom command or target that writes SCHEMA).
#
# The generator is the script SHMRPC_CODEGEN_SCRIPT: shmrpcConfig.cmake sets it to the copy
# installed with the package (share/shmrpc/codegen/shmrpc-codegen); in shmrpc's own build it is
# codegen/shmrpc-codegen of the source tree. It needs the Python standard library only, so any
# Python 3.9 or newer runs it: SHMRPC_CODEGEN_PYTHON, else the interpreter find_package(Python)
# finds (Python_EXECUTABLE); the shmrpc Python package need not be installed.

include_guard(GLOBAL)

function(shmrpc_generate_client target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "SCHEMA;HEADER;CLASS;NAMESPACE" "INCLUDES;DEPENDS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "shmrpc_generate_client: unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_SCHEMA)
    message(FATAL_ERROR "shmrpc_generate_client(${target}): SCHEMA <file> is required")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "shmrpc_generate_client: ${target} is not a target")
  endif()
  cmake_path(ABSOLUTE_PATH arg_SCHEMA BASE_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  if(NOT arg_HEADER)
    cmake_path(GET arg_SCHEMA STEM stem)
    set(arg_HEADER ${CMAKE_CURRENT_BINARY_DIR}/shmrpc_generated/${stem}_client.hpp)
  endif()
  cmake_path(ABSOLUTE_PATH arg_HEADER BASE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  cmake_path(GET arg_HEADER PARENT_PATH header_dir)

  set(script ${SHMRPC_CODEGEN_SCRIPT})
  if(NOT script)
    cmake_path(SET script NORMALIZE ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/../codegen/shmrpc-codegen)
  endif()
  cmake_path(GET script PARENT_PATH generator_dir)
  if(NOT EXISTS ${script} OR NOT IS_DIRECTORY ${generator_dir}/shmrpc_codegen)
    message(FATAL_ERROR "shmrpc_generate_client: no generator at ${script} (with shmrpc_codegen/ "
      "beside it); set SHMRPC_CODEGEN_SCRIPT")
  endif()
  # Regenerate when any module of the generator changes (the installed copy has no list of them).
  file(GLOB generator_modules ${generator_dir}/shmrpc_codegen/*.py)

  if(NOT SHMRPC_CODEGEN_PYTHON)
    if(NOT Python_EXECUTABLE)
      find_package(Python 3.9 COMPONENTS Interpreter REQUIRED)
    endif()
    set(SHMRPC_CODEGEN_PYTHON ${Python_EXECUTABLE})
  endif()
  # -B: no __pycache__ in the generator's directory, which may be a read-only install.
  set(command ${SHMRPC_CODEGEN_PYTHON} -B ${script} --schema ${arg_SCHEMA} --cpp ${arg_HEADER})
  if(arg_CLASS)
    list(APPEND command --class ${arg_CLASS})
  endif()
  if(arg_NAMESPACE)
    list(APPEND command --cpp-namespace ${arg_NAMESPACE})
  endif()
  foreach(include IN LISTS arg_INCLUDES)
    list(APPEND command --cpp-include ${include})
  endforeach()

  add_custom_command(OUTPUT ${arg_HEADER}
    COMMAND ${command}
    DEPENDS ${arg_SCHEMA} ${script} ${generator_modules} ${arg_DEPENDS}
    COMMENT "shmrpc codegen: ${arg_HEADER}"
    VERBATIM)
  target_sources(${target} PRIVATE ${arg_HEADER})
  target_include_directories(${target} PRIVATE ${header_dir})
endfunction()
