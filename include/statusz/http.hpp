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
//    Compression is the server's: detail::accepts_gzip() is the rule the
//    Python servers and statusz/httplib.hpp apply to Accept-Encoding.
//  - /healthz: 200 when the server is Ok or Warning, 503 otherwise.
//  - /livez and /readyz: the probes of the health group "live" or "ready"
//    (Registry::probe's groups; one registered without groups is in "ready")
//    run through Registry::health(); 200 when each is Ok or Warning (or the
//    group is empty), 503 otherwise. The body is Kubernetes' own (kube-
//    apiserver's /livez and /readyz: k8s.io/apiserver/pkg/server/healthz/
//    healthz.go, handleRootHealth), text/plain; charset=utf-8: "ok" on
//    success; with ?verbose (its presence, whatever its value, as there), and
//    always on failure, one line per check, "[+]<path> ok",
//    "[-]<path> failed: <message>" or "[+]<path> excluded: ok", then
//    "livez check passed\n" or "livez check failed\n" (readyz alike).
//    ?exclude=<path> (repeatable) leaves a check out without running it; an
//    excluded name that matches no check of the group adds the line
//    `warn: some health checks cannot be excluded: no matches for "a","b"`
//    (sorted, quoted) and changes nothing else, as in Kubernetes. A message
//    is the probe's (its status if it has none; line breaks become spaces);
//    with a bearer token set, a request without it reads "reason withheld"
//    instead, Kubernetes' words (it always withholds them). Kubernetes
//    answers a failure with 500; these routes, like /healthz, with 503.
// Targets: origin-form (/metrics?x) and absolute-form
// (http://host/metrics?x, RFC 9112 §3.2.2; the authority is not checked);
// the path is percent-decoded before routing (/server%73tatus is
// /serverstatus), '+' stays '+' in a path, one trailing '/' is ignored.
// Bad input gets a JSON error, never an exception: unknown path 404, a bad or
// repeated value of a known query parameter or a malformed path escape 400
// naming it, a target longer than max_target_bytes 414. With a bearer token
// set, details=true and /metrics require "Authorization: Bearer <token>"
// (and /livez and /readyz show probe messages only with it)
// (compared in constant time): 401 with WWW-Authenticate as RFC 6750 §3 says,
// without an error code when no bearer token was sent and with
// error="invalid_token" (and a different message) when a wrong one was.
// HEAD: the response is exactly GET's, body included, so that a server can
// send GET's Content-Length; the server must not send the body (the Python
// server and statusz/httplib.hpp do so).
// Thread-safety: handle() is const and safe from many threads at once.
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
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

// HttpHandler's constructor throws std::invalid_argument for a bearer_token
// that is not an RFC 6750 §2.1 b64token (no request could carry it) and for a
// max_target_bytes below HttpHandler::kMinTargetBytes (64: the seed's
// request, /servlet/api/serverstatus?details=true&pretty=true, is 50 bytes;
// at 0 every request would get 414).
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

// Calls fn(item, q) for each element of a weighted list (Accept,
// Accept-Encoding: RFC 9110 §12.4.2, §12.5.1, §12.5.3): `item` is the element
// before its parameters, trimmed; `q` its weight in thousandths (default
// 1000; -1 when malformed). Empty elements are skipped.
template <class Fn>
void for_each_weighted(std::string_view field, Fn&& fn) {
  while (!field.empty()) {
    const std::size_t comma = field.find(',');
    const std::string_view element = field.substr(0, comma);
    field = comma == std::string_view::npos ? std::string_view()
                                            : field.substr(comma + 1);
    const std::size_t semi = element.find(';');
    const std::string_view item = trim(element.substr(0, semi));
    if (item.empty()) continue;
    int q = 1000;
    std::string_view params = semi == std::string_view::npos
                                  ? std::string_view()
                                  : element.substr(semi);
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
    fn(item, q);
  }
}

// Whether a response may be gzipped for an Accept-Encoding field value
// (RFC 9110 §12.5.3): gzip's weight is that of "gzip" or its alias "x-gzip"
// (§8.4.1.3), else of "*", and must be above 0 (a malformed weight counts as
// 0); identity's is that of "identity", else of "*", else identity is
// acceptable by default, below any coding named. gzip is chosen when its
// weight is at least identity's ("gzip;q=0.5, identity" keeps identity).
// No field, an empty one, or gzip not acceptable: no gzip, even with
// "identity;q=0" (then the response is sent without a coding rather than a
// 406, as RFC 9110 §12.5.3 lets a server do and as most do).
inline bool accepts_gzip(std::string_view accept_encoding) {
  int gzip = -1, identity = -1, star = -1;  // -1: not listed
  for_each_weighted(accept_encoding, [&](std::string_view coding, int q) {
    if (q < 0) q = 0;
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
      gzip = std::max(gzip, q);
    } else if (iequals(coding, "identity")) {
      identity = std::max(identity, q);
    } else if (coding == "*") {
      star = std::max(star, q);
    }
  });
  if (gzip < 0) gzip = star;
  if (identity < 0) identity = star;
  return gzip > 0 && gzip >= identity;
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
  for_each_weighted(accept, [&](std::string_view range, int q) {
    const std::size_t slash = range.find('/');
    if (slash == std::string_view::npos) return;
    if (q < 0) return;  // a malformed q: the range is ignored
    const std::string_view type = trim(range.substr(0, slash));
    const std::string_view subtype = trim(range.substr(slash + 1));
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
  });
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

// The path a request target routes by: target_path(), percent-decoded ('+'
// stays '+'), one trailing '/' removed. False on a malformed escape.
inline bool routed_path(std::string_view target, std::string& path) {
  if (!url_decode(target_path(target), path, true)) return false;
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  return true;
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
  // The seed's own path for the document (docs/serverstatus.md).
  static constexpr std::string_view kServletStatusPath =
      "/servlet/api/serverstatus";
  // The smallest max_target_bytes: the seed's request,
  // /servlet/api/serverstatus?details=true&pretty=true (50 bytes), fits.
  static constexpr std::size_t kMinTargetBytes = 64;

  explicit HttpHandler(const Registry& registry, HttpOptions options = {})
      : registry_(&registry), options_(validated(std::move(options))) {}

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

  // RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
  // "+" / "/" ) *"=".
  static bool is_b64token(std::string_view t) noexcept {
    std::size_t i = 0;
    for (; i < t.size(); ++i) {
      const char c = t[i];
      const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                      c == '_' || c == '~' || c == '+' || c == '/';
      if (!ok) break;
    }
    if (i == 0) return false;
    for (; i < t.size(); ++i) {
      if (t[i] != '=') return false;
    }
    return true;
  }

  static HttpOptions validated(HttpOptions o) {
    if (!o.bearer_token.empty() && !is_b64token(o.bearer_token)) {
      throw std::invalid_argument(
          "statusz: bearer_token must be an RFC 6750 token: letters, digits, "
          "'-._~+/', then any '='");
    }
    if (o.max_target_bytes < kMinTargetBytes) {
      throw std::invalid_argument(
          "statusz: max_target_bytes must be >= " +
          std::to_string(kMinTargetBytes) + ", not " +
          std::to_string(o.max_target_bytes) +
          " (the seed's request with its parameters is 50 bytes)");
    }
    return o;
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
  // Calls fn(decoded name, raw value, has '=') for each name=value pair of
  // a query until fn returns false; false then, or with `err` set (400) on a
  // malformed escape in a name.
  template <class Fn>
  static bool each_query_pair(std::string_view query, HttpResponse& err,
                              Fn&& fn) {
    std::string name;
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
      if (!fn(name, raw_value, eq != std::string_view::npos)) return false;
    }
    return true;
  }

  static bool parse_query(std::string_view query, Query& q, HttpResponse& err) {
    bool seen_details = false, seen_pretty = false;
    std::string value;
    return each_query_pair(
        query, err,
        [&](const std::string& name, std::string_view raw_value,
            bool has_value) {
          bool* target = nullptr;
          bool* seen = nullptr;
          if (name == "details") {
            target = &q.details;
            seen = &seen_details;
          } else if (name == "pretty") {
            target = &q.pretty;
            seen = &seen_pretty;
          } else {
            return true;  // unknown parameters (cache busters, ...) are ignored
          }
          if (*seen) {
            err = error(400, "'" + name + "' is given more than once", name);
            return false;
          }
          *seen = true;
          if (!detail::url_decode(raw_value, value)) {
            err = error(400, "malformed percent-encoding in '" + name + "'",
                        name);
            return false;
          }
          // A bare "?pretty" means true.
          if (!has_value || detail::iequals(value, "true")) {
            *target = true;
          } else if (detail::iequals(value, "false")) {
            *target = false;
          } else {
            err = error(400,
                        "'" + name + "' must be true or false, not '" +
                            (detail::is_valid_utf8(value)
                                 ? value
                                 : detail::to_valid_utf8(value)) +
                            "'",
                        name);
            return false;
          }
          return true;
        });
  }

  // /livez and /readyz (see the header comment); `endpoint` is "livez" or
  // "readyz", `group` its health group.
  HttpResponse health(std::string_view endpoint, std::string_view group,
                      std::string_view query, const Headers& headers) const {
    bool verbose = false;
    std::vector<std::string> exclude;
    std::string value;
    HttpResponse r;
    const bool parsed = each_query_pair(
        query, r,
        [&](const std::string& name, std::string_view raw_value, bool) {
          if (name == "verbose") {
            verbose = true;  // present, whatever its value (Kubernetes)
          } else if (name == "exclude") {
            if (!detail::url_decode(raw_value, value)) {
              r = error(400, "malformed percent-encoding in 'exclude'",
                        "exclude");
              return false;
            }
            exclude.push_back(value);
          }
          return true;
        });
    if (!parsed) return r;
    const std::vector<HealthCheck> checks = registry_->health(group, exclude);
    const bool reasons = authorize(headers) == Auth::Ok;
    const auto one_line = [](std::string_view text) {
      std::string out = detail::to_valid_utf8(text);
      for (char& c : out) {
        if (c == '\n' || c == '\r') c = ' ';
      }
      return out;
    };
    std::string lines;
    bool failed = false;
    for (const HealthCheck& c : checks) {
      const std::string name = one_line(c.name);
      if (c.excluded) {
        lines += "[+]" + name + " excluded: ok\n";
      } else if (c.report.status == Status::Ok ||
                 c.report.status == Status::Warning) {
        lines += "[+]" + name + " ok\n";
      } else {
        failed = true;
        lines += "[-]" + name + " failed: ";
        if (!reasons) {
          lines += "reason withheld";
        } else if (c.report.message.empty()) {
          lines += to_string(c.report.status);
        } else {
          lines += one_line(c.report.message);
        }
        lines += '\n';
      }
    }
    std::vector<std::string> unmatched;
    for (const std::string& e : exclude) {
      bool found = false;
      for (const HealthCheck& c : checks) found = found || c.name == e;
      if (!found) unmatched.push_back(e);
    }
    if (!unmatched.empty()) {
      std::sort(unmatched.begin(), unmatched.end());
      unmatched.erase(std::unique(unmatched.begin(), unmatched.end()),
                      unmatched.end());
      lines += "warn: some health checks cannot be excluded: no matches for ";
      for (std::size_t i = 0; i < unmatched.size(); ++i) {
        if (i != 0) lines += ',';
        detail::append_json_string(lines, one_line(unmatched[i]));
      }
      lines += '\n';
    }
    r = HttpResponse();
    r.status = failed ? 503 : 200;
    r.content_type = "text/plain; charset=utf-8";
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    if (failed) {
      r.body = lines + std::string(endpoint) + " check failed\n";
    } else if (verbose) {
      r.body = lines + std::string(endpoint) + " check passed\n";
    } else {
      r.body = "ok";
    }
    return r;
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
    std::string path;
    if (!detail::routed_path(target, path)) {
      return error(400, "malformed percent-encoding in the path", "path");
    }
    const bool is_status =
        path == "/serverstatus" || path == kServletStatusPath;
    const bool is_metrics = path == "/metrics";
    const bool is_health = path == "/healthz";
    const bool is_livez = path == "/livez";
    const bool is_readyz = path == "/readyz";
    if (!is_status && !is_metrics && !is_health && !is_livez && !is_readyz) {
      return error(404,
                   "no such path (try /serverstatus, /metrics, /healthz, "
                   "/livez or /readyz)",
                   "");
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
    } else if (is_livez) {
      r = health("livez", health::kLive, query, headers);
    } else if (is_readyz) {
      r = health("readyz", health::kReady, query, headers);
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
