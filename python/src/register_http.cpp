// statusz._core: HttpHandler, the C++ HTTP handler (statusz/http.hpp) bound
// once per server: statusz.serve() holds one and calls handle() per request.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "bindings.hpp"

namespace statusz_py {

void register_http(py::module_& m) {
  using statusz::HttpHandler;
  using py::arg;
  const statusz::HttpOptions defaults;

  py::class_<HttpHandler> handler_cls(
      m, "HttpHandler", py::is_final(), py::custom_type_setup(gc_patients_setup),
      "The status endpoints of a Registry as a function from (method, request "
      "target, headers) to a response: GET /serverstatus (and "
      "/servlet/api/serverstatus), /metrics, /healthz, /livez and /readyz, "
      "exactly as C++ services serve them. statusz.serve() holds one. Safe "
      "from any thread.");
  handler_cls
      .def(py::init([](const PyRegistry& r, std::optional<std::string> bearer_token,
                       std::string metrics_prefix, std::size_t max_target_bytes) {
             statusz::HttpOptions o;
             o.bearer_token = std::move(bearer_token).value_or("");
             o.metrics_prefix = std::move(metrics_prefix);
             o.max_target_bytes = max_target_bytes;
             return std::make_unique<HttpHandler>(r.reg, std::move(o));
           }),
           arg("registry"), py::kw_only(), arg("bearer_token") = defaults.bearer_token,
           arg("metrics_prefix") = defaults.metrics_prefix,
           arg("max_target_bytes") = defaults.max_target_bytes, py::keep_alive<1, 2>(),
           "registry: the Registry served (kept alive by the handler); "
           "bearer_token: when not None or empty, required (\"Authorization: "
           "Bearer <token>\") for details=true and /metrics; ValueError unless "
           "it is an RFC 6750 token (letters, digits, -._~+/, then any =). "
           "metrics_prefix: the Prometheus names' prefix; max_target_bytes: "
           "longer request targets get 414 (ValueError below "
           "MIN_TARGET_BYTES, 64: the seed's request is 50 bytes).")
      .def(
          "handle",
          [](const HttpHandler& h, const std::string& method, const std::string& target,
             const statusz::Headers& headers) {
            statusz::HttpResponse resp;
            {
              ReleaseGil nogil;
              resp = h.handle(method, target, headers);
            }
            return py::make_tuple(resp.status, resp.content_type, resp.headers,
                                  py::bytes(resp.body));
          },
          arg("method"), arg("target"), arg("headers") = statusz::Headers{},
          "One request: (status, content type, other headers as (name, value) "
          "pairs, body bytes). Never raises for bad input: errors are JSON "
          "responses (400, 401, 404, 405, 414). Releases the GIL; runs the "
          "probes when the route needs them.")
      .def_property_readonly(
          "metrics_prefix",
          [](const HttpHandler& h) { return h.options().metrics_prefix; },
          "The Prometheus names' prefix.")
      .def_property_readonly(
          "max_target_bytes",
          [](const HttpHandler& h) { return h.options().max_target_bytes; },
          "Request targets longer than this get 414.")
      .def("__repr__", [](const HttpHandler& h) {
        return "HttpHandler(metrics_prefix=" + repr_str(h.options().metrics_prefix) +
               ", max_target_bytes=" + std::to_string(h.options().max_target_bytes) +
               ")";
      });
  // The smallest max_target_bytes (the seed's request with its parameters
  // is 50 bytes).
  handler_cls.attr("MIN_TARGET_BYTES") = HttpHandler::kMinTargetBytes;

  m.def(
      "_accepts_gzip",
      [](const std::optional<std::string>& accept_encoding) {
        return accept_encoding.has_value() && statusz::detail::accepts_gzip(*accept_encoding);
      },
      arg("accept_encoding"),
      "Whether a response may be gzipped for this Accept-Encoding field value "
      "(None: no field), by RFC 9110 §12.5.3: gzip (or x-gzip, else *) with a "
      "weight above 0 (malformed: 0) and at least identity's (identity's own, "
      "else *'s; unlisted identity ranks below any coding named). The rule the "
      "C++ cpp-httplib adapter applies too (statusz/http.hpp, "
      "detail::accepts_gzip).");
  // The Content-Types of the handler's /metrics answers (prometheus.hpp's
  // content_type()), for the Python servers' gzip decision.
  m.attr("_EXPOSITION_CONTENT_TYPES") = py::make_tuple(
      std::string(statusz::content_type(statusz::ExpositionFormat::Text004)),
      std::string(statusz::content_type(statusz::ExpositionFormat::OpenMetrics100)));
}

}  // namespace statusz_py
