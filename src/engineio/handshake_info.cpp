#include "engineio/handshake_info.h"

#include <cstring>

#include "common/slab_pool.h"

namespace sb::engineio {
namespace {

// A string in the block: its length (one byte below 255, else 0xFF and four bytes), then its
// bytes. Almost every handshake string is short, so a length costs one byte.
void put(std::string& out, std::string_view s) {
  if (s.size() < 0xFF) {
    out.push_back(static_cast<char>(s.size()));
  } else {
    out.push_back(static_cast<char>(0xFF));
    const auto n = static_cast<uint32_t>(s.size());
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
  }
  out.append(s);
}

std::string_view get(const char*& p) {
  size_t n = static_cast<unsigned char>(*p++);
  if (n == 0xFF) {
    uint32_t big = 0;
    std::memcpy(&big, p, sizeof big);
    p += sizeof big;
    n = big;
  }
  const std::string_view s(p, n);
  p += n;
  return s;
}

}  // namespace

PairList::Iterator::Iterator(const char* p, uint32_t left, bool raw)
    : p_(p), left_(left), raw_(raw) {
  if (raw_) skip_separators();
}

void PairList::Iterator::skip_separators() {
  while (left_ > 0 && *p_ == '&') {
    ++p_;
    --left_;
  }
  if (left_ == 0) p_ = nullptr;
}

size_t PairList::size() const {
  if (!raw_) return count_;
  size_t n = 0;
  for (auto it = begin(); it != end(); ++it)
    ++n;
  return n;
}

PairList::value_type PairList::Iterator::operator*() const {
  if (raw_) {
    // As for_each_query_param: `k=v`, or `k` alone (an empty value).
    std::string_view pair(p_, left_);
    pair = pair.substr(0, pair.find('&'));
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return {pair, {}};
    return {pair.substr(0, eq), pair.substr(eq + 1)};
  }
  const char* p = p_;
  const std::string_view k = get(p);
  const std::string_view v = get(p);
  return {k, v};
}

PairList::Iterator& PairList::Iterator::operator++() {
  if (raw_) {
    const std::string_view rest(p_, left_);
    const size_t amp = rest.find('&');
    const size_t step = amp == std::string_view::npos ? rest.size() : amp;
    p_ += step;
    left_ -= static_cast<uint32_t>(step);
    skip_separators();
    return *this;
  }
  get(p_);
  get(p_);
  if (--left_ == 0) p_ = nullptr;
  return *this;
}

std::optional<std::string_view> HandshakeInfo::query_param(std::string_view key) const {
  for (const auto& [k, v] : query)
    if (k == key) return v;
  return std::nullopt;
}

std::optional<std::string_view> HandshakeInfo::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return std::nullopt;
}

HandshakeBuilder::HandshakeBuilder(std::string_view url, std::string_view address,
                                   uint64_t issued_ms)
    : url_(url), address_(address), issued_ms_(issued_ms) {}

void HandshakeBuilder::add_query(std::string_view key, std::string_view value) {
  put(query_, key);
  put(query_, value);
  ++query_count_;
}

void HandshakeBuilder::use_raw_query(size_t offset, size_t size) {
  if (offset > url_.size() || size > url_.size() - offset) return;  // not in the url
  raw_query_ = true;
  raw_offset_ = offset;
  raw_size_ = size;
}

void HandshakeBuilder::add_header(std::string_view name, std::string_view value) {
  put(headers_, name);
  put(headers_, value);
  ++header_count_;
}

void HandshakeInfo::BlockFree::operator()(char* base) const noexcept {
  uint32_t size = 0;
  std::memcpy(&size, base, sizeof(size));
  slab::deallocate(base, sizeof(size) + size);
}

HandshakeInfo HandshakeBuilder::finish() {
  HandshakeInfo h;
  // A request head is bounded by the HTTP parser's limits (far below 4 GiB).
  const auto size =
      static_cast<uint32_t>(url_.size() + address_.size() + query_.size() + headers_.size());
  auto* base = static_cast<char*>(slab::allocate(sizeof(size) + size));
  std::memcpy(base, &size, sizeof(size));
  h.block_.reset(base);
  char* w = base + sizeof(size);
  auto copy = [&w](const std::string& s) {
    const char* start = w;
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result): bytes, viewed with their length
    if (!s.empty()) std::memcpy(w, s.data(), s.size());
    w += s.size();
    return start;
  };
  h.url = std::string_view(copy(url_), url_.size());
  h.address = std::string_view(copy(address_), address_.size());
  if (raw_query_) {
    h.query.data_ = h.url.data() + raw_offset_;
    h.query.count_ = static_cast<uint32_t>(raw_size_);
    h.query.raw_ = true;
  } else {
    h.query.data_ = query_count_ > 0 ? copy(query_) : nullptr;
    h.query.count_ = query_count_;
  }
  h.headers.data_ = header_count_ > 0 ? copy(headers_) : nullptr;
  h.headers.count_ = header_count_;
  h.issued_ms = issued_ms_;
  return h;
}

}  // namespace sb::engineio
