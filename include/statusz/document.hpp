// The server status document (the seed's GET /serverstatus body) built from
// the registry's read walk: DocumentBuilder is the RegistryVisitor that turns
// the walk into a Value tree; Registry::snapshot() and Registry::to_json()
// run it. The document's own member names (the top-level fields, a probed
// group's status fields, a meter's rates) are written here, once; the
// registry refuses paths that would clash with them.
//
// Layout: {"withDetails", <top-level groups and metrics>..., "status",
// "hostName", "date", "version", "durationMs"}; a probed group starts with
// "status" (then "durationMs" and, if not empty, "message", with details);
// a meter is {"fiveMinuteRate", "oneMinuteRate", "fifteenMinuteRate",
// "count", "meanRate"}; a keyed counter {key: count, ...}; a counter an
// integer; a gauge its value; a timer is a meter's members then "durationMs":
// {"min", "mean", "max", "stddev", "p50", "p75", "p95", "p98", "p99",
// "p999"} in milliseconds (doubles) over the sliding window (0 when it is
// empty); a histogram is {"count", "sum", then the same statistics in its own
// unit over the window} (count and sum cumulative, as the meter's count).
// Without details only the groups with a probe
// at or below them appear, with their status alone.
// Cost: one Value per node, built once per walk. Thread-safety: a builder is
// used by one walk; the free functions are pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clock.hpp"
#include "histogram.hpp"
#include "json.hpp"
#include "meter.hpp"
#include "timer.hpp"
#include "value.hpp"
#include "visitor.hpp"

namespace statusz {

// The names the document itself uses.
namespace document_names {
inline constexpr std::string_view kWithDetails = "withDetails";
inline constexpr std::string_view kStatus = "status";
inline constexpr std::string_view kHostName = "hostName";
inline constexpr std::string_view kDate = "date";
inline constexpr std::string_view kVersion = "version";
inline constexpr std::string_view kDurationMs = "durationMs";
inline constexpr std::string_view kMessage = "message";
// A meter's members.
inline constexpr std::string_view kCount = "count";
inline constexpr std::string_view kMeanRate = "meanRate";
inline constexpr std::string_view kOneMinuteRate = "oneMinuteRate";
inline constexpr std::string_view kFiveMinuteRate = "fiveMinuteRate";
inline constexpr std::string_view kFifteenMinuteRate = "fifteenMinuteRate";
// A timer's and a histogram's statistics (over the window).
inline constexpr std::string_view kSum = "sum";
inline constexpr std::string_view kMin = "min";
inline constexpr std::string_view kMean = "mean";
inline constexpr std::string_view kMax = "max";
inline constexpr std::string_view kStddev = "stddev";
// The quantiles shown, with their names.
inline constexpr std::pair<std::string_view, double> kQuantiles[] = {
    {"p50", 0.5},  {"p75", 0.75}, {"p95", 0.95},
    {"p98", 0.98}, {"p99", 0.99}, {"p999", 0.999}};
// At the top level (no path may start with one of these).
inline constexpr std::string_view kTopLevel[] = {
    kWithDetails, kStatus, kHostName, kDate, kVersion, kDurationMs};
// In a probed group (no child of a probed group may be named so).
inline constexpr std::string_view kProbe[] = {kStatus, kDurationMs, kMessage};

template <std::size_t N>
constexpr bool is_one_of(std::string_view name,
                         const std::string_view (&names)[N]) noexcept {
  for (std::string_view n : names) {
    if (n == name) return true;
  }
  return false;
}
}  // namespace document_names

// A meter as the document shows it, in the seed's member order.
inline Value meter_value(const MeterSnapshot& s) {
  Object o;
  o.reserve(5);
  o.emplace_back(std::string(document_names::kFiveMinuteRate),
                 s.five_minute_rate);
  o.emplace_back(std::string(document_names::kOneMinuteRate),
                 s.one_minute_rate);
  o.emplace_back(std::string(document_names::kFifteenMinuteRate),
                 s.fifteen_minute_rate);
  o.emplace_back(std::string(document_names::kCount), s.count);
  o.emplace_back(std::string(document_names::kMeanRate), s.mean_rate);
  return Value(std::move(o));
}

// The window's min, mean, max, stddev and quantiles, each divided by
// per_unit (1e6 for a timer: nanoseconds to milliseconds).
inline void append_distribution(Object& o, const Distribution& w,
                                double per_unit) {
  // Divided, not multiplied by the inverse: 100 ns is 1e-4 ms exactly as
  // printed, where 100 * 1e-6 is 9.999999999999999e-05.
  namespace n = document_names;
  o.emplace_back(std::string(n::kMin), static_cast<double>(w.min) / per_unit);
  o.emplace_back(std::string(n::kMean), w.mean() / per_unit);
  o.emplace_back(std::string(n::kMax), static_cast<double>(w.max) / per_unit);
  o.emplace_back(std::string(n::kStddev), w.stddev() / per_unit);
  for (const auto& [name, q] : n::kQuantiles) {
    o.emplace_back(std::string(name), w.quantile(q) / per_unit);
  }
}

// A timer: the meter's members, then "durationMs" over the window.
inline Value timer_value(const TimerSnapshot& s) {
  Value v = meter_value(s.meter());
  Object d;
  d.reserve(4 + std::size(document_names::kQuantiles));
  append_distribution(d, s.window, 1e6);  // ns per ms
  Object o = std::move(v.as_object());
  o.emplace_back(std::string(document_names::kDurationMs), std::move(d));
  return Value(std::move(o));
}

// A histogram: cumulative count and sum, then the window's statistics in the
// histogram's unit.
inline Value histogram_value(const HistogramSnapshot& s) {
  Object o;
  o.reserve(6 + std::size(document_names::kQuantiles));
  o.emplace_back(std::string(document_names::kCount), s.count);
  o.emplace_back(std::string(document_names::kSum), s.sum);
  append_distribution(o, s.window, 1.0);
  return Value(std::move(o));
}

inline std::int64_t to_millis(Nanos d) noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// The top-level fields that follow the walked members.
struct DocumentTrailer {
  std::string host_name;
  std::string date;  // the wall time, as the registry's time zone writes it
  std::string version;
  Nanos duration{0};  // how long building the document took
};

class DocumentBuilder final : public RegistryVisitor {
 public:
  explicit DocumentBuilder(bool details) : details_(details) {
    stack_.emplace_back();
  }

  void begin(Status) override {
    stack_.front().emplace_back(std::string(document_names::kWithDetails),
                                details_);
  }

  void open_group(const NodeView& group, const ProbeReport* probe) override {
    Object& o = stack_.emplace_back();
    o.reserve(group.children + 3);
    if (probe == nullptr) return;
    o.emplace_back(std::string(document_names::kStatus),
                   std::string(to_string(probe->status)));
    if (details_) {
      o.emplace_back(std::string(document_names::kDurationMs),
                     to_millis(probe->duration));
      if (!probe->message.empty()) {
        o.emplace_back(std::string(document_names::kMessage), probe->message);
      }
    }
  }
  void close_group(const NodeView& group) override {
    Object done = std::move(stack_.back());
    stack_.pop_back();
    add(group, Value(std::move(done)));
  }

  void meter(const NodeView& node, const MeterSnapshot& s) override {
    add(node, meter_value(s));
  }
  void counter(const NodeView& node, std::int64_t value) override {
    add(node, Value(value));
  }
  void keyed(const NodeView& node, const KeyedCounter& k) override {
    Object o;
    o.reserve(k.size() + 1);
    k.for_each([&](std::string_view key, std::uint64_t v) {
      o.emplace_back(std::string(key), v);
    });
    add(node, Value(std::move(o)));
  }
  void gauge(const NodeView& node, const Value& value) override {
    add(node, copy_to_json_depth(value, static_cast<int>(node.depth)));
  }
  void timer(const NodeView& node, const TimerSnapshot& s) override {
    add(node, timer_value(s));
  }
  void histogram(const NodeView& node, const HistogramSnapshot& s) override {
    add(node, histogram_value(s));
  }

  // The document: what the walk gave, then the top-level fields.
  Value finish(Status server, DocumentTrailer trailer) {
    Object top = std::move(stack_.front());
    stack_.clear();
    top.reserve(top.size() + 5);
    top.emplace_back(std::string(document_names::kStatus),
                     std::string(to_string(server)));
    top.emplace_back(std::string(document_names::kHostName),
                     std::move(trailer.host_name));
    top.emplace_back(std::string(document_names::kDate),
                     std::move(trailer.date));
    top.emplace_back(std::string(document_names::kVersion),
                     std::move(trailer.version));
    top.emplace_back(std::string(document_names::kDurationMs),
                     to_millis(trailer.duration));
    return Value(std::move(top));
  }

 private:
  // A gauge's value as the document keeps it: what lies deeper than
  // kMaxJsonDepth is null, as to_json() renders it (json.hpp), so copying a
  // hostile value uses bounded stack, as rendering it does.
  static Value copy_to_json_depth(const Value& v, int depth) {
    if (depth > kMaxJsonDepth) return Value();
    if (v.is_array()) {
      const Array& from = v.as_array();
      Array a;
      a.reserve(from.size());
      for (const Value& e : from) a.push_back(copy_to_json_depth(e, depth + 1));
      return Value(std::move(a));
    }
    if (v.is_object()) {
      const Object& from = v.as_object();
      Object o;
      o.reserve(from.size());
      for (const Member& m : from) {
        o.emplace_back(m.first, copy_to_json_depth(m.second, depth + 1));
      }
      return Value(std::move(o));
    }
    return v;
  }

  void add(const NodeView& node, Value v) {
    stack_.back().emplace_back(std::string(node.name), std::move(v));
  }

  bool details_;
  std::vector<Object> stack_;  // the groups being filled; the top first
};

}  // namespace statusz
