#include <gtest/gtest.h>

#include <cmath>
#include <future>
#include <nlohmann/json.hpp>
#include <statusz/registry.hpp>

#include "sample_registry.hpp"

namespace statusz {
namespace {

using namespace std::chrono_literals;
using nlohmann::ordered_json;

RegistryOptions options(ManualClock& clock) {
  RegistryOptions o;
  o.clock = &clock;
  o.host_name = "app1.earth.doyoudreamup.com";
  o.version = "49.2470 a543dff5";
  return o;
}

// Same members, in the same order, at every level; leaves of the same JSON
// type (any number matches any number).
void expect_same_shape(const ordered_json& actual, const ordered_json& expected,
                       const std::string& where) {
  if (expected.is_object()) {
    ASSERT_TRUE(actual.is_object()) << where;
    std::vector<std::string> a, e;
    for (const auto& item : actual.items()) a.push_back(item.key());
    for (const auto& item : expected.items()) e.push_back(item.key());
    ASSERT_EQ(a, e) << "members of " << where;
    for (const auto& item : expected.items()) {
      expect_same_shape(actual[item.key()], item.value(),
                        where + "." + item.key());
    }
  } else if (expected.is_number()) {
    EXPECT_TRUE(actual.is_number()) << where;
  } else {
    EXPECT_EQ(actual.type(), expected.type()) << where;
  }
}

TEST(Registry, ReproducesTheSampleDocument) {
  const ordered_json sample = testing::load_sample();
  ManualClock clock(std::chrono::system_clock::time_point(1553622049s));
  Registry reg(options(clock));
  testing::build_sample(reg, sample);
  for (bool pretty : {false, true}) {
    const ordered_json doc = ordered_json::parse(reg.to_json(true, pretty));
    expect_same_shape(doc, sample, "document");
    EXPECT_EQ(doc["volumes"], sample["volumes"]);
    EXPECT_EQ(doc["date"], "2019-03-26 17:40:49");
    EXPECT_EQ(doc["hostName"], sample["hostName"]);
    EXPECT_EQ(doc["version"], sample["version"]);
    EXPECT_EQ(doc["status"], "Ok");
    EXPECT_EQ(doc["withDetails"], true);
    const auto& chat = doc["applications"]["servlet"]["requests"]["chatHttp"];
    const auto& sample_chat =
        sample["applications"]["servlet"]["requests"]["chatHttp"];
    EXPECT_EQ(chat["errorsByBot"], sample_chat["errorsByBot"]);
    for (const char* m : {"successes", "errors", "ignored"}) {
      EXPECT_EQ(chat[m]["count"], sample_chat[m]["count"]) << m;
      EXPECT_TRUE(chat[m]["count"].is_number_integer()) << m;
      EXPECT_TRUE(chat[m]["meanRate"].is_number_float()) << m;
    }
    EXPECT_TRUE(doc["durationMs"].is_number_integer());
    EXPECT_EQ(doc["applications"]["website"]["customs"]["sessions"], 16);
  }
}

TEST(Registry, SummaryHasStatusesOnly) {
  const ordered_json sample = testing::load_sample();
  ManualClock clock;
  Registry reg(options(clock));
  testing::build_sample(reg, sample);
  const ordered_json doc = ordered_json::parse(reg.to_json(false));
  std::vector<std::string> keys;
  for (const auto& item : doc.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"withDetails", "applications",
                                            "status", "hostName", "date",
                                            "version", "durationMs"}));
  EXPECT_EQ(doc["withDetails"], false);
  ASSERT_EQ(doc["applications"].size(), 9u);
  for (const auto& [app, body] : doc["applications"].items()) {
    EXPECT_EQ(body, ordered_json({{"status", "Ok"}})) << app;
  }
}

TEST(Registry, ServerStatusIsTheWorstProbe) {
  ManualClock clock;
  Registry reg(options(clock));
  EXPECT_EQ(reg.status(), Status::Ok) << "Ok without probes";
  reg.probe("applications.a", [] { return Status::Ok; });
  reg.probe("applications.b", [] { return Status::Warning; });
  EXPECT_EQ(reg.status(), Status::Warning);
  reg.probe("applications.c",
            []() -> ProbeResult { throw std::runtime_error("no db"); });
  const Value doc = reg.snapshot(true);
  EXPECT_EQ(doc.at("status").as_string(), "Ko");
  const Value& c = doc.at("applications").at("c");
  EXPECT_EQ(c.at("status").as_string(), "Ko");
  EXPECT_EQ(c.at("message").as_string(), "no db");
  EXPECT_EQ(doc.at("applications").at("a").find("message"), nullptr);
}

TEST(Registry, AHungProbeMakesTheDocumentUnknownWithinItsTimeout) {
  ManualClock clock;
  Registry reg(options(clock));
  auto release = std::make_shared<std::promise<void>>();
  std::shared_future<void> gate = release->get_future().share();
  reg.probe("applications.ok", [] { return Status::Ok; });
  reg.probe(
      "applications.hung",
      [gate] {
        gate.wait();
        return Status::Ok;
      },
      ProbeOptions{2s, Nanos(0)});
  auto doc = std::async(std::launch::async, [&] { return reg.snapshot(true); });
  clock.await_waiters(1);
  clock.advance(2s);
  const Value d = doc.get();
  EXPECT_EQ(d.at("status").as_string(), "Unknown");
  EXPECT_EQ(d.at("applications").at("hung").at("status").as_string(),
            "Unknown");
  EXPECT_EQ(d.at("applications").at("hung").at("durationMs").as_int(), 2000);
  EXPECT_EQ(d.at("applications").at("ok").at("status").as_string(), "Ok");
  release->set_value();
}

TEST(Registry, GetOrCreateReturnsTheSameObject) {
  ManualClock clock;
  Registry reg(options(clock));
  Meter& a = reg.meter("x.y");
  Meter& b = reg.meter("x.y");
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&reg.counter("x.c"), &reg.counter("x.c"));
  EXPECT_EQ(&reg.keyed("x.k"), &reg.keyed("x.k"));
  EXPECT_TRUE(reg.contains("x.y"));
  EXPECT_FALSE(reg.contains("x.z"));
  EXPECT_EQ(reg.kind("x"), Kind::Group);
  EXPECT_EQ(reg.kind("x.k"), Kind::KeyedCounter);
  EXPECT_THROW(reg.kind("nope"), std::out_of_range);
}

TEST(Registry, AnotherKindAtAPathIsAnErrorNamingPathAndKinds) {
  ManualClock clock;
  Registry reg(options(clock));
  reg.meter("applications.servlet.requests.chatHttp.successes");
  try {
    reg.counter("applications.servlet.requests.chatHttp.successes");
    FAIL() << "expected KindError";
  } catch (const KindError& e) {
    EXPECT_EQ(e.path(), "applications.servlet.requests.chatHttp.successes");
    EXPECT_EQ(e.existing(), Kind::Meter);
    EXPECT_EQ(e.requested(), Kind::Counter);
    const std::string what = e.what();
    EXPECT_NE(what.find("'applications.servlet.requests.chatHttp.successes'"),
              std::string::npos);
    EXPECT_NE(what.find("meter"), std::string::npos);
    EXPECT_NE(what.find("counter"), std::string::npos);
  }
  // A leaf cannot become a group, nor a group a leaf.
  EXPECT_THROW(
      reg.counter("applications.servlet.requests.chatHttp.successes.x"),
      KindError);
  EXPECT_THROW(reg.meter("applications.servlet"), KindError);
  EXPECT_THROW(reg.probe("applications.servlet.requests.chatHttp.successes",
                         [] { return Status::Ok; }),
               KindError);
}

TEST(Registry, RejectsMalformedPathsAndReservedNames) {
  ManualClock clock;
  Registry reg(options(clock));
  for (const char* bad : {"", ".", "a.", ".a", "a..b", "bad\xff"}) {
    EXPECT_THROW(reg.meter(bad), std::invalid_argument) << bad;
  }
  for (const char* top :
       {"status", "hostName", "date", "version", "durationMs", "withDetails"}) {
    EXPECT_THROW(reg.counter(top), std::invalid_argument) << top;
  }
  reg.probe("applications.a", [] { return Status::Ok; });
  EXPECT_THROW(reg.counter("applications.a.status"), std::invalid_argument);
  EXPECT_THROW(reg.counter("applications.a.durationMs"), std::invalid_argument);
  reg.counter("applications.b.message");
  EXPECT_THROW(reg.probe("applications.b", [] { return Status::Ok; }),
               std::invalid_argument);
  EXPECT_FALSE(reg.contains("status"));
}

// The walks recurse once per segment: depth is bounded where paths come
// in, so a hostile path is an error, not a stack overflow when rendered.
TEST(Registry, BoundsPathDepth) {
  ManualClock clock;
  Registry reg(options(clock));
  const auto path_of = [](std::size_t segments) {
    std::string p = "a";
    for (std::size_t i = 1; i < segments; ++i) p += ".a";
    return p;
  };
  const std::string deepest = path_of(Registry::kMaxPathDepth);
  reg.meter(deepest).mark();
  for (std::size_t n : {Registry::kMaxPathDepth + 1, std::size_t{20000}}) {
    const std::string deeper = path_of(n);
    EXPECT_THROW(reg.meter(deeper), std::invalid_argument) << n;
    EXPECT_THROW(reg.contains(deeper), std::invalid_argument) << n;
  }
  EXPECT_THROW(reg.counter(deepest + ".b"), std::invalid_argument);
  const nlohmann::json doc = nlohmann::json::parse(reg.to_json(true, false));
  const nlohmann::json* n = &doc;
  for (std::size_t i = 0; i < Registry::kMaxPathDepth; ++i) n = &n->at("a");
  EXPECT_EQ(n->at("count"), 1);
}

const Value& member(const Value& v, const std::string& name) {
  for (const auto& [k, m] : v.as_object()) {
    if (k == name) return m;
  }
  throw std::out_of_range(name);
}

// Strong exception guarantee: a registration that throws changes nothing
// observable (issue 16, "Failure paths keep the registry whole").
TEST(Registry, AFailedRegistrationLeavesNothingBehind) {
  ManualClock clock;
  Registry reg(options(clock));
  const std::string before = reg.to_json(true, false);
  // The metric's construction throws: no node, not even its groups.
  EXPECT_THROW(reg.keyed("a.b", 0), std::invalid_argument);
  EXPECT_THROW(reg.gauge("g.h", Gauge::Function()), std::invalid_argument);
  EXPECT_THROW(reg.probe("p.q", Probe::Function()), std::invalid_argument);
  ProbeOptions bad;
  bad.timeout = Nanos(0);
  EXPECT_THROW(reg.probe(
                   "p.q", [] { return Status::Ok; }, bad),
               std::invalid_argument);
  // A reserved name deep in a new path: its groups are not created either.
  reg.probe("r", [] { return Status::Ok; });
  EXPECT_THROW(reg.counter("r.status.x"), std::invalid_argument);
  for (const char* path : {"a", "a.b", "g", "p", "p.q", "r.status"}) {
    EXPECT_FALSE(reg.contains(path)) << path;
  }
  EXPECT_EQ(member(reg.snapshot(true), "r").as_object().size(), 2u);
  // Every path is still free for a correct registration.
  reg.keyed("a.b", 4).inc("k");
  reg.meter("p.q").mark();
  reg.counter("g.h").set(1);
  const ordered_json doc = ordered_json::parse(reg.to_json(true, false));
  EXPECT_EQ(doc["a"]["b"]["k"], 1);
  EXPECT_EQ(doc["p"]["q"]["count"], 1);
  EXPECT_EQ(doc["g"]["h"], 1);
  EXPECT_NE(before, reg.to_json(true, false));
}

TEST(Registry, ReRegisteringAProbeWithBadOptionsKeepsTheOldOne) {
  ManualClock clock;
  Registry reg(options(clock));
  ProbeOptions o;
  o.timeout = 2s;
  Probe& p = reg.probe(
      "app", [] { return Status::Warning; }, o);
  ProbeOptions bad;
  bad.timeout = Nanos(-1);
  EXPECT_THROW(reg.probe(
                   "app", [] { return Status::Ko; }, bad),
               std::invalid_argument);
  EXPECT_THROW(reg.probe("app", Probe::Function(), o), std::invalid_argument);
  EXPECT_EQ(p.options().timeout, Nanos(2s));
  EXPECT_EQ(reg.status(), Status::Warning);  // still the first function
  // A valid re-registration replaces both.
  o.timeout = 3s;
  EXPECT_EQ(&reg.probe(
                "app", [] { return Status::Ko; }, o),
            &p);
  EXPECT_EQ(p.options().timeout, Nanos(3s));
  EXPECT_EQ(reg.status(), Status::Ko);
}

TEST(Registry, ManyChildrenAreFoundInRegistrationOrder) {
  ManualClock clock;
  Registry reg(options(clock));
  std::vector<Counter*> made;
  for (int i = 0; i < 100; ++i) {
    made.push_back(&reg.counter("wide.c" + std::to_string(i)));
    made.back()->set(i);
  }
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(&reg.counter("wide.c" + std::to_string(i)),
              made[static_cast<std::size_t>(i)]);
    EXPECT_EQ(reg.kind("wide.c" + std::to_string(i)), Kind::Counter);
  }
  EXPECT_FALSE(reg.contains("wide.c100"));
  EXPECT_THROW(reg.meter("wide.c7"), KindError);
  const Value doc = reg.snapshot(true);
  const Object& wide = member(doc, "wide").as_object();
  ASSERT_EQ(wide.size(), 100u);
  for (std::size_t i = 0; i < wide.size(); ++i) {
    EXPECT_EQ(wide[i].first, "c" + std::to_string(i));
  }
}

// A group's name index (from 16 children: an open-addressing table that
// doubles while it grows) finds every child of every kind, including names
// that are prefixes or extensions of one another, and nothing else.
TEST(Registry, AGroupOfThousandsOfChildrenFindsEachAndNoOther) {
  ManualClock clock;
  Registry reg(options(clock));
  constexpr int kChildren = 5000;
  std::vector<void*> made;
  const auto name = [](int i) {
    // "n7", "n7x", "n77", ...: shared prefixes, different lengths.
    return std::string("g.n") + std::to_string(i % 1000) +
           std::string(static_cast<std::size_t>(i / 1000), 'x');
  };
  for (int i = 0; i < kChildren; ++i) {
    if (i % 3 == 0) {
      made.push_back(&reg.counter(name(i)));
    } else if (i % 3 == 1) {
      made.push_back(&reg.meter(name(i)));
    } else {
      made.push_back(&reg.keyed(name(i)));
    }
  }
  for (int i = 0; i < kChildren; ++i) {
    const auto at = static_cast<std::size_t>(i);
    if (i % 3 == 0) {
      EXPECT_EQ(static_cast<void*>(&reg.counter(name(i))), made[at]);
      EXPECT_THROW(reg.meter(name(i)), KindError);
    } else if (i % 3 == 1) {
      EXPECT_EQ(static_cast<void*>(&reg.meter(name(i))), made[at]);
    } else {
      EXPECT_EQ(static_cast<void*>(&reg.keyed(name(i))), made[at]);
    }
  }
  EXPECT_FALSE(reg.contains("g.n1000"));
  EXPECT_FALSE(reg.contains("g.n7xxxxx"));
  EXPECT_FALSE(reg.contains("g.n"));
  EXPECT_FALSE(reg.contains("g.x"));
  const Value doc = reg.snapshot(true);
  const Object& g = member(doc, "g").as_object();
  ASSERT_EQ(g.size(), static_cast<std::size_t>(kChildren));
  for (int i = 0; i < kChildren; ++i) {
    EXPECT_EQ("g." + g[static_cast<std::size_t>(i)].first, name(i));
  }
}

// The one read walk: groups open and close around their children, in
// document order, with each metric's snapshot and each probe's report.
TEST(Registry, VisitShowsEveryNodeInDocumentOrder) {
  ManualClock clock;
  Registry reg(options(clock));
  reg.counter("v.c").set(7);
  reg.meter("v.m").mark(2);
  reg.keyed("k").inc("x", 3);
  reg.gauge("g", [] { return 1.5; });
  reg.probe("v", [] { return Status::Warning; });
  reg.counter("plain.c");
  struct Recorder : RegistryVisitor {
    std::vector<std::string> seen;
    void begin(Status s) override {
      seen.push_back("begin " + std::string(to_string(s)));
    }
    void open_group(const NodeView& n, const ProbeReport* p) override {
      seen.push_back("open " + std::string(n.path) + " " +
                     std::to_string(n.depth) +
                     (p ? " " + std::string(to_string(p->status)) : ""));
    }
    void close_group(const NodeView& n) override {
      seen.push_back("close " + std::string(n.path));
    }
    void meter(const NodeView& n, const MeterSnapshot& s) override {
      seen.push_back("meter " + std::string(n.path) + " " +
                     std::to_string(s.count));
    }
    void counter(const NodeView& n, std::int64_t v) override {
      seen.push_back("counter " + std::string(n.path) + " " +
                     std::to_string(v));
    }
    void keyed(const NodeView& n, const KeyedCounter& k) override {
      seen.push_back("keyed " + std::string(n.name) + " " +
                     std::to_string(k.value("x")));
    }
    void gauge(const NodeView& n, const Value& v) override {
      seen.push_back("gauge " + std::string(n.path) + " " + to_json(v));
    }
    void end(Status s) override {
      seen.push_back("end " + std::string(to_string(s)));
    }
  };
  Recorder all;
  EXPECT_EQ(reg.visit(all), Status::Warning);
  EXPECT_EQ(all.seen, (std::vector<std::string>{
                          "begin Warning", "open v 1 Warning", "counter v.c 7",
                          "meter v.m 2", "close v", "keyed k 3", "gauge g 1.5",
                          "open plain 1", "counter plain.c 0", "close plain",
                          "end Warning"}));
  Recorder probed;
  VisitOptions only;
  only.probed_groups_only = true;
  reg.visit(probed, only);
  EXPECT_EQ(probed.seen,
            (std::vector<std::string>{"begin Warning", "open v 1 Warning",
                                      "close v", "end Warning"}));
}

TEST(Registry, HostileKeysAndStringsStayValidJson) {
  ManualClock clock;
  RegistryOptions o = options(clock);
  o.version = "v\"1\\\n";
  Registry reg(o);
  KeyedCounter& k = reg.keyed("errorsByBot");
  const std::vector<std::string> keys = {
      "quote\"",  "back\\slash",  "nl\nline",  std::string("nul\0x", 5),
      "\x01\x02", "\xff\xfe bad", "</script>", "\xE2\x80\xA8"};
  for (const auto& key : keys) k.inc(key);
  reg.gauge("weird.nan", [] { return std::nan(""); });
  reg.gauge("weird.inf", [] { return 1.0 / 0.0; });
  reg.gauge("weird.throws", []() -> Value { throw std::runtime_error("x"); });
  reg.gauge("weird.text", [] { return Value("\"\\"); });
  for (bool pretty : {false, true}) {
    const auto doc = nlohmann::json::parse(reg.to_json(true, pretty));
    EXPECT_EQ(doc["version"], "v\"1\\\n");
    const auto& bots = doc["errorsByBot"];
    EXPECT_EQ(bots.size(), keys.size());
    for (const auto& key : keys) {
      if (detail::is_valid_utf8(key)) {
        EXPECT_EQ(bots.at(key), 1) << key;
      }
    }
    EXPECT_EQ(bots.at("\xEF\xBF\xBD\xEF\xBF\xBD bad"), 1);
    EXPECT_TRUE(doc["weird"]["nan"].is_null());
    EXPECT_TRUE(doc["weird"]["inf"].is_null());
    EXPECT_TRUE(doc["weird"]["throws"].is_null());
    EXPECT_EQ(doc["weird"]["text"], "\"\\");
  }
}

TEST(Registry, RatioIsErrorsOverAllFiveMinuteRates) {
  ManualClock clock;
  Registry reg(options(clock));
  Meter& ok = reg.meter("ok");
  Meter& errors = reg.meter("errors");
  reg.ratio("ratio", errors, ok);
  EXPECT_EQ(reg.snapshot().at("ratio").as_double(), 0.0) << "0 when both are 0";
  ok.mark(30);
  errors.mark(10);
  clock.advance(6s);  // Dropwizard ticks only once more than 5 s have passed
  EXPECT_DOUBLE_EQ(reg.snapshot().at("ratio").as_double(), 0.25);
}

TEST(Registry, GaugesAreEvaluatedAtSnapshotTimeAndCanBeReplaced) {
  ManualClock clock;
  Registry reg(options(clock));
  int calls = 0;
  reg.gauge("g", [&] { return Value(++calls); });
  EXPECT_EQ(reg.snapshot().at("g").as_int(), 1);
  EXPECT_EQ(reg.snapshot().at("g").as_int(), 2);
  reg.gauge("g", [] { return Value(1.5); });
  EXPECT_EQ(reg.snapshot().at("g").as_double(), 1.5);
}

TEST(Registry, GaugeAndProbeFunctionsMayUseTheRegistry) {
  ManualClock clock;
  Registry reg(options(clock));
  reg.gauge("g", [&] {
    reg.counter("made.by.gauge").inc();
    return Value(1);
  });
  reg.probe("p", [&] {
    reg.counter("made.by.probe").inc();
    return Status::Ok;
  });
  reg.snapshot();
  EXPECT_TRUE(reg.contains("made.by.gauge"));
  EXPECT_TRUE(reg.contains("made.by.probe"));
}

TEST(Registry, DateUsesTheConfiguredTimeZone) {
  ManualClock clock(std::chrono::system_clock::time_point(1553622049s));
  RegistryOptions o = options(clock);
  o.time_zone = TimeZone::parse("+02:00");
  Registry reg(o);
  EXPECT_EQ(reg.snapshot().at("date").as_string(), "2019-03-26 19:40:49");
  EXPECT_THROW(TimeZone::parse("Mars/Olympus"), std::invalid_argument);
  EXPECT_EQ(TimeZone::parse("-05:30").offset(), std::chrono::minutes(-330));
}

TEST(Registry, DefaultsToTheMachinesHostName) {
  Registry reg;
  EXPECT_EQ(reg.host_name(), machine_host_name());
  EXPECT_FALSE(reg.host_name().empty());
}

}  // namespace
}  // namespace statusz
