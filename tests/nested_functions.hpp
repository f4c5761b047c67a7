#pragma once
// Functions of nested values for the test servers (C++ tests and the Python type server):
// vectors of strings and of vectors, maps, optionals and tuples of strings and arrays, and an
// image and its mask out of one call.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "shmrpc/array_view.hpp"
#include "shmrpc/result_array.hpp"
#include "shmrpc/server.hpp"

namespace shmrpc::test {

inline void define_nested_functions(Server& server) {
  using Words = std::vector<std::string>;
  server
      .def("join",
           [](const Words& words, const std::string& separator) {
             std::string text;
             for (const std::string& word : words) {
               text += (text.empty() ? "" : separator) + word;
             }
             return text;
           },
           {"words", "separator"})
      .def("split",
           [](std::string_view text) {
             Words words;
             for (std::size_t start = 0; start <= text.size();) {
               const std::size_t end = std::min(text.find(' ', start), text.size());
               words.emplace_back(text.substr(start, end - start));
               start = end + 1;
             }
             return words;
           },
           {"text"})
      .def("repeat_word",
           [](const std::string& word, std::uint64_t n) {
             return Words(static_cast<std::size_t>(n), word);
           },
           {"word", "n"})
      .def("echo_words", [](const Words& words) { return words; }, {"words"})
      .def("echo_groups", [](const std::vector<Words>& groups) { return groups; }, {"groups"})
      .def("word_lengths",
           [](const Words& words) {
             std::map<std::string, std::int64_t> lengths;
             for (const std::string& word : words) {
               lengths[word] = static_cast<std::int64_t>(word.size());
             }
             return lengths;
           },
           {"words"})
      .def("totals",
           [](const std::map<std::string, std::vector<double>>& series) {
             std::map<std::string, double> totals;
             for (const auto& [name, values] : series) {
               totals[name] = std::accumulate(values.begin(), values.end(), 0.0);
             }
             return totals;
           },
           {"series"})
      .def("number_names", [](const std::map<std::int32_t, std::string>& names) { return names; },
           {"names"})
      .def("shout",
           [](std::optional<std::string> name) {
             if (name) {
               std::transform(name->begin(), name->end(), name->begin(),
                              [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
             }
             return name;
           },
           {"name"})
      .def("describe",
           [](std::span<const double> values) {
             std::optional<double> largest;
             if (!values.empty()) {
               largest = *std::max_element(values.begin(), values.end());
             }
             return std::tuple(std::to_string(values.size()) + " values",
                               std::vector<double>(values.rbegin(), values.rend()), largest);
           },
           {"values"})
      .def("tag", [](std::pair<std::string, std::int32_t> tag) { return tag; }, {"tag"})
      .def("threshold",
           [](ArrayView<const float, 2> image, float level) {
             // An image and its mask, each filled in place in a buffer of its own.
             ResultNdArray<float, 2> clipped({image.shape(0), image.shape(1)});
             ResultNdArray<std::uint8_t, 2> mask({image.shape(0), image.shape(1)});
             for (std::size_t i = 0; i < image.shape(0); ++i) {
               for (std::size_t j = 0; j < image.shape(1); ++j) {
                 const bool above = image(i, j) > level;
                 clipped(i, j) = above ? image(i, j) : 0.0F;
                 mask(i, j) = above ? 1 : 0;
               }
             }
             return std::tuple(std::move(clipped), std::move(mask));
           },
           {"image", "level"});
}

}  // namespace shmrpc::test
