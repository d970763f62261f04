// HTTP request parser micro-benchmarks. Baseline in the same run: finding the end of the head
// with memmem (the least any parser must do), so results read as "x times a bare scan".

#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "http/request_parser.h"
#include "http/response.h"

namespace {

const std::string kBrowserGet =
    "GET /socket.io/?EIO=4&transport=polling&t=OqX1b2c HTTP/1.1\r\n"
    "Host: localhost:3000\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"120\", \"Not?A_Brand\";v=\"8\"\r\n"
    "Accept: */*\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: cors\r\n"
    "Sec-Fetch-Dest: empty\r\n"
    "Referer: http://localhost:3000/\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Cookie: io=abc123\r\n"
    "\r\n";

const std::string kPollingPost =
    "POST /socket.io/?EIO=4&transport=polling&t=OqX1b2d&sid=Xy12abcdEFGH34ijAAAB HTTP/1.1\r\n"
    "Host: localhost:3000\r\n"
    "Connection: keep-alive\r\n"
    "Content-Length: 27\r\n"
    "Content-Type: text/plain;charset=UTF-8\r\n"
    "Accept: */*\r\n"
    "Origin: http://localhost:3000\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0 Safari/537.36\r\n"
    "\r\n"
    "42[\"chat\",\"hello everyone\"]";

void BM_BaselineFindHeadEnd(benchmark::State& state, const std::string& in) {
  for (auto _ : state) {
    const void* p = memmem(in.data(), in.size(), "\r\n\r\n", 4);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(in.size()));
}

void BM_Parse(benchmark::State& state, const std::string& in) {
  sb::http::RequestParser parser;
  sb::http::Request req;
  for (auto _ : state) {
    auto r = parser.parse(in, req);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(req.header_count);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(in.size()));
}

// The head arriving in two TCP segments: the second call resumes and re-reads once.
void BM_ParseSplitInTwo(benchmark::State& state, const std::string& in) {
  sb::http::RequestParser parser;
  sb::http::Request req;
  const std::string_view first(in.data(), in.size() / 2);
  for (auto _ : state) {
    benchmark::DoNotOptimize(parser.parse(first, req));
    auto r = parser.parse(in, req);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

// Slowloris shape: a 16 KiB head one byte per call must stay linear (about 16K calls' worth).
void BM_ParseTrickle16K(benchmark::State& state) {
  std::string head = "GET / HTTP/1.1\r\nHost: x\r\n";
  // 64 headers of ~250 bytes: under both the byte and the count limits.
  while (head.size() < 16384 - 300)
    head += "X-Pad: " + std::string(240, 'a') + "\r\n";
  head += "\r\n";
  sb::http::RequestParser parser;
  sb::http::Request req;
  for (auto _ : state) {
    for (size_t n = 1; n <= head.size(); ++n) {
      benchmark::DoNotOptimize(parser.parse(std::string_view(head.data(), n), req));
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(head.size()));
}

void BM_SerializeResponse(benchmark::State& state) {
  const sb::http::Response r = sb::http::text_response(200, "ok");
  const sb::http::Framing f;
  char buf[512];
  for (auto _ : state) {
    const size_t n = sb::http::serialized_head_size(r, f);
    benchmark::DoNotOptimize(sb::http::serialize_head(r, f, buf));
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(BM_BaselineFindHeadEnd, browser_get, kBrowserGet);
BENCHMARK_CAPTURE(BM_Parse, browser_get, kBrowserGet);
BENCHMARK_CAPTURE(BM_ParseSplitInTwo, browser_get, kBrowserGet);
BENCHMARK_CAPTURE(BM_BaselineFindHeadEnd, polling_post, kPollingPost);
BENCHMARK_CAPTURE(BM_Parse, polling_post, kPollingPost);
BENCHMARK(BM_ParseTrickle16K);
BENCHMARK(BM_SerializeResponse);

}  // namespace
