// statusz::detail::PrometheusNames: the family names of the Prometheus /
// OpenMetrics exposition (prometheus.hpp), decided for the whole output at
// once so that they depend on which families exist, never on the order they
// were registered in.
//
// The rule:
//  1. A name is the prefix, '_', and the family's stem (its path), both in
//     snake_case (an empty prefix: the stem alone). Names start with a letter:
//     leading underscores (OpenMetrics reserves them) are dropped, and a name
//     that then starts with a digit, or is empty, gets "statusz_" in front
//     (so prefix "9lives" gives statusz_9lives_..., never _9lives_...).
//  2. A family is renamed when its name is another family's name (two paths
//     that sanitise alike, such as a.bC and a.b_c; a path meeting a meter's
//     `_rate` or a keyed counter's `_dropped` family), or when its name is
//     another family's name plus a reserved sample suffix (_total, _created,
//     _count, _sum, _bucket, _info, _gcount, _gsum): of those two, the longer
//     name is renamed, whichever was registered first. statusz's own families
//     (probe_status, probe_duration_seconds, status, server_info) are never
//     renamed; the other family is.
//  3. Renaming appends '_' and 8 hex digits of the 64-bit FNV-1a hash of the
//     family's key (its path and role), a function of the path alone, stable
//     across restarts, hosts and versions. It repeats (hashing the key with a
//     round number) in the unlikely case the new name clashes again.
// Cost: O(F log F) for F families, once per exposition. Not thread-safe:
// one per rendering.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>  // std::logic_error
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace statusz {
namespace detail {

// "applications.servlet.chatHttp" -> "applications_servlet_chat_http".
inline std::string snake_case(std::string_view path) {
  std::string out;
  out.reserve(path.size() + 8);
  char prev = '_';
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    const bool upper = c >= 'A' && c <= 'Z';
    const bool lower = c >= 'a' && c <= 'z';
    const bool digit = c >= '0' && c <= '9';
    if (upper) {
      const bool prev_lower_or_digit =
          (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9');
      const bool next_lower =
          i + 1 < path.size() && path[i + 1] >= 'a' && path[i + 1] <= 'z';
      const bool prev_upper = prev >= 'A' && prev <= 'Z';
      if (!out.empty() && out.back() != '_' &&
          (prev_lower_or_digit || (prev_upper && next_lower))) {
        out.push_back('_');
      }
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (lower || digit) {
      out.push_back(c);
    } else if (out.empty() || out.back() != '_') {
      out.push_back('_');
    }
    prev = c;
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

class PrometheusNames {
 public:
  // The sample-name suffixes of every OpenMetrics 1.0 and text 0.0.4 type.
  static constexpr std::string_view kReservedSuffixes[] = {
      "_total",  "_created", "_count",  "_sum",
      "_bucket", "_info",    "_gcount", "_gsum"};

  explicit PrometheusNames(std::string_view prefix)
      : prefix_(snake_case(prefix)) {}

  // Rule 1: the name before any renaming.
  std::string plain_name(std::string_view stem) const {
    std::string name = prefix_;
    const std::string s = snake_case(stem);
    if (!name.empty() && !s.empty()) name.push_back('_');
    name += s;
    const std::size_t letters = name.find_first_not_of('_');
    name.erase(0, letters == std::string::npos ? name.size() : letters);
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
      name.insert(0, name.empty() ? "statusz" : "statusz_");
    }
    return name;
  }

  // Pass 1: every family of the output. `key` tells families with the same
  // stem apart (their role); `fixed` marks statusz's own families.
  void declare(std::string_view stem, std::string_view key, bool fixed) {
    Family f;
    f.key = std::string(stem);
    f.key.push_back('\n');
    f.key += key;
    f.plain = plain_name(stem);
    f.name = f.plain;
    f.fixed = fixed;
    if (index_.count(f.key) == 0) {
      index_.emplace(f.key, families_.size());
      families_.push_back(std::move(f));
    }
  }

  // Renames clashing families (see the rule above).
  void resolve() {
    for (std::uint64_t round = 0; round < 8; ++round) {
      std::map<std::string, std::size_t> count;  // families per name
      for (const Family& f : families_) ++count[f.name];
      std::vector<std::size_t> renamed;
      for (std::size_t i = 0; i < families_.size(); ++i) {
        if (clashes(i, count)) renamed.push_back(i);
      }
      if (renamed.empty()) return;
      for (std::size_t i : renamed) {
        Family& f = families_[i];
        f.name = f.plain + "_" + hash_suffix(f.key, round);
      }
    }
    throw std::logic_error("statusz: metric names still clash");
  }

  // Pass 2: the name of a declared family.
  const std::string& name(std::string_view stem, std::string_view key) const {
    std::string k(stem);
    k.push_back('\n');
    k += key;
    const auto it = index_.find(k);
    if (it == index_.end()) {
      throw std::logic_error("statusz: undeclared metric family '" + k + "'");
    }
    return families_[it->second].name;
  }

 private:
  struct Family {
    std::string key;
    std::string plain;
    std::string name;
    bool fixed = false;
  };

  // Whether family i must be renamed this round.
  bool clashes(std::size_t i,
               const std::map<std::string, std::size_t>& count) const {
    const Family& f = families_[i];
    if (f.fixed) return false;
    if (count.at(f.name) > 1) return true;
    for (std::string_view suffix : kReservedSuffixes) {
      // f's name is another family's name plus a suffix: f is the longer.
      if (f.name.size() > suffix.size() &&
          std::string_view(f.name).substr(f.name.size() - suffix.size()) ==
              suffix &&
          count.count(f.name.substr(0, f.name.size() - suffix.size())) != 0) {
        return true;
      }
      // A fixed family's name is f's name plus a suffix: f gives way.
      const std::string longer = f.name + std::string(suffix);
      if (count.count(longer) != 0) {
        for (const Family& g : families_) {
          if (g.fixed && g.name == longer) return true;
        }
      }
    }
    return false;
  }

  static std::string hash_suffix(const std::string& key, std::uint64_t round) {
    std::uint64_t h = 14695981039346656037ull;  // FNV-1a 64
    const auto mix = [&h](unsigned char c) {
      h ^= c;
      h *= 1099511628211ull;
    };
    for (char c : key) mix(static_cast<unsigned char>(c));
    for (std::uint64_t r = round; r != 0; r >>= 8) {
      mix(static_cast<unsigned char>(r & 0xff));
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(8, '0');
    for (int i = 7; i >= 0; --i) {
      out[static_cast<std::size_t>(i)] = kHex[h & 15];
      h >>= 4;
    }
    return out;
  }

  std::string prefix_;
  std::vector<Family> families_;
  std::map<std::string, std::size_t> index_;
};

}  // namespace detail
}  // namespace statusz
