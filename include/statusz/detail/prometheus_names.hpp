// statusz::detail::PrometheusNames: the family names of the Prometheus /
// OpenMetrics exposition (prometheus.hpp), decided for the whole output at
// once, after the registry's one read walk, so that they never depend on the
// order families were registered in.
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
//     renamed; the other family is. Nor is a family a gauge declares for
//     itself (GaugeExposition, gauge.hpp): its name is kept as it is, with
//     no prefix, and other families give way to it as to statusz's own.
//  3. Renaming appends '_' and 8 hex digits of the 64-bit FNV-1a hash of the
//     family's key (stem, '\n', HELP text: its path and role), a function of
//     the path alone, stable across restarts, hosts and versions. It repeats
//     (hashing the key with a round number) in the unlikely case the new name
//     clashes again.
// Cost: add() is one copy of the name (and of a path not seen just before)
// into flat buffers, no allocation per family once they have grown;
// resolve() is one open-addressing hash table over the F names, O(F), and
// hashes keys only of the families it renames.
// Thread-safety: none; one per rendering.
#pragma once

#include <cstdint>
#include <stdexcept>  // std::logic_error
#include <string>
#include <string_view>
#include <vector>

#include "ascii.hpp"
#include "hash.hpp"

namespace statusz::detail {

// "applications.servlet.chatHttp" -> "applications_servlet_chat_http", into
// `out` (its previous content replaced, its capacity reused).
inline void snake_case_into(std::string& out, std::string_view path) {
  out.clear();
  out.reserve(path.size() + 8);
  char prev = '_';
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (ascii_is_upper(c)) {
      const bool next_lower =
          i + 1 < path.size() && ascii_is_lower(path[i + 1]);
      if (!out.empty() && out.back() != '_' &&
          (ascii_is_lower(prev) || ascii_is_digit(prev) ||
           (ascii_is_upper(prev) && next_lower))) {
        out.push_back('_');
      }
      out.push_back(ascii_lower(c));
    } else if (ascii_is_lower(c) || ascii_is_digit(c)) {
      out.push_back(c);
    } else if (out.empty() || out.back() != '_') {
      out.push_back('_');
    }
    prev = c;
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
}

inline std::string snake_case(std::string_view path) {
  std::string out;
  snake_case_into(out, path);
  return out;
}

class PrometheusNames {
 public:
  // The sample-name suffixes of every OpenMetrics 1.0 and text 0.0.4 type.
  static constexpr std::string_view kReservedSuffixes[] = {
      "_total",  "_created", "_count",  "_sum",
      "_bucket", "_info",    "_gcount", "_gsum"};

  explicit PrometheusNames(std::string_view prefix)
      : prefix_(snake_case(prefix)) {
    const std::size_t letters = prefix_.find_first_not_of('_');
    prefix_.erase(0, letters == std::string::npos ? prefix_.size() : letters);
    if (!prefix_.empty() && ascii_is_digit(prefix_[0])) {
      prefix_.insert(0, "statusz_");
    }
  }

  // Rule 1: the name of `stem` before any renaming.
  std::string plain_name(std::string_view stem) const {
    std::string out;
    append_plain(out, snake_case(stem), {});
    return out;
  }

  // Adds a family: stem `path` + `suffix` (a suffix such as "_rate" whose
  // snake_case is itself), HELP text help_head + help_path + help_tail.
  // `suffix`, `help_head` and `help_tail` must outlive this object (string
  // literals); `fixed` marks statusz's own families. Returns the family's
  // name before renaming, valid until the next add().
  std::string_view add(std::string_view path, std::string_view suffix,
                       std::string_view help_head, std::string_view help_path,
                       std::string_view help_tail, bool fixed) {
    return add(path, suffix, help_head, help_path, help_tail, fixed, false);
  }
  // A family named `name` as it is (a valid metric name: no prefix, no
  // snake_case), fixed.
  std::string_view add_verbatim(std::string_view name) {
    return add(name, {}, {}, {}, {}, true, true);
  }

  std::size_t size() const noexcept { return families_.size(); }
  std::string_view name(std::size_t family) const noexcept {
    const Family& f = families_[family];
    return std::string_view(names_.data() + f.name_off, f.name_len);
  }
  // The length of the name before renaming (a prefix of name()).
  std::size_t plain_size(std::size_t family) const noexcept {
    return families_[family].plain_len;
  }
  bool renamed(std::size_t family) const noexcept {
    return families_[family].name_len != families_[family].plain_len;
  }

  // Renames clashing families (rules 2 and 3); returns how many were.
  std::size_t resolve() {
    std::size_t total = 0;
    for (std::uint64_t round = 0; round < 8; ++round) {
      index();
      renamed_.clear();
      for (std::size_t i = 0; i < families_.size(); ++i) {
        if (clashes(i)) renamed_.push_back(i);
      }
      if (renamed_.empty()) return total;
      for (std::size_t i : renamed_) {
        Family& f = families_[i];
        if (f.name_len == f.plain_len) ++total;
        const std::size_t off = names_.size();
        names_.append(names_, f.name_off, f.plain_len);
        names_.push_back('_');
        append_hash_suffix(names_, f, round);
        f.name_off = off;
        f.name_len = names_.size() - off;
      }
    }
    throw std::logic_error("statusz: metric names still clash");
  }

 private:
  std::string_view add(std::string_view path, std::string_view suffix,
                       std::string_view help_head, std::string_view help_path,
                       std::string_view help_tail, bool fixed, bool verbatim) {
    if (path != last_path_) {
      last_path_.assign(path.data(), path.size());
      snake_case_into(last_snake_, path);
      path_off_ = paths_.size();
      paths_ += path;
    }
    Family f;
    f.path_off = path_off_;
    f.path_len = path.size();
    if (help_path.empty()) {
      f.help_path_len = 0;
    } else if (help_path == path) {
      f.help_path_off = path_off_;
      f.help_path_len = path.size();
    } else {
      f.help_path_off = paths_.size();
      f.help_path_len = help_path.size();
      paths_ += help_path;
    }
    f.suffix = suffix;
    f.help_head = help_head;
    f.help_tail = help_tail;
    f.fixed = fixed;
    f.name_off = names_.size();
    if (verbatim) {
      names_ += path;
    } else {
      append_plain(names_, last_snake_, suffix);
    }
    f.name_len = names_.size() - f.name_off;
    f.plain_len = f.name_len;
    families_.push_back(f);
    if (fixed) fixed_.push_back(families_.size() - 1);
    return name(families_.size() - 1);
  }

  struct Family {
    std::size_t path_off = 0, path_len = 0;
    std::size_t help_path_off = 0, help_path_len = 0;
    std::string_view suffix, help_head, help_tail;
    std::size_t name_off = 0, name_len = 0, plain_len = 0;
    bool fixed = false;
  };
  struct Slot {
    std::uint64_t hash = 0;
    std::size_t family = 0;  // + 1; 0: empty slot
    std::size_t count = 0;   // families with this name
  };

  void append_plain(std::string& out, std::string_view snake,
                    std::string_view suffix) const {
    const std::size_t at = out.size();
    out += prefix_;
    if (!prefix_.empty() && !(snake.empty() && suffix.empty())) {
      out.push_back('_');
    }
    out += snake;
    out += suffix;
    if (!prefix_.empty()) return;  // starts with a letter already
    std::size_t lead = at;
    while (lead < out.size() && out[lead] == '_') ++lead;
    out.erase(at, lead - at);
    if (out.size() == at) {
      out += "statusz";
    } else if (ascii_is_digit(out[at])) {
      out.insert(at, "statusz_");
    }
  }

  // Builds the table of the current names.
  void index() {
    std::size_t cap = 16;
    while (cap < families_.size() * 2) cap *= 2;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    for (std::size_t i = 0; i < families_.size(); ++i) {
      const std::string_view n = name(i);
      const std::uint64_t h = hash_bytes(n);
      std::size_t s = h & mask_;
      for (;; s = (s + 1) & mask_) {
        Slot& slot = slots_[s];
        if (slot.family == 0) {
          slot = Slot{h, i + 1, 1};
          break;
        }
        if (slot.hash == h && name(slot.family - 1) == n) {
          ++slot.count;
          break;
        }
      }
    }
  }

  const Slot* find(std::string_view n) const noexcept {
    const std::uint64_t h = hash_bytes(n);
    for (std::size_t s = h & mask_;; s = (s + 1) & mask_) {
      const Slot& slot = slots_[s];
      if (slot.family == 0) return nullptr;
      if (slot.hash == h && name(slot.family - 1) == n) return &slot;
    }
  }

  // Whether family i must be renamed this round.
  bool clashes(std::size_t i) const noexcept {
    if (families_[i].fixed) return false;
    const std::string_view n = name(i);
    if (find(n)->count > 1) return true;
    for (std::string_view suffix : kReservedSuffixes) {
      // n is another family's name plus a suffix: n is the longer.
      if (n.size() > suffix.size() &&
          n.substr(n.size() - suffix.size()) == suffix &&
          find(n.substr(0, n.size() - suffix.size())) != nullptr) {
        return true;
      }
    }
    // A fixed family's name is n plus a suffix: n gives way.
    for (std::size_t g : fixed_) {
      const std::string_view longer = name(g);
      if (longer.size() <= n.size() || longer.substr(0, n.size()) != n) {
        continue;
      }
      for (std::string_view suffix : kReservedSuffixes) {
        if (longer.substr(n.size()) == suffix) return true;
      }
    }
    return false;
  }

  // 8 hex digits of FNV-1a 64 of the key (stem '\n' help), then the round.
  void append_hash_suffix(std::string& out, const Family& f,
                          std::uint64_t round) const {
    std::uint64_t h = 14695981039346656037ull;
    const auto mix = [&h](std::string_view s) {
      for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
      }
    };
    const std::string_view path(paths_.data() + f.path_off, f.path_len);
    mix(path);
    mix(f.suffix);
    mix("\n");
    mix(f.help_head);
    mix(std::string_view(paths_.data() + f.help_path_off, f.help_path_len));
    mix(f.help_tail);
    for (std::uint64_t r = round; r != 0; r >>= 8) {
      h ^= r & 0xff;
      h *= 1099511628211ull;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    char hex[8];
    for (int i = 7; i >= 0; --i) {
      hex[i] = kHex[h & 15];
      h >>= 4;
    }
    out.append(hex, 8);
  }

  std::string prefix_;
  std::string last_path_;
  std::string last_snake_;
  std::size_t path_off_ = 0;
  std::string paths_;  // the paths of the key, each once
  std::string names_;  // every name, plain and renamed
  std::vector<Family> families_;
  std::vector<std::size_t> fixed_;
  std::vector<std::size_t> renamed_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

}  // namespace statusz::detail
