#pragma once
// What the handshake request carried, kept for the application (Socket.IO's
// `socket.handshake`) for the whole life of the session.
//
// Every session keeps one, so it is laid out for idle memory: the url, the address, the decoded
// query pairs and the kept headers are copied once, back to back, into a single exact-size
// block; the fields are views into it. (As separate std::strings and vectors it cost ~390 bytes
// and four allocations per connection; packed, ~80 bytes inline plus one block of the request's
// own size.) The object is move-only: a move keeps the views valid (the block does not move).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace sb::engineio {

/// A read-only list of (name, value) pairs stored in a HandshakeInfo's block: encoded pairs,
/// or — for a query that needs no decoding (no `%`, no `+`: the usual case) — the url's own
/// `k=v&k=v` bytes, split as they are read, so the query is not stored twice.
class PairList {
 public:
  using value_type = std::pair<std::string_view, std::string_view>;

  class Iterator {
   public:
    using value_type = PairList::value_type;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    Iterator(const char* p, uint32_t left, bool raw);
    value_type operator*() const;
    Iterator& operator++();
    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const Iterator& o) const { return left_ == o.left_; }

   private:
    void skip_separators();
    const char* p_ = nullptr;
    uint32_t left_ = 0;  // encoded: pairs from here to the end; raw: bytes
    bool raw_ = false;
  };

  Iterator begin() const { return {data_, count_, raw_}; }
  Iterator end() const { return {nullptr, 0, raw_}; }
  size_t size() const;
  bool empty() const { return begin() == end(); }

 private:
  friend class HandshakeBuilder;
  const char* data_ = nullptr;
  uint32_t count_ = 0;  // encoded: pairs; raw: bytes
  bool raw_ = false;
};

struct HandshakeInfo {
  HandshakeInfo() = default;
  HandshakeInfo(HandshakeInfo&&) noexcept = default;
  HandshakeInfo& operator=(HandshakeInfo&&) noexcept = default;
  HandshakeInfo(const HandshakeInfo&) = delete;
  HandshakeInfo& operator=(const HandshakeInfo&) = delete;
  ~HandshakeInfo() = default;

  std::string_view url;  // request target as sent
  /// Every query parameter, percent-decoded, in order (EIO, transport and t included).
  PairList query;
  /// Selected request headers (lower-case names): host, origin, user-agent, cookie, referer,
  /// accept-language, authorization, x-forwarded-for, x-forwarded-proto, x-real-ip.
  PairList headers;
  std::string_view address;  // peer IP
  uint64_t issued_ms = 0;    // wall clock, ms since the epoch

  std::optional<std::string_view> query_param(std::string_view key) const;
  std::optional<std::string_view> header(std::string_view lower_case_name) const;

 private:
  friend class HandshakeBuilder;
  // The block comes from the per-thread slab pool (no malloc header): its first 4 bytes hold
  // the size of the rest, for the free.
  struct BlockFree {
    void operator()(char* base) const noexcept;
  };
  std::unique_ptr<char, BlockFree> block_;
};

/// Collects a handshake's strings, then packs them into one HandshakeInfo. Call add_query and
/// add_header in the order they should be listed; finish() once.
class HandshakeBuilder {
 public:
  HandshakeBuilder(std::string_view url, std::string_view address, uint64_t issued_ms);
  void add_query(std::string_view key, std::string_view value);
  /// Instead of add_query: the url's bytes [offset, offset + size) are a query that needs no
  /// decoding; they are split when read.
  void use_raw_query(size_t offset, size_t size);
  void add_header(std::string_view name, std::string_view value);
  HandshakeInfo finish();

 private:
  std::string url_;
  std::string address_;
  std::string query_;    // encoded pairs
  std::string headers_;  // encoded pairs
  uint32_t query_count_ = 0;
  uint32_t header_count_ = 0;
  size_t raw_offset_ = 0;  // of the raw query in the url
  size_t raw_size_ = 0;
  bool raw_query_ = false;
  uint64_t issued_ms_;
};

}  // namespace sb::engineio
