// statusz::detail process lifecycle support: fork() safety and thread
// creation.
//
// ForkGate: a process-wide gate that fork() closes. Code that takes a statusz
// lock which a forked child may need (the clock's ticker, probe workers,
// registration, metric reads) does so inside a ForkGate::Section; the
// pthread_atfork prepare handler closes the gate and waits until no thread is
// inside a section, so no such lock is held, and no structure half-updated,
// when the process forks. Sections nest (a thread already inside passes
// freely) and must never block waiting for another thread's section (a
// condition-variable wait is done outside of any section). In the child the
// gate reopens, then the child handlers run: they restart what fork() did not
// copy (threads) in the child's only thread.
// Lock hooks: a lock that code outside any section takes (detail::CellSpace's
// mutex, taken by the first count of a thread) is held across fork() by a
// lock hook: prepare locks it after the gate has drained (a thread inside a
// section may be waiting for that lock), parent and child unlock it before
// the gate reopens. One pthread_atfork registration runs everything, so the
// order never depends on which part of statusz was used first.
// Cost: entering and leaving a section is an atomic increment and decrement
// of one process-wide counter (a mutex only while a fork is in progress); none
// of it is on a hot path (mark, inc, update).
//
// start_thread(): std::thread construction through a hook tests can set to
// make creation fail as the OS does when out of threads (EAGAIN).
// Thread-safety: everything here is safe to call from any thread.
#pragma once

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define STATUSZ_HAVE_ATFORK 1
#else
#define STATUSZ_HAVE_ATFORK 0
#endif

namespace statusz {
namespace detail {

class ForkGate {
 public:
  // The process's gate. Never destroyed (usable during static destruction).
  static ForkGate& instance() {
    static ForkGate* const gate = [] {
      auto* g = new ForkGate();
#if STATUSZ_HAVE_ATFORK
      pthread_atfork(&ForkGate::on_prepare, &ForkGate::on_parent,
                     &ForkGate::on_child);
#endif
      return g;
    }();
    return *gate;
  }

  // RAII: the current thread is inside the gate for the section's lifetime.
  class Section {
   public:
    Section() : gate_(instance()) { gate_.enter(); }
    ~Section() { gate_.leave(); }
    Section(const Section&) = delete;
    Section& operator=(const Section&) = delete;

   private:
    ForkGate& gate_;
  };

  // Registers fn to run in the child after each fork() (in the child's only
  // thread, gate open). Returns an id for remove_child_handler().
  std::uint64_t add_child_handler(std::function<void()> fn) {
    std::lock_guard<std::mutex> g(handlers_mu_);
    const std::uint64_t id = ++next_id_;
    handlers_.emplace_back(id, std::move(fn));
    return id;
  }
  void remove_child_handler(std::uint64_t id) noexcept {
    std::lock_guard<std::mutex> g(handlers_mu_);
    for (auto it = handlers_.begin(); it != handlers_.end(); ++it) {
      if (it->first == id) {
        handlers_.erase(it);
        return;
      }
    }
  }

  // Runs prepare(arg) in the forking thread once the gate has drained, and
  // parent(arg) or child(arg) after fork() before the gate reopens and before
  // the child handlers; hooks prepare in registration order and finish in
  // reverse order. For locks only (no allocation, nothing that can block on a
  // section). Hooks cannot be removed.
  struct LockHooks {
    void (*prepare)(void*) noexcept;
    void (*parent)(void*) noexcept;
    void (*child)(void*) noexcept;
    void* arg;
  };
  void add_lock_hooks(const LockHooks& hooks) {
    std::lock_guard<std::mutex> g(handlers_mu_);
    lock_hooks_.push_back(hooks);
  }

  // Forks this process is descended through (0 in the original process).
  std::uint64_t forks() const noexcept {
    return forks_.load(std::memory_order_acquire);
  }

  // Whether the calling thread is inside a section. Code that may wait for
  // another thread (a replaced user function's destructor: a Python
  // callable's takes the GIL) must run outside.
  static bool in_section() noexcept { return depth() > 0; }

 private:
  ForkGate() = default;

  static int& depth() noexcept {
    static thread_local int d = 0;
    return d;
  }

  // Fast path: one atomic increment and one load. Sequentially consistent
  // with on_prepare() (which sets closed_, then reads active_): either the
  // entering thread sees the gate closed, or fork() waits for it.
  void enter() {
    if (depth()++ > 0) return;
    for (;;) {
      active_.fetch_add(1, std::memory_order_seq_cst);
      if (!closed_.load(std::memory_order_seq_cst)) return;
      release_one();
      std::unique_lock<std::mutex> g(mu_);
      open_.wait(g, [&] { return !closed_.load(std::memory_order_seq_cst); });
    }
  }
  void leave() noexcept {
    if (--depth() > 0) return;
    release_one();
  }
  void release_one() noexcept {
    active_.fetch_sub(1, std::memory_order_seq_cst);
    if (closed_.load(std::memory_order_seq_cst)) {
      std::lock_guard<std::mutex> g(mu_);
      drained_.notify_all();
    }
  }

  static void on_prepare() {
    ForkGate& gate = instance();
    // The forking thread may itself be inside a section: do not wait for it.
    const std::size_t own = depth() > 0 ? 1 : 0;
    std::unique_lock<std::mutex> g(gate.mu_);
    gate.closed_.store(true, std::memory_order_seq_cst);
    gate.drained_.wait(
        g, [&] { return gate.active_.load(std::memory_order_seq_cst) <= own; });
    g.unlock();
    gate.handlers_mu_.lock();
    for (const LockHooks& h : gate.lock_hooks_) h.prepare(h.arg);
  }
  static void on_parent() {
    ForkGate& gate = instance();
    for (auto h = gate.lock_hooks_.rbegin(); h != gate.lock_hooks_.rend();
         ++h) {
      h->parent(h->arg);
    }
    gate.handlers_mu_.unlock();
    {
      std::lock_guard<std::mutex> g(gate.mu_);
      gate.closed_.store(false, std::memory_order_seq_cst);
    }
    gate.open_.notify_all();
  }
  static void on_child() {
    ForkGate& gate = instance();
    for (auto h = gate.lock_hooks_.rbegin(); h != gate.lock_hooks_.rend();
         ++h) {
      h->child(h->arg);
    }
    // Only this thread exists now: the gate's own mutex and condition
    // variables may have been in use by threads that are gone; start afresh.
    new (&gate.mu_) std::mutex();
    new (&gate.open_) std::condition_variable();
    new (&gate.drained_) std::condition_variable();
    gate.active_.store(depth() > 0 ? 1 : 0, std::memory_order_relaxed);
    gate.closed_.store(false, std::memory_order_relaxed);
    gate.forks_.fetch_add(1, std::memory_order_acq_rel);
    std::vector<std::function<void()>> fns;
    try {
      for (const auto& h : gate.handlers_) fns.push_back(h.second);
    } catch (...) {
      // Out of memory copying the handlers: run them in place below.
      fns.clear();
    }
    gate.handlers_mu_.unlock();
    if (fns.size() == gate.handlers_.size()) {
      for (const auto& fn : fns) fn();
    } else {
      for (const auto& h : gate.handlers_) h.second();
    }
  }

  std::mutex mu_;
  std::condition_variable open_;
  std::condition_variable drained_;
  std::atomic<std::size_t> active_{0};  // threads inside a section
  std::atomic<bool> closed_{false};     // fork() in progress
  std::atomic<std::uint64_t> forks_{0};

  std::mutex handlers_mu_;
  std::uint64_t next_id_ = 0;
  std::vector<std::pair<std::uint64_t, std::function<void()>>> handlers_;
  std::vector<LockHooks> lock_hooks_;  // under handlers_mu_
};

// A test hook consulted before each thread statusz creates: returning false
// makes that creation fail with std::system_error(EAGAIN), as when the
// process is out of threads. nullptr (the default): never fail.
using ThreadCreationHook = bool (*)();
inline std::atomic<ThreadCreationHook>& thread_creation_hook() noexcept {
  static std::atomic<ThreadCreationHook> hook{nullptr};
  return hook;
}

template <class F>
std::thread start_thread(F&& f) {
  const ThreadCreationHook hook =
      thread_creation_hook().load(std::memory_order_acquire);
  if (hook != nullptr && !hook()) {
    throw std::system_error(EAGAIN, std::generic_category(),
                            "statusz: cannot create a thread");
  }
  return std::thread(std::forward<F>(f));
}

// Forgets a std::thread whose OS thread does not exist (a thread of the
// parent, seen from a forked child): no join, no detach, no terminate().
inline void forget_thread(std::thread& t) noexcept {
  // The handle is dropped; its storage is reused for an empty thread.
  new (&t) std::thread();
}

}  // namespace detail
}  // namespace statusz
