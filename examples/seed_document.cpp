// Builds the seed's GET /serverstatus?details=true&pretty=true document: ten
// simulated minutes of chat traffic on a ManualClock, then prints it.
#include <iostream>
#include <statusz/statusz.hpp>

int main() {
  statusz::ManualClock clock{std::chrono::system_clock::now()};
  statusz::Registry reg(
      {&clock, "app1.earth.doyoudreamup.com", "49.2470 a543dff5"});
  reg.counter("volumes.connectedPeople").set(9);
  reg.counter("volumes.currentDialogs").set(273);
  for (const char* app : {"runtime", "dialog", "slogger", "website", "servlet",
                          "sso", "router", "livechat", "analytic"}) {
    reg.probe(std::string("applications.") + app,
              [] { return statusz::Status::Ok; });
  }
  const std::string chat = "applications.servlet.requests.chatHttp.";
  auto& ok = reg.meter(chat + "successes");
  auto& errors = reg.meter(chat + "errors");
  auto& by_bot = reg.keyed(chat + "errorsByBot");
  reg.ratio(chat + "fiveMinuteErrorsRatio", errors, ok);
  reg.counter("applications.servlet.customs.sessions").set(16);
  for (int second = 0; second < 600;
       ++second, clock.advance(std::chrono::seconds(1))) {
    ok.mark(6);
    if (second % 50 == 0) {
      errors.mark();
      by_bot.inc("0df33792-2271-472b-a817-bb0f556c016d");
    }
  }
  std::cout << reg.to_json(/*details=*/true, /*pretty=*/true) << "\n";
}
