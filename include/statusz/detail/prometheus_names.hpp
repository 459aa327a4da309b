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
// into flat buffers and a 32-byte record, no allocation once they have grown
// (reset() keeps them: a renderer that keeps its PrometheusNames across
// renderings allocates nothing here); resolve() is one open-addressing table
// of 8-byte slots over the F names, O(F), filled with batches of prefetched
// slots, then one sequential pass; it hashes keys only of the families it
// renames.
// Thread-safety: none; one rendering at a time.
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <stdexcept>  // std::logic_error, std::length_error
#include <string>
#include <string_view>
#include <vector>

#include "ascii.hpp"
#include "hash.hpp"

namespace statusz::detail {

// "applications.servlet.chatHttp" -> "applications_servlet_chat_http", into
// `out` (its previous content replaced, its capacity reused). Written through
// a pointer into room for the longest result (an '_' before every byte).
inline void snake_case_into(std::string& out, std::string_view path) {
  out.resize(2 * path.size());
  char* const begin = &out[0];
  char* p = begin;
  char prev = '_';
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (ascii_is_upper(c)) {
      const bool next_lower =
          i + 1 < path.size() && ascii_is_lower(path[i + 1]);
      if (p != begin && p[-1] != '_' &&
          (ascii_is_lower(prev) || ascii_is_digit(prev) ||
           (ascii_is_upper(prev) && next_lower))) {
        *p++ = '_';
      }
      *p++ = ascii_lower(c);
    } else if (ascii_is_lower(c) || ascii_is_digit(c)) {
      *p++ = c;
    } else if (p == begin || p[-1] != '_') {
      *p++ = '_';
    }
    prev = c;
  }
  while (p != begin && p[-1] == '_') --p;
  out.resize(static_cast<std::size_t>(p - begin));
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

  explicit PrometheusNames(std::string_view prefix = {}) { reset(prefix); }

  // Forgets every family and takes `prefix`; the buffers keep their
  // capacity, so a rendering as large as the last one allocates nothing.
  void reset(std::string_view prefix) {
    snake_case_into(prefix_, prefix);
    const std::size_t letters = prefix_.find_first_not_of('_');
    prefix_.erase(0, letters == std::string::npos ? prefix_.size() : letters);
    if (!prefix_.empty() && ascii_is_digit(prefix_[0])) {
      prefix_.insert(0, "statusz_");
    }
    last_snake_.clear();
    path_off_ = 0;
    last_path_len_ = 0;
    paths_.clear();
    names_.clear();
    families_.clear();
    roles_.clear();
    last_role_ = 0;
    fixed_.clear();
    renamed_.clear();
    dup_.clear();
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
        f.name_off = narrow(off);
        f.name_len = narrow(names_.size() - off);
      }
    }
    throw std::logic_error("statusz: metric names still clash");
  }

 private:
  // What a family is besides its path: its suffix and the HELP text around
  // the path (string literals, a handful of distinct ones per rendering).
  struct Role {
    std::string_view suffix, help_head, help_tail;
  };
  // 32 bytes, offsets into paths_ and names_: the records of 100 000
  // families stay in 3 MB.
  struct Family {
    std::uint32_t path_off = 0, path_len = 0;
    std::uint32_t help_path_off = 0, help_path_len = 0;
    std::uint32_t name_off = 0, name_len = 0, plain_len = 0;
    std::uint16_t role = 0;
    bool fixed = false;
  };
  // A name in the table: the high half of its hash, and the first family
  // with it + 1 (0: an empty slot).
  struct Slot {
    std::uint32_t tag = 0;
    std::uint32_t entry = 0;
  };
  static constexpr std::size_t kMaxBytes = 0x7fffffffu;

  static std::uint32_t narrow(std::size_t n) {
    if (n > kMaxBytes) {
      throw std::length_error("statusz: exposition names exceed 2 GiB");
    }
    return static_cast<std::uint32_t>(n);
  }

  std::uint16_t role_of(std::string_view suffix, std::string_view help_head,
                        std::string_view help_tail) {
    const auto same = [](std::string_view a, std::string_view b) {
      return a.data() == b.data() && a.size() == b.size();
    };
    const auto is = [&](std::size_t r) {
      const Role& x = roles_[r];
      return same(x.suffix, suffix) && same(x.help_head, help_head) &&
             same(x.help_tail, help_tail);
    };
    if (last_role_ < roles_.size() && is(last_role_)) return last_role_;
    for (std::size_t r = 0; r < roles_.size(); ++r) {
      if (is(r)) return last_role_ = static_cast<std::uint16_t>(r);
    }
    if (roles_.size() > 0xffff) {
      throw std::length_error("statusz: too many exposition roles");
    }
    roles_.push_back(Role{suffix, help_head, help_tail});
    return last_role_ = static_cast<std::uint16_t>(roles_.size() - 1);
  }

  std::string_view add(std::string_view path, std::string_view suffix,
                       std::string_view help_head, std::string_view help_path,
                       std::string_view help_tail, bool fixed, bool verbatim) {
    if (path != std::string_view(paths_.data() + path_off_, last_path_len_) ||
        families_.empty()) {
      snake_case_into(last_snake_, path);
      path_off_ = narrow(paths_.size());
      last_path_len_ = path.size();
      paths_ += path;
    }
    Family f;
    f.path_off = path_off_;
    f.path_len = narrow(path.size());
    if (help_path.empty()) {
      f.help_path_len = 0;
    } else if (help_path == path) {
      f.help_path_off = path_off_;
      f.help_path_len = f.path_len;
    } else {
      f.help_path_off = narrow(paths_.size());
      f.help_path_len = narrow(help_path.size());
      paths_ += help_path;
    }
    f.role = role_of(suffix, help_head, help_tail);
    f.fixed = fixed;
    const std::size_t at = names_.size();
    if (verbatim) {
      names_ += path;
    } else {
      append_plain(names_, last_snake_, suffix);
    }
    f.name_off = narrow(at);
    f.name_len = narrow(names_.size() - at);
    f.plain_len = f.name_len;
    narrow(families_.size() + 1);
    families_.push_back(f);
    if (fixed) fixed_.push_back(families_.size() - 1);
    return name(families_.size() - 1);
  }

  void append_plain(std::string& out, std::string_view snake,
                    std::string_view suffix) const {
    const std::size_t at = out.size();
    const bool separator =
        !prefix_.empty() && !(snake.empty() && suffix.empty());
    out.resize(at + prefix_.size() + (separator ? 1 : 0) + snake.size() +
               suffix.size());
    char* p = &out[at];
    for (std::string_view part :
         {std::string_view(prefix_),
          separator ? std::string_view("_", 1) : std::string_view(), snake,
          suffix}) {
      if (!part.empty()) std::memcpy(p, part.data(), part.size());
      p += part.size();
    }
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

  static std::uint32_t tag_of(std::uint64_t h) noexcept {
    return static_cast<std::uint32_t>(h >> 32);
  }

  // Builds the table of the current names and marks the families whose
  // name another one has. The hashes of a batch of names are taken first
  // and their slots prefetched, so that the batch's cache misses overlap
  // (the table outgrows the caches at tens of thousands of families).
  void index() {
    const std::size_t count = families_.size();
    std::size_t cap = 16;
    while (cap < count * 2) cap *= 2;
    slots_.assign(cap, Slot{});
    dup_.assign(count, 0);
    mask_ = cap - 1;
    constexpr std::size_t kBatch = 16;
    std::uint64_t hashes[kBatch];
    for (std::size_t b = 0; b < count; b += kBatch) {
      const std::size_t e = count - b < kBatch ? count : b + kBatch;
      for (std::size_t i = b; i < e; ++i) {
        hashes[i - b] = hash_bytes(name(i));
#if defined(__GNUC__) || defined(__clang__)
        __builtin_prefetch(&slots_[hashes[i - b] & mask_], 1);
#endif
      }
      for (std::size_t i = b; i < e; ++i) insert(i, hashes[i - b]);
    }
  }

  // The slot holding name n (of hash h), or the empty one where it goes.
  std::size_t slot_for(std::string_view n, std::uint64_t h) const noexcept {
    const std::uint32_t tag = tag_of(h);
    std::size_t s = h & mask_;
    for (;; s = (s + 1) & mask_) {
      const Slot& slot = slots_[s];
      if (slot.entry == 0 || (slot.tag == tag && name(slot.entry - 1) == n)) {
        return s;
      }
    }
  }

  void insert(std::size_t i, std::uint64_t h) {
    Slot& slot = slots_[slot_for(name(i), h)];
    if (slot.entry == 0) {
      slot = Slot{tag_of(h), static_cast<std::uint32_t>(i + 1)};
      return;
    }
    dup_[slot.entry - 1] = 1;
    dup_[i] = 1;
  }

  bool contains(std::string_view n) const noexcept {
    return slots_[slot_for(n, hash_bytes(n))].entry != 0;
  }

  // Whether family i must be renamed this round.
  bool clashes(std::size_t i) const noexcept {
    if (families_[i].fixed) return false;
    if (dup_[i] != 0) return true;
    const std::string_view n = name(i);
    for (std::string_view suffix : kReservedSuffixes) {
      // n is another family's name plus a suffix: n is the longer.
      if (n.size() > suffix.size() &&
          n.substr(n.size() - suffix.size()) == suffix &&
          contains(n.substr(0, n.size() - suffix.size()))) {
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
    const Role& role = roles_[f.role];
    mix(std::string_view(paths_.data() + f.path_off, f.path_len));
    mix(role.suffix);
    mix("\n");
    mix(role.help_head);
    mix(std::string_view(paths_.data() + f.help_path_off, f.help_path_len));
    mix(role.help_tail);
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
  std::string last_snake_;
  std::uint32_t path_off_ = 0;  // the last path seen, in paths_
  std::size_t last_path_len_ = 0;
  std::uint16_t last_role_ = 0;
  std::string paths_;  // the paths of the key, each once
  std::string names_;  // every name, plain and renamed
  std::vector<Family> families_;
  std::vector<Role> roles_;
  std::vector<std::size_t> fixed_;
  std::vector<std::size_t> renamed_;
  std::vector<Slot> slots_;
  std::vector<unsigned char> dup_;  // per family: another has its name
  std::size_t mask_ = 0;
};

}  // namespace statusz::detail
