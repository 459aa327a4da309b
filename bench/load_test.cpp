// Load test on loopback: many concurrent /serverstatus readers (HTTP, via
// cpp-httplib) while writer threads mark at full speed. Reports the writers'
// throughput with and without the readers as a ratio measured in the same
// run (alternating phases, medians), and fails if any response is not 200.
// Bounded: --phase-seconds (default 2) x 3 phases x --rounds (default 3).
// A third phase runs spinning threads in place of the readers, to show what
// sharing the CPUs costs the writers with no statusz reads at all.
//
//   load_test [--writers 1] [--readers 16] [--reader-rate 0 (unlimited)]
//             [--phase-seconds 2] [--rounds 3] [--pin 1]
#include <statusz/httplib.hpp>
#include <statusz/statusz.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int writers = 1;
  int readers = 16;
  double reader_rate = 0;  // requests/s over all readers; 0: unlimited
  double phase_seconds = 2;
  int rounds = 3;
  bool pin = false;  // writers on CPU 0, server and readers on CPU 1
};

// Pins the calling thread to one CPU (Linux); a no-op elsewhere.
void pin_to(int cpu) {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
#else
  (void)cpu;
#endif
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const double v = std::atof(argv[i + 1]);
    if (k == "--writers") o.writers = static_cast<int>(v);
    else if (k == "--readers") o.readers = static_cast<int>(v);
    else if (k == "--reader-rate") o.reader_rate = v;
    else if (k == "--phase-seconds") o.phase_seconds = v;
    else if (k == "--rounds") o.rounds = static_cast<int>(v);
    else if (k == "--pin") o.pin = v != 0;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return o;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  statusz::Registry reg({nullptr, "load", "1"});
  const std::string chat = "applications.servlet.requests.chatHttp.";
  statusz::Meter& successes = reg.meter(chat + "successes");
  statusz::KeyedCounter& by_bot = reg.keyed(chat + "errorsByBot");
  statusz::Counter& dialogs = reg.counter("volumes.currentDialogs");
  for (const char* app : {"runtime", "dialog", "slogger", "website", "servlet",
                          "sso", "router", "livechat", "analytic"}) {
    reg.probe(
        std::string("applications.") + app,
        [] { return statusz::Status::Ok; },
        {std::chrono::seconds(2), std::chrono::seconds(1)});
  }
  const std::string bots[] = {"0df33792-2271-472b-a817-bb0f556c016d",
                              "3c1556aa-c715-464e-8d0d-9655399c2323",
                              "84e8cb21-ef29-4334-ac6b-027d61803807"};
  for (const auto& b : bots) by_bot.inc(b);

  statusz::HttpHandler handler(reg);
  httplib::Server server;
  statusz::mount(server, handler);
  server.set_tcp_nodelay(true);  // else Nagle + delayed ACKs add ~40 ms
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread listener([&] {
    if (opt.pin) pin_to(1);  // httplib's pool threads inherit it
    server.listen_after_bind();
  });
  while (!server.is_running()) std::this_thread::yield();

  // Three phases per round: writers alone; writers beside spinning threads
  // that touch no statusz memory (what sharing the machine costs by itself);
  // writers beside the HTTP readers.
  enum Phase { kAlone, kSpin, kReaders };
  std::vector<double> alone, spin, loaded, reader_rates;
  long long errors = 0, responses = 0;
  for (int round = 0; round < opt.rounds; ++round) {
    for (const Phase phase : {kAlone, kSpin, kReaders}) {
      const bool with_readers = phase == kReaders;
      std::atomic<bool> stop{false};
      std::atomic<long long> ops{0};
      std::atomic<long long> ok{0}, bad{0};
      std::vector<std::thread> threads;
      for (int w = 0; w < opt.writers; ++w) {
        threads.emplace_back([&, w] {
          if (opt.pin) pin_to(0);
          long long n = 0;
          while (!stop.load(std::memory_order_relaxed)) {
            for (int i = 0; i < 256; ++i) {
              successes.mark();
              by_bot.inc(bots[(n + i + w) % 3]);
              dialogs.inc();
            }
            n += 256;
          }
          ops.fetch_add(n);
        });
      }
      if (phase == kSpin) {
        for (int r = 0; r < opt.readers; ++r) {
          threads.emplace_back([&] {
            if (opt.pin) pin_to(1);
            volatile unsigned long long x = 0;
            while (!stop.load(std::memory_order_relaxed)) {
              for (int i = 0; i < 1000; ++i) x = x + 1;
            }
          });
        }
      }
      if (with_readers) {
        for (int r = 0; r < opt.readers; ++r) {
          threads.emplace_back([&] {
            if (opt.pin) pin_to(1);
            httplib::Client client("127.0.0.1", port);
            client.set_keep_alive(true);
            client.set_tcp_nodelay(true);
            const auto gap =
                opt.reader_rate > 0
                    ? std::chrono::duration<double>(opt.readers / opt.reader_rate)
                    : std::chrono::duration<double>(0);
            auto next = Clock::now();
            while (!stop.load(std::memory_order_relaxed)) {
              auto res = client.Get("/serverstatus?details=true");
              if (res && res->status == 200) {
                ok.fetch_add(1);
              } else {
                bad.fetch_add(1);
              }
              if (gap.count() > 0) {
                next += std::chrono::duration_cast<Clock::duration>(gap);
                std::this_thread::sleep_until(next);
              }
            }
          });
        }
      }
      const auto t0 = Clock::now();
      std::this_thread::sleep_for(std::chrono::duration<double>(opt.phase_seconds));
      stop.store(true);
      for (auto& t : threads) t.join();
      const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      const double rate = static_cast<double>(ops.load()) / secs;
      (phase == kAlone ? alone : phase == kSpin ? spin : loaded).push_back(rate);
      if (with_readers) {
        reader_rates.push_back(static_cast<double>(ok.load()) / secs);
        responses += ok.load();
        errors += bad.load();
      }
    }
  }
  server.stop();
  listener.join();

  const double ratio = median(loaded) / median(alone);
  std::printf("writers %d, readers %d (rate %s)%s, %d rounds of 3 x %.1f s\n",
              opt.writers, opt.readers,
              opt.reader_rate > 0 ? std::to_string(opt.reader_rate).c_str()
                                  : "unlimited",
              opt.pin ? ", writers pinned to CPU 0, readers and server to CPU 1"
                      : "",
              opt.rounds, opt.phase_seconds);
  std::printf("writer iterations/s alone        (median): %.3g\n", median(alone));
  std::printf("writer iterations/s beside spins (median): %.3g\n", median(spin));
  std::printf("writer iterations/s with readers (median): %.3g\n", median(loaded));
  std::printf("ratio with readers / alone: %.3f (drop %.1f%%)\n", ratio,
              (1 - ratio) * 100);
  std::printf("ratio beside spins / alone: %.3f (what CPU sharing alone costs)\n",
              median(spin) / median(alone));
  std::printf("reads: %lld responses, %.0f/s median, %lld errors\n", responses,
              median(reader_rates), errors);
  return errors == 0 ? 0 : 1;
}
