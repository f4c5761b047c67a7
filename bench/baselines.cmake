# Baseline transports, measured in the same run as shmrpc (bench/README.md): each program does
# the null and array work of the comparison over another transport and prints the harness's
# result lines. A program whose packages are missing (scripts/setup.sh installs them) is not
# built, and configuring says so; bench/run.py then has no lines for it.

# Registers `bench.<name>.smoke`: the program with --smoke, quick, only to keep it running.
function(shmrpc_bench_smoke name)
  if(SHMRPC_BUILD_TESTS)
    add_test(NAME bench.${name}.smoke COMMAND ${ARGN} --smoke)
    set_tests_properties(bench.${name}.smoke PROPERTIES LABELS bench TIMEOUT 120)
  endif()
endfunction()

set(shmrpc_bench_skipped "")

# Pipes and Unix sockets: nothing but the C library.
add_executable(bench_transports transports.cpp)
shmrpc_set_warnings(bench_transports)
shmrpc_bench_smoke(transports bench_transports)

find_package(PkgConfig)
if(PkgConfig_FOUND)
  pkg_check_modules(LIBZMQ IMPORTED_TARGET libzmq)
  pkg_check_modules(GRPCPP IMPORTED_TARGET grpc++)
  pkg_check_modules(PROTOBUF IMPORTED_TARGET protobuf)
endif()

# ZeroMQ REQ/REP over ipc.
if(LIBZMQ_FOUND)
  add_executable(bench_zmq zmq_pingpong.cpp)
  target_link_libraries(bench_zmq PRIVATE PkgConfig::LIBZMQ)
  shmrpc_set_warnings(bench_zmq)
  shmrpc_bench_smoke(zmq bench_zmq)
else()
  list(APPEND shmrpc_bench_skipped "bench_zmq (no pkg-config libzmq: libzmq3-dev)")
endif()

# gRPC unary over a Unix socket; the stubs are generated from pingpong.proto at build time.
find_program(SHMRPC_PROTOC protoc)
find_program(SHMRPC_GRPC_CPP_PLUGIN grpc_cpp_plugin)
if(GRPCPP_FOUND AND PROTOBUF_FOUND AND SHMRPC_PROTOC AND SHMRPC_GRPC_CPP_PLUGIN)
  set(proto_out ${CMAKE_CURRENT_BINARY_DIR}/grpc_generated)
  set(proto_sources ${proto_out}/pingpong.pb.cc ${proto_out}/pingpong.grpc.pb.cc)
  add_custom_command(
    OUTPUT ${proto_sources} ${proto_out}/pingpong.pb.h ${proto_out}/pingpong.grpc.pb.h
    COMMAND ${CMAKE_COMMAND} -E make_directory ${proto_out}
    COMMAND ${SHMRPC_PROTOC} --proto_path=${CMAKE_CURRENT_SOURCE_DIR} --cpp_out=${proto_out}
            --grpc_out=${proto_out} --plugin=protoc-gen-grpc=${SHMRPC_GRPC_CPP_PLUGIN}
            ${CMAKE_CURRENT_SOURCE_DIR}/pingpong.proto
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/pingpong.proto
    COMMENT "Generating the gRPC baseline's stubs from pingpong.proto"
    VERBATIM)
  # Generated code: its own target, without the project's warnings.
  add_library(bench_grpc_proto STATIC ${proto_sources})
  target_include_directories(bench_grpc_proto SYSTEM PUBLIC ${proto_out})
  target_link_libraries(bench_grpc_proto PUBLIC PkgConfig::GRPCPP PkgConfig::PROTOBUF)
  add_executable(bench_grpc grpc_pingpong.cpp)
  target_link_libraries(bench_grpc PRIVATE bench_grpc_proto)
  shmrpc_set_warnings(bench_grpc)
  shmrpc_bench_smoke(grpc bench_grpc)
else()
  list(APPEND shmrpc_bench_skipped
       "bench_grpc (needs pkg-config grpc++ and protobuf, protoc, grpc_cpp_plugin: libgrpc++-dev, protobuf-compiler-grpc)")
endif()

# iceoryx request/response; the program runs its own RouDi (iox-roudi) with
# iceoryx_roudi.toml.
find_package(iceoryx_posh CONFIG QUIET)
find_program(SHMRPC_IOX_ROUDI iox-roudi)
if(iceoryx_posh_FOUND AND SHMRPC_IOX_ROUDI)
  add_executable(bench_iceoryx iceoryx_pingpong.cpp)
  target_link_libraries(bench_iceoryx PRIVATE iceoryx_posh::iceoryx_posh)
  target_compile_definitions(bench_iceoryx PRIVATE
    SHMRPC_BENCH_IOX_ROUDI="${SHMRPC_IOX_ROUDI}"
    SHMRPC_BENCH_ROUDI_CONFIG="${CMAKE_CURRENT_SOURCE_DIR}/iceoryx_roudi.toml")
  shmrpc_set_warnings(bench_iceoryx)
  shmrpc_bench_smoke(iceoryx bench_iceoryx)
else()
  list(APPEND shmrpc_bench_skipped
       "bench_iceoryx (needs CMake package iceoryx_posh and iox-roudi: libiceoryx-posh-dev, iceoryx)")
endif()

# The Python baselines (multiprocessing.Pipe, pyzmq, Python gRPC); the script reports a
# transport whose module does not import as skipped.
if(NOT Python_EXECUTABLE)
  find_package(Python COMPONENTS Interpreter)
endif()
if(Python_EXECUTABLE)
  shmrpc_bench_smoke(py_baselines ${Python_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/py_baselines.py)
else()
  list(APPEND shmrpc_bench_skipped "py_baselines.py smoke test (no Python interpreter)")
endif()

if(shmrpc_bench_skipped)
  list(JOIN shmrpc_bench_skipped "; " skipped)
  message(STATUS "shmrpc bench: baselines not built: ${skipped}")
else()
  message(STATUS "shmrpc bench: all baselines built")
endif()
