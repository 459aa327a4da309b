// statusz::RegistryVisitor: what Registry::visit() shows a reader, the one
// read walk every renderer (the JSON document, the Prometheus exposition)
// is built on. The walk goes through the registry's tree in document order,
// depth first, after running the probes: each group is opened (with its
// probe's report, if it has one) and closed around its children, and each
// metric is handed to the visitor with its snapshot. A new kind of metric is
// one more member here, one more case in Registry::visit(), and its
// rendering in each visitor.
//
// Cost: virtual calls, one per node; the snapshots are the metrics' own.
// Thread-safety: a visitor is used by one walk at a time, on the calling
// thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gauge.hpp"
#include "keyed_counter.hpp"
#include "meter.hpp"
#include "probe.hpp"
#include "status.hpp"
#include "timer.hpp"
#include "value.hpp"

namespace statusz {

enum class Kind {
  Group,
  Meter,
  Counter,
  KeyedCounter,
  Gauge,
  Histogram,
  Timer
};

constexpr std::string_view to_string(Kind k) noexcept {
  switch (k) {
    case Kind::Group:
      return "group";
    case Kind::Meter:
      return "meter";
    case Kind::Counter:
      return "counter";
    case Kind::KeyedCounter:
      return "keyed counter";
    case Kind::Gauge:
      return "gauge";
    case Kind::Histogram:
      return "histogram";
    case Kind::Timer:
      return "timer";
  }
  return "group";
}

// A node as the walk meets it. The views are valid during the call only.
struct NodeView {
  std::string_view name;  // the last segment of its path
  std::string_view path;  // its dotted path, from the top
  Kind kind = Kind::Group;
  std::size_t depth = 1;     // 1 for a top-level member
  std::size_t children = 0;  // a group's children, as registered
  // A gauge's own exposition family, if it declared one (gauge.hpp).
  const GaugeExposition* exposition = nullptr;
};

// Which nodes a walk shows.
struct VisitOptions {
  // Only the groups that have a probe at or below them, and no metric: what
  // the document without details shows.
  bool probed_groups_only = false;
};

class RegistryVisitor {
 public:
  virtual ~RegistryVisitor() = default;

  // Before the first node, once the probes have run: the server's status
  // (the worst probe, Ok when there is none).
  virtual void begin(Status /*server*/) {}
  // A group, before its children; `probe` is its probe's report (nullptr if
  // it has none).
  virtual void open_group(const NodeView& /*group*/,
                          const ProbeReport* /*probe*/) {}
  virtual void close_group(const NodeView& /*group*/) {}

  virtual void meter(const NodeView& /*node*/, const MeterSnapshot& /*s*/) {}
  virtual void counter(const NodeView& /*node*/, std::int64_t /*value*/) {}
  // Read it with for_each() (first-counted order, kOverflowKey last) and
  // dropped().
  virtual void keyed(const NodeView& /*node*/, const KeyedCounter& /*k*/) {}
  virtual void gauge(const NodeView& /*node*/, const Value& /*value*/) {}
  // Durations in nanoseconds; `s` has the meter's figures too.
  virtual void timer(const NodeView& /*node*/, const TimerSnapshot& /*s*/) {}
  virtual void histogram(const NodeView& /*node*/,
                         const HistogramSnapshot& /*s*/) {}

  // After the last node.
  virtual void end(Status /*server*/) {}
};

}  // namespace statusz
