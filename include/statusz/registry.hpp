// statusz::Registry: named metrics and probes arranged by dotted path into
// the server status document (docs/serverstatus.md).
//
// Paths make the tree: meter("applications.servlet.requests.chatHttp.errors")
// creates the groups `applications`, `servlet`, ... on the way. A probe at
// "applications.runtime" gives that group its `status` and `durationMs`.
// A path is non-empty UTF-8 of at most kMaxPathDepth (128) non-empty
// segments; another throws std::invalid_argument (the walks recurse once per
// segment, so depth is what bounds their stack).
// Getters are get-or-create and return references valid for the registry's
// lifetime (nothing is ever unregistered); asking for a path with another kind
// than it has throws KindError naming the path and both kinds.
//
// Readers go through one walk, visit(): it runs the probes, then shows a
// RegistryVisitor (visitor.hpp) every node in document order with each
// metric's snapshot. The document (document.hpp; snapshot(), to_json()) and
// the Prometheus exposition (prometheus.hpp) are visitors of that walk.
// A registration that throws (a bad path, a clash, a metric whose
// construction fails, invalid probe options) changes nothing: the tree, the
// existing metrics and probes are as they were.
//
// Cost: registration takes a mutex and allocates; cache the references it
// returns and use those on hot paths. A walk copies the tree's layout once
// per change (under the mutex, briefly), then runs the probes concurrently
// and reads every metric without any lock writers take. A renderer may leave
// its buffers with the registry for the next rendering (take_scratch(): one
// atomic exchange each way).
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
#include <variant>
#include <vector>

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

#include "clock.hpp"
#include "counter.hpp"
#include "detail/hash.hpp"
#include "detail/utf8.hpp"
#include "document.hpp"
#include "gauge.hpp"
#include "histogram.hpp"
#include "json.hpp"
#include "keyed_counter.hpp"
#include "meter.hpp"
#include "probe.hpp"
#include "shared.hpp"
#include "status.hpp"
#include "time_zone.hpp"
#include "timer.hpp"
#include "value.hpp"
#include "visitor.hpp"

namespace statusz {

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
  // Non-empty: the name of a shared store every process of this user that
  // opens it counts into (shared.hpp). Meters, counters and keyed counters
  // are the pool's.
  std::string shared{};
  // The shared store's capacities; every process of the pool must give the
  // same ones (shared.hpp).
  SharedLimits shared_limits{};
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

// errors / (errors + successes) over the meters' 5-minute rates; 0 when both
// are 0: the seed's fiveMinuteErrorsRatio. The meters must outlive the
// function.
inline Gauge::Function ratio_gauge(const Meter& errors,
                                   const Meter& successes) {
  return [&errors, &successes]() -> Value {
    const double e = errors.five_minute_rate();
    const double s = successes.five_minute_rate();
    const double total = e + s;
    return total > 0 ? e / total : 0.0;
  };
}

class Registry {
 public:
  // Names the document itself uses at its top level and in probed groups.
  static constexpr const auto& kTopLevelNames = document_names::kTopLevel;
  static constexpr const auto& kProbeNames = document_names::kProbe;
  // The most segments a path may have (see the top of this file).
  static constexpr std::size_t kMaxPathDepth = 128;

  explicit Registry(RegistryOptions options = {})
      : clock_(options.clock != nullptr ? options.clock : &default_clock()),
        host_name_(options.host_name.empty() ? machine_host_name()
                                             : std::move(options.host_name)),
        version_(std::move(options.version)),
        time_zone_(options.time_zone),
        shared_(options.shared.empty()
                    ? nullptr
                    : std::make_unique<detail::SharedStore>(
                          options.shared, options.shared_limits)) {}

  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry() { delete scratch_.load(std::memory_order_acquire); }

  // Memory a renderer keeps between renderings (its buffers, e.g.
  // prometheus.hpp's), so that rendering a large registry again reuses it
  // instead of allocating it and faulting it in anew.
  struct Scratch {
    virtual ~Scratch() = default;
  };
  // Takes the scratch the last rendering gave back: nullptr if there is
  // none or another rendering holds it (the caller then makes its own).
  // One atomic exchange: renderings never wait for each other or writers.
  std::unique_ptr<Scratch> take_scratch() const noexcept {
    return std::unique_ptr<Scratch>(
        scratch_.exchange(nullptr, std::memory_order_acq_rel));
  }
  // Keeps `s` for the next rendering (one is kept: if another rendering
  // gave one back meanwhile, that one is freed).
  void give_back_scratch(std::unique_ptr<Scratch> s) const noexcept {
    delete scratch_.exchange(s.release(), std::memory_order_acq_rel);
  }

  Meter& meter(std::string_view path) {
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    return get_or_create(path, Kind::Meter,
                         [&](Node& n) {
                           if (shared_) {
                             const auto r = shared_register(
                                 path, detail::SharedStore::kMeter,
                                 CounterMode::Sum);
                             n.metric = std::make_unique<Meter>(
                                 *clock_, r.cell, *r.meter, *shared_);
                           } else {
                             n.metric = std::make_unique<Meter>(*clock_);
                           }
                         })
        .get<Meter>();
  }

  // `mode` matters on a shared registry only (how the pool's processes'
  // values aggregate, shared.hpp); every process must ask with the same one,
  // and so must every call in one: another mode throws std::invalid_argument.
  Counter& counter(std::string_view path, CounterMode mode = CounterMode::Sum) {
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    bool created = false;
    Node& node = get_or_create(path, Kind::Counter, [&](Node& n) {
      if (shared_) {
        n.metric = std::make_unique<Counter>(
            shared_register(path, detail::SharedStore::kCounter, mode).cell);
      } else {
        n.metric = std::make_unique<Counter>();
      }
      n.counter_mode = mode;
      created = true;
    });
    if (!created && shared_ && node.counter_mode != mode) {
      throw detail::SharedStore::mode_clash(path, node.counter_mode, mode);
    }
    return node.get<Counter>();
  }

  // max_keys applies when the keyed counter is created; an existing one is
  // returned as it is. On a shared registry, the pool's keyed counter: the
  // first process to create it sets max_keys; it reserves max_keys + 2 cells
  // and max_keys x 264 key bytes of the store, or throws SharedStoreError.
  KeyedCounter& keyed(std::string_view path,
                      std::size_t max_keys = KeyedCounter::kDefaultMaxKeys) {
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    return get_or_create(
               path, Kind::KeyedCounter,
               [&](Node& n) {
                 if (shared_) {
                   if (max_keys == 0) {
                     throw std::invalid_argument(
                         "statusz: KeyedCounter max_keys must be > 0");
                   }
                   n.metric = std::make_unique<KeyedCounter>(
                       shared_register(path, detail::SharedStore::kKeyed,
                                       CounterMode::Sum, max_keys)
                           .keyed);
                 } else {
                   n.metric = std::make_unique<KeyedCounter>(max_keys);
                 }
               })
        .get<KeyedCounter>();
  }

  // window_ticks (the sliding window, in 5-s ticks) applies when the
  // histogram or timer is created; an existing one is returned as it is.
  Histogram& histogram(
      std::string_view path,
      std::size_t window_ticks = Histogram::kDefaultWindowTicks) {
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    return get_or_create(path, Kind::Histogram,
                         [&](Node& n) {
                           refuse_if_shared("histograms", path);
                           n.metric = std::make_unique<Histogram>(*clock_,
                                                                  window_ticks);
                         })
        .get<Histogram>();
  }

  Timer& timer(std::string_view path,
               std::size_t window_ticks = Histogram::kDefaultWindowTicks) {
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    return get_or_create(path, Kind::Timer,
                         [&](Node& n) {
                           refuse_if_shared("timers", path);
                           n.metric =
                               std::make_unique<Timer>(*clock_, window_ticks);
                         })
        .get<Timer>();
  }

  // Registers (or replaces the function of) a gauge.
  // A replaced function is destroyed after the lock and the section are
  // left (declared first, destroyed last), as ForkGate requires.
  Gauge& gauge(std::string_view path, Gauge::Function fn) {
    std::shared_ptr<const Gauge::Function> replaced;
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    bool created = false;
    Node& n = get_or_create(path, Kind::Gauge, [&](Node& fresh) {
      fresh.metric = std::make_unique<Gauge>(std::move(fn));
      created = true;
    });
    if (!created) replaced = n.get<Gauge>().exchange_function(std::move(fn));
    return n.get<Gauge>();
  }

  // A gauge of errors / (errors + successes) over 5-minute rates.
  Gauge& ratio(std::string_view path, const Meter& errors,
               const Meter& successes) {
    return gauge(path, ratio_gauge(errors, successes));
  }

  // Attaches a probe to the group at `path` (or replaces its function,
  // options and health groups). `groups`: the health groups it is in,
  // health::kLive ("live", /livez) and/or health::kReady ("ready", /readyz);
  // none given: "ready" only. Another name throws std::invalid_argument.
  Probe& probe(std::string_view path, Probe::Function fn,
               ProbeOptions options = {},
               const std::vector<std::string>& groups = {}) {
    if (!fn) throw std::invalid_argument("statusz: a probe needs a function");
    const unsigned health_groups = health_group_mask(groups);
    std::shared_ptr<const Probe::Function>
        replaced;                         // destroyed last, as in gauge()
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    bool created = false;
    Node& n = get_or_create(path, Kind::Group, [&](Node& fresh) {
      fresh.probe = std::make_unique<Probe>(std::move(fn), *clock_, options);
      fresh.health_groups = health_groups;
      created = true;
    });
    if (created) return *n.probe;
    if (n.probe) {
      const ProbeOptions before = n.probe->options();
      n.probe->set_options(options);  // validates; unchanged if it throws
      try {
        replaced = n.probe->exchange_function(std::move(fn));
      } catch (...) {
        n.probe->set_options(before);
        throw;
      }
      if (n.health_groups != health_groups) {
        n.health_groups = health_groups;
        ++generation_;  // walks' plans carry the groups
      }
      return *n.probe;
    }
    for (const auto& child : n.children) {
      if (document_names::is_one_of(child->name, document_names::kProbe)) {
        throw std::invalid_argument("statusz: cannot attach a probe to '" +
                                    std::string(path) + "': it has a member '" +
                                    child->name + "'");
      }
    }
    n.probe = std::make_unique<Probe>(std::move(fn), *clock_, options);
    n.health_groups = health_groups;
    ++generation_;
    return *n.probe;
  }

  // The checks of the health group `group` (health::kLive or kReady; another
  // name throws std::invalid_argument), in document order, named by their
  // probes' paths. Those named in `exclude` are reported excluded and not
  // run; the others run as in a walk (the same runner: concurrently, each
  // bounded by its timeout, max_age reuse). Probes outside the group do not
  // run. Backs HttpHandler's /livez and /readyz.
  std::vector<HealthCheck> health(
      std::string_view group,
      const std::vector<std::string>& exclude = {}) const {
    const unsigned bit = health_group_bit(group);
    if (bit == 0) {
      throw std::invalid_argument("statusz: no health group '" +
                                  std::string(group) + "' (live or ready)");
    }
    const std::shared_ptr<const Plan> plan = current_plan();
    const std::size_t count = plan->probes.size();
    std::vector<HealthCheck> checks;
    std::vector<bool> selected(count, false);
    for (std::size_t i = 0; i < count; ++i) {
      if ((plan->probe_groups[i] & bit) == 0) continue;
      HealthCheck c;
      c.name = plan->probe_paths[i];
      for (const std::string& e : exclude)
        c.excluded = c.excluded || e == c.name;
      selected[i] = !c.excluded;
      checks.push_back(std::move(c));
    }
    const std::vector<ProbeReport> reports = run_probes(*plan, &selected);
    std::size_t k = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if ((plan->probe_groups[i] & bit) == 0) continue;
      if (selected[i]) checks[k].report = reports[i];
      ++k;
    }
    return checks;
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

  // The read walk: runs the probes (concurrently; the wait is bounded by the
  // largest timeout), then shows `v` every node in document order (see
  // visitor.hpp). Returns the server's status, as v.begin() got it.
  Status visit(RegistryVisitor& v, VisitOptions options = {}) const {
    if (shared_) shared_->reap();
    const std::shared_ptr<const Plan> plan = current_plan();
    const std::vector<ProbeReport> reports = run_probes(*plan);
    const Status server = worst_of(reports);
    v.begin(server);
    std::string path;
    for (const PlanNode& child : plan->root.children) {
      visit(child, reports, options, 1, path, v);
    }
    v.end(server);
    return server;
  }

  // The whole document (details) or its summary: statuses only. See
  // document.hpp.
  Value snapshot(bool details = true) const {
    const Nanos t0 = clock_->now();
    const auto wall = clock_->wall_now();
    DocumentBuilder builder(details);
    VisitOptions options;
    options.probed_groups_only = !details;
    const Status server = visit(builder, options);
    return builder.finish(server, {host_name_, time_zone_.format(wall),
                                   version_, clock_->now() - t0});
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

  // The aggregate status: runs the probes (as a walk does), reads nothing
  // else.
  Status status() const { return worst_of(run_probes(*current_plan())); }

  Clock& clock() const noexcept { return *clock_; }
  const std::string& host_name() const noexcept { return host_name_; }
  const std::string& version() const noexcept { return version_; }
  // The size of this registry's last Prometheus exposition (to_prometheus):
  // the guess it reserves for the next one, as to_json() does for JSON.
  std::atomic<std::size_t>& exposition_size_hint() const noexcept {
    return last_exposition_size_;
  }
  const TimeZone& time_zone() const noexcept { return time_zone_; }
  // The shared store (nullptr for a private registry).
  detail::SharedStore* shared_store() const noexcept { return shared_.get(); }

 private:
  struct Node {
    std::string name;
    Kind kind = Kind::Group;
    unsigned health_groups = 0;  // of the probe: health_group_bit()s
    CounterMode counter_mode = CounterMode::Sum;  // a counter's, as created
    std::vector<std::unique_ptr<Node>> children;
    // By name, once there are many children: an open-addressing table of
    // them (linear probing, at most half full, a power of two in size),
    // hashed by name; null until then (a leaf pays 8 bytes for it).
    std::unique_ptr<std::vector<Node*>> index;
    std::unique_ptr<Probe> probe;
    // A leaf's metric, of the type its kind says (monostate: a group).
    std::variant<std::monostate, std::unique_ptr<Meter>,
                 std::unique_ptr<Counter>, std::unique_ptr<KeyedCounter>,
                 std::unique_ptr<Gauge>, std::unique_ptr<Histogram>,
                 std::unique_ptr<Timer>>
        metric;

    static constexpr std::size_t kIndexFrom = 16;

    template <class T>
    T& get() const {
      return *std::get<std::unique_ptr<T>>(metric);
    }

    // The slot of `index` table t holding the child named `name`, or the
    // empty one where it would go.
    static std::size_t slot_for(const std::vector<Node*>& t,
                                std::string_view name) noexcept {
      const std::size_t mask = t.size() - 1;
      std::size_t i = static_cast<std::size_t>(detail::hash_bytes(
                          name, detail::process_hash_seed())) &
                      mask;
      while (t[i] != nullptr && t[i]->name != name) i = (i + 1) & mask;
      return i;
    }

    Node* child(std::string_view part) const {
      if (index != nullptr) return (*index)[slot_for(*index, part)];
      for (const auto& c : children) {
        if (c->name == part) return c.get();
      }
      return nullptr;
    }
    // Names are unique among children: a new one lands in an empty slot.
    static void place(std::vector<Node*>& t, Node* c) noexcept {
      t[slot_for(t, c->name)] = c;
    }
    // Links `c` as the last child. Strong guarantee: on a throw, nothing
    // changed (and `c` is destroyed by the caller).
    void adopt(std::unique_ptr<Node>& c) {
      // Doubling: registering n children is O(n), not O(n^2) reallocations.
      if (children.size() == children.capacity()) {
        children.reserve(2 * children.size() + 1);
      }
      const std::size_t n = children.size() + 1;
      if (n >= kIndexFrom) {
        if (index == nullptr || 2 * n > index->size()) {
          std::size_t size = 2 * kIndexFrom;
          while (size < 2 * n) size *= 2;
          auto built = std::make_unique<std::vector<Node*>>(size, nullptr);
          for (const auto& existing : children) place(*built, existing.get());
          index = std::move(built);
        }
        place(*index, c.get());
      }
      children.push_back(std::move(c));  // capacity reserved: cannot throw
    }
  };

  // An immutable copy of the tree's layout, shared by walks until the next
  // registration. Nodes are never removed, so the pointers stay valid.
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
    // Per probe, as `probes`: its path and health groups.
    std::vector<std::string> probe_paths;
    std::vector<unsigned> probe_groups;
  };

  static unsigned health_group_bit(std::string_view group) noexcept {
    if (group == health::kLive) return 1;
    if (group == health::kReady) return 2;
    return 0;
  }

  static unsigned health_group_mask(const std::vector<std::string>& groups) {
    unsigned mask = 0;
    for (const std::string& group : groups) {
      const unsigned bit = health_group_bit(group);
      if (bit == 0) {
        throw std::invalid_argument("statusz: no health group '" + group +
                                    "' (live or ready)");
      }
      mask |= bit;
    }
    return mask == 0 ? health_group_bit(health::kReady) : mask;
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
      if (parts.size() == kMaxPathDepth) {
        throw std::invalid_argument("statusz: path has more than " +
                                    std::to_string(kMaxPathDepth) +
                                    " segments");
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
      n = n->child(part);
      if (n == nullptr) return nullptr;
    }
    return n;
  }

  // The node at `path`, of `kind`, with groups on the way. If it does not
  // exist, the missing nodes are built apart, `make` fills the last one (its
  // metric or probe), and only then are they linked into the tree: any
  // throw (a bad path, a clash, a failing `make`) leaves the tree as it was.
  template <class Make>
  Node& get_or_create(std::string_view path, Kind kind, Make&& make) {
    const std::vector<std::string_view> parts = split(path);
    Node* n = &root_;
    std::size_t i = 0;
    for (; i < parts.size(); ++i) {
      Node* next = n->child(parts[i]);
      if (next == nullptr) break;
      const Kind want = i + 1 == parts.size() ? kind : Kind::Group;
      if (next->kind != want) {
        throw KindError(prefix(parts, i + 1), next->kind, want);
      }
      n = next;
    }
    if (i == parts.size()) return *n;
    if (n == &root_ &&
        document_names::is_one_of(parts[i], document_names::kTopLevel)) {
      throw std::invalid_argument(
          "statusz: '" + std::string(parts[i]) +
          "' is a name the document uses at its top level");
    }
    if (n->probe &&
        document_names::is_one_of(parts[i], document_names::kProbe)) {
      throw std::invalid_argument("statusz: '" + prefix(parts, i + 1) +
                                  "' clashes with the probe of '" +
                                  prefix(parts, i) + "'");
    }
    std::unique_ptr<Node> chain;
    for (std::size_t k = parts.size(); k-- > i;) {
      auto created = std::make_unique<Node>();
      created->name = std::string(parts[k]);
      if (k + 1 == parts.size()) {
        created->kind = kind;
        make(*created);
      } else {
        created->adopt(chain);
      }
      chain = std::move(created);
    }
    Node& last = *leaf_of(chain.get());
    n->adopt(chain);
    ++generation_;
    return last;
  }

  // The store's entry for `path`; a path another process registered as
  // another kind is a KindError.
  // The kinds the shared store does not hold are refused on a shared
  // registry (std::logic_error), never counted per process unnoticed.
  void refuse_if_shared(std::string_view kinds, std::string_view path) const {
    if (!shared_) return;
    throw std::logic_error(
        "statusz: " + std::string(kinds) +
        " are not supported by a shared registry ('" + std::string(path) +
        "'): only meters, counters and keyed counters are pooled; use a "
        "private registry in each process for them");
  }

  detail::SharedStore::Registration shared_register(
      std::string_view path, detail::SharedStore::EntryKind kind,
      CounterMode mode, std::size_t max_keys = 0) {
    auto r =
        shared_->register_metric(path, kind, mode, clock_->now(), max_keys);
    if (r.clash) {
      const auto as_kind = [](std::uint32_t k) {
        if (k == detail::SharedStore::kMeter) return Kind::Meter;
        if (k == detail::SharedStore::kKeyed) return Kind::KeyedCounter;
        return Kind::Counter;
      };
      throw KindError(std::string(path), as_kind(r.existing_kind),
                      as_kind(kind));
    }
    return r;
  }

  static Node* leaf_of(Node* n) noexcept {
    while (!n->children.empty()) n = n->children.front().get();
    return n;
  }

  std::shared_ptr<const Plan> current_plan() const {
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    if (!plan_ || plan_generation_ != generation_) {
      auto plan = std::make_shared<Plan>();
      std::string path;
      build_plan(root_, plan->root, *plan, path);
      plan_ = std::move(plan);
      plan_generation_ = generation_;
    }
    return plan_;
  }

  // `path`: the node's (empty for the root).
  static void build_plan(const Node& node, PlanNode& out, Plan& plan,
                         std::string& path) {
    out.name = &node.name;
    out.node = &node;
    if (node.probe) {
      out.probe_index = plan.probes.size();
      plan.probes.push_back(node.probe.get());
      plan.probe_paths.push_back(path);
      plan.probe_groups.push_back(node.health_groups);
      out.probes_below = true;
    }
    out.children.resize(node.children.size());
    for (std::size_t i = 0; i < node.children.size(); ++i) {
      const std::size_t mark = path.size();
      if (!path.empty()) path.push_back('.');
      path += node.children[i]->name;
      build_plan(*node.children[i], out.children[i], plan, path);
      path.resize(mark);
      out.probes_below = out.probes_below || out.children[i].probes_below;
    }
  }

  // Starts every probe (those `only` selects, if given), then waits for
  // each: they run concurrently, and the whole wait is bounded by the
  // largest timeout. An unselected probe's report is a default one.
  static std::vector<ProbeReport> run_probes(
      const Plan& plan, const std::vector<bool>* only = nullptr) {
    const auto runs = [only](std::size_t i) { return !only || (*only)[i]; };
    std::vector<Probe::Pending> pending(plan.probes.size());
    for (std::size_t i = 0; i < pending.size(); ++i) {
      if (runs(i)) pending[i] = plan.probes[i]->start();
    }
    std::vector<ProbeReport> reports(pending.size());
    for (std::size_t i = 0; i < pending.size(); ++i) {
      if (runs(i)) reports[i] = plan.probes[i]->wait(pending[i]);
    }
    return reports;
  }

  // The server's status: the worst probe, Ok when there is none.
  static Status worst_of(const std::vector<ProbeReport>& reports) noexcept {
    Status s = Status::Ok;
    for (const ProbeReport& r : reports) s = worst(s, r.status);
    return s;
  }

  // The one walk over the nodes: a new kind of metric is one more case here.
  static void visit(const PlanNode& p, const std::vector<ProbeReport>& reports,
                    const VisitOptions& options, std::size_t depth,
                    std::string& path, RegistryVisitor& v) {
    if (options.probed_groups_only && !p.probes_below) return;
    const std::size_t mark = path.size();
    if (!path.empty()) path.push_back('.');
    path += *p.name;
    const Node& n = *p.node;
    const NodeView view{*p.name,           path,   n.kind, depth,
                        p.children.size(), nullptr};
    switch (n.kind) {
      case Kind::Group:
        v.open_group(view, n.probe ? &reports[p.probe_index] : nullptr);
        for (const PlanNode& child : p.children) {
          visit(child, reports, options, depth + 1, path, v);
        }
        // The children may have moved `path`'s buffer: a fresh view.
        v.close_group(
            NodeView{*p.name, path, n.kind, depth, p.children.size(), nullptr});
        break;
      case Kind::Meter:
        v.meter(view, n.get<Meter>().snapshot());
        break;
      case Kind::Counter:
        v.counter(view, n.get<Counter>().value());
        break;
      case Kind::KeyedCounter:
        v.keyed(view, n.get<KeyedCounter>());
        break;
      case Kind::Gauge: {
        const std::shared_ptr<const GaugeExposition> e =
            n.get<Gauge>().exposition();
        NodeView gauge_view = view;
        gauge_view.exposition = e.get();
        v.gauge(gauge_view, n.get<Gauge>().value());
        break;
      }
      case Kind::Histogram:
        v.histogram(view, n.get<Histogram>().snapshot());
        break;
      case Kind::Timer:
        v.timer(view, n.get<Timer>().snapshot());
        break;
    }
    path.resize(mark);
  }

  Clock* clock_;
  std::string host_name_;
  std::string version_;
  TimeZone time_zone_;
  // Before root_: the metrics (in root_) count into it, so it outlives them.
  std::unique_ptr<detail::SharedStore> shared_;
  mutable std::mutex mu_;
  Node root_;
  std::uint64_t generation_ = 0;
  mutable std::shared_ptr<const Plan> plan_;
  mutable std::atomic<std::size_t> last_json_size_{0};
  mutable std::atomic<std::size_t> last_exposition_size_{0};
  mutable std::atomic<Scratch*> scratch_{nullptr};  // owned
  mutable std::uint64_t plan_generation_ = 0;
};

}  // namespace statusz
