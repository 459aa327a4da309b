// The exposition as the tests render it: to_prometheus(reg) in format `f`,
// with the default options but for the prefix (or with `options`). Shared by
// the Prometheus, names and timer rendering tests, which each had a copy.
#pragma once

#include <statusz/prometheus.hpp>
#include <statusz/registry.hpp>
#include <string>
#include <utility>

namespace statusz_test {

inline std::string render(
    const statusz::Registry& reg,
    statusz::ExpositionFormat f = statusz::ExpositionFormat::Text004,
    std::string prefix = "statusz") {
  statusz::PrometheusOptions o;
  o.format = f;
  o.prefix = std::move(prefix);
  return statusz::to_prometheus(reg, o);
}

inline std::string render(const statusz::Registry& reg,
                          statusz::ExpositionFormat f,
                          statusz::PrometheusOptions options) {
  options.format = f;
  return statusz::to_prometheus(reg, options);
}

}  // namespace statusz_test
