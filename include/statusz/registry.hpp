// statusz::Registry: named metrics and probes arranged by dotted path into
// the server status document (docs/serverstatus.md).
//
// Paths make the tree: meter("applications.servlet.requests.chatHttp.errors")
// creates the groups `applications`, `servlet`, ... on the way. A probe at
// "applications.runtime" gives that group its `status` and `durationMs`.
// Getters are get-or-create and return references valid for the registry's
// lifetime (nothing is ever unregistered); asking for a path with another kind
// than it has throws KindError naming the path and both kinds.
//
// Cost: registration takes a mutex and allocates; cache the references it
// returns and use those on hot paths. snapshot() copies the tree's layout
// once per change (under the mutex, briefly), then runs the probes
// concurrently and reads every metric without any lock writers take.
// Thread-safety: every member is safe to call from any thread. Gauge and
// probe functions run without any registry lock held, so they may use the
// registry themselves.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

#include "clock.hpp"
#include "counter.hpp"
#include "detail/utf8.hpp"
#include "gauge.hpp"
#include "json.hpp"
#include "keyed_counter.hpp"
#include "meter.hpp"
#include "probe.hpp"
#include "status.hpp"
#include "time_zone.hpp"
#include "value.hpp"

namespace statusz {

enum class Kind { Group, Meter, Counter, KeyedCounter, Gauge };

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
  }
  return "group";
}

// A path already registered as another kind.
class KindError : public std::invalid_argument {
 public:
  KindError(std::string path, Kind existing, Kind requested)
      : std::invalid_argument("statusz: '" + path + "' is a " +
                              std::string(to_string(existing)) + ", not a " +
                              std::string(to_string(requested))),
        path_(std::move(path)),
        existing_(existing),
        requested_(requested) {}
  const std::string& path() const noexcept { return path_; }
  Kind existing() const noexcept { return existing_; }
  Kind requested() const noexcept { return requested_; }

 private:
  std::string path_;
  Kind existing_;
  Kind requested_;
};

struct RegistryOptions {
  Clock* clock = nullptr;  // nullptr: default_clock()
  std::string host_name;   // empty: the machine's name
  std::string version;     // the service's version, as it sets it
  TimeZone time_zone = TimeZone::utc();
};

// The machine's host name ("localhost" if it cannot be read).
inline std::string machine_host_name() {
#if __has_include(<unistd.h>)
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) == 0 && buf[0] != '\0') {
    return std::string(buf);
  }
#endif
  return "localhost";
}

// Everything a registry holds, read once, with kinds and dotted paths: what
// exporters other than the JSON document (Prometheus) work from.
struct MetricSample {
  std::string path;
  Kind kind = Kind::Meter;
  MeterSnapshot meter;                                      // Kind::Meter
  std::int64_t counter = 0;                                 // Kind::Counter
  std::vector<std::pair<std::string, std::uint64_t>> keys;  // KeyedCounter
  std::uint64_t dropped = 0;                                // KeyedCounter
  Value gauge;                                              // Kind::Gauge
};
struct ProbeSample {
  std::string path;
  ProbeReport report;
};
struct Collection {
  std::vector<MetricSample> metrics;  // in document order
  std::vector<ProbeSample> probes;    // in document order
  Status status = Status::Ok;         // the worst probe status
};

class Registry {
 public:
  // Names the document itself uses at its top level and in probed groups.
  static constexpr std::string_view kTopLevelNames[] = {
      "withDetails", "status", "hostName", "date", "version", "durationMs"};
  static constexpr std::string_view kProbeNames[] = {"status", "durationMs",
                                                     "message"};

  explicit Registry(RegistryOptions options = {})
      : clock_(options.clock != nullptr ? options.clock : &default_clock()),
        host_name_(options.host_name.empty() ? machine_host_name()
                                             : std::move(options.host_name)),
        version_(std::move(options.version)),
        time_zone_(options.time_zone) {}

  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Meter& meter(std::string_view path) {
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    Node& n = walk(path, Kind::Meter);
    if (!n.meter) n.meter = std::make_unique<Meter>(*clock_);
    return *n.meter;
  }

  Counter& counter(std::string_view path) {
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    Node& n = walk(path, Kind::Counter);
    if (!n.counter) n.counter = std::make_unique<Counter>();
    return *n.counter;
  }

  // max_keys applies when the keyed counter is created; an existing one is
  // returned as it is.
  KeyedCounter& keyed(std::string_view path,
                      std::size_t max_keys = KeyedCounter::kDefaultMaxKeys) {
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    Node& n = walk(path, Kind::KeyedCounter);
    if (!n.keyed) n.keyed = std::make_unique<KeyedCounter>(max_keys);
    return *n.keyed;
  }

  // Registers (or replaces the function of) a gauge.
  Gauge& gauge(std::string_view path, Gauge::Function fn) {
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    Node& n = walk(path, Kind::Gauge);
    if (n.gauge) {
      n.gauge->set_function(std::move(fn));
    } else {
      n.gauge = std::make_unique<Gauge>(std::move(fn));
    }
    return *n.gauge;
  }

  // A gauge of errors / (errors + successes) over 5-minute rates.
  Gauge& ratio(std::string_view path, const Meter& errors,
               const Meter& successes) {
    return gauge(path, ratio_gauge(errors, successes));
  }

  // Attaches a probe to the group at `path` (or replaces its function and
  // options).
  Probe& probe(std::string_view path, Probe::Function fn,
               ProbeOptions options = {}) {
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    Node& n = walk(path, Kind::Group);
    for (const auto& child : n.children) {
      if (is_one_of(child->name, kProbeNames)) {
        throw std::invalid_argument("statusz: cannot attach a probe to '" +
                                    std::string(path) + "': it has a member '" +
                                    child->name + "'");
      }
    }
    if (n.probe) {
      n.probe->set_function(std::move(fn));
      n.probe->set_options(options);
    } else {
      n.probe = std::make_unique<Probe>(std::move(fn), *clock_, options);
      ++generation_;
    }
    return *n.probe;
  }

  // Whether anything (a group or a metric) is registered at `path`.
  bool contains(std::string_view path) const {
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    return find(path) != nullptr;
  }
  // The kind at `path`; throws std::out_of_range if nothing is there.
  Kind kind(std::string_view path) const {
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    const Node* n = find(path);
    if (n == nullptr) {
      throw std::out_of_range("statusz: nothing registered at '" +
                              std::string(path) + "'");
    }
    return n->kind;
  }

  // The whole document (details) or its summary: statuses only.
  Value snapshot(bool details = true) const {
    const Nanos t0 = clock_->now();
    const auto wall = clock_->wall_now();
    const std::shared_ptr<const Plan> plan = current_plan();

    const std::vector<ProbeReport> reports = run_probes(*plan);
    const Status overall = worst_of(reports);

    Value doc{Object{}};
    Object& top = doc.as_object();
    top.reserve(plan->root.children.size() + 6);
    top.emplace_back("withDetails", details);
    for (const PlanNode& child : plan->root.children) {
      if (details || child.probes_below) {
        top.emplace_back(*child.name, render(child, reports, details));
      }
    }
    top.emplace_back("status", std::string(to_string(overall)));
    top.emplace_back("hostName", host_name_);
    top.emplace_back("date", time_zone_.format(wall));
    top.emplace_back("version", version_);
    top.emplace_back("durationMs", to_millis(clock_->now() - t0));
    return doc;
  }

  std::string to_json(bool details = true, bool pretty = false) const {
    const Value doc = snapshot(details);
    std::string out;
    // The last document's size is a good guess for this one's: one
    // allocation instead of a dozen regrowths.
    out.reserve(last_json_size_.load(std::memory_order_relaxed) + 256);
    write_json(out, doc, pretty);
    last_json_size_.store(out.size(), std::memory_order_relaxed);
    return out;
  }

  // The aggregate status: runs the probes (as a snapshot does), builds no
  // document.
  Status status() const { return worst_of(run_probes(*current_plan())); }

  // Runs the probes and reads every metric once, with kinds and paths.
  Collection collect() const {
    const std::shared_ptr<const Plan> plan = current_plan();
    const std::vector<ProbeReport> reports = run_probes(*plan);
    Collection c;
    std::string path;
    for (const PlanNode& child : plan->root.children) {
      collect(child, reports, path, c);
    }
    c.status = worst_of(reports);
    return c;
  }

  Clock& clock() const noexcept { return *clock_; }
  const std::string& host_name() const noexcept { return host_name_; }
  const std::string& version() const noexcept { return version_; }
  const TimeZone& time_zone() const noexcept { return time_zone_; }

 private:
  struct Node {
    std::string name;
    Kind kind = Kind::Group;
    std::vector<std::unique_ptr<Node>> children;
    std::unique_ptr<Probe> probe;
    std::unique_ptr<Meter> meter;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<KeyedCounter> keyed;
    std::unique_ptr<Gauge> gauge;
  };

  // An immutable copy of the tree's layout, shared by snapshots until the
  // next registration. Nodes are never removed, so the pointers stay valid.
  struct PlanNode {
    const std::string* name = nullptr;
    const Node* node = nullptr;
    std::size_t probe_index = 0;  // into Plan::probes, if node->probe
    bool probes_below = false;    // a probe here or in a descendant
    std::vector<PlanNode> children;
  };
  struct Plan {
    PlanNode root;
    std::vector<Probe*> probes;
  };

  template <std::size_t N>
  static bool is_one_of(std::string_view name,
                        const std::string_view (&names)[N]) noexcept {
    for (std::string_view n : names) {
      if (n == name) return true;
    }
    return false;
  }

  static std::int64_t to_millis(Nanos d) noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  }

  static std::vector<std::string_view> split(std::string_view path) {
    std::vector<std::string_view> parts;
    if (path.empty()) {
      throw std::invalid_argument("statusz: empty path");
    }
    if (!detail::is_valid_utf8(path)) {
      throw std::invalid_argument("statusz: path is not valid UTF-8");
    }
    std::size_t start = 0;
    for (;;) {
      const std::size_t dot = path.find('.', start);
      const std::string_view part = path.substr(
          start,
          dot == std::string_view::npos ? std::string_view::npos : dot - start);
      if (part.empty()) {
        throw std::invalid_argument("statusz: empty segment in path '" +
                                    std::string(path) + "'");
      }
      parts.push_back(part);
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    return parts;
  }

  static std::string prefix(const std::vector<std::string_view>& parts,
                            std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
      if (i != 0) out.push_back('.');
      out.append(parts[i]);
    }
    return out;
  }

  const Node* find(std::string_view path) const {
    const Node* n = &root_;
    for (std::string_view part : split(path)) {
      const Node* next = nullptr;
      for (const auto& c : n->children) {
        if (c->name == part) {
          next = c.get();
          break;
        }
      }
      if (next == nullptr) return nullptr;
      n = next;
    }
    return n;
  }

  // Walks to `path`, creating groups on the way and the last node as `kind`.
  Node& walk(std::string_view path, Kind kind) {
    const std::vector<std::string_view> parts = split(path);
    Node* n = &root_;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const bool last = i + 1 == parts.size();
      const Kind want = last ? kind : Kind::Group;
      Node* next = nullptr;
      for (const auto& c : n->children) {
        if (c->name == parts[i]) {
          next = c.get();
          break;
        }
      }
      if (next != nullptr) {
        if (next->kind != want) {
          throw KindError(prefix(parts, i + 1), next->kind, want);
        }
      } else {
        if (n == &root_ && is_one_of(parts[i], kTopLevelNames)) {
          throw std::invalid_argument(
              "statusz: '" + std::string(parts[i]) +
              "' is a name the document uses at its top level");
        }
        if (n->probe && is_one_of(parts[i], kProbeNames)) {
          throw std::invalid_argument("statusz: '" + prefix(parts, i + 1) +
                                      "' clashes with the probe of '" +
                                      prefix(parts, i) + "'");
        }
        auto created = std::make_unique<Node>();
        created->name = std::string(parts[i]);
        created->kind = want;
        next = created.get();
        n->children.push_back(std::move(created));
        ++generation_;
      }
      n = next;
    }
    return *n;
  }

  std::shared_ptr<const Plan> current_plan() const {
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    if (!plan_ || plan_generation_ != generation_) {
      auto plan = std::make_shared<Plan>();
      build_plan(root_, plan->root, plan->probes);
      plan_ = std::move(plan);
      plan_generation_ = generation_;
    }
    return plan_;
  }

  static void build_plan(const Node& node, PlanNode& out,
                         std::vector<Probe*>& probes) {
    out.name = &node.name;
    out.node = &node;
    if (node.probe) {
      out.probe_index = probes.size();
      probes.push_back(node.probe.get());
      out.probes_below = true;
    }
    out.children.resize(node.children.size());
    for (std::size_t i = 0; i < node.children.size(); ++i) {
      build_plan(*node.children[i], out.children[i], probes);
      out.probes_below = out.probes_below || out.children[i].probes_below;
    }
  }

  // Starts every probe, then waits for each: they run concurrently, and the
  // whole wait is bounded by the largest timeout.
  static std::vector<ProbeReport> run_probes(const Plan& plan) {
    std::vector<Probe::Pending> pending(plan.probes.size());
    for (std::size_t i = 0; i < pending.size(); ++i) {
      pending[i] = plan.probes[i]->start();
    }
    std::vector<ProbeReport> reports(pending.size());
    for (std::size_t i = 0; i < pending.size(); ++i) {
      reports[i] = plan.probes[i]->wait(pending[i]);
    }
    return reports;
  }

  // The server's status: the worst probe, Ok when there is none.
  static Status worst_of(const std::vector<ProbeReport>& reports) noexcept {
    Status s = Status::Ok;
    for (const ProbeReport& r : reports) s = worst(s, r.status);
    return s;
  }

  static void collect(const PlanNode& p,
                      const std::vector<ProbeReport>& reports,
                      std::string& path, Collection& out) {
    const std::size_t mark = path.size();
    if (!path.empty()) path.push_back('.');
    path += *p.name;
    const Node& n = *p.node;
    if (n.kind == Kind::Group) {
      if (n.probe) out.probes.push_back({path, reports[p.probe_index]});
      for (const PlanNode& child : p.children) {
        collect(child, reports, path, out);
      }
    } else {
      MetricSample m;
      m.path = path;
      m.kind = n.kind;
      switch (n.kind) {
        case Kind::Meter:
          m.meter = n.meter->snapshot();
          break;
        case Kind::Counter:
          m.counter = n.counter->value();
          break;
        case Kind::KeyedCounter:
          m.keys = n.keyed->snapshot();
          m.dropped = n.keyed->dropped();
          break;
        case Kind::Gauge:
          m.gauge = n.gauge->value();
          break;
        case Kind::Group:
          break;
      }
      out.metrics.push_back(std::move(m));
    }
    path.resize(mark);
  }

  static Value render_meter(const Meter& m) {
    const MeterSnapshot s = m.snapshot();
    Object o;
    o.reserve(5);
    o.emplace_back("fiveMinuteRate", s.five_minute_rate);
    o.emplace_back("oneMinuteRate", s.one_minute_rate);
    o.emplace_back("fifteenMinuteRate", s.fifteen_minute_rate);
    o.emplace_back("count", s.count);
    o.emplace_back("meanRate", s.mean_rate);
    return Value(std::move(o));
  }

  static Value render_keyed(const KeyedCounter& k) {
    Object o;
    o.reserve(k.size() + 1);
    k.for_each([&](std::string_view key, std::uint64_t v) {
      o.emplace_back(std::string(key), v);
    });
    return Value(std::move(o));
  }

  static Value render(const PlanNode& p,
                      const std::vector<ProbeReport>& reports, bool details) {
    const Node& n = *p.node;
    switch (n.kind) {
      case Kind::Meter:
        return render_meter(*n.meter);
      case Kind::Counter:
        return Value(n.counter->value());
      case Kind::KeyedCounter:
        return render_keyed(*n.keyed);
      case Kind::Gauge:
        return n.gauge->value();
      case Kind::Group:
        break;
    }
    Object o;
    o.reserve(p.children.size() + 3);
    if (n.probe) {
      const ProbeReport& r = reports[p.probe_index];
      o.emplace_back("status", std::string(to_string(r.status)));
      if (details) {
        o.emplace_back("durationMs", to_millis(r.duration));
        if (!r.message.empty()) o.emplace_back("message", r.message);
      }
    }
    for (const PlanNode& child : p.children) {
      if (details || child.probes_below) {
        o.emplace_back(*child.name, render(child, reports, details));
      }
    }
    return Value(std::move(o));
  }

  Clock* clock_;
  std::string host_name_;
  std::string version_;
  TimeZone time_zone_;
  mutable std::mutex mu_;
  Node root_;
  std::uint64_t generation_ = 0;
  mutable std::shared_ptr<const Plan> plan_;
  mutable std::atomic<std::size_t> last_json_size_{0};
  mutable std::uint64_t plan_generation_ = 0;
};

}  // namespace statusz
