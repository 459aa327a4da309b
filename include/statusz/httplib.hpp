// statusz::mount(): serves an HttpHandler's routes on a cpp-httplib server
// (https://github.com/yhirose/cpp-httplib, Debian libcpp-httplib-dev).
// Optional: include it only where <httplib.h> is available; the rest of
// statusz does not need it. Compile with the CPPHTTPLIB_* defines of the
// httplib you link (Debian's: `pkg-config --cflags cpp-httplib`), or class
// layouts differ from the library's; CMake's statusz::httplib target does it.
// httplib serves each connection on a pool thread: call
// server.set_tcp_nodelay(true), or Nagle and delayed ACKs add ~40 ms. Every
// request httplib can parse goes through HttpHandler::handle(), whatever its
// method, so routes, errors and authentication are the same as in any other
// adapter; HEAD is answered as GET without the body, with the GET's
// Content-Length (RFC 9110 §9.3.2). Thread-safety: as HttpHandler (handle()
// is safe from httplib's pool).
//
// Compression, as the Python servers do it: /metrics carries
// "Vary: Accept-Encoding" and a 200 is gzipped (Content-Encoding: gzip) when
// the request's Accept-Encoding accepts gzip by detail::accepts_gzip(), the
// rule in http.hpp they share (weights honoured: "gzip;q=0" gets none). The
// gzip is httplib's own compressor, so it needs what httplib needs for it:
// CPPHTTPLIB_ZLIB_SUPPORT and zlib (Debian's libcpp-httplib-dev is built
// with both; its pkg-config flags define it). Without it, nothing is
// compressed. httplib's compressor uses zlib's default level (6), where the
// Python servers use 1. httplib is kept from compressing on its own: built
// with zlib or Brotli, it compresses any text/* body whenever Accept-Encoding
// merely contains "gzip" or "br", weights ignored (its encoding_type(), from
// 0.11, Debian 12's, to the versions with zstd: "TODO: 'Accept-Encoding' has
// gzip, not gzip;q=0"), so every body is handed to it as a content provider
// of known length, which it sends as is.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <memory>
#include <string>

#include "http.hpp"

namespace statusz {

namespace detail {

// `body` as the response's content, sent by httplib as it is (see the
// header comment), with its length.
inline void set_httplib_body(httplib::Response& res, std::string body,
                             const std::string& content_type) {
  if (body.empty()) {
    res.set_content(std::string(), content_type);
    return;
  }
  const auto shared = std::make_shared<const std::string>(std::move(body));
  res.set_content_provider(shared->size(), content_type,
                           [shared](std::size_t offset, std::size_t length,
                                    httplib::DataSink& sink) {
                             return sink.write(shared->data() + offset, length);
                           });
}

inline void serve_httplib(const HttpHandler& handler,
                          const httplib::Request& req, httplib::Response& res) {
  Headers headers;
  headers.reserve(req.headers.size());
  std::string accept_encoding;
  for (const auto& [k, v] : req.headers) {
    headers.emplace_back(k, v);
    if (iequals(k, "Accept-Encoding")) {
      if (!accept_encoding.empty()) accept_encoding += ", ";
      accept_encoding += v;
    }
  }
  const std::string& target = req.target.empty() ? req.path : req.target;
  // httplib omits the body of a HEAD response but keeps the Content-Length
  // of the content set: answering GET gives HEAD the GET's length.
  const std::string_view method =
      req.method == "HEAD" ? std::string_view("GET") : req.method;
  HttpResponse r = handler.handle(method, target, headers);
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  std::string path;
  if (routed_path(target, path) && path == "/metrics") {
    res.set_header("Vary", "Accept-Encoding");
#ifdef CPPHTTPLIB_ZLIB_SUPPORT
    if (r.status == 200 && accepts_gzip(accept_encoding)) {
      std::string gzipped;
      httplib::detail::gzip_compressor gzip;
      if (gzip.compress(r.body.data(), r.body.size(), true,
                        [&gzipped](const char* data, std::size_t n) {
                          gzipped.append(data, n);
                          return true;
                        })) {
        r.body.swap(gzipped);
        res.set_header("Content-Encoding", "gzip");
      }
    }
#endif
  }
  set_httplib_body(res, std::move(r.body), r.content_type);
}

inline std::string httplib_error_text(int status) {
  switch (status) {
    case 400:
      return "malformed request";
    case 413:
      return "request content too large";
    case 414:
      return "request target too long";
    case 431:
      return "request header fields too large";
    default:
      return "request rejected by the HTTP server";
  }
}

}  // namespace detail

// Routes every path and method of `server` to `handler`, which must outlive
// the server's listening. Replaces the server's pre-routing and error
// handlers:
//  - the pre-routing handler answers every request without content (no
//    Content-Length, no Transfer-Encoding; RFC 9112 §6.3: its length is 0)
//    at once, whatever the method: httplib routes only GET, HEAD, POST, PUT,
//    PATCH, DELETE and OPTIONS (TRACE or CONNECT would get an empty 400), and
//    waits for a POST's content until its read timeout. Requests with content
//    have it read by httplib first (bounded by set_payload_max_length()).
//  - the error handler gives httplib's own rejections (a request it cannot
//    parse or whose method it does not know: 400; a target over
//    CPPHTTPLIB_REQUEST_URI_MAX_LENGTH: 414; ...) the handler's JSON error
//    shape, {"error": ..., "status": ...}, instead of an empty body.
inline void mount(httplib::Server& server, const HttpHandler& handler) {
  auto serve = [&handler](const httplib::Request& req, httplib::Response& res) {
    detail::serve_httplib(handler, req, res);
  };
  server.set_pre_routing_handler(
      [&handler](const httplib::Request& req, httplib::Response& res) {
        if (req.has_header("Content-Length") ||
            req.has_header("Transfer-Encoding")) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        detail::serve_httplib(handler, req, res);
        return httplib::Server::HandlerResponse::Handled;
      });
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
        // The handler's own responses all have a Content-Type (their body
        // may be a content provider: res.body is then empty).
        if (!res.body.empty() || res.has_header("Content-Type"))
          return httplib::Server::HandlerResponse::Unhandled;
        Value v{Object{}};
        v.add("error", detail::httplib_error_text(res.status));
        v.add("status", res.status);
        res.set_header("Cache-Control", "no-store");
        res.set_content(to_json(v) + "\n", "application/json; charset=utf-8");
        return httplib::Server::HandlerResponse::Handled;
      }));
  const std::string all = ".*";
  server.Get(all, serve);
  server.Post(all, serve);
  server.Put(all, serve);
  server.Patch(all, serve);
  server.Delete(all, serve);
  server.Options(all, serve);
}

}  // namespace statusz
