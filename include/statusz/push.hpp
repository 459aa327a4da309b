// statusz::push(): sends a Registry's Prometheus exposition (text 0.0.4) to a
// Prometheus Pushgateway, for batch jobs that end before any scrape. Uses
// cpp-httplib's client (https://github.com/yhirose/cpp-httplib), so it
// belongs with the optional httplib part (CMake target statusz::httplib),
// like statusz/httplib.hpp; the rest of statusz does not need it.
//
// The group's path is /metrics/job/<job>{/<label>/<value>} (the Pushgateway
// API): a value containing '/', or empty, is sent base64url-encoded as
// <label>@base64/<value>; other values are percent-encoded. PUT replaces every
// metric of the group, POST only the metric names pushed.
// Cost: one render (probes run) and one blocking HTTP request, bounded by
// the timeout. Thread-safety: safe from any thread; each call has its own
// connection.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detail/ascii.hpp"
#include "prometheus.hpp"
#include "registry.hpp"

namespace statusz {

struct PushOptions {
  // Labels of the group after job, in order (label names
  // [a-zA-Z_][a-zA-Z0-9_]*).
  std::vector<std::pair<std::string, std::string>> grouping;
  std::string method = "PUT";  // or "POST"
  std::chrono::milliseconds timeout{10000};
  std::string bearer_token;  // sent as "Authorization: Bearer <token>" if set
  std::string prefix = "statusz";
};

namespace push_detail {

// RFC 4648 §5 (URL- and filename-safe alphabet), padded.
inline std::string base64url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const auto n =
        static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16U |
        static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8U |
        static_cast<unsigned>(static_cast<unsigned char>(in[i + 2]));
    for (unsigned shift : {18U, 12U, 6U, 0U})
      out += kAlphabet[(n >> shift) & 63U];
  }
  if (i + 1 == in.size()) {
    const auto n = static_cast<unsigned>(static_cast<unsigned char>(in[i]))
                   << 16U;
    out += kAlphabet[(n >> 18U) & 63U];
    out += kAlphabet[(n >> 12U) & 63U];
    out += "==";
  } else if (i + 2 == in.size()) {
    const auto n =
        static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16U |
        static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8U;
    out += kAlphabet[(n >> 18U) & 63U];
    out += kAlphabet[(n >> 12U) & 63U];
    out += kAlphabet[(n >> 6U) & 63U];
    out += '=';
  }
  return out;
}

// RFC 3986 unreserved characters kept, every other byte %XX.
inline std::string percent_encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4U];
      out += kHex[c & 15U];
    }
  }
  return out;
}

inline std::string segment(std::string_view name, std::string_view value) {
  if (!detail::is_prometheus_name(name, false)) {
    throw std::invalid_argument("statusz: '" + std::string(name) +
                                "' is not a label name");
  }
  if (value.empty() || value.find('/') != std::string_view::npos) {
    const std::string encoded = base64url(value);
    return "/" + std::string(name) + "@base64/" +
           (encoded.empty() ? "=" : encoded);
  }
  return "/" + std::string(name) + "/" + percent_encode(value);
}

}  // namespace push_detail

// The Pushgateway path of a group. Throws std::invalid_argument for an empty
// job, a bad label name, or a "job" label in `grouping`.
inline std::string pushgateway_path(
    std::string_view job,
    const std::vector<std::pair<std::string, std::string>>& grouping = {}) {
  if (job.empty())
    throw std::invalid_argument("statusz: push needs a job name");
  std::string path = "/metrics" + push_detail::segment("job", job);
  for (const auto& [name, value] : grouping) {
    if (name == "job")
      throw std::invalid_argument("statusz: grouping repeats the job label");
    path += push_detail::segment(name, value);
  }
  return path;
}

// Pushes `registry` to the Pushgateway at `url` ("http://host:9091", a path
// prefix after it kept) under `job` and options.grouping; returns the HTTP
// status (200; 202 from Pushgateways before 1.0; 4xx/5xx when refused).
// Throws std::invalid_argument on a bad argument and std::runtime_error when
// the gateway cannot be reached (httplib's error number in the message).
inline int push(const Registry& registry, std::string_view url,
                std::string_view job, const PushOptions& options = {}) {
  if (options.method != "PUT" && options.method != "POST") {
    throw std::invalid_argument("statusz: push method must be PUT or POST");
  }
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    throw std::invalid_argument(
        "statusz: push url must start with http:// or https://");
  }
  const std::size_t path_start = url.find('/', scheme_end + 3);
  const std::string origin(url.substr(0, path_start));
  std::string base(path_start == std::string_view::npos
                       ? std::string_view()
                       : url.substr(path_start));
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string path = base + pushgateway_path(job, options.grouping);

  PrometheusOptions po;
  po.prefix = options.prefix;
  const std::string body = to_prometheus(registry, po);

  httplib::Client client(origin);
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(options.timeout);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
      options.timeout - seconds);
  client.set_connection_timeout(static_cast<time_t>(seconds.count()),
                                static_cast<time_t>(micros.count()));
  client.set_read_timeout(static_cast<time_t>(seconds.count()),
                          static_cast<time_t>(micros.count()));
  client.set_write_timeout(static_cast<time_t>(seconds.count()),
                           static_cast<time_t>(micros.count()));
  httplib::Headers headers;
  if (!options.bearer_token.empty()) {
    headers.emplace("Authorization", "Bearer " + options.bearer_token);
  }
  constexpr const char* kType = "text/plain; version=0.0.4; charset=utf-8";
  const httplib::Result res = options.method == "PUT"
                                  ? client.Put(path, headers, body, kType)
                                  : client.Post(path, headers, body, kType);
  if (!res) {
    throw std::runtime_error(
        "statusz: push to " + origin + " failed (httplib error " +
        std::to_string(static_cast<int>(res.error())) + ")");
  }
  return res->status;
}

}  // namespace statusz
