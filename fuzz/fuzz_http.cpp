// libFuzzer target: arbitrary method, request target and headers through
// HttpHandler. Never a crash, only the documented status codes, and every
// JSON body is valid JSON.
// Input layout: method '\n' target '\n' (name ':' value '\n')*
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <statusz/http.hpp>
#include <string_view>

namespace {

statusz::Registry& registry() {
  static statusz::ManualClock clock;
  static statusz::Registry* reg = [] {
    auto* r = new statusz::Registry({&clock, "fuzz", "1"});
    r->meter("applications.servlet.requests.chatHttp.successes").mark(3);
    r->keyed("applications.servlet.requests.chatHttp.errorsByBot")
        .inc("0df33792-2271-472b-a817-bb0f556c016d");
    r->counter("volumes.connectedPeople").set(9);
    r->probe("applications.runtime", [] { return statusz::Status::Ok; });
    r->probe("applications.flaky", [] { return statusz::Status::Warning; });
    return r;
  }();
  return *reg;
}

std::string_view next_line(std::string_view& in) {
  const std::size_t nl = in.find('\n');
  const std::string_view line = in.substr(0, nl);
  in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string_view method = next_line(in);
  const std::string_view target = next_line(in);
  statusz::Headers headers;
  while (!in.empty()) {
    const std::string_view line = next_line(in);
    const std::size_t colon = line.find(':');
    headers.emplace_back(std::string(line.substr(0, colon)),
                         colon == std::string_view::npos
                             ? std::string()
                             : std::string(line.substr(colon + 1)));
  }
  static const statusz::HttpHandler open(registry());
  static const statusz::HttpHandler guarded(registry(), [] {
    statusz::HttpOptions o;
    o.bearer_token = "token";
    o.max_target_bytes = 256;
    return o;
  }());
  for (const statusz::HttpHandler* h : {&open, &guarded}) {
    const statusz::HttpResponse r = h->handle(method, target, headers);
    switch (r.status) {
      case 200:
      case 400:
      case 401:
      case 404:
      case 405:
      case 414:
      case 503:
        break;
      default:
        std::abort();  // an undocumented status code
    }
    if (r.content_type.rfind("application/json", 0) == 0 && !r.body.empty() &&
        !nlohmann::json::accept(r.body)) {
      std::abort();
    }
  }
  return 0;
}
