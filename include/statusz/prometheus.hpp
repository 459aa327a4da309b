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
// Characters outside [a-zA-Z0-9_] become '_'; names that clash (the same
// name, or one family's name plus a reserved sample suffix such as _total or
// _created) get a stable hash suffix, whatever the registration order, and
// every name starts with a letter: detail/prometheus_names.hpp. Label
// values are escaped and repaired to valid UTF-8. Pure functions of a
// Collection: thread-safe.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>

#include "detail/prometheus_names.hpp"
#include "json.hpp"
#include "registry.hpp"

namespace statusz {

enum class ExpositionFormat { Text004, OpenMetrics100 };

struct PrometheusOptions {
  std::string prefix = "statusz";
  ExpositionFormat format = ExpositionFormat::Text004;
};

constexpr std::string_view content_type(ExpositionFormat f) noexcept {
  return f == ExpositionFormat::OpenMetrics100
             ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
             : "text/plain; version=0.0.4; charset=utf-8";
}

namespace detail {

inline void append_label_value(std::string& out, std::string_view v) {
  const std::string valid =
      is_valid_utf8(v) ? std::string(v) : to_valid_utf8(v);
  for (char c : valid) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
}

inline void append_help_text(std::string& out, std::string_view v) {
  const std::string valid =
      is_valid_utf8(v) ? std::string(v) : to_valid_utf8(v);
  for (char c : valid) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
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

class Exposition {
 public:
  // With `declaring`, families are only declared to `names` (a first pass).
  Exposition(const PrometheusOptions& o, PrometheusNames& names, bool declaring)
      : options_(o), names_(&names), declaring_(declaring) {}

  // Starts a family; returns its sample name base (unique in the output).
  // `fixed`: one of statusz's own families, never renamed.
  std::string family(std::string_view stem, bool counter, std::string_view help,
                     bool fixed = false) {
    if (declaring_) {
      names_->declare(stem, help, fixed);
      return {};
    }
    const std::string& unique = names_->name(stem, help);
    const bool om = options_.format == ExpositionFormat::OpenMetrics100;
    // Text 0.0.4 names a counter family by its sample name (..._total);
    // OpenMetrics by the name without the suffix.
    const std::string family_name = counter && !om ? unique + "_total" : unique;
    out_ += "# HELP ";
    out_ += family_name;
    out_.push_back(' ');
    append_help_text(out_, help);
    out_ += "\n# TYPE ";
    out_ += family_name;
    out_ += counter ? " counter\n" : " gauge\n";
    return counter ? unique + "_total" : unique;
  }

  using Labels =
      std::initializer_list<std::pair<std::string_view, std::string_view>>;

  void sample(std::string_view name, Labels labels, double value) {
    if (declaring_) return;
    begin_sample(name, labels);
    append_number(out_, value);
    out_.push_back('\n');
  }
  void sample(std::string_view name, Labels labels, std::int64_t value) {
    if (declaring_) return;
    begin_sample(name, labels);
    append_json_int(out_, value);
    out_.push_back('\n');
  }
  // Counts: exact in both formats, 2^63 and above included.
  void sample(std::string_view name, Labels labels, std::uint64_t value) {
    if (declaring_) return;
    begin_sample(name, labels);
    append_json_uint(out_, value);
    out_.push_back('\n');
  }

  std::string finish() {
    if (options_.format == ExpositionFormat::OpenMetrics100) out_ += "# EOF\n";
    return std::move(out_);
  }

 private:
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

  PrometheusOptions options_;
  PrometheusNames* names_;
  bool declaring_;
  std::string out_;
};

}  // namespace detail

namespace detail {

inline void expose(Exposition& e, const Collection& c,
                   std::string_view host_name, std::string_view version) {
  for (const MetricSample& m : c.metrics) {
    switch (m.kind) {
      case Kind::Meter: {
        const std::string total =
            e.family(m.path, true, "statusz meter " + m.path + ": events");
        e.sample(total, {}, m.meter.count);
        const std::string rate = e.family(
            m.path + "_rate", false,
            "statusz meter " + m.path + ": events per second by window");
        e.sample(rate, {{"window", "mean"}}, m.meter.mean_rate);
        e.sample(rate, {{"window", "1m"}}, m.meter.one_minute_rate);
        e.sample(rate, {{"window", "5m"}}, m.meter.five_minute_rate);
        e.sample(rate, {{"window", "15m"}}, m.meter.fifteen_minute_rate);
        break;
      }
      case Kind::KeyedCounter: {
        const std::string total = e.family(
            m.path, true, "statusz keyed counter " + m.path + ": count by key");
        for (const auto& [key, n] : m.keys) {
          e.sample(total, {{"key", key}}, n);
        }
        const std::string dropped =
            e.family(m.path + "_dropped", true,
                     "statusz keyed counter " + m.path +
                         ": increments whose key was refused (counted under " +
                         std::string(KeyedCounter::kOverflowKey) + ")");
        e.sample(dropped, {}, m.dropped);
        break;
      }
      case Kind::Counter: {
        const std::string name =
            e.family(m.path, false, "statusz counter " + m.path);
        e.sample(name, {}, m.counter);
        break;
      }
      case Kind::Gauge: {
        if (m.gauge.is_int()) {
          e.sample(e.family(m.path, false, "statusz gauge " + m.path), {},
                   m.gauge.as_int());
        } else if (m.gauge.is_uint()) {
          e.sample(e.family(m.path, false, "statusz gauge " + m.path), {},
                   m.gauge.as_uint());
        } else if (m.gauge.is_double() || m.gauge.is_bool() ||
                   m.gauge.is_null()) {
          const double v = m.gauge.is_double() ? m.gauge.as_double()
                           : m.gauge.is_bool()
                               ? (m.gauge.as_bool() ? 1.0 : 0.0)
                               : std::numeric_limits<double>::quiet_NaN();
          e.sample(e.family(m.path, false, "statusz gauge " + m.path), {}, v);
        }
        break;
      }
      case Kind::Group:
        break;
    }
  }
  static constexpr Status kStatuses[] = {Status::Ok, Status::Warning,
                                         Status::Unknown, Status::Ko};
  if (!c.probes.empty()) {
    const std::string status = e.family(
        "probe_status", false, "statusz probe status, one-hot by status", true);
    for (const ProbeSample& p : c.probes) {
      for (Status s : kStatuses) {
        e.sample(status, {{"path", p.path}, {"status", to_string(s)}},
                 std::int64_t{p.report.status == s});
      }
    }
    const std::string duration =
        e.family("probe_duration_seconds", false,
                 "statusz probe run time in seconds", true);
    for (const ProbeSample& p : c.probes) {
      e.sample(duration, {{"path", p.path}},
               std::chrono::duration<double>(p.report.duration).count());
    }
  }
  const std::string server = e.family(
      "status", false, "statusz server status (worst probe), one-hot", true);
  for (Status s : kStatuses) {
    e.sample(server, {{"status", to_string(s)}}, std::int64_t{c.status == s});
  }
  const std::string info = e.family(
      "server_info", false, "statusz server host name and version", true);
  e.sample(info, {{"host_name", host_name}, {"version", version}},
           std::int64_t{1});
}

}  // namespace detail

inline std::string to_prometheus(const Collection& c,
                                 const PrometheusOptions& options,
                                 std::string_view host_name,
                                 std::string_view version) {
  detail::PrometheusNames names(options.prefix);
  {
    detail::Exposition declare(options, names, true);
    detail::expose(declare, c, host_name, version);
  }
  names.resolve();
  detail::Exposition e(options, names, false);
  detail::expose(e, c, host_name, version);
  return e.finish();
}

inline std::string to_prometheus(const Registry& reg,
                                 const PrometheusOptions& options = {}) {
  return to_prometheus(reg.collect(), options, reg.host_name(), reg.version());
}

}  // namespace statusz
