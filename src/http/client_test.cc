// The client against a real HTTP server on 127.0.0.1 (cpp-httplib, tests only) that injects faults
// into chosen requests. Backoff and rate-limit waits go through a ManualClock, so nothing here
// really sleeps except the stalled-body test's 200 ms timeout.
#include "lakeflow/http/client.h"

#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#ifndef CPPHTTPLIB_ZLIB_SUPPORT
#define CPPHTTPLIB_ZLIB_SUPPORT
#endif
#ifndef CPPHTTPLIB_BROTLI_SUPPORT
#define CPPHTTPLIB_BROTLI_SUPPORT
#endif
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "http/loopback_server_test_util.h"
#include "lakeflow/http/auth.h"
#include "lakeflow/http/pagination.h"
#include "lakeflow/options.h"
#include "lakeflow/records.h"

namespace lakeflow::http {
namespace {

using test_util::Loopback;

using ::testing::AllOf;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

// A server whose handler closes its socket makes the server's next write raise SIGPIPE.
const bool kIgnoreSigpipe = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

// --- faults ---------------------------------------------------------------------------------

// Closes the server side of the connection `request` arrived on, before any response: the client
// sees the connection die (an empty reply or a reset). httplib does not expose the socket, so it
// is found among the process's descriptors by its two port numbers.
void reset_connection(const httplib::Request& request, int server_port) {
  for (int fd = 3; fd < 65536; ++fd) {
    sockaddr_in local{};
    sockaddr_in peer{};
    socklen_t length = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0 ||
        local.sin_family != AF_INET || ntohs(local.sin_port) != server_port) {
      continue;
    }
    length = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0 ||
        ntohs(peer.sin_port) != request.remote_port) {
      continue;
    }
    const linger abort_on_close{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    shutdown(fd, SHUT_RDWR);
    return;
  }
  ADD_FAILURE() << "no server socket for client port " << request.remote_port;
}

// Declares Content-Length `declared` but sends only `body`, then closes the connection.
void send_truncated(httplib::Response& response, std::string body, std::size_t declared) {
  response.set_content_provider(
      declared, "application/json",
      [body = std::move(body)](std::size_t offset, std::size_t, httplib::DataSink& sink) {
        if (offset == 0) sink.write(body.data(), body.size());
        return false;
      });
}

// Sends `body` of a longer declared response, then stalls until the test ends.
void send_stalled(httplib::Response& response, std::string body, const Loopback& server) {
  response.set_content_provider(
      body.size() + 1000, "application/json",
      [body = std::move(body), &server](std::size_t offset, std::size_t, httplib::DataSink& sink) {
        if (offset == 0) sink.write(body.data(), body.size());
        for (int i = 0; i < 300 && !server.stopping; ++i) std::this_thread::sleep_for(10ms);
        return false;
      });
}

// --- fixture --------------------------------------------------------------------------------

class ClientTest : public ::testing::Test {
 protected:
  // A context with the manual clock, a seeded jitter and every log line captured.
  ClientContext context() {
    ClientContext context;
    context.clock = clock;
    context.redactor = redactor;
    context.log_level = LogLevel::kDebug;
    context.jitter_seed = 42;
    context.log_sink = [this](LogLevel level, std::string_view message) {
      std::lock_guard lock(log_mutex);
      logs.push_back(fmt::format("[{}] {}", to_string(level), message));
    };
    return context;
  }

  // A client with short timeouts; `options` add to or override them.
  std::unique_ptr<HttpClient> client(const Options& options = {},
                                     std::shared_ptr<AuthProvider> auth = nullptr) {
    const Options defaults{{"http.connect_timeout", "2s"}, {"http.timeout", "5s"}};
    return std::make_unique<HttpClient>(ClientConfig::from_options(defaults.merged_with(options)),
                                        std::move(auth), context());
  }

  std::string all_logs() {
    std::lock_guard lock(log_mutex);
    std::string out;
    for (const auto& line : logs) out += line + "\n";
    return out;
  }
  std::size_t count_logs(std::string_view needle) {
    std::lock_guard lock(log_mutex);
    std::size_t n = 0;
    for (const auto& line : logs) n += line.find(needle) != std::string::npos;
    return n;
  }

  Loopback server;
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::shared_ptr<Redactor> redactor = std::make_shared<Redactor>();
  std::mutex log_mutex;
  std::vector<std::string> logs;
};

template <typename F>
HttpError http_error(F&& f) {
  try {
    f();
  } catch (const HttpError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an HttpError";
  return HttpError("", 0, "", 0);
}

// --- basics ---------------------------------------------------------------------------------

TEST_F(ClientTest, GetReturnsBodyStatusAndHeaders) {
  server->Get("/hello", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("X-Thing", "yes");
    res.set_content(R"({"hello":"world"})", "application/json");
  });
  const Response response = client()->get(server.url("/hello"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"hello":"world"})");
  EXPECT_EQ(response.header("X-THING"), "yes");
  EXPECT_EQ(response.url, server.url("/hello"));
  EXPECT_EQ(response.attempts, 1);
  EXPECT_TRUE(clock->sleeps().empty());
}

TEST_F(ClientTest, SendsUserAgentAndAcceptsCompressedBodies) {
  std::string agent;
  std::string accept_encoding;
  const std::string big(20000, 'x');
  server->Get("/big", [&](const httplib::Request& req, httplib::Response& res) {
    agent = req.get_header_value("User-Agent");
    accept_encoding = req.get_header_value("Accept-Encoding");
    res.set_content(fmt::format(R"({{"text":"{}"}})", big), "application/json");
  });
  const Response response = client()->get(server.url("/big"));
  EXPECT_EQ(agent, "lakeflow-cpp/" LAKEFLOW_VERSION);
  EXPECT_EQ(user_agent(), agent);
  EXPECT_THAT(accept_encoding, HasSubstr("gzip"));
  EXPECT_THAT(accept_encoding, HasSubstr("deflate"));
  // httplib compresses with the best encoding both sides know (brotli here, else gzip).
  EXPECT_THAT(response.header("content-encoding").value_or(""), testing::AnyOf("gzip", "br"));
  EXPECT_EQ(response.body, fmt::format(R"({{"text":"{}"}})", big));
}

TEST_F(ClientTest, ReusesOneConnectionAcrossRequests) {
  std::set<int> client_ports;
  std::mutex mutex;
  server->Get("/n", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    client_ports.insert(req.remote_port);
    res.set_content("{}", "application/json");
  });
  auto http = client();
  for (int i = 0; i < 4; ++i) http->get(server.url("/n"));
  EXPECT_EQ(client_ports.size(), 1u);
}

TEST_F(ClientTest, OneClientServesSeveralThreadsAtOnce) {
  std::atomic<int> calls{0};
  server->Get("/n", [&](const httplib::Request& req, httplib::Response& res) {
    ++calls;
    res.set_content(req.get_param_value("i"), "text/plain");
  });
  auto http = client();
  std::atomic<int> right{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string id = fmt::format("{}-{}", t, i);
        right += http->get(server.url("/n?i=" + id)).body == id;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(calls, 100);
  EXPECT_EQ(right, 100);
}

TEST_F(ClientTest, BodyIsAdoptedByARecordBatchWithoutCopying) {
  server->Get("/page", [](const httplib::Request&, httplib::Response& res) {
    // A type httplib does not compress: the body arrives with a Content-Length.
    res.set_content(R"({"entry":[{"id":1},{"id":2}]})", "application/octet-stream");
  });
  Response response = client()->get(server.url("/page"));
  ASSERT_EQ(response.header("content-encoding"), std::nullopt);
  EXPECT_GE(response.body.capacity(), response.body.size() + RecordBatch::kPadding);
  const char* bytes = response.body.data();
  RecordBatch batch;
  const std::string_view adopted = batch.adopt(std::move(response.body));
  EXPECT_EQ(adopted.data(), bytes);
  EXPECT_EQ(adopted, R"({"entry":[{"id":1},{"id":2}]})");
}

TEST_F(ClientTest, PostFormSendsTheBody) {
  std::string body;
  std::string content_type;
  server->Post("/form", [&](const httplib::Request& req, httplib::Response& res) {
    body = req.body;
    content_type = req.get_header_value("Content-Type");
    res.set_content("{}", "application/json");
  });
  client()->post_form(server.url("/form"), {{"a", "1 2"}, {"b", "x&y"}});
  EXPECT_EQ(body, "a=1+2&b=x%26y");
  EXPECT_EQ(content_type, "application/x-www-form-urlencoded");
}

TEST_F(ClientTest, MalformedUrlIsAConfigError) {
  EXPECT_THROW(client()->get("not a url"), ConfigError);
  EXPECT_THROW(client()->get("ftp://127.0.0.1/x"), ConfigError);
}

// --- retries --------------------------------------------------------------------------------

TEST_F(ClientTest, RetriesA429AfterTheSecondsInRetryAfter) {
  std::atomic<int> calls{0};
  server->Get("/limited", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls <= 2) {
      res.status = 429;
      res.set_header("Retry-After", "7");
      return;
    }
    res.set_content("{}", "application/json");
  });
  const Response response = client()->get(server.url("/limited"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.attempts, 3);
  EXPECT_EQ(calls, 3);
  EXPECT_THAT(clock->sleeps(), ElementsAre(7000ms, 7000ms));
  EXPECT_EQ(count_logs("HTTP 429 Too Many Requests; retrying in 7.0 s as the server's "
                       "Retry-After asks"),
            2u);
}

TEST_F(ClientTest, RetriesA429AfterTheHttpDateInRetryAfter) {
  // The manual clock's wall time is 2024-01-01T00:00:00Z.
  std::atomic<int> calls{0};
  server->Get("/limited", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls == 1) {
      res.status = 429;
      res.set_header("Retry-After", "Mon, 01 Jan 2024 00:00:42 GMT");
      return;
    }
    res.set_content("{}", "application/json");
  });
  client()->get(server.url("/limited"));
  EXPECT_EQ(calls, 2);
  EXPECT_THAT(clock->sleeps(), ElementsAre(42000ms));
}

TEST_F(ClientTest, RetryAfterIsCappedByRetryAfterMax) {
  std::atomic<int> calls{0};
  server->Get("/limited", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls == 1) {
      res.status = 503;
      res.set_header("Retry-After", "86400");
      return;
    }
    res.set_content("{}", "application/json");
  });
  client({{"http.retry_after_max", "10s"}, {"http.max_elapsed", "1h"}})
      ->get(server.url("/limited"));
  EXPECT_THAT(clock->sleeps(), ElementsAre(10000ms));
}

TEST_F(ClientTest, RetriesA503WithJitteredExponentialBackoff) {
  std::atomic<int> calls{0};
  server->Get("/flaky", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls <= 3) {
      res.status = 503;
      return;
    }
    res.set_content("{}", "application/json");
  });
  client({{"http.backoff_initial", "1s"}, {"http.backoff_max", "3s"}})->get(server.url("/flaky"));
  EXPECT_EQ(calls, 4);
  const auto sleeps = clock->sleeps();
  ASSERT_EQ(sleeps.size(), 3u);
  EXPECT_LE(sleeps[0], 1000ms);  // full jitter: uniform in [0, cap]
  EXPECT_LE(sleeps[1], 2000ms);
  EXPECT_LE(sleeps[2], 3000ms);  // capped by http.backoff_max
  EXPECT_EQ(count_logs("HTTP 503 Service Unavailable; retrying in"), 3u);
}

TEST_F(ClientTest, GivesUpAfterMaxAttemptsWithAClearError) {
  std::atomic<int> calls{0};
  server->Get("/down", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 503;
    res.set_content("maintenance window", "text/plain");
  });
  const HttpError error = http_error([&] {
    client({{"http.max_attempts", "3"}})->get(server.url("/down?x=1"));
  });
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(error.status(), 503);
  EXPECT_EQ(error.attempts(), 3);
  EXPECT_EQ(error.code(), ErrorCode::kSource);
  EXPECT_EQ(error.url(), server.url("/down?x=1"));
  EXPECT_THAT(error.what(),
              AllOf(HasSubstr("GET " + server.url("/down?x=1") + " failed after 3 attempts"),
                    HasSubstr("HTTP 503 Service Unavailable"), HasSubstr("maintenance window"),
                    HasSubstr("http.max_attempts is 3"), HasSubstr("Try again later")));
  EXPECT_EQ(clock->sleeps().size(), 2u);
}

TEST_F(ClientTest, GivesUpWhenTheNextWaitWouldPassMaxElapsed) {
  std::atomic<int> calls{0};
  server->Get("/slow-down", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 429;
    res.set_header("Retry-After", "30");
  });
  const HttpError error = http_error([&] {
    client({{"http.max_elapsed", "20s"}})->get(server.url("/slow-down"));
  });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(clock->sleeps().empty());
  EXPECT_THAT(error.what(), AllOf(HasSubstr("after 1 attempt "), HasSubstr("HTTP 429"),
                                  HasSubstr("http.max_elapsed, 20s")));
}

TEST_F(ClientTest, DoesNotRetryClientErrors) {
  std::atomic<int> calls{0};
  server->Get("/missing", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 404;
  });
  const HttpError error = http_error([&] { client()->get(server.url("/missing")); });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(error.status(), 404);
  EXPECT_THAT(error.what(), AllOf(HasSubstr("HTTP 404 Not Found"), HasSubstr("Check the URL")));
}

TEST_F(ClientTest, DoesNotRetryA503ForAPostButDoesForA429) {
  std::atomic<int> calls{0};
  server->Post("/create", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 503;
  });
  const HttpError error = http_error([&] { client()->post_form(server.url("/create"), {}); });
  EXPECT_EQ(calls, 1);
  EXPECT_THAT(error.what(), HasSubstr("POST requests are not retried"));

  std::atomic<int> limited{0};
  server->Post("/limited", [&](const httplib::Request&, httplib::Response& res) {
    if (++limited == 1) {
      res.status = 429;
      return;
    }
    res.set_content("{}", "application/json");
  });
  EXPECT_EQ(client()->post_form(server.url("/limited"), {}).status, 200);
  EXPECT_EQ(limited, 2);
}

TEST_F(ClientTest, RetriesAConnectionReset) {
  std::atomic<int> calls{0};
  server->Get("/reset", [&](const httplib::Request& req, httplib::Response& res) {
    if (++calls == 1) {
      reset_connection(req, server.port());
      return;
    }
    res.set_content("{}", "application/json");
  });
  const Response response = client()->get(server.url("/reset"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(clock->sleeps().size(), 1u);
  EXPECT_EQ(count_logs("network error"), 1u) << all_logs();
}

TEST_F(ClientTest, RetriesATruncatedBody) {
  std::atomic<int> calls{0};
  server->Get("/cut", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls == 1) {
      send_truncated(res, R"({"entry":[{"id":1},)", 500);
      return;
    }
    res.set_content(R"({"entry":[]})", "text/plain");
  });
  const Response response = client()->get(server.url("/cut"));
  EXPECT_EQ(response.body, R"({"entry":[]})");
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(count_logs("the body was cut short"), 1u) << all_logs();
}

TEST_F(ClientTest, AlwaysTruncatedBodyFailsAfterTheBudget) {
  std::atomic<int> calls{0};
  server->Get("/cut", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    send_truncated(res, "{", 100);
  });
  const HttpError error = http_error([&] {
    client({{"http.max_attempts", "2"}})->get(server.url("/cut"));
  });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(error.status(), 0);
  EXPECT_THAT(error.what(), AllOf(HasSubstr("failed after 2 attempts"), HasSubstr("cut short")));
}

TEST_F(ClientTest, StalledBodyTimesOutAndIsRetried) {
  std::atomic<int> calls{0};
  server->Get("/stall", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    send_stalled(res, R"({"entry":[)", server);
  });
  const auto start = std::chrono::steady_clock::now();
  const HttpError error = http_error([&] {
    client({{"http.timeout", "200ms"}, {"http.max_attempts", "2"}})->get(server.url("/stall"));
  });
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(calls, 2);
  EXPECT_LT(took, 2s);
  EXPECT_THAT(error.what(), AllOf(HasSubstr("timed out"), HasSubstr("http.timeout (now 200ms)")));
}

TEST_F(ClientTest, UnusableBodyIsRetriedWhenTheRequestChecksIt) {
  std::atomic<int> calls{0};
  server->Get("/json", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(++calls == 1 ? R"({"entry": [{"id": )" : R"({"entry": []})", "text/plain");
  });
  Request request;
  request.url = server.url("/json");
  request.check_body = require_json_body();
  const Response response = client()->send(request);
  EXPECT_EQ(response.body, R"({"entry": []})");
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(count_logs("the body is not valid JSON"), 1u) << all_logs();

  server->Get("/garbage", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content("<html>oops</html>", "text/html");
  });
  request.url = server.url("/garbage");
  const HttpError error = http_error([&] { client({{"http.max_attempts", "2"}})->send(request); });
  EXPECT_THAT(error.what(), AllOf(HasSubstr("not valid JSON"), HasSubstr("after 2 attempts")));
}

TEST_F(ClientTest, ConnectionRefusedIsRetriedThenReported) {
  // A port that was free a moment ago: bind, read the port, close.
  const int probe = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
  close(probe);
  const std::string url = fmt::format("http://127.0.0.1:{}/x", ntohs(address.sin_port));
  const HttpError error = http_error([&] { client({{"http.max_attempts", "3"}})->get(url); });
  EXPECT_EQ(error.attempts(), 3);
  EXPECT_THAT(error.what(), AllOf(HasSubstr("could not connect"), HasSubstr("proxy")));
}

TEST_F(ClientTest, ResponseLargerThanTheLimitIsRejected) {
  server->Get("/huge", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(5000, 'x'), "application/octet-stream");
  });
  const HttpError error = http_error([&] {
    client({{"http.max_response_bytes", "1000"}})->get(server.url("/huge"));
  });
  EXPECT_EQ(error.attempts(), 1);
  EXPECT_THAT(error.what(), HasSubstr("http.max_response_bytes"));
}

// --- rate limits ----------------------------------------------------------------------------

TEST_F(ClientTest, TokenBucketSpacesRequestsToTheConfiguredRate) {
  server->Get("/r", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  });
  auto http = client({{"http.rate_limit_per_second", "4"}, {"http.rate_limit_burst", "2"}});
  for (int i = 0; i < 5; ++i) http->get(server.url("/r"));
  // Two requests ride the burst; the rest wait a quarter second each (the clock moves only when
  // slept on).
  EXPECT_THAT(clock->sleeps(), ElementsAre(250ms, 250ms, 250ms));
}

TEST_F(ClientTest, SlowsDownWhenTheServerSaysTheBudgetIsSpent) {
  std::atomic<int> calls{0};
  server->Get("/r", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls == 1) {
      res.set_header("X-RateLimit-Limit", "100");
      res.set_header("X-RateLimit-Remaining", "0");
      res.set_header("X-RateLimit-Reset", "12");
    }
    res.set_content("{}", "application/json");
  });
  auto http = client();
  http->get(server.url("/r"));
  http->get(server.url("/r"));
  EXPECT_THAT(clock->sleeps(), ElementsAre(12000ms));
  EXPECT_EQ(count_logs("rate limit of 127.0.0.1"), 1u) << all_logs();
}

// --- TLS and proxies ------------------------------------------------------------------------

// A self-signed certificate for 127.0.0.1 and its key, as PEM files in a temporary directory.
struct SelfSignedCertificate {
  std::filesystem::path dir;
  std::string cert_file;
  std::string key_file;

  SelfSignedCertificate() {
    dir = std::filesystem::temp_directory_path() /
          fmt::format("lakeflow-http-tls-{}-{}", getpid(), std::rand());
    std::filesystem::create_directories(dir);
    cert_file = (dir / "cert.pem").string();
    key_file = (dir / "key.pem").string();
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                              std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      X509_add_ext(cert, ext, -1);
      X509_EXTENSION_free(ext);
    }
    X509_sign(cert, key, EVP_sha256());
    FILE* out = std::fopen(cert_file.c_str(), "w");
    PEM_write_X509(out, cert);
    std::fclose(out);
    out = std::fopen(key_file.c_str(), "w");
    PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(out);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  ~SelfSignedCertificate() { std::filesystem::remove_all(dir); }
};

TEST_F(ClientTest, VerifiesTlsByDefaultAndTrustsAConfiguredCaBundle) {
  SelfSignedCertificate certificate;
  Loopback tls(std::make_unique<httplib::SSLServer>(certificate.cert_file.c_str(),
                                                    certificate.key_file.c_str()),
               "https");
  tls->Get("/secure", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  });

  const HttpError error = http_error([&] { client()->get(tls.url("/secure")); });
  EXPECT_EQ(error.attempts(), 1);  // a verification failure is not retried
  EXPECT_THAT(error.what(),
              AllOf(HasSubstr("TLS verification failed"), HasSubstr("http.ca_bundle")));

  EXPECT_EQ(client({{"http.ca_bundle", certificate.cert_file}})->get(tls.url("/secure")).status,
            200);
  EXPECT_EQ(count_logs("verification is OFF"), 0u);

  EXPECT_EQ(client({{"http.insecure_skip_tls_verify", "true"}})->get(tls.url("/secure")).status,
            200);
  EXPECT_EQ(count_logs("[warning] TLS certificate and host name verification is OFF"), 1u);
}

TEST_F(ClientTest, HonoursTheProxyEnvironmentAndOption) {
  std::string host;
  std::string target;
  server->Get(R"(.*)", [&](const httplib::Request& req, httplib::Response& res) {
    host = req.get_header_value("Host");
    target = req.target;
    res.set_content("{}", "application/json");
  });
  const char* saved_proxy = std::getenv("http_proxy");
  const char* saved_no_proxy = std::getenv("no_proxy");
  const std::string old_proxy = saved_proxy ? saved_proxy : "";
  const std::string old_no_proxy = saved_no_proxy ? saved_no_proxy : "";
  setenv("http_proxy", server.url("").c_str(), 1);
  unsetenv("no_proxy");
  unsetenv("NO_PROXY");
  const int status = client()->get("http://through-env.invalid/items?a=1").status;
  saved_proxy ? setenv("http_proxy", old_proxy.c_str(), 1) : unsetenv("http_proxy");
  if (saved_no_proxy) setenv("no_proxy", old_no_proxy.c_str(), 1);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(host, "through-env.invalid");
  EXPECT_EQ(target, "http://through-env.invalid/items?a=1");

  client({{"http.proxy", server.url("")}})->get("http://through-option.invalid/x");
  EXPECT_EQ(host, "through-option.invalid");
}

// --- secrets --------------------------------------------------------------------------------

TEST_F(ClientTest, PlantedSecretsNeverReachLogsOrErrors) {
  const std::string token = "tok-PLANTED-5ecret-bearer-0001";
  const std::string spec_secret = "spec-PLANTED-secret-value";
  redactor->add_secret_options(Options{{"password", spec_secret}}, {"password"});
  auto auth = std::make_shared<BearerTokenAuth>(token, *redactor);
  std::atomic<int> calls{0};
  server->Get("/echo", [&](const httplib::Request& req, httplib::Response& res) {
    ++calls;
    // A careless server that echoes credentials back in its error pages.
    res.status = calls == 1 ? 503 : 400;
    res.set_content(fmt::format(R"({{"error":"bad","you_sent":"{}","pw":"{}","password":"{}"}})",
                                req.get_header_value("Authorization"), spec_secret, spec_secret),
                    "application/json");
  });
  const HttpError error =
      http_error([&] { client({}, auth)->get(server.url("/echo?access_token=") + token); });
  EXPECT_EQ(calls, 2);
  const std::string everything = all_logs() + error.what() + error.url() + error.body_excerpt();
  EXPECT_THAT(everything, HasSubstr("Authorization: ***"));  // the debug log of the headers
  EXPECT_THAT(everything, HasSubstr("HTTP 400"));
  EXPECT_THAT(everything, Not(HasSubstr(token)));
  EXPECT_THAT(everything, Not(HasSubstr("PLANTED")));
}

// --- pagination ----------------------------------------------------------------------------

TEST_F(ClientTest, PageReaderFollowsFhirBundleNextLinks) {
  server->Get("/fhir/Patient", [&](const httplib::Request& req, httplib::Response& res) {
    const int page = req.has_param("page") ? std::stoi(req.get_param_value("page")) : 0;
    const std::string next =
        page < 2 ? fmt::format(R"(,{{"relation":"next","url":"{}"}})",
                               server.url(fmt::format("/fhir/Patient?page={}", page + 1)))
                 : "";
    res.set_content(fmt::format(R"({{"resourceType":"Bundle","link":[{{"relation":"self",)"
                                R"("url":"x"}}{}],"entry":[{{"resource":{{"id":"{}"}}}}]}})",
                                next, page),
                    "application/fhir+json");
  });
  auto http = client();
  NextUrlInBody next("link[relation=next].url");
  PageReader reader(*http, Request::get(server.url("/fhir/Patient?_count=1")), next);
  std::vector<std::string> ids;
  while (auto page = reader.next()) {
    ids.push_back(*json_string_at(page->body, JsonPath("entry[0].resource.id")));
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(reader.pages_read(), 3u);
}

TEST_F(ClientTest, PageReaderWithOffsetLimitTrustsTheServersPageSize) {
  static constexpr int kTotal = 23;
  server->Get("/items", [](const httplib::Request& req, httplib::Response& res) {
    const int offset = std::stoi(req.get_param_value("offset"));
    const int limit = std::min(5, std::stoi(req.get_param_value("limit")));  // server cap: 5
    std::string items;
    for (int i = offset; i < std::min(kTotal, offset + limit); ++i) {
      items += fmt::format("{}{}", items.empty() ? "" : ",", i);
    }
    res.set_content(fmt::format(R"({{"data":[{}]}})", items), "application/json");
  });
  auto http = client();
  OffsetLimit paginator({.records_path = "data",
                         .offset_param = "offset",
                         .limit_param = "limit",
                         .limit = 10,
                         .start = 0,
                         .total_path = ""});
  PageReader reader(*http, Request::get(server.url("/items")), paginator);
  std::size_t records = 0;
  while (auto page = reader.next()) records += json_array_size_at(page->body, JsonPath("data"));
  EXPECT_EQ(records, static_cast<std::size_t>(kTotal));  // no record skipped
  EXPECT_EQ(reader.pages_read(), 6u);                    // 5 full pages of 5, 1 of 3, 1 empty
}

TEST_F(ClientTest, PageReaderFollowsLinkHeadersAndStopsAtMaxPages) {
  server->Get("/gh", [&](const httplib::Request& req, httplib::Response& res) {
    const int page = req.has_param("page") ? std::stoi(req.get_param_value("page")) : 1;
    res.set_header(
        "Link", fmt::format(R"(</gh?page={}>; rel="next", </gh?page=1>; rel="first")", page + 1));
    res.set_content("[]", "application/json");
  });
  auto http = client();
  LinkHeaderNext next;
  PageReader reader(*http, Request::get(server.url("/gh")), next,
                    {.max_pages = 4, .require_json = true});
  int pages = 0;
  while (reader.next()) ++pages;
  EXPECT_EQ(pages, 4);
  EXPECT_TRUE(reader.next_url().empty());
}

TEST_F(ClientTest, PageReaderRefusesAPaginationLoop) {
  server->Get("/loop", [](const httplib::Request& req, httplib::Response& res) {
    const std::string cursor = req.has_param("c") ? req.get_param_value("c") : "";
    res.set_content(cursor == "b" ? R"({"next":"a"})" : R"({"next":"b"})", "application/json");
  });
  auto http = client();
  CursorParam cursor("next", "c");
  PageReader reader(*http, Request::get(server.url("/loop")), cursor);
  EXPECT_TRUE(reader.next());  // → c=b
  EXPECT_TRUE(reader.next());  // → c=a
  EXPECT_TRUE(reader.next());  // → c=b again
  try {
    reader.next();
    FAIL() << "expected a SourceError";
  } catch (const SourceError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("pagination loop"), HasSubstr("after 3 pages")));
  }
}

// --- credentials stay with their origins -----------------------------------------------------

// A server on another origin (another port of 127.0.0.1) that records the credentials each request
// brings it. It answers 401 on /private and a last page (JSON, no next link) on anything else.
class Recorder {
 public:
  Recorder() {
    const auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(fmt::format("{} {} authorization='{}' x-api-key='{}'", req.method,
                                        req.target, req.get_header_value("Authorization"),
                                        req.get_header_value("X-API-Key")));
      }
      if (req.path == "/private") {
        res.status = 401;
        return;
      }
      res.set_content(R"({"next":null})", "application/json");
    };
    server->Get(R"(.*)", handler);
    server->Post(R"(.*)", handler);
  }
  std::vector<std::string> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::string origin() const { return server.url(""); }

  Loopback server;

 private:
  std::mutex mutex_;
  std::vector<std::string> requests_;
};

constexpr std::string_view kToken = "tok-PLANTED-origin-0001";

std::vector<std::string> names_of(const std::vector<Origin>& origins) {
  std::vector<std::string> names;
  for (const Origin& origin : origins) names.push_back(origin.to_string());
  return names;
}

TEST_F(ClientTest, PageReaderFollowsNextLinksToAnotherOriginOnlyWhenAllowed) {
  Recorder other;
  std::vector<std::string> authorizations;
  server->Get("/api/items", [&](const httplib::Request& req, httplib::Response& res) {
    authorizations.push_back(req.get_header_value("Authorization"));
    res.set_content(fmt::format(R"({{"next":"{}"}})", other.server.url("/api/items?page=2")),
                    "application/json");
  });
  const auto bearer = std::make_shared<BearerTokenAuth>(std::string(kToken), *redactor);
  NextUrlInBody next("next");

  auto http = client({{"base_url", server.url("/api")}}, bearer);
  PageReader refused(*http, Request::get(server.url("/api/items")), next);
  try {
    refused.next();
    FAIL() << "followed a next link to another origin";
  } catch (const OriginRefusedError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kSource);
    EXPECT_EQ(e.origin().to_string(), other.origin());
    EXPECT_THAT(e.what(), AllOf(HasSubstr("next-page link of page 1 (" + server.url("/api/items") +
                                          ") to " + other.origin() + ": "),
                                HasSubstr("reads pages from, " + server.url("") + " only"),
                                HasSubstr("add it to option http.allowed_origins"),
                                Not(HasSubstr(kToken)), Not(HasSubstr("page=2"))));
  }
  EXPECT_EQ(refused.next_url(), server.url("/api/items"));  // never the refused link
  EXPECT_THAT(other.requests(), testing::IsEmpty());
  EXPECT_THAT(authorizations, ElementsAre("Bearer " + std::string(kToken)));

  // Listed in http.allowed_origins, the other origin is read, with credentials.
  auto allowing =
      client({{"base_url", server.url("/api")}, {"http.allowed_origins", other.origin()}}, bearer);
  PageReader allowed(*allowing, Request::get(server.url("/api/items")), next);
  int pages = 0;
  while (allowed.next()) ++pages;
  EXPECT_EQ(pages, 2);
  EXPECT_THAT(other.requests(),
              ElementsAre(fmt::format("GET /api/items?page=2 authorization='Bearer {}' "
                                      "x-api-key=''",
                                      kToken)));
  EXPECT_THAT(all_logs(), Not(HasSubstr(kToken)));
}

TEST_F(ClientTest, RequestsToAnotherOriginGoWithoutCredentials) {
  Recorder other;
  std::string key;
  server->Get("/x", [&](const httplib::Request& req, httplib::Response& res) {
    key = req.get_header_value("X-API-Key");
    res.set_content("{}", "application/json");
  });
  auto http = client({{"base_url", server.url("/")}},
                     std::make_shared<ApiKeyAuth>("X-API-Key", std::string(kToken),
                                                  ApiKeyAuth::Placement::kHeader, *redactor));
  http->get(server.url("/x"));
  EXPECT_EQ(key, kToken);
  EXPECT_EQ(http->get(other.server.url("/public")).status, 200);
  const HttpError error = http_error([&] { http->get(other.server.url("/private")); });
  EXPECT_THAT(other.requests(), ElementsAre("GET /public authorization='' x-api-key=''",
                                            "GET /private authorization='' x-api-key=''"));
  EXPECT_EQ(error.status(), 401);
  EXPECT_THAT(error.what(),
              AllOf(HasSubstr("went to " + other.origin() + " without credentials"),
                    HasSubstr("add it to http.allowed_origins"), Not(HasSubstr(kToken))));
  EXPECT_EQ(count_logs("without credentials: " + other.origin() + " is not a credential origin"),
            2u)
      << all_logs();
}

TEST_F(ClientTest, WithoutBaseUrlCredentialsStayWithTheFirstRequestsOrigin) {
  Recorder other;
  std::string authorization;
  server->Get("/x", [&](const httplib::Request& req, httplib::Response& res) {
    authorization = req.get_header_value("Authorization");
    res.set_content("{}", "application/json");
  });
  auto http = client({}, std::make_shared<BearerTokenAuth>(std::string(kToken), *redactor));
  EXPECT_TRUE(http->credential_origins().empty());
  http->get(server.url("/x"));
  EXPECT_EQ(authorization, "Bearer " + std::string(kToken));
  http->get(other.server.url("/x"));
  EXPECT_THAT(other.requests(), ElementsAre("GET /x authorization='' x-api-key=''"));
  EXPECT_THAT(names_of(http->credential_origins()), ElementsAre(server.url("")));
}

TEST_F(ClientTest, AllowedOriginsAreReadFromOptions) {
  const ClientConfig config =
      ClientConfig::from_options({{"base_url", "https://API.example.org:443/r4"},
                                  {"http.allowed_origins",
                                   " https://files.example.org, http://10.0.0.5:8080/,"
                                   "https://api.example.org"}});
  EXPECT_THAT(config.credential_origins, ElementsAre(Origin{"https", "api.example.org", 443},
                                                     Origin{"https", "files.example.org", 443},
                                                     Origin{"http", "10.0.0.5", 8080}));
  EXPECT_TRUE(ClientConfig::from_options({}).credential_origins.empty());
  EXPECT_THROW(ClientConfig::from_options({{"http.allowed_origins", "https://f.example.org/v1"}}),
               ConfigError);
  EXPECT_THROW(ClientConfig::from_options({{"base_url", "fhir.example.org"}}), ConfigError);
}

// --- redirects ------------------------------------------------------------------------------

TEST_F(ClientTest, RedirectsCarryCredentialsOnlyToCredentialOrigins) {
  Recorder other;
  std::vector<std::string> keys;
  server->Get("/old", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/new", 301);
  });
  server->Get("/new", [&](const httplib::Request& req, httplib::Response& res) {
    keys.push_back(req.get_header_value("X-API-Key"));
    res.set_content("{}", "application/json");
  });
  server->Get("/download", [&](const httplib::Request&, httplib::Response& res) {
    res.set_redirect(other.server.url("/signed?sig=abc"), 302);
  });
  const auto key = std::make_shared<ApiKeyAuth>("X-API-Key", std::string(kToken),
                                                ApiKeyAuth::Placement::kHeader, *redactor);
  auto http = client({{"base_url", server.url("")}}, key);

  const Response moved = http->get(server.url("/old"));
  EXPECT_EQ(moved.url, server.url("/new"));
  EXPECT_THAT(keys, ElementsAre(kToken));

  // The caller's own Authorization header stays with the request's origin too.
  const Response signed_url =
      http->get(server.url("/download"), {{"Authorization", "Basic callers-own"}});
  EXPECT_EQ(signed_url.status, 200);
  EXPECT_EQ(signed_url.url, other.server.url("/signed?sig=abc"));
  EXPECT_THAT(other.requests(), ElementsAre("GET /signed?sig=abc authorization='' x-api-key=''"));

  auto allowing =
      client({{"base_url", server.url("")}, {"http.allowed_origins", other.origin()}}, key);
  allowing->get(server.url("/download"));
  EXPECT_EQ(other.requests().back(),
            fmt::format("GET /signed?sig=abc authorization='' x-api-key='{}'", kToken));
}

TEST_F(ClientTest, RedirectsAfterAPostFollowRfc9110) {
  std::vector<std::string> seen;
  server->Post("/see-other", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/result", 303);
  });
  server->Post("/temporary", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/result", 307);
  });
  server->Get("/result", [&](const httplib::Request& req, httplib::Response& res) {
    seen.push_back("GET " + req.body);
    res.set_content("{}", "application/json");
  });
  server->Post("/result", [&](const httplib::Request& req, httplib::Response& res) {
    seen.push_back("POST " + req.body);
    res.set_content("{}", "application/json");
  });
  server->Get("/loop", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/loop", 302);
  });
  auto http = client();
  http->post_form(server.url("/see-other"), {{"a", "1"}});
  http->post_form(server.url("/temporary"), {{"a", "2"}});
  EXPECT_THAT(seen, ElementsAre("GET ", "POST a=2"));
  const HttpError error = http_error([&] { http->get(server.url("/loop")); });
  EXPECT_EQ(error.attempts(), 1);
  EXPECT_THAT(error.what(), HasSubstr("more than 10 redirects"));
}

TEST_F(ClientTest, NeitherNextLinksNorRedirectsDowngradeHttpsToHttp) {
  SelfSignedCertificate certificate;
  Loopback tls(std::make_unique<httplib::SSLServer>(certificate.cert_file.c_str(),
                                                    certificate.key_file.c_str()),
               "https");
  Recorder plain;  // http://127.0.0.1, another port
  tls->Get("/api/items", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(fmt::format(R"({{"next":"{}"}})", plain.server.url("/api/items?page=2")),
                    "application/json");
  });
  tls->Get("/api/moved", [&](const httplib::Request&, httplib::Response& res) {
    res.set_redirect(plain.server.url("/api/moved"), 301);
  });
  auto http = client({{"base_url", tls.url("/api")}, {"http.ca_bundle", certificate.cert_file}},
                     std::make_shared<BearerTokenAuth>(std::string(kToken), *redactor));
  NextUrlInBody next("next");
  PageReader reader(*http, Request::get(tls.url("/api/items")), next);
  try {
    reader.next();
    FAIL() << "followed a next link from https to http";
  } catch (const OriginRefusedError& e) {
    EXPECT_EQ(e.origin().scheme, "http");
    EXPECT_THAT(e.what(),
                AllOf(HasSubstr(plain.origin() + ", a downgrade from https to plain http"),
                      HasSubstr("http.allowed_origins"), Not(HasSubstr(kToken))));
  }
  const HttpError error = http_error([&] { http->get(tls.url("/api/moved")); });
  EXPECT_EQ(error.status(), 301);
  EXPECT_EQ(error.attempts(), 1);
  EXPECT_THAT(error.what(), AllOf(HasSubstr("redirect not followed"),
                                  HasSubstr("from https to plain http (" + plain.origin() + ")")));
  EXPECT_THAT(plain.requests(), testing::IsEmpty());
}

// --- a long paginated read under random faults ------------------------------------------------

TEST_F(ClientTest, EveryPageArrivesExactlyOnceDespiteTwentyPercentFaults) {
  constexpr int kPages = 1000;
  std::mutex mutex;
  std::mt19937 random(20240101);
  int faults = 0;
  int requests = 0;
  server->Get("/pages", [&](const httplib::Request& req, httplib::Response& res) {
    const int page = std::stoi(req.get_param_value("cursor"));
    int fault;
    {
      std::lock_guard lock(mutex);
      ++requests;
      fault = std::uniform_int_distribution<int>(0, 99)(random) < 20
                  ? std::uniform_int_distribution<int>(1, 5)(random)
                  : 0;
      faults += fault != 0;
    }
    const std::string body =
        fmt::format(R"({{"page":{},"items":[{{"id":{}}}]{}}})", page, page,
                    page + 1 < kPages ? fmt::format(R"(,"next_cursor":"{}")", page + 1) : "");
    switch (fault) {
      case 1:
        res.status = 429;
        res.set_header("Retry-After", "1");
        return;
      case 2:
        res.status = 503;
        return;
      case 3:
        reset_connection(req, server.port());
        return;
      case 4:
        send_truncated(res, body.substr(0, body.size() / 2), body.size());
        return;
      case 5:
        res.set_content(body.substr(0, body.size() - 3), "text/plain");  // malformed JSON
        return;
      default:
        res.set_content(body, "text/plain");
    }
  });

  auto http = client({{"http.max_attempts", "10"}});
  CursorParam cursor("next_cursor", "cursor");
  PageReader reader(*http, Request::get(server.url("/pages?cursor=0")), cursor);
  std::vector<int> pages;
  while (auto page = reader.next()) {
    pages.push_back(std::stoi(*json_string_at(page->body, JsonPath("page"))));
  }
  ASSERT_EQ(pages.size(), static_cast<std::size_t>(kPages));
  for (int i = 0; i < kPages; ++i) ASSERT_EQ(pages[static_cast<std::size_t>(i)], i);
  EXPECT_GT(faults, kPages / 10);
  EXPECT_EQ(requests, kPages + faults);
  EXPECT_EQ(reader.pages_read(), static_cast<std::size_t>(kPages));
  EXPECT_TRUE(reader.next_url().empty());
}

}  // namespace
}  // namespace lakeflow::http
