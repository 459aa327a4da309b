// statusz::Gauge: a value computed when the document is built, by a callable
// returning anything a Value holds (a double, an integer, a string, ...).
//
// Cost: nothing until read; value() copies a shared_ptr under a mutex (inside
// a detail::ForkGate section, so fork() never copies it held) and calls the
// function. A function that throws reads as null (rendered `null`),
// never as an error of the whole document.
// A gauge may declare its own exposition family (set_exposition()): a name
// kept as it is, a type and a HELP text, for figures that other tools know by
// a conventional name, such as the process_* families every Prometheus client
// exports (process.hpp); prometheus.hpp says how it is rendered.
// Thread-safety: value(), set_function() and set_exposition() are safe from
// any thread; the function itself must be safe to call from whichever thread
// builds the document.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#if defined(__GLIBCXX__)
#include <cxxabi.h>
#endif

#include "detail/ascii.hpp"
#include "detail/fork.hpp"
#include "value.hpp"

namespace statusz {

// The exposition family a gauge declares for itself (Gauge::set_exposition).
struct GaugeExposition {
  // The family's name, used as it is (no prefix; never renamed): the
  // Prometheus metric-name grammar [a-zA-Z_:][a-zA-Z0-9_:]*, not starting
  // with "__" (reserved); a counter's without its "_total", which its sample
  // gets.
  std::string name;
  bool counter = false;  // a counter family (monotonic), else a gauge
  std::string help;      // the HELP text
};

class Gauge {
 public:
  using Function = std::function<Value()>;

  explicit Gauge(Function fn) { set_function(std::move(fn)); }
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set_function(Function fn) { (void)exchange_function(std::move(fn)); }

  // set_function() returning the replaced function, so a caller inside a
  // detail::ForkGate section can destroy it outside (a destructor may wait
  // for another thread: ForkGate's rule). Readers that still hold it keep it.
  std::shared_ptr<const Function> exchange_function(Function fn) {
    if (!fn) throw std::invalid_argument("statusz: a gauge needs a function");
    auto p = std::make_shared<const Function>(std::move(fn));
    detail::ForkGate::Section fork_gate;
    std::lock_guard<std::mutex> g(mu_);
    fn_.swap(p);
    return p;
  }

  // The current function (shared: it stays valid while a read uses it).
  std::shared_ptr<const Function> function() const {
    detail::ForkGate::Section fork_gate;
    std::lock_guard<std::mutex> g(mu_);
    return fn_;
  }

  // Declares the gauge's own exposition family. Throws std::invalid_argument
  // (and changes nothing) for a name outside the grammar above, or a
  // counter's name ending in "_total".
  void set_exposition(GaugeExposition e) {
    const std::string& n = e.name;
    if (!detail::is_prometheus_name(n, true) || n.compare(0, 2, "__") == 0) {
      throw std::invalid_argument("statusz: \"" + n +
                                  "\" is not a Prometheus metric name");
    }
    if (e.counter && n.size() >= 6 &&
        n.compare(n.size() - 6, 6, "_total") == 0) {
      throw std::invalid_argument("statusz: counter family \"" + n +
                                  "\" must be named without \"_total\"");
    }
    auto p = std::make_shared<const GaugeExposition>(std::move(e));
    detail::ForkGate::Section fork_gate;
    std::lock_guard<std::mutex> g(mu_);
    exposition_.swap(p);
  }

  // The declared family, or nullptr.
  std::shared_ptr<const GaugeExposition> exposition() const {
    detail::ForkGate::Section fork_gate;
    std::lock_guard<std::mutex> g(mu_);
    return exposition_;
  }

  Value value() const {
    std::shared_ptr<const Function> fn;
    {
      detail::ForkGate::Section fork_gate;
      std::lock_guard<std::mutex> g(mu_);
      fn = fn_;
    }
    try {
      return (*fn)();
#if defined(__GLIBCXX__)
    } catch (abi::__forced_unwind&) {
      throw;  // a thread being cancelled or exited must unwind
#endif
    } catch (...) {
      return Value();
    }
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Function> fn_;
  std::shared_ptr<const GaugeExposition> exposition_;
};

}  // namespace statusz
