#pragma once
/// The binary format of a shmrpc segment, version 3. docs/SPEC.md describes it byte for byte; the
/// static_asserts below pin every offset so that the code and the document cannot drift apart.
///
/// Segment:
///   [SegmentHeader][FunctionMetadata...][ArgumentMetadata...][TypeDesc...][MemberDesc...]
///   [strings][pad to 64][StatsRecord: channel_count x function_count]
///   [Channel 0][Channel 1]...[Channel N-1]
/// Channel (channel_stride bytes, 64-byte aligned):
///   [CommandBlock: cold part (owner, error text) | hot line (state word, function index, status,
///    result window)][call frame][pad to 64][heap]
///
/// Every integer is little-endian (the machine's), fixed width, naturally aligned; structs have no
/// implicit padding. Offsets in the header are from the start of the segment. String references
/// are byte offsets into the string table; the table starts with "\0", so 0 is the empty string.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace shmrpc::layout {

/// "SHMRPC1\x01" read as a little-endian 64-bit integer.
inline constexpr std::uint64_t kMagic = 0x0131'4350'524D'4853ULL;
inline constexpr std::uint32_t kFormatVersion = 7;
inline constexpr std::size_t kCacheLine = 64;
inline constexpr std::uint32_t kNoType = 0xFFFF'FFFFU;

/// Lifecycle of a server, in SegmentHeader::state.
enum class ServerState : std::uint32_t {
  kStarting = 0,  ///< segment created, metadata being written
  kReady = 1,     ///< serving calls
  kStopping = 2,  ///< finishing the calls in flight, taking no new ones
  kStopped = 3,   ///< gone; the segment is about to be removed
};

/// Byte map of the header (256 bytes):
///    0 magic                 8 format_version       12 header_size
///   16 segment_size         24 layout_hash
///   32 function_table_offset                        40 function_count     44 argument_count
///   48 argument_table_offset                        56 type_table_offset
///   64 type_count           68 string_table_size    72 string_table_offset
///   80 channel_table_offset 88 channel_count        92 frame_size
///   96 channel_stride      104 heap_offset         112 heap_size
///  120 server_pid          124 reserved0           128 server_start_time
///  136 created_unix_ms     144 state               148 reserved1
///  152 member_table_offset 160 member_count        164 reserved2          168 stats_offset
///  176 stats_size          184 stats_record_size   188 stats_bucket_count
///  192 server_pid_namespace                        200 reserved[56]
struct SegmentHeader {
  std::uint64_t magic;
  std::uint32_t format_version;
  std::uint32_t header_size;
  std::uint64_t segment_size;
  std::uint64_t layout_hash;  ///< FNV-1a over every function's layout key, in table order (5.6)
  std::uint64_t function_table_offset;
  std::uint32_t function_count;
  std::uint32_t argument_count;
  std::uint64_t argument_table_offset;
  std::uint64_t type_table_offset;
  std::uint32_t type_count;
  std::uint32_t string_table_size;
  std::uint64_t string_table_offset;
  std::uint64_t channel_table_offset;
  std::uint32_t channel_count;
  std::uint32_t frame_size;      ///< bytes reserved for the call frame in every channel
  std::uint64_t channel_stride;  ///< bytes from one channel to the next
  std::uint64_t heap_offset;     ///< from the start of a channel to its heap
  std::uint64_t heap_size;       ///< bytes of heap in every channel
  std::int32_t server_pid;
  std::uint32_t reserved0;
  std::uint64_t server_start_time;  ///< clock ticks since boot, /proc/PID/stat field 22
  std::uint64_t created_unix_ms;
  std::atomic<std::uint32_t> state;  ///< ServerState
  std::uint32_t reserved1;
  std::uint64_t member_table_offset;  ///< MemberDesc: struct fields, tuple elements, enumerators
  std::uint32_t member_count;
  std::uint32_t reserved2;
  std::uint64_t stats_offset;        ///< the call statistics (StatsRecord), 0 when there are none
  std::uint64_t stats_size;          ///< channel_count * function_count * stats_record_size
  std::uint32_t stats_record_size;   ///< sizeof(StatsRecord)
  std::uint32_t stats_bucket_count;  ///< kStatsBuckets
  /// Inode of the server's pid namespace (/proc/self/ns/pid): server_pid means that pid there.
  std::uint64_t server_pid_namespace;
  std::array<std::uint8_t, 56> reserved;
};

/// One registered function (48 bytes). Slot offsets are relative to the start of the call frame.
///    0 name      4 doc       8 first_argument  12 arity
///   16 return_type          20 return_offset   24 return_size   28 frame_size
///   32 signature_hash       40 signature       44 flags
struct FunctionMetadata {
  std::uint32_t name;
  std::uint32_t doc;
  std::uint32_t first_argument;  ///< index into the argument table
  std::uint32_t arity;
  std::uint32_t return_type;  ///< index into the type table
  std::uint32_t return_offset;
  std::uint32_t return_size;  ///< 0 for void
  std::uint32_t frame_size;   ///< bytes of the frame this function uses
  /// FNV-1a of the layout key (docs/SPEC.md, section 5.6), which spells out every struct and
  /// enum that `signature` only names.
  std::uint64_t signature_hash;
  std::uint32_t signature;  ///< display form, e.g. "add(a: int64, b: int64) -> int64"
  std::uint32_t flags;      ///< kFunctionStreams
};

/// FunctionMetadata::flags: the function streams (section 7.8): return_type, return_offset and
/// return_size describe one element, which lies in an entry of the stream's ring, not the frame.
inline constexpr std::uint32_t kFunctionStreams = 1U << 0U;

/// One argument of one function (16 bytes): 0 name, 4 type, 8 offset, 12 size.
struct ArgumentMetadata {
  std::uint32_t name;
  std::uint32_t type;
  std::uint32_t offset;
  std::uint32_t size;
};

/// Kinds of wire types. Values are part of the format.
enum class TypeKind : std::uint8_t {
  kVoid = 0,
  kBool = 1,
  kInt8 = 2,
  kInt16 = 3,
  kInt32 = 4,
  kInt64 = 5,
  kUInt8 = 6,
  kUInt16 = 7,
  kUInt32 = 8,
  kUInt64 = 9,
  kFloat32 = 10,
  kFloat64 = 11,
  kComplex64 = 12,   ///< std::complex<float>: real, imaginary
  kComplex128 = 13,  ///< std::complex<double>
  kArray = 16,       ///< std::array<element, count>, stored inline in the frame
  kSpan = 17,        ///< std::span<element>, a VarSlot into the heap or a buffer
  kString = 18,      ///< UTF-8 bytes, a VarSlot into the heap or a buffer
  kVector = 19,      ///< std::vector<element>, a VarSlot to `length` element slots
  kStruct = 20,      ///< an aggregate: count fields from first_member, laid out by the compiler
  kEnum = 21,        ///< element is the underlying integer; count enumerators from first_member
  kOptional = 22,    ///< [has_value: uint8][pad to element's alignment][element]
  kTuple = 23,       ///< count elements from first_member, each at its member's offset
  kNdArray = 24,     ///< an n-dimensional array of element: an NdSlot; count = rank, 0 = any
  kMap = 25,         ///< std::map<key, value>: a VarSlot to `length` entries; 2 members
};

/// Type flags.
inline constexpr std::uint8_t kTypeMutable = 1;  ///< span<T>: the server writes through it

/// One wire type (32 bytes). Element and member types are always earlier in the table than the
/// types using them.
///    0 kind   1 flags   2 reserved0   4 element   8 count   16 size   20 align   24 name
///   28 first_member
struct TypeDesc {
  std::uint8_t kind;  ///< TypeKind
  std::uint8_t flags;
  std::uint16_t reserved0;
  /// Type index for kArray/kSpan/kVector/kOptional (the value), kEnum (the underlying integer),
  /// else kNoType.
  std::uint32_t element;
  std::uint64_t count;  ///< N for kArray; members for kStruct/kEnum/kTuple; else 0
  std::uint32_t size;   ///< bytes of a value of this type in a frame slot or heap array
  std::uint32_t align;
  /// Display name, e.g. "span<const float64>"; the C++ name for kStruct and kEnum.
  std::uint32_t name;
  std::uint32_t first_member;  ///< index into the member table for kStruct/kEnum/kTuple, else 0
};

/// A struct field, tuple element or enumerator (16 bytes): 0 name, 4 type, 8 value.
struct MemberDesc {
  std::uint32_t name;   ///< string; empty for tuple elements
  std::uint32_t type;   ///< type index of a field or element; kNoType for an enumerator
  std::uint64_t value;  ///< offset of a field or element in its value; an enumerator's value
};

/// A variable-length value in a frame slot (24 bytes): where it lies, in the channel's heap or in
/// a buffer segment (SPEC 6.6). The server validates all three fields before it reads a byte.
///    0 offset    8 length    16 buffer
struct VarSlot {
  std::uint64_t offset;  ///< bytes from the start of the heap or the buffer
  std::uint64_t length;  ///< elements (bytes for kString)
  std::uint64_t buffer;  ///< kHeapBuffer: the channel's heap; else the id of a buffer segment
};

/// VarSlot::buffer of a value in the channel's own heap. Buffer ids start at 1.
inline constexpr std::uint64_t kHeapBuffer = 0;

/// The most dimensions an n-dimensional array has on the wire.
inline constexpr std::uint32_t kMaxRank = 8;

/// An n-dimensional array in a frame slot (160 bytes): where its first element lies, and its
/// shape and strides (SPEC 6.4). Dimensions past `rank` are written as 0 and ignored.
///    0 data (VarSlot: offset of element [0, ..., 0], length = elements, buffer)
///   24 rank    28 reserved    32 shape[8]    96 strides[8]
struct NdSlot {
  VarSlot data;
  std::uint32_t rank;
  std::uint32_t reserved;
  std::array<std::uint64_t, kMaxRank> shape;   ///< elements per dimension
  std::array<std::int64_t, kMaxRank> strides;  ///< bytes from one index to the next, may be < 0
};

/// States of a call, in the low bits of CommandBlock::state. See detail/call_protocol.hpp.
enum class CallState : std::uint32_t {
  kIdle = 0,     ///< no call; the owner may write a request
  kRequest = 1,  ///< the client wrote a request; the server may take it
  kRunning = 2,  ///< the server runs the function
  kDone = 3,     ///< result in the frame/heap
  kFailed = 4,   ///< status and error text say why
};

/// Set in the state word by a side that is about to sleep in FUTEX_WAIT on it.
inline constexpr std::uint32_t kSleeperBit = 1U << 31U;

/// How a call ended, in CommandBlock::status.
enum class Status : std::uint32_t {
  kOk = 0,
  kRemoteException = 1,  ///< the function threw: error_type and error_message say what
  kBadRequest = 2,       ///< the server rejected the request bytes (index, lengths, offsets)
  kResultTooLarge = 3,   ///< the result did not fit the window the client offered
  kServerStopping = 4,   ///< the server is stopping and did not run the call
  kOutOfMemory = 5,      ///< a buffer could not be made: /dev/shm is full or the client's quota
};

/// Function indices past every function table, for requests that run no function (SPEC 10.3).
/// Their operands lie in the command block, so they leave the call frame alone.
/// kMakeBuffer: result_capacity = size in bytes; the reply's result_offset = the new buffer's id.
/// kReleaseBuffer: result_offset = the id of a buffer the client owns.
/// kProbe: a liveness probe of a late call; the server fails it with kBadRequest.
inline constexpr std::uint32_t kReleaseBufferIndex = 0xFFFF'FFFDU;
inline constexpr std::uint32_t kMakeBufferIndex = 0xFFFF'FFFEU;
inline constexpr std::uint32_t kProbeIndex = 0xFFFF'FFFFU;

inline constexpr std::size_t kErrorTypeSize = 120;
inline constexpr std::size_t kErrorMessageSize = 888;

/// Bits of CommandBlock::call_flags, written by the client: the call was given up (timeout,
/// interrupt, cancel) while the server may run it; deadline_ns holds the call's deadline.
inline constexpr std::uint32_t kCallCancelled = 1U << 0U;
inline constexpr std::uint32_t kCallHasDeadline = 1U << 1U;

/// Per-channel control block (1056 bytes). The cold part (owner, error text, deadline) comes
/// first so that the hot line (state .. result_capacity) and the start of the call frame share
/// one cache line.
///      0 owner             8 error_type[120]   128 error_message[888]   1016 deadline_ns
///   1024 state          1028 function_index   1032 status   1036 call_flags
///   1040 result_offset  1048 result_capacity  1056 = start of the call frame
struct CommandBlock {
  /// 0 = free; else the owning client: pid in bits 0-31, low 32 bits of its start time above.
  std::atomic<std::uint64_t> owner;
  std::array<char, kErrorTypeSize> error_type;        ///< NUL-terminated
  std::array<char, kErrorMessageSize> error_message;  ///< NUL-terminated
  /// The call's deadline, CLOCK_MONOTONIC nanoseconds; meaningful with kCallHasDeadline only.
  std::uint64_t deadline_ns;
  std::atomic<std::uint32_t> state;  ///< CallState | kSleeperBit; the futex word
  std::uint32_t function_index;
  std::uint32_t status;                   ///< Status
  std::atomic<std::uint32_t> call_flags;  ///< kCallCancelled | kCallHasDeadline
  std::uint64_t result_offset;    ///< heap offset of the window offered for a variable result
  std::uint64_t result_capacity;  ///< bytes in that window
};

inline constexpr std::size_t kFrameOffset = sizeof(CommandBlock);

/// The byte of the segment file whose open-file-description lock marks channel `channel`'s owner
/// (SPEC 8). Byte 0 is the server's holder lock (SPEC 9.3). Locks lie past the file's data when
/// the segment is small; the kernel does not mind.
constexpr std::uint64_t channel_lock_byte(std::uint32_t channel) {
  return 1 + std::uint64_t{channel};
}

/// Latency histogram buckets: bucket i counts calls of [2^i, 2^(i+1)) ns (bucket 0 also 0 ns, the
/// last one everything longer).
inline constexpr std::size_t kStatsBuckets = 40;

/// Call statistics of one function on one channel (384 bytes, 64-byte aligned), in the stats
/// region at SegmentHeader::stats_offset: record (channel * function_count + function). Only the
/// channel's server thread writes it (relaxed); readers sum over channels. Calls and errors count
/// every call; the latency fields only the `timed` calls (all of a slow function's calls, a
/// sample of a fast one's; see detail/stats.hpp).
///    0 calls     8 errors    16 timed    24 total_ns    32 max_ns    40 buckets[40]
///  360 elements    368 element_bytes    376 reserved
struct StatsRecord {
  std::atomic<std::uint64_t> calls;     ///< calls that ran, failed ones included
  std::atomic<std::uint64_t> errors;    ///< calls whose status was not kOk
  std::atomic<std::uint64_t> timed;     ///< calls whose latency was measured
  std::atomic<std::uint64_t> total_ns;  ///< sum of the timed calls' latencies
  std::atomic<std::uint64_t> max_ns;    ///< longest timed call
  std::array<std::atomic<std::uint64_t>, kStatsBuckets> buckets;  ///< timed calls by latency
  std::atomic<std::uint64_t> elements;       ///< elements a stream function wrote
  std::atomic<std::uint64_t> element_bytes;  ///< bytes of those elements' slots and pieces
  std::uint64_t reserved;
};

/// A stream's ring, its entries and their windows are aligned to this many bytes; a ring has at
/// most kStreamMaxEntries entries (far below 2^29, so that counter distances modulo 2^30 are
/// unambiguous).
inline constexpr std::uint32_t kStreamEntryAlign = 16;
inline constexpr std::uint32_t kStreamMaxEntries = 1U << 20U;

/// A ring's returns array holds 1 to kStreamMaxReturns buffer ids (StreamRing::return_capacity).
inline constexpr std::uint32_t kStreamMaxReturns = 2 * kStreamMaxEntries;

/// Stream counters (StreamRing::written, read) count entries modulo 2^30; bit 31 is kSleeperBit.
inline constexpr std::uint32_t kStreamCountMask = (1U << 30U) - 1;
/// StreamRing::written: the function has returned or thrown; no entry follows those written.
inline constexpr std::uint32_t kStreamEnded = 1U << 30U;

/// The header of a stream call's ring (256 bytes, section 7.8), at the start of the result
/// window the client offers (CommandBlock::result_offset). The returns array follows it:
/// `return_capacity` u64 buffer ids the client gives back, id number k at k % return_capacity;
/// then, from stream_entries_offset(return_capacity), `capacity` entries of `entry_size` bytes.
/// An entry holds one element: its slot (the function's return_size bytes) at offset 0, then the
/// pieces it points to from `window_offset` to the entry's end (more go into buffers).
///    0 capacity    4 entry_size    8 window_offset   12 return_capacity   (the client's, read
///                                                                          once by the server)
///   64 written    72 taken          (the server's)
///  128 read      136 returned       (the client's)
struct StreamRing {
  std::uint32_t capacity;         ///< entries: elements written but not yet read, at most
  std::uint32_t entry_size;       ///< bytes per entry, a multiple of 16
  std::uint32_t window_offset;    ///< from an entry's start to its pieces, a multiple of 16
  std::uint32_t return_capacity;  ///< ids the returns array holds, 1 to kStreamMaxReturns
  std::array<std::uint8_t, 48> pad0;
  /// Entries published, modulo 2^30 | kStreamEnded | kSleeperBit (the reader sleeps on it).
  std::atomic<std::uint32_t> written;
  std::uint32_t reserved1;
  std::atomic<std::uint64_t> taken;  ///< ids of `returns` the server has released
  std::array<std::uint8_t, 48> pad1;
  /// Entries consumed, modulo 2^30 | kSleeperBit (the writer sleeps on it, the ring full).
  std::atomic<std::uint32_t> read;
  std::uint32_t reserved2;
  std::atomic<std::uint64_t> returned;  ///< ids the client has put into the returns array
  std::array<std::uint8_t, 112> pad2;
};

// --- The pinned layout --------------------------------------------------------------------------

static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint32_t>) == 4 && sizeof(std::atomic<std::uint64_t>) == 8);

static_assert(std::is_standard_layout_v<SegmentHeader>);
static_assert(sizeof(SegmentHeader) == 256);
static_assert(offsetof(SegmentHeader, magic) == 0);
static_assert(offsetof(SegmentHeader, format_version) == 8);
static_assert(offsetof(SegmentHeader, header_size) == 12);
static_assert(offsetof(SegmentHeader, segment_size) == 16);
static_assert(offsetof(SegmentHeader, layout_hash) == 24);
static_assert(offsetof(SegmentHeader, function_table_offset) == 32);
static_assert(offsetof(SegmentHeader, function_count) == 40);
static_assert(offsetof(SegmentHeader, argument_count) == 44);
static_assert(offsetof(SegmentHeader, argument_table_offset) == 48);
static_assert(offsetof(SegmentHeader, type_table_offset) == 56);
static_assert(offsetof(SegmentHeader, type_count) == 64);
static_assert(offsetof(SegmentHeader, string_table_size) == 68);
static_assert(offsetof(SegmentHeader, string_table_offset) == 72);
static_assert(offsetof(SegmentHeader, channel_table_offset) == 80);
static_assert(offsetof(SegmentHeader, channel_count) == 88);
static_assert(offsetof(SegmentHeader, frame_size) == 92);
static_assert(offsetof(SegmentHeader, channel_stride) == 96);
static_assert(offsetof(SegmentHeader, heap_offset) == 104);
static_assert(offsetof(SegmentHeader, heap_size) == 112);
static_assert(offsetof(SegmentHeader, server_pid) == 120);
static_assert(offsetof(SegmentHeader, reserved0) == 124);
static_assert(offsetof(SegmentHeader, server_start_time) == 128);
static_assert(offsetof(SegmentHeader, created_unix_ms) == 136);
static_assert(offsetof(SegmentHeader, state) == 144);
static_assert(offsetof(SegmentHeader, reserved1) == 148);
static_assert(offsetof(SegmentHeader, member_table_offset) == 152);
static_assert(offsetof(SegmentHeader, member_count) == 160);
static_assert(offsetof(SegmentHeader, reserved2) == 164);
static_assert(offsetof(SegmentHeader, stats_offset) == 168);
static_assert(offsetof(SegmentHeader, stats_size) == 176);
static_assert(offsetof(SegmentHeader, stats_record_size) == 184);
static_assert(offsetof(SegmentHeader, stats_bucket_count) == 188);
static_assert(offsetof(SegmentHeader, server_pid_namespace) == 192);
static_assert(offsetof(SegmentHeader, reserved) == 200);

static_assert(std::is_trivially_copyable_v<FunctionMetadata>);
static_assert(sizeof(FunctionMetadata) == 48);
static_assert(offsetof(FunctionMetadata, name) == 0);
static_assert(offsetof(FunctionMetadata, doc) == 4);
static_assert(offsetof(FunctionMetadata, first_argument) == 8);
static_assert(offsetof(FunctionMetadata, arity) == 12);
static_assert(offsetof(FunctionMetadata, return_type) == 16);
static_assert(offsetof(FunctionMetadata, return_offset) == 20);
static_assert(offsetof(FunctionMetadata, return_size) == 24);
static_assert(offsetof(FunctionMetadata, frame_size) == 28);
static_assert(offsetof(FunctionMetadata, signature_hash) == 32);
static_assert(offsetof(FunctionMetadata, signature) == 40);
static_assert(offsetof(FunctionMetadata, flags) == 44);

static_assert(std::is_trivially_copyable_v<ArgumentMetadata>);
static_assert(sizeof(ArgumentMetadata) == 16);
static_assert(offsetof(ArgumentMetadata, name) == 0);
static_assert(offsetof(ArgumentMetadata, type) == 4);
static_assert(offsetof(ArgumentMetadata, offset) == 8);
static_assert(offsetof(ArgumentMetadata, size) == 12);

static_assert(std::is_trivially_copyable_v<TypeDesc>);
static_assert(sizeof(TypeDesc) == 32);
static_assert(offsetof(TypeDesc, kind) == 0);
static_assert(offsetof(TypeDesc, flags) == 1);
static_assert(offsetof(TypeDesc, reserved0) == 2);
static_assert(offsetof(TypeDesc, element) == 4);
static_assert(offsetof(TypeDesc, count) == 8);
static_assert(offsetof(TypeDesc, size) == 16);
static_assert(offsetof(TypeDesc, align) == 20);
static_assert(offsetof(TypeDesc, name) == 24);
static_assert(offsetof(TypeDesc, first_member) == 28);

static_assert(std::is_trivially_copyable_v<MemberDesc>);
static_assert(sizeof(MemberDesc) == 16);
static_assert(offsetof(MemberDesc, name) == 0);
static_assert(offsetof(MemberDesc, type) == 4);
static_assert(offsetof(MemberDesc, value) == 8);

static_assert(std::is_trivially_copyable_v<VarSlot>);
static_assert(sizeof(VarSlot) == 24 && alignof(VarSlot) == 8);
static_assert(offsetof(VarSlot, offset) == 0);
static_assert(offsetof(VarSlot, length) == 8);
static_assert(offsetof(VarSlot, buffer) == 16);

static_assert(std::is_trivially_copyable_v<NdSlot>);
static_assert(sizeof(NdSlot) == 160 && alignof(NdSlot) == 8);
static_assert(offsetof(NdSlot, data) == 0);
static_assert(offsetof(NdSlot, rank) == 24);
static_assert(offsetof(NdSlot, reserved) == 28);
static_assert(offsetof(NdSlot, shape) == 32);
static_assert(offsetof(NdSlot, strides) == 96);

static_assert(std::is_standard_layout_v<CommandBlock>);
static_assert(sizeof(CommandBlock) == 1056);
static_assert(offsetof(CommandBlock, owner) == 0);
static_assert(offsetof(CommandBlock, error_type) == 8);
static_assert(offsetof(CommandBlock, error_message) == 128);
static_assert(offsetof(CommandBlock, deadline_ns) == 1016);
static_assert(offsetof(CommandBlock, state) == 1024);
static_assert(offsetof(CommandBlock, state) % kCacheLine == 0, "the hot line starts a cache line");
static_assert(offsetof(CommandBlock, function_index) == 1028);
static_assert(offsetof(CommandBlock, status) == 1032);
static_assert(offsetof(CommandBlock, call_flags) == 1036);
static_assert(offsetof(CommandBlock, result_offset) == 1040);
static_assert(offsetof(CommandBlock, result_capacity) == 1048);
static_assert(kFrameOffset % 16 == 0, "frame slots may need 16-byte alignment");

static_assert(std::is_standard_layout_v<StatsRecord>);
static_assert(sizeof(StatsRecord) == 384 && sizeof(StatsRecord) % kCacheLine == 0);
static_assert(offsetof(StatsRecord, calls) == 0);
static_assert(offsetof(StatsRecord, errors) == 8);
static_assert(offsetof(StatsRecord, timed) == 16);
static_assert(offsetof(StatsRecord, total_ns) == 24);
static_assert(offsetof(StatsRecord, max_ns) == 32);
static_assert(offsetof(StatsRecord, buckets) == 40);
static_assert(offsetof(StatsRecord, elements) == 360);
static_assert(offsetof(StatsRecord, element_bytes) == 368);
static_assert(offsetof(StatsRecord, reserved) == 376);

static_assert(std::is_standard_layout_v<StreamRing>);
static_assert(sizeof(StreamRing) == 256);
static_assert(offsetof(StreamRing, capacity) == 0);
static_assert(offsetof(StreamRing, entry_size) == 4);
static_assert(offsetof(StreamRing, window_offset) == 8);
static_assert(offsetof(StreamRing, written) == 64);
static_assert(offsetof(StreamRing, taken) == 72);
static_assert(offsetof(StreamRing, read) == 128);
static_assert(offsetof(StreamRing, returned) == 136);
static_assert(offsetof(StreamRing, return_capacity) == 12);

/// Rounds `n` up to a multiple of `alignment` (a power of two).
constexpr std::uint64_t align_up(std::uint64_t n, std::uint64_t alignment) {
  return (n + alignment - 1) & ~(alignment - 1);
}

/// Where a stream ring's entries begin, from the ring's start: after the header and a returns
/// array of `return_capacity` ids (section 7.8).
constexpr std::uint64_t stream_entries_offset(std::uint32_t return_capacity) {
  return align_up(sizeof(StreamRing) + std::uint64_t{8} * return_capacity, kStreamEntryAlign);
}

/// The returns array of the ring at `ring`, which lies in shared memory: the header says how long.
inline std::atomic<std::uint64_t>* stream_returns(StreamRing* ring) {
  return reinterpret_cast<std::atomic<std::uint64_t>*>(reinterpret_cast<std::byte*>(ring) +
                                                       sizeof(StreamRing));
}

}  // namespace shmrpc::layout
