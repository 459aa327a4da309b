// statusz/httplib.hpp over real HTTP on loopback: HEAD's Content-Length is
// the GET's, every method reaches the handler (405 with Allow, not httplib's
// empty 400), httplib's own rejections are JSON, /metrics is gzipped by
// Accept-Encoding's weights (and httplib never compresses on its own), and
// /livez and /readyz answer as the handler does.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <statusz/httplib.hpp>
#include <statusz/statusz.hpp>
#include <string>
#include <thread>

namespace statusz {
namespace {

struct RawResponse {
  int status = 0;
  std::string head;  // status line and header fields, lower-cased names
  std::string body;

  std::string header(const std::string& name) const {
    const std::string key = "\r\n" + name + ": ";
    const std::size_t at = head.find(key);
    if (at == std::string::npos) return "<absent>";
    const std::size_t from = at + key.size();
    return head.substr(from, head.find("\r\n", from) - from);
  }
};

// One client connection to the server under test: raw bytes out, one
// response in (its header, then Content-Length bytes of body, none for HEAD).
class Connection {
 public:
  explicit Connection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    EXPECT_GE(fd_, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr),
              0);
  }
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  RawResponse roundtrip(const std::string& request, bool head = false) {
    std::size_t sent = 0;
    while (sent < request.size()) {
      const ssize_t n =
          ::send(fd_, request.data() + sent, request.size() - sent, 0);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    RawResponse r;
    std::size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return r;
    }
    r.head = pending_.substr(0, end + 2);
    pending_.erase(0, end + 4);
    for (std::size_t i = r.head.find("\r\n") + 2; i < r.head.size();
         i = r.head.find("\r\n", i) + 2) {
      for (std::size_t j = i; j < r.head.size() && r.head[j] != ':'; ++j) {
        r.head[j] = detail::ascii_lower(r.head[j]);
      }
    }
    r.status = std::stoi(r.head.substr(9, 3));
    const std::string length = r.header("content-length");
    const std::size_t n = head || length == "<absent>" ? 0 : std::stoul(length);
    while (pending_.size() < n) {
      if (!fill()) break;
    }
    r.body = pending_.substr(0, n);
    pending_.erase(0, n);
    return r;
  }

 private:
  bool fill() {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int fd_;
  std::string pending_;
};

class HttplibAdapter : public ::testing::Test {
 protected:
  HttplibAdapter() : reg_({&clock_, "app1", "49.2470"}), handler_(reg_) {
    reg_.counter("volumes.connectedPeople").set(9);
    reg_.meter("applications.servlet.requests.chatHttp.successes").mark(3);
    reg_.probe("applications.runtime", [] { return Status::Ok; });
    mount(server_, handler_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~HttplibAdapter() override {
    server_.stop();
    thread_.join();
  }

  RawResponse send(const std::string& method, const std::string& target,
                   const std::string& content = "",
                   const std::string& fields = "") {
    Connection c(port_);
    std::string request =
        method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fields;
    if (!content.empty()) {
      request += "Content-Length: " + std::to_string(content.size()) + "\r\n";
    }
    return c.roundtrip(request + "\r\n" + content, method == "HEAD");
  }

  ManualClock clock_;
  Registry reg_;
  HttpHandler handler_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(HttplibAdapter, HeadHasTheGetsContentLengthAndNoBody) {
  for (const char* target :
       {"/serverstatus?details=true&pretty=true", "/metrics", "/healthz"}) {
    const RawResponse get = send("GET", target);
    ASSERT_EQ(get.status, 200) << target;
    ASSERT_FALSE(get.body.empty());
    EXPECT_EQ(get.header("content-length"), std::to_string(get.body.size()));
    const RawResponse head = send("HEAD", target);
    EXPECT_EQ(head.status, 200) << target;
    EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size()))
        << target;
    EXPECT_EQ(head.header("content-type"), get.header("content-type"));
    EXPECT_EQ(head.body, "") << target;
  }
}

TEST_F(HttplibAdapter, EveryMethodReachesTheHandler) {
  // Without content (httplib alone: TRACE and CONNECT got an empty 400, a
  // body-less POST waited for content until the read timeout, then 400).
  for (const char* method :
       {"POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}) {
    const RawResponse r = send(method, "/healthz");
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_EQ(r.header("allow"), "GET, HEAD") << method;
    EXPECT_EQ(nlohmann::json::parse(r.body)["status"], 405) << method;
  }
  // With content, read by httplib first.
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    const RawResponse r = send(method, "/serverstatus", "abc");
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_EQ(r.header("allow"), "GET, HEAD") << method;
  }
}

TEST_F(HttplibAdapter, ContentIsConsumedSoTheConnectionStaysUsable) {
  Connection c(port_);
  const RawResponse post = c.roundtrip(
      "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(post.status, 405);
  const RawResponse empty = c.roundtrip(
      "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(empty.status, 405);
  const RawResponse get =
      c.roundtrip("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(nlohmann::json::parse(get.body)["status"], "Ok");
}

TEST_F(HttplibAdapter, HttplibsOwnRejectionsAreJson) {
  const RawResponse unknown = send("FOO", "/healthz");
  EXPECT_EQ(unknown.status, 400);  // httplib's parser rejects the method
  EXPECT_EQ(unknown.header("content-type"), "application/json; charset=utf-8");
  EXPECT_EQ(nlohmann::json::parse(unknown.body)["status"], 400);

  const RawResponse long_target =
      send("GET", "/serverstatus?x=" +
                      std::string(CPPHTTPLIB_REQUEST_URI_MAX_LENGTH, 'a'));
  EXPECT_EQ(long_target.status, 414);
  const auto doc = nlohmann::json::parse(long_target.body);
  EXPECT_EQ(doc["status"], 414);
  EXPECT_TRUE(doc["error"].is_string());
}

TEST_F(HttplibAdapter, TheHandlersOwnErrorsAreKept) {
  const RawResponse r = send("GET", "/serverstatus?details=yes");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(nlohmann::json::parse(r.body)["parameter"], "details");
  EXPECT_EQ(send("GET", "/nope").status, 404);
}

}  // namespace
}  // namespace statusz

namespace statusz {
namespace {

#ifdef CPPHTTPLIB_ZLIB_SUPPORT
std::string gunzip(const std::string& in) {
  httplib::detail::gzip_decompressor z;
  std::string out;
  EXPECT_TRUE(z.decompress(in.data(), in.size(),
                           [&out](const char* data, std::size_t n) {
                             out.append(data, n);
                             return true;
                           }));
  return out;
}

TEST_F(HttplibAdapter, MetricsIsGzippedByAcceptEncodingWeights) {
  const RawResponse plain = send("GET", "/metrics");
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.header("content-encoding"), "<absent>");
  EXPECT_EQ(plain.header("vary"), "Accept-Encoding");

  for (const char* accepted :
       {"gzip", "deflate, gzip;q=0.5", "*", "x-gzip", "gzip, identity;q=0"}) {
    const std::string field =
        std::string("Accept-Encoding: ") + accepted + "\r\n";
    const RawResponse z = send("GET", "/metrics", "", field);
    ASSERT_EQ(z.status, 200) << accepted;
    EXPECT_EQ(z.header("content-encoding"), "gzip") << accepted;
    EXPECT_EQ(z.header("vary"), "Accept-Encoding");
    EXPECT_EQ(z.header("content-length"), std::to_string(z.body.size()));
    ASSERT_GE(z.body.size(), 2u);
    EXPECT_EQ(z.body.substr(0, 2), "\x1f\x8b") << accepted;
    EXPECT_EQ(gunzip(z.body), plain.body) << accepted;
    const RawResponse head = send("HEAD", "/metrics", "", field);
    EXPECT_EQ(head.header("content-length"), z.header("content-length"));
    EXPECT_EQ(head.header("content-encoding"), "gzip");
  }
  // Refused gzip, gzip weighed below identity, or only codings statusz does
  // not send (httplib alone answered "br" with Brotli and "gzip;q=0" with
  // gzip): the identity body.
  for (const char* refused : {"gzip;q=0", "gzip;q=0.5, identity", "br",
                              "br, deflate", "*;q=0", "identity"}) {
    const RawResponse r =
        send("GET", "/metrics", "",
             std::string("Accept-Encoding: ") + refused + "\r\n");
    EXPECT_EQ(r.header("content-encoding"), "<absent>") << refused;
    EXPECT_EQ(r.body, plain.body) << refused;
  }
  // Only /metrics is compressed, as in the Python servers.
  for (const char* target : {"/livez?verbose", "/healthz", "/serverstatus"}) {
    const RawResponse r =
        send("GET", target, "", "Accept-Encoding: gzip, br\r\n");
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.header("content-encoding"), "<absent>") << target;
    EXPECT_EQ(r.header("vary"), "<absent>") << target;
  }
}
#endif

TEST_F(HttplibAdapter, LivezAndReadyzAnswerAsTheHandler) {
  reg_.probe("applications.db",
             [] {
               return ProbeResult{Status::Ko, "refused"};
             },
             {}, {"ready"});
  const RawResponse live = send("GET", "/livez?verbose");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(live.body, "livez check passed\n");
  const RawResponse ready = send("GET", "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(ready.body,
            "[+]applications.runtime ok\n"
            "[-]applications.db failed: refused\n"
            "readyz check failed\n");
  const RawResponse head = send("HEAD", "/readyz");
  EXPECT_EQ(head.status, 503);
  EXPECT_EQ(head.header("content-length"), std::to_string(ready.body.size()));
}

}  // namespace
}  // namespace statusz
