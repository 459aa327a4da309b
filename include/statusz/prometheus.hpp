// Prometheus exposition of a Registry: text format 0.0.4, or OpenMetrics 1.0.
//
// Mapping (names in snake_case under a prefix, "statusz" by default):
//  - Meter at a.bC      -> counter  <prefix>_a_b_c_total
//                          gauge <prefix>_a_b_c_rate{window="mean|1m|5m|15m"}
//  - KeyedCounter       -> counter  <prefix>_<path>_total{key="..."} per key
//                          counter  <prefix>_<path>_dropped_total
//  - Counter            -> gauge    <prefix>_<path> (it goes up and down)
//  - Gauge              -> gauge    <prefix>_<path> (numbers and bools only)
//  - each probe         -> gauge    <prefix>_probe_status{path,status} one-hot
//                          gauge    <prefix>_probe_duration_seconds{path}
//  - the server         -> gauge    <prefix>_status{status} one-hot
//                          gauge    <prefix>_server_info{host_name,version} 1
// Characters outside [a-zA-Z0-9_] become '_'; two paths that sanitise to the
// same name are told apart by a numeric suffix. Label values are escaped and
// repaired to valid UTF-8.
// PrometheusWriter is a RegistryVisitor: the exposition is one more reader of
// the registry's walk (Registry::visit), like the document.
// Cost: one pass, appending to one string; names are de-duplicated in a
// hash set of offsets into one buffer (no allocation per name).
// Thread-safety: to_prometheus() is safe from any thread; a writer is used
// by one walk at a time.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detail/ascii.hpp"
#include "detail/hash.hpp"
#include "detail/utf8.hpp"
#include "json.hpp"
#include "registry.hpp"
#include "visitor.hpp"

namespace statusz {

enum class ExpositionFormat { Text004, OpenMetrics100 };

inline constexpr std::string_view kDefaultPrometheusPrefix = "statusz";

struct PrometheusOptions {
  std::string prefix = std::string(kDefaultPrometheusPrefix);
  ExpositionFormat format = ExpositionFormat::Text004;
};

constexpr std::string_view content_type(ExpositionFormat f) noexcept {
  return f == ExpositionFormat::OpenMetrics100
             ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
             : "text/plain; version=0.0.4; charset=utf-8";
}

namespace detail {

// "applications.servlet.chatHttp" -> "applications_servlet_chat_http".
inline std::string snake_case(std::string_view path) {
  std::string out;
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
  return out;
}

// Appends v as valid UTF-8 (bad bytes as U+FFFD), with '\\', '\n' and,
// in label values, '"' escaped.
inline void append_escaped(std::string& out, std::string_view v, bool quote) {
  std::size_t i = 0;
  while (i < v.size()) {
    std::size_t j = i;
    while (j < v.size()) {
      const char c = v[j];
      if (c == '\\' || c == '\n' || (quote && c == '"') ||
          static_cast<unsigned char>(c) >= 0x80) {
        break;
      }
      ++j;
    }
    out.append(v.data() + i, j - i);
    if (j == v.size()) break;
    const char c = v[j];
    if (static_cast<unsigned char>(c) >= 0x80) {
      i = j + append_utf8_sequence(out, v, j);
      continue;
    }
    out.push_back('\\');
    out.push_back(c == '\n' ? 'n' : c);
    i = j + 1;
  }
}

inline void append_label_value(std::string& out, std::string_view v) {
  append_escaped(out, v, true);
}

inline void append_help_text(std::string& out, std::string_view v) {
  append_escaped(out, v, false);
}

inline void append_number(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "NaN";
  } else if (std::isinf(d)) {
    out += d > 0 ? "+Inf" : "-Inf";
  } else {
    append_json_double(out, d);
  }
}

// A set of names kept as offsets into one buffer: no allocation per name.
class NameSet {
 public:
  bool contains(std::string_view name) const noexcept {
    if (slots_.empty()) return false;
    const std::uint64_t h = hash_bytes(name);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.length == 0) return false;
      if (s.hash == h && s.length == name.size() + 1 &&
          std::memcmp(text_.data() + s.offset, name.data(), name.size()) == 0) {
        return true;
      }
    }
  }
  void insert(std::string_view name) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    const std::uint64_t h = hash_bytes(name);
    std::size_t i = h & mask_;
    while (slots_[i].length != 0) i = (i + 1) & mask_;
    slots_[i] = Slot{h, text_.size(), name.size() + 1};
    text_.append(name);
    ++count_;
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::size_t offset = 0;
    std::size_t length = 0;  // the name's + 1; 0: empty slot
  };
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.length == 0) continue;
      std::size_t i = s.hash & mask_;
      while (slots_[i].length != 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t count_ = 0;
  std::string text_;
};

class Exposition {
 public:
  explicit Exposition(const PrometheusOptions& o)
      : om_(o.format == ExpositionFormat::OpenMetrics100) {
    prefix_ = snake_case(o.prefix);
    if (!prefix_.empty() && ascii_is_digit(prefix_[0])) {
      prefix_.insert(prefix_.begin(), '_');
    }
  }

  // Starts a family for the metric at `path` (`suffix` appended to its
  // name) and returns the name its samples use, unique in the output and
  // valid until the next family(). Its HELP text is help_head + help_path +
  // help_tail.
  std::string_view family(std::string_view path, std::string_view suffix,
                          bool counter, std::string_view help_head,
                          std::string_view help_path = {},
                          std::string_view help_tail = {}) {
    unique_name(path, suffix, counter);
    // Text 0.0.4 names a counter family by its sample name (..._total);
    // OpenMetrics by the name without the suffix.
    const std::size_t base = name_.size();
    if (counter) name_ += "_total";
    const std::string_view family_name(name_.data(),
                                       counter && !om_ ? name_.size() : base);
    out_ += "# HELP ";
    out_ += family_name;
    out_.push_back(' ');
    out_ += help_head;
    append_help_text(out_, help_path);
    out_ += help_tail;
    out_ += "\n# TYPE ";
    out_ += family_name;
    out_ += counter ? " counter\n" : " gauge\n";
    return name_;
  }

  using Labels =
      std::initializer_list<std::pair<std::string_view, std::string_view>>;

  void sample(std::string_view name, Labels labels, double value) {
    begin_sample(name, labels);
    append_number(out_, value);
    out_.push_back('\n');
  }
  void sample(std::string_view name, Labels labels, std::int64_t value) {
    begin_sample(name, labels);
    append_json_int(out_, value);
    out_.push_back('\n');
  }
  // Counts: exact in both formats, 2^63 and above included.
  void sample(std::string_view name, Labels labels, std::uint64_t value) {
    begin_sample(name, labels);
    append_json_uint(out_, value);
    out_.push_back('\n');
  }

  std::string finish() {
    if (om_) out_ += "# EOF\n";
    return std::move(out_);
  }

 private:
  // The one place a family's sample name is computed: into name_,
  // <prefix>_<snake_case(path + suffix)>, told apart from every name already
  // used by a numeric suffix, and reserved (with "_total" for a counter: a
  // gauge "x_total" and a counter "x" would both write x_total).
  void unique_name(std::string_view path, std::string_view suffix,
                   bool counter) {
    // snake_case(path + suffix) == snake_case(path) + suffix for the
    // suffixes used here ("", "_rate", "_dropped"): the path's part is
    // computed once per metric.
    if (path != last_path_) {
      last_path_.assign(path.data(), path.size());
      last_snake_ = snake_case(path);
    }
    name_ = prefix_;
    if (!name_.empty() && !(last_snake_.empty() && suffix.empty())) {
      name_.push_back('_');
    }
    name_ += last_snake_;
    name_ += suffix;
    if (name_.empty() || ascii_is_digit(name_[0])) {
      name_.insert(name_.begin(), '_');
    }
    if (taken(name_)) {
      const std::size_t base = name_.size();
      for (int n = 2;; ++n) {
        name_.resize(base);
        name_.push_back('_');
        name_ += std::to_string(n);
        if (!taken(name_)) break;
      }
    }
    names_.insert(name_);
    if (counter) {
      scratch_ = name_;
      scratch_ += "_total";
      names_.insert(scratch_);
    }
  }

  bool taken(const std::string& base) {
    if (names_.contains(base)) return true;
    scratch_ = base;
    scratch_ += "_total";
    return names_.contains(scratch_);
  }

  void begin_sample(std::string_view name, Labels labels) {
    out_ += name;
    if (labels.size() != 0) {
      out_.push_back('{');
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first) out_.push_back(',');
        first = false;
        out_ += k;
        out_ += "=\"";
        append_label_value(out_, v);
        out_.push_back('"');
      }
      out_.push_back('}');
    }
    out_.push_back(' ');
  }

  bool om_;
  std::string prefix_;
  std::string out_;
  std::string name_;
  std::string scratch_;
  std::string last_path_;
  std::string last_snake_;
  NameSet names_;
};

}  // namespace detail

// The exposition as a reader of the registry's walk: metrics as they come,
// then the probes' families, the server's status and its info.
class PrometheusWriter final : public RegistryVisitor {
 public:
  PrometheusWriter(const PrometheusOptions& options, std::string host_name,
                   std::string version)
      : e_(options),
        host_name_(std::move(host_name)),
        version_(std::move(version)) {}

  void open_group(const NodeView& group, const ProbeReport* probe) override {
    if (probe != nullptr) probes_.push_back({std::string(group.path), *probe});
  }

  void meter(const NodeView& node, const MeterSnapshot& m) override {
    const std::string_view total =
        e_.family(node.path, "", true, "statusz meter ", node.path, ": events");
    e_.sample(total, {}, m.count);
    const std::string_view rate =
        e_.family(node.path, "_rate", false, "statusz meter ", node.path,
                  ": events per second by window");
    e_.sample(rate, {{"window", "mean"}}, m.mean_rate);
    e_.sample(rate, {{"window", "1m"}}, m.one_minute_rate);
    e_.sample(rate, {{"window", "5m"}}, m.five_minute_rate);
    e_.sample(rate, {{"window", "15m"}}, m.fifteen_minute_rate);
  }

  void counter(const NodeView& node, std::int64_t value) override {
    e_.sample(e_.family(node.path, "", false, "statusz counter ", node.path),
              {}, value);
  }

  void keyed(const NodeView& node, const KeyedCounter& k) override {
    const std::string_view total =
        e_.family(node.path, "", true, "statusz keyed counter ", node.path,
                  ": count by key");
    k.for_each([&](std::string_view key, std::uint64_t n) {
      e_.sample(total, {{"key", key}}, n);
    });
    const std::uint64_t dropped = k.dropped();
    const std::string_view name =
        e_.family(node.path, "_dropped", true, "statusz keyed counter ",
                  node.path, kDroppedHelp);
    e_.sample(name, {}, dropped);
  }

  void gauge(const NodeView& node, const Value& v) override {
    if (v.is_int()) {
      e_.sample(e_.family(node.path, "", false, "statusz gauge ", node.path),
                {}, v.as_int());
    } else if (v.is_uint()) {
      e_.sample(e_.family(node.path, "", false, "statusz gauge ", node.path),
                {}, v.as_uint());
    } else if (v.is_double() || v.is_bool() || v.is_null()) {
      const double d = v.is_double() ? v.as_double()
                       : v.is_bool() ? (v.as_bool() ? 1.0 : 0.0)
                                     : std::numeric_limits<double>::quiet_NaN();
      e_.sample(e_.family(node.path, "", false, "statusz gauge ", node.path),
                {}, d);
    }
  }

  void end(Status server) override {
    static constexpr Status kStatuses[] = {Status::Ok, Status::Warning,
                                           Status::Unknown, Status::Ko};
    if (!probes_.empty()) {
      const std::string_view status = e_.family(
          "probe_status", "", false, "statusz probe status, one-hot by status");
      for (const auto& [path, report] : probes_) {
        for (Status s : kStatuses) {
          e_.sample(status, {{"path", path}, {"status", to_string(s)}},
                    std::int64_t{report.status == s});
        }
      }
      const std::string_view duration =
          e_.family("probe_duration_seconds", "", false,
                    "statusz probe run time in seconds");
      for (const auto& [path, report] : probes_) {
        e_.sample(duration, {{"path", path}},
                  std::chrono::duration<double>(report.duration).count());
      }
    }
    const std::string_view status = e_.family(
        "status", "", false, "statusz server status (worst probe), one-hot");
    for (Status s : kStatuses) {
      e_.sample(status, {{"status", to_string(s)}}, std::int64_t{server == s});
    }
    const std::string_view info = e_.family(
        "server_info", "", false, "statusz server host name and version");
    e_.sample(info, {{"host_name", host_name_}, {"version", version_}},
              std::int64_t{1});
  }

  std::string finish() { return e_.finish(); }

 private:
  static constexpr std::string_view kDroppedHelp =
      ": increments whose key was refused (counted under __overflow__)";
  static_assert(KeyedCounter::kOverflowKey == "__overflow__");

  detail::Exposition e_;
  std::string host_name_;
  std::string version_;
  std::vector<std::pair<std::string, ProbeReport>> probes_;
};

// Runs the probes and renders every metric of `reg` (see the mapping above).
inline std::string to_prometheus(const Registry& reg,
                                 const PrometheusOptions& options = {}) {
  PrometheusWriter w(options, reg.host_name(), reg.version());
  reg.visit(w);
  return w.finish();
}

}  // namespace statusz
