// The exposition's family naming rule (detail/prometheus_names.hpp): clashes
// with another family's name or sample names are renamed with a stable hash
// of the path, whatever the registration order; names start with a letter.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <statusz/prometheus.hpp>
#include <string>
#include <vector>

#include "render.hpp"

namespace statusz {
namespace {

using Register = void (*)(Registry&);

using statusz_test::render;

// Family name -> type, from "# TYPE" lines.
std::map<std::string, std::string> families(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::istringstream l(line.substr(7));
    std::string name, type;
    l >> name >> type;
    EXPECT_TRUE(out.emplace(name, type).second) << "two families " << name;
  }
  return out;
}

const std::vector<std::string> kSuffixes = {"_total",  "_created", "_count",
                                            "_sum",    "_bucket",  "_info",
                                            "_gcount", "_gsum"};

// OpenMetrics: no family name is another family's name plus a reserved
// suffix (what prometheus_client's parser rejects, and more), and every name
// is valid and starts with a letter.
void expect_no_clash(const std::string& om) {
  const auto f = families(om);
  for (const auto& [name, type] : f) {
    ASSERT_FALSE(name.empty());
    EXPECT_TRUE(name[0] >= 'a' && name[0] <= 'z') << name;
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_"),
              std::string::npos)
        << name;
    for (const std::string& s : kSuffixes) {
      EXPECT_EQ(f.count(name + s), 0u)
          << name << " (" << type << ") and " << name + s;
    }
  }
}

// Sample lines only, sorted: the same set whatever the registration order.
std::vector<std::string> sorted_samples(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Registers in one order and in the reverse one; both outputs are checked and
// must name every series the same.
std::string both_orders(const std::vector<Register>& steps) {
  std::string first;
  for (int reverse = 0; reverse < 2; ++reverse) {
    ManualClock clock;
    Registry reg({&clock, "h", "v"});
    if (reverse == 0) {
      for (Register r : steps) r(reg);
    } else {
      for (auto it = steps.rbegin(); it != steps.rend(); ++it) (*it)(reg);
    }
    const std::string om = render(reg, ExpositionFormat::OpenMetrics100);
    expect_no_clash(om);
    expect_no_clash(render(reg, ExpositionFormat::Text004));
    if (reverse == 0) {
      first = om;
    } else {
      EXPECT_EQ(sorted_samples(om), sorted_samples(first));
    }
  }
  return first;
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

// FNV-1a 64 of `key`, low 32 bits in hex.
std::string fnv_hex(const std::string& key) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : key) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x",
                static_cast<unsigned>(h & 0xffffffffu));
  return hex;
}

TEST(PrometheusNames, IssueExampleMeterAndCounterCreated) {
  // A meter at jobs (counter statusz_jobs: samples _total, _created) and a
  // counter at jobsCreated: the longer name is renamed, in either order.
  const std::string om =
      both_orders({[](Registry& r) { r.meter("jobs").mark(3); },
                   [](Registry& r) { r.counter("jobsCreated").set(7); }});
  EXPECT_TRUE(has_line(om, "# TYPE statusz_jobs counter"));
  EXPECT_TRUE(has_line(om, "statusz_jobs_total 3"));
  EXPECT_FALSE(has_line(om, "# TYPE statusz_jobs_created gauge"));
  const detail::PrometheusNames n("statusz");
  EXPECT_EQ(n.plain_name("jobsCreated"), "statusz_jobs_created");
  EXPECT_TRUE(has_line(
      om, "# TYPE statusz_jobs_created_" +
              fnv_hex("jobsCreated\nstatusz counter jobsCreated") + " gauge"))
      << om;
}

TEST(PrometheusNames, EveryReservedSuffixBothOrdersAllKinds) {
  for (const std::string& s : kSuffixes) {
    SCOPED_TRACE(s);
    static std::string path;  // read by the captureless lambdas below
    path = "x" + s;           // x_total, ...
    both_orders({[](Registry& r) { r.meter("x").mark(); },
                 [](Registry& r) { r.counter(path).set(1); }});
    both_orders({[](Registry& r) { r.counter("x").set(1); },
                 [](Registry& r) { r.meter(path).mark(); }});
    both_orders({[](Registry& r) { r.keyed("x").inc("k"); },
                 [](Registry& r) { r.keyed(path).inc("k"); }});
    both_orders({[](Registry& r) { r.gauge("x", [] { return 1.5; }); },
                 [](Registry& r) { r.gauge(path, [] { return 2; }); }});
    // camelCase: xTotal, xCreated, ...
    path =
        "x" + std::string(1, static_cast<char>(s[1] - 'a' + 'A')) + s.substr(2);
    both_orders({[](Registry& r) { r.meter("x").mark(); },
                 [](Registry& r) { r.counter(path).set(1); }});
  }
}

TEST(PrometheusNames, PathsThatSanitiseAlikeGetHashesOfTheirPaths) {
  const std::string om =
      both_orders({[](Registry& r) { r.counter("a.bC").set(1); },
                   [](Registry& r) { r.counter("a.b_c").set(2); },
                   [](Registry& r) { r.counter("a.b.c").set(3); }});
  const auto f = families(om);
  int hashed = 0;
  for (const auto& [name, type] : f) {
    if (name.rfind("statusz_a_b_c_", 0) == 0) {
      EXPECT_EQ(name.size(), std::string("statusz_a_b_c_").size() + 8) << name;
      ++hashed;
    }
  }
  EXPECT_EQ(hashed, 3);
  EXPECT_EQ(f.count("statusz_a_b_c"), 0u) << "no path keeps the plain name";
}

TEST(PrometheusNames, HashSuffixIsStableAcrossVersions) {
  // Pinned: FNV-1a 64 of "<path>\n<HELP text>", low 32 bits in hex.
  // Changing it renames users' series.
  ManualClock clock;
  Registry reg({&clock, "h", "v"});
  reg.counter("a.bC").set(1);
  reg.counter("a.b_c").set(2);
  reg.meter("m").mark(4);
  reg.counter("mTotal").set(5);
  const std::string t = render(reg, ExpositionFormat::Text004);
  const std::string a =
      "statusz_a_b_c_" + fnv_hex("a.bC\nstatusz counter a.bC");
  const std::string b =
      "statusz_a_b_c_" + fnv_hex("a.b_c\nstatusz counter a.b_c");
  EXPECT_NE(a, b);
  EXPECT_TRUE(has_line(t, "# TYPE " + a + " gauge")) << t;
  EXPECT_TRUE(has_line(t, a + " 1")) << t;
  EXPECT_TRUE(has_line(t, b + " 2")) << t;
  const std::string m =
      "statusz_m_total_" + fnv_hex("mTotal\nstatusz counter mTotal");
  EXPECT_TRUE(has_line(t, "statusz_m_total 4")) << t;
  EXPECT_TRUE(has_line(t, m + " 5")) << t;
}

TEST(PrometheusNames, RenamedCountersKeepTheirSuffixesInBothFormats) {
  // Keyed counters at x and x_total: the latter's families are renamed, the
  // hash goes before the sample suffix, and every line of them is renamed.
  ManualClock clock;
  Registry reg({&clock, "h", "v"});
  reg.keyed("x").inc("k");
  reg.keyed("x_total").inc("k", 2);
  reg.keyed("x_total").inc("j", 3);
  const std::string n =
      "statusz_x_total_" +
      fnv_hex("x_total\nstatusz keyed counter x_total: count by key");
  const std::string text = render(reg, ExpositionFormat::Text004);
  EXPECT_TRUE(has_line(text, "# TYPE " + n + "_total counter")) << text;
  EXPECT_TRUE(has_line(text, "# HELP " + n +
                                 "_total statusz keyed counter x_total: "
                                 "count by key"))
      << text;
  EXPECT_TRUE(has_line(text, n + "_total{key=\"k\"} 2")) << text;
  EXPECT_TRUE(has_line(text, n + "_total{key=\"j\"} 3")) << text;
  EXPECT_TRUE(has_line(text, "statusz_x_total{key=\"k\"} 1")) << text;
  const std::string om = render(reg, ExpositionFormat::OpenMetrics100);
  EXPECT_TRUE(has_line(om, "# TYPE " + n + " counter")) << om;
  EXPECT_TRUE(has_line(om, n + "_total{key=\"j\"} 3")) << om;
  EXPECT_TRUE(has_line(om, "# EOF")) << om;
  // The dropped family x_total_dropped meets nothing: it keeps its name.
  EXPECT_TRUE(has_line(om, "statusz_x_total_dropped_total 0")) << om;
}

TEST(PrometheusNames, ProbesRunOnceAndNamesComeFromOneWalk) {
  ManualClock clock;
  Registry reg({&clock, "h", "v"});
  int runs = 0;
  reg.probe("app", [&runs] {
    ++runs;
    return Status::Ok;
  });
  reg.counter("a.bC").set(1);
  reg.counter("a.b_c").set(2);
  const std::string t = render(reg, ExpositionFormat::Text004);
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(has_line(t, "statusz_probe_status{path=\"app\",status=\"Ok\"} 1"))
      << t;
}

TEST(PrometheusNames, DerivedAndFixedFamiliesAreNeverShared) {
  // A counter at jobsRate meets the meter's jobs_rate family; a counter at
  // bots_dropped meets the keyed counter's; paths meet statusz's own
  // families (status, server_info, probe_status), which keep their names.
  const std::string om = both_orders({
      [](Registry& r) { r.meter("jobs").mark(); },
      [](Registry& r) { r.counter("jobsRate").set(1); },
      [](Registry& r) { r.keyed("bots").inc("k"); },
      [](Registry& r) { r.counter("bots_dropped").set(1); },
      [](Registry& r) { r.counter("Status").set(1); },
      [](Registry& r) { r.counter("server").set(1); },
      [](Registry& r) { r.counter("probe_status_count").set(1); },
      [](Registry& r) { r.probe("app", [] { return Status::Ok; }); },
  });
  const auto f = families(om);
  EXPECT_EQ(f.at("statusz_status"), "gauge");
  EXPECT_EQ(f.at("statusz_server_info"), "gauge");
  EXPECT_EQ(f.at("statusz_probe_status"), "gauge");
  EXPECT_EQ(f.count("statusz_server"), 0u);
  EXPECT_EQ(f.count("statusz_jobs_rate"), 0u);
  EXPECT_TRUE(has_line(om, "statusz_status{status=\"Ok\"} 1"));
}

TEST(PrometheusNames, NamesStartWithALetterWhateverThePrefixAndPath) {
  const detail::PrometheusNames empty("");
  EXPECT_EQ(empty.plain_name("1x"), "statusz_1x");
  EXPECT_EQ(empty.plain_name("_x"), "x");
  EXPECT_EQ(empty.plain_name(""), "statusz");
  EXPECT_EQ(empty.plain_name("caf\xC3\xA9.x"), "caf_x");
  EXPECT_EQ(detail::PrometheusNames("9lives").plain_name("c"),
            "statusz_9lives_c");
  EXPECT_EQ(detail::PrometheusNames("__").plain_name("c"), "c");
  EXPECT_EQ(detail::PrometheusNames("-").plain_name("7"), "statusz_7");
  // Random prefixes and paths: always a valid, clash-free exposition.
  std::mt19937 rng(7);
  const std::string alphabet = "aB9_.-x \xC3\xA9";
  const auto word = [&](std::size_t max) {
    std::string w;
    const std::size_t n =
        std::uniform_int_distribution<std::size_t>(0, max)(rng);
    for (std::size_t i = 0; i < n; ++i) {
      w.push_back(alphabet[std::uniform_int_distribution<std::size_t>(
          0, alphabet.size() - 1)(rng)]);
    }
    return w;
  };
  for (int round = 0; round < 200; ++round) {
    ManualClock clock;
    Registry reg({&clock, "h", "v"});
    for (int i = 0; i < 6; ++i) {
      std::string path = word(5) + "x";  // segments must not be empty
      if (!detail::is_valid_utf8(path) ||
          path.find("..") != std::string::npos || path.front() == '.' ||
          reg.contains(path)) {
        continue;
      }
      try {
        switch (i % 3) {
          case 0:
            reg.meter(path).mark();
            break;
          case 1:
            reg.counter(path).set(i);
            break;
          default:
            reg.keyed(path).inc("k");
            break;
        }
      } catch (const std::invalid_argument&) {
        // a group in the way, or the document's own names
      }
    }
    const std::string prefix = word(4);
    PrometheusOptions o;
    o.prefix = prefix;
    o.format = ExpositionFormat::OpenMetrics100;
    expect_no_clash(to_prometheus(reg, o));
  }
}

}  // namespace
}  // namespace statusz
