#pragma once
// Incoming event and ack arguments: the raw JSON the client sent (already validated by the
// decoder) plus its binary attachments. Nothing is parsed until asked: a handler that forwards
// an argument (`Json::raw(args.raw(0))`) or reads one string pays for that only. Accessors are
// forgiving — a missing or mistyped argument reads as empty/nullopt — because the values come
// from an untrusted peer and a handler should not need a try block to read them.
//
// An Args is a view: valid during the callback that received it; copy what must outlive it
// (owned() makes a self-contained copy).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "socketio/json.h"

namespace sb::socketio {

class Args {
 public:
  Args() = default;
  /// `json`: the arguments joined by commas, without brackets (Packet::args).
  Args(std::string_view json, std::span<const std::span<const uint8_t>> attachments = {});

  size_t size() const;
  bool empty() const { return size() == 0; }
  /// The raw JSON text of argument i; empty when absent.
  std::string_view raw(size_t i) const;
  /// All arguments, raw, joined by commas.
  std::string_view json() const { return json_; }

  /// Argument i as a string (a JSON string, unescaped); empty when it is not one.
  std::string str(size_t i) const;
  std::optional<double> number(size_t i) const;
  std::optional<int64_t> integer(size_t i) const;
  std::optional<bool> boolean(size_t i) const;
  bool is_null(size_t i) const { return raw(i) == "null"; }
  /// Argument i when it is a binary attachment (a placeholder); empty otherwise.
  std::optional<std::span<const uint8_t>> binary(size_t i) const;
  /// Member `key` of object argument i, raw JSON; nullopt when absent.
  std::optional<std::string> field(size_t i, std::string_view key) const;
  /// Member `key` of object argument i as a string; empty when absent or not a string.
  std::string str(size_t i, std::string_view key) const;

  /// Argument i as an outgoing value: raw passthrough, or a tree with its binary leaves
  /// restored when the packet has attachments (to forward it to other clients).
  Json value(size_t i) const;
  /// Every argument as an outgoing value.
  std::vector<Json> values() const;
  std::span<const std::span<const uint8_t>> attachments() const { return attachments_; }

  /// A copy that owns its bytes (to keep past the callback).
  Args owned() const;

 private:
  void split() const;

  std::string_view json_;
  std::span<const std::span<const uint8_t>> attachments_;
  mutable std::vector<std::string_view> parts_;
  mutable bool split_ = false;
  // For owned() copies.
  std::shared_ptr<const std::string> own_json_;
  std::shared_ptr<const std::vector<Bytes>> own_bins_;
  std::shared_ptr<const std::vector<std::span<const uint8_t>>> own_spans_;
};

}  // namespace sb::socketio
