#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <regex>
#include <statusz/prometheus.hpp>
#include <string>
#include <thread>
#include <vector>

#include "exposition_grammar.hpp"
#include "promtool.hpp"
#include "render.hpp"
#include "sample_registry.hpp"

namespace statusz {
namespace {

using namespace std::chrono_literals;

TEST(Prometheus, SnakeCaseNames) {
  EXPECT_EQ(detail::snake_case("applications.servlet.requests.chatHttp"),
            "applications_servlet_requests_chat_http");
  EXPECT_EQ(detail::snake_case("fiveMinuteErrorsRatio"),
            "five_minute_errors_ratio");
  EXPECT_EQ(detail::snake_case("HTTPServer.v2Count"), "http_server_v2_count");
  EXPECT_EQ(detail::snake_case("a-b c..d"), "a_b_c_d");
  EXPECT_EQ(detail::snake_case("caf\xC3\xA9"), "caf");
}

using statusz_test::render;

bool contains(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(Prometheus, MapsEveryKind) {
  ManualClock clock;
  Registry reg({&clock, "app1", "1.2"});
  Meter& m = reg.meter("applications.servlet.requests.chatHttp.successes");
  KeyedCounter& k =
      reg.keyed("applications.servlet.requests.chatHttp.errorsByBot");
  reg.counter("volumes.connectedPeople").set(9);
  reg.gauge("g.half", [] { return 0.5; });
  reg.gauge("g.flag", [] { return true; });
  reg.gauge("g.text", [] { return Value("not a number"); });
  reg.probe("applications.runtime", [] { return Status::Warning; });
  m.mark(12);
  k.inc("bot-1", 3);
  clock.advance(6s);  // Dropwizard ticks only once more than 5 s have passed
  const std::string t = render(reg);
  const std::string chat = "statusz_applications_servlet_requests_chat_http_";
  EXPECT_TRUE(contains(t, "# TYPE " + chat + "successes_total counter\n"));
  EXPECT_TRUE(contains(t, "\n" + chat + "successes_total 12\n"));
  EXPECT_TRUE(contains(t, "# TYPE " + chat + "successes_rate gauge\n"));
  EXPECT_TRUE(contains(t, chat + "successes_rate{window=\"1m\"} 2.4\n"));
  EXPECT_TRUE(contains(t, chat + "successes_rate{window=\"mean\"} 2.0\n"));
  EXPECT_TRUE(contains(t, chat + "errors_by_bot_total{key=\"bot-1\"} 3\n"));
  EXPECT_TRUE(contains(t, chat + "errors_by_bot_dropped_total 0\n"));
  EXPECT_TRUE(contains(t, "# TYPE statusz_volumes_connected_people gauge\n"));
  EXPECT_TRUE(contains(t, "\nstatusz_volumes_connected_people 9\n"));
  EXPECT_TRUE(contains(t, "\nstatusz_g_half 0.5\n"));
  EXPECT_TRUE(contains(t, "\nstatusz_g_flag 1.0\n"));
  EXPECT_FALSE(contains(t, "g_text"));
  EXPECT_TRUE(contains(t,
                       "statusz_probe_status{path=\"applications.runtime\","
                       "status=\"Warning\"} 1\n"));
  EXPECT_TRUE(contains(
      t,
      "statusz_probe_status{path=\"applications.runtime\",status=\"Ok\"} 0\n"));
  EXPECT_TRUE(contains(
      t,
      "statusz_probe_duration_seconds{path=\"applications.runtime\"} 0.0\n"));
  EXPECT_TRUE(contains(t, "statusz_status{status=\"Warning\"} 1\n"));
  EXPECT_TRUE(contains(
      t, "statusz_server_info{host_name=\"app1\",version=\"1.2\"} 1\n"));
  EXPECT_FALSE(contains(t, "# EOF"));
}

TEST(Prometheus, OpenMetricsNamesCounterFamiliesWithoutTotalAndEnds) {
  ManualClock clock;
  Registry reg({&clock, "h", "v"});
  reg.meter("a.b").mark();
  const std::string t = render(reg, ExpositionFormat::OpenMetrics100);
  EXPECT_TRUE(contains(t, "# TYPE statusz_a_b counter\n"));
  EXPECT_TRUE(contains(t, "\nstatusz_a_b_total 1\n"));
  ASSERT_GE(t.size(), 6u);
  EXPECT_EQ(t.substr(t.size() - 6), "# EOF\n");
}

TEST(Prometheus, EscapesLabelValuesAndRepairsUtf8) {
  ManualClock clock;
  Registry reg({&clock, "h", "v\"\\\n"});
  KeyedCounter& k = reg.keyed("k");
  k.inc("q\"b\\n\nl");
  k.inc("bad\xff");
  const std::string t = render(reg);
  EXPECT_TRUE(contains(t, "statusz_k_total{key=\"q\\\"b\\\\n\\nl\"} 1\n"));
  EXPECT_TRUE(contains(t, "statusz_k_total{key=\"bad\xEF\xBF\xBD\"} 1\n"));
  EXPECT_TRUE(contains(t, "version=\"v\\\"\\\\\\n\""));
}

// Plain runs are copied 8 bytes at a time: one byte to escape or repair, at
// every position of values of every length around that block size.
TEST(Prometheus, EscapesAtEveryPositionOfLongValues) {
  struct Case {
    std::string_view in, label, help;
  };
  const Case cases[] = {
      {"\"", "\\\"", "\""},
      {"\\", "\\\\", "\\\\"},
      {"\n", "\\n", "\\n"},
      {"\xff", "\xEF\xBF\xBD", "\xEF\xBF\xBD"},
      {"\xC3\xA9", "\xC3\xA9", "\xC3\xA9"},
      {"\xE2\x82\xAC", "\xE2\x82\xAC", "\xE2\x82\xAC"},
      {"\xE2\x82", "\xEF\xBF\xBD\xEF\xBF\xBD", "\xEF\xBF\xBD\xEF\xBF\xBD"}};
  for (const Case& c : cases) {
    for (std::size_t len = 0; len <= 25; ++len) {
      for (std::size_t at = 0; at <= len; ++at) {
        const std::string before(at, 'a'), after(len - at, 'b');
        const std::string value = before + std::string(c.in) + after;
        std::string label = "x", help = "y";
        detail::append_escaped(label, value, true);
        detail::append_escaped(help, value, false);
        EXPECT_EQ(label, "x" + before + std::string(c.label) + after);
        EXPECT_EQ(help, "y" + before + std::string(c.help) + after);
      }
    }
  }
}

TEST(Prometheus, ReservesTheLastExpositionsSizeAndRendersTheSame) {
  ManualClock clock;
  Registry reg({&clock, "h", "v"});
  for (int i = 0; i < 50; ++i) {
    reg.keyed("k").inc("key" + std::to_string(i));
    reg.meter("m" + std::to_string(i)).mark();
  }
  EXPECT_EQ(reg.exposition_size_hint().load(), 0u);
  const std::string first = to_prometheus(reg);
  EXPECT_EQ(reg.exposition_size_hint().load(), first.size());
  const std::string second = to_prometheus(reg);
  EXPECT_EQ(second, first);
  EXPECT_GE(second.capacity(), first.size() + 256);
}

// The exposition of `reg` by a writer with buffers of its own, none kept.
std::string render_fresh(const Registry& reg, const PrometheusOptions& o) {
  PrometheusWriter w(o, reg.host_name(), reg.version());
  reg.visit(w);
  return w.finish();
}

// Families that clash (renamed), meters (two families a path), a keyed
// counter and a gauge's own family: what the kept buffers must not mix up
// from one rendering to the next.
void register_clashing(Registry& reg, int from, int to) {
  for (int i = from; i < to; ++i) {
    const std::string n = std::to_string(i);
    reg.counter("c" + n + ".bC").set(i);
    reg.counter("c" + n + ".b_c").set(-i);
    reg.meter("m" + n).mark(static_cast<std::uint64_t>(i));
    reg.gauge("m" + n + "_total", [i] { return i; });
    reg.keyed("k" + n).inc("key\"" + n);
  }
}

std::vector<PrometheusOptions> option_sets() {
  std::vector<PrometheusOptions> out(3);
  out[1].format = ExpositionFormat::OpenMetrics100;
  out[1].prefix = "";
  out[2].prefix = "9lives";
  return out;
}

TEST(Prometheus, KeptBuffersRenderAsAFreshWriterWhateverTheOptions) {
  ManualClock clock;
  Registry reg({&clock, "h", "v"});
  EXPECT_EQ(reg.take_scratch(), nullptr);
  register_clashing(reg, 0, 20);
  for (int round = 0; round < 2; ++round) {
    for (const PrometheusOptions& o : option_sets()) {
      const std::string expected = render_fresh(reg, o);
      EXPECT_EQ(to_prometheus(reg, o), expected) << o.prefix;
    }
    register_clashing(reg, 20, 60);  // the next round has more families
  }
  // The last rendering left its buffers with the registry; taken, they are
  // not handed to another rendering until given back.
  std::unique_ptr<Registry::Scratch> kept = reg.take_scratch();
  ASSERT_NE(kept, nullptr);
  EXPECT_NE(dynamic_cast<detail::ExpositionScratch*>(kept.get()), nullptr);
  EXPECT_EQ(reg.take_scratch(), nullptr);
  EXPECT_EQ(to_prometheus(reg), render_fresh(reg, {}));
  reg.give_back_scratch(std::move(kept));
  EXPECT_NE(reg.take_scratch(), nullptr);
}

// Renderings at once each get buffers of their own (the kept ones or
// fresh ones): every text is the fresh writer's, under TSan too.
TEST(Prometheus, TwoThreadsRenderingAtOnceGiveTheSameText) {
  ManualClock clock;
  Registry reg({&clock, "h", "v"});
  register_clashing(reg, 0, 300);
  const std::vector<PrometheusOptions> options = option_sets();
  std::vector<std::string> expected;
  for (const PrometheusOptions& o : options) {
    expected.push_back(render_fresh(reg, o));
  }
  std::atomic<int> wrong{0};
  std::atomic<int> done{0};
  const auto render_loop = [&](std::size_t start) {
    for (std::size_t i = 0; i < 30; ++i) {
      const std::size_t k = (start + i) % options.size();
      if (to_prometheus(reg, options[k]) != expected[k]) ++wrong;
      ++done;
    }
  };
  std::thread a(render_loop, 0);
  std::thread b(render_loop, 1);
  a.join();
  b.join();
  EXPECT_EQ(done.load(), 60);
  EXPECT_EQ(wrong.load(), 0);
}

TEST(Prometheus, CollidingNamesAreToldApart) {
  ManualClock clock;
  Registry reg({&clock, "h", "v"});
  reg.counter("a.bC").set(1);
  reg.counter("a.b_c").set(2);
  reg.meter("x");
  reg.gauge("x_total", [] { return 3; });
  const std::string t = render(reg);
  // Both renamed (test_prometheus_names.cpp pins the hash suffixes).
  EXPECT_FALSE(contains(t, "\nstatusz_a_b_c 1\n"));
  EXPECT_FALSE(contains(t, "\nstatusz_a_b_c 2\n"));
  EXPECT_TRUE(contains(t, "\nstatusz_x_total 0\n"));
  EXPECT_FALSE(contains(t, "\nstatusz_x_total 3\n"));
  EXPECT_TRUE(contains(t, "\nstatusz_a_b_c_")) << t;
  EXPECT_TRUE(contains(t, "\nstatusz_x_total_")) << t;
}

TEST(Prometheus, PrefixIsSanitisedAndMayBeEmpty) {
  ManualClock clock;
  Registry reg({&clock, "h", "v"});
  reg.counter("c").set(1);
  EXPECT_TRUE(contains(render(reg, ExpositionFormat::Text004, "My App"),
                       "\nmy_app_c 1\n"));
  EXPECT_TRUE(contains(render(reg, ExpositionFormat::Text004, ""), "\nc 1\n"));
  // Never a leading '_' (OpenMetrics reserves it) nor a digit.
  EXPECT_TRUE(contains(render(reg, ExpositionFormat::Text004, "9lives"),
                       "\nstatusz_9lives_c 1\n"));
  EXPECT_TRUE(
      contains(render(reg, ExpositionFormat::Text004, "_x"), "\nx_c 1\n"));
}

#ifdef STATUSZ_PROMTOOL
// The real promtool, on the sample server, in both formats (promtool reads
// the text format; "check metrics" lints names, help and types too).
TEST(Prometheus, PassesPromtoolCheckMetrics) {
  const auto sample = testing::load_sample();
  ManualClock clock;
  Registry reg({&clock, "app1", "49.2470 a543dff5"});
  testing::build_sample(reg, sample);
  reg.keyed("applications.servlet.requests.chatHttp.errorsByBot")
      .inc("q\"\\\n");
  clock.advance(1min);
  const auto r =
      statusz_test::promtool_check_metrics(render(reg), "statusz_metrics.txt");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "") << "promtool lint complaints";
}
#endif

// The shared grammar checker (also the fuzzer's) can fail.
TEST(Prometheus, GrammarCheckerRejectsMalformedExpositions) {
  using statusz_test::exposition_error;
  EXPECT_EQ(exposition_error("x 1\n", false), "");
  EXPECT_EQ(exposition_error("x 1\n# EOF\n", true), "");
  EXPECT_NE(exposition_error("x 1", false), "");
  EXPECT_NE(exposition_error("x 1\n", true), "");
  EXPECT_NE(exposition_error("x 1\n# EOF\n", false), "");
  EXPECT_NE(exposition_error("x{a=\"\"\"} 1\n", false), "");
  EXPECT_NE(exposition_error("1x 1\n", false), "");
  EXPECT_NE(exposition_error("# TYPE x summary\n", false), "");
  EXPECT_NE(exposition_error("# HELP x a\\b\n", false), "");
}

// Hostile paths, keys, host name and version, and names that sanitise to
// the same thing: the exposition still follows the grammar, names unique.
TEST(Prometheus, HostileNamesFollowTheGrammar) {
  ManualClock clock;
  Registry reg({&clock, "h\"o\nst\xff", "v\\1"});
  reg.counter("a.b").set(1);
  reg.counter("a_b").set(2);
  reg.meter("a.b_rate");
  reg.counter("a.b_total");
  reg.counter("m_rate");
  reg.meter("m");
  reg.keyed("k\\e\ny").inc("bad\"\\\n\xff", 2);
  reg.counter("9lives").set(9);
  reg.probe("p.x\\y\n", [] { return Status::Ko; });
  for (auto f : {ExpositionFormat::Text004, ExpositionFormat::OpenMetrics100}) {
    for (const char* prefix : {"statusz", "", "9x", "My.Prefix"}) {
      const std::string text = render(reg, f, prefix);
      EXPECT_EQ(statusz_test::exposition_error(
                    text, f == ExpositionFormat::OpenMetrics100),
                "")
          << text;
    }
  }
  const std::string t = render(reg);
  // Clashing families get a hash of their path (test_prometheus_names.cpp):
  // a.b and a_b both; the counter m_rate and the meter m's rate family both.
  const auto renamed = [&t](const std::string& before,
                            const std::string& after) {
    return std::regex_search(
        t, std::regex("\n" + before + "_[0-9a-f]{8}" + after + "\n"));
  };
  EXPECT_FALSE(contains(t, "\nstatusz_a_b 1\n"));
  EXPECT_TRUE(renamed("statusz_a_b", " 1")) << t;
  EXPECT_TRUE(renamed("statusz_a_b", " 2")) << t;
  EXPECT_FALSE(contains(t, "# TYPE statusz_m_rate gauge\n"));
  EXPECT_TRUE(renamed("# TYPE statusz_m_rate", " gauge")) << t;
}

}  // namespace
}  // namespace statusz
