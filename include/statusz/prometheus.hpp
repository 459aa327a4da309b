// Prometheus exposition of a Registry: text format 0.0.4, or OpenMetrics 1.0.
//
// Mapping (names in snake_case under a prefix, "statusz" by default):
//  - Meter at a.bC      -> counter  <prefix>_a_b_c_total
//                          gauge <prefix>_a_b_c_rate{window="mean|1m|5m|15m"}
//  - KeyedCounter       -> counter  <prefix>_<path>_total{key="..."} per key
//                          counter  <prefix>_<path>_dropped_total
//  - Counter            -> gauge    <prefix>_<path> (it goes up and down)
//  - Gauge              -> gauge    <prefix>_<path> (numbers and bools only),
//                          or the family it declared (GaugeExposition: a
//                          name kept as it is, counter or gauge; the first
//                          gauge to declare a name has it, later ones fall
//                          back to their path's)
//  - Timer              -> histogram <prefix>_<path>_seconds (_bucket{le},
//                          _sum, _count: cumulative, in seconds)
//                          gauge <prefix>_<path>_rate{window=...} as a Meter
//  - Histogram          -> histogram <prefix>_<path> (in its own unit)
//    Every `le` is the upper end of one of the histogram's internal buckets,
//    so each bucket count is exact: a bound chosen in PrometheusOptions
//    (timer_bounds_seconds, histogram_bounds) is moved up to the upper end
//    of the internal bucket that holds it (at most 1/64 above it; duplicates
//    merge). Without histogram_bounds, a histogram's bounds are 2^k - 1 (all
//    values below 2^k) for k = 0, 1, ... up to the first above its maximum.
//  - each probe         -> gauge    <prefix>_probe_status{path,status} one-hot
//                          gauge    <prefix>_probe_duration_seconds{path}
//  - the server         -> gauge    <prefix>_status{status} one-hot
//                          gauge    <prefix>_server_info{host_name,version} 1
// Characters outside [a-zA-Z0-9_] become '_'; names that clash (the same
// name, or one family's name plus a reserved sample suffix such as _total or
// _created) get a stable hash suffix, whatever the registration order, and
// every name starts with a letter: detail/prometheus_names.hpp. Label values
// are escaped and repaired to valid UTF-8.
// PrometheusWriter is a RegistryVisitor: the exposition is one more reader of
// the registry's walk (Registry::visit), like the document.
// Cost: one walk (probes run once, each metric read once), appending to one
// string under the plain names (reserved once, at the size of the registry's
// last exposition; each sample line written in place through a pointer;
// the names and per-family records in buffers the registry keeps from one
// rendering to the next, so no allocation per series);
// then the names are resolved for the whole output, and only if some family
// was renamed is the text copied once more, with the new names spliced into
// that family's lines.
// Thread-safety: to_prometheus() is safe from any thread; a writer is used
// by one walk at a time.
#pragma once

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detail/prometheus_names.hpp"
#include "detail/utf8.hpp"
#include "histogram.hpp"
#include "json.hpp"
#include "registry.hpp"
#include "timer.hpp"
#include "visitor.hpp"

namespace statusz {

enum class ExpositionFormat { Text004, OpenMetrics100 };

inline constexpr std::string_view kDefaultPrometheusPrefix = "statusz";

struct PrometheusOptions {
  std::string prefix = std::string(kDefaultPrometheusPrefix);
  ExpositionFormat format = ExpositionFormat::Text004;
  // The `le` bounds of timers (seconds) and histograms (their unit); each is
  // moved up to an internal bucket's upper end (see the mapping above).
  std::vector<double> timer_bounds_seconds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};
  std::vector<double> histogram_bounds;  // empty: 2^k - 1, see above
};

constexpr std::string_view content_type(ExpositionFormat f) noexcept {
  return f == ExpositionFormat::OpenMetrics100
             ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
             : "text/plain; version=0.0.4; charset=utf-8";
}

namespace detail {

// Whether none of the 8 bytes at s needs escaping: no byte >= 0x80, no
// '\\', no '\n' and, in label values (`quote`), no '"'. A SWAR test: a byte
// equal to b makes (x ^ b...) have a zero byte, found by the classic
// (y - 0x01..) & ~y & 0x80.. (exact for "is there one"; byte order is
// irrelevant to the answer).
inline bool plain_bytes8(const char* s, bool quote) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101u;
  constexpr std::uint64_t kHighs = 0x8080808080808080u;
  std::uint64_t x;
  std::memcpy(&x, s, sizeof x);
  const auto has = [x](unsigned char b) {
    const std::uint64_t y = x ^ (kOnes * b);
    return (y - kOnes) & ~y & kHighs;
  };
  return ((x & kHighs) | has('\\') | has('\n') | (quote ? has('"') : 0)) == 0;
}

// Writes v at p as valid UTF-8 (bad bytes as U+FFFD), with '\\', '\n' and,
// in label values (`quote`), '"' escaped; returns the end. p must have room
// for 3 * v.size() bytes (the most a byte can become). Runs of plain bytes
// are copied 8 at a time.
inline char* write_escaped(char* p, std::string_view v, bool quote) noexcept {
  const char* s = v.data();
  const std::size_t n = v.size();
  std::size_t i = 0;
  while (i < n) {
    while (n - i >= 8 && plain_bytes8(s + i, quote)) {
      std::memcpy(p, s + i, 8);
      p += 8;
      i += 8;
    }
    if (i == n) break;
    const char c = s[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      const std::size_t len = utf8_sequence_length(v, i);
      if (len == 0) {
        std::memcpy(p, "\xEF\xBF\xBD", 3);  // U+FFFD
        p += 3;
        ++i;
      } else {
        std::memcpy(p, s + i, len);
        p += len;
        i += len;
      }
      continue;
    }
    if (c == '\\' || c == '\n' || (quote && c == '"')) *p++ = '\\';
    *p++ = c == '\n' ? 'n' : c;
    ++i;
  }
  return p;
}

inline void append_escaped(std::string& out, std::string_view v, bool quote) {
  const std::size_t at = out.size();
  out.resize(at + 3 * v.size());
  char* const begin = &out[0];
  out.resize(
      static_cast<std::size_t>(write_escaped(begin + at, v, quote) - begin));
}

inline char* copy_bytes(char* p, std::string_view s) noexcept {
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// Writes d at p as a sample value (NaN, +Inf, -Inf, or as JSON writes it);
// p must have room for kJsonDoubleRoom bytes. Returns the end.
inline char* write_number(char* p, double d) noexcept {
  if (std::isnan(d)) return copy_bytes(p, "NaN");
  if (std::isinf(d)) return copy_bytes(p, d > 0 ? "+Inf" : "-Inf");
  return write_json_double(p, d);
}

// A bucket bound as prometheus_client's floatToGoString() writes it (the
// canonical form its OpenMetrics parser checks `le` against): Python's
// repr() (shortest digits; exponent form below 1e-4 and from 1e16), with
// Go's exponent form from 1e6 up.
inline void append_bound(std::string& out, double d) {
  if (std::isinf(d)) {
    out += "+Inf";
    return;
  }
  char buf[40];
  int len = 0;
  for (int precision = 0; precision <= 17; ++precision) {
    len = std::snprintf(buf, sizeof buf, "%.*e", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  const std::string_view sci(buf, static_cast<std::size_t>(len));
  const std::size_t e = sci.find('e');
  std::string digits(1, sci[0]);
  if (e > 1) digits.append(sci.substr(2, e - 2));
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int exp = std::atoi(buf + e + 1);
  const auto exponent_form = [&] {
    out.push_back(digits[0]);
    if (digits.size() > 1) {
      out.push_back('.');
      out.append(digits, 1, std::string::npos);
    }
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+',
                  exp < 0 ? -exp : exp);
    out += ebuf;
  };
  if (d != 0 && (exp < -4 || exp >= 6)) {
    exponent_form();
  } else if (d == 0) {
    out += "0.0";
  } else if (exp < 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-exp - 1), '0');
    out += digits;
  } else {
    const auto whole = static_cast<std::size_t>(exp) + 1;
    if (digits.size() <= whole) {
      out += digits;
      out.append(whole - digits.size(), '0');
      out += ".0";
    } else {
      out.append(digits, 0, whole);
      out.push_back('.');
      out.append(digits, whole, std::string::npos);
    }
  }
}

// The internal bucket upper ends for `bounds` (each times `scale`, moved up
// to the upper end of its bucket), ascending, without duplicates; negative
// and NaN bounds are dropped.
inline std::vector<std::uint64_t> snap_bounds(const std::vector<double>& bounds,
                                              double scale) {
  std::vector<std::uint64_t> out;
  for (double b : bounds) {
    const double v = std::floor(b * scale);
    if (!(v >= 0)) continue;
    const std::uint64_t n =
        v >= 0x1p64 ? ~std::uint64_t{0} : static_cast<std::uint64_t>(v);
    out.push_back(Histogram::bucket_upper(Histogram::bucket_index(n)));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The buffers of a rendering besides its output (the names, the families'
// records and offsets), which a registry keeps between renderings
// (Registry::take_scratch) so that the next one reuses their memory instead
// of allocating it and faulting it in again.
struct ExpositionScratch final : Registry::Scratch {
  PrometheusNames names;
  std::vector<std::size_t> starts;
  std::string name;
};

class Exposition {
 public:
  // `scratch`: buffers to use (their memory, not their content) and to give
  // back, filled, to `scratch` by finish(); nullptr: its own.
  explicit Exposition(const PrometheusOptions& o, std::size_t reserve = 0,
                      ExpositionScratch* scratch = nullptr)
      : om_(o.format == ExpositionFormat::OpenMetrics100),
        scratch_(scratch),
        names_(scratch != nullptr ? std::move(scratch->names)
                                  : PrometheusNames()),
        name_(scratch != nullptr ? std::move(scratch->name) : std::string()),
        starts_(scratch != nullptr ? std::move(scratch->starts)
                                   : std::vector<std::size_t>()) {
    names_.reset(o.prefix);
    starts_.clear();
    out_.reserve(reserve);
  }

  // Starts a family for the metric at `path` (`suffix` appended to its
  // name) and returns the name its samples use, valid until the next
  // family(); finish() renames it if it clashes (see PrometheusNames). Its
  // HELP text is help_head + help_path + help_tail; `suffix`, `help_head`
  // and `help_tail` are string literals. `fixed`: one of statusz's own
  // families, never renamed.
  std::string_view family(std::string_view path, std::string_view suffix,
                          bool counter, std::string_view help_head,
                          std::string_view help_path = {},
                          std::string_view help_tail = {}, bool fixed = false) {
    return typed_family(path, suffix, counter ? " counter\n" : " gauge\n",
                        counter, help_head, help_path, help_tail, fixed);
  }
  // A histogram family: its samples are name + _bucket, _sum and _count.
  std::string_view histogram_family(std::string_view path,
                                    std::string_view suffix,
                                    std::string_view help_head,
                                    std::string_view help_path,
                                    std::string_view help_tail) {
    return typed_family(path, suffix, " histogram\n", false, help_head,
                        help_path, help_tail, false);
  }

  std::string_view typed_family(std::string_view path, std::string_view suffix,
                                std::string_view type_line, bool counter,
                                std::string_view help_head,
                                std::string_view help_path,
                                std::string_view help_tail, bool fixed) {
    starts_.push_back(out_.size());
    name_ = names_.add(path, suffix, help_head, help_path, help_tail, fixed);
    return begin_family(type_line, counter, help_head, help_path, help_tail);
  }

  // Starts the family a gauge declared for itself (GaugeExposition): `name`
  // as it is, never renamed; HELP `help`.
  std::string_view verbatim_family(std::string_view name, bool counter,
                                   std::string_view help) {
    starts_.push_back(out_.size());
    name_ = names_.add_verbatim(name);
    return begin_family(counter ? " counter\n" : " gauge\n", counter, {}, help,
                        {});
  }

  using Labels =
      std::initializer_list<std::pair<std::string_view, std::string_view>>;

  void sample(std::string_view name, Labels labels, double value) {
    char* p = begin_sample(name, labels, kJsonDoubleRoom + 1);
    p = write_number(p, value);
    end_sample(p);
  }
  void sample(std::string_view name, Labels labels, std::int64_t value) {
    sample_integer(name, labels, value);
  }
  // A histogram's bucket: name_bucket{le="bound"} count.
  void bucket(std::string_view name, double le, std::uint64_t count) {
    out_ += name;
    out_ += "_bucket{le=\"";
    append_bound(out_, le);
    out_ += "\"} ";
    append_json_uint(out_, count);
    out_.push_back('\n');
  }
  // Counts: exact in both formats, 2^63 and above included.
  void sample(std::string_view name, Labels labels, std::uint64_t value) {
    sample_integer(name, labels, value);
  }

  std::string finish() {
    if (names_.resolve() != 0) rename();
    if (om_) out_ += "# EOF\n";
    if (scratch_ != nullptr) {
      scratch_->names = std::move(names_);
      scratch_->name = std::move(name_);
      scratch_->starts = std::move(starts_);
    }
    return std::move(out_);
  }

 private:
  // Writes the HELP and TYPE lines of the family just named (name_).
  std::string_view begin_family(std::string_view type_line, bool counter,
                                std::string_view help_head,
                                std::string_view help_path,
                                std::string_view help_tail) {
    // Text 0.0.4 names a counter family by its sample name (..._total);
    // OpenMetrics by the name without the suffix.
    const std::size_t base = name_.size();
    if (counter) name_ += "_total";
    const std::string_view family_name(name_.data(),
                                       counter && !om_ ? name_.size() : base);
    // Written in place, in room for the longest form (see begin_sample).
    const std::size_t at = out_.size();
    out_.resize(at + 2 * family_name.size() + help_head.size() +
                3 * help_path.size() + help_tail.size() + type_line.size() +
                16);
    char* const begin = &out_[0];
    char* p = copy_bytes(begin + at, "# HELP ");
    p = copy_bytes(p, family_name);
    *p++ = ' ';
    p = copy_bytes(p, help_head);
    p = write_escaped(p, help_path, false);
    p = copy_bytes(p, help_tail);
    p = copy_bytes(p, "\n# TYPE ");
    p = copy_bytes(p, family_name);
    p = copy_bytes(p, type_line);
    out_.resize(static_cast<std::size_t>(p - begin));
    return name_;
  }

  // Copies the text with each renamed family's new name spliced in: every
  // line of a family starts with its name ("# HELP ", "# TYPE " or none
  // before it), and the new name is the plain one plus a suffix.
  void rename() {
    std::string out;
    out.reserve(out_.size() + out_.size() / 4);
    for (std::size_t i = 0; i < starts_.size(); ++i) {
      const std::size_t begin = starts_[i];
      const std::size_t end =
          i + 1 < starts_.size() ? starts_[i + 1] : out_.size();
      if (!names_.renamed(i)) {
        out.append(out_, begin, end - begin);
        continue;
      }
      const std::size_t plain = names_.plain_size(i);
      const std::string_view added = names_.name(i).substr(plain);
      for (std::size_t line = begin; line < end;) {
        const std::size_t eol = out_.find('\n', line) + 1;
        const std::size_t at = line + (out_[line] == '#' ? 7 : 0) + plain;
        out.append(out_, line, at - line);
        out += added;
        out.append(out_, at, eol - at);
        line = eol;
      }
    }
    out_ = std::move(out);
  }

  // Writes `name{k="v",...} ` at the end of out_, with room for
  // `number_room` more bytes after it, and returns where they go: the line's
  // longest possible size is made room for once and written through a
  // pointer (the caller cuts out_ to what it wrote).
  char* begin_sample(std::string_view name, Labels labels,
                     std::size_t number_room) {
    std::size_t room = name.size() + 3 + number_room;  // '{', '}', ' '
    for (const auto& [k, v] : labels) room += k.size() + 4 + 3 * v.size();
    const std::size_t at = out_.size();
    out_.resize(at + room);
    char* p = &out_[at];
    p = copy_bytes(p, name);
    if (labels.size() != 0) {
      char separator = '{';
      for (const auto& [k, v] : labels) {
        *p++ = separator;
        separator = ',';
        p = copy_bytes(p, k);
        *p++ = '=';
        *p++ = '"';
        p = write_escaped(p, v, true);
        *p++ = '"';
      }
      *p++ = '}';
    }
    *p++ = ' ';
    return p;
  }

  template <class Integer>
  void sample_integer(std::string_view name, Labels labels, Integer value) {
    constexpr std::size_t kDigits = 20;  // 2^64 - 1; -2^63 has 19 and '-'
    char* p = begin_sample(name, labels, kDigits + 1);
    end_sample(std::to_chars(p, p + kDigits, value).ptr);
  }

  // Ends the line begun by begin_sample() whose value ends at p.
  void end_sample(char* p) {
    *p++ = '\n';
    out_.resize(static_cast<std::size_t>(p - out_.data()));
  }

  bool om_;
  ExpositionScratch* scratch_;
  PrometheusNames names_;
  std::string name_;
  std::vector<std::size_t> starts_;  // where each family's text begins
  std::string out_;
};

}  // namespace detail

// The exposition as a reader of the registry's walk: metrics as they come,
// then the probes' families, the server's status and its info.
class PrometheusWriter final : public RegistryVisitor {
 public:
  // `reserve`: the bytes to reserve for the output (a guess of its size);
  // `scratch`: buffers to reuse and give back on finish() (see
  // detail::ExpositionScratch), nullptr for its own.
  PrometheusWriter(const PrometheusOptions& options, std::string host_name,
                   std::string version, std::size_t reserve = 0,
                   detail::ExpositionScratch* scratch = nullptr)
      : e_(options, reserve, scratch),
        host_name_(std::move(host_name)),
        version_(std::move(version)),
        timer_bounds_(detail::snap_bounds(options.timer_bounds_seconds, 1e9)),
        histogram_bounds_(detail::snap_bounds(options.histogram_bounds, 1)) {}

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
    // A counter has no NaN: a declared counter that reads null is left out.
    if (v.is_null() && node.exposition != nullptr && node.exposition->counter) {
      return;
    }
    if (v.is_int()) {
      e_.sample(gauge_family(node), {}, v.as_int());
    } else if (v.is_uint()) {
      e_.sample(gauge_family(node), {}, v.as_uint());
    } else if (v.is_double() || v.is_bool() || v.is_null()) {
      const double d = v.is_double() ? v.as_double()
                       : v.is_bool() ? (v.as_bool() ? 1.0 : 0.0)
                                     : std::numeric_limits<double>::quiet_NaN();
      e_.sample(gauge_family(node), {}, d);
    }
  }

  void timer(const NodeView& node, const TimerSnapshot& s) override {
    std::string name(e_.histogram_family(node.path, "_seconds",
                                         "statusz timer ", node.path,
                                         ": durations in seconds"));
    for (std::uint64_t le : timer_bounds_) {
      e_.bucket(name, static_cast<double>(le) / 1e9, s.count_at_most(le));
    }
    finish_histogram(name, s, static_cast<double>(s.sum) / 1e9);
    const std::string_view rate =
        e_.family(node.path, "_rate", false, "statusz timer ", node.path,
                  ": events per second by window");
    e_.sample(rate, {{"window", "mean"}}, s.mean_rate);
    e_.sample(rate, {{"window", "1m"}}, s.one_minute_rate);
    e_.sample(rate, {{"window", "5m"}}, s.five_minute_rate);
    e_.sample(rate, {{"window", "15m"}}, s.fifteen_minute_rate);
  }

  void histogram(const NodeView& node, const HistogramSnapshot& s) override {
    std::string name(e_.histogram_family(node.path, "", "statusz histogram ",
                                         node.path, ": values"));
    if (histogram_bounds_.empty()) {
      for (unsigned k = 0; k <= 64; ++k) {
        const std::uint64_t le =
            k == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << k) - 1;
        e_.bucket(name, static_cast<double>(le), s.count_at_most(le));
        if (le >= s.max) break;
      }
    } else {
      for (std::uint64_t le : histogram_bounds_) {
        e_.bucket(name, static_cast<double>(le), s.count_at_most(le));
      }
    }
    finish_histogram(name, s, static_cast<double>(s.sum));
  }

  void end(Status server) override {
    static constexpr Status kStatuses[] = {Status::Ok, Status::Warning,
                                           Status::Unknown, Status::Ko};
    if (!probes_.empty()) {
      const std::string_view status =
          e_.family("probe_status", "", false,
                    "statusz probe status, one-hot by status", {}, {}, true);
      for (const auto& [path, report] : probes_) {
        for (Status s : kStatuses) {
          e_.sample(status, {{"path", path}, {"status", to_string(s)}},
                    std::int64_t{report.status == s});
        }
      }
      const std::string_view duration =
          e_.family("probe_duration_seconds", "", false,
                    "statusz probe run time in seconds", {}, {}, true);
      for (const auto& [path, report] : probes_) {
        e_.sample(duration, {{"path", path}},
                  std::chrono::duration<double>(report.duration).count());
      }
    }
    const std::string_view status =
        e_.family("status", "", false,
                  "statusz server status (worst probe), one-hot", {}, {}, true);
    for (Status s : kStatuses) {
      e_.sample(status, {{"status", to_string(s)}}, std::int64_t{server == s});
    }
    const std::string_view info =
        e_.family("server_info", "", false,
                  "statusz server host name and version", {}, {}, true);
    e_.sample(info, {{"host_name", host_name_}, {"version", version_}},
              std::int64_t{1});
  }

  std::string finish() { return e_.finish(); }

 private:
  // A gauge's family: the one it declared (GaugeExposition), unless an
  // earlier gauge of this rendering declared the same name (then, as every
  // other gauge, the one its path gives).
  std::string_view gauge_family(const NodeView& node) {
    const GaugeExposition* x = node.exposition;
    if (x != nullptr && std::find(declared_.begin(), declared_.end(),
                                  x->name) == declared_.end()) {
      declared_.push_back(x->name);
      return e_.verbatim_family(x->name, x->counter, x->help);
    }
    return e_.family(node.path, "", false, "statusz gauge ", node.path);
  }

  void finish_histogram(const std::string& name, const Distribution& s,
                        double sum) {
    e_.bucket(name, std::numeric_limits<double>::infinity(), s.count);
    e_.sample(name + "_sum", {}, sum);
    e_.sample(name + "_count", {}, s.count);
  }

  static constexpr std::string_view kDroppedHelp =
      ": increments whose key was refused (counted under __overflow__)";
  static_assert(KeyedCounter::kOverflowKey == "__overflow__");

  detail::Exposition e_;
  std::string host_name_;
  std::string version_;
  std::vector<std::pair<std::string, ProbeReport>> probes_;
  std::vector<std::string> declared_;            // the gauges' own family names
  std::vector<std::uint64_t> timer_bounds_;      // nanoseconds
  std::vector<std::uint64_t> histogram_bounds_;  // empty: powers of two
};

// Runs the probes and renders every metric of `reg` (see the mapping above).
// The output is reserved once, at the last exposition's size; the names and
// records are built in the buffers the last rendering left with the
// registry (a rendering running meanwhile gets fresh ones).
inline std::string to_prometheus(const Registry& reg,
                                 const PrometheusOptions& options = {}) {
  std::atomic<std::size_t>& hint = reg.exposition_size_hint();
  std::unique_ptr<Registry::Scratch> kept = reg.take_scratch();
  auto* scratch = dynamic_cast<detail::ExpositionScratch*>(kept.get());
  if (scratch == nullptr) {
    auto fresh = std::make_unique<detail::ExpositionScratch>();
    scratch = fresh.get();
    kept = std::move(fresh);
  }
  PrometheusWriter w(options, reg.host_name(), reg.version(),
                     hint.load(std::memory_order_relaxed) + 256, scratch);
  reg.visit(w);
  std::string out = w.finish();
  hint.store(out.size(), std::memory_order_relaxed);
  reg.give_back_scratch(std::move(kept));
  return out;
}

}  // namespace statusz
