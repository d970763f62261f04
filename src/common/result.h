#pragma once
// Result<T>: the data path's way to fail. No exceptions cross a loop turn; an operation that can be
// failed by an untrusted peer returns a Result whose error names the specified answer.

#include <cstdint>
#include <string_view>
#include <utility>
#include <variant>

namespace sb {

/// Error codes shared by the layers. Each protocol layer maps these to its wire answer
/// (an HTTP status, a WebSocket close code).
enum class Errc : uint16_t {
  kOk = 0,
  kNeedMore,         // not an error: the codec needs more bytes
  kProtocol,         // peer violated the protocol
  kTooLarge,         // a configured limit was exceeded
  kUnsupported,      // well-formed but not supported
  kInvalidArgument,  // bad configuration or API use
  kIo,               // system call failure
  kClosed,           // the connection is gone
};

std::string_view errc_name(Errc e);

/// An error with a static reason string (never allocated on the data path).
struct Error {
  Errc code = Errc::kProtocol;
  std::string_view reason;  // points to a string literal
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error e) : v_(e) {}                 // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : err_(e), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return err_; }

 private:
  Error err_{};
  bool ok_ = true;
};

}  // namespace sb
