#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <statusz/http.hpp>

#include "sample_registry.hpp"

namespace statusz {
namespace {

class Http : public ::testing::Test {
 protected:
  Http() : reg_({&clock_, "app1", "49.2470"}), handler_(reg_) {
    testing::build_sample(reg_, testing::load_sample());
  }
  ManualClock clock_;
  Registry reg_;
  HttpHandler handler_;
};

TEST_F(Http, TheSeedRequestGetsThePrettyDetailedDocument) {
  const HttpResponse r =
      handler_.handle("GET", "/serverstatus?details=true&pretty=true",
                      {{"accept", "application / javascript"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json; charset=utf-8");
  EXPECT_EQ(r.header("cache-control"), "no-store");
  const auto doc = nlohmann::json::parse(r.body);
  EXPECT_EQ(doc["withDetails"], true);
  EXPECT_TRUE(doc["applications"]["servlet"].contains("requests"));
  EXPECT_NE(r.body.find("\n  \"withDetails\": true,"), std::string::npos);
  // The seed's own path works too.
  EXPECT_EQ(
      handler_.handle("GET", "/servlet/api/serverstatus?details=true").status,
      200);
}

TEST_F(Http, DefaultsAreCompactWithoutDetails) {
  const HttpResponse r = handler_.handle("GET", "/serverstatus");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("\n  "), std::string::npos);
  const auto doc = nlohmann::json::parse(r.body);
  EXPECT_EQ(doc["withDetails"], false);
  EXPECT_FALSE(doc["applications"]["servlet"].contains("requests"));
}

TEST_F(Http, StatusIsAlways200WithTheStatusInTheBody) {
  reg_.probe("applications.runtime", [] { return Status::Ko; });
  const HttpResponse r = handler_.handle("GET", "/serverstatus");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["status"], "Ko");
}

TEST_F(Http, BadQueryValuesAre400NamingTheParameter) {
  const std::pair<const char*, const char*> cases[] = {
      {"/serverstatus?details=yes", "details"},
      {"/serverstatus?pretty=2", "pretty"},
      {"/serverstatus?details=true&details=false", "details"},
      {"/serverstatus?details=%zz", "details"},
      {"/serverstatus?pretty=%", "pretty"},
  };
  for (const auto& [target, parameter] : cases) {
    const HttpResponse r = handler_.handle("GET", target);
    EXPECT_EQ(r.status, 400) << target;
    const auto doc = nlohmann::json::parse(r.body);
    EXPECT_EQ(doc["parameter"], parameter) << target;
    EXPECT_NE(doc["error"].get<std::string>().find(parameter),
              std::string::npos)
        << target;
  }
}

TEST_F(Http, LenientQueryForms) {
  EXPECT_EQ(handler_.handle("GET", "/serverstatus?details=TRUE").status, 200);
  EXPECT_EQ(handler_.handle("GET", "/serverstatus?pretty").status, 200);
  EXPECT_EQ(
      handler_.handle("GET", "/serverstatus?_=12345&details=false").status,
      200);
  EXPECT_EQ(handler_.handle("GET", "/serverstatus?details=%74rue").status, 200);
  EXPECT_EQ(handler_.handle("GET", "/serverstatus/").status, 200);
}

TEST_F(Http, UnknownPathsAre404AndOtherMethods405WithAllow) {
  EXPECT_EQ(handler_.handle("GET", "/nope").status, 404);
  EXPECT_EQ(handler_.handle("GET", "/").status, 404);
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS",
                             "TRACE", "CONNECT", "PROPFIND", "get", "BREW"}) {
    for (const char* target : {"/serverstatus", "/metrics", "/healthz"}) {
      const HttpResponse r = handler_.handle(method, target);
      EXPECT_EQ(r.status, 405) << method << " " << target;
      EXPECT_EQ(r.header("Allow"), "GET, HEAD") << method << " " << target;
      EXPECT_EQ(nlohmann::json::parse(r.body)["status"], 405);
    }
  }
}

// RFC 9112 §3.2.2: a server must accept the absolute form; and a path is
// percent-decoded before routing (RFC 3986 §6.2.2.2).
TEST_F(Http, AbsoluteFormAndPercentEncodedPathsRoute) {
  const std::string doc = handler_.handle("GET", "/serverstatus").body;
  for (const char* target :
       {"http://app1.example:8080/serverstatus", "HTTP://h/serverstatus",
        "https://h/serverstatus", "/server%73tatus", "/%73erverstatus/",
        "http://h/server%73tatus?pretty=false", "/servlet/api/serverstatu%73",
        "/serverstatus#frag"}) {
    const HttpResponse r = handler_.handle("GET", target);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.content_type, "application/json; charset=utf-8") << target;
  }
  EXPECT_EQ(handler_.handle("GET", "http://h/metrics").content_type,
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(handler_.handle("GET", "http://h/he%61lthz").status, 200);
  EXPECT_TRUE(nlohmann::json::parse(
                  handler_.handle("GET", "http://h/serverstatus?details=true")
                      .body)["withDetails"]
                  .get<bool>());
  EXPECT_EQ(handler_.handle("GET", "http://h").status, 404);
  EXPECT_EQ(handler_.handle("GET", "ftp://h/serverstatus").status, 404);
  EXPECT_EQ(handler_.handle("GET", "serverstatus").status, 404);
  EXPECT_EQ(handler_.handle("GET", "/server+status").status, 404)
      << "'+' is not a space in a path";
  const HttpResponse bad = handler_.handle("GET", "/server%7gstatus");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad.body)["parameter"], "path");
}

TEST_F(Http, OversizedTargetsAre414) {
  const std::string target = "/serverstatus?x=" + std::string(9000, 'a');
  EXPECT_EQ(handler_.handle("GET", target).status, 414);
}

// Options no request could satisfy are refused when the handler is made
// (a blank token answered every guarded request 401, a max_target_bytes of 0
// every request 414).
TEST_F(Http, RefusesOptionsNoRequestCouldMeet) {
  for (const char* token :
       {" ", "two words", "tab\t", "=abc", "a=b", "\xc3\xa9"}) {
    HttpOptions o;
    o.bearer_token = token;
    EXPECT_THROW(HttpHandler(reg_, o), std::invalid_argument) << token;
  }
  for (const char* token : {"s3cret", "a-b.c_d~e+f/g", "YWxhZGRpbg==", "x"}) {
    HttpOptions o;
    o.bearer_token = token;
    HttpHandler guarded(reg_, o);
    EXPECT_EQ(guarded
                  .handle("GET", "/metrics",
                          {{"Authorization", std::string("Bearer ") + token}})
                  .status,
              200)
        << token;
  }
  HttpOptions o;
  o.max_target_bytes = HttpHandler::kMinTargetBytes - 1;
  EXPECT_THROW(HttpHandler(reg_, o), std::invalid_argument);
  o.max_target_bytes = HttpHandler::kMinTargetBytes;
  EXPECT_EQ(HttpHandler(reg_, o)
                .handle("GET", std::string(HttpHandler::kServletStatusPath) +
                                   "?details=true&pretty=true")
                .status,
            200);
}

// RFC 9110 §9.3.2/§8.6: HEAD gets GET's headers, and a Content-Length if
// any must be GET's. The handler gives GET's response, body included; the
// server sends its length and drops it (see http.hpp).
TEST_F(Http, HeadIsTheGetResponseSoServersCanSendItsLength) {
  for (const char* target : {"/serverstatus?pretty=true", "/metrics",
                             "/healthz", "/nope", "/serverstatus?details=x"}) {
    const HttpResponse head = handler_.handle("HEAD", target);
    const HttpResponse get = handler_.handle("GET", target);
    EXPECT_EQ(head.status, get.status) << target;
    EXPECT_EQ(head.content_type, get.content_type) << target;
    EXPECT_EQ(head.headers, get.headers) << target;
    if (std::string(target) != "/serverstatus?pretty=true") {
      EXPECT_EQ(head.body, get.body) << target;
    }
    EXPECT_FALSE(head.body.empty()) << target;
  }
}

TEST_F(Http, MetricsNegotiatesTheFormat) {
  const HttpResponse text = handler_.handle("GET", "/metrics");
  EXPECT_EQ(text.status, 200);
  EXPECT_EQ(text.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(text.body.find("# EOF"), std::string::npos);
  const HttpResponse om = handler_.handle(
      "GET", "/metrics",
      {{"Accept",
        "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;q=0.5"}});
  EXPECT_EQ(om.content_type,
            "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_NE(om.body.find("# EOF\n"), std::string::npos);
  const HttpResponse refused = handler_.handle(
      "GET", "/metrics", {{"Accept", "application/openmetrics-text; q=0"}});
  EXPECT_EQ(refused.content_type, "text/plain; version=0.0.4; charset=utf-8");
  // Issue 10: the higher q wins.
  const HttpResponse by_q =
      handler_.handle("GET", "/metrics",
                      {{"Accept",
                        "text/plain;version=0.0.4;q=1.0, "
                        "application/openmetrics-text;version=1.0.0;q=0.2"}});
  EXPECT_EQ(by_q.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(by_q.body.find("# EOF"), std::string::npos);
}

TEST(HttpDetail, NegotiationByQ) {
  const auto om = [](std::string_view accept) {
    return detail::negotiate_exposition(accept) ==
           ExpositionFormat::OpenMetrics100;
  };
  // The higher q wins (RFC 9110 §12.5.1), whatever the order.
  EXPECT_FALSE(
      om("text/plain;version=0.0.4;q=1.0, "
         "application/openmetrics-text;version=1.0.0;q=0.2"));
  EXPECT_FALSE(om("text/plain;q=0.9,application/openmetrics-text;q=0.5"));
  EXPECT_TRUE(om("text/plain;q=0.5,application/openmetrics-text;q=0.9"));
  EXPECT_TRUE(om("application/openmetrics-text;q=0.501,text/plain;q=0.5"));
  // Prometheus' own scrape Accept headers (2.x and 3.x).
  EXPECT_TRUE(
      om("application/openmetrics-text;version=1.0.0,"
         "application/openmetrics-text;version=0.0.1;q=0.75,"
         "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
  EXPECT_TRUE(
      om("application/openmetrics-text;version=1.0.0;q=0.5,"
         "application/openmetrics-text;version=0.0.1;q=0.4,"
         "text/plain;version=1.0.0;q=0.3,"
         "text/plain;version=0.0.4;q=0.2,*/*;q=0.1"));
  // q = 0, with spaces, excludes; default q is 1.
  EXPECT_FALSE(om("application/openmetrics-text; q = 0, text/plain; q=0.1"));
  EXPECT_FALSE(om("application/openmetrics-text ; Q = 0.000"));
  EXPECT_TRUE(om("text/plain; q = 0, application/openmetrics-text"));
  EXPECT_TRUE(om("text/plain;q=0.999,application/openmetrics-text"));
  // Ties: the more specific match, then text.
  EXPECT_TRUE(om("text/*;q=0.5, application/openmetrics-text;q=0.5"));
  EXPECT_FALSE(om("application/openmetrics-text;q=0.5, text/plain;q=0.5"));
  EXPECT_FALSE(om("text/plain, application/openmetrics-text"));
  // Wildcards: */* alone is text; application/* picks OpenMetrics.
  EXPECT_FALSE(om("*/*"));
  EXPECT_TRUE(om("application/*"));
  EXPECT_TRUE(om("*/*;q=0.1, application/openmetrics-text;q=0.2"));
  EXPECT_FALSE(om("*/*, application/openmetrics-text;q=0.2"));
  // The most specific range decides even with a lower q.
  EXPECT_FALSE(om("application/*;q=1, application/openmetrics-text;q=0"));
  // Nothing acceptable, or malformed: text (never 406).
  EXPECT_FALSE(om("application/json"));
  EXPECT_FALSE(om("text/plain;q=0, application/openmetrics-text;q=0"));
  EXPECT_FALSE(om("application/openmetrics-text;q=2"));
  EXPECT_FALSE(om("application/openmetrics-text;q=0.5.1"));
  EXPECT_FALSE(om("application/openmetrics-text;q=-1"));
  EXPECT_FALSE(om("application/openmetrics-text;q=1.001"));
  EXPECT_TRUE(om("application/openmetrics-text;q=1.000"));
  EXPECT_EQ(detail::parse_qvalue("0.125"), 125);
  EXPECT_EQ(detail::parse_qvalue("1."), 1000);
  EXPECT_EQ(detail::parse_qvalue("0.1234"), -1);
}

TEST_F(Http, HealthzIs200ForOkAndWarningAnd503Otherwise) {
  EXPECT_EQ(handler_.handle("GET", "/healthz").status, 200);
  reg_.probe("applications.runtime", [] { return Status::Warning; });
  EXPECT_EQ(handler_.handle("GET", "/healthz").status, 200);
  reg_.probe("applications.runtime", [] { return Status::Unknown; });
  EXPECT_EQ(handler_.handle("GET", "/healthz").status, 503);
  reg_.probe("applications.runtime", [] { return Status::Ko; });
  const HttpResponse r = handler_.handle("GET", "/healthz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(nlohmann::json::parse(r.body)["status"], "Ko");
}

TEST_F(Http, BearerTokenGuardsDetailsAndMetrics) {
  HttpOptions o;
  o.bearer_token = "s3cret";
  HttpHandler guarded(reg_, o);
  EXPECT_EQ(guarded.handle("GET", "/serverstatus").status, 200);
  const HttpResponse r = guarded.handle("GET", "/serverstatus?details=true");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer realm=\"statusz\"");
  // RFC 6750 §3.1: no error code without a token; invalid_token with a
  // wrong one, and a different message.
  const HttpResponse wrong = guarded.handle("GET", "/serverstatus?details=true",
                                            {{"Authorization", "Bearer nope"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.header("WWW-Authenticate"),
            "Bearer realm=\"statusz\", error=\"invalid_token\", "
            "error_description=\"the bearer token is not valid\"");
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"],
            "a bearer token is required");
  EXPECT_EQ(nlohmann::json::parse(wrong.body)["error"],
            "the bearer token is not valid");
  for (const char* other : {"Basic czNjcmV0", "Bearer", "Bearers3cret", ""}) {
    const HttpResponse m =
        guarded.handle("GET", "/metrics", {{"Authorization", other}});
    EXPECT_EQ(m.status, 401) << other;
    EXPECT_EQ(m.header("WWW-Authenticate"), "Bearer realm=\"statusz\"")
        << other;
  }
  EXPECT_EQ(guarded.handle("GET", "/metrics").status, 401);
  EXPECT_EQ(
      guarded.handle("GET", "/metrics", {{"Authorization", "Bearer wrong"}})
          .status,
      401);
  EXPECT_EQ(
      guarded.handle("GET", "/metrics", {{"Authorization", "Bearer s3cre"}})
          .status,
      401);
  EXPECT_EQ(
      guarded.handle("GET", "/metrics", {{"authorization", "bearer s3cret"}})
          .status,
      200);
  EXPECT_EQ(guarded
                .handle("GET", "/serverstatus?details=true",
                        {{"Authorization", "Bearer s3cret"}})
                .status,
            200);
  EXPECT_EQ(guarded.handle("GET", "/healthz").status, 200);
}

TEST(HttpDetail, AcceptParsing) {
  EXPECT_TRUE(detail::accepts_openmetrics("application/openmetrics-text"));
  EXPECT_TRUE(detail::accepts_openmetrics(
      " Application/OpenMetrics-Text ; version=1.0.0"));
  EXPECT_FALSE(detail::accepts_openmetrics("text/plain"));
  EXPECT_FALSE(detail::accepts_openmetrics(""));
  EXPECT_FALSE(
      detail::accepts_openmetrics("application/openmetrics-text;q=0.0"));
  EXPECT_FALSE(detail::accepts_openmetrics(",,;;=="));
}

}  // namespace
}  // namespace statusz
