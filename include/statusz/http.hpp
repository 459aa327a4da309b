// statusz::HttpHandler: the status endpoints as a framework-agnostic function
// from (method, request target, headers) to (status code, headers, body).
// Plug it into any HTTP server; statusz/httplib.hpp adapts cpp-httplib and
// the Python package serves it with the standard library.
//
// Routes (GET and HEAD; any other method, POST and TRACE included, is 405
// with "Allow: GET, HEAD"):
//  - /serverstatus (also /servlet/api/serverstatus, the seed's path):
//    ?details=true|false (default false) &pretty=true|false (default false);
//    always 200 with the status in the body, application/json, no-store.
//  - /metrics: Prometheus text 0.0.4 or OpenMetrics 1.0, negotiated from
//    Accept as RFC 9110 §12.5.1 says: each format takes the q of the most
//    specific media range matching it (type/subtype, then type/*, then */*;
//    parameters such as version are not compared), default q 1, q=0 (spaces
//    around '=' allowed) excludes it, a malformed q ignores the range; the
//    higher q wins; on a tie the more specific match wins, then text 0.0.4.
//    No Accept, nothing acceptable, or only */*: text 0.0.4 (never 406).
//  - /healthz: 200 when the server is Ok or Warning, 503 otherwise.
// Targets: origin-form (/metrics?x) and absolute-form
// (http://host/metrics?x, RFC 9112 §3.2.2; the authority is not checked);
// the path is percent-decoded before routing (/server%73tatus is
// /serverstatus), '+' stays '+' in a path, one trailing '/' is ignored.
// Bad input gets a JSON error, never an exception: unknown path 404, a bad or
// repeated value of a known query parameter or a malformed path escape 400
// naming it, a target longer than max_target_bytes 414. With a bearer token
// set, details=true and /metrics require "Authorization: Bearer <token>"
// (compared in constant time): 401 with WWW-Authenticate as RFC 6750 §3 says,
// without an error code when no bearer token was sent and with
// error="invalid_token" (and a different message) when a wrong one was.
// HEAD: the response is exactly GET's, body included, so that a server can
// send GET's Content-Length; the server must not send the body (the Python
// server and statusz/httplib.hpp do so).
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

// Percent-decoding, '+' as space unless `path`; false on a malformed escape.
inline bool url_decode(std::string_view in, std::string& out,
                       bool path = false) {
  out.clear();
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = ascii_lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+' && !path) {
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

// RFC 9110 §12.5.1 qvalue: "0" ["." 0*3DIGIT] / "1" ["." 0*3"0"], in
// thousandths; -1 when malformed.
inline int parse_qvalue(std::string_view q) noexcept {
  if (q.empty() || q.size() > 5 || (q[0] != '0' && q[0] != '1')) return -1;
  int value = (q[0] - '0') * 1000;
  if (q.size() > 1) {
    if (q[1] != '.') return -1;
    int scale = 100;
    for (std::size_t i = 2; i < q.size(); ++i, scale /= 10) {
      if (q[i] < '0' || q[i] > '9') return -1;
      value += (q[i] - '0') * scale;
    }
  }
  return value > 1000 ? -1 : value;
}

// The exposition format an Accept header asks for (see the header comment).
inline ExpositionFormat negotiate_exposition(std::string_view accept) {
  struct Candidate {
    std::string_view type, subtype;
    int q = -1;            // in thousandths; -1: no range matched
    int specificity = -1;  // 2 type/subtype, 1 type/*, 0 */*
  };
  Candidate om{"application", "openmetrics-text"};
  Candidate text{"text", "plain"};
  while (!accept.empty()) {
    const std::size_t comma = accept.find(',');
    std::string_view item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view()
                                             : accept.substr(comma + 1);
    const std::size_t semi = item.find(';');
    const std::string_view range = trim(item.substr(0, semi));
    const std::size_t slash = range.find('/');
    if (slash == std::string_view::npos) continue;
    const std::string_view type = trim(range.substr(0, slash));
    const std::string_view subtype = trim(range.substr(slash + 1));
    int q = 1000;
    std::string_view params =
        semi == std::string_view::npos ? std::string_view() : item.substr(semi);
    while (!params.empty()) {
      params.remove_prefix(1);  // ';'
      const std::size_t next = params.find(';');
      const std::string_view p = params.substr(0, next);
      params = next == std::string_view::npos ? std::string_view()
                                              : params.substr(next);
      const std::size_t eq = p.find('=');
      if (eq == std::string_view::npos) continue;
      const std::string_view name = trim(p.substr(0, eq));
      if (name.size() == 1 && ascii_lower(name[0]) == 'q') {
        q = parse_qvalue(trim(p.substr(eq + 1)));
      }
    }
    if (q < 0) continue;  // a malformed q: the range is ignored
    for (Candidate* c : {&om, &text}) {
      int specificity = -1;
      if (type == "*" && subtype == "*") {
        specificity = 0;
      } else if (iequals(type, c->type) && subtype == "*") {
        specificity = 1;
      } else if (iequals(type, c->type) && iequals(subtype, c->subtype)) {
        specificity = 2;
      }
      // The most specific matching range decides; among equally specific
      // ones, the highest q.
      if (specificity > c->specificity ||
          (specificity == c->specificity && specificity >= 0 && q > c->q)) {
        c->specificity = specificity;
        c->q = q;
      }
    }
  }
  if (om.q > 0 && (om.q > text.q ||
                   (om.q == text.q && om.specificity > text.specificity))) {
    return ExpositionFormat::OpenMetrics100;
  }
  return ExpositionFormat::Text004;
}

// Whether an Accept header gets OpenMetrics (negotiate_exposition).
inline bool accepts_openmetrics(std::string_view accept) {
  return negotiate_exposition(accept) == ExpositionFormat::OpenMetrics100;
}

// The path of a request target in origin-form or absolute-form (RFC 9112
// §3.2), before any query; "" for anything else.
inline std::string_view target_path(std::string_view target) noexcept {
  const std::size_t end = target.find_first_of("?#");
  std::string_view t = target.substr(0, end);
  if (!t.empty() && t[0] == '/') return t;
  const std::size_t scheme = t.find("://");
  if (scheme == std::string_view::npos ||
      !(iequals(t.substr(0, scheme), "http") ||
        iequals(t.substr(0, scheme), "https"))) {
    return {};
  }
  t.remove_prefix(scheme + 3);
  const std::size_t slash = t.find('/');
  return slash == std::string_view::npos ? std::string_view("/")
                                         : t.substr(slash);
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

  enum class Auth { Ok, Missing, Invalid };
  // RFC 6750 §2.1: "Bearer" (any case), one or more spaces, the token.
  Auth authorize(const Headers& headers) const {
    if (options_.bearer_token.empty()) return Auth::Ok;
    std::string_view auth = detail::trim(find_header(headers, "Authorization"));
    if (auth.size() < 7 || !detail::iequals(auth.substr(0, 6), "Bearer") ||
        auth[6] != ' ') {
      return Auth::Missing;  // no bearer credentials at all
    }
    return detail::constant_time_equals(detail::trim(auth.substr(7)),
                                        options_.bearer_token)
               ? Auth::Ok
               : Auth::Invalid;
  }

  // RFC 6750 §3: no error code when the request had no bearer token;
  // error="invalid_token" when it had a wrong one.
  static HttpResponse unauthorized(Auth a) {
    if (a == Auth::Missing) {
      HttpResponse r = error(401, "a bearer token is required", "");
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"statusz\"");
      return r;
    }
    HttpResponse r = error(401, "the bearer token is not valid", "");
    r.headers.emplace_back(
        "WWW-Authenticate",
        "Bearer realm=\"statusz\", error=\"invalid_token\", "
        "error_description=\"the bearer token is not valid\"");
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
    std::string_view query = qmark == std::string_view::npos
                                 ? std::string_view()
                                 : target.substr(qmark + 1);
    query = query.substr(0, query.find('#'));
    std::string decoded;
    if (!detail::url_decode(detail::target_path(target), decoded, true)) {
      return error(400, "malformed percent-encoding in the path", "path");
    }
    std::string_view path = decoded;
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
      if (q.details) {
        const Auth a = authorize(headers);
        if (a != Auth::Ok) return unauthorized(a);
      }
      r = json_response(200, registry_->to_json(q.details, q.pretty));
    } else if (is_metrics) {
      const Auth a = authorize(headers);
      if (a != Auth::Ok) return unauthorized(a);
      PrometheusOptions po;
      po.prefix = options_.metrics_prefix;
      po.format = detail::negotiate_exposition(find_header(headers, "Accept"));
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
    return r;  // HEAD too, body included: see the header comment
  }

  const Registry* registry_;
  HttpOptions options_;
};

}  // namespace statusz
