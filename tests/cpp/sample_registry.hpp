// Builds, in a Registry, the server of the seed document
// (tests/data/serverstatus-sample.json), with the sample's counts.
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <statusz/registry.hpp>
#include <string>

namespace statusz::testing {

inline nlohmann::ordered_json load_sample() {
  std::ifstream in(std::string(STATUSZ_TEST_DATA_DIR) +
                   "/serverstatus-sample.json");
  std::stringstream buf;
  buf << in.rdbuf();
  return nlohmann::ordered_json::parse(buf.str());
}

// Registers everything in the sample's order and sets the counts from it.
inline void build_sample(Registry& reg, const nlohmann::ordered_json& sample) {
  for (const auto& [name, v] : sample["volumes"].items()) {
    reg.counter("volumes." + name).set(v.get<std::int64_t>());
  }
  for (const auto& [app, body] : sample["applications"].items()) {
    const std::string base = "applications." + app;
    const Status status = parse_status(body["status"].get<std::string>());
    reg.probe(base, [status] { return status; });
    if (body.contains("requests")) {
      for (const auto& [group, metrics] : body["requests"].items()) {
        const std::string g = base + ".requests." + group + ".";
        Meter* errors = nullptr;
        Meter* successes = nullptr;
        for (const auto& [metric, value] : metrics.items()) {
          if (metric == "errorsByBot") {
            KeyedCounter& k = reg.keyed(g + metric);
            for (const auto& [bot, n] : value.items()) {
              k.inc(bot, n.get<std::uint64_t>());
            }
          } else if (metric == "fiveMinuteErrorsRatio") {
            reg.ratio(g + metric, *errors, *successes);
          } else {
            Meter& m = reg.meter(g + metric);
            m.mark(value["count"].get<std::uint64_t>());
            if (metric == "errors") errors = &m;
            if (metric == "successes") successes = &m;
          }
        }
      }
    }
    if (body.contains("customs")) {
      for (const auto& [name, v] : body["customs"].items()) {
        reg.counter(base + ".customs." + name).set(v.get<std::int64_t>());
      }
    }
  }
}

}  // namespace statusz::testing
