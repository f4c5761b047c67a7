# shmrpc_generate_client: a typed C++ client header generated from a server's JSON schema at
# build time (python -m shmrpc.codegen; see README.md, "Codegen").
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
# The generator runs as ${SHMRPC_CODEGEN_PYTHON} -m shmrpc.codegen (default: the Python
# interpreter find_package(Python) finds), which must import the shmrpc package: installed, or
# found on SHMRPC_CODEGEN_PYTHONPATH (set by shmrpc's own build to its build tree).

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

  if(NOT SHMRPC_CODEGEN_PYTHON)
    if(NOT Python_EXECUTABLE)
      find_package(Python 3.9 COMPONENTS Interpreter REQUIRED)
    endif()
    set(SHMRPC_CODEGEN_PYTHON ${Python_EXECUTABLE})
  endif()
  set(command ${SHMRPC_CODEGEN_PYTHON} -m shmrpc.codegen --schema ${arg_SCHEMA} --cpp ${arg_HEADER})
  if(arg_CLASS)
    list(APPEND command --class ${arg_CLASS})
  endif()
  if(arg_NAMESPACE)
    list(APPEND command --cpp-namespace ${arg_NAMESPACE})
  endif()
  foreach(include IN LISTS arg_INCLUDES)
    list(APPEND command --cpp-include ${include})
  endforeach()
  if(SHMRPC_CODEGEN_PYTHONPATH)
    set(command ${CMAKE_COMMAND} -E env "PYTHONPATH=${SHMRPC_CODEGEN_PYTHONPATH}" ${command})
  endif()

  add_custom_command(OUTPUT ${arg_HEADER}
    COMMAND ${command}
    DEPENDS ${arg_SCHEMA} ${SHMRPC_CODEGEN_DEPENDS} ${arg_DEPENDS}
    COMMENT "shmrpc codegen: ${arg_HEADER}"
    VERBATIM)
  target_sources(${target} PRIVATE ${arg_HEADER})
  target_include_directories(${target} PRIVATE ${header_dir})
endfunction()
