// Timers and histograms in the one walk's two renderers: the document and the
// Prometheus / OpenMetrics exposition.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <statusz/prometheus.hpp>
#include <string>
#include <vector>

#include "exposition_grammar.hpp"
#include "promtool.hpp"
#include "render.hpp"

namespace statusz {
namespace {

using namespace std::chrono_literals;

using statusz_test::render;

// name_bucket{le="..."} lines of `family`: le text -> count.
std::vector<std::pair<std::string, std::uint64_t>> buckets_of(
    const std::string& text, const std::string& family) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  const std::regex re("^" + family + R"re(_bucket\{le="([^"]+)"\} (\d+)$)re");
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t eol = text.find('\n', start);
    const std::string line = text.substr(start, eol - start);
    std::smatch m;
    if (std::regex_match(line, m, re)) {
      out.emplace_back(m[1], std::stoull(m[2]));
    }
    start = eol + 1;
  }
  return out;
}

std::uint64_t model_at_most(const std::vector<std::uint64_t>& sorted,
                            std::uint64_t le) {
  return static_cast<std::uint64_t>(
      std::upper_bound(sorted.begin(), sorted.end(), le) - sorted.begin());
}

TEST(TimerRendering, BoundsAreWrittenAsPrometheusClientCanonicalForm) {
  const auto text = [](double d) {
    std::string s;
    detail::append_bound(s, d);
    return s;
  };
  // The strings prometheus_client's floatToGoString() gives.
  EXPECT_EQ(text(0.0001), "0.0001");
  EXPECT_EQ(text(1e-05), "1e-05");
  EXPECT_EQ(text(5.11e-07), "5.11e-07");
  EXPECT_EQ(text(0.001007615), "0.001007615");
  EXPECT_EQ(text(1.0), "1.0");
  EXPECT_EQ(text(60.0), "60.0");
  EXPECT_EQ(text(0.0), "0.0");
  EXPECT_EQ(text(127.0), "127.0");
  EXPECT_EQ(text(100000.0), "100000.0");
  EXPECT_EQ(text(1000000.0), "1e+06");
  EXPECT_EQ(text(1234567.0), "1.234567e+06");
  EXPECT_EQ(text(1e16), "1e+16");
  EXPECT_EQ(text(18446744073709551615.0), "1.8446744073709552e+19");
  EXPECT_EQ(text(std::numeric_limits<double>::infinity()), "+Inf");
}

TEST(TimerRendering, TimerBucketsAreExactInternalBoundaries) {
  ManualClock clock;
  Registry reg({&clock, "h", "1"});
  Timer& t = reg.timer("app.requests.latency");
  std::vector<std::uint64_t> model;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; ++i) {
    const auto ns = static_cast<std::uint64_t>(
        std::lognormal_distribution<double>(14.0, 2.5)(rng));
    t.update(Nanos(static_cast<std::int64_t>(ns)));
    model.push_back(ns);
  }
  std::sort(model.begin(), model.end());
  const std::string text = render(reg);
  const std::string fam = "statusz_app_requests_latency_seconds";
  EXPECT_NE(text.find("# TYPE " + fam + " histogram\n"), std::string::npos);
  const auto b = buckets_of(text, fam);
  ASSERT_EQ(b.size(), PrometheusOptions{}.timer_bounds_seconds.size() + 1);
  std::uint64_t previous = 0;
  for (std::size_t i = 0; i + 1 < b.size(); ++i) {
    const double le = std::stod(b[i].first);
    const auto ns = static_cast<std::uint64_t>(std::llround(le * 1e9));
    // A real internal boundary, at or above the requested bound.
    EXPECT_EQ(Histogram::bucket_upper(Histogram::bucket_index(ns)), ns);
    EXPECT_GE(le, PrometheusOptions{}.timer_bounds_seconds[i]);
    EXPECT_LE(le, PrometheusOptions{}.timer_bounds_seconds[i] * (1 + 1.0 / 64));
    EXPECT_EQ(b[i].second, model_at_most(model, ns)) << b[i].first;
    EXPECT_GE(b[i].second, previous);  // cumulative
    previous = b[i].second;
  }
  EXPECT_EQ(b.back().first, "+Inf");
  EXPECT_EQ(b.back().second, model.size());
  EXPECT_NE(text.find("\n" + fam + "_count 20000\n"), std::string::npos);
  std::uint64_t sum = 0;
  for (auto v : model) sum += v;
  std::string sum_line = fam + "_sum ";
  detail::append_json_double(sum_line, static_cast<double>(sum) / 1e9);
  EXPECT_NE(text.find("\n" + sum_line + "\n"), std::string::npos) << sum_line;
  EXPECT_NE(text.find("# TYPE statusz_app_requests_latency_rate gauge\n"),
            std::string::npos);
  EXPECT_EQ(statusz_test::exposition_error(text, false), "");
  EXPECT_EQ(statusz_test::exposition_error(
                render(reg, ExpositionFormat::OpenMetrics100), true),
            "");
}

TEST(TimerRendering, UserBoundsSnapUpToInternalBoundaries) {
  ManualClock clock;
  Registry reg({&clock, "h", "1"});
  Timer& t = reg.timer("t");
  t.update(1ms);
  t.update(Nanos(1'007'615));
  t.update(Nanos(1'007'616));
  PrometheusOptions o;
  o.timer_bounds_seconds = {0.001, 0.0010001, -1, 0.002};
  const auto b = buckets_of(render(reg, ExpositionFormat::Text004, o),
                            "statusz_t_seconds");
  ASSERT_EQ(b.size(), 3u);  // 0.001 and 0.0010001 share a bucket
  EXPECT_EQ(b[0].first, "0.001007615");
  EXPECT_EQ(b[0].second, 2u);
  EXPECT_EQ(b[1].first, "0.002015231");
  EXPECT_EQ(b[1].second, 3u);
}

TEST(TimerRendering, HistogramPowerOfTwoBoundsMatchModel) {
  ManualClock clock;
  Registry reg({&clock, "h", "1"});
  Histogram& h = reg.histogram("queue.depth");
  std::vector<std::uint64_t> model;
  std::mt19937_64 rng(9);
  for (int i = 0; i < 5000; ++i) {
    const std::uint64_t v = rng() % 3000;
    h.update(v);
    model.push_back(v);
  }
  std::sort(model.begin(), model.end());
  const std::string text = render(reg);
  const auto b = buckets_of(text, "statusz_queue_depth");
  ASSERT_EQ(b.size(), 14u);  // 0, 1, 3, ..., 4095, +Inf
  for (std::size_t k = 0; k + 1 < b.size(); ++k) {
    const std::uint64_t le = (std::uint64_t{1} << k) - 1;
    EXPECT_EQ(std::stod(b[k].first), static_cast<double>(le));
    EXPECT_EQ(b[k].second, model_at_most(model, le));
  }
  EXPECT_EQ(b.back().second, 5000u);
  PrometheusOptions o;
  o.histogram_bounds = {100, 1000};
  const auto user = buckets_of(render(reg, ExpositionFormat::Text004, o),
                               "statusz_queue_depth");
  ASSERT_EQ(user.size(), 3u);
  EXPECT_EQ(user[0].first, "100.0");  // below 128: exact
  EXPECT_EQ(user[0].second, model_at_most(model, 100));
  EXPECT_EQ(user[1].first, "1007.0");  // [1000, 1007] is one bucket
  EXPECT_EQ(user[1].second, model_at_most(model, 1007));
}

TEST(TimerRendering, FamilyNamesNeverClash) {
  ManualClock clock;
  Registry reg({&clock, "h", "1"});
  reg.timer("a.b").update(1ms);
  reg.meter("a.bSeconds.count").mark();     // a_b_seconds_count_total
  reg.counter("a.bSeconds.bucket").set(1);  // a_b_seconds_bucket
  reg.histogram("a.bRate").update(3);       // a_b_rate: the timer's rate family
  reg.gauge("a.b_seconds_sum", [] { return 1; });
  for (auto f : {ExpositionFormat::Text004, ExpositionFormat::OpenMetrics100}) {
    const std::string text = render(reg, f);
    EXPECT_EQ(statusz_test::exposition_error(
                  text, f == ExpositionFormat::OpenMetrics100),
              "");
    // Every family name is distinct from every other's sample names.
    std::vector<std::string> families;
    const std::regex type_re(R"(# TYPE (\S+) (\S+))");
    for (std::sregex_iterator it(text.begin(), text.end(), type_re), end;
         it != end; ++it) {
      families.push_back((*it)[1]);
    }
    for (const auto& x : families) {
      for (const auto& y : families) {
        for (const char* s :
             {"", "_bucket", "_sum", "_count", "_total", "_created"}) {
          if (&x != &y) {
            EXPECT_NE(x + s, y) << text;
          }
        }
      }
    }
    EXPECT_NE(text.find("statusz_a_b_seconds_bucket{le=\"+Inf\"} 1\n"),
              std::string::npos)
        << text;
  }
}

#ifdef STATUSZ_PROMTOOL
TEST(TimerRendering, PassesPromtoolCheckMetrics) {
  ManualClock clock;
  Registry reg({&clock, "h", "1"});
  Timer& t = reg.timer("app.latency");
  Histogram& h = reg.histogram("app.sizeBytes");
  for (int i = 0; i < 1000; ++i) {
    t.update(Nanos(i * 100000));
    h.update(static_cast<std::uint64_t>(i) * 37);
  }
  reg.histogram("app.empty");
  clock.advance(1min);
  const auto r = statusz_test::promtool_check_metrics(
      render(reg), "statusz_timer_metrics.txt");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "") << "promtool lint complaints";
}
#endif

TEST(TimerRendering, DocumentShowsTimerAndHistogramOverTheWindow) {
  ManualClock clock;
  Registry reg({&clock, "h", "1"});
  reg.probe("app", [] { return Status::Ok; });
  Timer& t = reg.timer("app.latency");
  Histogram& h = reg.histogram("app.sizes");
  for (int i = 1; i <= 100; ++i) {
    t.update(Nanos(i * 1'000'000));  // 1..100 ms
    h.update(static_cast<std::uint64_t>(i));
  }
  clock.advance(6s);
  auto doc = nlohmann::ordered_json::parse(reg.to_json());
  const auto& timer = doc["app"]["latency"];
  std::vector<std::string> keys;
  for (const auto& [k, v] : timer.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"fiveMinuteRate", "oneMinuteRate",
                                            "fifteenMinuteRate", "count",
                                            "meanRate", "durationMs"}));
  EXPECT_EQ(timer["count"], 100);
  EXPECT_DOUBLE_EQ(timer["oneMinuteRate"].get<double>(), 20.0);
  const auto& d = timer["durationMs"];
  keys.clear();
  for (const auto& [k, v] : d.items()) keys.push_back(k);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"min", "mean", "max", "stddev", "p50",
                                      "p75", "p95", "p98", "p99", "p999"}));
  EXPECT_DOUBLE_EQ(d["mean"].get<double>(), 50.5);
  EXPECT_NEAR(d["p50"].get<double>(), 50.0, 50.0 / 128);
  EXPECT_NEAR(d["p99"].get<double>(), 99.0, 99.0 / 128);
  EXPECT_NEAR(d["min"].get<double>(), 1.0, 1.0 / 128);
  EXPECT_NEAR(d["max"].get<double>(), 100.0, 100.0 / 128);
  EXPECT_NEAR(d["stddev"].get<double>(), 28.866, 100.0 / 128);
  EXPECT_TRUE(d["p999"].is_number_float());
  const auto& hist = doc["app"]["sizes"];
  EXPECT_EQ(hist["count"], 100);
  EXPECT_EQ(hist["sum"], 5050);
  EXPECT_DOUBLE_EQ(hist["p50"].get<double>(), 50.0);  // below 128: exact
  EXPECT_DOUBLE_EQ(hist["max"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(hist["p999"].get<double>(), 100.0);
  // Without details, neither appears (as meters do not).
  auto summary = nlohmann::ordered_json::parse(reg.to_json(false));
  EXPECT_FALSE(summary["app"].contains("latency"));
  EXPECT_FALSE(summary["app"].contains("sizes"));
  // Idle beyond the window: an empty window, zeros; the count stays.
  clock.advance(61s);
  doc = nlohmann::ordered_json::parse(reg.to_json());
  EXPECT_EQ(doc["app"]["latency"]["count"], 100);
  EXPECT_EQ(doc["app"]["latency"]["durationMs"]["p99"], 0.0);
  EXPECT_EQ(doc["app"]["sizes"]["p50"], 0.0);
}

// Durations below 128 ns are exact, and so are their milliseconds as
// written: divided by 1e6, not multiplied by 1e-6 (once 9.999999999999999e-05).
TEST(TimerRendering, ExactDurationsAreWrittenAsTheirMilliseconds) {
  ManualClock clock;
  Registry reg({&clock, "h", "1"});
  Timer& t = reg.timer("app.latency");
  t.update(Nanos(100));
  t.update(Nanos(3));
  const auto d =
      nlohmann::json::parse(reg.to_json())["app"]["latency"]["durationMs"];
  // The doubles nearest 3e-6 and 1e-4, exactly (a division is rounded once).
  EXPECT_EQ(d["min"].get<double>(), 3e-6);
  EXPECT_EQ(d["max"].get<double>(), 1e-4);
}

TEST(TimerRendering, VisitShowsTimersAndHistogramsInOrder) {
  ManualClock clock;
  Registry reg({&clock, "h", "1"});
  reg.timer("x.t").update(5ms);
  reg.histogram("x.h").update(7);
  struct Recorder : RegistryVisitor {
    std::vector<std::string> seen;
    void timer(const NodeView& n, const TimerSnapshot& s) override {
      seen.push_back("timer " + std::string(n.path) + " " +
                     std::to_string(s.count) + " " + std::to_string(s.max));
    }
    void histogram(const NodeView& n, const HistogramSnapshot& s) override {
      seen.push_back("histogram " + std::string(n.path) + " " +
                     std::to_string(s.sum));
    }
  } r;
  reg.visit(r);
  EXPECT_EQ(r.seen, (std::vector<std::string>{"timer x.t 1 5000000",
                                              "histogram x.h 7"}));
}

}  // namespace
}  // namespace statusz
