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
#pragma once

#include <httplib.h>

#include <string>

#include "http.hpp"

namespace statusz {

namespace detail {

inline void serve_httplib(const HttpHandler& handler,
                          const httplib::Request& req, httplib::Response& res) {
  Headers headers;
  headers.reserve(req.headers.size());
  for (const auto& [k, v] : req.headers) headers.emplace_back(k, v);
  const std::string& target = req.target.empty() ? req.path : req.target;
  // httplib omits the body of a HEAD response but keeps the Content-Length
  // of the content set: answering GET gives HEAD the GET's length.
  const std::string_view method =
      req.method == "HEAD" ? std::string_view("GET") : req.method;
  HttpResponse r = handler.handle(method, target, headers);
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  res.set_content(std::move(r.body), r.content_type);
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
        if (!res.body.empty())
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
