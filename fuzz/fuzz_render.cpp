// libFuzzer target: arbitrary paths, keys and values (any bytes, invalid
// UTF-8, control characters, huge numbers, NaN/Inf from gauges) rendered as
// JSON and Prometheus text. The JSON always parses and keeps every admitted
// key; the exposition is always well-formed line by line.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <statusz/prometheus.hpp>
#include <statusz/registry.hpp>
#include <string>
#include <string_view>

#include "../tests/cpp/exposition_grammar.hpp"

namespace {

struct Reader {
  std::string_view in;
  std::uint8_t byte() {
    if (in.empty()) return 0;
    const auto b = static_cast<std::uint8_t>(in[0]);
    in.remove_prefix(1);
    return b;
  }
  std::string bytes() {
    const std::size_t wanted = byte() % 24;  // before in.size(): sequenced
    const std::size_t n = std::min(wanted, in.size());
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
    return v;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  statusz::ManualClock clock;
  Reader r{std::string_view(reinterpret_cast<const char*>(data), size)};
  statusz::Registry reg({&clock, r.bytes() + "h", r.bytes()});
  statusz::KeyedCounter* keyed = nullptr;
  std::vector<std::string> admitted;
  while (!r.in.empty()) {
    const std::uint8_t op = r.byte() % 6;
    try {
      switch (op) {
        case 0:
          reg.meter(r.bytes()).mark(r.u64() % 1000000);
          break;
        case 1:
          reg.counter(r.bytes()).set(static_cast<std::int64_t>(r.u64()));
          break;
        case 2: {
          const std::uint64_t bits = r.u64();
          double d;
          std::memcpy(&d, &bits, sizeof d);
          reg.gauge(r.bytes(), [d] { return d; });
          break;
        }
        case 3:
          if (keyed == nullptr) keyed = &reg.keyed("keys", 64);
          keyed->inc(r.bytes(), r.u64() % 1000);
          break;
        case 4:
          reg.probe(r.bytes(), [] { return statusz::Status::Warning; });
          break;
        case 5:
          clock.advance(std::chrono::seconds(r.byte()));
          break;
      }
    } catch (const std::invalid_argument&) {
      // Bad paths and kind clashes are refused with an exception: fine.
    }
  }
  for (bool pretty : {false, true}) {
    const std::string json = reg.to_json(true, pretty);
    const auto doc = nlohmann::json::parse(json, nullptr, false);
    if (doc.is_discarded()) std::abort();
    if (keyed != nullptr) {
      // Every stored key is in the document, and nothing else.
      const auto& keys = doc["keys"];
      std::size_t n = 0;
      keyed->for_each([&](std::string_view k, std::uint64_t v) {
        ++n;
        if (!keys.contains(std::string(k)) ||
            keys[std::string(k)].get<std::uint64_t>() != v) {
          std::abort();
        }
      });
      if (keys.size() != n) std::abort();
    }
  }
  for (auto f : {statusz::ExpositionFormat::Text004,
                 statusz::ExpositionFormat::OpenMetrics100}) {
    statusz::PrometheusOptions o;
    o.format = f;
    o.prefix = r.bytes();
    const std::string text = statusz::to_prometheus(reg, o);
    if (!statusz_test::exposition_error(
             text, f == statusz::ExpositionFormat::OpenMetrics100)
             .empty()) {
      std::abort();
    }
  }
  return 0;
}
