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
  const HttpResponse r = handler_.handle("POST", "/serverstatus");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow"), "GET, HEAD");
  EXPECT_EQ(handler_.handle("DELETE", "/metrics").status, 405);
}

TEST_F(Http, OversizedTargetsAre414) {
  const std::string target = "/serverstatus?x=" + std::string(9000, 'a');
  EXPECT_EQ(handler_.handle("GET", target).status, 414);
}

TEST_F(Http, HeadHasNoBody) {
  const HttpResponse r = handler_.handle("HEAD", "/serverstatus");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
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
