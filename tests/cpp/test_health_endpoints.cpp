// /livez and /readyz (statusz/http.hpp) over Registry::health() and the
// probes' health groups; accepts_gzip(), the Accept-Encoding rule every
// frontend shares.
#include <gtest/gtest.h>

#include <atomic>
#include <statusz/http.hpp>
#include <stdexcept>
#include <string>

namespace statusz {
namespace {

class Health : public ::testing::Test {
 protected:
  Health() : reg_({&clock_, "app1", "1.0"}), handler_(reg_) {}

  // A probe returning `status` with `message`, counting its runs.
  Probe& add(const std::string& path, Status status, std::string message,
             std::vector<std::string> groups, std::atomic<int>* runs) {
    return reg_.probe(
        path,
        [status, message, runs]() -> ProbeResult {
          if (runs != nullptr) ++*runs;
          return {status, message};
        },
        {}, groups);
  }

  ManualClock clock_;
  Registry reg_;
  HttpHandler handler_;
};

TEST_F(Health, EmptyGroupsAreOk) {
  for (const char* target : {"/livez", "/readyz"}) {
    const HttpResponse r = handler_.handle("GET", target);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.body, "ok") << target;
    EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
    EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r.header("Cache-Control"), "no-store");
  }
  EXPECT_EQ(handler_.handle("GET", "/livez?verbose").body,
            "livez check passed\n");
  EXPECT_EQ(handler_.handle("GET", "/readyz?verbose").body,
            "readyz check passed\n");
}

TEST_F(Health, ProbesWithoutGroupsAreReadyOnly) {
  add("applications.db", Status::Ko, "connection refused", {}, nullptr);
  EXPECT_EQ(handler_.handle("GET", "/livez").status, 200);
  const HttpResponse r = handler_.handle("GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  // Always verbose on failure, as Kubernetes.
  EXPECT_EQ(r.body,
            "[-]applications.db failed: connection refused\n"
            "readyz check failed\n");
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
}

TEST_F(Health, AProbeFailingOnlyInLiveAffectsLivezNotReadyz) {
  std::atomic<int> loop_runs{0}, db_runs{0};
  add("loop", Status::Ko, "stuck", {"live"}, &loop_runs);
  add("db", Status::Ok, "", {"ready"}, &db_runs);
  add("cache", Status::Warning, "slow", {"live", "ready"}, nullptr);

  const HttpResponse live = handler_.handle("GET", "/livez?verbose");
  EXPECT_EQ(live.status, 503);
  EXPECT_EQ(live.body,
            "[-]loop failed: stuck\n[+]cache ok\nlivez check failed\n");
  EXPECT_EQ(db_runs, 0);  // not in "live": not run

  const int loop_before = loop_runs;
  const HttpResponse ready = handler_.handle("GET", "/readyz?verbose");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "[+]db ok\n[+]cache ok\nreadyz check passed\n");
  EXPECT_EQ(loop_runs, loop_before);
  EXPECT_EQ(db_runs, 1);
  EXPECT_EQ(handler_.handle("GET", "/readyz").body, "ok");
  // /healthz is unchanged: every probe, whatever its groups.
  EXPECT_EQ(handler_.handle("GET", "/healthz").status, 503);
}

TEST_F(Health, OkAndWarningPassUnknownAndKoFail) {
  Probe* p = &add("a", Status::Ok, "", {}, nullptr);
  EXPECT_EQ(handler_.handle("GET", "/readyz").status, 200);
  add("a", Status::Warning, "w", {}, nullptr);
  EXPECT_EQ(handler_.handle("GET", "/readyz").status, 200);
  add("a", Status::Unknown, "", {}, nullptr);
  HttpResponse r = handler_.handle("GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "[-]a failed: Unknown\nreadyz check failed\n");
  EXPECT_EQ(&add("a", Status::Ko, "", {}, nullptr), p);  // replaced in place
  r = handler_.handle("GET", "/readyz");
  EXPECT_EQ(r.body, "[-]a failed: Ko\nreadyz check failed\n");
  reg_.probe("a", []() -> ProbeResult { throw std::runtime_error("boom"); });
  EXPECT_EQ(handler_.handle("GET", "/readyz").body,
            "[-]a failed: boom\nreadyz check failed\n");
}

TEST_F(Health, MessagesStayOnOneLine) {
  add("a", Status::Ko, "line one\nline two\r\n", {}, nullptr);
  EXPECT_EQ(handler_.handle("GET", "/readyz").body,
            "[-]a failed: line one line two  \nreadyz check failed\n");
}

TEST_F(Health, ExcludedChecksAreNotRun) {
  std::atomic<int> db_runs{0};
  add("db", Status::Ko, "down", {}, &db_runs);
  add("disk", Status::Ok, "", {}, nullptr);
  HttpResponse r = handler_.handle("GET", "/readyz?exclude=db");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  r = handler_.handle("GET", "/readyz?verbose=true&exclude=db");
  EXPECT_EQ(r.body, "[+]db excluded: ok\n[+]disk ok\nreadyz check passed\n");
  EXPECT_EQ(db_runs, 0);
  // Repeatable, percent-decoded.
  r = handler_.handle("GET", "/readyz?exclude=d%62&exclude=disk&verbose");
  EXPECT_EQ(r.body,
            "[+]db excluded: ok\n[+]disk excluded: ok\n"
            "readyz check passed\n");
  EXPECT_EQ(db_runs, 0);
  EXPECT_EQ(handler_.handle("GET", "/readyz").status, 503);
  EXPECT_EQ(db_runs, 1);
}

TEST_F(Health, ExcludingAnUnknownCheckWarnsAsKubernetesDoes) {
  add("db", Status::Ok, "", {}, nullptr);
  add("loop", Status::Ok, "", {"live"}, nullptr);
  // Kubernetes' healthz_test.go: "?exclude=dontexist" is "ok"; with verbose,
  // one warn line naming the unmatched checks, sorted, quoted, joined by ",".
  EXPECT_EQ(handler_.handle("GET", "/readyz?exclude=nope").body, "ok");
  const HttpResponse r = handler_.handle(
      "GET", "/readyz?verbose&exclude=zz&exclude=loop&exclude=zz&exclude=%22q");
  EXPECT_EQ(r.status, 200);
  // "loop" is a check of /livez, not of /readyz.
  EXPECT_EQ(r.body,
            "[+]db ok\n"
            "warn: some health checks cannot be excluded: no matches for "
            "\"\\\"q\",\"loop\",\"zz\"\n"
            "readyz check passed\n");
}

TEST_F(Health, VerboseIsItsPresenceAsInKubernetes) {
  add("db", Status::Ok, "", {}, nullptr);
  for (const char* t : {"/readyz?verbose", "/readyz?verbose=1",
                        "/readyz?verbose=false", "/readyz?verbose&verbose"}) {
    EXPECT_EQ(handler_.handle("GET", t).body, "[+]db ok\nreadyz check passed\n")
        << t;
  }
  EXPECT_EQ(handler_.handle("GET", "/readyz?exclude=%zz").status, 400);
  EXPECT_EQ(handler_.handle("GET", "/readyz?%zz").status, 400);
}

TEST_F(Health, SameRoutingHeadAndMethodsAsTheOtherRoutes) {
  add("db", Status::Ko, "down", {"live", "ready"}, nullptr);
  for (const char* path : {"/livez", "/readyz", "/livez/", "/re%61dyz",
                           "http://host/livez?verbose"}) {
    const HttpResponse get = handler_.handle("GET", path);
    const HttpResponse head = handler_.handle("HEAD", path);
    EXPECT_EQ(get.status, 503) << path;
    EXPECT_EQ(head.status, get.status) << path;
    EXPECT_EQ(head.body, get.body) << path;
    const HttpResponse post = handler_.handle("POST", path);
    EXPECT_EQ(post.status, 405) << path;
    EXPECT_EQ(post.header("Allow"), "GET, HEAD");
  }
  EXPECT_EQ(handler_.handle("GET", "/livezz").status, 404);
  HttpOptions small;
  small.max_target_bytes = HttpHandler::kMinTargetBytes;
  EXPECT_EQ(HttpHandler(reg_, small)
                .handle("GET", "/readyz?exclude=" + std::string(60, 'a'))
                .status,
            414);
}

TEST_F(Health, WithABearerTokenMessagesNeedIt) {
  add("db", Status::Ko, "password rejected for admin", {}, nullptr);
  HttpOptions o;
  o.bearer_token = "s3cret";
  HttpHandler guarded(reg_, o);
  // The status itself is public, as /healthz; the reason is withheld, in
  // Kubernetes' words.
  HttpResponse r = guarded.handle("GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "[-]db failed: reason withheld\nreadyz check failed\n");
  r = guarded.handle("GET", "/readyz", {{"Authorization", "Bearer nope"}});
  EXPECT_EQ(r.body, "[-]db failed: reason withheld\nreadyz check failed\n");
  r = guarded.handle("GET", "/readyz", {{"Authorization", "Bearer s3cret"}});
  EXPECT_EQ(r.body,
            "[-]db failed: password rejected for admin\n"
            "readyz check failed\n");
}

TEST_F(Health, ProbesRunThroughTheWalksRunner) {
  // max_age: the result of /healthz's run is reused by /readyz, as by any
  // walk: both go through Probe::start()/wait().
  std::atomic<int> runs{0};
  ProbeOptions o;
  o.max_age = std::chrono::seconds(10);
  reg_.probe("db",
             [&runs] {
               ++runs;
               return Status::Ok;
             },
             o, {"live", "ready"});
  EXPECT_EQ(handler_.handle("GET", "/healthz").status, 200);
  EXPECT_EQ(handler_.handle("GET", "/readyz").status, 200);
  EXPECT_EQ(handler_.handle("GET", "/livez").status, 200);
  EXPECT_EQ(runs, 1);
  clock_.advance(std::chrono::seconds(11));
  EXPECT_EQ(handler_.handle("GET", "/livez").status, 200);
  EXPECT_EQ(runs, 2);
}

TEST_F(Health, RegistryHealthAndGroupValidation) {
  add("b.second", Status::Ok, "", {"ready", "live"}, nullptr);
  add("a.first", Status::Ko, "x", {"ready"}, nullptr);
  const std::vector<HealthCheck> ready = reg_.health(health::kReady);
  ASSERT_EQ(ready.size(), 2u);
  EXPECT_EQ(ready[0].name, "b.second");  // document (registration) order
  EXPECT_EQ(ready[0].report.status, Status::Ok);
  EXPECT_EQ(ready[1].name, "a.first");
  EXPECT_EQ(ready[1].report.status, Status::Ko);
  EXPECT_EQ(ready[1].report.message, "x");
  const std::vector<HealthCheck> live = reg_.health("live", {"b.second"});
  ASSERT_EQ(live.size(), 1u);
  EXPECT_TRUE(live[0].excluded);
  EXPECT_THROW(reg_.health("startup"), std::invalid_argument);

  // An unknown group name throws and changes nothing.
  EXPECT_THROW(add("c", Status::Ok, "", {"readiness"}, nullptr),
               std::invalid_argument);
  EXPECT_FALSE(reg_.contains("c"));
  EXPECT_THROW(add("a.first", Status::Ok, "", {"Live"}, nullptr),
               std::invalid_argument);
  EXPECT_EQ(reg_.health("ready")[1].report.status, Status::Ko);
  // Registering again moves a probe between groups.
  add("a.first", Status::Ko, "x", {"live"}, nullptr);
  EXPECT_EQ(reg_.health("ready").size(), 1u);
  EXPECT_EQ(reg_.health("live").size(), 2u);
  EXPECT_EQ(handler_.handle("GET", "/readyz").status, 200);
  EXPECT_EQ(handler_.handle("GET", "/livez").status, 503);
}

TEST(AcceptEncoding, GzipByRfc9110Weights) {
  struct Case {
    const char* field;
    bool gzip;
  };
  const Case cases[] = {
      {"", false},
      {"gzip", true},
      {"GZIP", true},
      {"x-gzip", true},
      {"deflate, gzip;q=1.0, *;q=0.5", true},
      {"br;q=1, gzip;q=0.001", true},
      {"gzip;q=0", false},
      {"gzip; q=0.000", false},
      {"*", true},
      {"*;q=0", false},
      {"*, gzip;q=0", false},  // the named coding beats the wildcard
      {"gzip;q=0, *", false},
      {"identity", false},
      {"br, deflate", false},
      {"gzip;q=2", false},  // a malformed weight counts as 0
      {"gzip;q=abc", false},
      {"gzip;level=1", true},  // other parameters do not matter
      {"deflate,,  gzip ", true},
      // identity's own weight (RFC 9110 §12.5.3): the higher weight wins,
      // gzip on a tie; refused identity never makes gzip acceptable.
      {"gzip;q=0.5, identity", false},
      {"gzip;q=0.5, identity;q=0.5", true},
      {"gzip, identity;q=0", true},
      {"identity;q=0", false},
      {"*;q=0.5, gzip;q=0.4", false},  // identity takes *'s 0.5
      {"*;q=0.5, identity;q=0.1", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(detail::accepts_gzip(c.field), c.gzip) << '"' << c.field << '"';
  }
}

}  // namespace
}  // namespace statusz
