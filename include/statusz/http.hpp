// statusz::HttpHandler: the status endpoints as a framework-agnostic function
// from (method, request target, headers) to (status code, headers, body).
// Plug it into any HTTP server; statusz/httplib.hpp adapts cpp-httplib and
// the Python package serves it with the standard library.
//
// Routes (GET and HEAD; anything else is 405 with Allow):
//  - /serverstatus (also /servlet/api/serverstatus, the seed's path):
//    ?details=true|false (default false) &pretty=true|false (default false);
//    always 200 with the status in the body, application/json, no-store.
//  - /metrics: Prometheus text 0.0.4, or OpenMetrics 1.0 when the Accept
//    header asks for application/openmetrics-text.
//  - /healthz: 200 when the server is Ok or Warning, 503 otherwise.
// Bad input gets a JSON error, never an exception: unknown path 404, a bad or
// repeated value of a known query parameter 400 naming it, a target longer
// than max_target_bytes 414. With a bearer token set, details=true and
// /metrics require "Authorization: Bearer <token>" (401 otherwise; compared
// in constant time).
// Thread-safety: handle() is const and safe from many threads at once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json.hpp"
#include "prometheus.hpp"
#include "registry.hpp"

namespace statusz {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 200;
  std::string content_type;
  Headers headers;  // besides Content-Type
  std::string body;

  // The value of a response header (case-insensitive), or "" if absent.
  std::string header(std::string_view name) const;
};

struct HttpOptions {
  std::string metrics_prefix = std::string(kDefaultPrometheusPrefix);
  std::string bearer_token;  // empty: no authentication
  std::size_t max_target_bytes = 8192;
};

namespace detail {

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Percent-decoding, '+' as space; false on a malformed escape.
inline bool url_decode(std::string_view in, std::string& out) {
  out.clear();
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = ascii_lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex(in[i + 1]);
      const int lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return true;
}

inline bool constant_time_equals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = b.size();
  for (std::size_t i = 0; i < n; ++i) {
    const char ca = i < a.size() ? a[i] : '\0';
    diff = static_cast<unsigned char>(diff | (ca ^ b[i]));
  }
  return diff == 0;
}

// Whether an Accept header asks for OpenMetrics (with a q above 0).
inline bool accepts_openmetrics(std::string_view accept) {
  while (!accept.empty()) {
    const std::size_t comma = accept.find(',');
    std::string_view item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view()
                                             : accept.substr(comma + 1);
    const std::size_t semi = item.find(';');
    const std::string_view type = trim(item.substr(0, semi));
    if (!iequals(type, "application/openmetrics-text")) continue;
    bool zero_q = false;
    std::string_view params =
        semi == std::string_view::npos ? std::string_view() : item.substr(semi);
    while (!params.empty()) {
      params.remove_prefix(1);  // ';'
      const std::size_t next = params.find(';');
      const std::string_view p = trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view()
                                              : params.substr(next);
      if (p.size() >= 2 && ascii_lower(p[0]) == 'q' && p[1] == '=') {
        const std::string_view q = trim(p.substr(2));
        zero_q =
            !q.empty() && q.find_first_not_of("0.") == std::string_view::npos;
      }
    }
    if (!zero_q) return true;
  }
  return false;
}

}  // namespace detail

inline std::string HttpResponse::header(std::string_view name) const {
  if (detail::iequals(name, "Content-Type")) return content_type;
  for (const auto& [k, v] : headers) {
    if (detail::iequals(k, name)) return v;
  }
  return {};
}

class HttpHandler {
 public:
  explicit HttpHandler(const Registry& registry, HttpOptions options = {})
      : registry_(&registry), options_(std::move(options)) {}

  HttpResponse handle(std::string_view method, std::string_view target,
                      const Headers& headers = {}) const {
    try {
      return route(method, target, headers);
    } catch (const std::exception& e) {
      return error(500, std::string("internal error: ") + e.what(), "");
    } catch (...) {
      return error(500, "internal error", "");
    }
  }

  const HttpOptions& options() const noexcept { return options_; }

 private:
  static std::string_view find_header(const Headers& headers,
                                      std::string_view name) {
    for (const auto& [k, v] : headers) {
      if (detail::iequals(k, name)) return v;
    }
    return {};
  }

  static HttpResponse json_response(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.content_type = "application/json; charset=utf-8";
    r.headers.emplace_back("Cache-Control", "no-store");
    r.body = std::move(body);
    r.body.push_back('\n');
    return r;
  }

  static HttpResponse error(int status, const std::string& message,
                            std::string_view parameter) {
    Value v{Object{}};
    v.add("error", message);
    if (!parameter.empty()) v.add("parameter", std::string(parameter));
    v.add("status", status);
    return json_response(status, to_json(v));
  }

  bool authorized(const Headers& headers) const {
    if (options_.bearer_token.empty()) return true;
    std::string_view auth = detail::trim(find_header(headers, "Authorization"));
    if (auth.size() < 7 || !detail::iequals(auth.substr(0, 7), "Bearer ")) {
      return false;
    }
    return detail::constant_time_equals(detail::trim(auth.substr(7)),
                                        options_.bearer_token);
  }

  static HttpResponse unauthorized() {
    HttpResponse r = error(401, "a bearer token is required", "");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"statusz\"");
    return r;
  }

  // Parses the boolean parameters we know; 400 on a bad or repeated value.
  struct Query {
    bool details = false;
    bool pretty = false;
  };
  static bool parse_query(std::string_view query, Query& q, HttpResponse& err) {
    bool seen_details = false, seen_pretty = false;
    std::string name, value;
    while (!query.empty()) {
      const std::size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view()
                                            : query.substr(amp + 1);
      if (pair.empty()) continue;
      const std::size_t eq = pair.find('=');
      if (!detail::url_decode(pair.substr(0, eq), name)) {
        err = error(400, "malformed percent-encoding in the query", "");
        return false;
      }
      const std::string_view raw_value = eq == std::string_view::npos
                                             ? std::string_view()
                                             : pair.substr(eq + 1);
      bool* target = nullptr;
      bool* seen = nullptr;
      if (name == "details") {
        target = &q.details;
        seen = &seen_details;
      } else if (name == "pretty") {
        target = &q.pretty;
        seen = &seen_pretty;
      } else {
        continue;  // unknown parameters (cache busters, ...) are ignored
      }
      if (*seen) {
        err = error(400, "'" + name + "' is given more than once", name);
        return false;
      }
      *seen = true;
      if (!detail::url_decode(raw_value, value)) {
        err = error(400, "malformed percent-encoding in '" + name + "'", name);
        return false;
      }
      // A bare "?pretty" means true.
      if (eq == std::string_view::npos || detail::iequals(value, "true")) {
        *target = true;
      } else if (detail::iequals(value, "false")) {
        *target = false;
      } else {
        err = error(
            400,
            "'" + name + "' must be true or false, not '" +
                (detail::is_valid_utf8(value) ? value
                                              : detail::to_valid_utf8(value)) +
                "'",
            name);
        return false;
      }
    }
    return true;
  }

  HttpResponse route(std::string_view method, std::string_view target,
                     const Headers& headers) const {
    if (target.size() > options_.max_target_bytes) {
      return error(414,
                   "request target longer than " +
                       std::to_string(options_.max_target_bytes) + " bytes",
                   "");
    }
    const std::size_t qmark = target.find('?');
    std::string_view path = target.substr(0, qmark);
    const std::string_view query = qmark == std::string_view::npos
                                       ? std::string_view()
                                       : target.substr(qmark + 1);
    if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    const bool is_status =
        path == "/serverstatus" || path == "/servlet/api/serverstatus";
    const bool is_metrics = path == "/metrics";
    const bool is_health = path == "/healthz";
    if (!is_status && !is_metrics && !is_health) {
      return error(
          404, "no such path (try /serverstatus, /metrics or /healthz)", "");
    }
    const bool head = method == "HEAD";
    if (method != "GET" && !head) {
      HttpResponse r = error(405, "method not allowed", "");
      r.headers.emplace_back("Allow", "GET, HEAD");
      return r;
    }
    HttpResponse r;
    if (is_status) {
      Query q;
      if (!parse_query(query, q, r)) return r;
      if (q.details && !authorized(headers)) return unauthorized();
      r = json_response(200, registry_->to_json(q.details, q.pretty));
    } else if (is_metrics) {
      if (!authorized(headers)) return unauthorized();
      PrometheusOptions po;
      po.prefix = options_.metrics_prefix;
      po.format = detail::accepts_openmetrics(find_header(headers, "Accept"))
                      ? ExpositionFormat::OpenMetrics100
                      : ExpositionFormat::Text004;
      r.status = 200;
      r.content_type = std::string(content_type(po.format));
      r.headers.emplace_back("Cache-Control", "no-store");
      r.body = to_prometheus(*registry_, po);
    } else {
      const Status s = registry_->status();
      Value v{Object{}};
      v.add("status", std::string(to_string(s)));
      r = json_response(s == Status::Ok || s == Status::Warning ? 200 : 503,
                        to_json(v));
    }
    if (head) r.body.clear();
    return r;
  }

  const Registry* registry_;
  HttpOptions options_;
};

}  // namespace statusz
