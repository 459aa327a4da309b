// statusz::Gauge: a value computed when the document is built, by a callable
// returning anything a Value holds (a double, an integer, a string, ...).
//
// Cost: nothing until read; value() copies a shared_ptr under a mutex (inside
// a detail::ForkGate section, so fork() never copies it held) and calls the
// function. A function that throws reads as null (rendered `null`),
// never as an error of the whole document.
// Thread-safety: value() and set_function() are safe from any thread; the
// function itself must be safe to call from whichever thread builds the
// document.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>

#if defined(__GLIBCXX__)
#include <cxxabi.h>
#endif

#include "detail/fork.hpp"
#include "value.hpp"

namespace statusz {

class Gauge {
 public:
  using Function = std::function<Value()>;

  explicit Gauge(Function fn) { set_function(std::move(fn)); }
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set_function(Function fn) {
    if (!fn) throw std::invalid_argument("statusz: a gauge needs a function");
    auto p = std::make_shared<const Function>(std::move(fn));
    {
      detail::ForkGate::Section fork_gate;
      std::lock_guard<std::mutex> g(mu_);
      fn_.swap(p);
    }
  }  // the old function is destroyed here, after the unlock

  // The current function (shared: it stays valid while a read uses it).
  std::shared_ptr<const Function> function() const {
    detail::ForkGate::Section fork_gate;
    std::lock_guard<std::mutex> g(mu_);
    return fn_;
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
};

}  // namespace statusz
