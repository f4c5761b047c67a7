#include "fuzz_functions.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../server_example/particles.hpp"
#include "../tests/record_types.hpp"
#include "shmrpc/result_array.hpp"

namespace shmrpc::fuzz {
namespace {

// Bounds what a handler allocates, so that the fuzzer's RSS stays small; results this long are
// still larger than any heap fuzz_dispatch offers (kResultTooLarge).
constexpr std::size_t kMaxResultBytes = 16 * 1024;

// A value derived from `value`, for every scalar type. Integers wrap through their unsigned type
// (signed overflow would be undefined behaviour in the handler, not in shmrpc).
template <class T>
T bump(T value) {
  if constexpr (std::is_same_v<T, bool>) {
    return !value;
  } else if constexpr (std::is_floating_point_v<T>) {
    return value * T{2};
  } else {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(value) + 1U));
  }
}

// a * b modulo 2^N for 32- and 64-bit integers (narrower ones would be promoted to int).
template <class T>
T wrapping_multiply(T a, T b) {
  static_assert(sizeof(T) >= sizeof(unsigned));
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
}

// Argument names, spelled out so that a single name can never be taken for the doc string (with
// a plain braced list, def(name, function, {"x"}) could pick the doc overload).
using Names = std::vector<std::string>;

// Not derived from std::runtime_error, so its demangled name is what the client sees.
class FuzzError : public std::exception {
 public:
  const char* what() const noexcept override { return "shmrpc::fuzz::FuzzError"; }
};

void add_scalars(FunctionRegistry& r) {
  r.def("bump_bool", &bump<bool>, Names{"value"});
  r.def("bump_i8", &bump<std::int8_t>, Names{"value"});
  r.def("bump_i16", &bump<std::int16_t>, Names{"value"});
  r.def("bump_i32", &bump<std::int32_t>, Names{"value"});
  r.def("bump_i64", &bump<std::int64_t>, Names{"value"});
  r.def("bump_u8", &bump<std::uint8_t>, Names{"value"});
  r.def("bump_u16", &bump<std::uint16_t>, Names{"value"});
  r.def("bump_u32", &bump<std::uint32_t>, Names{"value"});
  r.def("bump_u64", &bump<std::uint64_t>, Names{"value"});
  r.def("bump_f32", &bump<float>, Names{"value"});
  r.def("bump_f64", &bump<double>, Names{"value"});
  // Every alignment in one frame, so slots with padding between them.
  r.def(
      "mix",
      [](std::int8_t a, std::int64_t b, bool c, std::uint16_t d, float e, double f, std::uint32_t g,
         std::int16_t h) {
        return static_cast<double>(a) + static_cast<double>(b) + (c ? 1.0 : 0.0) +
               static_cast<double>(d) + static_cast<double>(e) + f + static_cast<double>(g) +
               static_cast<double>(h);
      },
      Names{"a", "b", "c", "d", "e", "f", "g", "h"}, "Sum of eight scalars of different widths.");
}

void add_arrays(FunctionRegistry& r) {
  r.def(
      "reverse3",
      [](std::array<std::int32_t, 3> v) {
        std::reverse(v.begin(), v.end());
        return v;
      },
      Names{"v"});
  r.def(
      "transpose",
      [](const std::array<std::array<std::int16_t, 3>, 2>& m) {
        std::array<std::array<std::int16_t, 2>, 3> t{};
        for (std::size_t i = 0; i < 2; ++i) {
          for (std::size_t j = 0; j < 3; ++j) {
            t.at(j).at(i) = m.at(i).at(j);
          }
        }
        return t;
      },
      Names{"m"});
  r.def(
      "invert4",
      [](std::array<bool, 4> v) {
        for (bool& b : v) {
          b = !b;
        }
        return v;
      },
      Names{"v"});
  r.def(
      "count_grid",
      [](std::array<std::array<bool, 2>, 3> grid, std::array<std::uint64_t, 1> base) {
        std::uint64_t n = base[0];
        for (const auto& row : grid) {
          n += static_cast<std::uint64_t>(std::count(row.begin(), row.end(), true));
        }
        return n;
      },
      Names{"grid", "base"});
}

void add_spans(FunctionRegistry& r) {
  // Read-only spans.
  r.def(
      "sum_u8",
      [](std::span<const std::uint8_t> v) {
        std::uint64_t sum = 0;
        for (const std::uint8_t x : v) {
          sum += x;
        }
        return sum;
      },
      Names{"values"});
  r.def(
      "sum_f64",
      [](std::span<const double> v) {
        double sum = 0;
        for (const double x : v) {
          sum += x;
        }
        return sum;
      },
      Names{"values"});
  r.def(
      "dot_f32",
      [](std::span<const float> a, std::span<const float> b) {
        double sum = 0;
        for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
          sum += static_cast<double>(a[i]) * static_cast<double>(b[i]);
        }
        return sum;
      },
      Names{"a", "b"});
  r.def(
      "sum_points",
      [](std::span<const std::array<std::int32_t, 3>> points) {
        std::array<std::int64_t, 3> sum{};  // at most 4096 / 12 points: no overflow
        for (const auto& p : points) {
          for (std::size_t i = 0; i < 3; ++i) {
            sum.at(i) += p.at(i);
          }
        }
        return sum;
      },
      Names{"points"});
  r.def(
      "sum_i16_pairs",
      [](std::span<const std::array<std::array<std::int16_t, 2>, 2>> blocks) {
        std::int64_t sum = 0;
        for (const auto& block : blocks) {
          for (const auto& pair : block) {
            sum += pair[0] - pair[1];
          }
        }
        return sum;
      },
      Names{"blocks"});
  r.def(
      "count_true",
      [](std::span<const bool> v) {
        return static_cast<std::uint64_t>(std::count(v.begin(), v.end(), true));
      },
      Names{"values"});
  r.def(
      "count_true_triples",
      [](std::span<const std::array<bool, 3>> v) {
        std::uint64_t n = 0;
        for (const auto& t : v) {
          n += static_cast<std::uint64_t>(std::count(t.begin(), t.end(), true));
        }
        return n;
      },
      Names{"values"});

  // Mutable spans, written in place.
  r.def(
      "scale_i32",
      [](std::span<std::int32_t> v, std::int32_t factor) {
        for (std::int32_t& x : v) {
          x = wrapping_multiply(x, factor);
        }
      },
      Names{"values", "factor"});
  r.def(
      "negate_f64",
      [](std::span<double> v) {
        for (double& x : v) {
          x = -x;
        }
      },
      Names{"values"});
  r.def(
      "invert_bools",
      [](std::span<bool> v) {
        std::uint32_t flipped = 0;
        for (bool& b : v) {
          b = !b;
          ++flipped;
        }
        return flipped;
      },
      Names{"values"});
  r.def(
      "shift_points",
      [](std::span<std::array<std::uint16_t, 2>> points, std::uint16_t by) {
        for (auto& p : points) {
          p[0] = static_cast<std::uint16_t>(p[0] + by);
          p[1] = static_cast<std::uint16_t>(p[1] + by);
        }
      },
      Names{"points", "by"});
  r.def(
      "copy_bytes",
      [](std::span<const std::uint8_t> from, std::span<std::uint8_t> to) {
        // The two may overlap: both lie in the client's heap, where the client put them.
        const std::size_t n = std::min(from.size(), to.size());
        if (n != 0) {
          std::memmove(to.data(), from.data(), n);
        }
        return static_cast<std::uint64_t>(n);
      },
      Names{"from", "to"});
}

void add_strings(FunctionRegistry& r) {
  r.def(
      "length", [](std::string_view text) { return static_cast<std::uint64_t>(text.size()); },
      Names{"text"});
  r.def(
      "upper",
      [](std::string text) {
        for (char& c : text) {
          if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
          }
        }
        return text;
      },
      Names{"text"});
  r.def(
      "concat",
      [](const std::string& a, std::string_view b) {
        std::string joined = a;
        joined += b;
        return joined;
      },
      Names{"a", "b"});
  r.def(
      "repeat",
      [](std::string_view text, std::uint16_t times) {
        std::string out;
        for (std::uint16_t i = 0; i < times && out.size() + text.size() <= kMaxResultBytes; ++i) {
          out += text;
        }
        return out;
      },
      Names{"text", "times"});
  r.def("hello", [] { return std::string("hello"); });
  r.def("empty_string", [] { return std::string(); });
}

void add_vectors(FunctionRegistry& r) {
  r.def(
      "iota",
      [](std::int64_t start, std::uint16_t count) {
        std::vector<std::int64_t> out(count % 1024U);
        auto next = static_cast<std::uint64_t>(start);
        for (std::int64_t& x : out) {
          x = static_cast<std::int64_t>(next++);
        }
        return out;
      },
      Names{"start", "count"});
  r.def(
      "bytes_of",
      [](std::span<const std::uint8_t> v) { return std::vector<std::uint8_t>(v.begin(), v.end()); },
      Names{"values"});
  r.def(
      "halves",
      [](std::span<const double> v) {
        std::vector<double> out;
        out.reserve(v.size());
        for (const double x : v) {
          out.push_back(x / 2);
        }
        return out;
      },
      Names{"values"});
  r.def(
      "pairs",
      [](std::span<const std::array<bool, 2>> v) {
        return std::vector<std::array<bool, 2>>(v.begin(), v.end());
      },
      Names{"values"});
  r.def(
      "grid",
      [](std::uint8_t rows) {
        std::vector<std::array<std::int16_t, 3>> out(rows);
        for (std::size_t i = 0; i < out.size(); ++i) {
          out[i] = {static_cast<std::int16_t>(i), 1, -1};
        }
        return out;
      },
      Names{"rows"});
  r.def("no_items", [] { return std::vector<std::uint32_t>(); });
}

// Zero strides let a few bytes stand for any number of elements (numpy's broadcasting), so a
// function that visits every element does work the request chooses: bounded here, as a real
// server bounds its work.
constexpr std::size_t kMaxVisited = std::size_t{1} << 16U;

void check_work(std::size_t elements) {
  if (elements > kMaxVisited) {
    throw std::length_error("more elements than the fuzz server visits");
  }
}

void add_ndarrays(FunctionRegistry& r) {
  r.def(
      "nd_sum",
      [](ArrayView<const double> v) {
        check_work(v.size());
        double sum = 0;
        std::vector<std::size_t> index(v.rank());
        for (std::size_t n = 0; n < v.size(); ++n) {
          sum += v.at(index);
          for (std::size_t d = v.rank(); d-- > 0;) {
            if (++index[d] < v.shape(d)) {
              break;
            }
            index[d] = 0;
          }
        }
        return sum;
      },
      Names{"values"});
  r.def(
      "nd_negate",
      [](ArrayView<std::int16_t, 2> v) {
        check_work(v.size());
        if (v.empty()) {
          return;  // a shape like {2^60, 0}: no element, however many rows
        }
        for (std::size_t i = 0; i < v.shape(0); ++i) {
          for (std::size_t j = 0; j < v.shape(1); ++j) {
            v(i, j) = static_cast<std::int16_t>(-v(i, j));
          }
        }
      },
      Names{"values"});
  r.def(
      "nd_make",
      [](std::uint8_t rows, std::uint8_t columns) {
        ResultNdArray<float, 2> out({rows, columns});  // a buffer made for the caller
        for (std::size_t i = 0; i < out.size(); ++i) {
          out.data()[i] = static_cast<float>(i);
        }
        return out;
      },
      Names{"rows", "columns"});
}

void add_void_and_throwing(FunctionRegistry& r) {
  r.def("nothing", [] {});
  r.def(
      "sink", [](std::uint64_t, std::string_view, std::span<const std::int16_t>, bool) {},
      Names{"n", "text", "values", "flag"});
  r.def(
      "fail", [](std::string_view message) { throw std::runtime_error(std::string(message)); },
      Names{"message"});
  r.def(
      "fail_long",
      [](std::uint16_t length) -> std::int32_t {
        // Longer than CommandBlock::error_message: the server truncates it.
        throw std::length_error(std::string(length % 4096U, 'x'));
      },
      Names{"length"});
  r.def(
      "fail_custom", [](std::int32_t) -> std::array<std::int8_t, 2> { throw FuzzError(); },
      Names{"code"});
  r.def(
      "fail_unknown",
      [](std::int32_t code) -> std::vector<std::int64_t> {
        // The server must report exceptions of any type, not only std::exception.
        throw code;  // NOLINT(hicpp-exception-baseclass): that is the point
      },
      Names{"code"});
  r.def(
      "fail_or_text",
      [](bool should_fail, std::string_view text) {
        if (should_fail) {
          throw std::out_of_range("asked to fail");
        }
        return std::string(text);
      },
      Names{"should_fail", "text"});
}

// Structs, enums, optionals, tuples and complex numbers (tests/record_types.hpp): the server's
// checks of enumerators, bools inside structs and optional flags.
void add_records(FunctionRegistry& r) {
  using namespace shmrpc::test;  // NOLINT(google-build-using-namespace)
  r.def("fill", &fill, Names{"order", "filled"});
  r.def("opposite", &opposite, Names{"side"});
  r.def("best_price", &best_price, Names{"orders", "side"});
  r.def("or_zero", &or_zero, Names{"value"});
  r.def("triple", &triple, Names{"value"});
  r.def("rotate", &rotate, Names{"z", "by"});
  r.def("level_of", &level_of, Names{"box"});
  r.def("make_box", &make_box, Names{"level"});
  r.def("step", &step, Names{"particles", "dt"});
  r.def("count_side", &count_side, Names{"values", "side"});
  r.def(
      "sides", [](std::uint8_t count) { return sides(count); }, Names{"count"});
}

// Values that nest (docs/SPEC.md, section 6.7): handles to arrays of handles, as arguments
// (decode_nested checks every handle at every level, a map's keys for repeats) and as results
// (laid out by PieceWriter, placed in the window or a buffer made for them). Handles of one
// argument may all point at the same bytes, so what a handler visits is bounded here too.
void add_nested(FunctionRegistry& r) {
  using Words = std::vector<std::string>;
  r.def(
      "join_words",
      [](const Words& words, std::string_view separator) {
        std::string text;
        for (const std::string& word : words) {
          if (text.size() + separator.size() + word.size() > kMaxResultBytes) {
            break;
          }
          text += (text.empty() ? std::string_view() : separator);
          text += word;
        }
        return text;
      },
      Names{"words", "separator"});
  r.def(
      "count_words",
      [](const Words& words) {
        std::uint64_t bytes = 0;
        for (const std::string& word : words) {
          bytes += word.size();
        }
        return std::array<std::uint64_t, 2>{words.size(), bytes};
      },
      Names{"words"});
  r.def(
      "row_sums",
      [](const std::vector<std::vector<std::int32_t>>& rows) {
        std::vector<std::int64_t> sums;  // at most 2^12 / 4 elements a row: no overflow
        sums.reserve(rows.size());
        for (const auto& row : rows) {
          std::int64_t sum = 0;
          for (const std::int32_t x : row) {
            sum += x;
          }
          sums.push_back(sum);
        }
        return sums;
      },
      Names{"rows"});
  r.def(
      "series_totals",
      [](const std::map<std::string, std::vector<double>>& series) {
        std::map<std::string, double> totals;
        for (const auto& [name, values] : series) {
          double sum = 0;
          for (const double x : values) {
            sum += x;
          }
          totals.emplace(name, sum);
        }
        return totals;
      },
      Names{"series"});
  r.def(
      "number_names",
      [](const std::map<std::int32_t, std::string>& names) {
        std::map<std::int32_t, std::string> out;
        for (const auto& [number, name] : names) {
          out.emplace(bump(number), name.substr(0, 64));
        }
        return out;
      },
      Names{"names"});
  r.def(
      "shout",
      [](std::optional<std::string> name) {
        if (name) {
          for (char& c : *name) {
            if (c >= 'a' && c <= 'z') {
              c = static_cast<char>(c - 'a' + 'A');
            }
          }
        }
        return name;
      },
      Names{"name"});
  r.def(
      "describe",
      [](const std::vector<double>& values) {
        std::optional<double> largest;
        for (const double x : values) {
          largest = largest && *largest >= x ? *largest : x;
        }
        return std::tuple(std::to_string(values.size()) + " values",
                          std::vector<double>(values.rbegin(), values.rend()), largest);
      },
      Names{"values"});
  r.def(
      "split_words",
      [](std::string_view text) {
        Words words;  // at most 2^12 + 1 words: a result larger than any window
        for (std::size_t start = 0; start <= text.size();) {
          const std::size_t end = std::min(text.find(' ', start), text.size());
          words.emplace_back(text.substr(start, end - start));
          start = end + 1;
        }
        return words;
      },
      Names{"text"});
  r.def(
      "repeat_word",
      [](const std::string& word, std::uint16_t times) {
        const std::size_t n =
            word.empty() ? times % 512U
                         : std::min<std::size_t>(times % 512U, kMaxResultBytes / word.size());
        return Words(n, word);
      },
      Names{"word", "times"});
  r.def(
      "tag", [](std::pair<std::string, std::int32_t> tag) { return tag; }, Names{"tag"});
  r.def(
      "maybe_words",
      [](std::optional<Words> words, std::map<std::string, std::int64_t> extra) {
        std::size_t count = words ? words->size() : 0;
        return std::tuple(std::move(words), count + extra.size(), std::move(extra));
      },
      Names{"words", "extra"});
  r.def(
      "threshold",
      [](ArrayView<const float, 2> image, float level) {
        check_work(image.size());
        // An image and its mask, each made in a buffer of its own for the caller.
        ResultNdArray<float, 2> clipped({image.shape(0), image.shape(1)});
        ResultNdArray<std::uint8_t, 2> mask({image.shape(0), image.shape(1)});
        if (!image.empty()) {
          for (std::size_t i = 0; i < image.shape(0); ++i) {
            for (std::size_t j = 0; j < image.shape(1); ++j) {
              const bool above = image(i, j) > level;
              clipped(i, j) = above ? image(i, j) : 0.0F;
              mask(i, j) = above ? 1 : 0;
            }
          }
        }
        return std::tuple(std::move(clipped), std::move(mask));
      },
      Names{"image", "level"});
}

FunctionRegistry make_fuzz_registry() {
  FunctionRegistry r;
  add_scalars(r);
  add_arrays(r);
  add_spans(r);
  add_strings(r);
  add_vectors(r);
  add_ndarrays(r);
  add_void_and_throwing(r);
  add_records(r);
  add_nested(r);  // last: the indices of the others are those of older corpus inputs
  return r;
}

FunctionRegistry make_example_registry() {
  FunctionRegistry r;
  r.def(
      "add", [](std::int64_t a, std::int64_t) { return a; }, Names{"a", "b"},
      "Sum of two integers.");
  r.def(
      "dot", [](std::span<const double>, std::span<const double>) { return 0.0; }, Names{"a", "b"},
      "Dot product of two equally long vectors.");
  r.def(
      "scale", [](std::span<double>, double) {}, Names{"values", "factor"},
      "Multiplies values by factor, in place.");
  r.def(
      "stats", [](std::span<const float>) { return std::array<double, 4>{}; }, Names{"values"},
      "min, max, mean and standard deviation of values.");
  r.def(
      "greet", [](std::string_view name) { return std::string(name); }, Names{"name"},
      "A greeting for name.");
  r.def(
      "range", [](std::int64_t, std::int64_t, std::int64_t) { return std::vector<std::int64_t>(); },
      Names{"start", "stop", "step"}, "start, start + step, ... up to stop.");
  r.def(
      "step", [](std::span<demo::Particle>, double, demo::Floor) {},
      Names{"particles", "dt", "floor"}, "Advances particles by dt seconds under gravity.");
  r.def(
      "energy", [](std::span<const demo::Particle>) { return demo::Energy{}; }, Names{"particles"},
      "Total kinetic and potential energy.");
  r.def(
      "heaviest", [](std::span<const demo::Particle>) { return std::optional<demo::Particle>(); },
      Names{"particles"}, "The heaviest particle, or none if empty.");
  r.def(
      "sleep_ms", [](std::int32_t) {}, Names{"milliseconds"}, "Sleeps, then returns.");
  r.def(
      "fail", [](std::string_view) {}, Names{"message"}, "Throws std::runtime_error(message).");
  return r;
}

}  // namespace

const std::vector<FunctionDefinition>& fuzz_functions() {
  static const FunctionRegistry registry = make_fuzz_registry();
  return registry.functions();
}

const std::vector<FunctionDefinition>& example_functions() {
  static const FunctionRegistry registry = make_example_registry();
  return registry.functions();
}

}  // namespace shmrpc::fuzz
