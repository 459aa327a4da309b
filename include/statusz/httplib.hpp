// statusz::mount(): serves an HttpHandler's routes on a cpp-httplib server
// (https://github.com/yhirose/cpp-httplib, Debian libcpp-httplib-dev).
// Optional: include it only where <httplib.h> is available; the rest of
// statusz does not need it. Compile with the CPPHTTPLIB_* defines of the
// httplib you link (Debian's: `pkg-config --cflags cpp-httplib`), or class
// layouts differ from the library's; CMake's statusz::httplib target does it.
// httplib serves each connection on a pool thread: call
// server.set_tcp_nodelay(true), or Nagle and delayed ACKs add ~40 ms. Every
// request goes through HttpHandler::handle(), so routes, errors and
// authentication are the same as in any other adapter. Thread-safety: as
// HttpHandler (handle() is safe from httplib's pool).
#pragma once

#include <httplib.h>

#include "http.hpp"

namespace statusz {

// Routes every path and method of `server` to `handler`, which must outlive
// the server's listening.
inline void mount(httplib::Server& server, const HttpHandler& handler) {
  auto serve = [&handler](const httplib::Request& req, httplib::Response& res) {
    Headers headers;
    headers.reserve(req.headers.size());
    for (const auto& [k, v] : req.headers) headers.emplace_back(k, v);
    const std::string& target = req.target.empty() ? req.path : req.target;
    HttpResponse r = handler.handle(req.method, target, headers);
    res.status = r.status;
    for (const auto& [k, v] : r.headers) res.set_header(k, v);
    res.set_content(std::move(r.body), r.content_type);
  };
  const std::string all = ".*";
  server.Get(all, serve);
  server.Post(all, serve);
  server.Put(all, serve);
  server.Patch(all, serve);
  server.Delete(all, serve);
  server.Options(all, serve);
}

}  // namespace statusz
