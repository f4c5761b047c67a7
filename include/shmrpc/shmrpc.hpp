#pragma once
/// Everything a user of shmrpc includes: the server, the client, their options and errors, and
/// the dynamic call that bindings build on.

#include "shmrpc/call_context.hpp"
#include "shmrpc/call_slots.hpp"
#include "shmrpc/client.hpp"
#include "shmrpc/dynamic_call.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/future.hpp"
#include "shmrpc/probe.hpp"
#include "shmrpc/registry.hpp"
#include "shmrpc/schema.hpp"
#include "shmrpc/schema_json.hpp"
#include "shmrpc/segment.hpp"
#include "shmrpc/server.hpp"
#include "shmrpc/stream.hpp"
#include "shmrpc/stream_reader.hpp"
#include "shmrpc/stub.hpp"
#include "shmrpc/type_kinds.hpp"
#include "shmrpc/types.hpp"
#include "shmrpc/value_codec.hpp"
