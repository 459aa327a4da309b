// A simulated chatbot platform instrumented with statusz and served with
// cpp-httplib: worker threads handle "chat requests" (successes, errors per
// bot, ignored), nine applications have probes, and the service answers
//   curl "http://127.0.0.1:8080/serverstatus?details=true&pretty=true"
//   curl http://127.0.0.1:8080/metrics      curl http://127.0.0.1:8080/healthz
// Usage: chat_service [port] [seconds to run, 0 = until killed]
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <statusz/httplib.hpp>
#include <statusz/statusz.hpp>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  const int port = argc > 1 ? std::atoi(argv[1]) : 8080;
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 0;

  statusz::RegistryOptions options;
  options.version = std::string("statusz-example ") + statusz::version_string;
  statusz::Registry reg(options);
  statusz::Counter& people = reg.counter("volumes.connectedPeople");
  statusz::Counter& dialogs = reg.counter("volumes.currentDialogs");
  const std::string chat = "applications.servlet.requests.chatHttp.";
  statusz::Meter& successes = reg.meter(chat + "successes");
  statusz::Meter& errors = reg.meter(chat + "errors");
  statusz::KeyedCounter& by_bot = reg.keyed(chat + "errorsByBot");
  statusz::Meter& ignored = reg.meter(chat + "ignored");
  reg.ratio(chat + "fiveMinuteErrorsRatio", errors, successes);
  for (const char* app : {"runtime", "dialog", "slogger", "website", "servlet",
                          "sso", "router", "livechat", "analytic"}) {
    reg.probe(std::string("applications.") + app,
              [] { return statusz::Status::Ok; },
              {std::chrono::seconds(2), std::chrono::seconds(1)});
  }
  reg.counter("applications.servlet.customs.sessions");

  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int w = 0; w < 2; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937 rng(static_cast<unsigned>(w));
      const char* bots[] = {"0df33792-2271-472b-a817-bb0f556c016d",
                            "3c1556aa-c715-464e-8d0d-9655399c2323",
                            "84e8cb21-ef29-4334-ac6b-027d61803807"};
      while (!stop.load(std::memory_order_relaxed)) {
        const auto roll = static_cast<unsigned>(rng() % 1000);
        if (roll < 2) {
          errors.mark();
          by_bot.inc(bots[rng() % 3]);
        } else if (roll < 300) {
          ignored.mark();
        } else {
          successes.mark();
        }
        people.set(static_cast<std::int64_t>(rng() % 20));
        dialogs.set(200 + static_cast<std::int64_t>(rng() % 100));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }

  statusz::HttpHandler handler(reg);
  httplib::Server server;
  statusz::mount(server, handler);
  server.set_tcp_nodelay(true);
  server.set_read_timeout(std::chrono::seconds(10));  // drop silent clients
  server.set_payload_max_length(64 * 1024);  // no route reads content: 413
  if (!server.bind_to_port("127.0.0.1", port)) {
    std::cerr << "cannot listen on 127.0.0.1:" << port << "\n";
    stop = true;
    for (auto& t : workers) t.join();
    return 1;
  }
  std::cout << "serving http://127.0.0.1:" << port
            << "/serverstatus?details=true&pretty=true, /metrics, /healthz\n"
            << std::flush;
  std::thread timer;
  if (seconds > 0) {
    timer = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::seconds(seconds));
      server.stop();
    });
  }
  server.listen_after_bind();
  stop = true;
  for (auto& t : workers) t.join();
  if (timer.joinable()) timer.join();
}
