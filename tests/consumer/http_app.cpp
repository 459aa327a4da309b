// Serves a registry through statusz::mount() on cpp-httplib (loopback, an
// ephemeral port) and fetches /serverstatus and /healthz back: the compile
// flags of statusz::httplib must match the linked library's, or this
// crashes or fails.
#include <chrono>
#include <iostream>
#include <statusz/httplib.hpp>
#include <statusz/statusz.hpp>
#include <string>
#include <thread>

int main() {
  statusz::RegistryOptions options;
  options.host_name = "consumer";
  statusz::Registry reg(options);
  reg.counter("volumes.connectedPeople").set(7);
  reg.probe("applications.app", [] { return statusz::Status::Ok; });
  const statusz::HttpHandler handler(reg);

  httplib::Server server;
  statusz::mount(server, handler);
  const int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::cerr << "bind failed\n";
    return 1;
  }
  std::thread listener([&server] { server.listen_after_bind(); });
  // listen_after_bind() has no ready signal in every httplib version: poll,
  // bounded (5 s).
  for (int i = 0; i < 500 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  httplib::Client client("127.0.0.1", port);
  const auto doc = client.Get("/serverstatus?details=true");
  const auto health = client.Get("/healthz");
  server.stop();
  listener.join();

  const bool ok =
      doc && doc->status == 200 &&
      doc->body.find("\"connectedPeople\":7") != std::string::npos &&
      doc->body.find("\"hostName\":\"consumer\"") != std::string::npos &&
      health && health->status == 200;
  std::cout << (doc ? doc->body : std::string("no answer")) << "\n";
  return ok ? 0 : 1;
}
