// statusz/push.hpp against the real Prometheus Pushgateway (Debian's
// prometheus-pushgateway, started here on a free loopback port, without
// persistence): push, then read the series back from its /metrics.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <statusz/push.hpp>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace statusz {
namespace {

#ifndef STATUSZ_PUSHGATEWAY
#define STATUSZ_PUSHGATEWAY "/usr/bin/prometheus-pushgateway"
#endif

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class Pushgateway : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(STATUSZ_PUSHGATEWAY, X_OK) != 0) {
      GTEST_SKIP() << STATUSZ_PUSHGATEWAY
                   << " is not installed (scripts/setup installs it)";
    }
    port_ = free_port();
    std::vector<std::string> args = {
        STATUSZ_PUSHGATEWAY,
        "--web.listen-address=127.0.0.1:" + std::to_string(port_),
        "--persistence.file=", "--log.level=error"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(
        ::posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ),
        0);
    url_ = "http://127.0.0.1:" + std::to_string(port_);
    httplib::Client probe(url_);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto r = probe.Get("/-/ready"); r && r->status == 200) return;
      // Polling a subprocess's startup, not timing logic.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "the Pushgateway did not start";
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  std::string scrape() {
    httplib::Client c(url_);
    auto r = c.Get("/metrics");
    return r ? r->body : std::string();
  }

  pid_t pid_ = 0;
  int port_ = 0;
  std::string url_;
};

RegistryOptions named() {
  RegistryOptions o;
  o.host_name = "batch1";
  o.version = "1.0";
  return o;
}

TEST(PushPath, EncodesLikeThePushgatewayReadme) {
  EXPECT_EQ(pushgateway_path("nightly"), "/metrics/job/nightly");
  EXPECT_EQ(pushgateway_path(
                "a/b", {{"path", "/var/tmp"}, {"empty", ""}, {"i", "db 1"}}),
            "/metrics/job@base64/YS9i/path@base64/L3Zhci90bXA=/empty@base64/=/"
            "i/db%201");
  EXPECT_EQ(push_detail::base64url("\xfb\xff"), "-_8=");
  EXPECT_THROW(pushgateway_path(""), std::invalid_argument);
  EXPECT_THROW(pushgateway_path("j", {{"job", "x"}}), std::invalid_argument);
  EXPECT_THROW(pushgateway_path("j", {{"bad-name", "x"}}),
               std::invalid_argument);
}

TEST_F(Pushgateway, PushThenReadBack) {
  Registry reg(named());
  reg.counter("volumes.rows").set(1200);
  PushOptions o;
  o.grouping = {{"instance", "db1"}, {"path", "/var/tmp"}};
  EXPECT_EQ(push(reg, url_, "nightly", o), 200);
  const std::string text = scrape();
  EXPECT_NE(text.find("statusz_volumes_rows{instance=\"db1\",job=\"nightly\","
                      "path=\"/var/tmp\"} 1200"),
            std::string::npos)
      << text;

  Registry other(named());
  other.counter("volumes.other").set(5);
  o.method = "POST";
  EXPECT_EQ(push(other, url_ + "/", "nightly", o), 200);
  const std::string after = scrape();
  EXPECT_NE(after.find("statusz_volumes_rows{"),
            std::string::npos);  // POST keeps it
  EXPECT_NE(after.find("statusz_volumes_other{"), std::string::npos);
  o.method = "PUT";
  EXPECT_EQ(push(other, url_, "nightly", o), 200);
  EXPECT_EQ(scrape().find("statusz_volumes_rows{"),
            std::string::npos);  // PUT replaces
}

TEST_F(Pushgateway, ErrorsAreReported) {
  Registry reg(named());
  PushOptions o;
  o.method = "DELETE";
  EXPECT_THROW(push(reg, url_, "j", o), std::invalid_argument);
  EXPECT_THROW(push(reg, "127.0.0.1:9091", "j"), std::invalid_argument);
  // Not the Pushgateway's API: refused with a status, not an exception.
  EXPECT_EQ(push(reg, url_ + "/nothing-here", "j"), 404);
  TearDown();
  pid_ = 0;
  o = PushOptions{};
  o.timeout = std::chrono::milliseconds(2000);
  EXPECT_THROW(push(reg, url_, "j", o), std::runtime_error);
}

}  // namespace
}  // namespace statusz
