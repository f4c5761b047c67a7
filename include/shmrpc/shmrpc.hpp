#pragma once
/// Everything a user of shmrpc includes: the server, the client, their options and errors.

#include "shmrpc/client.hpp"
#include "shmrpc/errors.hpp"
#include "shmrpc/probe.hpp"
#include "shmrpc/registry.hpp"
#include "shmrpc/schema.hpp"
#include "shmrpc/schema_json.hpp"
#include "shmrpc/segment.hpp"
#include "shmrpc/server.hpp"
#include "shmrpc/stub.hpp"
#include "shmrpc/types.hpp"
